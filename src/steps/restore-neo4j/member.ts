/**
 * The Neo4j member a restore stops and starts again: whether it is running (SHOW DATABASE over Bolt, the
 * StatefulSet NEO4J_STATEFULSET, or `neo4j status` on this host), how it is stopped, and the commands.
 */
import { RunbookError } from '../../runbook/errors.js';
import { sleep } from '../define.js';
import type { Ctx } from '../restore-kit/spec.js';
import {
  cypher as boltCypher,
  neo4jBinary,
  neo4jHome,
  neo4jServerInfo,
  quoteNeo4jName,
} from '../clients/cypher.js';

/** Database states in which a restore must not touch the store. */
const RUNNING_STATES = new Set(['online', 'starting', 'stopping', 'store copying', 'initial']);

/** How a database is stopped by hand: STOP DATABASE on Enterprise, `neo4j stop` on Community. */
export function stopHow(database: string, addr: string): string {
  return `Enterprise: cypher-shell -a ${addr} -d system "STOP DATABASE ${quoteNeo4jName(database)} WAIT" (the server keeps running); Community: neo4j stop on this host`;
}

/** `neo4j <command>` with NEO4J_HOME set (the server's state and configuration live there). */
export async function neo4jServer(ctx: Ctx, command: 'status' | 'start' | 'stop') {
  const binary = (await neo4jBinary(ctx, 'neo4j')) ?? 'neo4j';
  return ctx.adapters.proc.run(binary, [command], {
    env: { NEO4J_HOME: neo4jHome(ctx.settings) },
    signal: ctx.signal,
    timeoutMs: command === 'status' ? 30_000 : 300_000,
  });
}

export interface CypherResult {
  ok: boolean;
  rows: string[][];
  error: string;
  next?: string;
  unreachable: boolean;
}

/** One Cypher statement over Bolt (clients/cypher.ts); `unreachable` when Bolt does not answer or no credentials are set. */
export async function cypher(ctx: Ctx, statement: string, database?: string): Promise<CypherResult> {
  const outcome = await boltCypher(ctx, statement, database);
  return {
    ok: outcome.ok,
    rows: outcome.rows,
    error: outcome.unavailable ?? outcome.error,
    ...(outcome.next ? { next: outcome.next } : {}),
    unreachable: outcome.kind === 'unavailable',
  };
}

/** StatefulSet NEO4J_STATEFULSET: how many replicas it wants and how many pods it has. */
export async function statefulSetState(
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
export async function waitFor(
  ctx: Ctx,
  seconds: number,
  what: string,
  done: () => Promise<boolean>,
): Promise<void> {
  const started = Date.now();
  while (!(await done())) {
    if (Date.now() - started > seconds * 1000) throw new RunbookError(`${what}: not after ${seconds} s`);
    ctx.progress({ message: `${what} · ${Math.round((Date.now() - started) / 1000)} s` });
    await sleep(1000, ctx.signal);
  }
}

export interface MemberState {
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

/** Whether the member is running: SHOW DATABASE over Bolt, the StatefulSet, or `neo4j status` on this host. */
export async function memberState(ctx: Ctx): Promise<MemberState> {
  const database = ctx.values.require('NEO4J_DATABASE');
  const shown = await cypher(ctx, `SHOW DATABASE ${quoteNeo4jName(database)} YIELD currentStatus`, 'system');
  const status = shown.ok ? (shown.rows[0]?.[0] ?? 'absent') : undefined;
  if (!shown.ok && !shown.unreachable)
    throw new RunbookError(`cannot ask Neo4j whether ${database} is running: ${shown.error}`, {
      next: shown.next ?? 'Check NEO4J_USERNAME/NEO4J_PASSWORD and NEO4J_HOST/NEO4J_BOLT_PORT.',
    });
  const info = status !== undefined ? (await neo4jServerInfo(ctx)).info : undefined;
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
export function stopHowFor(state: MemberState, database: string, addr: string): string {
  if (state.statefulSet)
    return `kubectl scale statefulset/${state.statefulSet.name} --replicas=0 (Community: the server stops), then wait until its pod is gone`;
  if (state.edition === 'community') return 'neo4j stop on the Neo4j host (Community has no STOP DATABASE)';
  return stopHow(database, addr);
}
