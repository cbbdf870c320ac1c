/**
 * The synthetic-data test's common shape (runbook: "Synthetic Data Test Plan"), written once for
 * PostgreSQL and Neo4j: trigger a Job from the backup CronJob the way `kubectl create job
 * --from=cronjob/…` does, wait for it with its log streaming, find the object it wrote, and delete the
 * ad-hoc Job. The database-specific seed and verify steps live in test-postgres.ts and test-neo4j.ts.
 */
import type { Adapters, KubeAdapter, KubeObject, S3Adapter, S3ObjectInfo } from '../../adapters/types.js';
import { DETACH } from '../../engine/session.js';
import { UsageError } from '../../runbook/errors.js';
import { createJobCommand, jobFromCronJob, suffixedJobName } from '../../runbook/job-from-cronjob.js';
import {
  byCreation,
  describeCondition,
  formatElapsed,
  isoOf,
  type JobSummary,
  likelyCause,
  statusLine,
  summarizeJob,
} from '../../runbook/job-status.js';
import { isGlobalsKey } from '../../runbook/backup-catalog.js';
import { parseSha256Sidecar, type ScanProgress } from '../../runbook/dump-scan.js';
import type { SectionId } from '../../runbook/sections.js';
import type { Check, Plan, Preview, StepContext, StepResult } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { planNamespace } from '../kit/apply.js';
import { defineStep, endpointFlag, type RunbookStep, sleep } from '../define.js';

export interface SyntheticTarget {
  database: 'postgres' | 'neo4j';
  section: Extract<SectionId, 'test-postgres' | 'test-neo4j'>;
  /** The CronJob deploy applied. */
  cronJob: string;
  /** The runbook's name for the ad-hoc Job. */
  jobName: string;
  /** The value naming the S3 prefix, and its default. */
  prefixValue: 'POSTGRES_S3_PREFIX' | 'NEO4J_S3_PREFIX';
  defaultPrefix: string;
  /** What the backup writes (for messages): `.sql.gz` dump, `.backup.tar.gz` archive. */
  artifact: string;
  /**
   * When running the backup takes the database down (Neo4j Community: the server is stopped for a dump):
   * lines for the preview and the prompt of a confirm gate, with the downtime expected.
   */
  downtime?(ctx: Ctx, cronJob: KubeObject): Promise<{ lines: string[]; prompt: string } | undefined>;
}

export const DEFAULT_JOB_TIMEOUT = '15m';

/** Clocks of this machine and the object store differ a little: accept objects this much older than the trigger. */
export const CLOCK_SKEW_MS = 5_000;

const POLL_MS = 1_000;

const LOG_TAIL_LINES = 40;

const SHOWN_TAIL_LINES = 12;

type Ctx = StepContext<Adapters>;

export function stepId(
  target: SyntheticTarget,
  name: 'seed' | 'trigger' | 'wait' | 'verify' | 'cleanup',
): string {
  return `${target.section}.${name}`;
}

export function prefixOf(values: Values, target: SyntheticTarget): string {
  return values.get(target.prefixValue) ?? target.defaultPrefix;
}

/** The UTC time the runbook's `date -u +%FT%TZ` prints. */
export function utcStamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** `15m`, `90s`, `1h`, `1h30m` → ms (the --job-timeout option). */
export function parseJobTimeout(option: string | boolean | undefined): number {
  const text = typeof option === 'string' && option.trim() !== '' ? option.trim() : DEFAULT_JOB_TIMEOUT;
  const match = /^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$/.exec(text.toLowerCase());
  const ms = match
    ? Number(match[1] ?? 0) * 3_600_000 + Number(match[2] ?? 0) * 60_000 + Number(match[3] ?? 0) * 1000
    : 0;
  if (!match || ms <= 0)
    throw new UsageError(`--job-timeout "${text}" is not a duration`, 'Write e.g. 15m, 90s, 1h or 1h30m.');
  return ms;
}

function jobRefOf(name: string, namespace: string) {
  return { apiVersion: 'batch/v1', kind: 'Job', name, namespace };
}

function ageOf(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'unknown age';
  return `${formatElapsed(now - Date.parse(iso))} ago`;
}

/** One line about a live Job: `succeeded 2 h 05 min ago`, `still running (1 active pod)`. */
function describeLiveJob(job: KubeObject): string {
  const summary = summarizeJob(job);
  if (summary.phase === 'succeeded')
    return `succeeded, created ${ageOf(isoOf(job.metadata.creationTimestamp))}`;
  if (summary.phase === 'failed') return `failed, created ${ageOf(isoOf(job.metadata.creationTimestamp))}`;
  return `still running (${summary.active} active pod${summary.active === 1 ? '' : 's'}), created ${ageOf(isoOf(job.metadata.creationTimestamp))}`;
}

