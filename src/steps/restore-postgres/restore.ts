/**
 * The destructive step: type "drop <database>", then postgres-restore.sh (CLEAN_TARGET=true, env only) on
 * this host or as a Job; it refuses any object but the verified one. What the target is afterwards is read
 * from the server, whatever the script's exit code says.
 */
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { InterruptedError, RunbookError } from '../../runbook/errors.js';
import { MARK } from '../../runbook/marks.js';
import { parseNames, scratchDatabasesSql } from '../../runbook/pg-queries.js';
import type { Check, Gate } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { requireRoles, rolesEnv } from '../restore-kit/roles.js';
import { type Ctx, operatorChoice, requireRestorable } from '../restore-kit/spec.js';
import { lastLines, MAINTENANCE_DATABASE, PG_INPUTS } from '../clients/psql.js';
import { integrityTargetLine, restorableOrUndefined } from '../restore-kit/restore-gate.js';
import {
  pinnedObjectEnv,
  readRestoreOutcome,
  scriptLocation,
  scriptOutput,
  STORAGE_OPTIONAL,
} from '../clients/restore-scripts.js';
import { psqlOrThrow } from '../clients/psql-run.js';
import { BACKUP_CRONJOB, envCommand, HANDLES, IDS, pgWords, SECTION, SPEC, target } from './ids.js';
import { stopWrites } from './stop-writes.js';
import { safetyBackup, safetyBackupLine } from './safety-backup.js';
import { runAsJob, runOnHost, type ScriptRun } from './run-modes.js';

/**
 * The destructive gate's phrase: it names what is destroyed, and differs from the writes-stopped gate's
 * (the database name), so the first answer typed from habit cannot pass the second.
 */
export function destroyPhrase(database: string): string {
  return `drop ${database}`;
}

/** Where the restore runs unless the operator picks otherwise: the restore-mode option, the values file's restoreMode, else this host. */
function restoreModeOf(ctx: Pick<Ctx, 'options' | 'settings'>): 'host' | 'job' {
  const chosen = ctx.options['restore-mode'] ?? ctx.settings.restoreMode;
  return chosen === 'job' ? 'job' : 'host';
}

const RESTORE_EXIT: Record<number, string> = {
  2: 'configuration (e.g. psql older than the pg_dump that wrote the backup, or without \\restrict)',
  3: 'PostgreSQL unreachable, login refused or missing privileges (CREATEDB, owner of the database)',
  4: 'backup object missing or object storage unreachable',
  5: 'integrity check failed (checksum mismatch, not the object verified, missing sidecar, not gzip, a dump cut short or holding psql meta-commands): the database was not touched',
  6: 'the SQL restore into the new database failed: the database is as it was',
  7: 'restored into a new database but swapping it into place failed (see the log for the exact commands)',
  129: 'interrupted (SIGHUP)',
  130: 'interrupted (SIGINT)',
  143: 'interrupted (SIGTERM)',
};

