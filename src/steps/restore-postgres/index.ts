/**
 * The runbook's "PostgreSQL Restore", behind confirmation gates that name their target: incident →
 * choose the backup → integrity (before anything touches the database) → stop writes (typed, with
 * the sessions connected now) → safety backup of the current database → restore (typed database
 * name: CLEAN_TARGET=true; the real postgres-restore.sh, env only) → validate → resume writes.
 */
import type { Adapters } from '../../adapters/types.js';
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { InterruptedError, RunbookError } from '../../runbook/errors.js';
import { MARK } from '../../runbook/marks.js';
import {
  describeSession,
  firstValue,
  MARKER_TABLE_EXISTS_SQL,
  markerRowsSql,
  parseMarkerRows,
  parseNames,
  parseRowCounts,
  parseSessions,
  parseValidationQueries,
  type PgSession,
  PSQL_QUERY_FLAGS,
  ROW_COUNTS_SQL,
  scratchDatabasesSql,
  sessionsSql,
} from '../../runbook/pg-queries.js';
import { byCreation, podSelector, statusLine, summarizeJob } from '../../runbook/job-status.js';
import { shellCommand } from '../../runbook/plan.js';
import { restoreJobFromCronJob, restoreJobName } from '../../runbook/restore-job.js';
import type { Check, Gate, Preview, StepContext } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { recoveryFigureChecks } from '../kit/recovery-figures.js';
import { defineStep, type RunbookStep, sleep } from '../define.js';
import { privilegeChecks, requireRoles, rolesEnv, rolesStep } from '../restore-kit/roles.js';
import { integrityStep } from '../restore-kit/integrity.js';
import { overrideStep } from '../restore-kit/override.js';
import { chooseBackupStep } from '../restore-kit/choose-backup.js';
import { incidentStep } from '../restore-kit/incident.js';
import {
  DEVIATION_MARK,
  operatorChoice,
  PG_INPUTS,
  POSTGRES_SPEC,
  requireRestorable,
  stepIds,
} from '../restore-kit/spec.js';
import {
  pinnedObjectEnv,
  postgresEnv,
  readRestoreOutcome,
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

type Ctx = StepContext<Adapters>;

const SPEC = POSTGRES_SPEC;

const SECTION = SPEC.section;

const IDS = {
  ...stepIds(SPEC),
  stopWrites: `${SECTION}.stop-writes`,
  safetyBackup: `${SECTION}.safety-backup`,
  restore: `${SECTION}.restore`,
  validate: `${SECTION}.validate`,
  resumeWrites: `${SECTION}.resume-writes`,
};

const MAX_SESSIONS_SHOWN = 8;

/** The Job mode derives the restore Job from this CronJob (ops/db/backup-jobs/cronjobs.yaml). */
const BACKUP_CRONJOB = 'postgres-daily-backup';

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

/** The runbook's own env-only command line, secrets as placeholders. */
function envCommand(lines: string[][], script: string): string {
  return [...lines.map((words) => `${words.join(' ')} \\`), `bash ${script}`].join('\n');
}

function pgWords(values: Values): string[][] {
  return [
    ['AWS_ACCESS_KEY_ID=<key>', 'AWS_SECRET_ACCESS_KEY=<secret>'],
    [
      `POSTGRES_HOST=${values.get('POSTGRES_HOST') ?? '<host>'}`,
      `POSTGRES_PORT=${values.get('POSTGRES_PORT') ?? '5432'}`,
      `POSTGRES_DATABASE=${values.get('POSTGRES_DATABASE') ?? '<database>'}`,
    ],
    [`POSTGRES_USER=${values.get('POSTGRES_USER') ?? '<user>'}`, 'POSTGRES_PASSWORD=<password>'],
  ];
}

function target(
  values: Values,
  ctx: { target: { context: string; namespace: string } },
): Record<string, string> {
  return {
    'kube context': ctx.target.context,
    namespace: ctx.target.namespace,
    host: values.get('POSTGRES_HOST') ?? '?',
    port: values.get('POSTGRES_PORT') ?? '5432',
    database: values.get('POSTGRES_DATABASE') ?? '?',
  };
}

/** Runs one read-only query with psql from this host; stdout, or throws what psql said. */
async function psqlQuery(ctx: Ctx, sql: string, database?: string): Promise<string> {
  const { env, secrets } = libpqEnv(ctx.values, database);
  const result = await ctx.adapters.proc.run(
    'psql',
    [...PSQL_QUERY_FLAGS, ...psqlTarget(ctx.values, database), '-c', sql],
    {
      env,
      secrets,
      signal: ctx.signal,
      timeoutMs: 60_000,
    },
  );
  if (result.exitCode !== 0) {
    const said = result.stderr.trim().split('\n').slice(-3).join(' ').trim();
    throw new RunbookError(
      `psql (${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}/${database ?? ctx.values.get('POSTGRES_DATABASE')}) failed: ${said || `exit ${result.exitCode}`}`,
      { next: 'Check POSTGRES_HOST/PORT/USER/PASSWORD and that psql is installed (prerequisites).' },
    );
  }
  return result.stdout;
}

/** Sessions connected to the target now, asked from the maintenance database (the target may be gone). */
async function connectedSessions(ctx: Ctx): Promise<PgSession[]> {
  const database = ctx.values.require('POSTGRES_DATABASE');
  try {
    return parseSessions(await psqlQuery(ctx, sessionsSql(database), MAINTENANCE_DATABASE));
  } catch (error) {
    // No access to the maintenance database: ask the target itself (this session excluded by the query).
    if (error instanceof RunbookError && /does not exist|permission denied/.test(error.message))
      return parseSessions(await psqlQuery(ctx, sessionsSql(database)));
    throw error;
  }
}

function sessionLines(sessions: readonly PgSession[]): Record<string, string> {
  const out: Record<string, string> = { 'sessions now': String(sessions.length) };
  sessions.slice(0, MAX_SESSIONS_SHOWN).forEach((session, index) => {
    out[`session ${index + 1}`] = describeSession(session);
  });
  if (sessions.length > MAX_SESSIONS_SHOWN)
    out[`session ${MAX_SESSIONS_SHOWN + 1}…`] = `and ${sessions.length - MAX_SESSIONS_SHOWN} more`;
  return out;
}

function sessionsFromPreview(preview: Preview | undefined): PgSession[] {
  const sessions = preview?.data?.sessions;
  return Array.isArray(sessions) ? (sessions as PgSession[]) : [];
}

// ---------------------------------------------------------------- stop writes

const stopWrites = defineStep({
  id: IDS.stopWrites,
  section: SECTION,
  title: 'Stop application writes',
  description:
    'The runbook: "Stop application writes or enable maintenance mode." Shows the sessions connected to the database now (pg_stat_activity) and asks you to type the database name once writes are stopped.',
  inputs: PG_INPUTS,
  database: 'postgres',
  plan: (values) => ({
    actions: [
      {
        summary:
          'stop application writes: scale the writers to 0 or enable maintenance mode (your procedure)',
      },
      {
        summary: `list the sessions connected to ${values.get('POSTGRES_DATABASE') ?? '<database>'}`,
        command: `PGPASSWORD=<password> ${shellCommand([
          'psql',
          '-h',
          values.get('POSTGRES_HOST') ?? '<host>',
          '-p',
          values.get('POSTGRES_PORT') ?? '5432',
          '-U',
          values.get('POSTGRES_USER') ?? '<user>',
          '-d',
          MAINTENANCE_DATABASE,
          '-c',
          `SELECT usename, application_name, client_addr, state FROM pg_stat_activity WHERE datname = '${values.get('POSTGRES_DATABASE') ?? '<database>'}'`,
        ])}`,
      },
    ],
    notes: ['Typed gate: the database name, once writes are stopped.'],
  }),
  async preview(ctx) {
    requireRestorable(ctx.from, SPEC);
    const sessions = await connectedSessions(ctx);
    return {
      lines: [
        `${sessions.length} session(s) connected to ${ctx.values.get('POSTGRES_DATABASE')} now`,
        ...sessions.slice(0, MAX_SESSIONS_SHOWN).map(describeSession),
      ],
      data: { sessions },
    };
  },
  gate(values, ctx): Gate {
    const sessions = sessionsFromPreview(ctx.preview);
    return {
      kind: 'typed',
      prompt: `Stop application writes to ${values.get('POSTGRES_DATABASE')} (maintenance mode), then type the database name. ${ctx.preview ? `${sessions.length} session(s) are connected now.` : 'The sessions connected are listed first.'}`,
      phrase: values.require('POSTGRES_DATABASE'),
      target: { ...target(values, ctx), ...(ctx.preview ? sessionLines(sessions) : {}) },
    };
  },
  async run(ctx) {
    const sessions = await connectedSessions(ctx);
    for (const session of sessions) ctx.log(`still connected: ${describeSession(session)}`);
    const active = sessions.filter((session) => session.state !== 'idle');
    return {
      summary:
        sessions.length === 0
          ? 'writes stopped: no sessions connected'
          : `writes stopped by the operator; ${sessions.length} session(s) still connected (${active.length} not idle)`,
      checks: [
        {
          id: 'sessions',
          label: 'sessions connected',
          status: sessions.length === 0 ? 'ok' : 'warn',
          detail: sessions.length === 0 ? 'none' : sessions.slice(0, 3).map(describeSession).join('; '),
          ...(sessions.length
            ? {
                next: 'The restore disconnects them (DROP DATABASE … WITH (FORCE)); make sure they are not writers that will reconnect.',
              }
            : {}),
        },
      ],
      data: { sessions: sessions.length, confirmedAt: new Date().toISOString() },
    };
  },
});

// ---------------------------------------------------------------- safety backup

function safetyPrefix(values: Values): string {
  return `${values.get('POSTGRES_S3_PREFIX') ?? ''}pre-restore/`;
}

function skipPhrase(values: Values): string {
  return `no safety backup of ${values.get('POSTGRES_DATABASE') ?? '<database>'}`;
}

const safetyBackup = defineStep({
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

// ---------------------------------------------------------------- restore (destructive)

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

function safetyBackupLine(earlier: (id: string) => Record<string, unknown> | undefined): string {
  const safety = earlier(IDS.safetyBackup);
  if (!safety) return '(not taken in this session)';
  if (safety.skipped === true) return 'SKIPPED (typed phrase)';
  return typeof safety.uri === 'string' ? safety.uri : '(failed)';
}

/** What a run of the restore script left: its exit code, its key=value output and its log. */
interface ScriptRun {
  exitCode: number;
  output: string;
  log: string;
  interrupted: boolean;
  detached: boolean;
  /** "this host" or "Job <name> in <namespace>". */
  where: string;
  /** How to follow it by hand. */
  follow: string;
}

/** The scripts' test hooks (DB_RUNBOOK_TEST_HOOK_*) when set, for a restore run as a Job: inert otherwise. */
function testHookEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (name.startsWith('DB_RUNBOOK_TEST_HOOK_') && value) env[name] = value;
  return env;
}

/** postgres-restore.sh from this host, env only (secrets in the child environment). */
async function runOnHost(
  ctx: Ctx,
  restoreVars: Record<string, string>,
  onLine: (line: string) => void,
): Promise<ScriptRun> {
  const script = scriptLocation(ctx.settings, 'postgres-restore.sh');
  const storage = storageEnv(ctx.values);
  const result = await ctx.adapters.proc.run('bash', [script.path], {
    env: { ...storage.env, ...postgresEnv(ctx.values).env, ...restoreVars },
    secrets: storage.secrets,
    signal: undetachable(ctx),
    processGroup: true,
    onLine: (line, stream) => {
      if (stream === 'stderr') onLine(line);
    },
  });
  return {
    exitCode: result.exitCode,
    output: result.stdout,
    log: result.stderr,
    interrupted: result.interrupted,
    detached: false,
    where: 'this host',
    follow: 'the log above',
  };
}

/**
 * postgres-restore.sh as a Kubernetes Job made from the backup CronJob (image, Secrets, scripts
 * ConfigMap), its log streamed. The target is named explicitly (POSTGRES_HOST/PORT/DATABASE/USER
 * override the Secret's), so it is exactly the one the gate showed; the password stays in the
 * Secret. Ctrl+C deletes the Job (its pod dies, the transaction rolls back); Esc leaves it running.
 */
async function runAsJob(
  ctx: Ctx,
  restoreVars: Record<string, string>,
  objectBytes: number,
  onLine: (line: string) => void,
  onStatus: (status: string) => void,
): Promise<ScriptRun> {
  const kube = await ctx.adapters.kube();
  const namespace = kube.target.namespace;
  const cronJob = await kube.get({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    name: BACKUP_CRONJOB,
    namespace,
  });
  if (!cronJob)
    throw new RunbookError(`CronJob ${BACKUP_CRONJOB} not found in namespace ${namespace}`, {
      next: 'The Job mode uses its image, Secrets and scripts ConfigMap: run the deploy section first, or restore from this host.',
    });
  const target: Record<string, string> = {};
  for (const name of ['POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_DATABASE', 'POSTGRES_USER']) {
    const value = ctx.values.get(name);
    if (value) target[name] = value;
  }
  const name = restoreJobName('postgres-restore', new Date());
  const job = restoreJobFromCronJob(cronJob, {
    name,
    namespace,
    backupScript: 'postgres-backup.sh',
    restoreScript: 'postgres-restore.sh',
    env: { ...target, ...restoreVars, ...testHookEnv() },
    app: 'postgres-restore',
    workBytes: objectBytes,
  });
  await kube.create(job);
  const where = `Job ${name} in ${namespace}`;
  const follow = `kubectl logs -f job/${name} -n ${namespace}`;
  ctx.log(`created ${where} from CronJob ${BACKUP_CRONJOB} (${follow})`);
  const ref = { apiVersion: 'batch/v1', kind: 'Job', name, namespace };
  const lines: string[] = [];
  let buffered = '';
  const emit = (line: string) => {
    lines.push(line);
    if (lines.length > 200) lines.shift();
    onLine(line);
  };
  const stopLogs = new AbortController();
  let streaming: Promise<void> | undefined;
  const started = Date.now();
  let exitCode = 1;
  let detached = false;
  let interrupted = false;
  try {
    for (;;) {
      if (ctx.signal.aborted) {
        if (ctx.signal.reason === 'detach') detached = true;
        else interrupted = true;
        break;
      }
      const current = await kube.get(ref);
      if (!current) throw new RunbookError(`${where} disappeared while it ran (deleted by someone?)`);
      const pods = byCreation(await kube.list('v1', 'Pod', namespace, podSelector(name)));
      const summary = summarizeJob(current, pods);
      onStatus(`${where}: ${statusLine(summary, Date.now() - started)}`);
      const pod = pods.at(-1);
      const podPhase = String((pod?.status as { phase?: string } | undefined)?.phase ?? 'Pending');
      if (!streaming && pod && podPhase !== 'Pending') {
        streaming = kube
          .podLog(namespace, pod.metadata.name, {
            follow: true,
            signal: stopLogs.signal,
            onText: (text) => {
              const parts = (buffered + text).split('\n');
              buffered = parts.pop() ?? '';
              for (const line of parts) emit(line.replace(/\r$/, ''));
            },
          })
          .then(
            () => undefined,
            (error: unknown) =>
              ctx.log(`(could not stream the log of ${pod.metadata.name}: ${(error as Error).message})`),
          );
      }
      if (summary.finished) {
        exitCode = summary.pod?.exitCode ?? (summary.phase === 'succeeded' ? 0 : 1);
        break;
      }
      await sleep(1000, ctx.signal);
    }
  } finally {
    if (streaming) await Promise.race([streaming, sleep(5000, new AbortController().signal)]);
    stopLogs.abort();
    if (buffered) emit(buffered);
  }
  if (interrupted) {
    await kube.delete(ref, { propagationPolicy: 'Foreground' }).catch(() => undefined);
    // Its pod gets SIGTERM: the script finishes a swap in progress, then cleans up. Wait until the Job is
    // gone (Foreground: after its pods), so what the server holds afterwards is final.
    const until = Date.now() + 60_000;
    while (Date.now() < until && (await kube.get(ref).catch(() => undefined)))
      await sleep(500, new AbortController().signal);
    ctx.log(`deleted ${where}: its pod is stopped`);
  }
  return { exitCode, output: lines.join('\n'), log: lines.join('\n'), interrupted, detached, where, follow };
}

const restore = defineStep({
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
    if (!ctx.earlier(IDS.stopWrites))
      throw new RunbookError('application writes have not been confirmed stopped in this session', {
        next: `Run ${IDS.stopWrites} first.`,
      });
    const safety = ctx.earlier(IDS.safetyBackup);
    if (!safety || (safety.skipped !== true && typeof safety.uri !== 'string'))
      throw new RunbookError('no safety backup was taken (or skipped by typed phrase) in this session', {
        next: `Run ${IDS.safetyBackup} first.`,
      });
    // A restore killed outright (kill -9) leaves its scratch database behind: say so, it holds a full copy.
    const database = ctx.values.require('POSTGRES_DATABASE');
    const leftovers = parseNames(
      await psqlQuery(ctx, scratchDatabasesSql(database), MAINTENANCE_DATABASE),
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
        `safety backup: ${safetyBackupLine(ctx.earlier)}`,
      ],
    };
  },
  gate(values, ctx): Gate {
    const restorable = (() => {
      try {
        return requireRestorable(ctx.from, SPEC);
      } catch {
        return undefined;
      }
    })();
    const chosen = restorable?.chosen;
    const database = values.require('POSTGRES_DATABASE');
    const dataLoss = ctx.earlier(IDS.choose)?.dataLoss as { text?: string } | undefined;
    return {
      kind: 'typed',
      prompt: `DESTRUCTIVE: database ${database} on ${values.get('POSTGRES_HOST')}:${values.get('POSTGRES_PORT')} will be DROPPED and replaced by the backup (CLEAN_TARGET=true). Type "${destroyPhrase(database)}" to confirm.`,
      phrase: destroyPhrase(database),
      target: {
        ...target(values, ctx),
        backup: chosen?.uri ?? '?',
        'recovery point': chosen?.recoveryPoint ?? 'unknown',
        'data loss': dataLoss?.text ?? 'unknown',
        integrity: restorable
          ? restorable.unverified
            ? 'NOT VERIFIED (overridden)'
            : `verified sha256 ${restorable.integrity.sha256.slice(0, 16)}…`
          : '?',
        'safety backup': safetyBackupLine(ctx.earlier),
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

// ---------------------------------------------------------------- validate

interface ValidationEntry {
  query: string;
  ok: boolean;
  detail: string;
}

const validate = defineStep({
  id: IDS.validate,
  section: SECTION,
  title: 'Validate the restored data',
  description:
    'Targeted queries: the backup_validation marker rows, per-table row counts next to the counts recorded in the dump, and your own validationQueries from the values file ({name, sql, expect?}). Each ✓/✗.',
  inputs: PG_INPUTS,
  database: 'postgres',
  plan: (values) => ({
    actions: [
      {
        summary: 'marker rows and per-table row counts',
        command: `PGPASSWORD=<password> psql -h ${values.get('POSTGRES_HOST') ?? '<host>'} -U ${values.get('POSTGRES_USER') ?? '<user>'} -d ${values.get('POSTGRES_DATABASE') ?? '<database>'} -c 'SELECT id, note FROM backup_validation ORDER BY id DESC LIMIT 5'`,
      },
      { summary: 'your validationQueries (values file), each read-only' },
    ],
  }),
  async run(ctx) {
    const checks: Check[] = [];
    const validation: ValidationEntry[] = [];
    const add = (id: string, label: string, ok: boolean | 'skip', detail: string, next?: string) => {
      checks.push({
        id,
        label,
        status: ok === 'skip' ? 'skip' : ok ? 'ok' : 'fail',
        detail,
        ...(next && ok !== true ? { next } : {}),
      });
      if (ok !== 'skip') validation.push({ query: label, ok, detail });
    };
    const integrity = ctx.earlier(IDS.integrity) as
      { rowCounts?: Record<string, number>; markerFound?: boolean } | undefined;

    // Marker rows (the synthetic-data test writes them).
    const exists = firstValue(await psqlQuery(ctx, MARKER_TABLE_EXISTS_SQL)) === 't';
    if (exists) {
      const markers = parseMarkerRows(await psqlQuery(ctx, markerRowsSql(3)));
      const latest = markers.latest[0];
      add(
        'marker',
        'backup_validation marker rows',
        markers.count > 0,
        markers.count > 0
          ? `${markers.count} row(s); newest #${latest?.id}: ${latest?.note ?? ''}`
          : 'the table is empty',
        'The backup has the table but no marker row: was the synthetic test run before it?',
      );
    } else if (integrity?.markerFound) {
      add(
        'marker',
        'backup_validation marker rows',
        false,
        'the dump has backup_validation but the restored database does not',
      );
    } else
      add('marker', 'backup_validation marker rows', 'skip', 'this backup has no backup_validation table');

    // Per-table row counts against the dump.
    const live = parseRowCounts(await psqlQuery(ctx, ROW_COUNTS_SQL));
    const recorded = integrity?.rowCounts;
    if (recorded && Object.keys(recorded).length > 0) {
      const mismatches: string[] = [];
      for (const [table, expected] of Object.entries(recorded)) {
        const actual = live.get(table);
        const ok = actual === expected;
        if (!ok) mismatches.push(`${table}: ${actual ?? 'missing'} (backup ${expected})`);
        if (Object.keys(recorded).length <= 25)
          add(`rows:${table}`, `rows in ${table}`, ok, `${actual ?? 'missing'} (backup: ${expected})`);
      }
      if (Object.keys(recorded).length > 25)
        add(
          'rows',
          `row counts of ${Object.keys(recorded).length} tables`,
          mismatches.length === 0,
          mismatches.length === 0 ? 'all equal to the backup' : mismatches.slice(0, 5).join('; '),
        );
      const extra = [...live.keys()].filter((table) => !(table in recorded));
      if (extra.length > 0) ctx.log(`tables not in the backup: ${extra.join(', ')}`);
    } else {
      add(
        'rows',
        'row counts',
        'skip',
        `${live.size} table(s), ${[...live.values()].reduce((sum, n) => sum + n, 0)} row(s) (no counts recorded for this backup)`,
      );
    }

    // Owners, privileges, default privileges and settings as in the backup; each role reads its tables.
    for (const { check, entry } of await privilegeChecks(
      ctx,
      SPEC,
      ctx.values.require('POSTGRES_DATABASE'),
    )) {
      checks.push(check);
      if (entry) validation.push(entry);
    }

    // The operator's own queries.
    const { queries, problems } = parseValidationQueries(ctx.settings.validationQueries);
    for (const problem of problems) add(`query-problem:${problem}`, 'validationQueries', false, problem);
    for (const query of queries) {
      const verdict = await runValidationQuery(ctx, query);
      add(`query:${query.name}`, query.name, verdict.ok, verdict.detail);
    }

    const failed = validation.filter((entry) => !entry.ok);
    if (failed.length === 0) {
      ctx.mark(MARK.validated, { database: ctx.values.get('POSTGRES_DATABASE') });
      // The figures the report shows for this recovery, from the same computation.
      checks.push(...recoveryFigureChecks(ctx, SECTION, 'postgres'));
    }
    return {
      summary:
        failed.length === 0
          ? `validated: ${validation.length} check(s) passed`
          : `${failed.length} of ${validation.length} check(s) FAILED: ${failed.map((entry) => entry.query).join(', ')}`,
      checks,
      data: { validation },
    };
  },
});

// ---------------------------------------------------------------- resume writes

const resumeWrites = defineStep({
  id: IDS.resumeWrites,
  section: SECTION,
  title: 'Resume application writes',
  description:
    'Leave maintenance mode / scale the writers back up (your procedure), then mark it done here: the report records when the service was handed back.',
  inputs: ['POSTGRES_DATABASE'],
  database: 'postgres',
  plan: () => ({ actions: [{ summary: 'resume application writes (your procedure), then confirm' }] }),
  gate(values, ctx): Gate {
    const validation = ctx.earlier(IDS.validate)?.validation;
    const entries = Array.isArray(validation) ? (validation as ValidationEntry[]) : [];
    const failed = entries.filter((entry) => !entry.ok).length;
    return {
      kind: 'confirm',
      prompt: `Application writes to ${values.get('POSTGRES_DATABASE')} are resumed (maintenance mode off)?`,
      target: {
        ...target(values, ctx),
        validation:
          entries.length === 0
            ? 'NOT RUN in this session'
            : failed === 0
              ? `${entries.length} check(s) passed`
              : `${failed} of ${entries.length} FAILED`,
      },
    };
  },
  async run(ctx) {
    const at = new Date().toISOString();
    // Under --yes nobody was asked: say so rather than claim an operator confirmed it.
    const by =
      ctx.confirmedVia === 'flag'
        ? 'non-interactive: --yes, no person confirmed it'
        : 'confirmed by the operator';
    return {
      summary: `writes resumed (${by} at ${at})`,
      data: { resumedAt: at, confirmedVia: ctx.confirmedVia ?? 'unknown' },
    };
  },
});

export const restorePostgresSteps: readonly RunbookStep[] = [
  incidentStep(SPEC),
  chooseBackupStep(SPEC),
  integrityStep(SPEC),
  overrideStep(SPEC),
  rolesStep(SPEC),
  stopWrites,
  safetyBackup,
  restore,
  validate,
  resumeWrites,
];

export { IDS as RESTORE_POSTGRES_IDS };