// ------------------------------------------------------------------------------------------ trigger

interface TriggerPreview {
  cronJobFound: boolean;
  existing: boolean;
  existingRunning: boolean;
  /** delete-first | the suffixed name chosen instead */
  action: 'create' | 'delete-first' | 'suffixed';
  jobName: string;
  /** The backup stops the database: the gate asks, naming the downtime expected. */
  downtimePrompt?: string;
}

function triggerPreviewData(preview: Preview | undefined): TriggerPreview | undefined {
  return preview?.data as TriggerPreview | undefined;
}

export function triggerStep(target: SyntheticTarget): RunbookStep {
  return defineStep({
    id: stepId(target, 'trigger'),
    section: target.section,
    database: target.database,
    title: 'Run the backup Job now',
    description: `Create Job ${target.jobName} from CronJob ${target.cronJob}, exactly as kubectl create job --from=cronjob/${target.cronJob} does (job template spec, labels, annotations, instantiate: manual, owner reference).`,
    inputs: [],
    plan: (_values, options) => {
      const namespace = planNamespace(options);
      return {
        actions: [
          {
            summary: `read CronJob ${target.cronJob}`,
            command: `kubectl get cronjob ${target.cronJob} --namespace ${namespace}`,
          },
          {
            summary: `create Job ${target.jobName} from its job template`,
            command: createJobCommand(target.cronJob, target.jobName, namespace),
            writes: true,
          },
        ],
        notes: [
          `If a Job named ${target.jobName} exists you choose: delete it first (kubectl delete job ${target.jobName} --cascade=background, confirmed) or use a suffixed name.`,
        ],
      };
    },
    async preview(ctx) {
      const kube = await ctx.adapters.kube();
      const namespace = kube.target.namespace;
      const cronJob = await kube.get({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: target.cronJob,
        namespace,
      });
      const lines: string[] = [];
      const data: TriggerPreview = {
        cronJobFound: cronJob !== undefined,
        existing: false,
        existingRunning: false,
        action: 'create',
        jobName: target.jobName,
      };
      if (!cronJob) {
        lines.push(
          `CronJob ${target.cronJob} not found in namespace ${namespace}: run the deploy section first`,
        );
        return { lines, data: { ...data } };
      }
      lines.push(
        `CronJob ${target.cronJob}: schedule "${String((cronJob.spec as { schedule?: string } | undefined)?.schedule ?? '?')}" in ${namespace}`,
      );
      const downtime = await target.downtime?.(ctx, cronJob);
      if (downtime) {
        lines.push(...downtime.lines);
        data.downtimePrompt = downtime.prompt;
      }
      const existing = await kube.get(jobRefOf(target.jobName, namespace));
      if (!existing) {
        lines.push(`will create Job ${target.jobName}`);
        return { lines, data: { ...data } };
      }
      data.existing = true;
      data.existingRunning = !summarizeJob(existing).finished;
      lines.push(`Job ${target.jobName} already exists: ${describeLiveJob(existing)}`);
      const taken = new Set<string>([target.jobName]);
      const jobs = await kube.list('batch/v1', 'Job', namespace).catch(() => [] as KubeObject[]);
      for (const job of jobs) taken.add(job.metadata.name);
      const suffixed = suffixedJobName(target.jobName, (name) => taken.has(name));
      const choice = await ctx.choose(
        `Job ${target.jobName} already exists (${describeLiveJob(existing)}). What now?`,
        [
          {
            label: `delete ${target.jobName} first (its pods too), then create it again`,
            value: 'delete-first',
            hint: data.existingRunning
              ? 'it is still running: deleting stops that backup'
              : 'asks to confirm',
          },
          { label: `use the name ${suffixed}`, value: suffixed, hint: 'leaves the old Job alone' },
        ],
        'delete-first',
      );
      if (choice === undefined) {
        throw new UsageError(
          `Job ${target.jobName} exists and no choice was made`,
          'Run the step again and pick one.',
        );
      }
      if (choice === 'delete-first') {
        data.action = 'delete-first';
        lines.push(`will delete Job ${target.jobName} (propagationPolicy Background), then create it again`);
      } else {
        data.action = 'suffixed';
        data.jobName = choice;
        lines.push(`will create Job ${choice} instead (the existing ${target.jobName} is left alone)`);
      }
      return { lines, data: { ...data } };
    },
    gate(_values, ctx) {
      const data = triggerPreviewData(ctx.preview);
      if (data?.action !== 'delete-first' && !data?.downtimePrompt) return undefined;
      const prompts = [
        ...(data.action === 'delete-first'
          ? [
              `Delete Job ${target.jobName} in namespace ${ctx.target.namespace || planNamespace(ctx.options)}${data.existingRunning ? ' (it is still running)' : ''} and create it again?`,
            ]
          : []),
        ...(data.downtimePrompt ? [data.downtimePrompt] : []),
      ];
      return {
        kind: 'confirm',
        prompt: prompts.join(' '),
        target: { context: ctx.target.context, namespace: ctx.target.namespace, job: data.jobName },
      };
    },
    async run(ctx) {
      const kube = await ctx.adapters.kube();
      const namespace = kube.target.namespace;
      const decided = triggerPreviewData(ctx.preview);
      const cronJob = await kube.get({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: target.cronJob,
        namespace,
      });
      if (!cronJob) {
        return {
          summary: `CronJob ${target.cronJob} not found in ${namespace}`,
          checks: [
            {
              id: 'cronjob',
              label: `CronJob ${target.cronJob}`,
              status: 'fail',
              detail: `not found in namespace ${namespace}`,
              next: 'Run db-runbook run deploy (it applies ops/db/backup-jobs/cronjobs.yaml).',
            },
          ],
        };
      }
      const jobName = decided?.jobName ?? target.jobName;
      const checks: Check[] = [];
      if (decided?.action === 'delete-first') {
        await kube.delete(jobRefOf(target.jobName, namespace), { propagationPolicy: 'Background' });
        ctx.log(`deleted Job ${target.jobName} (propagationPolicy Background)`);
        // The name is free once the object is gone (Background: immediately; finalizers may delay it).
        const deadline = Date.now() + 30_000;
        while ((await kube.get(jobRefOf(target.jobName, namespace))) !== undefined) {
          if (Date.now() > deadline || ctx.signal.aborted) {
            return {
              summary: `Job ${target.jobName} is still being deleted`,
              checks: [
                {
                  id: 'delete',
                  label: `delete Job ${target.jobName}`,
                  status: 'fail',
                  detail: 'the Job still exists 30 s after the delete (finalizers?)',
                  next: `Check kubectl get job ${target.jobName} -n ${namespace} -o yaml (metadata.finalizers), then run the step again.`,
                },
              ],
            };
          }
          await sleep(250, ctx.signal);
        }
        checks.push({
          id: 'delete',
          label: `deleted the old Job ${target.jobName}`,
          status: 'ok',
          detail: 'its pods are removed in the background',
        });
      }
      const job = jobFromCronJob(cronJob, jobName, namespace);
      const triggeredAt = new Date().toISOString();
      const created = await kube.create(job);
      checks.push({
        id: 'job',
        label: `Job ${jobName} created from CronJob ${target.cronJob}`,
        status: 'ok',
        detail: `uid ${created.metadata.uid ?? '?'}, annotation cronjob.kubernetes.io/instantiate=manual, owned by the CronJob`,
      });
      return {
        summary: `Job ${jobName} created at ${utcStamp(new Date(triggeredAt))}`,
        checks,
        data: {
          job: jobName,
          uid: created.metadata.uid,
          namespace,
          cronJob: target.cronJob,
          triggeredAt,
        },
      };
    },
  });
}

