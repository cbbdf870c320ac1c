/**
 * The safety backup before the restore replaces the database: postgres-backup.sh dumps it to
 * <prefix>pre-restore/<time>.sql.gz with its .sha256. On by default; skipping it takes a typed phrase.
 */
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { InterruptedError } from '../../runbook/errors.js';
import type { Gate } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { defineStep } from '../define.js';
import { DEVIATION_MARK, type From, operatorChoice } from '../restore-kit/spec.js';
import { lastLines, PG_INPUTS } from '../clients/psql.js';
import {
  postgresEnv,
  scriptLocation,
  scriptOutput,
  STORAGE_OPTIONAL,
  storageEnv,
  undetachable,
} from '../clients/restore-scripts.js';
import { envCommand, IDS, pgWords, SECTION, target } from './ids.js';

/** The safety backup step's output: the dump taken, or that it was skipped (typed phrase) or failed. */
export interface SafetyBackupData {
  /** Skipped by the typed phrase: recorded as a deviation. */
  skipped?: boolean;
  deviation?: boolean;
  /** The dump's object; absent when it was skipped or failed. */
  uri?: string;
  sha256?: string;
  size?: number;
  recoveryPoint?: string;
  /** postgres-backup.sh's exit code when it failed. */
  exitCode?: number;
}

function safetyPrefix(values: Values): string {
  return `${values.get('POSTGRES_S3_PREFIX') ?? ''}pre-restore/`;
}

function skipPhrase(values: Values): string {
  return `no safety backup of ${values.get('POSTGRES_DATABASE') ?? '<database>'}`;
}

export const safetyBackup = defineStep<SafetyBackupData>({
  id: IDS.safetyBackup,
  section: SECTION,
  title: 'Safety backup of the current database',
  description:
    'Before the restore replaces it, the current database is dumped to <prefix>pre-restore/<time>.sql.gz with its .sha256 (postgres-backup.sh: pg_dump | gzip streamed to S3, hashed on the way). On by default; skipping it takes a typed phrase.',
  inputs: [...PG_INPUTS, 'S3_BUCKET'],
  optionalInputs: ['POSTGRES_S3_PREFIX', ...STORAGE_OPTIONAL],
  database: 'postgres',
  plan: (values, options) => {
    const script = scriptLocation({}, 'postgres-backup.sh').display;
    const skip = options['skip-safety-backup'] === true;
    return {
      actions: [
        {
          summary: skip
            ? `SKIP the safety backup (typed phrase "${skipPhrase(values)}", a deviation)`
            : `dump ${values.get('POSTGRES_DATABASE') ?? '<database>'} to s3://${values.get('S3_BUCKET') ?? '<bucket>'}/${safetyPrefix(values)}<time>.sql.gz + .sha256`,
          command: envCommand(
            [
              ...pgWords(values),
              [
                `S3_BUCKET=${values.get('S3_BUCKET') ?? '<bucket>'}`,
                `POSTGRES_S3_PREFIX=${safetyPrefix(values)}`,
              ],
            ],
            script,
          ),
          writes: true,
        },
      ],
    };
  },
  async preview(ctx) {
    const choice = await operatorChoice(
      ctx,
      `Safety backup of ${ctx.values.get('POSTGRES_DATABASE')} before it is replaced?`,
      [
        {
          label: 'Take it (recommended)',
          value: 'take',
          hint: `s3://${ctx.values.get('S3_BUCKET')}/${safetyPrefix(ctx.values)}<time>.sql.gz`,
        },
        { label: 'Skip it', value: 'skip', hint: `typed phrase "${skipPhrase(ctx.values)}"; a deviation` },
      ],
      ctx.options['skip-safety-backup'] === true ? 'skip' : 'take',
    );
    const skip = choice === 'skip';
    return {
      lines: [
        skip
          ? 'safety backup: SKIPPED at the operator’s choice (needs the typed phrase)'
          : `safety backup to s3://${ctx.values.get('S3_BUCKET')}/${safetyPrefix(ctx.values)}<time>.sql.gz`,
      ],
      data: { skip },
    };
  },
  gate(values, ctx): Gate | undefined {
    if (ctx.preview?.data?.skip !== true) return undefined;
    return {
      kind: 'typed',
      prompt: `Skip the safety backup? If the restore goes wrong there is no copy of ${values.get('POSTGRES_DATABASE')} as it is now. Recorded as a deviation.`,
      phrase: skipPhrase(values),
      target: target(values, ctx),
    };
  },
  async run(ctx) {
    if (ctx.preview?.data?.skip === true) {
      const reason = `safety backup of ${ctx.values.get('POSTGRES_DATABASE')} skipped by typed confirmation`;
      ctx.mark(DEVIATION_MARK, { reason, step: IDS.safetyBackup });
      return {
        summary: 'SKIPPED by typed phrase (deviation): no copy of the current database',
        checks: [{ id: 'safety-backup', label: 'safety backup', status: 'warn', detail: reason }],
        data: { skipped: true, deviation: true },
      };
    }
    const script = scriptLocation(ctx.settings, 'postgres-backup.sh');
    const storage = storageEnv(ctx.values);
    const pg = postgresEnv(ctx.values);
    const env = { ...storage.env, ...pg.env, POSTGRES_S3_PREFIX: safetyPrefix(ctx.values) };
    const started = Date.now();
    const timer = setInterval(
      () =>
        ctx.progress({
          message: `dumping ${ctx.values.get('POSTGRES_DATABASE')} to S3 · ${formatDuration(Date.now() - started)}`,
        }),
      1000,
    );
    let result;
    try {
      result = await ctx.adapters.proc.run('bash', [script.path], {
        env,
        secrets: storage.secrets,
        signal: undetachable(ctx),
        processGroup: true,
        onLine: (line, stream) => {
          if (stream === 'stderr') ctx.log(line);
        },
      });
    } finally {
      clearInterval(timer);
    }
    if (ctx.signal.aborted && ctx.signal.reason !== 'detach') throw new InterruptedError();
    const out = scriptOutput(result.stdout);
    if (result.exitCode !== 0 || !out.object) {
      return {
        summary: `safety backup FAILED (postgres-backup.sh exit ${result.exitCode}): the restore will not start`,
        checks: [
          {
            id: 'safety-backup',
            label: 'safety backup',
            status: 'fail',
            detail: lastLines(result.stderr, 3) || `exit ${result.exitCode}`,
            next: 'Fix the cause (see the log) and run this step again; skipping it takes a typed phrase.',
          },
        ],
        data: { exitCode: result.exitCode },
      };
    }
    const size = Number(out.bytes);
    return {
      summary: `safety backup ${out.object} (${formatBytes(size)}) in ${formatDuration(Date.now() - started)}`,
      checks: [
        {
          id: 'safety-backup',
          label: 'safety backup',
          status: 'ok',
          detail: `${out.object} sha256 ${out.sha256 ?? '?'}`,
        },
      ],
      data: { uri: out.object, sha256: out.sha256, size, recoveryPoint: out.recovery_point },
    };
  },
});

/** The safety backup as the restore's preview and gate show it. */
export function safetyBackupLine(from: From): string {
  const safety = from(safetyBackup);
  if (!safety) return '(not taken in this session)';
  if (safety.skipped === true) return 'SKIPPED (typed phrase)';
  return typeof safety.uri === 'string' ? safety.uri : '(failed)';
}
