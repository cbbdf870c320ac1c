/**
 * The destructive step: the restored copy the load step made (and checked) is swapped in for the database.
 * The gate shows the copy's row counts next to the database's now; type "drop <database>"; then
 * postgres-restore.sh RESTORE_PHASE=swap (env only, on this host or as a Job) swaps exactly that database in
 * with one transaction of renames. What the target is afterwards is read from the server, whatever the
 * script's exit code says.
 */
import { formatDuration } from '../../runbook/backup-catalog.js';
import { InterruptedError, RunbookError } from '../../runbook/errors.js';
import { MARK, type TemporaryData } from '../../runbook/marks.js';
import { ESTIMATED_ROW_COUNTS_SQL, parseRowCounts, quoteLiteral } from '../../runbook/pg-queries.js';
import { type Check, type Gate, outputOf } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { requireRoles } from '../restore-kit/roles.js';
import { type Ctx, requireRestorable } from '../restore-kit/spec.js';
import { lastLines, MAINTENANCE_DATABASE, PG_INPUTS } from '../clients/psql.js';
import { integrityTargetLine, restorableOrUndefined } from '../restore-kit/restore-gate.js';
import {
  readRestoreOutcome,
  scriptLocation,
  scriptOutput,
  STORAGE_OPTIONAL,
} from '../clients/restore-scripts.js';
import { runPsql } from '../clients/psql-run.js';
import { BACKUP_CRONJOB, envCommand, HANDLES, IDS, pgWords, SECTION, SPEC, target } from './ids.js';
import { stopWrites } from './stop-writes.js';
import { safetyBackup, safetyBackupLine } from './safety-backup.js';
import { LOAD, type LoadData } from './load.js';
import { RESTORE_EXIT } from './exit-codes.js';
import { detachedCheck, runRestoreScript, type ScriptProgress } from './run-modes.js';

/**
 * The destructive gate's phrase: it names what is destroyed, and differs from the writes-stopped gate's
 * (the database name), so the first answer typed from habit cannot pass the second.
 */
export function destroyPhrase(database: string): string {
  return `drop ${database}`;
}

/** The restored copy the load step made, or why there is none to swap in. */
function requireLoaded(ctx: Pick<Ctx, 'from'>): Required<Pick<LoadData, 'scratch' | 'oid'>> & LoadData {
  const loaded = ctx.from(LOAD);
  if (!loaded?.loaded || !loaded.scratch || !loaded.oid)
    throw new RunbookError('nothing has been restored into a new database in this session', {
      next: `Run ${IDS.load} first.`,
    });
  return loaded as Required<Pick<LoadData, 'scratch' | 'oid'>> & LoadData;
}

