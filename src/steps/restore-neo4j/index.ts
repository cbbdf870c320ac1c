/**
 * The runbook's "Neo4j Restore": incident → choose the backup → integrity → the member is stopped
 * (checked, with how to stop it; typed gate) → neo4j-restore.sh (typed "overwrite <database>":
 * --overwrite-destination) → start and verify over Bolt (the database online, node count, every
 * label's count, the BackupValidation node).
 *
 * Where it runs follows from the server (CALL dbms.components()) and NEO4J_STATEFULSET:
 *   Community on Kubernetes: scale StatefulSet NEO4J_STATEFULSET to 0 and wait until its pod is gone,
 *     run neo4j-restore.sh as a Job made from CronJob neo4j-daily-backup (the Community one mounts the
 *     claim data-<name>-0 at /data), scale it back and wait for Bolt. Neo4j's own Helm chart backs up
 *     but leaves restore by hand (neo4j/helm-charts#4).
 *   Community on a host: `neo4j stop`, neo4j-restore.sh on this host with NEO4J_HOME, `neo4j start`.
 *   Enterprise: STOP DATABASE x WAIT, neo4j-restore.sh on this host, START DATABASE x WAIT.
 */
import type { Adapters } from '../../adapters/types.js';
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { InterruptedError, RunbookError } from '../../runbook/errors.js';
import { MARK } from '../../runbook/marks.js';
import { byCreation, podSelector, summarizeJob } from '../../runbook/job-status.js';
import { shellCommand } from '../../runbook/plan.js';
import { restoreJobFromCronJob, restoreJobName } from '../../runbook/restore-job.js';
import type { Check, Gate, StepContext } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { recoveryFigureChecks } from '../kit/recovery-figures.js';
import { defineStep, type RunbookStep, sleep } from '../define.js';
import { cypher as boltCypher, neo4jServerInfo } from '../clients/cypher.js';
import { integrityStep } from '../restore-kit/integrity.js';
import { overrideStep } from '../restore-kit/override.js';
import { chooseBackupStep } from '../restore-kit/choose-backup.js';
import { incidentStep } from '../restore-kit/incident.js';
import { NEO4J_SPEC, operatorChoice, requireRestorable, stepIds } from '../restore-kit/spec.js';
import {
  runRestoreScript,
  scriptLocation,
  scriptOutput,
  STORAGE_OPTIONAL,
  storageEnv,
} from '../clients/restore-scripts.js';

type Ctx = StepContext<Adapters>;

const SPEC = NEO4J_SPEC;

const SECTION = SPEC.section;

const IDS = {
  ...stepIds(SPEC),
  memberStopped: `${SECTION}.member-stopped`,
  restore: `${SECTION}.restore`,
  startVerify: `${SECTION}.start-verify`,
};

const NEO4J_INPUTS = ['NEO4J_HOST', 'NEO4J_BOLT_PORT', 'NEO4J_DATABASE', 'NEO4J_USERNAME', 'NEO4J_PASSWORD'];

/** The runbook's example NEO4J_HOME. */
const DEFAULT_NEO4J_HOME = '/var/lib/neo4j';

/** Database states in which a restore must not touch the store. */
const RUNNING_STATES = new Set(['online', 'starting', 'stopping', 'store copying', 'initial']);

/** `neo4j://host:7687`, or the values file's `neo4jAddress` (e.g. neo4j+s://…). */
function address(ctx: { values: Values; settings: Record<string, unknown> }): string {
  const fromSettings = ctx.settings.neo4jAddress;
  if (typeof fromSettings === 'string' && fromSettings !== '') return fromSettings;
  return `neo4j://${ctx.values.get('NEO4J_HOST') ?? 'localhost'}:${ctx.values.get('NEO4J_BOLT_PORT') ?? '7687'}`;
}

/** The data directory's owner on this host: the values file's `neo4jHome`, else NEO4J_HOME, else the runbook's /var/lib/neo4j. */
function neo4jHome(settings: Record<string, unknown>): { path: string; source: string } {
  const fromSettings = settings.neo4jHome;
  if (typeof fromSettings === 'string' && fromSettings !== '')
    return { path: fromSettings, source: 'values file' };
  const fromEnv = process.env.NEO4J_HOME;
  if (fromEnv) return { path: fromEnv, source: 'NEO4J_HOME' };
  return { path: DEFAULT_NEO4J_HOME, source: 'the runbook default' };
}

/**
 * The destructive gate's phrase: it names what is overwritten, and differs from the stopped-member
 * gate's (the database name), so the first answer typed from habit cannot pass the second.
 */
export function overwritePhrase(database: string): string {
  return `overwrite ${database}`;
}

