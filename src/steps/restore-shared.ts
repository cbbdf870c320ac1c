/**
 * What the PostgreSQL and Neo4j restore sections share: when the incident was declared, the choice
 * of backup (newest first, with the data-loss window), the integrity check that streams the object
 * once before anything touches a database, the typed override of a failed check (journaled as a
 * deviation), and the environment the scripts get (secrets only there, never in argv).
 */
import { createHash } from 'node:crypto';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { ProcResult, S3Adapter } from '../adapters/types.js';
import {
  buildCatalog,
  dataLossWindow,
  defaultBackup,
  describeBackup,
  formatBytes,
  formatDuration,
  globalsKeyOf,
  parseSidecar,
  parseTimestamp,
  parseVerificationRecord,
  preferredBackup,
  SIDECAR_SUFFIX,
  verificationText,
  withMetadata,
  withVerification,
  type Backup,
  type BackupKind,
} from '../runbook/backup-catalog.js';
import { MarkerSearch, scanTarGzStream, type Inflate, type ScanProgress } from '../runbook/dump-scan.js';
import { EXIT, GateRefusedError, RunbookError, UsageError } from '../runbook/errors.js';
import { MARK } from '../runbook/marks.js';
import {
  checkExpectation,
  DumpRowCounter,
  firstValue,
  PSQL_QUERY_FLAGS,
  readOnlyScript,
  validationQueryProblem,
  type ValidationQuery,
} from '../runbook/pg-queries.js';
import {
  describeOutcome,
  parseSwapNames,
  parseSwapState,
  swapStateSql,
  type RestoreOutcome,
} from '../runbook/restore-outcome.js';
import { parseGlobals, PrivilegeCollector, type DumpPrivileges } from '../runbook/privileges.js';
import { baseName, formatS3Uri, parseS3Uri } from '../runbook/s3-uri.js';
import type { SectionId } from '../runbook/sections.js';
import type { Check, Choice, Gate, StepContext } from '../runbook/step.js';
import type { Values } from '../runbook/values.js';
import { backupJobsDir, displayPath } from './configure.js';
import { defineStep, endpointFlag, type RunbookStep } from './define.js';
import type { Adapters } from '../adapters/types.js';

/** A mark for what did not go as the runbook says (an integrity override, a skipped safety backup). */
export const DEVIATION_MARK = MARK.deviation;

/** Sections built from these steps (dr-validation reuses choose/integrity/override under its own ids). */
export type RestoreSection = Extract<SectionId, 'restore-postgres' | 'restore-neo4j' | 'dr-validation'>;

export interface RestoreSpec {
  section: RestoreSection;
  kind: BackupKind;
  database: 'postgres' | 'neo4j';
  /** The value naming the S3 prefix. */
  prefixValue: 'POSTGRES_S3_PREFIX' | 'NEO4J_S3_PREFIX';
  noun: string;
}

export const POSTGRES_SPEC: RestoreSpec = {
  section: 'restore-postgres',
  kind: 'postgres',
  database: 'postgres',
  prefixValue: 'POSTGRES_S3_PREFIX',
  noun: 'PostgreSQL',
};

export const NEO4J_SPEC: RestoreSpec = {
  section: 'restore-neo4j',
  kind: 'neo4j',
  database: 'neo4j',
  prefixValue: 'NEO4J_S3_PREFIX',
  noun: 'Neo4j',
};

export const stepIds = (spec: RestoreSpec) => ({
  incident: `${spec.section}.incident`,
  choose: `${spec.section}.choose`,
  integrity: `${spec.section}.integrity`,
  override: `${spec.section}.integrity-override`,
});

type Ctx = StepContext<Adapters>;

/** The PostgreSQL connection values the restore and drill steps need. */
export const PG_INPUTS = [
  'POSTGRES_HOST',
  'POSTGRES_PORT',
  'POSTGRES_DATABASE',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
];
/** S3 access values a step may use when they are set. */
export const STORAGE_OPTIONAL = [
  'AWS_ENDPOINT_URL',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_DEFAULT_REGION',
];
/** The database psql connects to for cluster-wide questions (the restore script uses the same). */
export const MAINTENANCE_DATABASE = 'postgres';
type Earlier = (stepId: string) => Record<string, unknown> | undefined;

// ---------------------------------------------------------------- what earlier steps recorded

/** The backup the choose step picked (its result `data.chosen`). */
export interface ChosenBackup {
  uri: string;
  bucket: string;
  key: string;
  size: number;
  sidecarKey?: string;
  recoveryPoint?: string;
  recoveryPointSource?: string;
  lastModified?: string;
  preRestore?: boolean;
  /** "Last proven restorable" when it was chosen (PostgreSQL): what its <key>.verified.json said. */
  provenRestorable?: string;
}

