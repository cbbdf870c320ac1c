/**
 * Restore into a new database, the target untouched: postgres-restore.sh RESTORE_PHASE=load reads the backup
 * ONCE (hashed, inflated, scanned and restored in the same pass), keeps the new database only when the hash
 * matched the sidecar, the dump was complete and psql committed, and stops. Its row counts are then read from
 * the server next to those the dump's COPY blocks held. The swap step puts it in place, behind the typed gate.
 */
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { InterruptedError } from '../../runbook/errors.js';
import { MARK, type TemporaryData } from '../../runbook/marks.js';
import {
  parseCopyRows,
  parseNames,
  parseRowCounts,
  ROW_COUNTS_SQL,
  scratchDatabasesSql,
} from '../../runbook/pg-queries.js';
import { type Check, type Gate, outputOf } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { byteProgress } from '../restore-kit/integrity.js';
import { requireRoles, rolesEnv } from '../restore-kit/roles.js';
import { type Ctx, isRecord, operatorChoice, requireRestorable } from '../restore-kit/spec.js';
import { integrityTargetLine, restorableOrUndefined } from '../restore-kit/restore-gate.js';
import { lastLines, MAINTENANCE_DATABASE, PG_INPUTS } from '../clients/psql.js';
import { psqlOrThrow, runPsql } from '../clients/psql-run.js';
import {
  pinnedObjectEnv,
  scriptLocation,
  scriptOutput,
  STORAGE_OPTIONAL,
} from '../clients/restore-scripts.js';
import { BACKUP_CRONJOB, envCommand, IDS, pgWords, SECTION, SPEC, target } from './ids.js';
import { RESTORE_EXIT } from './exit-codes.js';
import { detachedCheck, runRestoreScript, type ScriptProgress } from './run-modes.js';

/** The load step's output: the new database the swap step puts in place. */
export interface LoadData {
  loaded: boolean;
  /** The new database (`<db>_restore_<time>`) and its oid: the swap refuses any other. */
  scratch?: string;
  oid?: string;
  mode: 'host' | 'job';
  where?: string;
  sha256?: string;
  verified?: boolean;
  recoveryPoint?: string;
  /** Rows per table in the dump's COPY blocks (`schema.table` → rows). */
  rowCounts?: Record<string, number>;
  /** Rows per table in the new database, read from the server. */
  restoredCounts?: Record<string, number>;
  markerFound?: boolean;
  rolesCreated?: string[];
  privileges?: 'kept' | 'mapped' | 'dropped';
  exitCode?: number;
  seconds: number;
}

function decodeLoad(data: Record<string, unknown>): LoadData | undefined {
  if (typeof data.loaded !== 'boolean' || (data.mode !== 'host' && data.mode !== 'job')) return undefined;
  if (data.loaded && (typeof data.scratch !== 'string' || typeof data.oid !== 'string')) return undefined;
  if (data.rowCounts !== undefined && !isRecord(data.rowCounts)) return undefined;
  return data as unknown as LoadData;
}

/** The script's progress line (RESTORE_PROGRESS_SECONDS): shown on the progress bar, not logged. */
const STREAMED = /^postgres-restore: streamed (\d+) of (\d+) bytes$/;
/** The script's line naming the new database it restores into. */
const NEW_DATABASE = /restoring into new database (\S+) \(oid \d+\)/;

export const LOAD = outputOf<LoadData>(IDS.load, decodeLoad);

/** Where the restore runs unless the operator picks otherwise: the restore-mode option, the values file's restoreMode, else this host. */
function restoreModeOf(ctx: Pick<Ctx, 'options' | 'settings'>): 'host' | 'job' {
  const chosen = ctx.options['restore-mode'] ?? ctx.settings.restoreMode;
  return chosen === 'job' ? 'job' : 'host';
}