// ------------------------------------------------------------------------------------------ wait

/** Which Job the later steps look at: the one this session's trigger created, else the runbook's name. */
export function jobOf(
  ctx: Pick<Ctx, 'earlier'>,
  target: SyntheticTarget,
): { job: string; triggeredAt?: string } {
  const triggered = ctx.earlier(stepId(target, 'trigger'));
  const job = typeof triggered?.job === 'string' ? triggered.job : target.jobName;
  const triggeredAt = typeof triggered?.triggeredAt === 'string' ? triggered.triggeredAt : undefined;
  return triggeredAt ? { job, triggeredAt } : { job };
}

/** Splits streamed text into lines for ctx.log, keeping a tail for the failure report. */
class LogLines {
  readonly tail: string[] = [];
  private buffered = new Map<string, string>();

  constructor(private readonly emit: (line: string) => void) {}

  text(pod: string, text: string): void {
    const lines = ((this.buffered.get(pod) ?? '') + text).split('\n');
    this.buffered.set(pod, lines.pop() ?? '');
    for (const line of lines) this.line(line.replace(/\r$/, ''));
  }

  flush(pod: string): void {
    const rest = this.buffered.get(pod);
    if (rest) this.line(rest);
    this.buffered.delete(pod);
  }

  line(line: string): void {
    this.emit(line);
    this.tail.push(line);
    if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
  }
}