/** The integrity step's result data. */
export interface IntegrityData {
  uri: string;
  verified: boolean;
  sha256: string;
  expectedSha256?: string;
  /** The ETag (and version) of the object that was hashed: the restore pins it, with sha256. */
  etag?: string;
  versionId?: string;
  size: number;
  bytes: number;
  problems: string[];
  /** Rows per table recorded in a PostgreSQL dump's COPY blocks (`schema.table` → rows). */
  rowCounts?: Record<string, number>;
  /** PostgreSQL: the roles the dump names and its owner/privilege statements. */
  privileges?: DumpPrivileges;
  /** PostgreSQL: the globals object beside the dump. */
  globals?: {
    uri: string;
    missing: boolean;
    verified: boolean;
    sha256?: string;
    /** Roles it can create. */
    roles: string[];
    /** Catalog facts it holds. */
    facts: number;
  };
  markerFound?: boolean;
  /** Neo4j: the archive's first entries. */
  entries?: string[];
  seconds: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function chosenBackup(earlier: Earlier, spec: RestoreSpec): ChosenBackup | undefined {
  const chosen = earlier(stepIds(spec).choose)?.chosen;
  if (!isRecord(chosen) || typeof chosen.uri !== 'string' || typeof chosen.key !== 'string') return undefined;
  return chosen as unknown as ChosenBackup;
}

export function integrityOf(earlier: Earlier, spec: RestoreSpec): IntegrityData | undefined {
  const data = earlier(stepIds(spec).integrity);
  if (!data || typeof data.uri !== 'string' || typeof data.verified !== 'boolean') return undefined;
  return data as unknown as IntegrityData;
}

export function incidentAt(earlier: Earlier, spec: RestoreSpec): string | undefined {
  const at = earlier(stepIds(spec).incident)?.at;
  return typeof at === 'string' ? at : undefined;
}

export interface Restorable {
  chosen: ChosenBackup;
  integrity: IntegrityData;
  /** The integrity check failed and the operator overrode it (typed phrase, journaled as a deviation). */
  unverified: boolean;
}

/**
 * What a step that touches the database needs first: a chosen backup whose integrity was verified
 * in this session, or whose failed check was overridden. Throws what to do otherwise.
 */
export function requireRestorable(earlier: Earlier, spec: RestoreSpec): Restorable {
  const ids = stepIds(spec);
  const chosen = chosenBackup(earlier, spec);
  if (!chosen)
    throw new RunbookError('no backup has been chosen in this session', { next: `Run ${ids.choose} first.` });
  const integrity = integrityOf(earlier, spec);
  if (!integrity || integrity.uri !== chosen.uri)
    throw new RunbookError(`the integrity of ${chosen.uri} has not been checked in this session`, {
      next: `Run ${ids.integrity} first: nothing touches the database before it.`,
    });
  if (integrity.verified) return { chosen, integrity, unverified: false };
  const override = earlier(ids.override);
  if (override?.overridden === true && override.uri === chosen.uri)
    return { chosen, integrity, unverified: true };
  throw new RunbookError(
    `${chosen.uri} failed its integrity check (${integrity.problems.join('; ')}) and was not overridden`,
    {
      next: `Choose another backup (${ids.choose}), or override with the typed phrase in ${ids.override} (journaled as a deviation).`,
    },
  );
}

// ---------------------------------------------------------------- environment for scripts and clients

export interface ChildEnv {
  env: Record<string, string>;
  secrets: string[];
}

function put(env: Record<string, string>, name: string, value: string | undefined): void {
  if (value !== undefined && value !== '') env[name] = value;
}

/** The named values that are set, under their own names, for a child's environment. */
function namedValuesEnv(values: Values, names: readonly string[]): ChildEnv {
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

/** libpq's own variables for psql run from this host (PGPASSWORD: never on the command line). */
export function libpqEnv(values: Values, database?: string): ChildEnv {
  const env: Record<string, string> = { PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'db-runbook' };
  put(env, 'PGHOST', values.get('POSTGRES_HOST'));
  put(env, 'PGPORT', values.get('POSTGRES_PORT'));
  put(env, 'PGDATABASE', database ?? values.get('POSTGRES_DATABASE'));
  put(env, 'PGUSER', values.get('POSTGRES_USER'));
  put(env, 'PGPASSWORD', values.get('POSTGRES_PASSWORD'));
  return { env, secrets: values.secretValues() };
}

/** Connection arguments for psql (nothing secret: the password stays in PGPASSWORD), so the journal shows the target. */
export function psqlTarget(values: Values, database?: string): string[] {
  return [
    '-h',
    values.get('POSTGRES_HOST') ?? 'localhost',
    '-p',
    values.get('POSTGRES_PORT') ?? '5432',
    '-U',
    values.get('POSTGRES_USER') ?? 'postgres',
    '-d',
    database ?? values.get('POSTGRES_DATABASE') ?? 'postgres',
  ];
}

/** The last `count` lines of a process's output, for a failed check's detail. */
export function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/** Runs one of the operator's validation queries read-only through psql and says whether its answer meets `expect`. */
export async function runValidationQuery(
  ctx: Ctx,
  query: ValidationQuery,
  database?: string,
): Promise<{ ok: boolean; detail: string }> {
  const problem = validationQueryProblem(query.sql);
  if (problem) return { ok: false, detail: `refused, not run: ${problem}` };
  const { env, secrets } = libpqEnv(ctx.values, database);
  const result = await ctx.adapters.proc.run(
    'psql',
    [...PSQL_QUERY_FLAGS, ...psqlTarget(ctx.values, database), '-f', '-'],
    {
      // every transaction of the session read-only as well, and no check runs for ever
      env: { ...env, PGOPTIONS: '-c default_transaction_read_only=on -c statement_timeout=110s' },
      secrets,
      input: readOnlyScript(query.sql),
      signal: ctx.signal,
      timeoutMs: 120_000,
    },
  );
  if (result.exitCode !== 0)
    return { ok: false, detail: lastLines(result.stderr, 2) || `psql exit ${result.exitCode}` };
  return checkExpectation(firstValue(result.stdout), query.expect);
}

/**
 * EXPECTED_SHA256 (and EXPECTED_ETAG, when the store gave one) for the restore script: it refuses any object
 * but the one whose hash the integrity gate showed (replaced since, or its sidecar with it).
 */
export function pinnedObjectEnv(
  integrity: Pick<IntegrityData, 'sha256' | 'etag' | 'globals'>,
): Record<string, string> {
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
export async function readRestoreOutcome(ctx: Ctx, target: string, log: string): Promise<RestoreOutcome> {
  const names = parseSwapNames(log);
  if (!names) return describeOutcome(target, undefined, undefined);
  const { env, secrets } = libpqEnv(ctx.values, MAINTENANCE_DATABASE);
  const result = await ctx.adapters.proc.run(
    'psql',
    [...PSQL_QUERY_FLAGS, ...psqlTarget(ctx.values, MAINTENANCE_DATABASE), '-c', swapStateSql(target, names)],
    { env, secrets, timeoutMs: 20_000 },
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

// ---------------------------------------------------------------- operator choices

/** Appended to the fallback handed to the TUI list; see {@link operatorChoice}. */
const FALLBACK_TAG = '\u2063fallback';

/**
 * ctx.choose, with the fallback (what a non-interactive run gets) tagged so it never equals an
 * option's value: the TUI list (@inkjs/ui Select) only reports a pick that differs from its
 * defaultValue, so Enter on the default option would otherwise do nothing. The list starts on
 * the first option, which the restore steps make the recommended one.
 */
export async function operatorChoice(
  ctx: Pick<Ctx, 'choose'>,
  prompt: string,
  choices: readonly Choice[],
  fallback: string | undefined,
): Promise<string | undefined> {
  const answer = await ctx.choose(
    prompt,
    choices,
    fallback === undefined ? undefined : `${fallback}${FALLBACK_TAG}`,
  );
  return answer?.endsWith(FALLBACK_TAG) ? answer.slice(0, -FALLBACK_TAG.length) : answer;
}

// ---------------------------------------------------------------- progress

/** Progress with throughput and ETA, at most every 250 ms (the last call is always shown). */
export function byteProgress(
  ctx: Pick<Ctx, 'progress'>,
  verb: string,
  total: number | undefined,
): (done: number, final?: boolean) => { mbPerSec: number; seconds: number } {
  const started = Date.now();
  let last = 0;
  return (done, final = false) => {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - started) / 1000);
    const mbPerSec = done / 1e6 / seconds;
    if (final || now - last >= 250) {
      last = now;
      const remaining = total && mbPerSec > 0 ? (total - done) / 1e6 / mbPerSec : undefined;
      ctx.progress({
        message: [
          `${verb} ${formatBytes(done)}${total ? ` of ${formatBytes(total)}` : ''}`,
          `${mbPerSec.toFixed(1)} MB/s`,
          final
            ? `${formatDuration(seconds * 1000)}`
            : remaining !== undefined
              ? `ETA ${formatDuration(remaining * 1000)}`
              : '',
        ]
          .filter(Boolean)
          .join(' · '),
        done,
        ...(total ? { total } : {}),
        unit: 'bytes',
      });
    }
    return { mbPerSec, seconds };
  };
}

// ---------------------------------------------------------------- scanning a PostgreSQL dump

/** pg_dump's last line in a plain dump: a dump cut short does not have it. */
export const DUMP_COMPLETE = '-- PostgreSQL database dump complete';
export const MARKER_TEXT = 'backup_validation';

export interface PgDumpScan {
  sha256: string;
  compressedBytes: number;
  bytes: number;
  gzipOk: boolean;
  gzipError?: string;
  complete: boolean;
  markerFound: boolean;
  rowCounts: Record<string, number>;
  /** The roles the dump names (owners, grantees) and its owner/privilege statements. */
  privileges: DumpPrivileges;
}

/**
 * One pass over a `.sql.gz` object: SHA-256 of the compressed bytes, gunzip to the end, the rows per
 * table its COPY blocks hold, the marker table and pg_dump's completion line. A gzip error stops
 * the inflating side only: the object is still read to its end, so the hash covers all of it.
 * (The same shape as scanGzipStream in dump-scan.ts, which has no hook for the inflated bytes.)
 */
export async function scanPgDump(
  source: Readable,
  options: { signal?: AbortSignal; inflate?: Inflate; onProgress?(progress: ScanProgress): void } = {},
): Promise<PgDumpScan> {
  const hash = createHash('sha256');
  const search = new MarkerSearch([MARKER_TEXT, DUMP_COMPLETE]);
  const privileges = new PrivilegeCollector();
  const counter = new DumpRowCounter((line) => privileges.line(line));
  let compressedBytes = 0;
  let bytes = 0;
  let gzipError: Error | undefined;
  // igzip child when the adapters give one (faster, another core), else zlib
  const gunzip = options.inflate?.() ?? createGunzip({ chunkSize: 128 * 1024 });
  gunzip.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    search.push(chunk);
    counter.push(chunk);
  });
  const inflated = new Promise<void>((resolve) => {
    gunzip.once('end', resolve);
    gunzip.once('close', resolve);
    gunzip.once('error', (error) => {
      gzipError = error;
      resolve();
    });
  });
  const tap = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      compressedBytes += chunk.length;
      options.onProgress?.({ compressedBytes, bytes });
      if (gzipError || gunzip.destroyed) return callback();
      if (gunzip.write(chunk)) return callback();
      const resume = () => {
        gunzip.off('drain', resume);
        gunzip.off('close', resume);
        callback();
      };
      gunzip.on('drain', resume);
      gunzip.on('close', resume);
    },
    final(callback) {
      if (!gunzip.destroyed && !gunzip.writableEnded) gunzip.end();
      void inflated.then(() => callback());
    },
  });
  try {
    await pipeline(source, tap, { signal: options.signal });
  } catch (error) {
    gunzip.destroy();
    throw error;
  }
  await inflated;
  // the inflater itself failed (igzip killed, not started): no verdict on the data
  if ((gzipError as { integrity?: unknown } | undefined)?.integrity === false) throw gzipError;
  return {
    sha256: hash.digest('hex'),
    compressedBytes,
    bytes,
    gzipOk: gzipError === undefined,
    ...(gzipError ? { gzipError: gzipError.message } : {}),
    complete: search.found[DUMP_COMPLETE] === true,
    markerFound: search.found[MARKER_TEXT] === true,
    rowCounts: Object.fromEntries(counter.result()),
    privileges: privileges.result(),
  };
}

