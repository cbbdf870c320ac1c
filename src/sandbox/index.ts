import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startCluster, type AccessRule, type Cluster } from './cluster/index.js';
import {
  deployNeo4jStatefulSet,
  NEO4J_SANDBOX_PASSWORD,
  NEO4J_SANDBOX_USER,
  neo4jDistribution,
  startBackupPortStandIn,
  type Neo4jStatefulSet,
} from './neo4j.js';
import { startSandboxPostgres, type SandboxPostgres } from './postgres.js';
import { startS3DenyProxy } from './s3-deny.js';
import { startSandboxS3, type SandboxS3 } from './s3.js';

export const SANDBOX_NAMESPACE = 'data';

/**
 * Faults a test (or a curious operator) can switch on, through DB_RUNBOOK_SANDBOX_FAULTS:
 *   deny=VERB/RESOURCE[.GROUP]   the operator's RBAC role lacks that verb, so the apiserver answers 403: deny=create/secrets
 *   s3-down                      s3rver is stopped after start: its endpoint refuses connections
 *   neo4j-backup-closed          nothing listens on the (stand-in Enterprise) Neo4j backup port
 *   s3-deny=ACTION               S3 answers 403 AccessDenied for that IAM action, as a bucket policy would
 *                                (s3-deny=s3:PutObject); AWS_ENDPOINT_URL then points at a front for s3rver
 */
export interface SandboxFaults {
  denials: AccessRule[];
  s3Down: boolean;
  neo4jBackupClosed: boolean;
  /** IAM actions S3 refuses with AccessDenied (s3:ListBucket, s3:GetObject, s3:PutObject, …). */
  s3Denied?: string[];
}

