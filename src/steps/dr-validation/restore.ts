/**
 * The drill's PostgreSQL restore: the chosen backup into a NEW scratch database (drillDatabase, default
 * `<db>_drill_<yyyymmdd>`) on the source's server or an isolated drill server, never the source;
 * postgres-restore.sh runs from this host with env only.
 */
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { drillDatabaseName, PG_NAME_MAX } from '../../runbook/drill-names.js';
import { InterruptedError, RunbookError } from '../../runbook/errors.js';
import { MARK, type TemporaryData } from '../../runbook/marks.js';
import { parseCopyRows, parseNames, quoteIdent, quoteLiteral } from '../../runbook/pg-queries.js';
import type { Gate, Preview } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { lastLines, MAINTENANCE_DATABASE, PG_INPUTS } from '../clients/psql.js';
import { psqlOrThrow, psqlStatement } from '../clients/psql-run.js';
import {
  pinnedObjectEnv,
  postgresEnv,
  readRestoreOutcome,
  runRestoreScript,
  scriptLocation,
  scriptOutput,
  STORAGE_OPTIONAL,
  storageEnv,
} from '../clients/restore-scripts.js';
import { requireRoles, rolesEnv } from '../restore-kit/roles.js';
import { chosenBackup, type From, requireRestorable } from '../restore-kit/spec.js';
import { existingLike, plannedScratch, refuseSource } from './scratch.js';
import {
  DRILL_IDS,
  DRILL_OPTIONAL,
  DRILL_SPEC,
  drillValues,
  isolatedDrill,
  onDrillServer,
  SECTION,
} from './spec.js';

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

/** The restore step's output: the scratch database, whether this step created it, and the restore's figures. */
export interface DrillRestoreData {
  scratch: string;
  source: string;
  /** The scratch database was created by this step (the drop step drops only such a database). */
  created: boolean;
  exitCode?: number;
  seconds?: number;
  backup?: { uri: string; size: number; sha256: string; verified: boolean; provenRestorable?: string };
  recoveryPoint?: string | null;
  /** host:port of the server restored into. */
  server?: string;
  rolesCreated?: string[];
  /** Rows per table in the dump's COPY blocks, counted as it streamed (`schema.table` → rows). */
  rowCounts?: Record<string, number>;
}

export const restore = defineStep<DrillRestoreData>({
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
          : integrity.inStream
            ? `integrity: sha256 must equal ${integrity.sha256} (the sidecar's) as it streams, or nothing is kept`
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
    const chosen = chosenBackup(ctx.from, DRILL_SPEC);
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
    const created = await psqlStatement(
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
        rowCounts: parseCopyRows(result.stdout),
      },
    };
  },
});

/** The rows per table the dump held: counted as it streamed into the scratch database (older sessions: by the integrity pass). */
export function dumpRowCounts(from: From): Record<string, number> | undefined {
  return from(restore)?.rowCounts;
}

/** The scratch database this session's restore step created, if any. */
export function restoredScratch(from: From): string | undefined {
  const data = from(restore);
  return data?.created === true ? data.scratch : undefined;
}