// ---------------------------------------------------------------- step: incident

const INCIDENT_AGO_MINUTES = [5, 15, 30, 60, 120, 240, 480];

function parseIncidentTime(text: string, now: Date): string {
  const iso = /[zZ]|[+-]\d{2}:?\d{2}$/.test(text.trim())
    ? Number.isFinite(Date.parse(text))
      ? new Date(Date.parse(text)).toISOString()
      : parseTimestamp(text)
    : parseTimestamp(text);
  if (!iso)
    throw new UsageError(
      `--incident-time "${text}" is not a time`,
      'Give it as UTC ISO 8601, e.g. 2026-01-02T03:04:05Z.',
    );
  if (Date.parse(iso) > now.getTime() + 5 * 60_000)
    throw new UsageError(
      `--incident-time ${iso} is in the future`,
      'Give the time the incident was declared (UTC).',
    );
  return iso;
}

export function incidentStep(spec: RestoreSpec): RunbookStep {
  const ids = stepIds(spec);
  return defineStep({
    id: ids.incident,
    section: spec.section,
    title: 'Incident declared',
    description:
      'When the incident was declared (now unless --incident-time says otherwise): the report measures RTO from it, and the data-loss window is counted up to it.',
    inputs: [],
    database: spec.database,
    plan: (_values, options) => ({
      actions: [
        {
          summary:
            typeof options['incident-time'] === 'string'
              ? `record the incident as declared at ${options['incident-time']} (--incident-time)`
              : 'record the incident as declared now (or pick a time: --incident-time ISO)',
        },
      ],
    }),
    async run(ctx) {
      const now = new Date();
      const nowIso = now.toISOString();
      const given = ctx.options['incident-time'];
      const explicit = typeof given === 'string' && given !== '' ? parseIncidentTime(given, now) : undefined;
      const other = spec.section === 'restore-neo4j' ? incidentAt(ctx.earlier, POSTGRES_SPEC) : undefined;
      const fallback = explicit ?? other ?? nowIso;
      const choices: Choice[] = [
        ...(explicit ? [{ label: '--incident-time', value: explicit, hint: explicit }] : []),
        ...(other && !explicit
          ? [{ label: 'as declared for PostgreSQL in this session', value: other, hint: other }]
          : []),
        { label: `now (${nowIso.slice(11, 16)} UTC)`, value: nowIso },
        ...INCIDENT_AGO_MINUTES.map((minutes) => {
          const at = new Date(now.getTime() - minutes * 60_000).toISOString();
          return {
            label: `${formatDuration(minutes * 60_000)} ago`,
            value: at,
            hint: `${at.slice(11, 16)} UTC`,
          };
        }),
      ];
      const at =
        (await operatorChoice(ctx, 'When was the incident declared?', choices, fallback)) ?? fallback;
      const source =
        at === explicit ? 'option' : at === other ? 'restore-postgres' : at === nowIso ? 'now' : 'chosen';
      ctx.mark(MARK.incidentDeclared, { at });
      return { summary: `incident declared at ${at}`, data: { at, source } };
    },
  });
}

