/**
 * The synthetic-data test's common shape (runbook: "Synthetic Data Test Plan"), written once for
 * PostgreSQL and Neo4j: trigger a Job from the backup CronJob the way `kubectl create job
 * --from=cronjob/…` does, wait for it with its log streaming, find the object it wrote, and delete the
 * ad-hoc Job. The database-specific seed and verify steps live in test-postgres/ and test-neo4j/.
 *
 * This file: what a target is (database, CronJob, Job, prefix), its step ids and the Job helpers every step uses.
 */
import type { Adapters, KubeObject } from '../../adapters/types.js';
import { UsageError } from '../../runbook/errors.js';
import { formatElapsed, isoOf, summarizeJob } from '../../runbook/job-status.js';
import type { SectionId } from '../../runbook/sections.js';
import type { StepContext } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';

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

export type Ctx = StepContext<Adapters>;

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

export function jobRefOf(name: string, namespace: string) {
  return { apiVersion: 'batch/v1', kind: 'Job', name, namespace };
}

function ageOf(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'unknown age';
  return `${formatElapsed(now - Date.parse(iso))} ago`;
}

/** One line about a live Job: `succeeded 2 h 05 min ago`, `still running (1 active pod)`. */
export function describeLiveJob(job: KubeObject): string {
  const summary = summarizeJob(job);
  if (summary.phase === 'succeeded')
    return `succeeded, created ${ageOf(isoOf(job.metadata.creationTimestamp))}`;
  if (summary.phase === 'failed') return `failed, created ${ageOf(isoOf(job.metadata.creationTimestamp))}`;
  return `still running (${summary.active} active pod${summary.active === 1 ? '' : 's'}), created ${ageOf(isoOf(job.metadata.creationTimestamp))}`;
}

/**
 * What in the sandbox is not the real thing, for results and the screen. Neo4j is a real Neo4j 5 Community
 * server there (and its backup a real dump): only an Enterprise online backup would be a stand-in, and the
 * sandbox's server is Community, so nothing is said here.
 */
export function standInNote(_ctx: Pick<Ctx, 'target'>, _database: 'postgres' | 'neo4j'): string | undefined {
  return undefined;
}

/** `2026-01-24T02:00:00Z synthetic check 20260124T015930Z-ab12`: the runbook's note plus the session id. */
export function syntheticMarker(now: Date, sessionId: string): string {
  return `${utcStamp(now)} synthetic check ${sessionId}`;
}