export function waitStep(target: SyntheticTarget): RunbookStep {
  return defineStep({
    id: stepId(target, 'wait'),
    section: target.section,
    database: target.database,
    title: 'Wait for the Job',
    description: `Follow Job ${target.jobName}: pod phase, elapsed time and its log as it runs; a timeout (--job-timeout, default ${DEFAULT_JOB_TIMEOUT}); Esc stops waiting and leaves the Job running.`,
    inputs: [],
    plan: (_values, options) => {
      const namespace = planNamespace(options);
      const timeout =
        typeof options['job-timeout'] === 'string' ? options['job-timeout'] : DEFAULT_JOB_TIMEOUT;
      return {
        actions: [
          {
            summary: `poll the Job and its pod every second, up to ${timeout}`,
            command: `kubectl wait --for=condition=complete job/${target.jobName} --namespace ${namespace} --timeout=${timeout}`,
          },
          {
            summary: "stream the pod's log",
            command: `kubectl logs --follow job/${target.jobName} --namespace ${namespace}`,
          },
        ],
      };
    },
    run: (ctx) => waitForJob(ctx, target),
  });
}

async function waitForJob(ctx: Ctx, target: SyntheticTarget): Promise<StepResult> {
  const timeoutMs = parseJobTimeout(ctx.options['job-timeout']);
  const kube = await ctx.adapters.kube();
  const namespace = kube.target.namespace;
  const { job: name, triggeredAt } = jobOf(ctx, target);
  const waitStarted = Date.now();
  const since = triggeredAt ? Math.min(Date.parse(triggeredAt), waitStarted) : waitStarted;
  const logs = new LogLines((line) => ctx.log(line));
  const followed = new Set<string>();
  const stopLogs = new AbortController();
  const onAbort = () => stopLogs.abort();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const next = `Run db-runbook run troubleshoot (full log: kubectl logs job/${name} -n ${namespace})`;
  let summary: JobSummary | undefined;
  let lastPhase = '';

  // A Job's pods run one after another (retries): their logs are streamed in that order, each
  // after the previous one ended, so lines never interleave.
  let streams: Promise<void> = Promise.resolve();
  const follow = (kubeAdapter: KubeAdapter, pod: string, attempt: number) => {
    followed.add(pod);
    streams = streams.then(async () => {
      if (stopLogs.signal.aborted) return;
      logs.line(`── pod ${pod}${attempt > 1 ? ` (attempt ${attempt})` : ''} ──`);
      try {
        await kubeAdapter.podLog(namespace, pod, {
          follow: true,
          signal: stopLogs.signal,
          onText: (text) => logs.text(pod, text),
        });
      } catch (error) {
        ctx.log(`(could not stream the log of ${pod}: ${(error as Error).message})`);
      } finally {
        logs.flush(pod);
      }
    });
  };

  try {
    for (;;) {
      if (ctx.signal.aborted) break;
      const job = await kube.get(jobRefOf(name, namespace));
      if (!job) {
        return {
          summary: `Job ${name} not found`,
          checks: [
            {
              id: 'job',
              label: `Job ${name}`,
              status: 'fail',
              detail: `not found in namespace ${namespace} (deleted, or never created)`,
              next: `Run ${stepId(target, 'trigger')} first.`,
            },
          ],
        };
      }
      const uid = job.metadata.uid;
      const pods = await kube.list(
        'v1',
        'Pod',
        namespace,
        uid ? `batch.kubernetes.io/controller-uid=${uid}` : `batch.kubernetes.io/job-name=${name}`,
      );
      summary = summarizeJob(job, pods);
      ctx.progress({ message: statusLine(summary, Date.now() - since) });
      // Until a log streams, say what the pod waits for; after that the log speaks (in order).
      const phaseNow = `${summary.pod?.name ?? ''} ${summary.pod?.phase ?? summary.phase} ${summary.pod?.waitingReason ?? ''}`;
      const waitingForPod = !summary.pod || summary.pod.phase === 'Pending';
      if (followed.size === 0 && waitingForPod && phaseNow !== lastPhase) {
        lastPhase = phaseNow;
        ctx.log(
          summary.pod
            ? `job: pod ${summary.pod.name} ${summary.pod.phase}${summary.pod.waitingReason ? ` (${summary.pod.waitingReason})` : ''}`
            : `job: ${name} waiting for a pod`,
        );
      }
      for (const pod of byCreation(pods)) {
        const phase = String((pod.status as { phase?: string } | undefined)?.phase ?? 'Pending');
        if (!followed.has(pod.metadata.name) && phase !== 'Pending')
          follow(kube, pod.metadata.name, followed.size + 1);
      }
      if (summary.finished) break;
      if (Date.now() - waitStarted > timeoutMs) {
        return {
          summary: `Job ${name} did not finish within ${formatElapsed(timeoutMs)}`,
          checks: [
            {
              id: 'timeout',
              label: `Job ${name} still running after ${formatElapsed(timeoutMs)}`,
              status: 'fail',
              detail: statusLine(summary, Date.now() - since),
              next: `It keeps running in the cluster. Wait longer (--job-timeout 30m), or inspect: kubectl describe job ${name} -n ${namespace}; ${next}`,
            },
          ],
          data: { job: name, timedOut: true, next },
        };
      }
      await sleep(POLL_MS, ctx.signal);
    }
    if (ctx.signal.aborted) {
      const detached = ctx.signal.reason === DETACH;
      return {
        summary: `stopped waiting; Job ${name} keeps running`,
        checks: [
          {
            id: 'detached',
            label: `stopped waiting for Job ${name}`,
            status: 'warn',
            detail: `${summary ? statusLine(summary, Date.now() - since) : 'not looked at yet'} — the Job keeps running in the cluster`,
            next: `Check later: kubectl get job ${name} -n ${namespace}; then run ${stepId(target, 'wait')} again.`,
          },
        ],
        data: { job: name, detached, finished: false },
      };
    }
    // The Job is done: let the log streams deliver their last lines (bounded), then stop them.
    await Promise.race([streams, sleep(5_000, stopLogs.signal)]);
    return finishedResult(name, namespace, summary, logs.tail, Date.now() - since, next);
  } finally {
    stopLogs.abort();
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

function finishedResult(
  name: string,
  namespace: string,
  summary: JobSummary | undefined,
  tail: readonly string[],
  elapsedMs: number,
  next: string,
): StepResult {
  if (!summary) throw new Error('no Job status');
  const pod = summary.pod;
  const reported = [...tail].reverse().find((line) => line.startsWith('object=s3://'));
  const took = formatElapsed(elapsedMs);
  if (summary.phase === 'succeeded') {
    return {
      summary: `Job ${name} completed in ${took}`,
      checks: [
        {
          id: 'job',
          label: `Job ${name} completed`,
          status: 'ok',
          detail: `in ${took}${pod ? ` (pod ${pod.name}, exit ${pod.exitCode ?? 0})` : ''}`,
        },
      ],
      data: {
        job: name,
        succeeded: true,
        durationMs: elapsedMs,
        completedAt: summary.completionTime ?? new Date().toISOString(),
        ...(pod ? { pod: pod.name } : {}),
        ...(reported ? { reportedObject: reported.slice('object='.length) } : {}),
      },
    };
  }
  // Kubernetes 1.31+ writes FailureTarget and then Failed with the same reason: show Failed.
  const failedTrue = summary.conditions.filter((c) => c.status === 'True' && c.type === 'Failed');
  const failed = failedTrue.length
    ? failedTrue
    : summary.conditions.filter((c) => c.status === 'True' && c.type === 'FailureTarget');
  const shownConditions = failed.length > 0 ? failed : summary.conditions;
  const cause = likelyCause(summary, tail);
  const checks: Check[] = [
    {
      id: 'job',
      label: `Job ${name} failed`,
      status: 'fail',
      detail: shownConditions.map(describeCondition).join('; ') || `${summary.failed} failed pod(s)`,
      next,
    },
  ];
  if (pod) {
    checks.push({
      id: 'exit-code',
      label:
        pod.exitCode !== undefined
          ? `pod ${pod.name} exited with code ${pod.exitCode}${pod.terminatedReason ? ` (${pod.terminatedReason})` : ''}`
          : `pod ${pod.name} ${pod.phase}${pod.waitingReason ? ` (${pod.waitingReason})` : ''}`,
      status: 'fail',
      detail: cause ?? 'no known cause: read the log tail',
      next,
    });
  }
  // The last attempt's lines (retries repeat the same failure).
  const lastPod = tail.map((line) => line.startsWith('── pod ')).lastIndexOf(true);
  const shown = tail
    .slice(lastPod + 1)
    .filter((line) => !line.startsWith('job: '))
    .slice(-SHOWN_TAIL_LINES);
  checks.push({
    id: 'log-tail',
    label: `last ${shown.length} log line${shown.length === 1 ? '' : 's'}`,
    status: 'fail',
    detail:
      shown.length > 0 ? `\n${shown.map((line) => `    ${line}`).join('\n')}` : '(the pod wrote nothing)',
  });
  return {
    summary: `Job ${name} failed after ${took}${pod?.exitCode !== undefined ? ` (exit code ${pod.exitCode})` : ''}${cause ? `: ${cause}` : ''}`,
    checks,
    data: {
      job: name,
      namespace,
      succeeded: false,
      durationMs: elapsedMs,
      conditions: shownConditions.map(describeCondition),
      ...(pod?.exitCode !== undefined ? { exitCode: pod.exitCode } : {}),
      ...(cause ? { cause } : {}),
      next: 'run db-runbook run troubleshoot',
    },
  };
}

// ------------------------------------------------------------------------------------------ verify helpers

/** Keys a backup writes besides the backup itself: checksum sidecars and in-flight temporaries. */
export function isBackupObject(key: string, prefix: string): boolean {
  // the sidecars, and the globals object published beside a PostgreSQL dump
  if (key.endsWith('/') || key.endsWith('.sha256') || isGlobalsKey(key)) return false;
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  // `.partial/…` (the scripts' temporaries), hidden segments, and the usual in-progress suffixes.
  if (rest.split('/').some((segment) => segment.startsWith('.'))) return false;
  if (/\.(tmp|temp|part|partial|inprogress|uploading)$/i.test(key)) return false;
  return true;
}

export interface FoundObject {
  object?: S3ObjectInfo;
  /** The newest backup object, whatever its age (for "newest is … from …" messages). */
  newestAny?: S3ObjectInfo;
  threshold: Date;
}

/** The newest backup object under the prefix written at or after the trigger (minus clock skew). */
export async function newestSince(s3: S3Adapter, prefix: string, triggeredAt: string): Promise<FoundObject> {
  const threshold = new Date(Math.floor(Date.parse(triggeredAt) / 1000) * 1000 - CLOCK_SKEW_MS);
  const objects = (await s3.list(prefix))
    .filter((item) => isBackupObject(item.key, prefix))
    .sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0));
  const newestAny = objects[0];
  const object = objects.find((item) => (item.lastModified?.getTime() ?? 0) >= threshold.getTime());
  return { ...(object ? { object } : {}), ...(newestAny ? { newestAny } : {}), threshold };
}

