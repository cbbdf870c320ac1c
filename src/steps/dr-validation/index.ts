/**
 * The runbook's "Disaster Recovery Validation": restore the latest backups into an isolated target
 * quarterly, run the smoke tests (the critical application queries of the values file), record RTO
 * and RPO, and export the report. PostgreSQL goes into a scratch database on the same server
 * (`<db>_drill_<yyyymmdd>`, never the source); Neo4j into a scratch database where the edition allows
 * it (Enterprise: neo4j-restore.sh into the new name, then CREATE DATABASE), else the step says why
 * not. The backup choice and the integrity check are restore-postgres's own steps; the restore is the
 * real postgres-restore.sh (env only) into the scratch database.
 */
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Adapters } from '../../adapters/types.js';
import type { ReportModel, ReportPaths } from '../../runbook/report/index.js';
import {
  type Backup,
  buildCatalog,
  defaultBackup,
  formatBytes,
  formatDuration,
  withMetadata,
} from '../../runbook/backup-catalog.js';
import { InterruptedError, RunbookError, UsageError } from '../../runbook/errors.js';
import { MARK, type TemporaryData } from '../../runbook/marks.js';
import {
  firstValue,
  MARKER_TABLE_EXISTS_SQL,
  markerRowsSql,
  parseMarkerRows,
  parseNames,
  parseRowCounts,
  parseValidationQueries,
  PSQL_QUERY_FLAGS,
  quoteIdent,
  quoteLiteral,
  ROW_COUNTS_SQL,
} from '../../runbook/pg-queries.js';
import { formatS3Uri } from '../../runbook/s3-uri.js';
import type { SectionId } from '../../runbook/sections.js';
import type { Check, Gate, Preview, StepContext, StepResult } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { defineStep, type RunbookStep, sleep } from '../define.js';
import { metricLine, metricStatus } from '../kit/recovery-figures.js';
import { integrityStep } from '../restore-kit/integrity.js';
import { overrideStep } from '../restore-kit/override.js';
import { chooseBackupStep } from '../restore-kit/choose-backup.js';
import {
  PG_INPUTS,
  POSTGRES_SPEC,
  requireRestorable,
  type RestoreSection,
  type RestoreSpec,
  stepIds,
} from '../restore-kit/spec.js';
import {
  pinnedObjectEnv,
  postgresEnv,
  readRestoreOutcome,
  runRestoreScript,
  scriptLocation,
  scriptOutput,
  STORAGE_OPTIONAL,
  storageEnv,
  undetachable,
} from '../clients/restore-scripts.js';
import {
  lastLines,
  libpqEnv,
  MAINTENANCE_DATABASE,
  psqlTarget,
  runValidationQuery,
} from '../clients/psql.js';
import { requireRoles, rolesEnv } from '../restore-kit/roles.js';
import { rolesStep } from '../restore-kit/roles-preflight.js';
import { privilegeChecks } from '../restore-kit/privilege-checks.js';
import { cypher, neo4jAddress, neo4jHome, neo4jServerInfo, quoteNeo4jName } from '../clients/cypher.js';

type Ctx = StepContext<Adapters>;

const SECTION = 'dr-validation' satisfies SectionId;

/**
 * restore-postgres's backup choice and integrity steps, under this section's ids (dr-validation.choose,
 * dr-validation.integrity, …). RestoreSection names only the two restore sections, hence the cast.
 */
const DRILL_SPEC: RestoreSpec = { ...POSTGRES_SPEC, section: SECTION as SectionId as RestoreSection };

const SHARED = stepIds(DRILL_SPEC);

export const DRILL_IDS = {
  ...SHARED,
  restore: `${SECTION}.restore`,
  smoke: `${SECTION}.smoke`,
  neo4j: `${SECTION}.neo4j`,
  drop: `${SECTION}.drop-scratch`,
  report: `${SECTION}.report`,
} as const;

const RESERVED_PG = new Set(['postgres', 'template0', 'template1']);

const PG_NAME_MAX = 63;

// ---------------------------------------------------------------- names

function stamp(now: Date): string {
  return now.toISOString().slice(0, 10).replaceAll('-', '');
}

/** `<db>_drill_<yyyymmdd>` within PostgreSQL's 63-byte identifier limit. */
export function drillDatabaseName(source: string, now: Date): string {
  const suffix = `_drill_${stamp(now)}`;
  return `${source.slice(0, PG_NAME_MAX - suffix.length)}${suffix}`;
}

/** Neo4j names: a letter first, then letters, digits, dots and dashes (no underscores), 3–63 characters. */
export function neo4jDrillName(source: string, now: Date): string {
  const suffix = `-drill-${stamp(now)}`;
  const base = source.replace(/[^A-Za-z0-9.-]/g, '-').replace(/^[^A-Za-z]+/, '') || 'neo4j';
  return `${base.slice(0, PG_NAME_MAX - suffix.length)}${suffix}`.toLowerCase();
}

/** Why `scratch` must not be used as the drill's target, or undefined. */
export function scratchProblem(
  scratch: string,
  source: string,
  reserved: ReadonlySet<string>,
): string | undefined {
  if (scratch.trim() === '') return 'the scratch database name is empty';
  if (scratch === source || scratch.toLowerCase() === source.toLowerCase())
    return `the drill's target ${scratch} is the source database: a drill restores into a separate database and never over the source`;
  if (reserved.has(scratch.toLowerCase())) return `${scratch} is a system database`;
  if (Buffer.byteLength(scratch) > PG_NAME_MAX) return `${scratch} is longer than ${PG_NAME_MAX} bytes`;
  return undefined;
}

/**
 * The drill's PostgreSQL server: DRILL_POSTGRES_HOST (with DRILL_POSTGRES_PORT/USER/PASSWORD) when set — an
 * isolated target, whose roles come from the backup's globals — else the source's own server.
 */
export function drillValues(values: Values): Values {
  const host = values.get('DRILL_POSTGRES_HOST');
  if (!host) return values;
  let out = values.with('POSTGRES_HOST', host, values.source('DRILL_POSTGRES_HOST') ?? 'input');
  for (const [from, to] of [
    ['DRILL_POSTGRES_PORT', 'POSTGRES_PORT'],
    ['DRILL_POSTGRES_USER', 'POSTGRES_USER'],
    ['DRILL_POSTGRES_PASSWORD', 'POSTGRES_PASSWORD'],
  ] as const) {
    const value = values.get(from);
    if (value) out = out.with(to, value, values.source(from) ?? 'input');
  }
  return out;
}

/** An isolated drill server is set (DRILL_POSTGRES_HOST). */
export function isolatedDrill(values: Values): boolean {
  return values.get('DRILL_POSTGRES_HOST') !== undefined;
}

/** The step context with the drill server's connection values. */
function onDrillServer<T extends { values: Values }>(ctx: T): T {
  return isolatedDrill(ctx.values) ? { ...ctx, values: drillValues(ctx.values) } : ctx;
}

const DRILL_OPTIONAL = [
  'DRILL_POSTGRES_HOST',
  'DRILL_POSTGRES_PORT',
  'DRILL_POSTGRES_USER',
  'DRILL_POSTGRES_PASSWORD',
];