// ---------------------------------------------------------------- step: choose the backup

function chosenFrom(bucket: string, backup: Backup): ChosenBackup {
  return {
    uri: formatS3Uri(bucket, backup.key),
    bucket,
    key: backup.key,
    size: backup.size,
    ...(backup.sidecarKey ? { sidecarKey: backup.sidecarKey } : {}),
    ...(backup.recoveryPoint ? { recoveryPoint: backup.recoveryPoint } : {}),
    ...(backup.recoveryPointSource ? { recoveryPointSource: backup.recoveryPointSource } : {}),
    ...(backup.lastModified ? { lastModified: backup.lastModified } : {}),
    preRestore: backup.preRestore,
    ...(backup.verification ? { provenRestorable: verificationText(backup.verification, new Date()) } : {}),
  };
}

/** The object a pasted URI names, read with HEAD (and its sidecar), as a catalog entry. */
async function backupFromHead(s3: S3Adapter, key: string, prefix: string): Promise<Backup | undefined> {
  const head = await s3.head(key);
  if (!head) return undefined;
  const sidecar = await s3.head(`${key}${SIDECAR_SUFFIX}`);
  const [entry] = buildCatalog(
    [{ key, size: head.size, ...(head.lastModified ? { lastModified: head.lastModified } : {}) }],
    { kind: key.endsWith('.sql.gz') ? 'postgres' : 'neo4j', prefix: '' },
  );
  const backup: Backup = entry ?? {
    key,
    size: head.size,
    preRestore: false,
    ...(head.lastModified ? { lastModified: head.lastModified.toISOString() } : {}),
  };
  return withMetadata(
    {
      ...backup,
      ...(sidecar ? { sidecarKey: `${key}${SIDECAR_SUFFIX}` } : {}),
      preRestore: key.startsWith(`${prefix}pre-restore/`),
    },
    head.metadata,
  );
}

