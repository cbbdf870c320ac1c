/**
 * Cypher over Bolt with the official `neo4j-driver` (the only module that imports it). One driver per
 * call: the product sends a handful of statements per step, and nothing stays open to keep the process
 * alive. Credentials go to the driver's auth token, never to a command line; the journal gets the
 * address, database and statement, never the password.
 *
 * Errors come back as Neo4jError with a kind the steps can act on and a message a person can act on:
 * `auth` (wrong user or password), `unavailable` (nothing answers Bolt there: server down, wrong host or
 * port, TLS mismatch), `database-not-found`, `credentials-expired`, `forbidden`, `syntax`, `other`.
 */
import { RunbookError } from '../runbook/errors.js';
import type { Neo4jAdapter, Neo4jConnection, Neo4jResult, Recorder } from './types.js';

export type Neo4jErrorKind =
  | 'auth'
  | 'unavailable'
  | 'database-not-found'
  | 'credentials-expired'
  | 'forbidden'
  | 'unsupported'
  | 'syntax'
  | 'other';

export class Neo4jError extends RunbookError {
  readonly kind: Neo4jErrorKind;
  /** The server's status code (Neo.ClientError.…) or the driver's (ServiceUnavailable). */
  readonly neo4jCode: string;

  constructor(kind: Neo4jErrorKind, neo4jCode: string, message: string, next?: string) {
    super(message, { ...(next ? { next } : {}), code: `neo4j-${kind}` });
    this.name = 'Neo4jError';
    this.kind = kind;
    this.neo4jCode = neo4jCode;
  }
}

interface DriverModule {
  default: {
    driver(url: string, auth: unknown, config?: Record<string, unknown>): DriverLike;
    auth: { basic(user: string, password: string): unknown };
    isInt(value: unknown): boolean;
    integer: {
      inSafeRange(value: unknown): boolean;
      toNumber(value: unknown): number;
      toString(value: unknown): string;
    };
  };
}

interface DriverLike {
  session(config: { database?: string; defaultAccessMode?: string }): SessionLike;
  close(): Promise<void>;
}

interface SessionLike {
  run(
    statement: string,
    params?: Record<string, unknown>,
    config?: { timeout?: number },
  ): Promise<{
    records: { keys: PropertyKey[]; get(key: PropertyKey): unknown }[];
    summary: { counters?: { updates(): Record<string, number> } };
  }>;
  close(): Promise<void>;
}

/** The address without credentials or a query string, for messages and the journal. */
function shown(address: string): string {
  return address.replace(/\/\/[^@/]*@/, '//').replace(/\?.*$/, '');
}

/** A value as plain JSON-friendly JavaScript: integers as numbers (strings past 2^53), temporals as ISO text. */
export function plain(value: unknown, driver?: DriverModule['default']): unknown {
  if (value === null || value === undefined) return null;
  if (driver?.isInt(value))
    return driver.integer.inSafeRange(value)
      ? driver.integer.toNumber(value)
      : driver.integer.toString(value);
  if (Array.isArray(value)) return value.map((item) => plain(item, driver));
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    // Node / Relationship
    if (Array.isArray(object.labels) && object.properties && typeof object.properties === 'object')
      return { labels: object.labels, properties: plain(object.properties, driver) };
    // Temporal and spatial values print themselves the way Cypher does.
    const proto = Object.getPrototypeOf(object) as object | null;
    if (proto !== Object.prototype && proto !== null && typeof object.toString === 'function') {
      const text = String(object.toString());
      if (text !== '[object Object]') return text;
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(object)) out[key] = plain(item, driver);
    return out;
  }
  return value;
}