function explicitName(settings: Record<string, unknown>, key: string): string | undefined {
  const value = settings[key];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

// ---------------------------------------------------------------- psql

async function psql(
  ctx: Ctx,
  sql: string,
  database: string,
): Promise<{ ok: boolean; stdout: string; error: string }> {
  const { env, secrets } = libpqEnv(ctx.values, database);
  const result = await ctx.adapters.proc.run(
    'psql',
    [...PSQL_QUERY_FLAGS, ...psqlTarget(ctx.values, database), '-c', sql],
    {
      env,
      secrets,
      signal: ctx.signal,
      timeoutMs: 120_000,
    },
  );
  const error = result.stderr.trim().split('\n').slice(-3).join(' ').trim() || `psql exit ${result.exitCode}`;
  return { ok: result.exitCode === 0, stdout: result.stdout, error };
}

async function psqlOrThrow(ctx: Ctx, sql: string, database: string): Promise<string> {
  const result = await psql(ctx, sql, database);
  if (!result.ok)
    throw new RunbookError(
      `psql (${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}/${database}) failed: ${result.error}`,
      { next: 'Check POSTGRES_HOST/PORT/USER/PASSWORD and that psql is installed (prerequisites).' },
    );
  return result.stdout;
}

/** Databases whose name starts with `base` (the name itself, `base_2`, …). */
async function existingLike(ctx: Ctx, base: string): Promise<string[]> {
  const pattern = `${base.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  return parseNames(
    await psqlOrThrow(
      ctx,
      `SELECT coalesce(json_agg(datname ORDER BY datname), '[]'::json) FROM pg_database WHERE datname LIKE ${quoteLiteral(pattern)};`,
      MAINTENANCE_DATABASE,
    ),
  );
}

// ---------------------------------------------------------------- step: the drill starts

const start = defineStep({
  id: DRILL_IDS.incident,
  section: SECTION,
  title: 'Drill started',
  description:
    'The drill’s simulated incident is declared now (or at --incident-time): the report measures RTO from it and RPO up to it. Nothing is touched.',
  inputs: [],
  plan: (_values, options) => ({
    actions: [
      {
        summary:
          typeof options['incident-time'] === 'string'
            ? `record the simulated incident at ${options['incident-time']} (--incident-time)`
            : 'record the simulated incident as declared now',
      },
    ],
  }),
  async run(ctx) {
    const given = ctx.options['incident-time'];
    let at = new Date().toISOString();
    let source = 'now';
    if (typeof given === 'string' && given !== '') {
      const parsed = Date.parse(given);
      if (!/[zZ]|[+-]\d{2}:?\d{2}$/.test(given) || !Number.isFinite(parsed))
        throw new UsageError(
          `--incident-time "${given}" is not a UTC time`,
          'Give it as ISO 8601, e.g. 2026-01-02T03:04:05Z.',
        );
      at = new Date(parsed).toISOString();
      source = 'option';
    }
    ctx.mark(MARK.incidentDeclared, { at, drill: true });
    return {
      summary: `drill started: the simulated incident is declared at ${at}`,
      data: { at, source, drill: true },
    };
  },
});

// ---------------------------------------------------------------- step: restore into the scratch database

interface RestorePreview {
  scratch: string;
  source: string;
  explicit: boolean;
}

function restorePreview(preview: Preview | undefined): RestorePreview | undefined {
  const data = preview?.data as Partial<RestorePreview> | undefined;
  return typeof data?.scratch === 'string' && typeof data.source === 'string'
    ? (data as RestorePreview)
    : undefined;
}

/** The scratch database the drill restores into: the values file's drillDatabase, else `<db>_drill_<yyyymmdd>`. */
function plannedScratch(
  values: Values,
  settings: Record<string, unknown>,
): { name: string; explicit: boolean } {
  const explicit = explicitName(settings, 'drillDatabase');
  return explicit
    ? { name: explicit, explicit: true }
    : { name: drillDatabaseName(values.get('POSTGRES_DATABASE') ?? 'db', new Date()), explicit: false };
}

function refuseSource(scratch: string, source: string): void {
  const problem = scratchProblem(scratch, source, RESERVED_PG);
  if (problem)
    throw new UsageError(
      `refused: ${problem}`,
      'Set drillDatabase in the values file to a new name, or leave it out (default <db>_drill_<yyyymmdd>).',
    );
}

const restore = defineStep({
  id: DRILL_IDS.restore,
  section: SECTION,
  database: 'postgres',
  title: 'Restore into a scratch database',
  description:
    'The chosen (latest) backup is restored into a NEW database on the same server — drillDatabase from the values file, default <db>_drill_<yyyymmdd> — never the source: the same name is refused, an existing one is never reused. postgres-restore.sh runs from this host with env only (it verifies the sidecar again and restores in one transaction).',
  inputs: [...PG_INPUTS, 'S3_BUCKET'],
  optionalInputs: [...STORAGE_OPTIONAL, ...DRILL_OPTIONAL],
  plan: (values) => {
    const source = values.get('POSTGRES_DATABASE') ?? '<database>';
    const scratch = drillDatabaseName(source, new Date());
    const host = values.get('POSTGRES_HOST') ?? '<host>';
    return {
      actions: [
        {
          summary: `create database ${scratch} (or drillDatabase) on ${host}, like ${source} (TEMPLATE template0, same encoding)`,
          command: `PGPASSWORD=<password> psql -h ${host} -U ${values.get('POSTGRES_USER') ?? '<user>'} -d postgres -c 'CREATE DATABASE "${scratch}" TEMPLATE template0'`,
          writes: true,
        },
        {
          summary: `restore the chosen backup into ${scratch}; ${source} is not touched`,
          command: [
            'AWS_ACCESS_KEY_ID=<key> AWS_SECRET_ACCESS_KEY=<secret> \\',
            `POSTGRES_HOST=${host} POSTGRES_PORT=${values.get('POSTGRES_PORT') ?? '5432'} POSTGRES_DATABASE=${scratch} \\`,
            `POSTGRES_USER=${values.get('POSTGRES_USER') ?? '<user>'} POSTGRES_PASSWORD=<password> \\`,
            'RESTORE_S3_URI=${RESTORE_S3_URI} CLEAN_TARGET=true \\',
            `bash ${scriptLocation({}, 'postgres-restore.sh').display}`,
          ].join('\n'),
          writes: true,
        },
      ],
      notes: ['Refused when the target equals the source database.'],
    };
  },
  async preview(raw) {
    const ctx = onDrillServer(raw);
    const { chosen, integrity, unverified } = requireRestorable(ctx.from, DRILL_SPEC);
    const source = ctx.values.require('POSTGRES_DATABASE');
    const planned = plannedScratch(ctx.values, ctx.settings);
    refuseSource(planned.name, source);
    const taken = new Set(await existingLike(ctx, planned.name));
    let scratch = planned.name;
    if (taken.has(scratch)) {
      if (planned.explicit)
        throw new RunbookError(
          `database ${scratch} (drillDatabase) already exists on ${ctx.values.get('POSTGRES_HOST')}`,
          {
            next: 'The drill never restores into an existing database: choose a new drillDatabase, or drop that one if it is an old drill.',
          },
        );
      for (let n = 2; taken.has(scratch); n++)
        scratch = `${planned.name.slice(0, PG_NAME_MAX - String(n).length - 1)}_${n}`;
    }
    refuseSource(scratch, source);
    return {
      lines: [
        `restore ${chosen.uri} (${formatBytes(chosen.size)}) into the NEW database ${scratch} on ${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}`,
        isolatedDrill(raw.values)
          ? `an isolated drill server (DRILL_POSTGRES_HOST): the source ${source} on ${raw.values.get('POSTGRES_HOST')} is not touched`
          : `the source database ${source} is not touched`,
        unverified
          ? 'integrity: NOT VERIFIED (overridden)'
          : `integrity: sha256 ${integrity.sha256} verified`,
        ...(scratch !== planned.name
          ? [`${planned.name} exists already (an earlier drill today?): using ${scratch}`]
          : []),
      ],
      data: { scratch, source, explicit: planned.explicit } satisfies RestorePreview,
    };
  },
  gate(given, ctx): Gate {
    const values = drillValues(given);
    const planned = restorePreview(ctx.preview);
    const scratch = planned?.scratch ?? plannedScratch(values, {}).name;
    const chosen = ctx.earlier(DRILL_IDS.choose)?.chosen as { uri?: string } | undefined;
    return {
      kind: 'confirm',
      prompt: `Create database ${scratch} on ${values.get('POSTGRES_HOST')}:${values.get('POSTGRES_PORT')} and restore the backup into it? The source database ${values.get('POSTGRES_DATABASE')} is not touched.`,
      target: {
        host: values.get('POSTGRES_HOST') ?? '?',
        port: values.get('POSTGRES_PORT') ?? '5432',
        'scratch database (new)': scratch,
        'source database (untouched)': values.get('POSTGRES_DATABASE') ?? '?',
        backup: chosen?.uri ?? '(the chosen backup)',
      },
    };
  },
  async run(raw) {
    const ctx = onDrillServer(raw);
    const { chosen, integrity, unverified } = requireRestorable(ctx.from, DRILL_SPEC);
    const source = ctx.values.require('POSTGRES_DATABASE');
    const scratch = restorePreview(ctx.preview)?.scratch ?? plannedScratch(ctx.values, ctx.settings).name;
    refuseSource(scratch, source);
    // Create it here: CREATE DATABASE fails when the name exists, so nothing existing is ever restored over.
    // (Like the source: its encoding and locale, asked from the source's own server.)
    const like = parseNames(
      await psqlOrThrow(
        raw,
        `SELECT json_build_array(pg_encoding_to_char(encoding), datcollate, datctype) FROM pg_database WHERE datname = ${quoteLiteral(source)};`,
        MAINTENANCE_DATABASE,
      ),
    );
    const [encoding, collate, ctype] = like;
    const created = await psql(
      ctx,
      `CREATE DATABASE ${quoteIdent(scratch)} TEMPLATE template0${encoding ? ` ENCODING ${quoteLiteral(encoding)}` : ''}${collate ? ` LC_COLLATE ${quoteLiteral(collate)}` : ''}${ctype ? ` LC_CTYPE ${quoteLiteral(ctype)}` : ''};`,
      MAINTENANCE_DATABASE,
    );
    if (!created.ok)
      return {
        summary: `could not create the scratch database ${scratch}: ${created.error}`,
        checks: [
          {
            id: 'create',
            label: `create database ${scratch}`,
            status: 'fail',
            detail: created.error,
            next: /already exists/.test(created.error)
              ? 'It appeared since the preview: run the step again (another name is chosen).'
              : `${ctx.values.get('POSTGRES_USER')} needs the CREATEDB privilege for the drill.`,
          },
        ],
        data: { scratch, source, created: false },
      };
    ctx.log(`created database ${scratch} (like ${source}: ${encoding ?? '?'}, ${collate ?? '?'})`);
    ctx.mark(MARK.temporaryCreated, {
      kind: 'database',
      name: scratch,
      where: `PostgreSQL ${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}`,
    } satisfies TemporaryData);
    const script = scriptLocation(ctx.settings, 'postgres-restore.sh');
    const storage = storageEnv(ctx.values);
    const pg = postgresEnv(ctx.values);
    const env: Record<string, string> = {
      ...storage.env,
      ...pg.env,
      POSTGRES_DATABASE: scratch,
      RESTORE_S3_URI: chosen.uri,
      // a new database with the backup's owner, privileges and settings (its globals), swapped in for the
      // empty scratch database created above
      CLEAN_TARGET: 'true',
      // the object whose hash the integrity gate showed, and no other
      ...pinnedObjectEnv(integrity),
      // the roles preflight's choice: create missing roles from the globals, map them, or leave them out
      ...rolesEnv(requireRoles(ctx.from, DRILL_SPEC)),
      ...(unverified ? { ALLOW_UNVERIFIED: 'true' } : {}),
    };
    const { result, downloaded, seconds } = await runRestoreScript(ctx, {
      path: script.path,
      env,
      secrets: storage.secrets,
      size: chosen.size,
      restoringPhase: `restoring into ${scratch} in one transaction`,
      startedMark: { uri: chosen.uri, database: scratch, drill: true },
      downloadedMark: { uri: chosen.uri, database: scratch },
    });
    if (ctx.signal.aborted && ctx.signal.reason !== 'detach') {
      // read from the server: the swap into the scratch database either happened whole or not at all
      const outcome = await readRestoreOutcome(ctx, scratch, result.stderr);
      ctx.log(`interrupted: ${outcome.text}; ${scratch} is left for the drop step`);
      throw new InterruptedError();
    }
    if (result.exitCode !== 0)
      return {
        summary: `restore into ${scratch} FAILED (postgres-restore.sh exit ${result.exitCode})`,
        checks: [
          {
            id: 'restore',
            label: `postgres-restore.sh into ${scratch}`,
            status: 'fail',
            detail: lastLines(result.stderr, 4) || `exit ${result.exitCode}`,
            next: `Fix the cause and run ${DRILL_IDS.restore} again; drop the empty ${scratch} with ${DRILL_IDS.drop}.`,
          },
        ],
        data: { scratch, source, created: true, exitCode: result.exitCode, seconds },
      };
    if (!downloaded) ctx.mark(MARK.downloadDone, { uri: chosen.uri, database: scratch });
    const out = scriptOutput(result.stdout);
    const verified = !unverified && out.verified !== 'false';
    ctx.mark(MARK.restoreDone, { uri: chosen.uri, database: scratch });
    const backup = {
      uri: chosen.uri,
      size: chosen.size,
      sha256: out.sha256 ?? integrity.sha256,
      verified,
      ...(chosen.provenRestorable ? { provenRestorable: chosen.provenRestorable } : {}),
    };
    const recoveryPoint =
      chosen.recoveryPoint ?? (out.recovery_point !== 'unknown' ? out.recovery_point : undefined);
    if (recoveryPoint) ctx.mark(MARK.recoveryPoint, { at: recoveryPoint, ...backup });
    const rolesCreated = (out.roles_created ?? '').split(',').filter(Boolean);
    const where = `${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}`;
    return {
      summary: `restored ${chosen.uri} into ${scratch} on ${where} in ${formatDuration(seconds * 1000)}; ${source} untouched${rolesCreated.length ? `; roles created from the backup's globals: ${rolesCreated.join(', ')}` : ''}`,
      checks: [
        {
          id: 'restore',
          label: `postgres-restore.sh into ${scratch}`,
          status: 'ok',
          detail: `exit 0; sha256 ${verified ? 'verified' : 'NOT verified'}; ${formatDuration(seconds * 1000)}`,
        },
        {
          id: 'roles',
          label: `roles on ${where}`,
          status: rolesCreated.length ? 'warn' : 'ok',
          detail: rolesCreated.length
            ? `created from the backup's globals, WITHOUT passwords: ${rolesCreated.join(', ')}`
            : `none created; owners and privileges ${out.privileges === 'dropped' ? 'left out (override)' : out.privileges === 'mapped' ? 'restored with roles mapped' : 'restored as in the backup'}`,
          ...(rolesCreated.length
            ? {
                next: `Drop them with the drill's server when done, or set passwords: ${rolesCreated.join(', ')}`,
              }
            : {}),
        },
      ],
      data: {
        scratch,
        source,
        created: true,
        backup,
        recoveryPoint: recoveryPoint ?? null,
        seconds,
        server: where,
        rolesCreated,
      },
    };
  },
});

