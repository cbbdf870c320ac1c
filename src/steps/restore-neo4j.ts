/**
 * The runbook's "Neo4j Restore": incident → choose the backup → integrity → the member is stopped
 * (checked, with how to stop it; typed gate) → neo4j-restore.sh on this host with NEO4J_HOME (typed
 * database name: --overwrite-destination) → start and verify (`neo4j status`, Cypher smoke queries).
 * In the sandbox the Neo4j executables are the stand-in's, and the results say so.
 */
import type { Adapters } from '../adapters/types.js';
import { formatBytes, formatDuration } from '../runbook/backup-catalog.js';
import { InterruptedError, RunbookError } from '../runbook/errors.js';
import { MARK } from '../runbook/marks.js';
import { shellCommand } from '../runbook/plan.js';
import type { Check, Gate, StepContext } from '../runbook/step.js';
import type { Values } from '../runbook/values.js';
import { recoveryFigureChecks } from './recovery-figures.js';
import { defineStep, type RunbookStep } from './define.js';
import {
  chooseBackupStep,
  incidentStep,
  integrityStep,
  NEO4J_SPEC,
  overrideStep,
  requireRestorable,
  runRestoreScript,
  scriptLocation,
  scriptOutput,
  stepIds,
  STORAGE_OPTIONAL,
  storageEnv,
  operatorChoice,
} from './restore-shared.js';

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
  unreachable: boolean;
}

/** Runs one Cypher statement with cypher-shell (user and password from the environment, never argv). */
async function cypher(ctx: Ctx, statement: string, database?: string): Promise<CypherResult> {
  const env: Record<string, string> = {};
  for (const name of ['NEO4J_USERNAME', 'NEO4J_PASSWORD']) {
    const value = ctx.values.get(name);
    if (value) env[name] = value;
  }
  const result = await ctx.adapters.proc.run(
    (await neo4jBinary(ctx, 'cypher-shell')) ?? 'cypher-shell',
    [
      '-a',
      address(ctx),
      ...(database ? ['-d', database] : []),
      '--format',
      'plain',
      '--non-interactive',
      statement,
    ],
    { env, secrets: ctx.values.secretValues(), signal: ctx.signal, timeoutMs: 60_000 },
  );
  const lines = result.stdout.split('\n').filter((line) => line.trim() !== '');
  const rows = lines.slice(1).map((line) => line.split(', ').map((cell) => cell.replace(/^"(.*)"$/, '$1')));
  const error = result.stderr.trim().split('\n').slice(-2).join(' ');
  return {
    ok: result.exitCode === 0,
    rows,
    error: error || (result.exitCode === 127 ? 'cypher-shell is not installed' : `exit ${result.exitCode}`),
    unreachable: /Unable to connect|Connection refused|ServiceUnavailable/i.test(result.stderr),
  };
}

interface MemberState {
  /** SHOW DATABASE's currentStatus, `absent`, or undefined when Bolt does not answer. */
  status?: string;
  /** `neo4j status` on this host: true running, false not running, undefined no `neo4j` here. */
  serverRunning?: boolean;
  running: boolean;
  detail: string;
  standIn: boolean;
}

async function memberState(ctx: Ctx): Promise<MemberState> {
  const database = ctx.values.require('NEO4J_DATABASE');
  const shown = await cypher(ctx, `SHOW DATABASE ${quoteName(database)} YIELD currentStatus`, 'system');
  const status = shown.ok ? (shown.rows[0]?.[0] ?? 'absent') : undefined;
  if (!shown.ok && !shown.unreachable)
    throw new RunbookError(`cannot ask Neo4j whether ${database} is running: ${shown.error}`, {
      next: 'Check NEO4J_USERNAME/NEO4J_PASSWORD and NEO4J_HOST/NEO4J_BOLT_PORT.',
    });
  const server = await neo4jBinary(ctx, 'neo4j');
  let serverRunning: boolean | undefined;
  if (server) {
    // LSB: 0 running, 3 not running; anything else says nothing about it.
    const result = await neo4jServer(ctx, 'status');
    serverRunning = result.exitCode === 0 ? true : result.exitCode === 3 ? false : undefined;
    if (serverRunning === undefined)
      ctx.log(`neo4j status: exit ${result.exitCode} ${result.stderr.trim().split('\n').slice(-1).join('')}`);
  }
  const standIn = ctx.target.sandbox || (server?.includes('neo4j-standin') ?? false);
  const running = status !== undefined ? RUNNING_STATES.has(status) : serverRunning === true;
  const detail =
    status !== undefined
      ? `database ${database} is ${status}${serverRunning === undefined ? '' : serverRunning ? ' (server running)' : ' (server stopped)'}`
      : serverRunning
        ? `Bolt does not answer but the Neo4j server on this host is running`
        : serverRunning === false
          ? 'Bolt does not answer and the Neo4j server on this host is stopped'
          : 'Bolt does not answer (stopped, or not reachable from here) and there is no neo4j command on this host';
  return { status, serverRunning, running, detail, standIn };
}

