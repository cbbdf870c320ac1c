/**
 * The one Neo4j client of the steps: where the server is, Cypher through the driver, the cypher-shell
 * command a person would type, and the server's edition.
 */
import type { Values } from '../../runbook/values.js';
import type { Ctx } from '../define.js';
import { Neo4jError, type Neo4jErrorKind } from '../../adapters/neo4j.js';
import { shellCommand } from '../../runbook/plan.js';

/** `neo4j://host:7687`, or the values file's `neo4jAddress` (as restore-neo4j reads it). */
export function neo4jAddress(ctx: { values: Values; settings: Record<string, unknown> }): string {
  const fromSettings = ctx.settings.neo4jAddress;
  if (typeof fromSettings === 'string' && fromSettings !== '') return fromSettings;
  return `neo4j://${ctx.values.get('NEO4J_HOST') ?? 'localhost'}:${ctx.values.get('NEO4J_BOLT_PORT') ?? '7687'}`;
}

/** The runbook's example NEO4J_HOME. */
export const DEFAULT_NEO4J_HOME = '/var/lib/neo4j';

/** NEO4J_HOME on this host and where it comes from: the values file's `neo4jHome`, else NEO4J_HOME, else the runbook's /var/lib/neo4j. */
export function neo4jHomeOf(settings: Record<string, unknown>): { path: string; source: string } {
  const fromSettings = settings.neo4jHome;
  if (typeof fromSettings === 'string' && fromSettings !== '')
    return { path: fromSettings, source: 'values file' };
  const fromEnv = process.env.NEO4J_HOME;
  if (fromEnv) return { path: fromEnv, source: 'NEO4J_HOME' };
  return { path: DEFAULT_NEO4J_HOME, source: 'the runbook default' };
}

/** NEO4J_HOME on this host (see {@link neo4jHomeOf}). */
export function neo4jHome(settings: Record<string, unknown>): string {
  return neo4jHomeOf(settings).path;
}

/** `$NEO4J_HOME/bin/<name>` when it is there (as neo4j-restore.sh does), else `<name>` on PATH. */
export async function neo4jBinary(
  ctx: Pick<Ctx, 'adapters' | 'settings'>,
  name: string,
): Promise<string | undefined> {
  return (
    (await ctx.adapters.proc.which(`${neo4jHome(ctx.settings)}/bin/${name}`)) ??
    (await ctx.adapters.proc.which(name))
  );
}

export interface CypherOutcome {
  ok: boolean;
  /** Each row's values as text (numbers and temporals as Cypher prints them, lists and maps as JSON). */
  rows: string[][];
  /** The same rows as plain values (numbers stay numbers). */
  values: unknown[][];
  error: string;
  /** What went wrong, for the steps that act on it (auth, unavailable, database-not-found, unsupported…). */
  kind?: Neo4jErrorKind;
  /** What to do about it. */
  next?: string;
  /** The credentials are not set: nothing was asked. */
  unavailable?: string;
}

export function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The cypher-shell command a person would type for the same statement (credentials in the environment). */
export function cypherShellCommand(address: string, statement: string, database?: string): string {
  return shellCommand([
    'cypher-shell',
    '-a',
    address,
    ...(database ? ['-d', database] : []),
    '--format',
    'plain',
    statement,
  ]);
}

/**
 * One Cypher statement over Bolt with the official driver (no cypher-shell, no Java here); the user and
 * password go to the driver's auth token, never to a command line. Parameters travel apart from the text.
 */
export async function cypher(
  ctx: Pick<Ctx, 'adapters' | 'settings' | 'values' | 'signal'>,
  statement: string,
  database?: string,
  params?: Record<string, unknown>,
  address: string = neo4jAddress(ctx),
): Promise<CypherOutcome> {
  const username = ctx.values.get('NEO4J_USERNAME');
  const password = ctx.values.get('NEO4J_PASSWORD');
  if (!username || !password)
    return {
      ok: false,
      rows: [],
      values: [],
      error: '',
      unavailable: 'NEO4J_USERNAME/NEO4J_PASSWORD are not set',
    };
  try {
    const result = await ctx.adapters.neo4j({ address, username, password }).run(statement, {
      ...(database ? { database } : {}),
      ...(params ? { params } : {}),
      signal: ctx.signal,
    });
    return { ok: true, rows: result.rows.map((row) => row.map(cell)), values: result.rows, error: '' };
  } catch (error) {
    if (error instanceof Neo4jError)
      return {
        ok: false,
        rows: [],
        values: [],
        error: error.message,
        kind: error.kind,
        ...(error.next ? { next: error.next } : {}),
      };
    return { ok: false, rows: [], values: [], error: error instanceof Error ? error.message : String(error) };
  }
}

export interface Neo4jServerInfo {
  edition: 'community' | 'enterprise' | string;
  version: string;
}

/** CALL dbms.components(): the server's edition and version (undefined when it cannot be asked: see `error`). */
export async function neo4jServerInfo(
  ctx: Pick<Ctx, 'adapters' | 'settings' | 'values' | 'signal'>,
  address?: string,
): Promise<{ info?: Neo4jServerInfo; outcome: CypherOutcome }> {
  const outcome = await cypher(
    ctx,
    'CALL dbms.components() YIELD name, versions, edition RETURN edition, versions[0] AS version',
    undefined,
    undefined,
    address,
  );
  const row = outcome.values[0];
  if (!outcome.ok || !row) return { outcome };
  return { info: { edition: String(row[0]), version: String(row[1]) }, outcome };
}

/** A Neo4j database name in backticks. */
export function quoteNeo4jName(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}