// ---------------------------------------------------------------- step: smoke tests

interface ValidationEntry {
  query: string;
  ok: boolean;
  detail: string;
}

function restoredScratch(earlier: Ctx['earlier']): string | undefined {
  const data = earlier(DRILL_IDS.restore);
  return data?.created === true && typeof data.scratch === 'string' ? data.scratch : undefined;
}

/** The values file's smokeQueries (same shape as validationQueries: {name, sql, expect?}), else validationQueries. */
function smokeQueries(settings: Record<string, unknown>) {
  const key = settings.smokeQueries !== undefined ? 'smokeQueries' : 'validationQueries';
  const parsed = parseValidationQueries(settings[key]);
  return {
    key,
    queries: parsed.queries,
    problems: parsed.problems.map((problem) => problem.replace(/^validationQueries/, key)),
  };
}

const smoke = defineStep({
  id: DRILL_IDS.smoke,
  section: SECTION,
  database: 'postgres',
  title: 'Smoke tests on the scratch database',
  description:
    'The critical application queries from the values file (smokeQueries: [{name, sql, expect?}], each run read-only), the per-table row counts against those recorded in the dump, and the backup_validation marker. All ✓ marks the drill validated (the end of RTO).',
  inputs: PG_INPUTS,
  plan: () => ({
    actions: [
      {
        summary:
          'smokeQueries from the values file, each in a READ ONLY transaction, on the scratch database',
      },
      { summary: 'row counts of every table against the dump; backup_validation marker rows' },
    ],
  }),
  async run(raw) {
    const ctx = onDrillServer(raw);
    const scratch = restoredScratch(ctx.earlier);
    if (!scratch)
      throw new RunbookError('no scratch database was restored in this session', {
        next: `Run ${DRILL_IDS.restore} first.`,
      });
    const checks: Check[] = [];
    const validation: ValidationEntry[] = [];
    const add = (id: string, label: string, ok: boolean | 'skip' | 'warn', detail: string, next?: string) => {
      checks.push({
        id,
        label,
        status: ok === 'skip' ? 'skip' : ok === 'warn' ? 'warn' : ok ? 'ok' : 'fail',
        detail,
        ...(next && ok !== true ? { next } : {}),
      });
      if (typeof ok === 'boolean') validation.push({ query: label, ok, detail });
    };

    const { key, queries, problems } = smokeQueries(ctx.settings);
    for (const problem of problems) add(`problem:${problem}`, key, false, problem);
    if (queries.length === 0 && problems.length === 0)
      add(
        'queries',
        'smoke queries',
        'warn',
        'no smokeQueries in the values file: only row counts and the marker were checked',
        'Add the critical application queries: smokeQueries: [{name, sql, expect?}] (expect: a value, or ">= 1").',
      );
    for (const query of queries) {
      const verdict = await runValidationQuery(ctx, query, scratch);
      add(`query:${query.name}`, query.name, verdict.ok, verdict.detail);
    }

    const integrity = ctx.earlier(DRILL_IDS.integrity) as { rowCounts?: Record<string, number> } | undefined;
    const live = parseRowCounts(await psqlOrThrow(ctx, ROW_COUNTS_SQL, scratch));
    const recorded = integrity?.rowCounts ?? {};
    const tables = Object.keys(recorded);
    if (tables.length > 0) {
      const mismatches = tables
        .filter((table) => live.get(table) !== recorded[table])
        .map((table) => `${table}: ${live.get(table) ?? 'missing'} (backup ${recorded[table]})`);
      const rows = Object.values(recorded).reduce((sum, n) => sum + n, 0);
      add(
        'rows',
        `row counts of ${tables.length} table(s)`,
        mismatches.length === 0,
        mismatches.length === 0
          ? `all equal to the backup (${rows} rows)`
          : mismatches.slice(0, 5).join('; '),
      );
    } else
      add(
        'rows',
        'row counts',
        'skip',
        `${live.size} table(s) restored (no counts recorded for this backup)`,
      );

    if (firstValue(await psqlOrThrow(ctx, MARKER_TABLE_EXISTS_SQL, scratch)) === 't') {
      const markers = parseMarkerRows(await psqlOrThrow(ctx, markerRowsSql(1), scratch));
      add(
        'marker',
        'backup_validation marker rows',
        markers.count > 0,
        markers.count > 0
          ? `${markers.count} row(s); newest: ${markers.latest[0]?.note ?? ''}`
          : 'the table is empty',
      );
    } else
      add('marker', 'backup_validation marker rows', 'skip', 'this backup has no backup_validation table');

    // Owners, privileges, default privileges and settings as in the backup; each role reads its tables.
    for (const { check, entry } of await privilegeChecks(ctx, DRILL_SPEC, scratch)) {
      checks.push(check);
      if (entry) validation.push(entry);
    }

    const failed = validation.filter((entry) => !entry.ok);
    const validatedAt = new Date().toISOString();
    if (failed.length === 0) ctx.mark(MARK.validated, { database: scratch, drill: true });
    return {
      summary:
        failed.length === 0
          ? `smoke tests passed on ${scratch}: ${validation.length} check(s)`
          : `${failed.length} of ${validation.length} smoke check(s) FAILED on ${scratch}: ${failed.map((entry) => entry.query).join(', ')}`,
      checks,
      data: { database: scratch, validation, ...(failed.length === 0 ? { validatedAt } : {}) },
    };
  },
});