export function parseFaults(text: string | undefined): SandboxFaults {
  const faults: SandboxFaults = { denials: [], s3Down: false, neo4jBackupClosed: false };
  for (const word of (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    if (word === 's3-down') faults.s3Down = true;
    else if (word === 'neo4j-backup-closed') faults.neo4jBackupClosed = true;
    else if (word.startsWith('s3-deny=')) {
      const action = word.slice('s3-deny='.length);
      if (!/^s3:[A-Za-z]+$/.test(action))
        throw new Error(`sandbox fault "${word}": use s3-deny=s3:ACTION, e.g. s3-deny=s3:PutObject`);
      (faults.s3Denied ??= []).push(action);
    } else if (word.startsWith('deny=')) {
      const [verb, target] = word.slice('deny='.length).split('/');
      if (!verb || !target)
        throw new Error(`sandbox fault "${word}": use deny=VERB/RESOURCE, e.g. deny=create/secrets`);
      const [resource, ...group] = target.split('.');
      faults.denials.push({ verb, resource: resource ?? target, group: group.join('.') });
    } else
      throw new Error(
        `unknown sandbox fault "${word}" (deny=VERB/RESOURCE, s3-down, neo4j-backup-closed, s3-deny=s3:ACTION)`,
      );
  }
  return faults;
}

export interface Sandbox {
  dir: string;
  namespace: string;
  kubeconfigPath: string;
  kubeServer: string;
  s3: SandboxS3;
  postgres: SandboxPostgres;
  kube: Cluster;
  /** The folder holding the kubectl built at the server's version. */
  kubectlDir: string;
  /** The serving Neo4j: StatefulSet `neo4j` (real Neo4j Community), its Bolt port and store. */
  neo4j: Neo4jStatefulSet;
  /** The cached Neo4j distribution (bin/neo4j, bin/neo4j-admin, bin/cypher-shell, lib/). */
  neo4jHome: string;
  /** Every runbook value the sandbox fills in (S3, PostgreSQL, Neo4j). */
  values: Record<string, string>;
  startupMs: number;
  stop(): Promise<void>;
}

export const SANDBOX_SEED_SQL = `
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email text NOT NULL UNIQUE, created_at timestamptz NOT NULL);
INSERT INTO customers SELECT g, 'Customer ' || g, 'customer' || g || '@example.test', timestamptz '2026-01-01' + g * interval '1 hour'
  FROM generate_series(1, 200) g;
CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id), total_cents integer NOT NULL, placed_at timestamptz NOT NULL);
INSERT INTO orders SELECT g, 1 + (g % 200), (g * 37) % 10000, timestamptz '2026-02-01' + g * interval '10 minutes'
  FROM generate_series(1, 1000) g;
CREATE TABLE inventory (sku text PRIMARY KEY, quantity integer NOT NULL);
INSERT INTO inventory SELECT 'SKU-' || lpad(g::text, 5, '0'), g % 50 FROM generate_series(1, 300) g;
`;

/**
 * A pod's `apt-get` in the sandbox: the pod runs on this machine, so nothing is ever installed. `update`
 * does nothing; `install` succeeds only when every package's command is already here (the tool set a real
 * image would bring), and otherwise fails as apt-get would, naming what is missing.
 */
export const APT_GET_SHIM = `#!/bin/sh
case "$1" in
  update) exit 0 ;;
  install) shift ;;
  *) echo "sandbox: apt-get $1 is not available in a sandbox pod" >&2; exit 100 ;;
esac
missing=''
for pkg in "$@"; do
  case "$pkg" in
    -*) continue ;;
    awscli) cmd=aws ;;
    kubernetes-client) cmd=kubectl ;;
    isal) cmd=igzip ;;
    ca-certificates) continue ;;
    postgresql-client*) cmd=psql ;;
    *) cmd=$pkg ;;
  esac
  command -v "$cmd" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "sandbox: apt-get install refused (pods run on this machine, which lacks:$missing)" >&2
  exit 100
fi
echo "sandbox: apt-get install skipped: every package's command is already on this machine" >&2
exit 0
`;

/** Starts everything the runbook needs on 127.0.0.1, in a temp dir. */
export async function startSandbox(
  options: { faults?: SandboxFaults; baseDir?: string } = {},
): Promise<Sandbox> {
  const started = Date.now();
  const faults = options.faults ?? { denials: [], s3Down: false, neo4jBackupClosed: false };
  const dir = await mkdtemp(join(options.baseDir ?? tmpdir(), 'db-runbook-sandbox-'));
  const stubs = join(dir, 'job-bin');
  await mkdir(stubs, { recursive: true });
  await writeFile(join(stubs, 'apt-get'), APT_GET_SHIM);
  await chmod(join(stubs, 'apt-get'), 0o755);

  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const stopOne of stoppers.reverse()) await stopOne().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const neo4jHome = await neo4jDistribution();
    const backupPort = await startBackupPortStandIn();
    stoppers.push(backupPort.close);
    const kubeDir = join(dir, 'kube');
    const parts = await Promise.allSettled([
      startSandboxS3({ directory: join(dir, 's3') }),
      startSandboxPostgres({ directory: join(dir, 'postgres'), seedSql: SANDBOX_SEED_SQL }),
      startCluster({
        workDir: kubeDir,
        namespaces: ['default', SANDBOX_NAMESPACE],
        denials: faults.denials,
        jobPath: [stubs, join(neo4jHome, 'bin')],
        // The sandbox's own server pods stop when this process is gone (see SERVER_COMMAND in neo4j.ts).
        jobEnv: { DB_RUNBOOK_SANDBOX_PID: String(process.pid) },
      }),
    ]);
    for (const result of parts) if (result.status === 'fulfilled') stoppers.push(result.value.stop);
    const failed = parts.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const [s3, postgres, kube] = parts.map((result) => (result as PromiseFulfilledResult<unknown>).value) as [
      SandboxS3,
      SandboxPostgres,
      Cluster,
    ];
    // Pods find kubectl (the Community backup Job scales the Neo4j StatefulSet with it) beside apt-get.
    await symlink(kube.kubectl, join(stubs, 'kubectl'));
    // The serving Neo4j runs as Kubernetes runs it: a StatefulSet whose pod the kubelet starts.
    const neo4j = await deployNeo4jStatefulSet({
      admin: kube.admin,
      namespace: SANDBOX_NAMESPACE,
      pvcRoot: join(kubeDir, 'node', 'pvc'),
    });
    if (faults.s3Down) await s3.stop();
    if (faults.neo4jBackupClosed) await backupPort.close();
    const s3Values = { ...s3.env };
    if (faults.s3Denied?.length) {
      const front = await startS3DenyProxy({ upstream: s3.endpoint, denied: faults.s3Denied });
      stoppers.push(front.stop);
      s3Values.AWS_ENDPOINT_URL = front.endpoint;
    }
    const neo4jValues = {
      NEO4J_HOST: '127.0.0.1',
      NEO4J_BOLT_PORT: String(neo4j.boltPort),
      NEO4J_BACKUP_PORT: String(backupPort.port),
      NEO4J_DATABASE: 'neo4j',
      NEO4J_USERNAME: NEO4J_SANDBOX_USER,
      NEO4J_PASSWORD: NEO4J_SANDBOX_PASSWORD,
      NEO4J_STATEFULSET: neo4j.name,
    };
    const values = { ...s3Values, ...postgres.env, ...neo4jValues };
    return {
      dir,
      namespace: SANDBOX_NAMESPACE,
      kubeconfigPath: kube.kubeconfigPath,
      kubeServer: kube.url,
      s3,
      postgres,
      kube,
      neo4j,
      neo4jHome,
      kubectlDir: dirname(kube.kubectl),
      values,
      startupMs: Date.now() - started,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
