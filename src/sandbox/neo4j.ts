/**
 * A real Neo4j for the sandbox and the tests: Neo4j Community from Maven Central, resolved once by
 * scripts/setup.mjs into a cached distribution (lib/ + bin/neo4j, bin/neo4j-admin, bin/cypher-shell).
 *
 * - `createLocalNeo4j` makes an instance on this machine: its own NEO4J_HOME (conf/, data/, logs/, run/)
 *   and its own Bolt port on 127.0.0.1, started and stopped with the real `neo4j start|stop`. Tests and
 *   the drill's isolated instance use it.
 * - `deployNeo4jStatefulSet` runs the sandbox's serving Neo4j as Kubernetes runs one: StatefulSet `neo4j`
 *   (one replica, `neo4j console`), its store on the claim `data-neo4j-0` (pre-bound: no volume
 *   provisioner runs here), so scaling it to 0 really stops the server and a Job can mount the store.
 *
 * Memory per server: 512 MiB heap (256 MiB initial) + 64 MiB page cache + 128 MiB transaction memory,
 * about 0.7 GiB resident; neo4j-admin runs with HEAP_SIZE=256m and the launchers with -Xmx128m.
 * The first password is set over Bolt (ALTER CURRENT USER … FROM $old TO $new, parameters: never argv).
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';

import { createNeo4jAdapter, Neo4jError } from '../adapters/neo4j.js';
import { freePort, instanceConf, NEO4J_MEMORY, runNeo4jTool } from '../adapters/neo4j-instance.js';

export { freePort, instanceConf, NEO4J_MEMORY };
import { SandboxSetupError } from './postgres.js';
import { projectRoot, runSetup } from './setup-step.js';

export const NEO4J_SANDBOX_USER = 'neo4j';
export const NEO4J_SANDBOX_PASSWORD = 'sandbox-neo4j-password';
/** The StatefulSet (and its pod `neo4j-0`, its claim `data-neo4j-0`) the sandbox runs. */
export const NEO4J_STATEFULSET = 'neo4j';

/**
 * The stand-in for Neo4j Enterprise's online backup (not on Maven Central): a `neo4j-admin` to put first on
 * PATH, which simulates `database backup --from`, FULL/DIFF chains and `database restore` with REAL dumps
 * inside its artifacts, and hands everything else to the real neo4j-admin. See the script's header.
 */
export function enterpriseStandInDir(): string {
  return join(projectRoot(), 'src', 'sandbox', 'neo4j-enterprise-standin');
}

/** The cached Neo4j distribution (the setup step fetches it once). */
export async function neo4jDistribution(): Promise<string> {
  const preset = process.env.DB_RUNBOOK_NEO4J_HOME;
  if (preset && existsSync(join(preset, 'bin', 'neo4j'))) return preset;
  const { neo4jHome } = await runSetup();
  if (!neo4jHome) {
    throw new SandboxSetupError(
      'the sandbox needs Neo4j from Maven Central: run `node scripts/setup.mjs` and follow what it says',
    );
  }
  return neo4jHome;
}

const quiet = () => undefined;

/**
 * Waits until Bolt answers with the password; on a fresh store, changes the initial neo4j/neo4j to it.
 * Returns the milliseconds waited.
 */