/** When the trigger happened: this session's trigger step, else the Job's creation time. */
export async function triggerTime(
  ctx: Ctx,
  target: SyntheticTarget,
): Promise<{ job: string; triggeredAt?: string; source: string }> {
  const { job, triggeredAt } = jobOf(ctx, target);
  if (triggeredAt) return { job, triggeredAt, source: 'this session' };
  const kube = await ctx.adapters.kube();
  const live = await kube.get(jobRefOf(job, kube.target.namespace));
  const created = isoOf(live?.metadata.creationTimestamp);
  return created
    ? { job, triggeredAt: created, source: `Job ${job} creation time` }
    : { job, source: 'none' };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GiB`;
}

export function throughput(bytes: number, ms: number): string {
  const seconds = Math.max(ms, 1) / 1000;
  return `${(bytes / (1024 * 1024) / seconds).toFixed(1)} MiB/s`;
}

/** Checks for "no object newer than the trigger" (with what the newest one is). */
export function noObjectResult(
  target: SyntheticTarget,
  bucket: string,
  prefix: string,
  found: FoundObject,
  triggeredAt: string,
): StepResult {
  const where = `s3://${bucket}/${prefix}`;
  const newest = found.newestAny
    ? `; the newest there is ${found.newestAny.key} from ${found.newestAny.lastModified?.toISOString() ?? '?'}`
    : '; the prefix holds no backups at all';
  return {
    summary: `no backup object newer than the trigger (${utcStamp(new Date(triggeredAt))}) under ${where}`,
    checks: [
      {
        id: 'object',
        label: `a new ${target.artifact} under ${where}`,
        status: 'fail',
        detail: `no backup object newer than the trigger at ${utcStamp(new Date(triggeredAt))}${newest}`,
        next: `Read the wait step's log (did the Job upload?) and run db-runbook run troubleshoot.`,
      },
    ],
    data: { prefix, triggeredAt, found: false, next: 'run db-runbook run troubleshoot' },
  };
}