// ---------------------------------------------------------------- step: Neo4j into a scratch database

interface Neo4jPreview {
  possible: boolean;
  why?: string;
  edition?: string;
  scratch?: string;
  uri?: string;
  recoveryPoint?: string;
  home?: string;
  /** Community: a second, isolated instance from the local distribution (its bin/ and lib/). */
  instance?: boolean;
  binDir?: string;
  libDir?: string;
}

function neo4jPreviewData(preview: Preview | undefined): Neo4jPreview | undefined {
  return preview?.data as Neo4jPreview | undefined;
}

/**
 * Community: one user database per server, so the drill restores into a second, isolated Neo4j on this
 * machine (its own NEO4J_HOME in a temp folder, its own Bolt port on 127.0.0.1), started with the local
 * distribution, smoke-tested over Bolt, then stopped and deleted. The serving Neo4j is never touched.
 */
async function drillIntoInstance(ctx: Ctx, data: Neo4jPreview): Promise<StepResult> {
  const uri = data.uri ?? '';
  const storage = storageEnv(ctx.values);
  const instance = await ctx.adapters.scratchNeo4j({ binDir: data.binDir ?? '', libDir: data.libDir ?? '' });
  const where = `isolated Neo4j ${instance.address} (NEO4J_HOME ${instance.home})`;
  ctx.mark(MARK.temporaryCreated, {
    kind: 'instance',
    name: instance.home,
    where: 'Neo4j',
  } satisfies TemporaryData);
  const checks: Check[] = [];
  const validation: ValidationEntry[] = [];
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await instance.remove();
    ctx.mark(MARK.temporaryRemoved, { kind: 'instance', name: instance.home } satisfies TemporaryData);
  };
  try {
    const started = Date.now();
    ctx.mark(MARK.restoreStarted, { uri, database: 'neo4j', drill: true });
    const result = await ctx.adapters.proc.run(
      'bash',
      [scriptLocation(ctx.settings, 'neo4j-restore.sh').path],
      {
        env: {
          ...storage.env,
          RESTORE_S3_URI: uri,
          NEO4J_DATABASE: ctx.values.get('NEO4J_DATABASE') ?? 'neo4j',
          NEO4J_HOME: instance.home,
          NEO4J_ADDRESS: instance.address,
          PATH: `${data.binDir ?? ''}:${process.env.PATH ?? ''}`,
        },
        secrets: ctx.values.secretValues(),
        signal: undetachable(ctx),
        processGroup: true,
        onLine: (line, stream) => {
          if (stream === 'stderr') ctx.log(line);
          if (/downloaded and verified/.test(line)) ctx.mark(MARK.downloadDone, { uri, database: 'neo4j' });
        },
      },
    );
    if (ctx.signal.aborted && ctx.signal.reason !== 'detach') throw new InterruptedError();
    if (result.exitCode !== 0)
      return {
        summary: `Neo4j restore into the ${where} FAILED (neo4j-restore.sh exit ${result.exitCode})`,
        checks: [
          {
            id: 'restore',
            label: 'neo4j-restore.sh into the isolated instance',
            status: 'fail',
            detail: lastLines(result.stderr, 4) || `exit ${result.exitCode}`,
          },
        ],
        data: { drilled: false, instance: instance.address, exitCode: result.exitCode },
      };
    const out = scriptOutput(result.stdout);
    ctx.mark(MARK.restoreDone, { uri, database: 'neo4j' });
    if (data.recoveryPoint) ctx.mark(MARK.recoveryPoint, { at: data.recoveryPoint, uri, verified: true });
    checks.push({
      id: 'restore',
      label: 'neo4j-restore.sh into the isolated instance',
      status: 'ok',
      detail: `${out.type ?? '?'} ${out.artifact ?? ''} in ${formatDuration(Date.now() - started)}: ${where}`,
    });
    await instance.start();
    // A fresh instance has the initial neo4j/neo4j: it gets a password of its own (a parameter, never argv).
    const password = randomBytes(18).toString('base64url');
    const initial = ctx.adapters.neo4j({ address: instance.address, username: 'neo4j', password: 'neo4j' });
    const scratch = ctx.adapters.neo4j({ address: instance.address, username: 'neo4j', password });
    const deadline = Date.now() + 300_000;
    let status = 'not answering';
    for (;;) {
      try {
        await initial.run('ALTER CURRENT USER SET PASSWORD FROM $old TO $new', {
          database: 'system',
          params: { old: 'neo4j', new: password },
          connectTimeoutMs: 2000,
        });
      } catch {
        // not up yet, or already changed
      }
      try {
        const shown = await scratch.run('SHOW DEFAULT DATABASE YIELD currentStatus', {
          database: 'system',
          connectTimeoutMs: 2000,
        });
        status = String(shown.rows[0]?.[0] ?? 'missing');
        if (status === 'online') break;
      } catch (error) {
        status = (error as Error).message;
      }
      if (Date.now() > deadline) break;
      await sleep(1000, ctx.signal);
    }
    checks.push({
      id: 'online',
      label: 'isolated instance online',
      status: status === 'online' ? 'ok' : 'fail',
      detail: status,
    });
    validation.push({ query: 'isolated instance online', ok: status === 'online', detail: status });
    const database = ctx.values.get('NEO4J_DATABASE') ?? 'neo4j';
    const ask = async (statement: string) =>
      scratch.run(statement, { database }).then(
        (answer) => ({ ok: true as const, rows: answer.rows }),
        (error: unknown) => ({ ok: false as const, error: (error as Error).message }),
      );
    const count = await ask('MATCH (n) RETURN count(n)');
    const nodes = count.ok ? Number(count.rows[0]?.[0]) : Number.NaN;
    checks.push({
      id: 'nodes',
      label: 'MATCH (n) RETURN count(n)',
      status: count.ok ? 'ok' : 'fail',
      detail: count.ok ? `${nodes} node(s)` : count.error,
    });
    validation.push({
      query: 'MATCH (n) RETURN count(n)',
      ok: count.ok,
      detail: count.ok ? `${nodes}` : count.error,
    });
    const labels = await ask('MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) ORDER BY label');
    if (labels.ok)
      checks.push({
        id: 'labels',
        label: 'nodes per label',
        status: 'ok',
        detail:
          labels.rows.map((row) => `${String(row[0])} ${String(row[1])}`).join(', ') || 'no labelled nodes',
      });
    const markers = await ask('MATCH (n:BackupValidation) RETURN count(n)');
    checks.push({
      id: 'marker',
      label: 'BackupValidation markers',
      status: markers.ok ? (Number(markers.rows[0]?.[0] ?? 0) > 0 ? 'ok' : 'skip') : 'fail',
      detail: markers.ok ? `${String(markers.rows[0]?.[0] ?? 0)} node(s)` : markers.error,
    });
    const failed = validation.filter((entry) => !entry.ok);
    if (failed.length === 0) ctx.mark(MARK.validated, { database, drill: true });
    await remove();
    checks.push({
      id: 'removed',
      label: 'isolated instance stopped and deleted',
      status: 'ok',
      detail: instance.home,
    });
    return {
      summary:
        failed.length === 0
          ? `Neo4j restored into an isolated instance and smoke-tested (${nodes} nodes); the instance is deleted`
          : `Neo4j drill FAILED on the isolated instance: ${failed.map((entry) => entry.query).join(', ')}`,
      checks,
      data: {
        drilled: true,
        instance: instance.address,
        backup: { uri, verified: true },
        validation,
        recoveryPoint: data.recoveryPoint ?? null,
        ...(failed.length === 0 ? { validatedAt: new Date().toISOString() } : {}),
      },
    };
  } finally {
    await remove().catch(() => undefined);
  }
}

