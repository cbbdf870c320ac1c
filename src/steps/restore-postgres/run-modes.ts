/**
 * Where postgres-restore.sh runs: on this host (env only), or as a Kubernetes Job made from the backup
 * CronJob with its log streamed. Both end in the same ScriptRun: exit code, key=value output and log.
 */
import { formatDuration } from '../../runbook/backup-catalog.js';
import { RunbookError } from '../../runbook/errors.js';
import type { Check } from '../../runbook/step.js';
import { statusLine } from '../../runbook/job-status.js';
import { sleep } from '../define.js';
import type { Ctx } from '../restore-kit/spec.js';
import { createRestoreJob, watchRestoreJob } from '../restore-kit/restore-job-run.js';
import { postgresEnv, scriptLocation, storageEnv, undetachable } from '../clients/restore-scripts.js';
import { BACKUP_CRONJOB } from './ids.js';

/** What a run of the restore script left: its exit code, its key=value output and its log. */
export interface ScriptRun {
  exitCode: number;
  output: string;
  log: string;
  interrupted: boolean;
  detached: boolean;
  /** "this host" or "Job <name> in <namespace>". */
  where: string;
  /** How to follow it by hand. */
  follow: string;
}

/** The scripts' test hooks (DB_RUNBOOK_TEST_HOOK_*) when set, for a restore run as a Job: inert otherwise. */
function testHookEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (name.startsWith('DB_RUNBOOK_TEST_HOOK_') && value) env[name] = value;
  return env;
}

/** postgres-restore.sh from this host, env only (secrets in the child environment). */
export async function runOnHost(
  ctx: Ctx,
  restoreVars: Record<string, string>,
  onLine: (line: string) => void,
): Promise<ScriptRun> {
  const script = scriptLocation(ctx.settings, 'postgres-restore.sh');
  const storage = storageEnv(ctx.values);
  const result = await ctx.adapters.proc.run('bash', [script.path], {
    env: { ...storage.env, ...postgresEnv(ctx.values).env, ...restoreVars },
    secrets: storage.secrets,
    signal: undetachable(ctx),
    processGroup: true,
    onLine: (line, stream) => {
      if (stream === 'stderr') onLine(line);
    },
  });
  return {
    exitCode: result.exitCode,
    output: result.stdout,
    log: result.stderr,
    interrupted: result.interrupted,
    detached: false,
    where: 'this host',
    follow: 'the log above',
  };
}

/**
 * postgres-restore.sh as a Kubernetes Job made from the backup CronJob (image, Secrets, scripts
 * ConfigMap), its log streamed. The target is named explicitly (POSTGRES_HOST/PORT/DATABASE/USER
 * override the Secret's), so it is exactly the one the gate showed; the password stays in the
 * Secret. Ctrl+C deletes the Job (its pod dies, the transaction rolls back); Esc leaves it running.
 */
export async function runAsJob(
  ctx: Ctx,
  restoreVars: Record<string, string>,
  objectBytes: number,
  onLine: (line: string) => void,
  onStatus: (status: string) => void,
): Promise<ScriptRun> {
  const target: Record<string, string> = {};
  for (const name of ['POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_DATABASE', 'POSTGRES_USER']) {
    const value = ctx.values.get(name);
    if (value) target[name] = value;
  }
  const job = await createRestoreJob(
    ctx,
    BACKUP_CRONJOB,
    {
      backupScript: 'postgres-backup.sh',
      restoreScript: 'postgres-restore.sh',
      env: { ...target, ...restoreVars, ...testHookEnv() },
      app: 'postgres-restore',
      workBytes: objectBytes,
    },
    (cronJob, namespace) =>
      cronJob
        ? undefined
        : new RunbookError(`CronJob ${BACKUP_CRONJOB} not found in namespace ${namespace}`, {
            next: 'The Job mode uses its image, Secrets and scripts ConfigMap: run the deploy section first, or restore from this host.',
          }),
  );
  const { kube, ref, namespace, where, follow, started } = job;
  const lines: string[] = [];
  let buffered = '';
  const emit = (line: string) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
    onLine(line);
  };
  const stopLogs = new AbortController();
  let streaming: Promise<void> | undefined;
  let exitCode = 1;
  let detached = false;
  let interrupted = false;
  try {
    const finished = await watchRestoreJob(ctx, job, (summary, pods) => {
      onStatus(`${where}: ${statusLine(summary, Date.now() - started)}`);
      const pod = pods.at(-1);
      const podPhase = String((pod?.status as { phase?: string } | undefined)?.phase ?? 'Pending');
      if (!streaming && pod && podPhase !== 'Pending') {
        streaming = kube
          .podLog(namespace, pod.metadata.name, {
            follow: true,
            signal: stopLogs.signal,
            onText: (text) => {
              const parts = (buffered + text).split('\n');
              buffered = parts.pop() ?? '';
              for (const line of parts) emit(line.replace(/\r$/, ''));
            },
          })
          .then(
            () => undefined,
            (error: unknown) =>
              ctx.log(`(could not stream the log of ${pod.metadata.name}: ${(error as Error).message})`),
          );
      }
    });
    if (finished === undefined) {
      if (ctx.signal.reason === 'detach') detached = true;
      else interrupted = true;
    } else exitCode = finished;
  } finally {
    if (streaming) await Promise.race([streaming, sleep(5000, new AbortController().signal)]);
    stopLogs.abort();
    if (buffered) emit(buffered);
  }
  if (interrupted) {
    await kube.delete(ref, { propagationPolicy: 'Foreground' }).catch(() => undefined);
    // Its pod gets SIGTERM: the script finishes a swap in progress, then cleans up. Wait until the Job is
    // gone (Foreground: after its pods), so what the server holds afterwards is final.
    const until = Date.now() + 60_000;
    while (Date.now() < until && (await kube.get(ref).catch(() => undefined)))
      await sleep(500, new AbortController().signal);
    ctx.log(`deleted ${where}: its pod is stopped`);
  }
  return { exitCode, output: lines.join('\n'), log: lines.join('\n'), interrupted, detached, where, follow };
}

/** What a run of the script shows while it runs: the phase it is in (set by the caller as lines arrive). */
export interface ScriptProgress {
  phase: string;
  /** When false, the caller shows its own progress (bytes) and the elapsed-time line is left out. */
  show?: () => boolean;
}

/**
 * postgres-restore.sh where `mode` says (this host, or a Job from the backup CronJob), with the phase and the
 * time elapsed on the progress line every second while it runs.
 */
export async function runRestoreScript(
  ctx: Ctx,
  mode: 'host' | 'job',
  vars: Record<string, string>,
  objectBytes: number,
  progress: ScriptProgress,
  onLine: (line: string) => void,
): Promise<ScriptRun> {
  const started = Date.now();
  const tick = () => {
    if (progress.show?.() !== false)
      ctx.progress({ message: `${progress.phase} · ${formatDuration(Date.now() - started)} elapsed` });
  };
  tick();
  const timer = setInterval(tick, 1000);
  try {
    return mode === 'job'
      ? await runAsJob(ctx, vars, objectBytes, onLine, (status) => (progress.phase = status))
      : await runOnHost(ctx, vars, onLine);
  } finally {
    clearInterval(timer);
  }
}

/** The failed check of a run left in the cluster with Esc: what is unknown here, and what to do next. */
export function detachedCheck(id: string, run: ScriptRun, unknown: string, next: string): Check {
  return {
    id,
    label: run.where,
    status: 'fail',
    detail: `detached (Esc) before it finished: ${unknown}`,
    next: `Follow it: ${run.follow}; ${next}`,
  };
}