/** Compares the streamed sha256 with the `<key>.sha256` sidecar. */
export async function sidecarCheck(
  s3: S3Adapter,
  key: string,
  sha256: string,
): Promise<{ check: Check; sidecar?: string }> {
  const text = await s3.getText(`${key}.sha256`, 4096).catch(() => undefined);
  if (text === undefined) {
    return {
      check: {
        id: 'sha256',
        label: 'sha256 sidecar',
        status: 'warn',
        detail: `no ${key}.sha256 next to the object; computed sha256 ${sha256}`,
        next: 'The backup scripts write a sidecar after publishing: a missing one means another writer or an interrupted publish.',
      },
    };
  }
  const parsed = parseSha256Sidecar(text);
  if (!parsed) {
    return {
      check: {
        id: 'sha256',
        label: 'sha256 sidecar',
        status: 'fail',
        detail: `${key}.sha256 does not hold a SHA-256 ("<hex>  <name>")`,
      },
    };
  }
  const name = key.slice(key.lastIndexOf('/') + 1);
  const nameNote = parsed.name && parsed.name !== name ? ` (the sidecar names ${parsed.name})` : '';
  return parsed.sha256 === sha256
    ? {
        sidecar: parsed.sha256,
        check: {
          id: 'sha256',
          label: 'sha256 matches the sidecar',
          status: 'ok',
          detail: `${sha256}${nameNote}`,
        },
      }
    : {
        sidecar: parsed.sha256,
        check: {
          id: 'sha256',
          label: 'sha256 differs from the sidecar',
          status: 'fail',
          detail: `streamed ${sha256}, sidecar says ${parsed.sha256}${nameNote}`,
          next: 'The object changed after it was written, or the upload was corrupted: do not restore from it; run a new backup.',
        },
      };
}

