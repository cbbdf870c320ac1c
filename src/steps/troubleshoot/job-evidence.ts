/**
 * What the troubleshoot steps (and the drill) share: the backup CronJobs in scope with the Jobs they
 * own, the evidence a failed Job leaves (newest pod, exit code, log tail, events), the CronJob's
 * container and env, and Cypher over Bolt through the official driver (credentials never in argv).
 */
import type { Adapters, KubeAdapter, KubeObject } from '../../adapters/types.js';
import { describeEvents, eventsFor, type EventSummary } from '../../runbook/diagnose.js';
import { byCreation, isoOf, type JobSummary, summarizeJob } from '../../runbook/job-status.js';
import type { Check, StepContext } from '../../runbook/step.js';
import type { BackupCronJob } from '../kit/backup-cronjobs.js';

export type Ctx = StepContext<Adapters>;

export const LOG_TAIL_LINES = 40;

export const SHOWN_TAIL_LINES = 10;

export interface JobEvidenceView {
  summary: JobSummary;
  logTail: string[];
  events: EventSummary[];
}

/** A Job's newest pod, its log tail and the events of the Job and its pods. Missing parts stay empty. */
export async function jobEvidence(
  kube: KubeAdapter,
  job: KubeObject,
  allEvents: readonly KubeObject[],
): Promise<JobEvidenceView> {
  const namespace = job.metadata.namespace ?? kube.target.namespace;
  const uid = job.metadata.uid;
  const pods = await kube
    .list(
      'v1',
      'Pod',
      namespace,
      uid ? `batch.kubernetes.io/controller-uid=${uid}` : `batch.kubernetes.io/job-name=${job.metadata.name}`,
    )
    .catch(() => [] as KubeObject[]);
  const summary = summarizeJob(job, pods);
  const newest = byCreation(pods).at(-1);
  let logTail: string[] = [];
  if (newest) {
    const text = await kube
      .podLog(namespace, newest.metadata.name, { tailLines: LOG_TAIL_LINES })
      .catch(() => '');
    logTail = text.split('\n').filter((line, index, all) => line !== '' || index < all.length - 1);
  }
  const names = new Set([`Job/${job.metadata.name}`, ...pods.map((pod) => `Pod/${pod.metadata.name}`)]);
  return { summary, logTail, events: eventsFor(allEvents, names) };
}

/** Events of the namespace (an empty list when they cannot be read: they are only a clue). */
export async function namespaceEvents(kube: KubeAdapter): Promise<KubeObject[]> {
  return kube.list('v1', 'Event', kube.target.namespace).catch(() => [] as KubeObject[]);
}

/** Check rows for a log tail and events (indented lines under the label). */
export function evidenceChecks(id: string, view: JobEvidenceView, status: Check['status']): Check[] {
  const shown = view.logTail.slice(-SHOWN_TAIL_LINES);
  const checks: Check[] = [
    {
      id: `${id}:log`,
      label: `last ${shown.length} log line${shown.length === 1 ? '' : 's'} of ${view.summary.pod?.name ?? 'the pod'}`,
      status,
      detail: shown.length > 0 ? `\n${shown.map((line) => `    ${line}`).join('\n')}` : '(no log)',
    },
  ];
  const events = describeEvents(view.events);
  if (events.length > 0)
    checks.push({
      id: `${id}:events`,
      label: 'events',
      status,
      detail: `\n${events.map((line) => `    ${line}`).join('\n')}`,
    });
  return checks;
}

export function isFailed(job: KubeObject): boolean {
  const conditions = ((job.status ?? {}) as { conditions?: { type?: string; status?: string }[] }).conditions;
  return (conditions ?? []).some(
    (c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True',
  );
}

export function isFinished(job: KubeObject): boolean {
  const conditions = ((job.status ?? {}) as { conditions?: { type?: string; status?: string }[] }).conditions;
  return (conditions ?? []).some(
    (c) => (c.type === 'Failed' || c.type === 'Complete') && c.status === 'True',
  );
}

export function created(job: KubeObject): string {
  return isoOf(job.metadata.creationTimestamp) ?? '?';
}

export function cronJobMissing(cron: BackupCronJob, namespace: string): Check {
  return cron.error
    ? {
        id: `${cron.name}:read`,
        label: `CronJob ${cron.name}`,
        status: 'fail',
        detail: cron.error.message,
        ...(cron.error.next ? { next: cron.error.next } : {}),
      }
    : {
        id: `${cron.name}:read`,
        label: `CronJob ${cron.name}`,
        status: 'warn',
        detail: `not found in namespace ${namespace}`,
        next: 'Deploy it: db-runbook run deploy.',
      };
}

export function podLine(summary: JobSummary): string {
  const pod = summary.pod;
  if (!pod) return 'no pod';
  if (pod.exitCode !== undefined)
    return `pod ${pod.name} exit code ${pod.exitCode}${pod.terminatedReason ? ` (${pod.terminatedReason})` : ''}`;
  return `pod ${pod.name} ${pod.phase}${pod.waitingReason ? ` (${pod.waitingReason})` : ''}`;
}
