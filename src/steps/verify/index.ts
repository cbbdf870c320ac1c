/**
 * `db-runbook verify [--neo4j] [--latest|URI]`: prove one backup restorable now, from this host, exactly as the
 * restore-verify CronJobs do. PostgreSQL: postgres-verify.sh restores it into a scratch database it creates and
 * drops (<db>_verify) and compares the row counts and owners/privileges recorded at backup time. Neo4j:
 * neo4j-verify.sh restores it into an isolated scratch Neo4j (the local distribution, NEO4J_HOME), checks its
 * consistency, counts and smoke-tests it, and deletes it. Both publish <key>.verified.json beside the backup.
 */
import { RunbookError } from '../../runbook/errors.js';
import type { Check, Plan, StepResult } from '../../runbook/step.js';
import { defineStep, type RunbookStep } from '../define.js';
import { namedValuesEnv, postgresEnv, scriptLocation, storageEnv } from '../clients/restore-scripts.js';
import { neo4jHome } from '../clients/cypher.js';

export const VERIFY_STEP_ID = 'verify.postgres';

const VERIFY = {
  postgres: {
    id: VERIFY_STEP_ID,
    script: 'postgres-verify.sh',
    noun: 'PostgreSQL',
    prefix: 'POSTGRES_S3_PREFIX',
    how: 'into a scratch database (<db>_verify, created and dropped by the script), compare the row counts and owners/privileges recorded at backup time',
  },
  neo4j: {
    id: 'verify.neo4j',
    script: 'neo4j-verify.sh',
    noun: 'Neo4j',
    prefix: 'NEO4J_S3_PREFIX',
    how: 'into an isolated scratch Neo4j on this host (the distribution in NEO4J_HOME; its own folder and port, deleted after), check its consistency, count and smoke-test it',
  },
} as const;

/** The script's `key=value` summary on stdout. */
function summaryOf(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const match = /^([a-z_0-9]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined) out[match[1]] = match[2] ?? '';
  }
  return out;
}

/** The checks the script logged (`postgres-verify: ✓ NAME: DETAIL` / `✗`; a smoke query's NAME holds a colon). */
export function checksOf(stderr: string): Check[] {
  const checks: Check[] = [];
  for (const line of stderr.split('\n')) {
    const match = /^(?:postgres|neo4j)-verify: ([✓✗]) ((?:smoke query: )?[^:]+): (.*)$/.exec(line);
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

export function verifyBackupStep(uri?: string, database: 'postgres' | 'neo4j' = 'postgres'): RunbookStep {
  const spec = VERIFY[database];
  const SCRIPT = spec.script;
  const which = uri ?? `the newest backup under ${spec.prefix}`;
  return defineStep({
    id: spec.id,
    section: 'dr-validation',
    title: `Prove a ${spec.noun} backup restorable`,
    description: `Restore ${which} ${spec.how}, and publish <key>.verified.json beside it — what the ${database}-restore-verify CronJob does daily.`,
    inputs: [
      'S3_BUCKET',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      ...(database === 'postgres'
        ? ['POSTGRES_HOST', 'POSTGRES_DATABASE', 'POSTGRES_USER', 'POSTGRES_PASSWORD']
        : []),
    ],
    plan(): Plan {
      const script = scriptLocation({}, SCRIPT).display;
      return {
        actions: [
          {
            summary: `restore ${which} into the scratch ${database === 'postgres' ? 'database' : 'instance'}, check, delete it, publish <key>.verified.json`,
            command: `${uri ? `VERIFY_S3_URI=${uri} ` : ''}${database === 'neo4j' ? 'PATH="$NEO4J_HOME/bin:$PATH" ' : ''}bash ${script}`,
            writes: true,
          },
        ],
        notes: [
          database === 'postgres'
            ? 'Writes only the scratch database (never one it did not create) and the record; POSTGRES_DATABASE is only named.'
            : 'Never connects to the serving Neo4j (it needs no Neo4j credentials); writes only its scratch folder and the record.',
        ],
      };
    },
    async run(ctx): Promise<StepResult> {
      const script = scriptLocation(ctx.settings, SCRIPT);
      const storage = storageEnv(ctx.values);
      const env: Record<string, string> =
        database === 'postgres'
          ? { ...storage.env, ...postgresEnv(ctx.values).env }
          : { ...storage.env, ...namedValuesEnv(ctx.values, ['NEO4J_S3_PREFIX', 'NEO4J_DATABASE']).env };
      if (uri) env.VERIFY_S3_URI = uri;
      if (database === 'neo4j') env.NEO4J_HOME = neo4jHome(ctx.settings);
      // Neo4j: the local distribution's neo4j, neo4j-admin and cypher-shell first on PATH, as in the Job's image.
      const args =
        database === 'neo4j'
          ? ['-c', 'PATH="$NEO4J_HOME/bin:$PATH"; exec bash "$0"', script.path]
          : [script.path];
      const result = await ctx.adapters.proc.run('bash', args, {
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
        throw new RunbookError(
          'verification interrupted: the script deleted its scratch copy and published no record',
          {
            exitCode: 130,
          },
        );
      const unverifiable = database === 'neo4j' && result.exitCode === 3;
      if (result.exitCode !== 0 && result.exitCode !== 1 && !unverifiable) {
        const reason = result.stderr
          .split('\n')
          .reverse()
          .find((line) => line.includes('error:'));
        throw new RunbookError(
          `${SCRIPT} could not verify (exit ${result.exitCode}): ${reason?.replace(/^(postgres|neo4j)-verify: error: /, '') ?? 'see the log'}`,
          {
            next:
              result.exitCode === 4
                ? `Check S3_BUCKET/${spec.prefix} and that a backup exists (db-runbook run test-${database} makes one).`
                : result.exitCode === 3
                  ? 'Check POSTGRES_HOST/PORT/USER/PASSWORD; the user needs CREATEDB for the scratch database.'
                  : database === 'neo4j' && result.exitCode === 2
                    ? 'Check NEO4J_HOME (or neo4jHome in the values file): neo4j, neo4j-admin and cypher-shell of Neo4j 5 must be in its bin/.'
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
      if (unverifiable)
        checks.push({
          id: 'verify.edition',
          label: 'verifiable with this Neo4j',
          status: 'fail',
          detail: 'an Enterprise online backup needs Enterprise’s neo4j-admin: the record says unverified',
          next: 'Run it with NEO4J_HOME set to a Neo4j 5 Enterprise distribution, or let the neo4j-restore-verify CronJob (Enterprise image) prove it.',
        });
      return {
        summary: proven
          ? `PROVEN RESTORABLE: ${summary.backup ?? '?'} (${summary.duration_seconds ?? '?'} s)`
          : unverifiable
            ? `NOT VERIFIED HERE: ${summary.backup ?? '?'} (this Neo4j edition cannot load it)`
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