export function s3Command(values: Values, args: string): string {
  return `aws s3 ${args}${endpointFlag(values.get('AWS_ENDPOINT_URL'))}`;
}

/** What a verify step's plan says besides the artifact's noun, file extension and the way it reads the stream. */
export interface VerifyPlanText {
  /** `object`, `archive`: what the listing looks for. */
  listed: string;
  /** `.sql.gz`, `.backup.tar.gz`. */
  extension: string;
  readSummary: string;
  /** The shell pipeline after `aws s3 cp … -`. */
  readPipe: string;
}

/** The verify step's plan: list the prefix, stream the newest backup through the reader, fetch the sidecar. */
export function verifyPlan(values: Values, target: SyntheticTarget, text: VerifyPlanText): Plan {
  const bucket = values.get('S3_BUCKET') ?? '$S3_BUCKET';
  const prefix = prefixOf(values, target);
  return {
    actions: [
      {
        summary: `find the newest ${text.listed} under s3://${bucket}/${prefix} written after the trigger`,
        command: s3Command(values, `ls s3://${bucket}/${prefix}`),
      },
      {
        summary: text.readSummary,
        command: `${s3Command(values, `cp s3://${bucket}/${prefix}<latest-backup>${text.extension} -`)} | ${text.readPipe}`,
      },
      {
        summary: 'compare with the sidecar',
        command: s3Command(values, `cp s3://${bucket}/${prefix}<latest-backup>${text.extension}.sha256 -`),
      },
    ],
  };
}

/** The backup object a verify step reads, found after the trigger. */
export interface TriggeredBackup {
  object: S3ObjectInfo;
  uri: string;
  written: Date;
  triggeredAt: string;
}

/** The verify step's result when neither this session nor the cluster knows when the Job was triggered. */
function noTriggerResult(target: SyntheticTarget, job: string): StepResult {
  return {
    summary: 'no trigger time to compare with',
    checks: [
      {
        id: 'trigger',
        label: 'trigger time',
        status: 'fail',
        detail: `this session did not trigger a Job and ${job} does not exist`,
        next: `Run ${stepId(target, 'trigger')} and ${stepId(target, 'wait')} first.`,
      },
    ],
  };
}

/** The newest backup object written since the trigger, or the failed result that says why there is none. */
export async function findTriggeredBackup(
  ctx: Ctx,
  s3: S3Adapter,
  target: SyntheticTarget,
  prefix: string,
): Promise<{ backup: TriggeredBackup } | { failure: StepResult }> {
  const trigger = await triggerTime(ctx, target);
  if (!trigger.triggeredAt) return { failure: noTriggerResult(target, trigger.job) };
  const found = await newestSince(s3, prefix, trigger.triggeredAt);
  if (!found.object)
    return { failure: noObjectResult(target, s3.target.bucket, prefix, found, trigger.triggeredAt) };
  const object = found.object;
  return {
    backup: {
      object,
      uri: `s3://${s3.target.bucket}/${object.key}`,
      written: object.lastModified ?? new Date(),
      triggeredAt: trigger.triggeredAt,
    },
  };
}