function quoteName(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

function stopHow(database: string, addr: string): string {
  return `Enterprise: cypher-shell -a ${addr} -d system "STOP DATABASE ${quoteName(database)} WAIT" (the server keeps running); Community: neo4j stop on this host`;
}

/** `$NEO4J_HOME/bin/<name>` when it is there (as neo4j-restore.sh does), else `<name>` on PATH. */
async function neo4jBinary(ctx: Ctx, name: string): Promise<string | undefined> {
  const home = neo4jHome(ctx.settings).path;
  return (await ctx.adapters.proc.which(`${home}/bin/${name}`)) ?? (await ctx.adapters.proc.which(name));
}

/** `neo4j <command>` with NEO4J_HOME set (the server's state and configuration live there). */
async function neo4jServer(ctx: Ctx, command: 'status' | 'start' | 'stop') {
  const binary = (await neo4jBinary(ctx, 'neo4j')) ?? 'neo4j';
  return ctx.adapters.proc.run(binary, [command], {
    env: { NEO4J_HOME: neo4jHome(ctx.settings).path },
    signal: ctx.signal,
    timeoutMs: command === 'status' ? 30_000 : 300_000,
  });
}

interface CypherResult {
  ok: boolean;
  rows: string[][];
  error: string;
  next?: string;
  unreachable: boolean;
}

/** One Cypher statement over Bolt with the official driver (the password never on a command line). */
async function cypher(ctx: Ctx, statement: string, database?: string): Promise<CypherResult> {
  const outcome = await boltCypher(ctx, statement, database, undefined, address(ctx));
  return {
    ok: outcome.ok,
    rows: outcome.rows,
    error: outcome.unavailable ?? outcome.error,
    ...(outcome.next ? { next: outcome.next } : {}),
    unreachable: outcome.kind === 'unavailable',
  };
}

/** StatefulSet NEO4J_STATEFULSET: how many replicas it wants and how many pods it has. */
async function statefulSetState(
  ctx: Ctx,
): Promise<{ name: string; replicas: number; pods: number } | undefined> {
  const name = ctx.values.get('NEO4J_STATEFULSET');
  if (!name) return undefined;
  const kube = await ctx.adapters.kube();
  const live = await kube.get({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    name,
    namespace: kube.target.namespace,
  });
  if (!live)
    throw new RunbookError(`StatefulSet ${name} not found in namespace ${kube.target.namespace}`, {
      next: 'Check NEO4J_STATEFULSET (kubectl get statefulsets) and the namespace.',
    });
  const spec = live.spec as { replicas?: number } | undefined;
  const status = live.status as { replicas?: number } | undefined;
  return { name, replicas: spec?.replicas ?? 1, pods: status?.replicas ?? 0 };
}

/** Polls until `done` holds (once a second), up to `seconds`, with progress. */
async function waitFor(ctx: Ctx, seconds: number, what: string, done: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await done())) {
    if (Date.now() - started > seconds * 1000) throw new RunbookError(`${what}: not after ${seconds} s`);
    ctx.progress({ message: `${what} · ${Math.round((Date.now() - started) / 1000)} s` });
    await sleep(1000, ctx.signal);
  }
}

interface MemberState {
  /** SHOW DATABASE's currentStatus, `absent`, or undefined when Bolt does not answer. */
  status?: string;
  edition?: string;
  version?: string;
  /** NEO4J_STATEFULSET: what it wants and has. */
  statefulSet?: { name: string; replicas: number; pods: number };
  /** `neo4j status` on this host: true running, false not running, undefined no `neo4j` here. */
  serverRunning?: boolean;
  running: boolean;
  detail: string;
}

async function memberState(ctx: Ctx): Promise<MemberState> {
  const database = ctx.values.require('NEO4J_DATABASE');
  const shown = await cypher(ctx, `SHOW DATABASE ${quoteName(database)} YIELD currentStatus`, 'system');
  const status = shown.ok ? (shown.rows[0]?.[0] ?? 'absent') : undefined;
  if (!shown.ok && !shown.unreachable)
    throw new RunbookError(`cannot ask Neo4j whether ${database} is running: ${shown.error}`, {
      next: shown.next ?? 'Check NEO4J_USERNAME/NEO4J_PASSWORD and NEO4J_HOST/NEO4J_BOLT_PORT.',
    });
  const info = status !== undefined ? (await neo4jServerInfo(ctx, address(ctx))).info : undefined;
  const statefulSet = await statefulSetState(ctx);
  let serverRunning: boolean | undefined;
  if (!statefulSet && (await neo4jBinary(ctx, 'neo4j'))) {
    // LSB: 0 running, 3 not running; anything else says nothing about it.
    const result = await neo4jServer(ctx, 'status');
    serverRunning = result.exitCode === 0 ? true : result.exitCode === 3 ? false : undefined;
    if (serverRunning === undefined)
      ctx.log(`neo4j status: exit ${result.exitCode} ${result.stderr.trim().split('\n').slice(-1).join('')}`);
  }
  const running =
    (status !== undefined && RUNNING_STATES.has(status)) ||
    (statefulSet !== undefined && (statefulSet.pods > 0 || statefulSet.replicas > 0)) ||
    serverRunning === true;
  const server = info ? `Neo4j ${info.version} ${info.edition}` : 'Neo4j';
  const where = statefulSet
    ? ` (StatefulSet ${statefulSet.name}: ${statefulSet.replicas} wanted, ${statefulSet.pods} pod${statefulSet.pods === 1 ? '' : 's'})`
    : serverRunning === undefined
      ? ''
      : serverRunning
        ? ' (server running on this host)'
        : ' (server stopped on this host)';
  const detail =
    status !== undefined
      ? `${server}: database ${database} is ${status}${where}`
      : `Bolt does not answer${where || ' and there is no neo4j command on this host'}`;
  return {
    ...(status !== undefined ? { status } : {}),
    ...(info ? { edition: info.edition, version: info.version } : {}),
    ...(statefulSet ? { statefulSet } : {}),
    ...(serverRunning !== undefined ? { serverRunning } : {}),
    running,
    detail,
  };
}

