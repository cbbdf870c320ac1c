/**
 * Backups under an S3 prefix, as the restore sections show them: each backup object with its
 * `.sha256` sidecar, its recovery point (when its dump started) and how old it is, newest first;
 * and the data-loss window a restore of it implies (incident time − recovery point). Pure.
 */

export type BackupKind = 'postgres' | 'neo4j';

/** An object as a listing returns it. */
export interface ListedObject {
  key: string;
  size: number;
  lastModified?: Date | string;
}

export type RecoveryPointSource = 'metadata' | 'key' | 'last-modified';

export interface Backup {
  key: string;
  size: number;
  /** UTC ISO time the upload finished, when the listing says. */
  lastModified?: string;
  /** `<key>.sha256` when it exists. */
  sidecarKey?: string;
  /** UTC ISO time the dump started, when known. */
  recoveryPoint?: string;
  /**
   * Where the recovery point came from. `last-modified` is only an upper bound (the upload ended
   * after the dump started): the real data-loss window is at least as long as the one shown.
   */
  recoveryPointSource?: RecoveryPointSource;
  /** A safety backup the restore section took before a restore (`<prefix>pre-restore/`). */
  preRestore: boolean;
}

export const SIDECAR_SUFFIX = '.sha256';
export const PRE_RESTORE_DIR = 'pre-restore/';

const EXTENSIONS: Record<BackupKind, readonly string[]> = {
  postgres: ['.sql.gz'],
  neo4j: ['.backup.tar.gz', '.dump', '.tar.gz'],
};

/**
 * Beside each PostgreSQL dump `<time>.sql.gz`, postgres-backup.sh publishes `<time>.globals.sql.gz` (+ .sha256):
 * the roles, the database's own owner/privileges/settings and the catalog facts the validation compares.
 */
export const GLOBALS_SUFFIX = '.globals.sql.gz';

export function isGlobalsKey(key: string): boolean {
  return key.endsWith(GLOBALS_SUFFIX);
}

/** The globals object's key of a dump's key (`…/<time>.sql.gz` → `…/<time>.globals.sql.gz`). */
export function globalsKeyOf(key: string): string {
  return `${key.replace(/\.sql\.gz$/, '')}${GLOBALS_SUFFIX}`;
}

export function isBackupKey(key: string, kind: BackupKind): boolean {
  if (key.endsWith('/') || isGlobalsKey(key)) return false;
  const name = key.slice(key.lastIndexOf('/') + 1);
  return EXTENSIONS[kind].some((extension) => name.length > extension.length && name.endsWith(extension));
}

function iso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}

const STAMP =
  /(\d{4})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})[:-]?(\d{2})[:-]?(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?/;

/**
 * A UTC time in the forms backup scripts and neo4j-admin write: `2026-01-02T03:04:05Z`,
 * `2026-01-02T03-04-05Z`, `20260102T030405Z`, `20260102-030405`, `2026-01-02_03-04-05`. Without a
 * zone it is UTC (the jobs run in Etc/UTC). Returns ISO, or undefined when none is found or valid.
 */
export function parseTimestamp(text: string): string | undefined {
  const match = STAMP.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = parts;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59)
    return undefined;
  const ms = fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0;
  let time = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCDate() !== day) return undefined; // 2026-02-30
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60_000;
    time -= sign * offset;
  }
  return new Date(time).toISOString();
}

/** Metadata names a backup script may use for the recovery point (S3 lower-cases them). */
const RECOVERY_POINT_METADATA = [
  'recovery-point',
  'recovery_point',
  'recoverypoint',
  'recovery-point-utc',
  'dump-started',
  'dump-started-at',
  'started-at',
];

/** The recovery point recorded in an object's metadata, when there is one. */
export function recoveryPointFromMetadata(metadata: Readonly<Record<string, string>>): string | undefined {
  const lower = new Map(Object.entries(metadata).map(([name, value]) => [name.toLowerCase(), value]));
  for (const name of RECOVERY_POINT_METADATA) {
    const value = lower.get(name) ?? lower.get(`x-amz-meta-${name}`);
    if (value === undefined) continue;
    if (/^\d{9,11}$/.test(value.trim())) return new Date(Number(value.trim()) * 1000).toISOString();
    const parsed = parseTimestamp(value) ?? iso(value);
    if (parsed) return parsed;
  }
  return undefined;
}

/** The recovery point encoded in a key's file name (the scripts name objects by the dump's start time). */
export function recoveryPointFromKey(key: string): string | undefined {
  return parseTimestamp(key.slice(key.lastIndexOf('/') + 1));
}

function sortTime(backup: Backup): number {
  const at = backup.recoveryPoint ?? backup.lastModified;
  return at ? Date.parse(at) : Number.NEGATIVE_INFINITY;
}

/** Newest first: by recovery point (else upload time), then by key. */
export function compareNewestFirst(a: Backup, b: Backup): number {
  const ta = sortTime(a);
  const tb = sortTime(b);
  if (ta !== tb) return tb > ta ? 1 : -1;
  return a.key < b.key ? 1 : a.key > b.key ? -1 : 0;
}

/**
 * Groups a listing into backups with their sidecars, newest first. Objects that are not backups
 * of `kind` (sidecars, temporary uploads, other files) are left out.
 */
