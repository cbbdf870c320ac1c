/**
 * Running the restore scripts of ops/db/backup-jobs/scripts: their environment (secrets only there), the
 * pinned object (sha256, ETag), the outcome read back from the server, and their output.
 */
import {
  describeOutcome,
  parseSwapNames,
  parseSwapState,
  type RestoreOutcome,
  type SwapNames,
  swapStateSql,
} from '../../runbook/restore-outcome.js';
import { PSQL_QUERY_FLAGS } from '../../runbook/pg-queries.js';
import type { Values } from '../../runbook/values.js';
import type { Ctx } from '../define.js';
import { lastLines, libpqEnv, MAINTENANCE_DATABASE, psqlTarget } from './psql.js';
import { backupJobsDir, displayPath } from '../../adapters/backup-jobs-files.js';
import type { ProcResult } from '../../adapters/types.js';
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { MARK } from '../../runbook/marks.js';
import { type ChildEnv, put } from './child-env.js';

/** S3 access values a step may use when they are set. */
export const STORAGE_OPTIONAL = [
  'AWS_ENDPOINT_URL',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_DEFAULT_REGION',
];

/** The named values that are set, under their own names, for a child's environment. */
export function namedValuesEnv(values: Values, names: readonly string[]): ChildEnv {
  const env: Record<string, string> = {};
  for (const name of names) put(env, name, values.get(name));
  return { env, secrets: values.secretValues() };
}

/** S3 access for the scripts and the aws CLI, as the runbook names it. */
export function storageEnv(values: Values): ChildEnv {
  return namedValuesEnv(values, [
    'S3_BUCKET',
    'AWS_DEFAULT_REGION',
    'AWS_ENDPOINT_URL',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
  ]);
}

/** POSTGRES_* for the scripts. */
export function postgresEnv(values: Values): ChildEnv {
  return namedValuesEnv(values, [
    'POSTGRES_HOST',
    'POSTGRES_PORT',
    'POSTGRES_DATABASE',
    'POSTGRES_USER',
    'POSTGRES_PASSWORD',
    'POSTGRES_S3_PREFIX',
  ]);
}

/**
 * EXPECTED_SHA256 (and EXPECTED_ETAG, when the store gave one) for the restore script: it refuses any object
 * but the one whose hash the integrity gate showed (replaced since, or its sidecar with it).
 */
export function pinnedObjectEnv(integrity: {
  sha256: string;
  etag?: string;
  globals?: { sha256?: string };
}): Record<string, string> {
  return {
    EXPECTED_SHA256: integrity.sha256,
    ...(integrity.etag ? { EXPECTED_ETAG: integrity.etag } : {}),
    ...(integrity.globals?.sha256 ? { EXPECTED_GLOBALS_SHA256: integrity.globals.sha256 } : {}),
  };
}

/**
 * What a postgres-restore.sh run left on the server (the target IS the restored database, or is as it
 * was; which databases are left), asked from the server after the script ended however it ended. Runs
 * even after Ctrl+C (its own short deadline, not the step's aborted signal).
 */
export async function readRestoreOutcome(
  ctx: Ctx,
  target: string,
  log: string,
  /** The new database when the caller knows it (a swap of a database restored earlier), else read from the log. */
  known?: SwapNames,
): Promise<RestoreOutcome> {
  const names = known ?? parseSwapNames(log);
  if (!names) return describeOutcome(target, undefined, undefined);
  const { env, secrets } = libpqEnv(ctx.values, MAINTENANCE_DATABASE);
  const result = await ctx.adapters.proc.run(
    'psql',
    [...PSQL_QUERY_FLAGS, ...psqlTarget(ctx.values, MAINTENANCE_DATABASE), '-c', swapStateSql(target, names)],
    { env, secrets, timeoutMs: 20000 },
  );
  let state;
  if (result.exitCode === 0) {
    try {
      state = parseSwapState(result.stdout);
    } catch {
      state = undefined;
    }
  }
  const outcome = describeOutcome(target, names, state);
  if (!state)
    ctx.log(`could not ask the server: ${lastLines(result.stderr, 2) || `psql exit ${result.exitCode}`}`);
  return outcome;
}

/** Where a backup-jobs script is (the shipped copy, or `backupJobsDir` from the values file) and how plans show it. */
export function scriptLocation(
  settings: Record<string, unknown>,
  name: string,
): { path: string; display: string } {
  const dir = backupJobsDir(settings);
  return { path: `${dir}/scripts/${name}`, display: displayPath(dir, `scripts/${name}`) };
}

/** How a restore script ran: its result, whether it said it had downloaded and verified the backup, and its seconds. */
export interface RestoreScriptRun {
  result: ProcResult;
  downloaded: boolean;
  seconds: number;
}

/**
 * Runs a backup-jobs restore script on this host, its stderr going to the log and the progress line
 * saying every second which phase it is in: downloading `size` bytes, then `restoringPhase` once the
 * script says "downloaded and verified". Journals restoreStarted and, at that line, downloadDone.
 */
export async function runRestoreScript(
  ctx: Ctx,
  script: {
    path: string;
    env: Record<string, string>;
    secrets: readonly string[];
    size: number;
    restoringPhase: string;
    startedMark: Record<string, unknown>;
    downloadedMark: Record<string, unknown>;
  },
): Promise<RestoreScriptRun> {
  const started = Date.now();
  let phase = `downloading ${formatBytes(script.size)} and verifying it again`;
  let downloaded = false;
  const tick = () => ctx.progress({ message: `${phase} · ${formatDuration(Date.now() - started)} elapsed` });
  ctx.mark(MARK.restoreStarted, script.startedMark);
  tick();
  const timer = setInterval(tick, 1000);
  let result;
  try {
    result = await ctx.adapters.proc.run('bash', [script.path], {
      env: script.env,
      secrets: script.secrets,
      signal: undetachable(ctx),
      processGroup: true,
      onLine: (line, stream) => {
        if (stream !== 'stderr') return;
        ctx.log(line);
        if (!downloaded && /downloaded and verified/.test(line)) {
          downloaded = true;
          ctx.mark(MARK.downloadDone, script.downloadedMark);
          phase = script.restoringPhase;
          tick();
        }
      },
    });
  } finally {
    clearInterval(timer);
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  return { result, downloaded, seconds };
}

/** A signal that follows the step's, except "detach" (Esc): a process on this host cannot be left running unwatched. */
export function undetachable(ctx: Pick<Ctx, 'signal' | 'log'>): AbortSignal {
  const controller = new AbortController();
  const follow = () => {
    if (ctx.signal.reason === 'detach') {
      ctx.log(
        'Esc: this runs on this host and cannot be detached; q or Ctrl+C interrupts it (the target stays whole).',
      );
      return;
    }
    controller.abort(ctx.signal.reason);
  };
  if (ctx.signal.aborted) follow();
  else ctx.signal.addEventListener('abort', follow, { once: true });
  return controller.signal;
}

/** `key=value` lines a script prints on stdout at the end. */
export function scriptOutput(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([a-z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) out[match[1]] = match[2] ?? '';
  }
  return out;
}