/** How a running member is stopped, for the screen. */
function stopHowFor(state: MemberState, database: string, addr: string): string {
  if (state.statefulSet)
    return `kubectl scale statefulset/${state.statefulSet.name} --replicas=0 (Community: the server stops), then wait until its pod is gone`;
  if (state.edition === 'community') return 'neo4j stop on the Neo4j host (Community has no STOP DATABASE)';
  return stopHow(database, addr);
}

// ---------------------------------------------------------------- the member is stopped

const memberStopped = defineStep({
  id: IDS.memberStopped,
  section: SECTION,
  title: 'The Neo4j member is stopped',
  description:
    'The runbook: "Neo4j must be stopped prior to running neo4j-admin database load." Checks SHOW DATABASE over Bolt, the StatefulSet (NEO4J_STATEFULSET) or `neo4j status`, says how to stop it (STOP DATABASE x WAIT on Enterprise; Community: scale the StatefulSet to 0, or neo4j stop on its host), and can stop it for you; typed gate: the database name.',
  inputs: NEO4J_INPUTS,
  optionalInputs: ['NEO4J_STATEFULSET'],
  database: 'neo4j',
  plan: (values) => {
    const database = values.get('NEO4J_DATABASE') ?? 'neo4j';
    const addr = `neo4j://${values.get('NEO4J_HOST') ?? '<host>'}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`;
    return {
      actions: [
        {
          summary: `check that ${database} is not running`,
          command: `NEO4J_USERNAME=${values.get('NEO4J_USERNAME') ?? 'neo4j'} NEO4J_PASSWORD=<password> ${shellCommand(['cypher-shell', '-a', addr, '-d', 'system', `SHOW DATABASE ${quoteName(database)} YIELD currentStatus`])}\n${values.get('NEO4J_STATEFULSET') ? `kubectl get statefulset ${values.get('NEO4J_STATEFULSET')}` : 'neo4j status'}`,
        },
        {
          summary: `if it runs: ${values.get('NEO4J_STATEFULSET') ? `kubectl scale statefulset/${values.get('NEO4J_STATEFULSET')} --replicas=0 (Community), or ` : ''}${stopHow(database, addr)}`,
        },
      ],
      notes: ['Typed gate: the database name.'],
    };
  },
  async preview(ctx) {
    requireRestorable(ctx.from, SPEC);
    const state = await memberState(ctx);
    const database = ctx.values.require('NEO4J_DATABASE');
    let action = 'none';
    if (state.running) {
      action =
        (await operatorChoice(
          ctx,
          `${state.detail}. It must be stopped before the restore.`,
          [
            ...(state.statefulSet
              ? [
                  {
                    label: `Scale StatefulSet ${state.statefulSet.name} to 0 now and wait until its pod is gone`,
                    value: 'scale-down',
                    hint: 'Community: the server stops; every database on it is down until it is scaled back',
                  },
                ]
              : []),
            {
              label: 'I will stop it myself, then check again',
              value: 'self',
              hint: stopHowFor(state, database, address(ctx)),
            },
            ...(state.status !== undefined && state.edition !== 'community'
              ? [
                  {
                    label: `Stop it now: STOP DATABASE ${quoteName(database)} WAIT`,
                    value: 'stop-database',
                    hint: 'Enterprise; the server keeps running',
                  },
                ]
              : []),
            ...(state.serverRunning
              ? [
                  {
                    label: 'Stop the server on this host: neo4j stop',
                    value: 'stop-server',
                    hint: 'Community',
                  },
                ]
              : []),
          ],
          state.statefulSet ? 'scale-down' : 'self',
        )) ?? 'self';
    }
    return {
      lines: [
        state.detail,
        ...(state.running ? [`to stop it: ${stopHowFor(state, database, address(ctx))}`] : []),
      ],
      data: { ...state, action },
    };
  },
  gate(values, ctx): Gate {
    const data = ctx.preview?.data ?? {};
    const database = values.require('NEO4J_DATABASE');
    const action = data.action;
    const prompt =
      action === 'scale-down'
        ? `Scale StatefulSet ${String((data.statefulSet as { name?: string } | undefined)?.name ?? values.get('NEO4J_STATEFULSET'))} to 0 now? Neo4j stops: every database on it is down until the restore is done and it is scaled back. Type the database name.`
        : action === 'stop-database'
          ? `Stop database ${database} now (STOP DATABASE ${quoteName(database)} WAIT)? Clients lose it until the restore is done. Type the database name.`
          : action === 'stop-server'
            ? `Stop the Neo4j server on this host (neo4j stop)? Every database on it goes down. Type the database name.`
            : data.running === true
              ? `Database ${database} is RUNNING. Stop it first (${stopHow(database, address({ values, settings: {} }))}), then type the database name; it is checked again.`
              : `Confirm the member is stopped and nothing restarts it during the restore: type the database name.`;
    return {
      kind: 'typed',
      prompt,
      phrase: database,
      target: {
        'kube context': ctx.target.context,
        namespace: ctx.target.namespace,
        host: values.get('NEO4J_HOST') ?? '?',
        'bolt port': values.get('NEO4J_BOLT_PORT') ?? '7687',
        database,
        'state now': typeof data.detail === 'string' ? data.detail : '?',
      },
    };
  },
  async run(ctx) {
    const database = ctx.values.require('NEO4J_DATABASE');
    const action = ctx.preview?.data?.action;
    let how: 'database' | 'server' | 'statefulset' | 'unknown' = 'unknown';
    let replicasBefore: number | undefined;
    if (action === 'scale-down') {
      const before = await statefulSetState(ctx);
      if (before) {
        replicasBefore = before.replicas > 0 ? before.replicas : 1;
        const kube = await ctx.adapters.kube();
        const ref = {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          name: before.name,
          namespace: kube.target.namespace,
        };
        await kube.scale(ref, 0);
        ctx.log(`kubectl scale statefulset/${before.name} --replicas=0 (it had ${before.replicas})`);
        await waitFor(ctx, 600, `waiting for the pods of StatefulSet ${before.name} to stop`, async () => {
          const now = await statefulSetState(ctx);
          return (now?.pods ?? 0) === 0;
        });
        ctx.log(`StatefulSet ${before.name}: no pod left; the store is free`);
        how = 'statefulset';
      }
    } else if (action === 'stop-database') {
      const stopped = await cypher(ctx, `STOP DATABASE ${quoteName(database)} WAIT`, 'system');
      if (!stopped.ok) throw new RunbookError(`STOP DATABASE ${database} failed: ${stopped.error}`);
      ctx.log(`STOP DATABASE ${database} WAIT: done`);
      how = 'database';
    } else if (action === 'stop-server') {
      const stopped = await neo4jServer(ctx, 'stop');
      if (stopped.exitCode !== 0)
        throw new RunbookError(`neo4j stop failed: ${stopped.stderr || stopped.stdout}`);
      ctx.log(stopped.stdout.trim());
      how = 'server';
    }
    const state = await memberState(ctx);
    if (how === 'unknown')
      how = state.statefulSet
        ? 'statefulset'
        : state.status !== undefined && state.status !== 'absent'
          ? 'database'
          : state.serverRunning === false
            ? 'server'
            : 'unknown';
    const check: Check = {
      id: 'stopped',
      label: `${database} stopped`,
      status: state.running ? 'fail' : 'ok',
      detail: state.detail,
      ...(state.running
        ? { next: `Stop it: ${stopHowFor(state, database, address(ctx))}; then run this step again.` }
        : {}),
    };
    return {
      summary: state.running ? `${database} is still running: not restoring` : state.detail,
      checks: [check],
      data: {
        stopped: !state.running,
        status: state.status ?? 'unreachable',
        how,
        ...(state.edition ? { edition: state.edition, version: state.version } : {}),
        ...(state.statefulSet
          ? {
              statefulSet: state.statefulSet.name,
              replicasBefore: replicasBefore ?? (state.statefulSet.replicas || 1),
            }
          : {}),
      },
    };
  },
});