/** The tables whose restored row count differs from the dump's (missing ones included). */
export function rowMismatches(
  dump: Readonly<Record<string, number>>,
  restored: ReadonlyMap<string, number> | Readonly<Record<string, number>>,
): string[] {
  const get = (table: string) =>
    restored instanceof Map ? restored.get(table) : (restored as Record<string, number>)[table];
  return Object.entries(dump)
    .filter(([table, rows]) => get(table) !== rows)
    .map(([table, rows]) => `${table}: ${get(table) ?? 'missing'} (backup ${rows})`);
}

const sum = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0);

export const load = defineStep<LoadData>({
  ...LOAD,
  section: SECTION,
  title: 'Restore into a new database (the database is not touched)',
  description:
    'postgres-restore.sh (RESTORE_PHASE=load, env only) reads the backup once: hashed, inflated, checked and restored into a new database <db>_restore_<time> in one transaction. It keeps the new database only when the SHA-256 equals the sidecar’s, the dump is complete and psql committed; otherwise it is dropped. Then its row counts are compared with the dump’s. The database itself is replaced later, in the swap step, behind a typed gate.',
  inputs: [...PG_INPUTS, 'S3_BUCKET'],
  optionalInputs: STORAGE_OPTIONAL,
  database: 'postgres',
  plan: (values, options) => {
    const uri = typeof options['restore-uri'] === 'string' ? options['restore-uri'] : '${RESTORE_S3_URI}';
    return {
      actions: [
        {
          summary: `restore the chosen backup into a new database beside ${values.get('POSTGRES_DATABASE') ?? '<database>'} (not touched)`,
          command: envCommand(
            [...pgWords(values), [`RESTORE_S3_URI=${uri}`, 'CLEAN_TARGET=true', 'RESTORE_PHASE=load']],
            scriptLocation({}, 'postgres-restore.sh').display,
          ),
        },
      ],
      notes: [
        'The backup is downloaded once; nothing is staged on disk. Ctrl+C drops the new database; the target is never touched here.',
        `Or, as a choice (restoreMode: job in the values file), a Kubernetes Job made from CronJob ${BACKUP_CRONJOB}: its image, Secrets and scripts ConfigMap.`,
      ],
    };
  },
  async preview(ctx) {
    const { chosen, integrity, unverified } = requireRestorable(ctx.from, SPEC);
    requireRoles(ctx.from, SPEC);
    // A restore killed outright (kill -9), or one never swapped in, leaves a new database behind: it holds a full copy.
    const database = ctx.values.require('POSTGRES_DATABASE');
    const leftovers = parseNames(
      await psqlOrThrow(ctx, scratchDatabasesSql(database), MAINTENANCE_DATABASE),
    ).filter((name) => name !== database);
    const mode =
      (await operatorChoice(
        ctx,
        'Where should postgres-restore.sh run?',
        [
          {
            label: 'From this host',
            value: 'host',
            hint: 'env only; needs psql ≥ the pg_dump that made the backup, and aws',
          },
          {
            label: `As a Kubernetes Job in ${ctx.target.namespace}`,
            value: 'job',
            hint: `from CronJob ${BACKUP_CRONJOB}: its image, Secrets and scripts ConfigMap`,
          },
        ],
        restoreModeOf(ctx),
      )) ?? restoreModeOf(ctx);
    return {
      data: { mode },
      lines: [
        `runs: ${mode === 'job' ? `a Kubernetes Job in ${ctx.target.namespace} (from CronJob ${BACKUP_CRONJOB})` : 'postgres-restore.sh on this host'}`,
        ...leftovers.map(
          (name) =>
            `leftover database ${name} from an earlier restore (${name.includes('_pre_restore_') ? `the target as it was before that restore's swap` : 'a restored copy never swapped in'}; drop it when done: DROP DATABASE "${name}" WITH (FORCE))`,
        ),
        `restore ${chosen.uri} (${formatBytes(chosen.size)}) into a new database beside ${database} on ${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}; ${database} is not touched`,
        unverified
          ? 'integrity: NOT VERIFIED (overridden)'
          : `integrity: sha256 must equal ${integrity.sha256.slice(0, 16)}… as it streams, or nothing is kept`,
      ],
    };
  },
  gate(values, ctx): Gate {
    const restorable = restorableOrUndefined(ctx.from, SPEC);
    return {
      kind: 'confirm',
      prompt: `Restore ${restorable?.chosen.uri ?? 'the chosen backup'} into a new database on ${values.get('POSTGRES_HOST')}:${values.get('POSTGRES_PORT')}? ${values.get('POSTGRES_DATABASE')} is not touched; it is swapped in later, behind its own typed gate.`,
      target: {
        ...target(values, ctx),
        backup: restorable?.chosen.uri ?? '?',
        integrity: integrityTargetLine(restorable),
        runs:
          ctx.preview?.data?.mode === 'job'
            ? `a Kubernetes Job in ${ctx.target.namespace} (from CronJob ${BACKUP_CRONJOB}), RESTORE_PHASE=load`
            : 'postgres-restore.sh on this host, RESTORE_PHASE=load',
      },
    };
  },
  async run(ctx) {
    const { chosen, integrity, unverified } = requireRestorable(ctx.from, SPEC);
    const roles = requireRoles(ctx.from, SPEC);
    const mode = ctx.preview?.data?.mode === 'job' ? 'job' : 'host';
    const database = ctx.values.require('POSTGRES_DATABASE');
    const vars: Record<string, string> = {
      RESTORE_S3_URI: chosen.uri,
      CLEAN_TARGET: 'true',
      RESTORE_PHASE: 'load',
      RESTORE_PROGRESS_SECONDS: '1',
      // the object whose hash the integrity check showed, and no other (replaced since?)
      ...pinnedObjectEnv(integrity),
      // the roles preflight's choice: create missing roles, map them, or leave owners and privileges out
      ...rolesEnv(roles),
      ...(unverified ? { ALLOW_UNVERIFIED: 'true' } : {}),
    };
    const started = Date.now();
    let streamed = false;
    const progress: ScriptProgress = {
      phase: `streaming ${formatBytes(chosen.size)} into a new database (hashed and checked on the way)`,
      show: () => !streamed,
    };
    const bytes = byteProgress(ctx, 'restoring into a new database:', chosen.size);
    let newDatabase: string | undefined;
    let counting: ReturnType<typeof runPsql> | undefined;
    const onLine = (line: string) => {
      const streaming = STREAMED.exec(line);
      if (streaming) {
        streamed = Number(streaming[1]) < Number(streaming[2]);
        bytes(Number(streaming[1]));
        return;
      }
      ctx.log(line);
      const created = NEW_DATABASE.exec(line);
      if (created?.[1]) {
        newDatabase = created[1];
        progress.phase = `restoring ${formatBytes(chosen.size)} into a new database (hashed and checked on the way)`;
      } else if (/downloaded and verified/.test(line)) {
        progress.phase =
          'verified; ANALYZE and the database’s owner, privileges and settings; counting its rows';
        // psql has committed: count the rows now, while the script runs ANALYZE (the other core)
        if (newDatabase && !counting) counting = runPsql(ctx, ROW_COUNTS_SQL, newDatabase);
      }
    };
    ctx.mark(MARK.restoreStarted, { uri: chosen.uri, database, mode });
    const result = await runRestoreScript(ctx, mode, vars, chosen.size, progress, onLine);
    // never left running, whatever happened to the script (a dropped database ends the query)
    const countedEarly = await counting;
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    if (result.detached)
      return {
        summary: `stopped watching: ${result.where} keeps running in the cluster`,
        checks: [
          detachedCheck(
            'load',
            result,
            'the new database is unknown here',
            `then run ${IDS.load} again (it lists the database that Job left).`,
          ),
        ],
        data: { loaded: false, mode, seconds },
      };
    if (ctx.signal.aborted) {
      ctx.log(
        `interrupted after ${formatDuration(seconds * 1000)}: the new database is dropped; ${database} was not touched`,
      );
      throw new InterruptedError();
    }
    const out = scriptOutput(result.output);
    const log = result.log
      .split('\n')
      .filter((line) => !STREAMED.test(line))
      .join('\n');
    if (result.exitCode !== 0 || !out.scratch || !out.restored_oid) {
      const meaning = RESTORE_EXIT[result.exitCode] ?? (result.interrupted ? 'interrupted' : 'failed');
      return {
        summary: `restore into a new database FAILED (exit ${result.exitCode}: ${meaning}); ${database} was not touched`,
        checks: [
          {
            id: 'load',
            label: `postgres-restore.sh RESTORE_PHASE=load (${result.where})`,
            status: 'fail',
            detail: lastLines(log, 4) || `exit ${result.exitCode}`,
            next: 'The database was not touched. Fix the cause and run this step again.',
          },
        ],
        data: { loaded: false, mode, seconds, exitCode: result.exitCode },
      };
    }
    const scratch = out.scratch;
    ctx.mark(MARK.downloadDone, { uri: chosen.uri });
    ctx.mark(MARK.temporaryCreated, {
      kind: 'database',
      name: scratch,
      where: `PostgreSQL ${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}`,
    } satisfies TemporaryData);
    const rowCounts = parseCopyRows(result.output);
    const counted =
      countedEarly && countedEarly.exitCode === 0 && newDatabase === scratch
        ? countedEarly
        : await runPsql(ctx, ROW_COUNTS_SQL, scratch);
    const restored = counted.exitCode === 0 ? parseRowCounts(counted.stdout) : undefined;
    const mismatches = restored ? rowMismatches(rowCounts, restored) : [];
    const tables = Object.keys(rowCounts).length;
    const rowsCheck: Check = restored
      ? {
          id: 'rows',
          label: `rows in ${scratch}`,
          status: mismatches.length === 0 ? 'ok' : 'fail',
          detail:
            mismatches.length === 0
              ? `${sum(rowCounts)} row(s) in ${tables} table(s), equal to the backup's, table by table`
              : mismatches.slice(0, 5).join('; '),
          ...(mismatches.length ? { next: 'Do not swap it in: drop it and look at the log above.' } : {}),
        }
      : {
          id: 'rows',
          label: `rows in ${scratch}`,
          status: 'warn',
          detail: `could not count them: ${lastLines(counted.stderr, 2)}`,
        };
    const rolesCreated = (out.roles_created ?? '').split(',').filter(Boolean);
    const privileges = out.privileges === 'dropped' || out.privileges === 'mapped' ? out.privileges : 'kept';
    return {
      summary: `restored into new database ${scratch} in ${formatDuration(seconds * 1000)} (${result.where}); ${database} not touched yet`,
      checks: [
        {
          id: 'load',
          label: `postgres-restore.sh RESTORE_PHASE=load (${result.where})`,
          status: 'ok',
          detail: `exit 0; read once, sha256 ${out.verified === 'true' ? 'matches the sidecar' : 'NOT verified (no sidecar)'}, dump complete, psql committed`,
        },
        rowsCheck,
        ...(rolesCreated.length
          ? [
              {
                id: 'roles',
                label: 'roles created',
                status: 'warn' as const,
                detail: `from the backup's globals, WITHOUT passwords: ${rolesCreated.join(', ')}`,
                next: `Set their passwords: ALTER ROLE … PASSWORD '…' (${rolesCreated.join(', ')})`,
              },
            ]
          : []),
      ],
      data: {
        loaded: true,
        scratch,
        oid: out.restored_oid,
        mode,
        where: result.where,
        sha256: out.sha256 ?? integrity.sha256,
        verified: out.verified === 'true',
        ...(out.recovery_point && out.recovery_point !== 'unknown'
          ? { recoveryPoint: out.recovery_point }
          : {}),
        rowCounts,
        ...(restored ? { restoredCounts: Object.fromEntries(restored) } : {}),
        markerFound: 'public.backup_validation' in rowCounts,
        rolesCreated,
        privileges,
        seconds,
      },
    };
  },
});