const total = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * Per table: the restored copy next to the database now (the statistics' estimate, "≈"), the tables that
 * differ first (at most `limit`).
 */
export function countLines(
  restored: Readonly<Record<string, number>>,
  now: Readonly<Record<string, number>> | undefined,
  limit = 8,
): string[] {
  const tables = [...new Set([...Object.keys(restored), ...Object.keys(now ?? {})])].sort();
  const differs = (table: string) => now !== undefined && restored[table] !== now[table];
  const ordered = [...tables.filter(differs), ...tables.filter((table) => !differs(table))];
  const lines = ordered
    .slice(0, limit)
    .map(
      (table) =>
        `  ${table}: ${restored[table] ?? 'absent'} restored${now ? ` · ${now[table] === undefined ? 'absent' : `≈${now[table]}`} now` : ''}`,
    );
  if (ordered.length > limit) lines.push(`  … ${ordered.length - limit} more table(s)`);
  return lines;
}

/** The swap step's output, as validate and resume-writes read it. */
export interface SwapData {
  restored?: boolean;
  database?: string;
  /** The database as it was before the swap, kept by name until writes resume (then dropped if validated). */
  previous?: string;
  /** The oid of the restored database (the load step's). */
  oid?: string;
}

/** Journals replayed on resume hold plain JSON: a field of the wrong type is dropped, not trusted. */
function decodeSwap(data: Record<string, unknown>): SwapData {
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const previous = text(data.previous);
  const oid = text(data.oid);
  const database = text(data.database);
  return {
    ...(typeof data.restored === 'boolean' ? { restored: data.restored } : {}),
    ...(database ? { database } : {}),
    ...(previous ? { previous } : {}),
    ...(oid ? { oid } : {}),
  };
}

export const SWAP = outputOf<SwapData>(IDS.restore, decodeSwap);

export const restore = defineStep({
  id: IDS.restore,
  section: SECTION,
  title: 'Swap in the restored database (replaces the database)',
  description:
    'Shows the restored copy’s row counts next to the database’s now (the statistics’ estimate). Type "drop <database>" (not the database name alone: that answered the writes-stopped gate), then postgres-restore.sh RESTORE_PHASE=swap (env only) swaps exactly the database the load step restored and checked in for the target, with one transaction of renames. The previous one is kept by name until validation passes (the undo), then dropped when writes resume. The outcome is read from the server.',
  inputs: [...PG_INPUTS, 'S3_BUCKET'],
  optionalInputs: STORAGE_OPTIONAL,
  database: 'postgres',
  plan: (values) => ({
    actions: [
      {
        summary: `replace database ${values.get('POSTGRES_DATABASE') ?? '<database>'} on ${values.get('POSTGRES_HOST') ?? '<host>'} with the restored copy`,
        command: envCommand(
          [
            ...pgWords(values),
            ['RESTORE_PHASE=swap', 'RESTORE_SCRATCH=<the new database>', 'RESTORE_SCRATCH_OID=<its oid>'],
          ],
          scriptLocation({}, 'postgres-restore.sh').display,
        ),
        destructive: true,
      },
    ],
    notes: [
      'Typed gate: "drop <database>", after the restored copy’s row counts. The swap (one transaction of renames) is never cut in half; what the database is afterwards is read from the server and shown.',
      `Runs where the load step ran: this host, or a Kubernetes Job made from CronJob ${BACKUP_CRONJOB}.`,
    ],
  }),
  async preview(ctx) {
    requireRestorable(ctx.from, SPEC);
    requireRoles(ctx.from, SPEC);
    const loaded = requireLoaded(ctx);
    if (!ctx.from(stopWrites))
      throw new RunbookError('application writes have not been confirmed stopped in this session', {
        next: `Run ${IDS.stopWrites} first.`,
      });
    const safety = ctx.from(safetyBackup);
    if (!safety || (safety.skipped !== true && typeof safety.uri !== 'string'))
      throw new RunbookError('no safety backup was taken (or skipped by typed phrase) in this session', {
        next: `Run ${IDS.safetyBackup} first.`,
      });
    const database = ctx.values.require('POSTGRES_DATABASE');
    const exists = await runPsql(
      ctx,
      `SELECT oid FROM pg_database WHERE datname = ${quoteLiteral(loaded.scratch)}`,
      MAINTENANCE_DATABASE,
    );
    const oid = exists.stdout.trim();
    if (exists.exitCode === 0 && oid !== loaded.oid)
      throw new RunbookError(
        oid === ''
          ? `the restored database ${loaded.scratch} does not exist any more`
          : `database ${loaded.scratch} has oid ${oid}, not ${loaded.oid}: it is not the one restored and checked`,
        { next: `Run ${IDS.load} again.` },
      );
    // the database about to be replaced: the statistics' estimate (a count would scan every table of it)
    const counted = await runPsql(ctx, ESTIMATED_ROW_COUNTS_SQL, database);
    const now = counted.exitCode === 0 ? Object.fromEntries(parseRowCounts(counted.stdout)) : undefined;
    const restored = loaded.restoredCounts ?? loaded.rowCounts ?? {};
    return {
      data: { now: now ? total(now) : null },
      lines: [
        `restored copy: ${loaded.scratch} (oid ${loaded.oid}), ${total(restored)} row(s) in ${Object.keys(restored).length} table(s), equal to the backup's`,
        `${database} now: ${now ? `≈${total(now)} row(s) in ${Object.keys(now).length} table(s) (statistics)` : `could not read (${lastLines(counted.stderr, 1)})`}`,
        ...countLines(restored, now),
        `safety backup: ${safetyBackupLine(ctx.from)}`,
      ],
    };
  },
  gate(values, ctx): Gate {
    const restorable = restorableOrUndefined(ctx.from, SPEC);
    const chosen = restorable?.chosen;
    const loaded = ctx.from(LOAD);
    const database = values.require('POSTGRES_DATABASE');
    const dataLoss = ctx.from(HANDLES.choose)?.dataLoss;
    const restored = loaded?.restoredCounts ?? loaded?.rowCounts;
    const now = ctx.preview?.data?.now;
    return {
      kind: 'typed',
      prompt: `DESTRUCTIVE: the restored copy ${loaded?.scratch ?? '?'} replaces database ${database} on ${values.get('POSTGRES_HOST')}:${values.get('POSTGRES_PORT')}; ${database} as it is now is kept by name until the restored one is validated, then DROPPED when writes resume. Type "${destroyPhrase(database)}" to confirm.`,
      phrase: destroyPhrase(database),
      target: {
        ...target(values, ctx),
        'restored copy': loaded?.scratch
          ? `${loaded.scratch}: ${restored ? `${total(restored)} row(s) in ${Object.keys(restored).length} table(s)` : '?'}`
          : '?',
        ...(typeof now === 'number' ? { [`${database} now`]: `≈${now} row(s)` } : {}),
        backup: chosen?.uri ?? '?',
        'recovery point': chosen?.recoveryPoint ?? 'unknown',
        'data loss': dataLoss?.text ?? 'unknown',
        integrity: loaded?.loaded
          ? loaded.verified
            ? `sha256 ${String(loaded.sha256).slice(0, 16)}… matched the sidecar as it streamed`
            : 'NOT VERIFIED (overridden)'
          : integrityTargetLine(restorable),
        'safety backup': safetyBackupLine(ctx.from),
        runs:
          loaded?.mode === 'job'
            ? `a Kubernetes Job in ${ctx.target.namespace} (from CronJob ${BACKUP_CRONJOB}), RESTORE_PHASE=swap`
            : 'postgres-restore.sh on this host, RESTORE_PHASE=swap',
      },
    };
  },
  async run(ctx) {
    const { chosen, integrity, unverified } = requireRestorable(ctx.from, SPEC);
    const roles = requireRoles(ctx.from, SPEC);
    const loaded = requireLoaded(ctx);
    const mode = loaded.mode;
    const database = ctx.values.require('POSTGRES_DATABASE');
    const vars: Record<string, string> = {
      RESTORE_PHASE: 'swap',
      RESTORE_SCRATCH: loaded.scratch,
      RESTORE_SCRATCH_OID: loaded.oid,
      // the previous database stays, by name, as the fastest undo until the restored one is validated: the
      // resume-writes step drops it then (DROP DATABASE forces a checkpoint: seconds the incident need not wait)
      KEEP_PRE_RESTORE: 'true',
    };
    const started = Date.now();
    const progress: ScriptProgress = {
      phase: `swapping ${loaded.scratch} in for ${database} (one transaction)`,
    };
    const result = await runRestoreScript(ctx, mode, vars, 0, progress, (line) => ctx.log(line));
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const backup = {
      uri: chosen.uri,
      size: chosen.size,
      sha256: loaded.sha256 ?? integrity.sha256,
      verified: !unverified && loaded.verified !== false,
      ...(chosen.provenRestorable ? { provenRestorable: chosen.provenRestorable } : {}),
    };
    if (result.detached) {
      return {
        summary: `stopped watching: ${result.where} keeps running in the cluster`,
        checks: [
          detachedCheck(
            'restore',
            result,
            'the outcome is unknown here',
            `when it has completed, run ${IDS.validate}.`,
          ),
        ],
        data: { detached: true, where: result.where, seconds, mode },
      };
    }
    // What happened is read from the server, whatever the exit code says: the target IS the restored
    // database (the oid the load step made), or it is as it was.
    const previousName = loaded.scratch.replace(/_restore_(\d+)$/, '_pre_restore_$1');
    const outcome = await readRestoreOutcome(ctx, database, result.log, {
      scratch: loaded.scratch,
      oid: loaded.oid,
      previous: previousName,
    });
    const restoredNow = () => {
      ctx.mark(MARK.restoreDone, { uri: chosen.uri, database });
      ctx.mark(MARK.recoveryPoint, {
        at: chosen.recoveryPoint ?? loaded.recoveryPoint ?? scriptOutput(result.output).recovery_point,
        ...backup,
      });
      ctx.mark(MARK.temporaryRemoved, { kind: 'database', name: loaded.scratch } satisfies TemporaryData);
    };
    if (ctx.signal.aborted && ctx.signal.reason !== 'detach') {
      ctx.log(`interrupted after ${formatDuration(seconds * 1000)}: ${outcome.text}`);
      if (outcome.restored) restoredNow();
      throw new InterruptedError();
    }
    const outcomeCheck: Check = {
      id: 'outcome',
      label: `${database} now (read from the server)`,
      status: outcome.restored ? 'ok' : 'fail',
      detail: outcome.text,
    };
    if (result.exitCode !== 0 && !outcome.restored) {
      const meaning = RESTORE_EXIT[result.exitCode] ?? (result.interrupted ? 'interrupted' : 'failed');
      return {
        summary: `swap FAILED (exit ${result.exitCode}: ${meaning}); ${outcome.text}`,
        checks: [
          {
            id: 'restore',
            label: `postgres-restore.sh RESTORE_PHASE=swap (${result.where})`,
            status: 'fail',
            detail: lastLines(result.log, 4) || `exit ${result.exitCode}`,
            next: `${database} was not replaced; the restored copy ${loaded.scratch} is kept. Fix the cause and run this step again.`,
          },
          outcomeCheck,
        ],
        data: {
          exitCode: result.exitCode,
          seconds,
          mode,
          restored: false,
          outcome: outcome.text,
          left: outcome.left,
        },
      };
    }
    restoredNow();
    const lateExit = result.exitCode !== 0;
    const rolesCreated = loaded.rolesCreated ?? [];
    const privileges = loaded.privileges ?? 'kept';
    const privilegesCheck: Check = {
      id: 'privileges',
      label: 'owners and privileges',
      // created roles have no password yet: a warning, with the next step
      status: privileges === 'dropped' || rolesCreated.length > 0 ? 'warn' : 'ok',
      detail:
        privileges === 'dropped'
          ? `left out (typed override): ${String(roles.lost ?? 'owners and privileges')}`
          : `${
              privileges === 'mapped'
                ? `restored with roles mapped (${Object.entries(roles.roleMap)
                    .map(([from, to]) => `${from}→${to}`)
                    .join(', ')})`
                : 'restored as in the backup'
            }${rolesCreated.length ? `; roles created from the backup's globals, WITHOUT passwords: ${rolesCreated.join(', ')}` : ''}`,
      ...(rolesCreated.length
        ? { next: `Set their passwords: ALTER ROLE … PASSWORD '…' (${rolesCreated.join(', ')})` }
        : {}),
    };
    const loadSeconds = loaded.seconds;
    return {
      summary: lateExit
        ? `restored ${database} from ${chosen.uri} (${result.where}), but postgres-restore.sh exited ${result.exitCode} after the swap: ${outcome.text}`
        : `restored ${database} from ${chosen.uri} in ${formatDuration((seconds + loadSeconds) * 1000)} (${result.where}): read once into a new database in ${formatDuration(loadSeconds * 1000)}, swapped in in ${formatDuration(seconds * 1000)}`,
      checks: [
        {
          id: 'restore',
          label: `postgres-restore.sh RESTORE_PHASE=swap (${result.where})`,
          status: lateExit ? 'warn' : 'ok',
          detail: lateExit
            ? `exit ${result.exitCode} (${RESTORE_EXIT[result.exitCode] ?? 'failed'}) after the swap was committed`
            : `exit 0; ${loaded.scratch} (oid ${loaded.oid}, sha256 ${backup.verified ? 'verified' : 'NOT verified'}) is ${database} now`,
          ...(lateExit ? { next: 'The restore is complete; see the log for what was left.' } : {}),
        },
        outcomeCheck,
        privilegesCheck,
      ],
      data: {
        backup,
        database,
        seconds: Math.round((seconds + loadSeconds) * 10) / 10,
        mode,
        where: result.where,
        restored: true,
        outcome: outcome.text,
        left: outcome.left,
        rolesCreated,
        privileges,
        // read from the server: the script may have stopped before it printed its output
        ...(previousName in outcome.left ? { previous: previousName } : {}),
        oid: loaded.oid,
      },
    };
  },
});