export async function waitForNeo4j(options: {
  address: string;
  username?: string;
  password?: string;
  timeoutMs?: number;
  alive?: () => boolean;
}): Promise<number> {
  const started = Date.now();
  const username = options.username ?? NEO4J_SANDBOX_USER;
  const password = options.password ?? NEO4J_SANDBOX_PASSWORD;
  const deadline = started + (options.timeoutMs ?? 180_000);
  const client = createNeo4jAdapter({ address: options.address, username, password }, quiet);
  let last = '';
  while (Date.now() < deadline) {
    if (options.alive && !options.alive()) throw new Error(`Neo4j exited before Bolt answered (${last})`);
    try {
      const status = await client.run('SHOW DEFAULT DATABASE YIELD currentStatus', {
        database: 'system',
        connectTimeoutMs: 2000,
      });
      if (status.rows[0]?.[0] === 'online') return Date.now() - started;
      last = `default database ${String(status.rows[0]?.[0] ?? 'missing')}`;
    } catch (error) {
      const kind = error instanceof Neo4jError ? error.kind : 'other';
      last = error instanceof Error ? error.message : String(error);
      if (kind === 'auth' || kind === 'credentials-expired') {
        const initial = createNeo4jAdapter({ address: options.address, username, password: 'neo4j' }, quiet);
        await initial.run('ALTER CURRENT USER SET PASSWORD FROM $old TO $new', {
          database: 'system',
          params: { old: 'neo4j', new: password },
        });
        continue;
      }
      if (kind !== 'unavailable' && kind !== 'database-not-found') throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(
    `Neo4j at ${options.address} did not answer within ${Math.round((Date.now() - started) / 1000)} s: ${last}`,
  );
}

export interface LocalNeo4j {
  home: string;
  /** The distribution's bin/ (neo4j, neo4j-admin, cypher-shell). */
  binDir: string;
  boltPort: number;
  address: string;
  username: string;
  password: string;
  /** NEO4J_HOME, NEO4J_HOST, NEO4J_BOLT_PORT, NEO4J_ADDRESS, NEO4J_DATABASE, NEO4J_USERNAME, NEO4J_PASSWORD */
  env: Record<string, string>;
  /** `neo4j start`, then waits for Bolt (and sets the password on a fresh store). */
  start(): Promise<void>;
  /** `neo4j stop` (a clean shutdown). */
  stop(): Promise<void>;
  /** `neo4j status` exits 0. */
  running(): Promise<boolean>;
}

/** A Neo4j instance on this machine under `<directory>` (its NEO4J_HOME), started unless `start: false`. */
export async function createLocalNeo4j(options: {
  directory: string;
  boltPort?: number;
  password?: string;
  start?: boolean;
}): Promise<LocalNeo4j> {
  const dist = await neo4jDistribution();
  const home = options.directory;
  const boltPort = options.boltPort ?? (await freePort());
  await mkdir(join(home, 'conf'), { recursive: true });
  await writeFile(
    join(home, 'conf', 'neo4j.conf'),
    instanceConf({ boltPort, libDir: join(dist, 'lib'), dataDir: join(home, 'data') }),
  );
  const password = options.password ?? NEO4J_SANDBOX_PASSWORD;
  const address = `neo4j://127.0.0.1:${boltPort}`;
  const binDir = join(dist, 'bin');
  const neo4j = (command: string) => runNeo4jTool(join(binDir, 'neo4j'), [command], { NEO4J_HOME: home });
  const instance: LocalNeo4j = {
    home,
    binDir,
    boltPort,
    address,
    username: NEO4J_SANDBOX_USER,
    password,
    env: {
      NEO4J_HOME: home,
      NEO4J_HOST: '127.0.0.1',
      NEO4J_BOLT_PORT: String(boltPort),
      NEO4J_ADDRESS: address,
      NEO4J_DATABASE: 'neo4j',
      NEO4J_USERNAME: NEO4J_SANDBOX_USER,
      NEO4J_PASSWORD: password,
    },
    async start() {
      const result = await neo4j('start');
      if (result.code !== 0 && !/already running/i.test(result.output))
        throw new Error(
          `neo4j start failed (exit ${result.code}): ${result.output.trim().split('\n').slice(-3).join(' ')}`,
        );
      await waitForNeo4j({ address, password });
    },
    async stop() {
      await neo4j('stop');
    },
    async running() {
      return (await neo4j('status')).code === 0;
    },
  };
  if (options.start !== false) {
    try {
      await instance.start();
    } catch (error) {
      await instance.stop();
      throw error;
    }
  }
  return instance;
}

// ---------------------------------------------------------------- the serving instance, on Kubernetes

/** The pod's command: its own NEO4J_HOME (an emptyDir) with the ConfigMap's neo4j.conf, store on /data. */
const SERVER_COMMAND = `set -eu
dist=$(CDPATH= cd -- "$(dirname -- "$(command -v neo4j)")/.." && pwd)
mkdir -p /neo4j-home/conf
{ cat /config/neo4j.conf
  printf 'server.directories.lib=%s/lib\\n' "$dist"
  printf 'server.directories.data=%s\\n' /data
  printf 'server.directories.logs=%s\\n' /neo4j-home/logs
  printf 'server.directories.run=%s\\n' /neo4j-home/run
} >/neo4j-home/conf/neo4j.conf
export NEO4J_HOME=/neo4j-home
neo4j console &
server=$!
# Stops the whole pod (the launcher and the server JVM it forks), cleanly, then for good. ($$$$ is $$ once
# Kubernetes has expanded the command: $$ is its escape for a literal $.)
stop_all() {
  trap '' TERM INT HUP
  kill -TERM -- "-$$$$" 2>/dev/null || true
  for _ in $(seq 1 90); do pgrep -g "$$$$" java >/dev/null || exit 0; sleep 1; done
  kill -KILL -- "-$$$$"
}
trap stop_all TERM INT HUP
# A real kubelet's pods die with their node; here the node is the sandbox's process, and a server left
# running after it was killed would hold its port and 0.7 GB: when it is gone, the server stops too.
while kill -0 "$server" 2>/dev/null; do
  if [ -n "\${DB_RUNBOOK_SANDBOX_PID:-}" ] && ! kill -0 "$DB_RUNBOOK_SANDBOX_PID" 2>/dev/null; then stop_all; fi
  sleep 1
done
wait "$server"
`;

export interface Neo4jStatefulSet {
  name: string;
  boltPort: number;
  address: string;
  /** The store on this machine (the claim's folder): data/databases, data/transactions, data/dbms. */
  storeDir: string;
  claim: string;
  startupMs: number;
}

/**
 * Deploys the serving Neo4j as StatefulSet `neo4j` in the namespace, with a pre-bound claim
 * `data-neo4j-0`, and waits for Bolt. `pvcRoot` is the kubelet's <workDir>/pvc.
 */
export async function deployNeo4jStatefulSet(options: {
  admin: KubeConfig;
  namespace: string;
  pvcRoot: string;
  boltPort?: number;
  password?: string;
}): Promise<Neo4jStatefulSet> {
  const started = Date.now();
  const { AppsV1Api, CoreV1Api } = await import('@kubernetes/client-node');
  const core = options.admin.makeApiClient(CoreV1Api);
  const apps = options.admin.makeApiClient(AppsV1Api);
  const namespace = options.namespace;
  const name = NEO4J_STATEFULSET;
  const claim = `data-${name}-0`;
  const boltPort = options.boltPort ?? (await freePort());
  const storeDir = join(options.pvcRoot, namespace, claim);
  const labels = { 'app.kubernetes.io/name': 'neo4j', 'app.kubernetes.io/instance': name };
  await mkdir(storeDir, { recursive: true });

  await core.createNamespacedConfigMap({
    namespace,
    body: {
      metadata: { name: `${name}-config`, namespace, labels },
      data: { 'neo4j.conf': instanceConf({ boltPort }) },
    },
  });
  // No volume provisioner or binder runs in the sandbox: the volume and its claim are bound here.
  const volumeName = `sandbox-${namespace}-${claim}`;
  await core.createPersistentVolume({
    body: {
      metadata: { name: volumeName, labels },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: '',
        hostPath: { path: storeDir, type: 'DirectoryOrCreate' },
        claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: claim },
      },
    },
  });
  await core.createNamespacedPersistentVolumeClaim({
    namespace,
    body: {
      metadata: {
        name: claim,
        namespace,
        labels,
        annotations: {
          'pv.kubernetes.io/bind-completed': 'yes',
          'pv.kubernetes.io/bound-by-controller': 'yes',
        },
      },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: '',
        volumeName,
        resources: { requests: { storage: '1Gi' } },
      },
    },
  });
  const pvc = await core.readNamespacedPersistentVolumeClaim({ name: claim, namespace });
  pvc.status = { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } };
  await core.replaceNamespacedPersistentVolumeClaimStatus({ name: claim, namespace, body: pvc });
  const pv = await core.readPersistentVolume({ name: volumeName });
  pv.status = { phase: 'Bound' };
  await core.replacePersistentVolumeStatus({ name: volumeName, body: pv });

  await apps.createNamespacedStatefulSet({
    namespace,
    body: {
      metadata: { name, namespace, labels },
      spec: {
        replicas: 1,
        serviceName: name,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 120,
            containers: [
              {
                name: 'neo4j',
                image: 'neo4j:5.26-community',
                command: ['/bin/bash', '-c', SERVER_COMMAND],
                ports: [{ name: 'bolt', containerPort: boltPort }],
                volumeMounts: [
                  { name: 'data', mountPath: '/data' },
                  { name: 'config', mountPath: '/config', readOnly: true },
                  { name: 'home', mountPath: '/neo4j-home' },
                ],
              },
            ],
            volumes: [
              { name: 'config', configMap: { name: `${name}-config` } },
              { name: 'home', emptyDir: {} },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'data' },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: '',
              resources: { requests: { storage: '1Gi' } },
            },
          },
        ],
      },
    },
  });
  const address = `neo4j://127.0.0.1:${boltPort}`;
  await waitForNeo4j({ address, password: options.password ?? NEO4J_SANDBOX_PASSWORD });
  return { name, boltPort, address, storeDir, claim, startupMs: Date.now() - started };
}

/** A TCP listener standing in for an Enterprise server's backup port (Community has none). */
export async function startBackupPortStandIn(): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((socket) => socket.end());
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve())),
  };
}