const neo4j = defineStep({
  id: DRILL_IDS.neo4j,
  section: SECTION,
  database: 'neo4j',
  title: 'Neo4j into a scratch database or an isolated instance',
  description:
    'Enterprise: the latest Neo4j backup is restored with neo4j-restore.sh into a new database <db>-drill-<yyyymmdd> on this host’s server (NEO4J_HOME), created, and smoke-tested (online, node count, BackupValidation marker). Community (one user database per server): it is restored into a second, isolated Neo4j on this machine (its own NEO4J_HOME and Bolt port, from the local distribution), smoke-tested over Bolt, then stopped and deleted; the serving Neo4j is never touched.',
  inputs: [],
  optionalInputs: [
    'NEO4J_HOST',
    'NEO4J_BOLT_PORT',
    'NEO4J_DATABASE',
    'NEO4J_USERNAME',
    'NEO4J_PASSWORD',
    'NEO4J_S3_PREFIX',
    'S3_BUCKET',
  ],
  plan: (values) => {
    const source = values.get('NEO4J_DATABASE') ?? 'neo4j';
    const scratch = neo4jDrillName(source, new Date());
    const address = `neo4j://${values.get('NEO4J_HOST') ?? '<host>'}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`;
    return {
      actions: [
        {
          summary: 'the edition (Enterprise allows a scratch database)',
          command: `cypher-shell -a ${address} "CALL dbms.components()"`,
        },
        {
          summary: `restore the newest backup under ${values.get('NEO4J_S3_PREFIX') ?? 'neo4j/'} into ${scratch} (load, or restore with its chain), then create it`,
          command: [
            `RESTORE_S3_URI=s3://${values.get('S3_BUCKET') ?? '<bucket>'}/${values.get('NEO4J_S3_PREFIX') ?? 'neo4j/'}<newest>.backup.tar.gz NEO4J_DATABASE=${scratch} NEO4J_HOME=<home> \\`,
            `bash ${scriptLocation({}, 'neo4j-restore.sh').display}`,
            `cypher-shell -a ${address} -d system "CREATE DATABASE \`${scratch}\` WAIT"`,
          ].join('\n'),
          writes: true,
        },
        { summary: `smoke: ${scratch} online, MATCH (n) RETURN count(n), BackupValidation markers` },
      ],
      notes: [
        'Community Edition: no CREATE DATABASE, so the backup goes into a second, isolated Neo4j on this machine instead (NEO4J_HOME in a temp folder, Bolt on a free 127.0.0.1 port; needs neo4j-admin and neo4j of Neo4j 5 and Java 17 here), deleted after the smoke queries.',
      ],
    };
  },
  async preview(ctx) {
    const no = (why: string, extra: Partial<Neo4jPreview> = {}): Preview => ({
      lines: [`Neo4j drill not possible here: ${why}`],
      data: { possible: false, why, ...extra } satisfies Neo4jPreview,
    });
    if (!ctx.values.get('NEO4J_HOST')) return no('NEO4J_HOST is not set');
    const { info, outcome } = await neo4jServerInfo(ctx);
    if (outcome.unavailable) return no(outcome.unavailable);
    if (!info) return no(`could not ask the server over Bolt: ${outcome.error}`);
    const edition = info.edition.toLowerCase();
    if (edition === 'community') {
      const admin = await ctx.adapters.proc.which('neo4j-admin');
      const launcher = await ctx.adapters.proc.which('neo4j');
      if (!admin || !launcher)
        return no(
          `Neo4j ${info.version} Community has one user database per server, so the drill needs a second, isolated Neo4j here: put a Neo4j 5 distribution's bin/ (neo4j, neo4j-admin) on PATH`,
          { edition },
        );
      const real = (await ctx.adapters.proc.run('readlink', ['-f', admin])).stdout.trim() || admin;
      const binDir = dirname(real);
      const found = await newestNeo4jBackup(ctx);
      if ('problem' in found) return no(found.problem, { edition });
      const { newest, uri } = found;
      return {
        lines: [
          `Neo4j ${info.version} Community: one user database per server, so ${uri} is restored into a second, isolated Neo4j on this machine (its own NEO4J_HOME in a temp folder, Bolt on a free 127.0.0.1 port, ${binDir}), smoke-tested, then deleted`,
          `the serving Neo4j (${neo4jAddress(ctx)}) is not touched`,
        ],
        data: {
          possible: true,
          instance: true,
          edition,
          uri,
          binDir,
          libDir: join(dirname(binDir), 'lib'),
          ...(newest.recoveryPoint ? { recoveryPoint: newest.recoveryPoint } : {}),
        } satisfies Neo4jPreview,
      };
    }
    if (edition !== 'enterprise') return no(`Neo4j of an unknown edition (${edition})`, { edition });
    const home = neo4jHome(ctx.settings);
    const admin =
      (await ctx.adapters.proc.which(`${home}/bin/neo4j-admin`)) ??
      (await ctx.adapters.proc.which('neo4j-admin'));
    if (!admin)
      return no(
        `neo4j-admin is not on this host: the restore runs where the server's NEO4J_HOME (${home}) is`,
        { edition },
      );
    const source = ctx.values.get('NEO4J_DATABASE') ?? 'neo4j';
    const planned = explicitName(ctx.settings, 'neo4jDrillDatabase') ?? neo4jDrillName(source, new Date());
    const problem = scratchProblem(planned, source, new Set(['system']));
    if (problem)
      throw new UsageError(`refused: ${problem}`, 'Set neo4jDrillDatabase in the values file to a new name.');
    let scratch = planned;
    for (let n = 2; ; n++) {
      const shown = await cypher(ctx, `SHOW DATABASE ${quoteNeo4jName(scratch)} YIELD name`, 'system');
      if (shown.ok && shown.rows.length === 0) break;
      if (!shown.ok) return no(`SHOW DATABASE failed: ${shown.error}`, { edition });
      scratch = `${planned}-${n}`;
    }
    const found = await newestNeo4jBackup(ctx);
    if ('problem' in found) return no(found.problem, { edition });
    const { newest, uri } = found;
    return {
      lines: [
        `Neo4j ${edition}: restore ${uri} into the NEW database ${scratch} (NEO4J_HOME ${home}), then CREATE DATABASE`,
        `the database ${source} is not touched`,
      ],
      data: {
        possible: true,
        edition,
        scratch,
        uri,
        home,
        ...(newest.recoveryPoint ? { recoveryPoint: newest.recoveryPoint } : {}),
      } satisfies Neo4jPreview,
    };
  },
  gate(values, ctx): Gate | undefined {
    const data = neo4jPreviewData(ctx.preview);
    if (ctx.preview && !data?.possible) return undefined;
    if (data?.instance)
      return {
        kind: 'confirm',
        prompt: `Restore the latest Neo4j backup into a second, isolated Neo4j on this machine (started, smoke-tested, then deleted)? The serving Neo4j is not touched.`,
        target: {
          'isolated instance': `new NEO4J_HOME in a temp folder, Bolt on a free 127.0.0.1 port (${data.binDir ?? '?'})`,
          'serving neo4j (untouched)': `${values.get('NEO4J_HOST') ?? '?'}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`,
          backup: data.uri ?? '(the newest)',
        },
      };
    const scratch = data?.scratch ?? neo4jDrillName(values.get('NEO4J_DATABASE') ?? 'neo4j', new Date());
    return {
      kind: 'confirm',
      prompt: `Restore the latest Neo4j backup into a new database ${scratch} on ${values.get('NEO4J_HOST')} and create it? ${values.get('NEO4J_DATABASE') ?? 'neo4j'} is not touched.`,
      target: {
        'neo4j host': values.get('NEO4J_HOST') ?? '?',
        NEO4J_HOME: data?.home ?? '?',
        'scratch database (new)': scratch,
        'source database (untouched)': values.get('NEO4J_DATABASE') ?? 'neo4j',
        backup: data?.uri ?? '(the newest)',
      },
    };
  },
  async run(ctx): Promise<StepResult> {
    const data = neo4jPreviewData(ctx.preview);
    if (data?.possible && data.instance && data.uri) return drillIntoInstance(ctx, data);
    if (!data?.possible || !data.scratch || !data.uri)
      return {
        summary: `Neo4j not drilled: ${data?.why ?? 'not possible here'}`,
        checks: [
          {
            id: 'edition',
            label: 'Neo4j scratch database',
            status: 'skip',
            detail: data?.why ?? 'not possible here',
          },
        ],
        data: { drilled: false, why: data?.why ?? null },
      };
    const scratch = data.scratch;
    const storage = storageEnv(ctx.values);
    const credentials: Record<string, string> = {};
    for (const name of ['NEO4J_USERNAME', 'NEO4J_PASSWORD']) {
      const value = ctx.values.get(name);
      if (value) credentials[name] = value;
    }
    const started = Date.now();
    ctx.mark(MARK.restoreStarted, { uri: data.uri, database: scratch, drill: true });
    const result = await ctx.adapters.proc.run(
      'bash',
      [scriptLocation(ctx.settings, 'neo4j-restore.sh').path],
      {
        env: {
          ...storage.env,
          ...credentials,
          RESTORE_S3_URI: data.uri,
          NEO4J_DATABASE: scratch,
          NEO4J_HOME: data.home ?? neo4jHome(ctx.settings),
          NEO4J_ADDRESS: neo4jAddress(ctx),
        },
        secrets: ctx.values.secretValues(),
        signal: undetachable(ctx),
        processGroup: true,
        onLine: (line, stream) => {
          if (stream === 'stderr') ctx.log(line);
          if (/downloaded and verified/.test(line))
            ctx.mark(MARK.downloadDone, { uri: data.uri, database: scratch });
        },
      },
    );
    if (ctx.signal.aborted && ctx.signal.reason !== 'detach') throw new InterruptedError();
    if (result.exitCode !== 0)
      return {
        summary: `Neo4j restore into ${scratch} FAILED (neo4j-restore.sh exit ${result.exitCode})`,
        checks: [
          {
            id: 'restore',
            label: `neo4j-restore.sh into ${scratch}`,
            status: 'fail',
            detail: lastLines(result.stderr, 4) || `exit ${result.exitCode}`,
          },
        ],
        data: { drilled: false, scratch, exitCode: result.exitCode },
      };
    const out = scriptOutput(result.stdout);
    // The restored store is on the server from here on, whether or not CREATE DATABASE works.
    ctx.mark(MARK.temporaryCreated, {
      kind: 'database',
      name: scratch,
      where: 'Neo4j',
    } satisfies TemporaryData);
    const create = await cypher(
      ctx,
      `CREATE DATABASE ${quoteNeo4jName(scratch)} IF NOT EXISTS WAIT`,
      'system',
    );
    ctx.mark(MARK.restoreDone, { uri: data.uri, database: scratch });
    if (data.recoveryPoint)
      ctx.mark(MARK.recoveryPoint, { at: data.recoveryPoint, uri: data.uri, verified: true });
    const checks: Check[] = [
      {
        id: 'restore',
        label: `neo4j-restore.sh into ${scratch}`,
        status: 'ok',
        detail: `${out.type ?? '?'} ${out.artifact ?? ''} in ${formatDuration(Date.now() - started)}`,
      },
      {
        id: 'create',
        label: `CREATE DATABASE ${scratch}`,
        status: create.ok ? 'ok' : 'fail',
        detail: create.ok ? 'created from the restored store' : create.error,
      },
    ];
    const status = await cypher(
      ctx,
      `SHOW DATABASE ${quoteNeo4jName(scratch)} YIELD name, currentStatus`,
      'system',
    );
    const current = status.rows[0]?.[1] ?? '?';
    checks.push({
      id: 'online',
      label: `${scratch} online`,
      status: current === 'online' ? 'ok' : 'fail',
      detail: current,
    });
    const validation: ValidationEntry[] = [
      { query: `${scratch} online`, ok: current === 'online', detail: current },
    ];
    const count = await cypher(ctx, 'MATCH (n) RETURN count(n)', scratch);
    const nodes = count.ok ? Number(count.rows[0]?.[0] ?? 'NaN') : Number.NaN;
    const countOk = count.ok && Number.isFinite(nodes);
    checks.push({
      id: 'nodes',
      label: 'MATCH (n) RETURN count(n)',
      status: countOk ? 'ok' : 'fail',
      detail: count.ok ? `${nodes} node(s)` : count.error,
    });
    validation.push({
      query: 'MATCH (n) RETURN count(n)',
      ok: countOk,
      detail: count.ok ? `${nodes}` : count.error,
    });
    const markers = await cypher(ctx, 'MATCH (n:BackupValidation) RETURN count(n)', scratch);
    checks.push({
      id: 'marker',
      label: 'BackupValidation markers',
      status: markers.ok ? (Number(markers.rows[0]?.[0] ?? 0) > 0 ? 'ok' : 'skip') : 'fail',
      detail: markers.ok ? `${markers.rows[0]?.[0] ?? 0} node(s)` : markers.error,
    });
    const failed = validation.filter((entry) => !entry.ok);
    if (failed.length === 0) ctx.mark(MARK.validated, { database: scratch, drill: true });
    return {
      summary:
        failed.length === 0
          ? `Neo4j restored into ${scratch} and smoke-tested (${nodes} nodes)`
          : `Neo4j drill FAILED on ${scratch}: ${failed.map((entry) => entry.query).join(', ')}`,
      checks,
      data: {
        drilled: true,
        scratch,
        created: create.ok,
        backup: { uri: data.uri, verified: true },
        validation,
        recoveryPoint: data.recoveryPoint ?? null,
        ...(failed.length === 0 ? { validatedAt: new Date().toISOString() } : {}),
      },
    };
  },
});