export function buildCatalog(
  objects: readonly ListedObject[],
  options: { kind: BackupKind; prefix: string },
): Backup[] {
  const keys = new Set(objects.map((object) => object.key));
  const backups: Backup[] = [];
  for (const object of objects) {
    if (!object.key.startsWith(options.prefix) || !isBackupKey(object.key, options.kind)) continue;
    const lastModified = iso(object.lastModified);
    const fromKey = recoveryPointFromKey(object.key);
    const sidecarKey = `${object.key}${SIDECAR_SUFFIX}`;
    backups.push({
      key: object.key,
      size: object.size,
      lastModified,
      sidecarKey: keys.has(sidecarKey) ? sidecarKey : undefined,
      recoveryPoint: fromKey ?? lastModified,
      recoveryPointSource: fromKey ? 'key' : lastModified ? 'last-modified' : undefined,
      preRestore: object.key.slice(options.prefix.length).startsWith(PRE_RESTORE_DIR),
    });
  }
  return backups.sort(compareNewestFirst);
}

/** What a backup's object metadata says, merged in: metadata beats the key name. */
export function withMetadata(backup: Backup, metadata: Readonly<Record<string, string>>): Backup {
  const fromMetadata = recoveryPointFromMetadata(metadata);
  return fromMetadata ? { ...backup, recoveryPoint: fromMetadata, recoveryPointSource: 'metadata' } : backup;
}

/**
 * The backup a non-interactive restore takes when none is named: the newest regular backup (a
 * pre-restore safety backup is only restored when named).
 */
export function defaultBackup(backups: readonly Backup[]): Backup | undefined {
  return backups.find((backup) => !backup.preRestore);
}

// ---------------------------------------------------------------- sidecar

export type SidecarParse = { ok: true; sha256: string } | { ok: false; problem: string };

/** A `.sha256` sidecar: `<64 hex>` or `sha256sum` output (`<64 hex>  <name>`). */
export function parseSidecar(text: string): SidecarParse {
  const line = text
    .split('\n')
    .map((part) => part.trim())
    .find((part) => part !== '');
  if (!line) return { ok: false, problem: 'the sidecar is empty' };
  const match = /^([0-9a-fA-F]{64})(?:\s+\*?\S.*)?$/.exec(line);
  if (!match?.[1])
    return {
      ok: false,
      problem: `the sidecar does not start with a 64-digit SHA-256 ("${line.slice(0, 40)}")`,
    };
  return { ok: true, sha256: match[1].toLowerCase() };
}

// ---------------------------------------------------------------- windows and formatting

export interface DataLossWindow {
  ms: number;
  text: string;
  /** The backup's recovery point is after the incident: it may already contain the damage. */
  afterIncident: boolean;
  /** The recovery point is only an upper bound (upload time): the real window is at least this long. */
  atLeast: boolean;
}

/** incident − recovery point. Undefined when either time is unknown. */
export function dataLossWindow(
  incidentAt: string | undefined,
  backup: Pick<Backup, 'recoveryPoint' | 'recoveryPointSource'>,
): DataLossWindow | undefined {
  if (!incidentAt || !backup.recoveryPoint) return undefined;
  const incident = Date.parse(incidentAt);
  const point = Date.parse(backup.recoveryPoint);
  if (!Number.isFinite(incident) || !Number.isFinite(point)) return undefined;
  const ms = incident - point;
  const atLeast = backup.recoveryPointSource === 'last-modified';
  const text =
    ms < 0
      ? `none: the backup started ${formatDuration(-ms)} AFTER the incident (it may contain the damage)`
      : `${atLeast ? 'at least ' : ''}${formatDuration(ms)} of writes before the incident are lost`;
  return { ms, text, afterIncident: ms < 0, atLeast };
}

/** `1d 3h`, `2h 5m`, `4m 10s`, `12s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return s > 0 ? `${m}m ${s}s` : `${m}m`;
  return `${s}s`;
}

/** `512 B`, `12.3 KiB`, `1.50 GiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '?';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** How old the backup's data is at `now` (from its recovery point, else its upload time). */
export function backupAge(backup: Backup, now: Date): string | undefined {
  const at = backup.recoveryPoint ?? backup.lastModified;
  if (!at) return undefined;
  const ms = now.getTime() - Date.parse(at);
  return ms < 0 ? `in ${formatDuration(-ms)} (clock skew?)` : `${formatDuration(ms)} ago`;
}

/** One line for the choice list: size · age · recovery point · sha256 · data loss. */
export function describeBackup(backup: Backup, now: Date, incidentAt?: string): string {
  const parts = [formatBytes(backup.size)];
  const age = backupAge(backup, now);
  if (age) parts.push(age);
  parts.push(
    backup.recoveryPoint
      ? `recovery point ${backup.recoveryPoint.replace('.000Z', 'Z')}${backup.recoveryPointSource === 'last-modified' ? ' (upload time)' : ''}`
      : 'recovery point unknown',
  );
  parts.push(backup.sidecarKey ? 'sha256 ✓' : 'NO sha256 sidecar');
  const window = dataLossWindow(incidentAt, backup);
  if (window) parts.push(window.afterIncident ? 'AFTER the incident' : `loss ${formatDuration(window.ms)}`);
  if (backup.preRestore) parts.push('pre-restore safety backup');
  return parts.join(' · ');
}