// ---------------------------------------------------------------- restore

const RESTORE_EXIT: Record<number, string> = {
  2: 'configuration',
  3: 'the database or server is running (or its state cannot be checked): stop it first',
  4: 'backup object missing or object storage unreachable',
  5: 'integrity check failed (checksum, sidecar, archive or incomplete chain): nothing was touched',
  6: 'neo4j-admin load/restore failed',
  7: 'restored, but START DATABASE failed',
};

function neo4jEnv(ctx: Ctx): Record<string, string> {
  const env: Record<string, string> = { NEO4J_ADDRESS: address(ctx) };
  for (const name of [
    'NEO4J_HOST',
    'NEO4J_BOLT_PORT',
    'NEO4J_DATABASE',
    'NEO4J_USERNAME',
    'NEO4J_PASSWORD',
  ]) {
    const value = ctx.values.get(name);
    if (value) env[name] = value;
  }
  return env;
}

/**
 * neo4j-restore.sh as a Kubernetes Job made from CronJob neo4j-daily-backup (the Community one: its
 * image, Secrets, scripts ConfigMap and the StatefulSet's claim at /data), while the StatefulSet is at 0.
 * The Job's ServiceAccount may read the StatefulSet (Role neo4j-backup-scaler): the script checks it has
 * no pod before it touches the store. Returns the exit code and the log.
 */
