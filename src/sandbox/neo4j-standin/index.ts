/**
 * The one Neo4j stand-in shared by the sandbox, the product and the tests (no Neo4j server can be installed
 * here). `startNeo4jStandIn` creates a NEO4J_HOME holding the "server" state and opens real TCP listeners on
 * 127.0.0.1 for the Bolt and backup ports; the executables in `bin/` (neo4j-admin, cypher-shell, neo4j) talk
 * to those ports and read/write the state under NEO4J_HOME. See README.md in this folder.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package root: the nearest folder above this module with a package.json (works from src/ and dist/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('neo4j stand-in: no package.json above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The stand-in's folder in the source tree (bin/ and lib/ ship as plain JavaScript, never compiled). */
export const NEO4J_STANDIN_DIR = resolve(packageRoot(), 'src', 'sandbox', 'neo4j-standin');
/** Put this first on PATH to get the stand-in's `neo4j-admin`, `cypher-shell` and `neo4j`. */
export const NEO4J_STANDIN_BIN_DIR = join(NEO4J_STANDIN_DIR, 'bin');

export interface StartNeo4jStandInOptions {
  /** Parent directory; NEO4J_HOME is `<directory>/neo4j-home`. */
  directory: string;
  /** Default database (default `neo4j`). */
  database?: string;
  username?: string;
  password?: string;
  /** 0 / unset picks a free port. */
  boltPort?: number;
  backupPort?: number;
}

/** One invocation recorded in `<NEO4J_HOME>/logs/standin-calls.jsonl`. */
export interface Neo4jStandInCall {
  time: string;
  pid: number;
  command: string;
  argv?: string[];
  [key: string]: unknown;
}

export interface Neo4jStandIn {
  host: string;
  boltPort: number;
  backupPort: number;
  binDir: string;
  home: string;
  /**
   * NEO4J_HOST, NEO4J_BOLT_PORT, NEO4J_BACKUP_PORT, NEO4J_DATABASE, NEO4J_USERNAME, NEO4J_PASSWORD,
   * NEO4J_ADDRESS (neo4j://host:bolt, read by cypher-shell) and NEO4J_HOME (the stand-in's whole state).
   */
  env: Record<string, string>;
  /** Closes the backup listener: `neo4j-admin database backup --from=host:backupPort` then gets ECONNREFUSED. */
  closeBackupPort(): Promise<void>;
  /** Every stand-in invocation so far (command, argv, and for restores the chain of artifacts used). */
  calls(): Promise<Neo4jStandInCall[]>;
  /** Closes both listeners and marks the server stopped. The directory is left for the caller to remove. */
  stop(): Promise<void>;
}

interface StandInLib {
  initHome(options: {
    home: string;
    host: string;
    boltPort: number;
    backupPort: number;
    database: string;
    username: string;
    password: string;
  }): unknown;
  paths(home: string): { pid: string; listener: string; calls: string; dbms: string };
}

interface DbmsState {
  users: Record<string, { passwordSha256: string }>;
}

interface HandshakeRequest {
  channel?: string;
  user?: string;
  password?: string;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolvePort((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((done) => {
    if (!server.listening) return done();
    server.close(() => done());
  });
}

export async function startNeo4jStandIn(options: StartNeo4jStandInOptions): Promise<Neo4jStandIn> {
  const lib = (await import(pathToFileURL(join(NEO4J_STANDIN_DIR, 'lib', 'common.mjs')).href)) as StandInLib;
  const host = '127.0.0.1';
  const home = resolve(options.directory, 'neo4j-home');
  const database = options.database ?? 'neo4j';
  const username = options.username ?? 'neo4j';
  const password = options.password ?? 'sandbox-neo4j-password';
  const files = lib.paths(home);
  const sockets = new Set<Socket>();

  const running = async (): Promise<boolean> => {
    try {
      return (await readFile(files.pid, 'utf8')).trim() === String(process.pid);
    } catch {
      return false;
    }
  };

  const handle = (channel: 'bolt' | 'backup') => (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(10_000, () => socket.destroy());
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      void (async () => {
        // A stopped server (`neo4j stop`) accepts nothing: the client sees the connection dropped.
        if (!(await running())) return socket.destroy();
        let request: HandshakeRequest;
        try {
          request = JSON.parse(buffer.slice(0, newline)) as HandshakeRequest;
        } catch {
          return socket.destroy();
        }
        const reply = (body: object) => socket.end(JSON.stringify(body) + '\n');
        if (request.channel !== channel) {
          return reply({
            ok: false,
            code: 'Protocol',
            message: `the ${channel} port, not a ${request.channel} port`,
          });
        }
        if (channel === 'bolt') {
          const dbms = JSON.parse(await readFile(files.dbms, 'utf8')) as DbmsState;
          const user = dbms.users[request.user ?? ''];
          const hash = createHash('sha256')
            .update(request.password ?? '')
            .digest('hex');
          if (!user || user.passwordSha256 !== hash) {
            return reply({
              ok: false,
              code: 'Neo.ClientError.Security.Unauthorized',
              message: 'The client is unauthorized due to authentication failure.',
            });
          }
        }
        return reply({ ok: true, home, server: 'neo4j-standin', channel });
      })();
    });
  };

  const bolt = createServer(handle('bolt'));
  const backup = createServer(handle('backup'));
  const boltPort = await listen(bolt, options.boltPort ?? 0);
  const backupPort = await listen(backup, options.backupPort ?? 0);
  lib.initHome({ home, host, boltPort, backupPort, database, username, password });
  await writeFile(files.listener, JSON.stringify({ pid: process.pid, boltPort, backupPort }) + '\n');
  await writeFile(files.pid, `${process.pid}\n`);

  return {
    host,
    boltPort,
    backupPort,
    binDir: NEO4J_STANDIN_BIN_DIR,
    home,
    env: {
      NEO4J_HOST: host,
      NEO4J_BOLT_PORT: String(boltPort),
      NEO4J_BACKUP_PORT: String(backupPort),
      NEO4J_DATABASE: database,
      NEO4J_USERNAME: username,
      NEO4J_PASSWORD: password,
      NEO4J_ADDRESS: `neo4j://${host}:${boltPort}`,
      NEO4J_HOME: home,
    },
    closeBackupPort: () => close(backup),
    calls: async () => {
      if (!existsSync(files.calls)) return [];
      return (await readFile(files.calls, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Neo4jStandInCall);
    },
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([close(bolt), close(backup)]);
      await rm(files.pid, { force: true });
      await rm(files.listener, { force: true });
    },
  };
}