export const restore = defineStep({
  id: IDS.restore,
  section: SECTION,
  title: 'Restore (replaces the database)',
  description:
    'Type "drop <database>" to confirm CLEAN_TARGET=true (not the database name alone: that answered the writes-stopped gate), then postgres-restore.sh runs from this host with env only: it refuses any object but the one the integrity check verified (sha256, ETag), restores into a new database in one transaction, swaps it in with one transaction of renames, then drops the previous one. The outcome is read from the server.',
  inputs: [...PG_INPUTS, 'S3_BUCKET'],
  optionalInputs: STORAGE_OPTIONAL,
  database: 'postgres',
  plan: (values, options) => {
    const uri = typeof options['restore-uri'] === 'string' ? options['restore-uri'] : '${RESTORE_S3_URI}';
    return {
      actions: [
        {
          summary: `replace database ${values.get('POSTGRES_DATABASE') ?? '<database>'} on ${values.get('POSTGRES_HOST') ?? '<host>'} with the chosen backup (CLEAN_TARGET=true)`,
          command: envCommand(
            [...pgWords(values), [`RESTORE_S3_URI=${uri}`, 'CLEAN_TARGET=true']],
            scriptLocation({}, 'postgres-restore.sh').display,
          ),
          destructive: true,
        },
      ],
      notes: [
        'Typed gate: the database name. Ctrl+C before the swap leaves the database as it was; the swap itself (one transaction of renames) is never cut in half. What the database is afterwards is read from the server and shown.',
        `Or, as a choice (restoreMode: job in the values file), a Kubernetes Job made from CronJob ${BACKUP_CRONJOB}: its image, Secrets and scripts ConfigMap, running postgres-restore.sh with the same variables.`,
      ],
    };
  },
  async preview(ctx) {
    const { chosen, integrity, unverified } = requireRestorable(ctx.from, SPEC);
    requireRoles(ctx.from, SPEC);
    if (!ctx.from(stopWrites))
      throw new RunbookError('application writes have not been confirmed stopped in this session', {
        next: `Run ${IDS.stopWrites} first.`,
      });
    const safety = ctx.from(safetyBackup);
    if (!safety || (safety.skipped !== true && typeof safety.uri !== 'string'))
      throw new RunbookError('no safety backup was taken (or skipped by typed phrase) in this session', {
        next: `Run ${IDS.safetyBackup} first.`,
      });
    // A restore killed outright (kill -9) leaves its scratch database behind: say so, it holds a full copy.
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
            `leftover database ${name} from an interrupted restore (${name.includes('_pre_restore_') ? `the target as it was before that restore's swap` : 'the new database it restored into'}; drop it when done: DROP DATABASE "${name}" WITH (FORCE))`,
        ),
        `restore ${chosen.uri} (${formatBytes(chosen.size)}) into ${ctx.values.get('POSTGRES_DATABASE')} on ${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}`,
        unverified
          ? 'integrity: NOT VERIFIED (overridden)'
          : `integrity: sha256 ${integrity.sha256} verified`,
        `safety backup: ${safetyBackupLine(ctx.from)}`,
      ],
    };
  },
  gate(values, ctx): Gate {
    const restorable = restorableOrUndefined(ctx.from, SPEC);
    const chosen = restorable?.chosen;
    const database = values.require('POSTGRES_DATABASE');
    const dataLoss = ctx.from(HANDLES.choose)?.dataLoss;
    return {
      kind: 'typed',
      prompt: `DESTRUCTIVE: database ${database} on ${values.get('POSTGRES_HOST')}:${values.get('POSTGRES_PORT')} will be DROPPED and replaced by the backup (CLEAN_TARGET=true). Type "${destroyPhrase(database)}" to confirm.`,
      phrase: destroyPhrase(database),
      target: {
        ...target(values, ctx),
        backup: chosen?.uri ?? '?',
        'recovery point': chosen?.recoveryPoint ?? 'unknown',
        'data loss': dataLoss?.text ?? 'unknown',
        integrity: integrityTargetLine(restorable),
        'safety backup': safetyBackupLine(ctx.from),
        runs:
          ctx.preview?.data?.mode === 'job'
            ? `a Kubernetes Job in ${ctx.target.namespace} (from CronJob ${BACKUP_CRONJOB}), CLEAN_TARGET=true`
            : 'postgres-restore.sh on this host, CLEAN_TARGET=true',
      },
    };
  },
  async run(ctx) {
    const { chosen, integrity, unverified } = requireRestorable(ctx.from, SPEC);
    const roles = requireRoles(ctx.from, SPEC);
    const mode = ctx.preview?.data?.mode === 'job' ? 'job' : 'host';
    const database = ctx.values.require('POSTGRES_DATABASE');
    const restoreVars: Record<string, string> = {
      RESTORE_S3_URI: chosen.uri,
      CLEAN_TARGET: 'true',
      // the object whose hash the gate showed, and no other (replaced since the integrity check?)
      ...pinnedObjectEnv(integrity),
      // the roles preflight's choice: create missing roles, map them, or leave owners and privileges out
      ...rolesEnv(roles),
      ...(unverified ? { ALLOW_UNVERIFIED: 'true' } : {}),
    };
    const rows = Object.values(integrity.rowCounts ?? {}).reduce((sum, n) => sum + n, 0);
    const started = Date.now();
    let phase = `downloading ${formatBytes(chosen.size)} and verifying it again`;
    let downloaded = false;
    const tick = () =>
      ctx.progress({ message: `${phase} · ${formatDuration(Date.now() - started)} elapsed` });
    const onLine = (line: string) => {
      ctx.log(line);
      if (!downloaded && /downloaded and verified/.test(line)) {
        downloaded = true;
        ctx.mark(MARK.downloadDone, { uri: chosen.uri });
        phase = `restoring ${rows} row(s) in one transaction`;
        tick();
      } else if (/restoring into new database/.test(line)) {
        phase = `restoring ${rows} row(s) into a new database, then swapping it in`;
        tick();
      } else if (/swapping in one transaction/.test(line)) {
        phase = 'swapping the restored database in (one transaction)';
        tick();
      }
    };
    ctx.mark(MARK.restoreStarted, { uri: chosen.uri, database, mode });
    tick();
    const timer = setInterval(tick, 1000);
    let result: ScriptRun;
    try {
      result =
        mode === 'job'
          ? await runAsJob(ctx, restoreVars, chosen.size, onLine, (status) => (phase = status))
          : await runOnHost(ctx, restoreVars, onLine);
    } finally {
      clearInterval(timer);
    }
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    const backupOf = (sha256: string | undefined) => ({
      uri: chosen.uri,
      size: chosen.size,
      sha256: sha256 ?? integrity.sha256,
      verified: !unverified,
      ...(chosen.provenRestorable ? { provenRestorable: chosen.provenRestorable } : {}),
    });
    if (result.detached) {
      return {
        summary: `stopped watching: ${result.where} keeps running in the cluster`,
        checks: [
          {
            id: 'restore',
            label: result.where,
            status: 'fail',
            detail: 'detached (Esc) before it finished: the outcome is unknown here',
            next: `Follow it: ${result.follow}; when it has completed, run ${IDS.validate}.`,
          },
        ],
        data: { detached: true, where: result.where, seconds, mode },
      };
    }
    // What happened is read from the server, whatever the exit code says: the target IS the restored
    // database (the oid the script announced), or it is as it was.
    const outcome = await readRestoreOutcome(ctx, database, result.log);
    const restoredNow = () => {
      ctx.mark(MARK.restoreDone, { uri: chosen.uri, database });
      ctx.mark(MARK.recoveryPoint, {
        at: chosen.recoveryPoint ?? scriptOutput(result.output).recovery_point,
        ...backupOf(undefined),
      });
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
        summary: `restore FAILED (exit ${result.exitCode}: ${meaning}); ${outcome.text}`,
        checks: [
          {
            id: 'restore',
            label: `postgres-restore.sh (${result.where})`,
            status: 'fail',
            detail: lastLines(result.log, 4) || `exit ${result.exitCode}`,
            next:
              result.exitCode === 7
                ? 'Follow the commands in the log to finish the swap by hand.'
                : 'The target database was not replaced. Fix the cause and run this step again.',
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
    if (!downloaded) ctx.mark(MARK.downloadDone, { uri: chosen.uri });
    const out = scriptOutput(result.output);
    const backup = backupOf(out.sha256);
    restoredNow();
    const lateExit = result.exitCode !== 0;
    const rolesCreated = (out.roles_created ?? '').split(',').filter(Boolean);
    const privilegesCheck: Check = {
      id: 'privileges',
      label: 'owners and privileges',
      // created roles have no password yet: a warning, with the next step
      status: out.privileges === 'dropped' || rolesCreated.length > 0 ? 'warn' : 'ok',
      detail:
        out.privileges === 'dropped'
          ? `left out (typed override): ${String(roles.lost ?? 'owners and privileges')}`
          : `${
              out.privileges === 'mapped'
                ? `restored with roles mapped (${Object.entries(roles.roleMap)
                    .map(([from, to]) => `${from}→${to}`)
                    .join(', ')})`
                : 'restored as in the backup'
            }${rolesCreated.length ? `; roles created from the backup's globals, WITHOUT passwords: ${rolesCreated.join(', ')}` : ''}`,
      ...(rolesCreated.length
        ? { next: `Set their passwords: ALTER ROLE … PASSWORD '…' (${rolesCreated.join(', ')})` }
        : {}),
    };
    return {
      summary: lateExit
        ? `restored ${database} from ${chosen.uri} (${result.where}), but postgres-restore.sh exited ${result.exitCode} after the swap: ${outcome.text}`
        : `restored ${database} from ${chosen.uri} in ${formatDuration(seconds * 1000)} (${result.where})`,
      checks: [
        {
          id: 'restore',
          label: `postgres-restore.sh (${result.where})`,
          status: lateExit ? 'warn' : 'ok',
          detail: lateExit
            ? `exit ${result.exitCode} (${RESTORE_EXIT[result.exitCode] ?? 'failed'}) after the swap was committed`
            : `exit 0; sha256 ${backup.verified ? 'verified' : 'NOT verified'}, the object the integrity check verified`,
          ...(lateExit ? { next: 'The restore is complete; see the log for what was left.' } : {}),
        },
        outcomeCheck,
        privilegesCheck,
      ],
      data: {
        backup,
        database,
        seconds,
        mode,
        where: result.where,
        restored: true,
        outcome: outcome.text,
        left: outcome.left,
        rolesCreated,
        privileges: out.privileges ?? 'kept',
      },
    };
  },
});