async function runRestoreJob(
  ctx: Ctx,
  statefulSet: string,
  vars: Record<string, string>,
  objectBytes: number,
): Promise<{ exitCode: number; log: string; where: string; seconds: number }> {
  const kube = await ctx.adapters.kube();
  const namespace = kube.target.namespace;
  const cronJob = await kube.get({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    name: BACKUP_CRONJOB,
    namespace,
  });
  const podSpec = (
    cronJob?.spec as { jobTemplate?: { spec?: { template?: { spec?: Record<string, unknown> } } } }
  )?.jobTemplate?.spec?.template?.spec;
  const claim = `data-${statefulSet}-0`;
  const mountsClaim = JSON.stringify(podSpec?.volumes ?? []).includes(`"claimName":"${claim}"`);
  if (!cronJob || !mountsClaim)
    throw new RunbookError(
      cronJob
        ? `CronJob ${BACKUP_CRONJOB} does not mount the claim ${claim} (it is not the Community one)`
        : `CronJob ${BACKUP_CRONJOB} not found in namespace ${namespace}`,
      {
        next: 'The restore Job is made from it: run the configure and deploy sections first (deploy applies cronjob-neo4j-community.yaml for a Community server).',
      },
    );
  const name = restoreJobName('neo4j-restore', new Date());
  const job = restoreJobFromCronJob(cronJob, {
    name,
    namespace,
    backupScript: 'neo4j-backup.sh',
    restoreScript: 'neo4j-restore.sh',
    env: vars,
    app: 'neo4j-restore',
    workBytes: objectBytes,
  });
  const started = Date.now();
  await kube.create(job);
  const where = `Job ${name} in ${namespace}`;
  ctx.log(`created ${where} from CronJob ${BACKUP_CRONJOB} (kubectl logs -f job/${name} -n ${namespace})`);
  const ref = { apiVersion: 'batch/v1', kind: 'Job', name, namespace };
  let exitCode = 1;
  let podName: string | undefined;
  for (;;) {
    if (ctx.signal.aborted) {
      await kube.delete(ref, { propagationPolicy: 'Foreground' }).catch(() => undefined);
      throw new InterruptedError();
    }
    const current = await kube.get(ref);
    if (!current) throw new RunbookError(`${where} disappeared while it ran (deleted by someone?)`);
    const pods = byCreation(await kube.list('v1', 'Pod', namespace, podSelector(name)));
    podName = pods.at(-1)?.metadata.name ?? podName;
    const summary = summarizeJob(current, pods);
    ctx.progress({ message: `${where}: ${summary.phase} · ${Math.round((Date.now() - started) / 1000)} s` });
    if (summary.finished) {
      exitCode = summary.pod?.exitCode ?? (summary.phase === 'succeeded' ? 0 : 1);
      break;
    }
    await sleep(1000, ctx.signal);
  }
  const log = podName ? await kube.podLog(namespace, podName, {}).catch(() => '') : '';
  for (const line of log.split('\n').filter(Boolean)) ctx.log(line);
  return { exitCode, log, where, seconds: Math.round((Date.now() - started) / 100) / 10 };
}

const BACKUP_CRONJOB = 'neo4j-daily-backup';

