// A CronJob on an every-minute schedule fires in the sandbox by the real cronjob controller: the Job runs
// the real backup script, and deploy's read-back and troubleshoot's freshness check see that run.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { runCli, sandboxEnv } from '../support/cli.js';

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
    POSTGRES_BACKUP_SCHEDULE: '* * * * *',
    HOME: process.env.HOME ?? '/tmp',
  };
}

describe('a backup CronJob on a one-minute schedule (real cronjob controller)', () => {
  it('fires on its own, publishes a backup, and deploy and troubleshoot report that scheduled run', async () => {
    const deployed = await runCli(['run', 'configure', 'deploy', '--yes'], { env: env() });
    expect(deployed.exitCode, deployed.stdout + deployed.stderr).toBe(0);
    expect(deployed.stdout).toContain('* * * * * (every minute');

    const { BatchV1Api } = await import('@kubernetes/client-node');
    const batch = sandbox.kube.admin.makeApiClient(BatchV1Api);
    const deadline = Date.now() + 180_000;
    let scheduledJob: string | undefined;
    let lastScheduleTime: Date | undefined;
    while (Date.now() < deadline) {
      const cronJob = await batch.readNamespacedCronJob({ name: 'postgres-daily-backup', namespace: 'data' });
      lastScheduleTime = cronJob.status?.lastScheduleTime;
      const jobs = await batch.listNamespacedJob({ namespace: 'data' });
      const done = jobs.items.find(
        (job) =>
          job.metadata?.ownerReferences?.some(
            (owner) => owner.kind === 'CronJob' && owner.name === 'postgres-daily-backup',
          ) &&
          job.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] !== 'manual' &&
          job.status?.conditions?.some(
            (condition) => condition.type === 'Complete' && condition.status === 'True',
          ),
      );
      if (done) {
        scheduledJob = done.metadata?.name;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    expect(scheduledJob, 'a Job made by the cronjob controller completed').toBeDefined();
    expect(lastScheduleTime).toBeInstanceOf(Date);

    const readBack = await runCli(['run', 'deploy', '--yes'], { env: env() });
    expect(readBack.exitCode).toBe(0);
    const backupLine =
      readBack.stdout
        .split('\n')
        .find((line) => line.includes('CronJob postgres-daily-backup') && line.includes('last scheduled')) ??
      '';
    expect(backupLine).toMatch(/last scheduled \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(backupLine).toMatch(/last job postgres-daily-backup-\d+ \(Complete\)/);

    const freshness = await runCli(['run', 'troubleshoot.freshness', '--yes'], { env: env() });
    expect(freshness.exitCode, freshness.stdout).toBe(0);
    expect(freshness.stdout).toContain('schedule');
    expect(freshness.stdout).toMatch(/✓[^\n]*s3:\/\/[^\n]*postgres\//);
  }, 300_000);
});
