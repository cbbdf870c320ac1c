import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createKubeAdapter } from '../../src/adapters/kube.js';
import type { KubeAdapter } from '../../src/adapters/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { sandboxEnv } from './cli.js';
import { tempDir } from './temp.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SHIPPED = join(ROOT, 'ops/db/backup-jobs');
const FIXTURE = join(ROOT, 'test/fixtures/configure/backup-jobs');

/**
 * The backup-jobs directory the CLI deploys: the shipped ops/db/backup-jobs when it is complete,
 * else the shipped scripts with the fixture's cronjobs.yaml (and fixture scripts for what is not
 * shipped yet). The PostgreSQL script is always the real one.
 */
export function backupJobsDir(): string {
  const shippedScripts = join(SHIPPED, 'scripts');
  const complete =
    existsSync(join(SHIPPED, 'cronjobs.yaml')) &&
    existsSync(join(shippedScripts, 'postgres-backup.sh')) &&
    existsSync(join(shippedScripts, 'neo4j-backup.sh'));
  if (complete) return SHIPPED;
  const dir = tempDir('db-runbook-e2e-backup-jobs-');
  mkdirSync(join(dir, 'scripts'));
  copyFileSync(
    existsSync(join(SHIPPED, 'cronjobs.yaml'))
      ? join(SHIPPED, 'cronjobs.yaml')
      : join(FIXTURE, 'cronjobs.yaml'),
    join(dir, 'cronjobs.yaml'),
  );
  for (const source of [join(FIXTURE, 'scripts'), shippedScripts]) {
    if (!existsSync(source)) continue;
    for (const name of readdirSync(source)) copyFileSync(join(source, name), join(dir, 'scripts', name));
  }
  return dir;
}

export function shipsNeo4jBackup(): boolean {
  return existsSync(join(SHIPPED, 'scripts', 'neo4j-backup.sh'));
}

export interface SyntheticEnv {
  sandbox: Sandbox;
  jobsDir: string;
  /** Environment for runCli: the sandbox's values, its kubeconfig, the real neo4j-admin/cypher-shell on PATH. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Every secret value the sandbox uses (to grep journals and output for). */
  secrets: string[];
  kube(): Promise<KubeAdapter>;
  stop(): Promise<void>;
}

/** One sandbox shared by several CLI runs (as a real cluster would be). */
export async function startSyntheticEnv(): Promise<SyntheticEnv> {
  const sandbox = await startSandbox();
  const jobsDir = backupJobsDir();
  const secrets = ['AWS_SECRET_ACCESS_KEY', 'POSTGRES_PASSWORD', 'NEO4J_PASSWORD']
    .map((name) => sandbox.values[name])
    .filter((value): value is string => typeof value === 'string' && value !== '');
  let kube: Promise<KubeAdapter> | undefined;
  return {
    sandbox,
    jobsDir,
    secrets,
    env: (extra = {}) => ({
      ...sandboxEnv(sandbox, join(sandbox.neo4jHome, 'bin')),
      DB_RUNBOOK_BACKUP_JOBS_DIR: jobsDir,
      ...extra,
    }),
    kube: () =>
      (kube ??= createKubeAdapter({
        kubeconfig: sandbox.kubeconfigPath,
        namespace: sandbox.namespace,
        record: () => undefined,
      })),
    stop: () => sandbox.stop(),
  };
}
