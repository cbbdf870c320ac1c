// The postgres-restore-verify CronJob (issue 19) on the sandbox's real Kubernetes control plane: deploy applies it
// beside the backup CronJob; a Job made from it (`kubectl create job --from=cronjob/…`, as the runbook's test does)
// runs postgres-verify.sh from the scripts ConfigMap, completes, and publishes a passing <key>.verified.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { basePath, run } from '../support/backup-jobs-run.js';
import { runCli, sandboxEnv } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox();
});

afterAll(async () => {
  await sandbox?.stop();
});

function env(): Record<string, string> {
  return {
    ...sandboxEnv(sandbox, join(sandbox.neo4jHome, 'bin')),
    DATABASES: 'postgres',
    HOME: process.env.HOME ?? '/tmp',
  };
}

const kubectl = (args: string[]) =>
  run('kubectl', ['--kubeconfig', sandbox.kubeconfigPath, '-n', 'data', ...args], {
    env: { PATH: `${sandbox.kubectlDir}:${basePath()}`, HOME: sandbox.dir },
    timeoutMs: 240_000,
  });

async function runJobFrom(cronJob: string, job: string): Promise<void> {
  const created = await kubectl(['create', 'job', `--from=cronjob/${cronJob}`, job]);
  expect(created.code, created.stderr).toBe(0);
  const waited = await kubectl(['wait', '--for=condition=complete', `job/${job}`, '--timeout=200s']);
  const logs = await kubectl(['logs', `job/${job}`]);
  expect(waited.code, `${job} did not complete:\n${logs.stdout}${logs.stderr}`).toBe(0);
}

describe('the postgres-restore-verify CronJob in the sandbox', () => {
  it('deploy applies it; a Job made from it completes and publishes a passing record for the newest backup', async () => {
    const deployed = await runCli(['run', 'configure', 'deploy', '--yes'], { env: env() });
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain('postgres-restore-verify');

    await runJobFrom('postgres-daily-backup', 'backup-now');
    await runJobFrom('postgres-restore-verify', 'verify-now');

    const logs = await kubectl(['logs', 'job/verify-now']);
    const record = /^record=(s3:\/\/\S+)$/m.exec(logs.stdout)?.[1];
    expect(record, logs.stdout + logs.stderr).toBeDefined();
    const aws = await run('aws', ['--endpoint-url', sandbox.s3.endpoint, 's3', 'cp', record!, '-'], {
      env: { ...sandbox.s3.env, PATH: basePath(), HOME: sandbox.dir },
    });
    expect(aws.code, aws.stderr).toBe(0);
    const verified = JSON.parse(aws.stdout) as {
      result: string;
      by: { pod: string; job: string };
      counts: { atBackup: unknown[]; restored: unknown[] };
      scratch: { dropped: boolean };
    };
    expect(verified.result).toBe('pass');
    expect(verified.by.job).toBe('verify-now');
    expect(verified.by.pod.startsWith('verify-now-')).toBe(true);
    expect(verified.counts.restored).toEqual(verified.counts.atBackup);
    expect(verified.counts.atBackup.length).toBeGreaterThan(0);
    expect(verified.scratch.dropped).toBe(true);
  }, 420_000);

  it('on a one-minute schedule (restoreVerifySchedule) it fires by the real cronjob controller and its Job completes', async () => {
    const values = join(tempDir('restore-verify-values-'), 'values.yaml');
    writeFileSync(values, "restoreVerifySchedule: '* * * * *'\n");
    const deployed = await runCli(['run', 'deploy', '--yes', '--values', values], { env: env() });
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    expect(deployed.stdout).toMatch(/postgres-restore-verify\s+\* \* \* \* \* \(every minute/);

    const { BatchV1Api } = await import('@kubernetes/client-node');
    const batch = sandbox.kube.admin.makeApiClient(BatchV1Api);
    const deadline = Date.now() + 240_000;
    let scheduled: string | undefined;
    while (Date.now() < deadline && !scheduled) {
      const jobs = await batch.listNamespacedJob({ namespace: 'data' });
      scheduled = jobs.items.find(
        (job) =>
          job.metadata?.ownerReferences?.some(
            (owner) => owner.kind === 'CronJob' && owner.name === 'postgres-restore-verify',
          ) &&
          job.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] !== 'manual' &&
          job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True'),
      )?.metadata?.name;
      if (!scheduled) await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    expect(scheduled, 'a Job made by the cronjob controller completed').toBeDefined();
    const logs = await kubectl(['logs', `job/${scheduled!}`]);
    expect(logs.stdout).toContain('result=pass');
  }, 420_000);
});
