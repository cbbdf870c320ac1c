/**
 * `db-runbook verify [--latest|URI]`: prove one PostgreSQL backup restorable now, from this host, exactly as the
 * postgres-restore-verify CronJob does: ops/db/backup-jobs/scripts/postgres-verify.sh restores it into a scratch
 * database it creates and drops (<db>_verify), compares the row counts and owners/privileges recorded at backup
 * time, and publishes <key>.verified.json beside the backup.
 */
import { RunbookError } from '../../runbook/errors.js';
import type { Check, Plan, StepResult } from '../../runbook/step.js';
import { defineStep, type RunbookStep } from '../define.js';
import { postgresEnv, scriptLocation, storageEnv } from '../clients/restore-scripts.js';

export const VERIFY_STEP_ID = 'verify.postgres';

const SCRIPT = 'postgres-verify.sh';

/** The script's `key=value` summary on stdout. */
function summaryOf(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([a-z_0-9]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined) out[match[1]] = match[2] ?? '';
  }
  return out;
}

/** The checks the script logged (`postgres-verify: ✓ NAME: DETAIL` / `✗`). */
export function checksOf(stderr: string): Check[] {
  const checks: Check[] = [];
  for (const line of stderr.split('\n')) {
    const match = /^postgres-verify: ([✓✗]) ([^:]+): (.*)$/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    checks.push({
      id: `verify.${match[2].replace(/\W+/g, '-')}`,
      label: match[2],
      status: match[1] === '✓' ? 'ok' : 'fail',
      detail: match[3],
    });
  }
  return checks;
}

export function verifyBackupStep(uri?: string): RunbookStep {
  const which = uri ?? 'the newest backup under POSTGRES_S3_PREFIX';
  return defineStep({
    id: VERIFY_STEP_ID,
    section: 'dr-validation',
    title: 'Prove a PostgreSQL backup restorable',
    description: `Restore ${which} into a scratch database (<db>_verify, created and dropped by the script), compare the row counts and owners/privileges recorded at backup time, and publish <key>.verified.json beside it — what the postgres-restore-verify CronJob does daily.`,
    inputs: [
      'S3_BUCKET',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'POSTGRES_HOST',
      'POSTGRES_DATABASE',
      'POSTGRES_USER',
      'POSTGRES_PASSWORD',
    ],
    plan(): Plan {
      const script = scriptLocation({}, SCRIPT).display;
      return {
        actions: [
          {
            summary: `restore ${which} into the scratch database, compare, drop it, publish <key>.verified.json`,
            command: `${uri ? `VERIFY_S3_URI=${uri} ` : ''}bash ${script}`,
            writes: true,
          },
        ],
        notes: [
          'Writes only the scratch database (never one it did not create) and the record; POSTGRES_DATABASE is only named.',
        ],
      };
    },
    async run(ctx): Promise<StepResult> {
      const script = scriptLocation(ctx.settings, SCRIPT);
      const storage = storageEnv(ctx.values);
      const env: Record<string, string> = { ...storage.env, ...postgresEnv(ctx.values).env };
      if (uri) env.VERIFY_S3_URI = uri;
      const result = await ctx.adapters.proc.run('bash', [script.path], {
        env,
        secrets: storage.secrets,
        signal: ctx.signal,
        processGroup: true,
        onLine: (line, stream) => {
          if (stream === 'stderr') ctx.log(line);
        },
      });
      const summary = summaryOf(result.stdout);
      const checks = checksOf(result.stderr);
      if (result.interrupted)
        throw new RunbookError('verification interrupted: the script dropped its scratch database', {
          exitCode: 130,
        });
      if (result.exitCode !== 0 && result.exitCode !== 1) {
        const reason = result.stderr
          .split('\n')
          .reverse()
          .find((line) => line.includes('error:'));
        throw new RunbookError(
          `${SCRIPT} could not verify (exit ${result.exitCode}): ${reason?.replace(/^postgres-verify: error: /, '') ?? 'see the log'}`,
          {
            next:
              result.exitCode === 4
                ? 'Check S3_BUCKET/POSTGRES_S3_PREFIX and that a backup exists (db-runbook run test-postgres makes one).'
                : result.exitCode === 3
                  ? 'Check POSTGRES_HOST/PORT/USER/PASSWORD; the user needs CREATEDB for the scratch database.'
                  : undefined,
          },
        );
      }
      const proven = summary.result === 'pass';
      checks.push({
        id: 'verify.record',
        label: 'verification record published',
        status: summary.record ? 'ok' : 'fail',
        detail: summary.record
          ? `${summary.record} (sha256 ${summary.record_sha256 ?? '?'})`
          : 'the script published no record',
      });
      return {
        summary: proven
          ? `PROVEN RESTORABLE: ${summary.backup ?? '?'} (${summary.duration_seconds ?? '?'} s)`
          : `NOT RESTORABLE: ${summary.backup ?? '?'}: ${summary.failed_check || 'a check'} failed`,
        checks,
        data: {
          backup: summary.backup,
          result: summary.result,
          record: summary.record,
          failedCheck: summary.failed_check || undefined,
          durationSeconds: Number(summary.duration_seconds),
        },
      };
    },
  });
}
