/**
 * A second, isolated Neo4j on this machine, for the drill (and the sandbox's and tests' local instances):
 * its own NEO4J_HOME (conf/, data/, logs/, run/) in a new temp folder and its own Bolt port on 127.0.0.1,
 * started and stopped with the distribution's own `neo4j` launcher. Nothing else listens (HTTP off).
 * Memory: 512 MiB heap + 64 MiB page cache + 128 MiB transactions.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NEO4J_MEMORY = { heapInitial: '256m', heapMax: '512m', pageCache: '64m', transactions: '128m' };

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** neo4j.conf of one instance: Bolt on 127.0.0.1 only, nothing else listening, bounded memory. */
export function instanceConf(options: {
  boltPort: number;
  dataDir?: string;
  home?: string;
  libDir?: string;
}): string {
  const lines = [
    '# Written by db-runbook for a local Neo4j instance (sandbox, test or drill).',
    ...(options.libDir ? [`server.directories.lib=${options.libDir}`] : []),
    ...(options.dataDir ? [`server.directories.data=${options.dataDir}`] : []),
    ...(options.home
      ? [
          `server.directories.logs=${join(options.home, 'logs')}`,
          `server.directories.run=${join(options.home, 'run')}`,
        ]
      : []),
    'server.default_listen_address=127.0.0.1',
    `server.bolt.listen_address=127.0.0.1:${options.boltPort}`,
    `server.bolt.advertised_address=127.0.0.1:${options.boltPort}`,
    'server.http.enabled=false',
    'server.https.enabled=false',
    'dbms.routing.enabled=false',
    `server.memory.heap.initial_size=${NEO4J_MEMORY.heapInitial}`,
    `server.memory.heap.max_size=${NEO4J_MEMORY.heapMax}`,
    `server.memory.pagecache.size=${NEO4J_MEMORY.pageCache}`,
    `dbms.memory.transaction.total.max=${NEO4J_MEMORY.transactions}`,
    'dbms.usage_report.enabled=false',
    // Frequent checkpoints: a copy of the running store (the Enterprise online-backup stand-in) is then dumpable.
    'db.checkpoint.interval.time=1s',
    // Tests try wrong passwords on purpose: no 5 s lock-out of the user afterwards.
    'dbms.security.auth_max_failed_attempts=0',
    'server.jvm.additional=-XX:+UseG1GC',
    'server.jvm.additional=-XX:TieredStopAtLevel=1',
    'server.jvm.additional=--add-opens=java.base/java.nio=ALL-UNNAMED',
    'server.jvm.additional=--add-opens=java.base/java.io=ALL-UNNAMED',
    'server.jvm.additional=--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  ];
  return `${lines.join('\n')}\n`;
}

/** Runs a Neo4j tool (neo4j, neo4j-admin) with its output captured; never throws. */
export function runNeo4jTool(
  file: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', (error) => resolve({ code: 127, output: error.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

export interface ScratchNeo4j {
  /** Its NEO4J_HOME (conf/, data/, logs/, run/). */
  home: string;
  boltPort: number;
  address: string;
  /** `neo4j start` (returns when the launcher has started it; Bolt answers a little later). */
  start(): Promise<void>;
  /** `neo4j stop` (a clean shutdown). */
  stop(): Promise<void>;
  running(): Promise<boolean>;
  /** Stops it and deletes its folder. */
  remove(): Promise<void>;
}

/**
 * A new instance folder under `parent` (default the system temp folder) for the distribution whose
 * launchers are in `binDir` (bin/neo4j, bin/neo4j-admin; its jars in ../lib). Not started.
 */
export async function createScratchNeo4j(options: {
  binDir: string;
  libDir: string;
  parent?: string;
  boltPort?: number;
}): Promise<ScratchNeo4j> {
  const home = mkdtempSync(join(options.parent ?? tmpdir(), 'db-runbook-neo4j-'));
  const boltPort = options.boltPort ?? (await freePort());
  mkdirSync(join(home, 'conf'), { recursive: true });
  writeFileSync(
    join(home, 'conf', 'neo4j.conf'),
    instanceConf({ boltPort, libDir: options.libDir, dataDir: join(home, 'data') }),
  );
  const neo4j = (command: string) =>
    runNeo4jTool(join(options.binDir, 'neo4j'), [command], { NEO4J_HOME: home });
  const instance: ScratchNeo4j = {
    home,
    boltPort,
    address: `neo4j://127.0.0.1:${boltPort}`,
    async start() {
      const result = await neo4j('start');
      if (result.code !== 0 && !/already running/i.test(result.output))
        throw new Error(
          `neo4j start failed (exit ${result.code}): ${result.output.trim().split('\n').slice(-3).join(' ')}`,
        );
    },
    async stop() {
      await neo4j('stop');
    },
    async running() {
      return (await neo4j('status')).code === 0;
    },
    async remove() {
      await neo4j('stop');
      rmSync(home, { recursive: true, force: true, maxRetries: 3 });
    },
  };
  return instance;
}