export function chooseBackupStep(spec: RestoreSpec): RunbookStep {
  const ids = stepIds(spec);
  return defineStep({
    id: ids.choose,
    section: spec.section,
    title: 'Choose the backup',
    description: `${spec.noun} backups under the prefix, newest first (key, size, age, recovery point, sha256 sidecar), or the s3:// URI given with --restore-uri / RESTORE_S3_URI; shows the data-loss window (incident − recovery point).`,
    inputs: ['S3_BUCKET', spec.prefixValue],
    optionalInputs: ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_DEFAULT_REGION'],
    database: spec.database,
    plan: (values, options) => {
      const bucket = values.get('S3_BUCKET') ?? '<bucket>';
      const prefix = values.get(spec.prefixValue) ?? '';
      const uri = options['restore-uri'];
      return {
        actions: [
          {
            summary: `list the backups under s3://${bucket}/${prefix}, newest first`,
            command: `aws s3 ls s3://${bucket}/${prefix}${endpointFlag(values.get('AWS_ENDPOINT_URL'))}`,
          },
          {
            summary:
              typeof uri === 'string'
                ? `restore ${uri} (--restore-uri / RESTORE_S3_URI)`
                : 'pick one (non-interactive: the newest regular backup)',
            command: `export RESTORE_S3_URI=${typeof uri === 'string' ? uri : `s3://${bucket}/${prefix}<timestamp>${spec.kind === 'postgres' ? '.sql.gz' : '.backup.tar.gz'}`}`,
          },
        ],
      };
    },
    async run(ctx) {
      const values = ctx.values;
      const bucket = values.require('S3_BUCKET');
      const prefix = values.get(spec.prefixValue) ?? '';
      const incident = incidentAt(ctx.earlier, spec) ?? incidentAt(ctx.earlier, POSTGRES_SPEC);
      const given = ctx.options['restore-uri'];
      let namedKey: string | undefined;
      if (typeof given === 'string' && given !== '') {
        const parsed = parseS3Uri(given);
        if (!parsed.ok)
          throw new UsageError(
            `the restore URI ${parsed.problem}`,
            'Give s3://bucket/key (--restore-uri or RESTORE_S3_URI).',
          );
        if (parsed.bucket !== bucket)
          throw new UsageError(
            `the restore URI names bucket ${parsed.bucket}, but this session uses S3_BUCKET=${bucket}`,
            `Set S3_BUCKET=${parsed.bucket} (and its credentials) to restore from it.`,
          );
        namedKey = parsed.key;
      }
      const s3 = await ctx.adapters.s3();
      const listed = await s3.list(prefix);
      const catalog = buildCatalog(listed, { kind: spec.kind, prefix });
      ctx.log(`${catalog.length} ${spec.noun} backup(s) under s3://${bucket}/${prefix}`);
      if (spec.kind === 'postgres') await readVerifications(s3, catalog);
      let preferredReason: string | undefined;
      if (namedKey) {
        // The named backup goes first: the list starts there, and it is the non-interactive pick.
        const index = catalog.findIndex((backup) => backup.key === namedKey);
        const named = index >= 0 ? catalog.splice(index, 1)[0] : await backupFromHead(s3, namedKey, prefix);
        if (!named)
          throw new RunbookError(`${formatS3Uri(bucket, namedKey)} does not exist`, {
            next: `Check the URI; aws s3 ls s3://${bucket}/${prefix} lists what there is.`,
          });
        catalog.unshift(named);
      } else {
        // Newest PROVEN regular backup first, else the newest regular one (a pre-restore safety backup is
        // restored only when picked); when that is not the newest, say why.
        const preferred = preferredBackup(catalog);
        preferredReason = preferred.reason;
        if (preferredReason) ctx.log(preferredReason);
        const index = preferred.backup ? catalog.indexOf(preferred.backup) : -1;
        if (index > 0) catalog.unshift(...catalog.splice(index, 1));
      }
      if (catalog.length === 0)
        throw new RunbookError(`no ${spec.noun} backups under s3://${bucket}/${prefix}`, {
          next: `Check ${spec.prefixValue}, or take a backup first (the ${spec.kind === 'postgres' ? 'test-postgres' : 'test-neo4j'} section triggers one).`,
        });
      const now = new Date();
      const shown = catalog.slice(0, 100);
      const choices: Choice[] = shown.map((backup) => ({
        label: backup.key.startsWith(prefix) ? backup.key.slice(prefix.length) : backup.key,
        value: backup.key,
        hint: describeBackup(backup, now, incident),
      }));
      const fallback =
        namedKey ??
        (preferredReason ? catalog[0]?.key : undefined) ??
        defaultBackup(catalog)?.key ??
        catalog[0]?.key;
      const picked = await operatorChoice(ctx, `Which ${spec.noun} backup to restore?`, choices, fallback);
      if (picked === undefined)
        throw new GateRefusedError('no backup was chosen', 'Choose a backup to continue.');
      let backup = catalog.find((candidate) => candidate.key === picked);
      if (!backup) throw new RunbookError(`${picked} is not one of the listed backups`);
      const head = await s3.head(backup.key);
      if (!head)
        throw new RunbookError(`${formatS3Uri(bucket, backup.key)} disappeared since it was listed`, {
          next: 'List again: a lifecycle rule or another operator may have deleted it.',
        });
      backup = withMetadata({ ...backup, size: head.size }, head.metadata);
      const chosen = chosenFrom(bucket, backup);
      const window = dataLossWindow(incident, backup);
      const checks: Check[] = [
        {
          id: 'sidecar',
          label: 'sha256 sidecar',
          status: backup.sidecarKey ? 'ok' : 'warn',
          detail: backup.sidecarKey
            ? `s3://${bucket}/${backup.sidecarKey}`
            : `no ${baseName(backup.key)}${SIDECAR_SUFFIX}`,
          ...(backup.sidecarKey
            ? {}
            : {
                next: 'The integrity check will refuse it unless overridden with a typed phrase (a deviation).',
              }),
        },
        {
          id: 'recovery-point',
          label: 'recovery point',
          status:
            backup.recoveryPointSource === 'metadata' || backup.recoveryPointSource === 'key' ? 'ok' : 'warn',
          detail: backup.recoveryPoint
            ? `${backup.recoveryPoint} (from the ${backup.recoveryPointSource === 'metadata' ? 'object metadata' : backup.recoveryPointSource === 'key' ? 'file name' : 'upload time: an upper bound'})`
            : 'unknown',
        },
        {
          id: 'data-loss',
          label: 'data-loss window',
          status: window && !window.afterIncident ? 'ok' : 'warn',
          detail: window ? window.text : 'unknown (no recovery point or incident time)',
          ...(window?.afterIncident
            ? { next: 'Choose a backup taken before the incident unless you know this one is clean.' }
            : {}),
        },
      ];
      if (spec.kind === 'postgres') {
        const verification = catalog.find((candidate) => candidate.key === backup?.key)?.verification;
        checks.push({
          id: 'proven-restorable',
          label: 'proven restorable',
          status: verification?.state === 'proven' ? 'ok' : 'warn',
          detail: `${verificationText(verification, now)}${verification?.state === 'failed' && verification.detail ? `: ${verification.detail}` : ''}${verification?.by ? ` (by ${verification.by})` : ''}${backup.key === catalog[0]?.key && preferredReason ? `; ${preferredReason}` : ''}`,
          ...(verification?.state === 'proven'
            ? {}
            : {
                next: `Prove it first if there is time: db-runbook verify ${formatS3Uri(bucket, backup.key)} (a scratch restore; the restore itself also checks integrity before touching anything).`,
              }),
        });
      }
      ctx.log(`chosen ${chosen.uri} (${formatBytes(chosen.size)})`);
      if (window) ctx.log(`data-loss window: ${window.text}`);
      return {
        summary: `${baseName(chosen.key)} · ${formatBytes(chosen.size)} · ${window ? window.text : 'data-loss window unknown'}`,
        checks,
        data: {
          chosen,
          ...(incident ? { incidentAt: incident } : {}),
          ...(window ? { dataLoss: { ms: window.ms, text: window.text } } : {}),
        },
      };
    },
  });
}