function standInNote(standIn: boolean): string {
  return standIn ? ' [sandbox: Neo4j stand-in executables, not a real server]' : '';
}

// ---------------------------------------------------------------- the member is stopped

const memberStopped = defineStep({
  id: IDS.memberStopped,
  section: SECTION,
  title: 'The Neo4j member is stopped',
  description:
    'The runbook: "Neo4j must be stopped prior to running neo4j-admin database load." Checks SHOW DATABASE and `neo4j status`, says how to stop it (STOP DATABASE x WAIT on Enterprise, neo4j stop on Community), and can stop it for you; typed gate: the database name.',
  inputs: NEO4J_INPUTS,
  database: 'neo4j',
  plan: (values) => {
    const database = values.get('NEO4J_DATABASE') ?? 'neo4j';
    const addr = `neo4j://${values.get('NEO4J_HOST') ?? '<host>'}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`;
    return {
      actions: [
        {
          summary: `check that ${database} is not running`,
          command: `NEO4J_USERNAME=${values.get('NEO4J_USERNAME') ?? 'neo4j'} NEO4J_PASSWORD=<password> ${shellCommand(['cypher-shell', '-a', addr, '-d', 'system', `SHOW DATABASE ${quoteName(database)} YIELD currentStatus`])}\nneo4j status`,
        },
        { summary: `if it runs: ${stopHow(database, addr)}` },
      ],
      notes: ['Typed gate: the database name.'],
    };
  },
  async preview(ctx) {
    requireRestorable(ctx.earlier, SPEC);
    const state = await memberState(ctx);
    const database = ctx.values.require('NEO4J_DATABASE');
    let action = 'none';
    if (state.running) {
      action =
        (await operatorChoice(
          ctx,
          `${state.detail}. It must be stopped before the restore.`,
          [
            {
              label: 'I will stop it myself, then check again',
              value: 'self',
              hint: stopHow(database, address(ctx)),
            },
            ...(state.status !== undefined
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
          'self',
        )) ?? 'self';
    }
    return {
      lines: [
        `${state.detail}${standInNote(state.standIn)}`,
        ...(state.running ? [`to stop it: ${stopHow(database, address(ctx))}`] : []),
      ],
      data: { ...state, action },
    };
  },
  gate(values, ctx): Gate {
    const data = ctx.preview?.data ?? {};
    const database = values.require('NEO4J_DATABASE');
    const action = data.action;
    const prompt =
      action === 'stop-database'
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
        ...(data.standIn === true ? { note: 'sandbox: Neo4j stand-in, not a real server' } : {}),
      },
    };
  },
  async run(ctx) {
    const database = ctx.values.require('NEO4J_DATABASE');
    const action = ctx.preview?.data?.action;
    let how: 'database' | 'server' | 'unknown' = 'unknown';
    if (action === 'stop-database') {
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
      how =
        state.status !== undefined && state.status !== 'absent'
          ? 'database'
          : state.serverRunning === false
            ? 'server'
            : 'unknown';
    const check: Check = {
      id: 'stopped',
      label: `${database} stopped`,
      status: state.running ? 'fail' : 'ok',
      detail: `${state.detail}${standInNote(state.standIn)}`,
      ...(state.running
        ? { next: `Stop it: ${stopHow(database, address(ctx))}; then run this step again.` }
        : {}),
    };
    return {
      summary: state.running
        ? `${database} is still running: not restoring`
        : `${state.detail}${standInNote(state.standIn)}`,
      checks: [check],
      data: { stopped: !state.running, status: state.status ?? 'unreachable', how, standIn: state.standIn },
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

const restore = defineStep({
  id: IDS.restore,
  section: SECTION,
  title: 'Restore (overwrites the database)',
  description:
    'Type "overwrite <database>" (not the name alone: that answered the stopped-member gate), then neo4j-restore.sh runs on this host with NEO4J_HOME: it verifies the sidecar again and runs neo4j-admin database load (a full backup or dump) or database restore with the chain (a differential), --overwrite-destination=true.',
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
    const { chosen, unverified } = requireRestorable(ctx.earlier, SPEC);
    const stopped = ctx.earlier(IDS.memberStopped);
    if (stopped?.stopped !== true)
      throw new RunbookError('the Neo4j member has not been confirmed stopped in this session', {
        next: `Run ${IDS.memberStopped} first.`,
      });
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
        return requireRestorable(ctx.earlier, SPEC);
      } catch {
        return undefined;
      }
    })();
    const database = values.require('NEO4J_DATABASE');
    const home = typeof ctx.preview?.data?.home === 'string' ? ctx.preview.data.home : neo4jHome({}).path;
    const standIn = ctx.earlier(IDS.memberStopped)?.standIn === true;
    return {
      kind: 'typed',
      prompt: `DESTRUCTIVE: Neo4j database ${database} under ${home} will be OVERWRITTEN by the backup (--overwrite-destination=true). Type "${overwritePhrase(database)}" to confirm.`,
      phrase: overwritePhrase(database),
      target: {
        'kube context': ctx.target.context,
        namespace: ctx.target.namespace,
        host: values.get('NEO4J_HOST') ?? '?',
        NEO4J_HOME: home,
        database,
        backup: restorable?.chosen.uri ?? '?',
        'recovery point': restorable?.chosen.recoveryPoint ?? 'unknown',
        integrity: restorable
          ? restorable.unverified
            ? 'NOT VERIFIED (overridden)'
            : `verified sha256 ${restorable.integrity.sha256.slice(0, 16)}…`
          : '?',
        ...(standIn ? { note: 'sandbox: Neo4j stand-in, not a real server' } : {}),
      },
    };
  },
  async run(ctx) {
    const { chosen, integrity, unverified } = requireRestorable(ctx.earlier, SPEC);
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
    const standIn = ctx.earlier(IDS.memberStopped)?.standIn === true;
    return {
      summary: `restored ${ctx.values.get('NEO4J_DATABASE')} (${out.type ?? '?'} ${out.artifact ?? ''}) in ${formatDuration(seconds * 1000)}${standInNote(standIn)}`,
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
        standIn,
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
    "Start what was stopped (START DATABASE x WAIT, or neo4j start), then the runbook's checks: `neo4j status` and targeted Cypher — the database online, its node count, the BackupValidation node.",
  inputs: NEO4J_INPUTS,
  database: 'neo4j',
  plan: (values) => {
    const database = values.get('NEO4J_DATABASE') ?? 'neo4j';
    return {
      actions: [
        {
          summary: `START DATABASE ${quoteName(database)} WAIT (or neo4j start when the server was stopped)`,
        },
        {
          summary: 'verify',
          command: `neo4j status\ncypher-shell -d ${database} 'MATCH (n) RETURN count(n) AS nodes'\ncypher-shell -d ${database} 'MATCH (n:BackupValidation) RETURN n.id, n.checkedAt'`,
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
    const marker = await cypher(ctx, 'MATCH (n:BackupValidation) RETURN n.id, n.checkedAt', database);
    add(
      'marker',
      'MATCH (n:BackupValidation)',
      marker.ok && marker.rows.length > 0,
      marker.ok
        ? marker.rows.length > 0
          ? marker.rows.map((row) => row.join(' ')).join('; ')
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
      summary: `${failed.length === 0 ? `verified: ${database} online` : `${failed.length} check(s) FAILED`}${standInNote(after.standIn)}`,
      checks,
      data: { validation, standIn: after.standIn },
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