// ---------------------------------------------------------------- step: drop the scratch databases

interface Scratches {
  postgres?: string;
  neo4j?: string;
}

function scratches(earlier: Ctx['earlier']): Scratches {
  const pg = restoredScratch(earlier);
  const neo = earlier(DRILL_IDS.neo4j);
  return {
    ...(pg ? { postgres: pg } : {}),
    ...(typeof neo?.scratch === 'string' ? { neo4j: neo.scratch } : {}),
  };
}

const drop = defineStep({
  id: DRILL_IDS.drop,
  section: SECTION,
  title: 'Drop the scratch databases',
  description:
    'At the end of the drill, the scratch databases this session created are dropped (PostgreSQL: DROP DATABASE … WITH (FORCE) from the maintenance database; Neo4j: DROP DATABASE … IF EXISTS), after a confirmation that names them. The source databases are refused.',
  inputs: [],
  plan: (values) => ({
    actions: [
      {
        summary: `drop ${drillDatabaseName(values.get('POSTGRES_DATABASE') ?? '<database>', new Date())} (the scratch database this session created)`,
        command: `PGPASSWORD=<password> psql -h ${values.get('POSTGRES_HOST') ?? '<host>'} -d postgres -c 'DROP DATABASE IF EXISTS "<scratch>" WITH (FORCE)'`,
        destructive: true,
      },
    ],
    notes: ['Only databases this session created; confirm gate names them.'],
  }),
  async preview(ctx) {
    const found = scratches(ctx.earlier);
    return {
      lines:
        found.postgres || found.neo4j
          ? [
              ...(found.postgres
                ? [`drop PostgreSQL database ${found.postgres} (created by this drill)`]
                : []),
              ...(found.neo4j ? [`drop Neo4j database ${found.neo4j} (created by this drill)`] : []),
            ]
          : ['no scratch database was created in this session: nothing to drop'],
      data: { ...found },
    };
  },
  gate(given, ctx): Gate | undefined {
    const values = drillValues(given);
    // Without a preview (db-runbook plan) the gate is shown with the default name.
    const found: Scratches = ctx.preview
      ? (ctx.preview.data as Scratches)
      : { postgres: drillDatabaseName(values.get('POSTGRES_DATABASE') ?? '<database>', new Date()) };
    if (!found.postgres && !found.neo4j) return undefined;
    return {
      kind: 'confirm',
      prompt: `Drop the drill's scratch database${found.postgres && found.neo4j ? 's' : ''} ${[found.postgres, found.neo4j].filter(Boolean).join(' and ')}?`,
      target: {
        ...(found.postgres
          ? {
              'postgres host': `${values.get('POSTGRES_HOST')}:${values.get('POSTGRES_PORT')}`,
              'drop (postgres)': found.postgres,
            }
          : {}),
        ...(found.neo4j
          ? { 'neo4j host': values.get('NEO4J_HOST') ?? '?', 'drop (neo4j)': found.neo4j }
          : {}),
        'kept (sources)': [values.get('POSTGRES_DATABASE'), values.get('NEO4J_DATABASE')]
          .filter(Boolean)
          .join(', '),
      },
    };
  },
  async run(raw) {
    const ctx = onDrillServer(raw);
    const found = (ctx.preview?.data as Scratches | undefined) ?? scratches(ctx.earlier);
    const checks: Check[] = [];
    if (!found.postgres && !found.neo4j)
      return {
        summary: 'nothing to drop: no scratch database was created in this session',
        checks: [
          { id: 'none', label: 'scratch databases', status: 'skip', detail: 'none created in this session' },
        ],
      };
    if (found.postgres) {
      const source = ctx.values.get('POSTGRES_DATABASE') ?? '';
      const problem = scratchProblem(found.postgres, source, RESERVED_PG);
      if (problem) throw new RunbookError(`refused to drop ${found.postgres}: ${problem}`);
      const dropped = await psql(
        ctx,
        `DROP DATABASE IF EXISTS ${quoteIdent(found.postgres)} WITH (FORCE);`,
        MAINTENANCE_DATABASE,
      );
      const left = dropped.ok ? await existingLike(ctx, found.postgres) : [found.postgres];
      const gone = dropped.ok && !left.includes(found.postgres);
      if (gone)
        ctx.mark(MARK.temporaryRemoved, { kind: 'database', name: found.postgres } satisfies TemporaryData);
      checks.push({
        id: 'postgres',
        label: `DROP DATABASE ${found.postgres}`,
        status: gone ? 'ok' : 'fail',
        detail: gone ? `gone; ${source} kept` : dropped.error,
        ...(gone ? {} : { next: `Drop it by hand: DROP DATABASE "${found.postgres}" WITH (FORCE);` }),
      });
    }
    if (found.neo4j) {
      const source = ctx.values.get('NEO4J_DATABASE') ?? 'neo4j';
      if (scratchProblem(found.neo4j, source, new Set(['system'])))
        throw new RunbookError(`refused to drop ${found.neo4j}: it is not a scratch database`);
      const dropped = await cypher(ctx, `DROP DATABASE ${quoteNeo4jName(found.neo4j)} IF EXISTS`, 'system');
      if (dropped.ok)
        ctx.mark(MARK.temporaryRemoved, { kind: 'database', name: found.neo4j } satisfies TemporaryData);
      checks.push({
        id: 'neo4j',
        label: `DROP DATABASE ${found.neo4j}`,
        status: dropped.ok ? 'ok' : 'warn',
        detail: dropped.ok ? `gone; ${source} kept` : dropped.error,
        ...(dropped.ok
          ? {}
          : { next: `Drop it by hand: cypher-shell -d system "DROP DATABASE \`${found.neo4j}\` IF EXISTS"` }),
      });
    }
    const failed = checks.filter((check) => check.status !== 'ok');
    return {
      summary: failed.length
        ? `not everything was dropped: ${failed.map((c) => c.label).join(', ')}`
        : `dropped ${checks.map((c) => c.label.replace('DROP DATABASE ', '')).join(', ')}`,
      checks,
      data: { dropped: checks.filter((c) => c.status === 'ok').map((c) => c.id) },
    };
  },
});