const restore = defineStep({
  id: IDS.restore,
  section: SECTION,
  title: 'Restore (overwrites the database)',
  description:
    'Type "overwrite <database>" (not the name alone: that answered the stopped-member gate), then neo4j-restore.sh runs — on Kubernetes as a Job that mounts the StatefulSet\'s claim while it is at 0, else on this host with NEO4J_HOME: it verifies the sidecar again and runs neo4j-admin database load (a full backup or dump) or database restore with the chain (a differential), --overwrite-destination=true.',
  inputs: [...NEO4J_INPUTS, 'S3_BUCKET'],
  optionalInputs: STORAGE_OPTIONAL,
  database: 'neo4j',
  plan: (values, options) => {
    const uri =
      typeof options['restore-uri'] === 'string'
        ? options['restore-uri']
        : 's3://<bucket>/neo4j/<timestamp>.backup.tar.gz';
    return {
      actions: [
        {
          summary: `overwrite Neo4j database ${values.get('NEO4J_DATABASE') ?? 'neo4j'} with the chosen backup`,
          command: [
            'AWS_ACCESS_KEY_ID=<key> AWS_SECRET_ACCESS_KEY=<secret> \\',
            `RESTORE_S3_URI=${uri} \\`,
            `NEO4J_DATABASE=${values.get('NEO4J_DATABASE') ?? 'neo4j'} NEO4J_HOME=${DEFAULT_NEO4J_HOME} \\`,
            `bash ${scriptLocation({}, 'neo4j-restore.sh').display}`,
          ].join('\n'),
          destructive: true,
        },
      ],
      notes: ['Typed gate: the database name.'],
    };
  },
  async preview(ctx) {
    const { chosen, unverified } = requireRestorable(ctx.from, SPEC);
    const stopped = ctx.earlier(IDS.memberStopped);
    if (stopped?.stopped !== true)
      throw new RunbookError('the Neo4j member has not been confirmed stopped in this session', {
        next: `Run ${IDS.memberStopped} first.`,
      });
    const statefulSet = typeof stopped.statefulSet === 'string' ? stopped.statefulSet : undefined;
    if (statefulSet)
      return {
        lines: [
          `restore ${chosen.uri} (${formatBytes(chosen.size)}) into ${ctx.values.get('NEO4J_DATABASE')} on the claim data-${statefulSet}-0, as a Job made from CronJob ${BACKUP_CRONJOB} (StatefulSet ${statefulSet} is at 0)`,
          unverified ? 'integrity: NOT VERIFIED (overridden)' : 'integrity: verified',
        ],
        data: { home: `claim data-${statefulSet}-0`, statefulSet },
      };
    const home = neo4jHome(ctx.settings);
    return {
      lines: [
        `restore ${chosen.uri} (${formatBytes(chosen.size)}) into ${ctx.values.get('NEO4J_DATABASE')} under NEO4J_HOME=${home.path} (${home.source})`,
        unverified ? 'integrity: NOT VERIFIED (overridden)' : 'integrity: verified',
      ],
      data: { home: home.path },
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
    const database = values.require('NEO4J_DATABASE');
    const home = typeof ctx.preview?.data?.home === 'string' ? ctx.preview.data.home : neo4jHome({}).path;
    return {
      kind: 'typed',
      prompt: `DESTRUCTIVE: Neo4j database ${database} under ${home} will be OVERWRITTEN by the backup (--overwrite-destination=true). Type "${overwritePhrase(database)}" to confirm.`,
      phrase: overwritePhrase(database),
      target: {
        'kube context': ctx.target.context,
        namespace: ctx.target.namespace,
        host: values.get('NEO4J_HOST') ?? '?',
        [home.startsWith('claim ') ? 'store' : 'NEO4J_HOME']: home,
        database,
        backup: restorable?.chosen.uri ?? '?',
        'recovery point': restorable?.chosen.recoveryPoint ?? 'unknown',
        integrity: restorable
          ? restorable.unverified
            ? 'NOT VERIFIED (overridden)'
            : `verified sha256 ${restorable.integrity.sha256.slice(0, 16)}…`
          : '?',
      },
    };
  },
  async run(ctx) {
    const { chosen, integrity, unverified } = requireRestorable(ctx.from, SPEC);
    const statefulSet = ctx.earlier(IDS.memberStopped)?.statefulSet;
    if (typeof statefulSet === 'string') {
      ctx.mark(MARK.restoreStarted, { uri: chosen.uri, database: ctx.values.get('NEO4J_DATABASE') });
      const job = await runRestoreJob(
        ctx,
        statefulSet,
        {
          RESTORE_S3_URI: chosen.uri,
          NEO4J_DATABASE: ctx.values.require('NEO4J_DATABASE'),
          NEO4J_STATEFULSET: statefulSet,
          NEO4J_START_AFTER_RESTORE: 'false',
          ...(unverified ? { ALLOW_UNVERIFIED: 'true' } : {}),
        },
        chosen.size,
      );
      if (job.exitCode !== 0)
        return {
          summary: `restore FAILED (exit ${job.exitCode}: ${RESTORE_EXIT[job.exitCode] ?? 'failed'})`,
          checks: [
            {
              id: 'restore',
              label: `neo4j-restore.sh (${job.where})`,
              status: 'fail',
              detail:
                job.log
                  .trim()
                  .split('\n')
                  .filter((line) => /neo4j-restore:/.test(line))
                  .slice(-4)
                  .join('\n') || `exit ${job.exitCode}`,
              next: `Fix the cause (kubectl logs job/${job.where.split(' ')[1] ?? ''}), then run this step again; StatefulSet ${statefulSet} is still at 0.`,
            },
          ],
          data: { exitCode: job.exitCode, seconds: job.seconds },
        };
      ctx.mark(MARK.downloadDone, { uri: chosen.uri });
      const out = scriptOutput(
        job.log
          .split('\n')
          .filter((line) => /^[a-z_]+=/.test(line))
          .join('\n'),
      );
      ctx.mark(MARK.restoreDone, { uri: chosen.uri, database: ctx.values.get('NEO4J_DATABASE') });
      const backup = { uri: chosen.uri, size: chosen.size, sha256: integrity.sha256, verified: !unverified };
      ctx.mark(MARK.recoveryPoint, { at: chosen.recoveryPoint, ...backup });
      return {
        summary: `restored ${ctx.values.get('NEO4J_DATABASE')} (${out.type ?? '?'} ${out.artifact ?? ''}) on the claim data-${statefulSet}-0 in ${formatDuration(job.seconds * 1000)}`,
        checks: [
          {
            id: 'restore',
            label: `neo4j-restore.sh (${job.where})`,
            status: 'ok',
            detail: `exit 0; ${out.type ?? ''} ${out.artifact ?? ''}: neo4j-admin database load --overwrite-destination=true`,
          },
        ],
        data: {
          backup,
          database: ctx.values.get('NEO4J_DATABASE'),
          type: out.type,
          artifact: out.artifact,
          seconds: job.seconds,
          job: job.where,
        },
      };
    }
    const script = scriptLocation(ctx.settings, 'neo4j-restore.sh');
    const storage = storageEnv(ctx.values);
    const home = neo4jHome(ctx.settings);
    const env: Record<string, string> = {
      ...storage.env,
      ...neo4jEnv(ctx),
      RESTORE_S3_URI: chosen.uri,
      NEO4J_HOME: home.path,
      ...(unverified ? { ALLOW_UNVERIFIED: 'true' } : {}),
    };
    const { result, downloaded, seconds } = await runRestoreScript(ctx, {
      path: script.path,
      env,
      secrets: storage.secrets,
      size: chosen.size,
      restoringPhase: 'neo4j-admin is loading the store',
      startedMark: { uri: chosen.uri, database: ctx.values.get('NEO4J_DATABASE') },
      downloadedMark: { uri: chosen.uri },
    });
    if (ctx.signal.aborted && ctx.signal.reason !== 'detach') throw new InterruptedError();
    if (result.exitCode !== 0) {
      return {
        summary: `restore FAILED (exit ${result.exitCode}: ${RESTORE_EXIT[result.exitCode] ?? 'failed'})`,
        checks: [
          {
            id: 'restore',
            label: 'neo4j-restore.sh',
            status: 'fail',
            detail: result.stderr.trim().split('\n').slice(-4).join('\n') || `exit ${result.exitCode}`,
            next: 'Fix the cause (see the log) and run this step again.',
          },
        ],
        data: { exitCode: result.exitCode, seconds },
      };
    }
    if (!downloaded) ctx.mark(MARK.downloadDone, { uri: chosen.uri });
    const out = scriptOutput(result.stdout);
    ctx.mark(MARK.restoreDone, { uri: chosen.uri, database: ctx.values.get('NEO4J_DATABASE') });
    const backup = { uri: chosen.uri, size: chosen.size, sha256: integrity.sha256, verified: !unverified };
    ctx.mark(MARK.recoveryPoint, { at: chosen.recoveryPoint, ...backup });
    return {
      summary: `restored ${ctx.values.get('NEO4J_DATABASE')} (${out.type ?? '?'} ${out.artifact ?? ''}) in ${formatDuration(seconds * 1000)}`,
      checks: [
        {
          id: 'restore',
          label: 'neo4j-restore.sh',
          status: 'ok',
          detail: `exit 0; ${out.type ?? ''} ${out.artifact ?? ''}`.trim(),
        },
      ],
      data: {
        backup,
        database: ctx.values.get('NEO4J_DATABASE'),
        type: out.type,
        artifact: out.artifact,
        seconds,
      },
    };
  },
});

// ---------------------------------------------------------------- start and verify

const startVerify = defineStep({
  id: IDS.startVerify,
  section: SECTION,
  title: 'Start Neo4j and verify',
  description:
    "Start what was stopped (scale the StatefulSet back, START DATABASE x WAIT, or neo4j start), then the runbook's checks over Bolt: the database online, its node count, every label's count, the BackupValidation node.",
  inputs: NEO4J_INPUTS,
  database: 'neo4j',
  plan: (values) => {
    const database = values.get('NEO4J_DATABASE') ?? 'neo4j';
    return {
      actions: [
        {
          summary: values.get('NEO4J_STATEFULSET')
            ? `kubectl scale statefulset/${values.get('NEO4J_STATEFULSET')} --replicas=<as before>, wait for Bolt`
            : `START DATABASE ${quoteName(database)} WAIT (or neo4j start when the server was stopped)`,
        },
        {
          summary: 'verify over Bolt (the official driver; the same statements at a shell:)',
          command: `cypher-shell -d ${database} 'MATCH (n) RETURN count(n) AS nodes'\ncypher-shell -d ${database} 'MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) ORDER BY label'\ncypher-shell -d ${database} 'MATCH (n:BackupValidation) RETURN n.id, n.checkedAt, n.marker'`,
        },
      ],
    };
  },
  async run(ctx) {
    const database = ctx.values.require('NEO4J_DATABASE');
    const how = ctx.earlier(IDS.memberStopped)?.how;
    const validation: { query: string; ok: boolean; detail: string }[] = [];
    const checks: Check[] = [];
    const add = (id: string, label: string, ok: boolean, detail: string, next?: string) => {
      checks.push({ id, label, status: ok ? 'ok' : 'fail', detail, ...(next && !ok ? { next } : {}) });
      validation.push({ query: label, ok, detail });
    };
    const stopped = ctx.earlier(IDS.memberStopped);
    if (how === 'statefulset' && typeof stopped?.statefulSet === 'string') {
      const replicas = typeof stopped.replicasBefore === 'number' ? stopped.replicasBefore : 1;
      const kube = await ctx.adapters.kube();
      await kube.scale(
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          name: stopped.statefulSet,
          namespace: kube.target.namespace,
        },
        replicas,
      );
      ctx.log(`kubectl scale statefulset/${stopped.statefulSet} --replicas=${replicas}`);
      await waitFor(
        ctx,
        600,
        `waiting for Neo4j (StatefulSet ${stopped.statefulSet}) to answer over Bolt`,
        async () => {
          const probe = await cypher(
            ctx,
            `SHOW DATABASE ${quoteName(database)} YIELD currentStatus`,
            'system',
          );
          return probe.ok && probe.rows[0]?.[0] === 'online';
        },
      );
    }
    const before = await memberState(ctx);
    if (before.serverRunning === false || (before.status === undefined && how === 'server')) {
      const started = await neo4jServer(ctx, 'start');
      ctx.log(started.stdout.trim().split('\n').slice(-1).join(''));
      if (started.exitCode !== 0)
        throw new RunbookError(`neo4j start failed: ${started.stderr || started.stdout}`);
    }
    const middle = await memberState(ctx);
    if (middle.status !== undefined && middle.status !== 'online') {
      const started = await cypher(ctx, `START DATABASE ${quoteName(database)} WAIT`, 'system');
      if (!started.ok) throw new RunbookError(`START DATABASE ${database} failed: ${started.error}`);
      ctx.log(`START DATABASE ${database} WAIT: done`);
    }
    const after = await memberState(ctx);
    if (after.serverRunning !== undefined)
      add('server', 'neo4j status', after.serverRunning, after.serverRunning ? 'running' : 'not running');
    add(
      'online',
      `database ${database} online`,
      after.status === 'online',
      after.detail,
      'See the Neo4j logs (debug.log) for why it did not start.',
    );
    const nodes = await cypher(ctx, 'MATCH (n) RETURN count(n) AS nodes', database);
    add(
      'nodes',
      'MATCH (n) RETURN count(n)',
      nodes.ok,
      nodes.ok ? `${nodes.rows[0]?.[0] ?? '?'} node(s)` : nodes.error,
    );
    const labels = await cypher(
      ctx,
      'MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) ORDER BY label',
      database,
    );
    add(
      'labels',
      'nodes per label',
      labels.ok,
      labels.ok
        ? labels.rows.map((row) => `${row[0]} ${row[1]}`).join(', ') || 'no labelled nodes'
        : labels.error,
    );
    const marker = await cypher(
      ctx,
      'MATCH (n:BackupValidation) RETURN n.id, n.checkedAt, n.marker',
      database,
    );
    add(
      'marker',
      'MATCH (n:BackupValidation)',
      marker.ok && marker.rows.length > 0,
      marker.ok
        ? marker.rows.length > 0
          ? marker.rows.map((row) => row.filter(Boolean).join(' ')).join('; ')
          : 'no BackupValidation node'
        : marker.error,
      'The backup has no BackupValidation node: was the synthetic test run before it?',
    );
    const failed = validation.filter((entry) => !entry.ok);
    if (failed.length === 0) {
      ctx.mark(MARK.validated, { database });
      // The figures the report shows for this recovery, from the same computation.
      checks.push(...recoveryFigureChecks(ctx, SECTION, 'neo4j'));
    }
    return {
      summary: failed.length === 0 ? `verified: ${database} online` : `${failed.length} check(s) FAILED`,
      checks,
      data: {
        validation,
        labelCounts: labels.ok
          ? Object.fromEntries(labels.rows.map((row) => [row[0], Number(row[1])]))
          : undefined,
        ...(after.edition ? { edition: after.edition, version: after.version } : {}),
      },
    };
  },
});

export const restoreNeo4jSteps: readonly RunbookStep[] = [
  incidentStep(SPEC),
  chooseBackupStep(SPEC),
  integrityStep(SPEC),
  overrideStep(SPEC),
  memberStopped,
  restore,
  startVerify,
];

export { IDS as RESTORE_NEO4J_IDS };
