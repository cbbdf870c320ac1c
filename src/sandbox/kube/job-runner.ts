/**
 * The Job controller (and the part of the CronJob controller that tracks jobs): for each new Job it
 * creates a Pod from the template (generateName `<job>-`, job labels, controller ownerReference), counts
 * pods that succeed or fail, retries up to backoffLimit, enforces activeDeadlineSeconds, and writes the
 * status and conditions Kubernetes 1.31+ writes (SuccessCriteriaMet → Complete, FailureTarget → Failed).
 * Pods run one at a time (parallelism is not honoured); CronJobs are never run on schedule.
 */

import type { EventRecorder } from './events.js';
import type { Kubelet } from './kubelet.js';
import type { Registry } from './registry.js';
import { mustResource } from './resources.js';
import type { Change } from './store.js';
import { asArray, clone, dig, isPlainObject, nowIso } from './types.js';
import type { JsonObject, KubeObject, OwnerReference } from './types.js';

const JOBS = mustResource('batch', 'jobs');
const PODS = mustResource('', 'pods');
const CRONJOBS = mustResource('batch', 'cronjobs');
const MANAGER = 'kube-controller-manager';
const COMPONENT = 'job-controller';

export type JobOutcome = 'Complete' | 'Failed';

function controllerOf(obj: KubeObject, kind: string): OwnerReference | undefined {
  return (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true && r.kind === kind);
}

export function jobOutcome(job: KubeObject): JobOutcome | undefined {
  for (const c of asArray(dig(job, 'status', 'conditions'))) {
    if (dig(c, 'status') !== 'True') continue;
    if (dig(c, 'type') === 'Complete') return 'Complete';
    if (dig(c, 'type') === 'Failed') return 'Failed';
  }
  return undefined;
}