/**
 * Reads `<key>.verified.json` of the newest `limit` backups ("last proven restorable"); a backup without one is
 * marked never verified. A record that cannot be read counts as not proven.
 */
async function readVerifications(s3: S3Adapter, catalog: Backup[], limit = 20): Promise<void> {
  await Promise.all(
    catalog.slice(0, limit).map(async (backup, index) => {
      if (!backup.verifiedKey) {
        catalog[index] = withVerification(backup, { state: 'unverified' });
        return;
      }
      const text = await s3.getText(backup.verifiedKey, 1 << 20).catch(() => undefined);
      catalog[index] = withVerification(
        backup,
        text === undefined
          ? { state: 'unverified', detail: 'the verification record cannot be read' }
          : parseVerificationRecord(text),
      );
    }),
  );
}

// ---------------------------------------------------------------- step: integrity

async function readSidecar(
  s3: S3Adapter,
  chosen: ChosenBackup,
): Promise<{ sha256?: string; problem?: string }> {
  const key = chosen.sidecarKey ?? `${chosen.key}${SIDECAR_SUFFIX}`;
  const text = await s3.getText(key, 4096);
  if (text === undefined) return { problem: `the sidecar s3://${chosen.bucket}/${key} is missing` };
  const parsed = parseSidecar(text);
  return parsed.ok ? { sha256: parsed.sha256 } : { problem: `the sidecar ${key}: ${parsed.problem}` };
}

/** What the globals object beside a PostgreSQL dump held, verified against its own sidecar. */
export interface GlobalsObject {
  uri: string;
  key: string;
  /** Absent: the backup has none (written before globals existed, or by another tool). */
  missing: boolean;
  sha256?: string;
  verified: boolean;
  problem?: string;
  text?: string;
}

const MAX_GLOBALS_BYTES = 64 * 1024 * 1024;

/** Downloads and inflates `<time>.globals.sql.gz` (small), checking it against `<…>.sha256`. */
export async function fetchGlobals(
  s3: S3Adapter,
  bucket: string,
  dumpKey: string,
  signal?: AbortSignal,
): Promise<GlobalsObject> {
  const key = globalsKeyOf(dumpKey);
  const uri = formatS3Uri(bucket, key);
  const head = await s3.head(key);
  if (!head) return { uri, key, missing: true, verified: false };
  if (head.size > MAX_GLOBALS_BYTES)
    return {
      uri,
      key,
      missing: false,
      verified: false,
      problem: `${uri} is ${formatBytes(head.size)}: too large for a globals object`,
    };
  const { body } = await s3.getStream(key, signal);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const sidecar = await s3.getText(`${key}${SIDECAR_SUFFIX}`, 4096);
  const parsed = sidecar === undefined ? undefined : parseSidecar(sidecar);
  let problem: string | undefined;
  if (!parsed) problem = `the sidecar ${uri}${SIDECAR_SUFFIX} is missing`;
  else if (!parsed.ok) problem = `the sidecar ${key}${SIDECAR_SUFFIX}: ${parsed.problem}`;
  else if (parsed.sha256 !== sha256)
    problem = `SHA-256 mismatch for ${uri}: the sidecar says ${parsed.sha256}, the object is ${sha256}`;
  let text: string | undefined;
  try {
    text = gunzipSync(bytes, { maxOutputLength: MAX_GLOBALS_BYTES * 8 }).toString('utf8');
  } catch (error) {
    problem ??= `${uri} is not a valid gzip stream: ${(error as Error).message}`;
  }
  return {
    uri,
    key,
    missing: false,
    sha256,
    verified: problem === undefined,
    ...(problem ? { problem } : {}),
    ...(text !== undefined ? { text } : {}),
  };
}