/** Maps a driver or server error to what happened and what to do, naming the address and database. */
export function classify(error: unknown, connection: Neo4jConnection, database?: string): Neo4jError {
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  const where = shown(connection.address);
  const firstLine = message.split('\n')[0]?.slice(0, 300) ?? '';
  if (code === 'Neo.ClientError.Security.Unauthorized')
    return new Neo4jError(
      'auth',
      code,
      `Neo4j at ${where} refused user '${connection.username}': authentication failure (wrong username or password)`,
      'Check NEO4J_USERNAME and NEO4J_PASSWORD (the password of that Neo4j user, not of the machine).',
    );
  if (code === 'Neo.ClientError.Security.AuthenticationRateLimit')
    return new Neo4jError(
      'auth',
      code,
      `Neo4j at ${where} locked user '${connection.username}' after too many failed logins`,
      'Wait (dbms.security.auth_lock_time, 5 s by default), then check NEO4J_USERNAME and NEO4J_PASSWORD.',
    );
  if (code === 'Neo.ClientError.Security.CredentialsExpired')
    return new Neo4jError(
      'credentials-expired',
      code,
      `the password of Neo4j user '${connection.username}' has expired and must be changed first`,
      `Change it: cypher-shell -a ${where} -d system "ALTER CURRENT USER SET PASSWORD FROM '…' TO '…'"`,
    );
  if (code === 'Neo.ClientError.Database.DatabaseNotFound')
    return new Neo4jError(
      'database-not-found',
      code,
      `database '${database ?? '?'}' does not exist on Neo4j at ${where}`,
      'Check NEO4J_DATABASE; SHOW DATABASES (on the system database) lists the ones there.',
    );
  if (code === 'Neo.ClientError.Security.Forbidden')
    return new Neo4jError(
      'forbidden',
      code,
      `Neo4j user '${connection.username}' may not do this: ${firstLine}`,
      'Use a user with the admin role for STOP/START DATABASE and SHOW SETTINGS.',
    );
  if (
    code === 'Neo.ClientError.Statement.UnsupportedAdministrationCommand' ||
    code === 'Neo.ClientError.Statement.NotSystemDatabaseError' ||
    /Unsupported administration command|not available in community edition/i.test(message)
  )
    return new Neo4jError('unsupported', code, `not available on this Neo4j server: ${firstLine}`);
  if (code.startsWith('Neo.ClientError.Statement.Syntax'))
    return new Neo4jError('syntax', code, `Cypher syntax error: ${firstLine}`);
  if (
    code === 'ServiceUnavailable' ||
    code === 'SessionExpired' ||
    /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|Could not perform discovery|Failed to connect/i.test(
      message,
    )
  ) {
    const tls = /SSL|TLS|encrypt|certificate|wrong version number/i.test(message);
    return new Neo4jError(
      'unavailable',
      code || 'ServiceUnavailable',
      `Neo4j does not answer at ${where}${tls ? ' (TLS does not match)' : ''}: ${firstLine}`,
      tls
        ? 'Match the scheme to the server: neo4j+s:// for TLS, neo4j:// without (neo4jUriScheme in the --values file).'
        : 'Is the server running? Check NEO4J_HOST and NEO4J_BOLT_PORT, and that Bolt (server.bolt.listen_address) is reachable from here.',
    );
  }
  return new Neo4jError('other', code || 'unknown', `Neo4j at ${where}: ${firstLine}`);
}

let loaded: Promise<DriverModule['default']> | undefined;
function driverModule(): Promise<DriverModule['default']> {
  loaded ??= (import('neo4j-driver') as unknown as Promise<DriverModule>).then((module) => module.default);
  return loaded;
}

export function createNeo4jAdapter(connection: Neo4jConnection, record: Recorder): Neo4jAdapter {
  const where = shown(connection.address);
  return {
    target: { address: where, username: connection.username },
    async run(statement, options = {}): Promise<Neo4jResult> {
      const neo4j = await driverModule();
      const started = Date.now();
      const database = options.database;
      const path = `${where}/${database ?? '(default database)'}`;
      const object = statement.length > 200 ? `${statement.slice(0, 197)}…` : statement;
      let driver: DriverLike | undefined;
      let session: SessionLike | undefined;
      const recordAs = (status: string) =>
        record({
          type: 'api',
          service: 'neo4j',
          method: 'CYPHER',
          path,
          object,
          status,
          ms: Date.now() - started,
        });
      const abort = () => void driver?.close().catch(() => undefined);
      options.signal?.addEventListener('abort', abort, { once: true });
      try {
        driver = neo4j.driver(
          connection.address,
          neo4j.auth.basic(connection.username, connection.password),
          {
            connectionTimeout: options.connectTimeoutMs ?? 10_000,
            connectionAcquisitionTimeout: options.connectTimeoutMs ?? 15_000,
            maxConnectionPoolSize: 2,
            disableLosslessIntegers: false,
            userAgent: 'db-runbook',
          },
        );
        session = driver.session({ ...(database ? { database } : {}), defaultAccessMode: 'WRITE' });
        const result = await session.run(statement, options.params ?? {}, {
          timeout: options.timeoutMs ?? 60_000,
        });
        const keys = result.records[0]?.keys.map(String) ?? [];
        const rows = result.records.map((entry) => keys.map((key) => plain(entry.get(key), neo4j)));
        recordAs('ok');
        return { keys, rows, counters: result.summary.counters?.updates() ?? {} };
      } catch (error) {
        const failure = classify(error, connection, database);
        recordAs(failure.neo4jCode);
        throw failure;
      } finally {
        options.signal?.removeEventListener('abort', abort);
        await session?.close().catch(() => undefined);
        await driver?.close().catch(() => undefined);
      }
    },
  };
}