function condition(type: string, reason: string, message: string, at: string): JsonObject {
  return { type, status: 'True', lastProbeTime: at, lastTransitionTime: at, reason, message };
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

export class JobController {
  private readonly deadlines = new Map<string, NodeJS.Timeout>();
  private readonly counted = new Set<string>();
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly kubelet: Kubelet,
    private readonly events: EventRecorder,
  ) {}

  handle(change: Change): void {
    if (this.stopped) return;
    const obj = change.object;
    if (change.resource === JOBS) {
      // New Jobs start; so do suspended ones once resumed (they have no startTime yet).
      if (change.type === 'ADDED' || (change.type === 'MODIFIED' && !dig(obj, 'status', 'startTime')))
        this.start(obj);
      if (change.type === 'DELETED') this.forget(obj);
    } else if (change.resource === PODS) {
      const owner = controllerOf(obj, 'Job');
      if (!owner) return;
      const phase = dig(obj, 'status', 'phase');
      if (change.type === 'DELETED' && phase !== 'Succeeded' && phase !== 'Failed')
        this.podFinished(obj, owner, false);
      else if (change.type === 'MODIFIED' && (phase === 'Succeeded' || phase === 'Failed')) {
        this.podFinished(obj, owner, phase === 'Succeeded');
      } else if (change.type === 'MODIFIED' && phase === 'Running') this.podRunning(obj, owner);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    this.deadlines.clear();
  }

  private jobFor(pod: KubeObject, owner: OwnerReference): KubeObject | undefined {
    const job = this.registry.store.get(JOBS, pod.metadata.namespace ?? '', owner.name);
    return job && job.metadata.uid === owner.uid ? job : undefined;
  }

  private writeStatus(job: KubeObject, mutate: (status: JsonObject) => void): KubeObject | undefined {
    return this.registry.updateStatus(
      JOBS,
      job.metadata.namespace ?? '',
      job.metadata.name ?? '',
      (obj) => {
        if (obj.metadata.uid !== job.metadata.uid) return;
        mutate(isPlainObject(obj.status) ? obj.status : (obj.status = {}));
      },
      MANAGER,
    );
  }

  private start(job: KubeObject): void {
    if (jobOutcome(job) || dig(job, 'spec', 'suspend') === true) return;
    const startTime = nowIso();
    const updated = this.writeStatus(job, (s) => {
      s.startTime ??= startTime;
      s.ready = 0;
      s.terminating = 0;
      s.uncountedTerminatedPods = {};
    });
    if (!updated) return;
    this.trackInCronJob(updated, 'add');
    const deadline = dig(job, 'spec', 'activeDeadlineSeconds');
    if (typeof deadline === 'number' && deadline > 0) {
      const timer = setTimeout(() => this.deadlineExceeded(job), deadline * 1000);
      this.deadlines.set(job.metadata.uid ?? '', timer);
    }
    this.createPod(updated);
  }

  private createPod(job: KubeObject): void {
    if (this.stopped) return;
    const template = dig(job, 'spec', 'template');
    const meta = isPlainObject(dig(template, 'metadata')) ? (dig(template, 'metadata') as JsonObject) : {};
    const jobName = job.metadata.name ?? '';
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${jobName}-`,
        namespace: job.metadata.namespace,
        labels: { ...(isPlainObject(meta.labels) ? (meta.labels as Record<string, string>) : {}) },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: jobName,
            uid: job.metadata.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: clone(dig(template, 'spec') ?? {}),
    };
    if (isPlainObject(meta.annotations))
      pod.metadata.annotations = { ...(meta.annotations as Record<string, string>) };
    try {
      const created = this.registry.createAs(PODS, pod, MANAGER);
      this.events.record(
        job,
        'Normal',
        'SuccessfulCreate',
        `Created pod: ${created.metadata.name ?? ''}`,
        COMPONENT,
      );
      this.writeStatus(job, (s) => {
        s.active = 1;
      });
    } catch (err) {
      this.events.record(
        job,
        'Warning',
        'FailedCreate',
        `Error creating: ${(err as Error).message}`,
        COMPONENT,
      );
    }
  }

  private podRunning(pod: KubeObject, owner: OwnerReference): void {
    const job = this.jobFor(pod, owner);
    if (!job || jobOutcome(job)) return;
    const ready = asArray(dig(pod, 'status', 'containerStatuses')).every((c) => dig(c, 'ready') === true)
      ? 1
      : 0;
    if (dig(job, 'status', 'ready') !== ready) this.writeStatus(job, (s) => void (s.ready = ready));
  }

  private podFinished(pod: KubeObject, owner: OwnerReference, succeeded: boolean): void {
    const uid = pod.metadata.uid ?? '';
    if (this.counted.has(uid)) return;
    const job = this.jobFor(pod, owner);
    if (!job || jobOutcome(job)) return;
    this.counted.add(uid);
    const spec = job.spec as JsonObject | undefined;
    const completions = num(spec?.completions, 1);
    const backoffLimit = num(spec?.backoffLimit, 6);
    const now = nowIso();
    let outcome = 'retry' as 'retry' | JobOutcome;
    const updated = this.writeStatus(job, (s) => {
      delete s.active;
      s.ready = 0;
      if (succeeded) s.succeeded = num(s.succeeded, 0) + 1;
      else s.failed = num(s.failed, 0) + 1;
      if (num(s.succeeded, 0) >= completions) {
        outcome = 'Complete';
        const message = 'Reached expected number of succeeded pods';
        s.conditions = [
          ...asArray(s.conditions),
          condition('SuccessCriteriaMet', 'CompletionsReached', message, now),
          condition('Complete', 'CompletionsReached', message, now),
        ];
        s.completionTime = now;
      } else if (num(s.failed, 0) > backoffLimit) {
        outcome = 'Failed';
        const message = 'Job has reached the specified backoff limit';
        s.conditions = [
          ...asArray(s.conditions),
          condition('FailureTarget', 'BackoffLimitExceeded', message, now),
          condition('Failed', 'BackoffLimitExceeded', message, now),
        ];
      }
    });
    if (!updated) return;
    if (outcome === 'retry') this.createPod(updated);
    else if (outcome === 'Complete') {
      this.events.record(updated, 'Normal', 'Completed', 'Job completed', COMPONENT);
      this.finished(updated, true);
    } else {
      this.events.record(
        updated,
        'Warning',
        'BackoffLimitExceeded',
        'Job has reached the specified backoff limit',
        COMPONENT,
      );
      this.finished(updated, false);
    }
  }

  private deadlineExceeded(job: KubeObject): void {
    this.deadlines.delete(job.metadata.uid ?? '');
    const current = this.registry.store.get(JOBS, job.metadata.namespace ?? '', job.metadata.name ?? '');
    if (!current || current.metadata.uid !== job.metadata.uid || jobOutcome(current)) return;
    const activePods = this.registry.store
      .list(PODS, job.metadata.namespace ?? '')
      .filter(
        (p) =>
          controllerOf(p, 'Job')?.uid === job.metadata.uid &&
          !['Succeeded', 'Failed'].includes(String(dig(p, 'status', 'phase'))),
      );
    for (const p of activePods) this.counted.add(p.metadata.uid ?? '');
    const now = nowIso();
    const message = 'Job was active longer than specified deadline';
    const updated = this.writeStatus(current, (s) => {
      delete s.active;
      s.ready = 0;
      s.failed = num(s.failed, 0) + activePods.length;
      s.conditions = [
        ...asArray(s.conditions),
        condition('FailureTarget', 'DeadlineExceeded', message, now),
        condition('Failed', 'DeadlineExceeded', message, now),
      ];
    });
    for (const p of activePods) void this.kubelet.kill(p.metadata.uid ?? '', 'SIGTERM', 2);
    if (!updated) return;
    this.events.record(updated, 'Warning', 'DeadlineExceeded', message, COMPONENT);
    this.finished(updated, false);
  }

  private finished(job: KubeObject, success: boolean): void {
    const timer = this.deadlines.get(job.metadata.uid ?? '');
    if (timer) clearTimeout(timer);
    this.deadlines.delete(job.metadata.uid ?? '');
    this.trackInCronJob(job, success ? 'succeeded' : 'failed');
  }

  private forget(job: KubeObject): void {
    const timer = this.deadlines.get(job.metadata.uid ?? '');
    if (timer) clearTimeout(timer);
    this.deadlines.delete(job.metadata.uid ?? '');
    this.trackInCronJob(job, 'failed');
  }

  /** CronJob status.active lists its unfinished jobs; a success sets lastSuccessfulTime. */
  private trackInCronJob(job: KubeObject, event: 'add' | 'succeeded' | 'failed'): void {
    const owner = controllerOf(job, 'CronJob');
    if (!owner) return;
    const namespace = job.metadata.namespace ?? '';
    const cronJob = this.registry.store.get(CRONJOBS, namespace, owner.name);
    if (!cronJob || cronJob.metadata.uid !== owner.uid) return;
    this.registry.updateStatus(
      CRONJOBS,
      namespace,
      owner.name,
      (obj) => {
        const status = isPlainObject(obj.status) ? obj.status : (obj.status = {});
        const active = asArray(status.active).filter((ref) => dig(ref, 'uid') !== job.metadata.uid);
        if (event === 'add') {
          active.push({
            kind: 'Job',
            namespace,
            name: job.metadata.name,
            uid: job.metadata.uid,
            apiVersion: 'batch/v1',
            resourceVersion: job.metadata.resourceVersion,
          });
        }
        if (active.length > 0) status.active = active;
        else delete status.active;
        if (event === 'succeeded')
          status.lastSuccessfulTime = dig(job, 'status', 'completionTime') ?? nowIso();
      },
      MANAGER,
    );
  }
}