export function integrityStep(spec: RestoreSpec): RunbookStep {
  const ids = stepIds(spec);
  return defineStep({
    id: ids.integrity,
    section: spec.section,
    title: 'Check the backup’s integrity',
    description:
      'Before anything touches the database: stream the object once, compare its SHA-256 with the .sha256 sidecar and read the gzip stream to its end. A mismatch or a missing sidecar refuses the restore unless overridden with a typed phrase.',
    inputs: ['S3_BUCKET'],
    database: spec.database,
    // A failed check is followed by the typed override step; the restore itself refuses without it.
    continueOnFailure: true,
    plan: (values, options) => {
      const uri = typeof options['restore-uri'] === 'string' ? options['restore-uri'] : '$RESTORE_S3_URI';
      const endpoint = endpointFlag(values.get('AWS_ENDPOINT_URL'));
      return {
        actions: [
          {
            summary: 'stream the object once: SHA-256 against the sidecar, gzip to the end',
            command: [
              `aws s3 cp ${uri}.sha256 -${endpoint}`,
              `aws s3 cp ${uri} -${endpoint} | tee >(sha256sum >&2) | ${spec.kind === 'postgres' ? 'gzip -t' : 'tar -tzf - >/dev/null'}`,
            ].join('\n'),
          },
        ],
        notes: ['Done in Node while streaming: memory stays flat for any size.'],
      };
    },
    async run(ctx) {
      const chosen = chosenBackup(ctx.earlier, spec);
      if (!chosen)
        throw new RunbookError('no backup has been chosen in this session', {
          next: `Run ${ids.choose} first.`,
        });
      const s3 = await ctx.adapters.s3();
      const sidecar = await readSidecar(s3, chosen);
      const { body, size, etag, versionId } = await s3.getStream(chosen.key, ctx.signal);
      const total = size ?? chosen.size;
      const report = byteProgress(ctx, 'verifying', total);
      const onProgress = (progress: ScanProgress) => report(progress.compressedBytes);
      const problems: string[] = [];
      const checks: Check[] = [];
      let scan: {
        sha256: string;
        compressedBytes: number;
        bytes: number;
        gzipOk: boolean;
        gzipError?: string;
      };
      let extra: Partial<IntegrityData> = {};
      if (spec.kind === 'postgres') {
        const pg = await scanPgDump(body, { signal: ctx.signal, inflate: ctx.adapters.inflate, onProgress });
        scan = pg;
        extra = { rowCounts: pg.rowCounts, markerFound: pg.markerFound, privileges: pg.privileges };
        // the globals object: roles, the database's own properties, the catalog facts validation compares
        const globals = await fetchGlobals(s3, chosen.bucket, chosen.key, ctx.signal);
        const parsedGlobals = globals.text !== undefined ? parseGlobals(globals.text) : undefined;
        if (globals.problem) problems.push(globals.problem);
        extra.globals = {
          uri: globals.uri,
          missing: globals.missing,
          verified: globals.verified,
          ...(globals.sha256 ? { sha256: globals.sha256 } : {}),
          roles: parsedGlobals?.roles ?? [],
          facts: parsedGlobals?.facts.length ?? 0,
        };
        checks.push({
          id: 'globals',
          label: 'globals (roles, database settings, privileges to compare)',
          status: globals.missing ? 'warn' : globals.verified ? 'ok' : 'fail',
          detail: globals.missing
            ? `no ${baseName(globals.key)}: roles cannot be created from the backup, and owners and privileges cannot be compared after the restore`
            : globals.verified
              ? `${globals.uri}: ${parsedGlobals?.roles.length ?? 0} role(s), ${parsedGlobals?.facts.length ?? 0} fact(s), sha256 ${globals.sha256?.slice(0, 12)}… matches its sidecar`
              : (globals.problem ?? 'not verified'),
          ...(globals.missing
            ? { next: 'Backups written by this version of postgres-backup.sh have one.' }
            : {}),
        });
        if (pg.gzipOk) {
          const names = [...new Set([...pg.privileges.owners, ...pg.privileges.grantees])];
          checks.push({
            id: 'privileges',
            label: 'owners and privileges in the dump',
            status: pg.privileges.counts.owner > 0 ? 'ok' : 'warn',
            detail:
              pg.privileges.counts.owner > 0
                ? `${pg.privileges.counts.owner} ownership(s), ${pg.privileges.counts.grant} GRANT/REVOKE(s), ${pg.privileges.counts.defaults} default privilege(s); role(s): ${names.join(', ') || 'none'}`
                : 'none: the dump was made without owners and privileges (pg_dump --no-owner --no-privileges)',
          });
        }
        if (pg.gzipOk) {
          if (!pg.complete) problems.push('the dump has no "dump complete" line: it was cut short');
          checks.push({
            id: 'dump-complete',
            label: 'pg_dump finished',
            status: pg.complete ? 'ok' : 'fail',
            detail: pg.complete
              ? 'ends with "PostgreSQL database dump complete"'
              : 'the dump ends early (pg_dump was interrupted?)',
          });
          const tables = Object.keys(pg.rowCounts).length;
          const rows = Object.values(pg.rowCounts).reduce((sum, n) => sum + n, 0);
          checks.push({
            id: 'contents',
            label: 'contents',
            status: 'ok',
            detail: `${tables} table(s), ${rows} row(s)${pg.markerFound ? '; has backup_validation' : '; no backup_validation table'}`,
          });
        }
      } else {
        const tar = await scanTarGzStream(body, {
          signal: ctx.signal,
          inflate: ctx.adapters.inflate,
          onProgress,
          maxEntries: 10,
        });
        scan = tar;
        extra = { entries: tar.entries.map((entry) => `${entry.name} (${formatBytes(entry.size)})`) };
        if (tar.gzipOk) {
          if (!tar.tarOk) problems.push(`the tar archive is damaged: ${tar.tarError ?? 'error'}`);
          checks.push({
            id: 'tar',
            label: 'tar archive',
            status: tar.tarOk ? 'ok' : 'fail',
            detail: tar.tarOk
              ? `${tar.entryCount} entries, ${formatBytes(tar.contentBytes)}: ${tar.entries
                  .slice(0, 3)
                  .map((entry) => entry.name)
                  .join(', ')}${tar.entryCount > 3 ? ', …' : ''}`
              : (tar.tarError ?? 'unreadable'),
          });
        }
      }
      const { mbPerSec, seconds } = report(scan.compressedBytes, true);
      if (ctx.signal.aborted) throw new RunbookError('interrupted', { exitCode: EXIT.interrupted });
      const shaOk = sidecar.sha256 !== undefined && sidecar.sha256 === scan.sha256;
      if (sidecar.problem) problems.push(sidecar.problem);
      else if (!shaOk)
        problems.push(`SHA-256 mismatch: the sidecar says ${sidecar.sha256}, the object is ${scan.sha256}`);
      if (!scan.gzipOk) problems.push(`the gzip stream is broken: ${scan.gzipError ?? 'error'}`);
      if (total !== undefined && scan.compressedBytes !== total)
        problems.push(`read ${scan.compressedBytes} bytes of ${total}`);
      checks.unshift(
        {
          id: 'sha256',
          label: 'SHA-256 matches the sidecar',
          status: shaOk ? 'ok' : 'fail',
          detail: sidecar.problem ?? (shaOk ? scan.sha256 : `expected ${sidecar.sha256}, got ${scan.sha256}`),
          ...(shaOk
            ? {}
            : {
                next: `Choose another backup (${ids.choose}), or override with a typed phrase in ${ids.override} — journaled as a deviation.`,
              }),
        },
        {
          id: 'gzip',
          label: 'gzip stream intact to the end',
          status: scan.gzipOk ? 'ok' : 'fail',
          detail: scan.gzipOk
            ? `${formatBytes(scan.compressedBytes)} → ${formatBytes(scan.bytes)} in ${formatDuration(seconds * 1000)} (${mbPerSec.toFixed(1)} MB/s)`
            : `${scan.gzipError ?? 'broken'} after ${formatBytes(scan.bytes)} inflated`,
        },
      );
      const verified = problems.length === 0;
      const data: IntegrityData = {
        uri: chosen.uri,
        verified,
        sha256: scan.sha256,
        ...(sidecar.sha256 ? { expectedSha256: sidecar.sha256 } : {}),
        ...(etag ? { etag } : {}),
        ...(versionId ? { versionId } : {}),
        size: scan.compressedBytes,
        bytes: scan.bytes,
        problems,
        seconds: Math.round(seconds * 10) / 10,
        ...extra,
      };
      return {
        summary: verified
          ? `verified: sha256 ${scan.sha256.slice(0, 12)}…, gzip intact (${formatBytes(scan.compressedBytes)}, ${mbPerSec.toFixed(1)} MB/s)`
          : `REFUSED: ${problems.join('; ')}`,
        checks,
        data: data as unknown as Record<string, unknown>,
      };
    },
  });
}