/** The passed check naming the object found (`newest dump s3://…`): size, age and the trigger it follows. */
export function newestObjectCheck(noun: string, backup: TriggeredBackup): Check {
  const { object, written } = backup;
  const ageSeconds = Math.max(0, Math.round((Date.now() - written.getTime()) / 1000));
  return {
    id: 'object',
    label: `newest ${noun} ${backup.uri}`,
    status: 'ok',
    detail: `${formatBytes(object.size)}, written ${utcStamp(written)} (${ageSeconds} s ago), after the trigger at ${utcStamp(new Date(backup.triggeredAt))}`,
  };
}

/** Reports a stream scan's progress as `<verb> <key>: <n> inflated`, counted in compressed bytes. */
export function scanProgressReporter(
  ctx: Ctx,
  verb: string,
  object: S3ObjectInfo,
): (progress: ScanProgress) => void {
  return (p) =>
    ctx.progress({
      message: `${verb} ${object.key}: ${formatBytes(p.bytes)} inflated`,
      done: p.compressedBytes,
      total: object.size,
      unit: 'bytes',
    });
}

/** The data fields every verify step reports first: the object, its digest and the sidecar's. */
export function verifiedObjectData(
  backup: TriggeredBackup,
  sha256: string,
  sidecar: string | undefined,
): Record<string, unknown> {
  return {
    key: backup.object.key,
    uri: backup.uri,
    size: backup.object.size,
    lastModified: backup.written.toISOString(),
    sha256,
    ...(sidecar ? { sidecarSha256: sidecar } : {}),
  };
}

// ------------------------------------------------------------------------------------------ cleanup

export function cleanupStep(target: SyntheticTarget): RunbookStep {
  return defineStep({
    id: stepId(target, 'cleanup'),
    section: target.section,
    database: target.database,
    title: 'Delete the ad-hoc Job',
    description: `Delete Job ${target.jobName} with propagationPolicy Background, so its pods go too. The seeded marker stays in the database as a record of the test.`,
    inputs: [],
    plan: (_values, options) => ({
      actions: [
        {
          summary: `delete Job ${target.jobName} and its pods`,
          command: `kubectl delete job ${target.jobName} --namespace ${planNamespace(options)} --cascade=background`,
          destructive: true,
        },
      ],
    }),
    async preview(ctx) {
      const kube = await ctx.adapters.kube();
      const { job } = jobOf(ctx, target);
      const live = await kube.get(jobRefOf(job, kube.target.namespace));
      return {
        lines: [
          live ? `Job ${job}: ${describeLiveJob(live)}` : `Job ${job} does not exist (nothing to delete)`,
        ],
        data: { job, exists: live !== undefined, running: live ? !summarizeJob(live).finished : false },
      };
    },
    gate(_values, ctx) {
      const data = ctx.preview?.data as { job?: string; exists?: boolean; running?: boolean } | undefined;
      if (data?.exists === false) return undefined;
      const job = data?.job ?? target.jobName;
      return {
        kind: 'confirm',
        prompt: `Delete Job ${job} in namespace ${ctx.target.namespace || planNamespace(ctx.options)} (its pods too)${data?.running ? ' — it is still running' : ''}?`,
        target: { context: ctx.target.context, namespace: ctx.target.namespace, job },
      };
    },
    async run(ctx) {
      const kube = await ctx.adapters.kube();
      const namespace = kube.target.namespace;
      const job = (ctx.preview?.data as { job?: string } | undefined)?.job ?? jobOf(ctx, target).job;
      const live = await kube.get(jobRefOf(job, namespace));
      if (!live) {
        return {
          summary: `Job ${job} was already gone`,
          checks: [
            { id: 'delete', label: `Job ${job}`, status: 'ok', detail: 'does not exist: nothing to delete' },
          ],
          data: { job, deleted: false },
        };
      }
      await kube.delete(jobRefOf(job, namespace), { propagationPolicy: 'Background' });
      return {
        summary: `Job ${job} deleted`,
        checks: [
          {
            id: 'delete',
            label: `Job ${job} deleted`,
            status: 'ok',
            detail: 'propagationPolicy Background: the garbage collector removes its pods',
          },
        ],
        data: { job, deleted: true },
      };
    },
  });
}

/**
 * What in the sandbox is not the real thing, for results and the screen. Neo4j is a real Neo4j 5 Community
 * server there (and its backup a real dump): only an Enterprise online backup would be a stand-in, and the
 * sandbox's server is Community, so nothing is said here.
 */
export function standInNote(_ctx: Pick<Ctx, 'target'>, _database: 'postgres' | 'neo4j'): string | undefined {
  return undefined;
}