// ---------------------------------------------------------------- step: export the report

const report = defineStep({
  id: DRILL_IDS.report,
  section: SECTION,
  title: 'Export the DR report',
  description:
    'RTO (simulated incident → validated) and RPO (incident − recovery point of the restored backup) of each database drilled, against rtoTarget/rpoTarget, then the session’s report as Markdown, HTML and JSON next to its journal (mode 0600): the same files and figures as x in the report screen and db-runbook report --export.',
  inputs: [],
  plan: () => ({
    actions: [
      {
        summary: 'write the drill report as Markdown, HTML and JSON next to the session journal',
        command: 'db-runbook report <session> --export',
        writes: true,
      },
    ],
  }),
  async run(ctx) {
    let written: (ReportPaths & { model: ReportModel }) | undefined;
    let exportProblem: string | undefined;
    try {
      // The figures printed here are the report's own (one computation for the screen and every export).
      written = ctx.adapters.reports.write(ctx.sessionId, {
        settings: ctx.settings,
        secrets: ctx.values.secretValues(),
        live: true,
      });
    } catch (error) {
      exportProblem = error instanceof Error ? error.message : String(error);
    }
    const drills = written?.model.recoveries.filter((recovery) => recovery.scenario === 'drill') ?? [];
    const latest = new Map(drills.map((recovery) => [recovery.engine, recovery]));
    const neo = ctx.earlier(DRILL_IDS.neo4j);
    const checks: Check[] = [...latest.values()].flatMap((recovery): Check[] => [
      {
        id: `rto:${recovery.engine}`,
        label: `${recovery.label}: RTO achieved (incident → validated)`,
        status: metricStatus(recovery.rto),
        detail: metricLine(recovery.rto),
      },
      {
        id: `rpo:${recovery.engine}`,
        label: `${recovery.label}: RPO achieved (incident − recovery point)`,
        status: metricStatus(recovery.rpo),
        detail: metricLine(recovery.rpo),
      },
    ]);
    if (written && latest.size === 0)
      checks.push({
        id: 'rto',
        label: 'RTO / RPO',
        status: 'warn',
        detail: 'no drill restore was recorded in this session: nothing to measure',
      });
    checks.push(
      {
        id: 'neo4j',
        label: 'Neo4j',
        status: neo?.drilled === true ? 'ok' : 'skip',
        detail:
          neo?.drilled === true
            ? `restored into ${String(neo.scratch)}`
            : `not drilled${typeof neo?.why === 'string' ? `: ${neo.why}` : ''}`,
      },
      {
        id: 'report',
        label: 'DR report exported',
        status: written ? 'ok' : 'fail',
        detail: written
          ? `${written.markdown}, ${written.html} and ${written.json} (0600), in progress at this step; export again after the session for the final record`
          : `the report could not be written: ${exportProblem ?? 'unknown error'}`,
        next: `After the session ends, the complete report: db-runbook report ${ctx.sessionId} --export`,
      },
    );
    const figures = [...latest.values()].map(
      (recovery) =>
        `${latest.size > 1 ? `${recovery.engine === 'neo4j' ? 'Neo4j' : 'PostgreSQL'} ` : ''}RTO ${recovery.rto.achieved}, RPO ${recovery.rpo.achieved}`,
    );
    return {
      summary: `${figures.length > 0 ? figures.join('; ') : 'no drill restore measured'}; report ${written ? `written to ${written.markdown}` : 'NOT written'}`,
      checks,
      data: {
        markdown: written?.markdown ?? null,
        html: written?.html ?? null,
        json: written?.json ?? null,
        recoveries: [...latest.values()].map((recovery) => ({
          id: recovery.id,
          rto: recovery.rto.achievedSeconds,
          rpo: recovery.rpo.achievedSeconds,
          rtoText: recovery.rto.achieved,
          rpoText: recovery.rpo.achieved,
          rtoVerdict: recovery.rto.verdict,
          rpoVerdict: recovery.rpo.verdict,
        })),
      },
    };
  },
});