// ---------------------------------------------------------------- step: override a failed integrity check

export function overridePhrase(chosen: Pick<ChosenBackup, 'key'>): string {
  return `restore unverified ${baseName(chosen.key)}`;
}

export function overrideStep(spec: RestoreSpec): RunbookStep {
  const ids = stepIds(spec);
  return defineStep({
    id: ids.override,
    section: spec.section,
    title: 'Override a failed integrity check',
    description:
      'Only when the integrity check failed: restoring an unverified backup takes a typed phrase that names it, and is journaled as a deviation. Nothing to do when the check passed.',
    inputs: [],
    database: spec.database,
    plan: () => ({
      actions: [
        { summary: 'when the integrity check failed: ask for the typed phrase "restore unverified <file>"' },
      ],
      notes: ['A refused override stops the section before anything touches the database.'],
    }),
    gate(_values, { earlier }): Gate | undefined {
      const chosen = chosenBackup(earlier, spec);
      const integrity = integrityOf(earlier, spec);
      if (!chosen || !integrity || integrity.verified || integrity.uri !== chosen.uri) return undefined;
      return {
        kind: 'typed',
        prompt: `The integrity check FAILED for ${chosen.uri}. Restore it anyway? This is recorded as a deviation.`,
        phrase: overridePhrase(chosen),
        target: {
          backup: chosen.uri,
          problem: integrity.problems.join('; '),
          'sha256 (object)': integrity.sha256,
          'sha256 (sidecar)': integrity.expectedSha256 ?? '(none)',
          ...(integrity.problems.some((problem) => !/^the sidecar \S+ is missing$/.test(problem))
            ? {
                note: 'the restore script checks again: ALLOW_UNVERIFIED=true lets it skip a MISSING sidecar, but it still refuses a mismatch or a broken archive (exit 5)',
              }
            : {}),
        },
      };
    },
    async run(ctx) {
      const chosen = chosenBackup(ctx.earlier, spec);
      const integrity = integrityOf(ctx.earlier, spec);
      if (!chosen || !integrity || integrity.uri !== chosen.uri)
        throw new RunbookError('the integrity of the chosen backup has not been checked in this session', {
          next: `Run ${ids.integrity} first.`,
        });
      if (integrity.verified)
        return {
          summary: 'not needed: the integrity check passed',
          data: { overridden: false, uri: chosen.uri },
        };
      const reason = `integrity check overridden for ${chosen.uri}: ${integrity.problems.join('; ')}`;
      ctx.mark(DEVIATION_MARK, { reason, uri: chosen.uri, step: ids.integrity });
      ctx.log(reason);
      return {
        summary: 'OVERRIDDEN by typed phrase: the restore will use an unverified backup (deviation)',
        checks: [{ id: 'override', label: 'integrity overridden', status: 'warn', detail: reason }],
        data: { overridden: true, uri: chosen.uri, reason, deviation: true },
      };
    },
  });
}
