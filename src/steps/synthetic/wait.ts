/** The synthetic test's wait step: follow the triggered Job with its log streaming, and say how it ended. */
import { planNamespace } from '../kit/apply.js';
import { defineStep, type RunbookStep, sleep } from '../define.js';
import {
  type Ctx,
  DEFAULT_JOB_TIMEOUT,
  jobRefOf,
  parseJobTimeout,
  stepId,
  type SyntheticTarget,
} from './target.js';
import { jobOf } from './trigger.js';
import type { KubeAdapter } from '../../adapters/types.js';
import { DETACH } from '../../engine/session.js';
import {
  byCreation,
  describeCondition,
  formatElapsed,
  type JobSummary,
  likelyCause,
  statusLine,
  summarizeJob,
} from '../../runbook/job-status.js';
import type { Check, StepResult } from '../../runbook/step.js';

const POLL_MS = 1000;

const LOG_TAIL_LINES = 40;

const SHOWN_TAIL_LINES = 12;

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
    await Promise.race([streams, sleep(5000, stopLogs.signal)]);
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
