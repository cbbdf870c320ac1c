/**
 * Backup freshness per S3 prefix, as the troubleshoot section reports it: how old the newest
 * backup's data is (its recovery point: the object metadata or the time in its key, as the backup
 * scripts write them — never the upload time alone when something better is known), against the
 * CronJob's schedule (stale after the longest gap between runs + 2 h: 26 h for a daily job), with the
 * number of backups and their total size. Pure: the listing, metadata and clock are passed in.
 */
import {
  buildCatalog,
  formatBytes,
  formatDuration,
  withMetadata,
  type Backup,
  type BackupKind,
  type ListedObject,
} from './backup-catalog.js';
import { describeCron, nextRuns } from './cron.js';

/** Slack on top of the schedule's interval before a backup counts as stale (a slow run, a retry). */
export const FRESHNESS_GRACE_MS = 2 * 3_600_000;
const DAY_MS = 24 * 3_600_000;

/** A recovery point this far ahead of the clock is suspicious (clock skew, a hand-named key). */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

export interface FreshnessOptions {
  kind: BackupKind;
  prefix: string;
  now: Date;
  /** The CronJob's schedule (5-field cron); a daily job is assumed without it. */
  schedule?: string;
  timeZone?: string;
  /** Object metadata by key (from HEAD), for the recovery point the scripts record there. */
  metadata?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  graceMs?: number;
}

export type FreshnessStatus = 'fresh' | 'stale' | 'empty' | 'future';

export interface Freshness {
  prefix: string;
  status: FreshnessStatus;
  /** Regular backups (pre-restore safety copies not counted). */
  count: number;
  totalBytes: number;
  preRestoreCount: number;
  newest?: Backup;
  /** now − the newest backup's recovery point. */
  ageMs?: number;
  /** The longest gap between two scheduled runs. */
  intervalMs: number;
  staleAfterMs: number;
  scheduleText: string;
  /** One line for the screen. */
  summary: string;
}

/** The longest gap between consecutive runs of a schedule over the next `runs` runs (a daily job: 24 h). */
export function scheduleInterval(
  schedule: string,
  from: Date,
  timeZone = 'Etc/UTC',
  runs = 16,
): number | undefined {
  const times = nextRuns(schedule, from, timeZone, runs);
  if (times.length < 2) return undefined;
  let longest = 0;
  for (let i = 1; i < times.length; i++)
    longest = Math.max(longest, (times[i] as Date).getTime() - (times[i - 1] as Date).getTime());
  return longest;
}

function sourceText(backup: Backup): string {
  switch (backup.recoveryPointSource) {
    case 'metadata':
      return 'recovery point from the object metadata';
    case 'key':
      return 'recovery point from the key';
    case 'last-modified':
      return 'upload time: no recovery point recorded';
    default:
      return 'time unknown';
  }
}

/** The newest regular backup under the prefix and whether it is recent enough for its schedule. */
export function assessFreshness(objects: readonly ListedObject[], options: FreshnessOptions): Freshness {
  const catalog = buildCatalog(objects, { kind: options.kind, prefix: options.prefix })
    .map((backup) => {
      const metadata = options.metadata?.[backup.key];
      return metadata ? withMetadata(backup, metadata) : backup;
    })
    // withMetadata may move a recovery point: sort again, newest first.
    .sort(
      (a, b) =>
        Date.parse(b.recoveryPoint ?? b.lastModified ?? '1970-01-01T00:00:00Z') -
        Date.parse(a.recoveryPoint ?? a.lastModified ?? '1970-01-01T00:00:00Z'),
    );
  const regular = catalog.filter((backup) => !backup.preRestore);
  const interval =
    (options.schedule ? scheduleInterval(options.schedule, options.now, options.timeZone) : undefined) ??
    DAY_MS;
  const staleAfterMs = interval + (options.graceMs ?? FRESHNESS_GRACE_MS);
  const scheduleText = options.schedule
    ? `${options.schedule} (${describeCron(options.schedule, options.timeZone)})`
    : 'no schedule known: assumed daily';
  const totalBytes = regular.reduce((sum, backup) => sum + backup.size, 0);
  const base = {
    prefix: options.prefix,
    count: regular.length,
    totalBytes,
    preRestoreCount: catalog.length - regular.length,
    intervalMs: interval,
    staleAfterMs,
    scheduleText,
  };
  const newest = regular[0];
  const at = newest?.recoveryPoint ?? newest?.lastModified;
  if (!newest || !at) {
    return {
      ...base,
      status: 'empty',
      summary: `no backups under ${options.prefix}${catalog.length > 0 ? ` (only ${catalog.length} pre-restore safety backup(s))` : ''}`,
    };
  }
  const ageMs = options.now.getTime() - Date.parse(at);
  const counted = `${regular.length} backup${regular.length === 1 ? '' : 's'}, ${formatBytes(totalBytes)}`;
  if (ageMs < -FUTURE_TOLERANCE_MS) {
    return {
      ...base,
      status: 'future',
      newest,
      ageMs,
      summary: `newest ${newest.key} claims ${at}, ${formatDuration(-ageMs)} in the future (${sourceText(newest)}): clock skew or a hand-named key; ${counted}`,
    };
  }
  const stale = ageMs > staleAfterMs;
  return {
    ...base,
    status: stale ? 'stale' : 'fresh',
    newest,
    ageMs,
    summary: `newest ${newest.key.slice(options.prefix.length)} is ${formatDuration(Math.max(0, ageMs))} old (${sourceText(newest)}${newest.sidecarKey ? '' : '; no .sha256 sidecar'})${stale ? ` — STALE: over ${formatDuration(staleAfterMs)}` : ''}; ${counted}`,
  };
}