export const drValidationSteps: readonly RunbookStep[] = [
  start,
  chooseBackupStep(DRILL_SPEC),
  integrityStep(DRILL_SPEC),
  overrideStep(DRILL_SPEC),
  rolesStep(DRILL_SPEC, { values: drillValues, createByDefault: isolatedDrill }),
  restore,
  smoke,
  neo4j,
  drop,
  report,
];

/** The newest Neo4j backup under NEO4J_S3_PREFIX, with its object metadata, or why there is none. */
async function newestNeo4jBackup(ctx: Ctx): Promise<{ newest: Backup; uri: string } | { problem: string }> {
  const bucket = ctx.values.get('S3_BUCKET');
  if (!bucket) return { problem: 'S3_BUCKET is not set' };
  const prefix = ctx.values.get('NEO4J_S3_PREFIX') ?? 'neo4j/';
  const s3 = await ctx.adapters.s3();
  let newest = defaultBackup(buildCatalog(await s3.list(prefix), { kind: 'neo4j', prefix }));
  if (!newest) return { problem: `no Neo4j backup under s3://${bucket}/${prefix}` };
  const head = await s3.head(newest.key);
  if (head) newest = withMetadata(newest, head.metadata);
  return { newest, uri: formatS3Uri(bucket, newest.key) };
}
