// The neo4j-restore-verify CronJob (issue 19) on the sandbox's real Kubernetes control plane, with the sandbox's
// real Neo4j 5.26 Community StatefulSet: deploy applies it beside the Neo4j backup CronJob; a Job made from the backup
// CronJob dumps the store, then a Job made from neo4j-restore-verify (`kubectl create job --from=cronjob/…`) runs
// neo4j-verify.sh from the scripts ConfigMap with the values file's neo4jSmokeQueries (ConfigMap db-runbook-smoke-queries),
// completes, and publishes a passing <key>.verified.json. The serving Neo4j keeps serving; no scratch JVM is left.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNeo4jAdapter } from '../../src/adapters/neo4j.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { basePath, run } from '../support/backup-jobs-run.js';
import { runCli, sandboxEnv } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
}, 600_000);

afterAll(async () => {
  await sandbox?.stop();
}, 180_000);

const env = (): Record<string, string> => ({
  ...sandboxEnv(sandbox, join(sandbox.neo4jHome, 'bin')),
  DATABASES: 'neo4j',
  HOME: process.env.HOME ?? '/tmp',
});
const kubectl = (args: string[]) =>
  run('kubectl', ['--kubeconfig', sandbox.kubeconfigPath, '-n', 'data', ...args], {
    env: { PATH: `${sandbox.kubectlDir}:${basePath()}`, HOME: sandbox.dir },
    timeoutMs: 400_000,
  });
const cypher = async (statement: string) =>
  (
    await createNeo4jAdapter(
      {
        address: `neo4j://127.0.0.1:${sandbox.values.NEO4J_BOLT_PORT}`,
        username: sandbox.values.NEO4J_USERNAME!,
        password: sandbox.values.NEO4J_PASSWORD!,
      },
      () => undefined,
    ).run(statement, { database: 'neo4j' })
  ).rows;

async function runJobFrom(cronJob: string, job: string): Promise<string> {
  const created = await kubectl(['create', 'job', `--from=cronjob/${cronJob}`, job]);
  expect(created.code, created.stderr).toBe(0);
  const waited = await kubectl(['wait', '--for=condition=complete', `job/${job}`, '--timeout=360s']);
  const logs = await kubectl(['logs', `job/${job}`]);
  expect(waited.code, `${job} did not complete:\n${logs.stdout}${logs.stderr}`).toBe(0);
  return logs.stdout + logs.stderr;
}

describe('the neo4j-restore-verify CronJob in the sandbox', () => {
  it('deploy applies it; a Job made from it restores the newest dump into a scratch Neo4j in its pod, runs the smoke queries and publishes a passing record', async () => {
    await cypher('UNWIND range(1, 25) AS i CREATE (:Person {id: i})');
    // the values file's Neo4j smoke queries: deploy writes them into ConfigMap db-runbook-smoke-queries
    const values = join(tempDir('neo4j-restore-verify-values-'), 'values.yaml');
    writeFileSync(
      values,
      "neo4jSmokeQueries:\n  - name: people exist\n    cypher: MATCH (p:Person) RETURN count(p)\n    expect: '>= 25'\n",
    );
    const deployed = await runCli(['run', 'configure', 'deploy', '--yes', '--values', values], {
      env: env(),
      timeoutMs: 300_000,
    });
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain('neo4j-restore-verify');
    const configMap = await kubectl([
      'get',
      'configmap',
      'db-runbook-smoke-queries',
      '-o',
      'jsonpath={.data.neo4j\\.cypher}',
    ]);
    expect(configMap.stdout).toContain('-- name: people exist');

    await runJobFrom('neo4j-daily-backup', 'neo4j-backup-now');
    const logs = await runJobFrom('neo4j-restore-verify', 'neo4j-verify-now');
    expect(logs).toContain('PROVEN RESTORABLE');
    const record = /^record=(s3:\/\/\S+)$/m.exec(logs)?.[1];
    expect(record, logs).toBeDefined();
    const aws = await run('aws', ['--endpoint-url', sandbox.s3.endpoint, 's3', 'cp', record!, '-'], {
      env: { ...sandbox.s3.env, PATH: basePath(), HOME: sandbox.dir },
    });
    expect(aws.code, aws.stderr).toBe(0);
    const verified = JSON.parse(aws.stdout) as {
      result: string;
      engine: string;
      by: { pod: string; job: string };
      checks: { name: string; ok: boolean }[];
      counts: { restored: { labels: { label: string; nodes: number }[] } };
      scratch: { removed: boolean };
    };
    expect(verified.result).toBe('pass');
    expect(verified.engine).toBe('neo4j');
    expect(verified.by.job).toBe('neo4j-verify-now');
    expect(verified.by.pod.startsWith('neo4j-verify-now-')).toBe(true);
    expect(verified.checks).toContainEqual(
      expect.objectContaining({ name: 'smoke query: people exist', ok: true }),
    );
    expect(verified.counts.restored.labels).toContainEqual({ label: 'Person', nodes: 25 });
    expect(verified.scratch.removed).toBe(true);
    // the serving Neo4j was never the scratch one, and still serves
    expect(await cypher('MATCH (p:Person) RETURN count(p)')).toEqual([[25]]);
    const left = await run('pgrep', ['-af', 'neo4j-verify\\.'], { env: { PATH: basePath() } });
    expect(left.stdout.trim()).toBe('');
  }, 900_000);
});
