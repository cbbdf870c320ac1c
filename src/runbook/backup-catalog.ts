import { createHash } from 'node:crypto';

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
  /** `<key>.verified.json` when it exists: the restore-verify Job (or `db-runbook verify`) recorded a proof. */
  verifiedKey?: string;
  /** What that record says, once read (withVerification). */
  verification?: Verification;
}

/**
 * "Last proven restorable": postgres-verify.sh restored the backup into a scratch database, compared it with
 * what was recorded at backup time, and published `<key>.verified.json` (pass or fail).
 */
export interface Verification {
  state: 'proven' | 'failed' | 'unverified';
  /** When the verification finished (ISO). */
  at?: string;
  /** The check that failed (integrity, restore, row counts, owners and privileges, …). */
  failedCheck?: string;
  /** That check's detail, or psql's error. */
  detail?: string;
  /** Which Job/pod proved it. */
  by?: string;
  /** The end of the restore's log, on failure. */
  logTail?: string;
  /**
   * The record does not match its own `.verified.json.sha256` (or that sidecar is missing or unreadable): it was
   * altered, truncated or half-published, so nothing it says is believed (state is `unverified`).
   */
  tampered?: true;
}

export const VERIFIED_SUFFIX = '.verified.json';

/** The record's own checksum, published with it by postgres-verify.sh / neo4j-verify.sh (sha256sum's format). */
export const VERIFIED_SIDECAR_SUFFIX = `${VERIFIED_SUFFIX}.sha256`;

/**
 * Reads a `<key>.verified.json` record (format db-runbook-verification/1) WITHOUT checking it against its
 * `.sha256`: callers that read records from the bucket use checkedVerificationRecord (clients/verification-records.ts reads them).
 */
export function parseVerificationRecord(text: string): Verification {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return { state: 'unverified', detail: 'the verification record is not JSON' };
  }
  if (typeof record !== 'object' || record === null)
    return { state: 'unverified', detail: 'the verification record is not an object' };
  const r = record as {
    result?: unknown;
    finishedAt?: unknown;
    failedCheck?: unknown;
    checks?: unknown;
    error?: unknown;
    logTail?: unknown;
    by?: { job?: unknown; pod?: unknown };
  };
  const at = typeof r.finishedAt === 'string' ? iso(r.finishedAt) : undefined;
  const by = [r.by?.job, r.by?.pod].find((name) => typeof name === 'string' && name !== '') as
    string | undefined;
  if (r.result === 'pass') return { state: 'proven', at, by };
  // neo4j-verify.sh: the backup could not be verified here (an Enterprise backup with Community's neo4j-admin)
  if (r.result === 'unverified') {
    const reason = (record as { reason?: unknown }).reason;
    return {
      state: 'unverified',
      at,
      by,
      detail: typeof reason === 'string' && reason !== '' ? reason : 'the verification could not be done',
    };
  }
  if (r.result !== 'fail') return { state: 'unverified', detail: 'the verification record has no result' };
  const failedCheck = typeof r.failedCheck === 'string' ? r.failedCheck : undefined;
  const check = Array.isArray(r.checks)
    ? (r.checks as { name?: unknown; detail?: unknown }[]).find((c) => c.name === failedCheck)
    : undefined;
  const detail =
    typeof r.error === 'string' && r.error !== ''
      ? r.error
      : typeof check?.detail === 'string'
        ? check.detail
        : undefined;
  const logTail = typeof r.logTail === 'string' && r.logTail !== '' ? r.logTail : undefined;
  return { state: 'failed', at, failedCheck, detail, by, ...(logTail ? { logTail } : {}) };
}

const TAMPERED = 'verification record tampered or unreadable';

/**
 * A record read with its own `.sha256` sidecar: believed only when the sidecar is there, well-formed, and equals
 * the SHA-256 of the record's bytes (UTF-8). Otherwise the backup is NOT proven, whatever the record says:
 * `{ state: 'unverified', tampered: true, detail: 'verification record tampered or unreadable: …' }`.
 * `text`/`sidecar` undefined: that object could not be read.
 */
export function checkedVerificationRecord(
  text: string | undefined,
  sidecar: string | undefined,
): Verification {
  const tampered = (why: string): Verification => ({
    state: 'unverified',
    tampered: true,
    detail: `${TAMPERED}: ${why}`,
  });
  if (text === undefined) return tampered('the record cannot be read');
  if (sidecar === undefined) return tampered(`its ${VERIFIED_SIDECAR_SUFFIX} is missing`);
  const parsed = parseSidecar(sidecar);
  if (!parsed.ok) return tampered(`its ${VERIFIED_SIDECAR_SUFFIX} is not a checksum (${parsed.problem})`);
  const actual = createHash('sha256').update(text, 'utf8').digest('hex');
  if (actual !== parsed.sha256)
    return tampered(
      `its SHA-256 ${actual.slice(0, 12)}… does not match its ${VERIFIED_SIDECAR_SUFFIX} (${parsed.sha256.slice(0, 12)}…)`,
    );
  return parseVerificationRecord(text);
}

export function withVerification(backup: Backup, verification: Verification): Backup {
  return { ...backup, verification };
}

/** `proven restorable 3h ago` · `verification FAILED (row counts) 2h ago` · `never verified`. */
export function verificationText(verification: Verification | undefined, now: Date): string {
  const ago = verification?.at
    ? ` ${formatDuration(Math.max(0, now.getTime() - Date.parse(verification.at)))} ago`
    : '';
  if (verification?.state === 'proven') return `proven restorable${ago}`;
  if (verification?.state === 'failed')
    return `verification FAILED${verification.failedCheck ? ` (${verification.failedCheck})` : ''}${ago}`;
  return verification?.detail ? `not proven (${verification.detail})` : 'never verified';
}

/**
 * The backup a restore takes when none is named: the newest PROVEN regular backup when there is one (and the
 * newer ones are said to be unproven), else the newest regular backup. `reason` says why, when it is not the newest.
 */
export function preferredBackup(backups: readonly Backup[]): { backup?: Backup; reason?: string } {
  const newest = defaultBackup(backups);
  const proven = backups.find((backup) => !backup.preRestore && backup.verification?.state === 'proven');
  if (!newest || !proven || proven === newest) return { backup: newest };
  const skipped = backups.filter((backup) => !backup.preRestore && compareNewestFirst(backup, proven) < 0);
  const states = skipped.map(
    (backup) =>
      `${backup.key.slice(backup.key.lastIndexOf('/') + 1)} ${verificationText(backup.verification, new Date())}`,
  );
  return {
    backup: proven,
    reason: `the newest PROVEN restorable backup is preferred; ${skipped.length} newer one(s) not proven: ${states.join('; ')}`,
  };
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
    const verifiedKey = `${object.key}${VERIFIED_SUFFIX}`;
    backups.push({
      ...(keys.has(verifiedKey) ? { verifiedKey } : {}),
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
  if (backup.verification || backup.verifiedKey !== undefined)
    parts.push(verificationText(backup.verification, now));
  const window = dataLossWindow(incidentAt, backup);
  if (window) parts.push(window.afterIncident ? 'AFTER the incident' : `loss ${formatDuration(window.ms)}`);
  if (backup.preRestore) parts.push('pre-restore safety backup');
  return parts.join(' · ');
}
