// troubleshoot end to end: the built CLI (`node dist/cli.js run troubleshoot.<step>`) against one sandbox
// started in this process — the real Kubernetes control plane (whose process kubelet really runs the Jobs), s3rver,
// PostgreSQL and a real Neo4j 5 Community (which has no backup port) — each diagnostic with its fault made
// real: a backup Job whose container has no aws (exit 127), S3 credentials s3rver rejects, a stale newest
// backup; the backup-port diagnostic saying why it does not apply to Community; and the incremental switch
// read back from the API.
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeAdapter } from '../../src/adapters/kube.js';
import type { KubeAdapter, KubeObject } from '../../src/adapters/types.js';
import { jobFromCronJob } from '../../src/runbook/job-from-cronjob.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { startS3DenyProxy } from '../../src/sandbox/s3-deny.js';
import { join } from 'node:path';
import { journalEvents, journalText, runCli, sandboxEnv } from '../support/cli.js';

let sandbox: Sandbox;
let kube: KubeAdapter;
let env: Record<string, string>;
let secrets: string[];

function cronJobsFromManifest(): KubeObject[] {
  const text = readFileSync(new URL('../../ops/db/backup-jobs/cronjobs.yaml', import.meta.url), 'utf8');
  return parseAllDocuments(text).map((doc) => doc.toJS() as KubeObject);
}

/** A backup CronJob whose image has no aws CLI and no apt-get line: the container's PATH holds no aws. */
function cronJobWithoutAws(): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'postgres-daily-backup', namespace: 'data' },
    spec: {
      schedule: '0 2 * * *',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      jobTemplate: {
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: 600,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'postgres-backup',
                  image: 'postgres:15',
                  command: [
                    '/bin/bash',
                    '-c',
                    'set -euo pipefail\nexport PATH=/usr/lib/postgresql/15/bin\necho "postgres-backup: dumping app" >&2\naws s3 ls "s3://$S3_BUCKET/postgres/"',
                  ],
                  env: [{ name: 'S3_BUCKET', value: 'db-backups' }],
                },
              ],
            },
          },
        },
      },
    },
  };
}

function resultOf(sessionDir: string, step: string): Record<string, unknown> | undefined {
  return journalEvents(sessionDir).find((event) => event.type === 'result' && event.step === step);
}

function expectNoSecrets(text: string): void {
  for (const secret of secrets) expect(text).not.toContain(secret);
}

async function aws(args: string[], extraEnv: Record<string, string> = {}): Promise<void> {
  await execa('aws', ['--endpoint-url', sandbox.values.AWS_ENDPOINT_URL ?? '', ...args], {
    env: { ...process.env, ...sandbox.values, ...extraEnv },
    input: 'not really a dump\n',
  });
}

beforeAll(async () => {
  sandbox = await startSandbox({
    faults: { denials: [], s3Down: false, neo4jBackupClosed: true },
  });
  env = sandboxEnv(sandbox, join(sandbox.neo4jHome, 'bin'));
  secrets = ['AWS_SECRET_ACCESS_KEY', 'POSTGRES_PASSWORD', 'NEO4J_PASSWORD']
    .map((name) => sandbox.values[name])
    .filter((value): value is string => typeof value === 'string' && value !== '');
  kube = await createKubeAdapter({
    kubeconfig: sandbox.kubeconfigPath,
    namespace: sandbox.namespace,
    record: () => undefined,
  });
});

afterAll(async () => {
  await sandbox?.stop();
});

describe('troubleshoot (built CLI against the sandbox, faults made real)', () => {
  it('aws missing in the Job’s container: exit 127 read from the pod, log line and fix named', async () => {
    const cronJob = await kube.apply(cronJobWithoutAws(), { fieldManager: 'e2e' });
    await kube.create(jobFromCronJob(cronJob, 'postgres-daily-backup-manual-1', 'data'));
    expect(await sandbox.kube.waitForJob('data', 'postgres-daily-backup-manual-1')).toBe('Failed');

    const run = await runCli(
      ['run', 'troubleshoot.aws-cli', 'troubleshoot.slow-backups', 'troubleshoot.failed-jobs'],
      { env: { ...env, DATABASES: 'postgres' } },
    );
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.stdout).toMatch(/✓ aws on this host +aws-cli\//);
    expect(run.stdout).toMatch(
      /✗ Job postgres-daily-backup-manual-1: aws missing in the container +pod \S+ exit code 127 \(Error\) — the aws CLI is not in the job's container \(exit 127: .*aws: command not found\)/,
    );
    expect(run.stdout).toContain(
      "→ The CronJob's command does not install awscli: re-apply ops/db/backup-jobs/cronjobs.yaml (db-runbook run deploy)",
    );
    expect(run.stdout).toMatch(
      /! CronJob postgres-daily-backup installs awscli when the image lacks it +its command has no apt-get install of awscli/,
    );
    // The same Job through the failed-jobs diagnostic: one sentence, the log tail, the events.
    expect(run.stdout).toMatch(
      /✗ postgres-daily-backup: Job postgres-daily-backup-manual-1 failed \(created [^)]+\) +pod \S+ exit code 127 \(Error\) — likely cause: the aws CLI is not in the job's container/,
    );
    expect(run.stdout).toMatch(/postgres-backup: dumping app\n.*aws: command not found/);
    expect(run.stdout).toMatch(/Warning BackoffLimitExceeded \(Job\/postgres-daily-backup-manual-1\)/);
    // Durations from Job status.
    expect(run.stdout).toMatch(/postgres-daily-backup-manual-1: \d+s failed \(started /);
    const aws = resultOf(run.sessionDir, 'troubleshoot.aws-cli') as {
      status: string;
      data: { jobs: Record<string, string> };
    };
    expect(aws.status).toBe('failed');
    expect(aws.data.jobs['postgres-daily-backup']).toMatch(/exit 127/);
    const failed = resultOf(run.sessionDir, 'troubleshoot.failed-jobs') as {
      data: { failed: Record<string, { exitCode: number; current: boolean }> };
    };
    expect(failed.data.failed['postgres-daily-backup']).toMatchObject({ exitCode: 127, current: true });
    expectNoSecrets(run.stdout + journalText(run.sessionDir));
  });

  it('S3 credentials s3rver rejects: each IAM action named, the rest not probed', async () => {
    const wrongSecret = 'not-the-sandbox-secret-0123456789';
    const run = await runCli(['run', 'troubleshoot.s3-permissions', '--write-canary'], {
      env: { ...env, AWS_ACCESS_KEY_ID: 'AKIAWRONGWRONGWRONG1', AWS_SECRET_ACCESS_KEY: wrongSecret },
    });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.stdout).toMatch(
      /✗ s3:ListBucket — list postgres\/ +S3 rejected the credentials \(InvalidAccessKeyId\), so ListObjectsV2 \(s3:ListBucket\) could not be checked/,
    );
    expect(run.stdout).toContain('→ Correct AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(run.stdout).toMatch(
      /- s3:GetObject — read the newest backup under postgres\/ +s3:GetObject not probed/,
    );
    expect(run.stdout).toMatch(/- s3:PutObject — write under neo4j\/ +s3:PutObject not probed/);
    expect(run.stdout + run.stderr + journalText(run.sessionDir)).not.toContain(wrongSecret);
  });

  it('the right credentials with --write-canary: ListBucket, GetObject on the newest backup, PutObject canary removed', async () => {
    await aws(['s3', 'cp', '-', 's3://db-backups/postgres/2026-01-01T02-00-00Z.sql.gz']);
    const run = await runCli(['run', 'troubleshoot.s3-permissions', '--write-canary'], {
      env: { ...env, DATABASES: 'postgres' },
    });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(
      /✓ s3:GetObject — read the newest backup under postgres\/ +allowed: HeadObject postgres\/2026-01-01T02-00-00Z.sql.gz/,
    );
    expect(run.stdout).toMatch(
      /✓ s3:PutObject — write under postgres\/ +allowed: PutObject postgres\/.db-runbook-canary-/,
    );
    expect(run.stdout).toMatch(/✓ s3:DeleteObject — remove the canary under postgres\/ +allowed/);
    const listed = await execa(
      'aws',
      ['--endpoint-url', sandbox.values.AWS_ENDPOINT_URL ?? '', 's3', 'ls', 's3://db-backups/postgres/'],
      {
        env: { ...process.env, ...sandbox.values },
      },
    );
    expect(listed.stdout).not.toContain('canary');
  });

  it('S3 AccessDenied (a bucket policy without s3:GetObject and s3:PutObject): the missing actions named, here and in a failed Job', async () => {
    await aws(['s3', 'cp', '-', 's3://db-backups/postgres/2026-01-01T02-00-00Z.sql.gz']);
    const front = await startS3DenyProxy({
      upstream: sandbox.s3.endpoint,
      denied: ['s3:GetObject', 's3:PutObject'],
    });
    try {
      const viaFront = { ...env, AWS_ENDPOINT_URL: front.endpoint, DATABASES: 'postgres' };
      const run = await runCli(['run', 'troubleshoot.s3-permissions', '--write-canary'], { env: viaFront });
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
      expect(run.stdout).toMatch(/✓ s3:ListBucket — list postgres\/ +allowed/);
      expect(run.stdout).toMatch(
        /✗ s3:GetObject — read the newest backup under postgres\/ +HeadObject was denied: these credentials lack s3:GetObject\./,
      );
      expect(run.stdout).toMatch(
        /✗ s3:PutObject — write under postgres\/ +PutObject was denied: these credentials lack s3:PutObject\./,
      );
      expect(run.stdout).toContain('→ Grant s3:PutObject on arn:aws:s3:::db-backups/* to the access key');
      expect(run.stdout).toContain('FAILED: missing IAM actions: s3:GetObject, s3:PutObject');

      // The backup Job's upload through the same policy: the aws CLI's error line names the operation.
      const cronJob = await kube.apply(
        {
          ...cronJobWithoutAws(),
          spec: {
            schedule: '0 2 * * *',
            jobTemplate: {
              spec: {
                backoffLimit: 0,
                template: {
                  spec: {
                    restartPolicy: 'Never',
                    containers: [
                      {
                        name: 'postgres-backup',
                        image: 'postgres:15',
                        command: [
                          '/bin/bash',
                          '-c',
                          'set -euo pipefail\necho "postgres-backup: streaming to s3://$S3_BUCKET/postgres/" >&2\necho dump | aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp - "s3://$S3_BUCKET/postgres/.partial/x.sql.gz"',
                        ],
                        env: Object.entries({ ...sandbox.s3.env, AWS_ENDPOINT_URL: front.endpoint }).map(
                          ([name, value]) => ({ name, value }),
                        ),
                      },
                    ],
                  },
                },
              },
            },
          },
        },
        { fieldManager: 'e2e', force: true },
      );
      await kube.create(jobFromCronJob(cronJob, 'postgres-daily-backup-manual-2', 'data'));
      expect(await sandbox.kube.waitForJob('data', 'postgres-daily-backup-manual-2')).toBe('Failed');
      const jobs = await runCli(['run', 'troubleshoot.failed-jobs'], { env: viaFront });
      expect(jobs.exitCode, `${jobs.stdout}\n${jobs.stderr}`).toBe(1);
      expect(jobs.stdout).toMatch(
        /✗ postgres-daily-backup: Job postgres-daily-backup-manual-2 failed .* likely cause: S3 denied PutObject on bucket db-backups: the job's credentials lack s3:PutObject\./,
      );
      expect(jobs.stdout).toContain(
        '→ Grant s3:PutObject on arn:aws:s3:::db-backups/* to the access key in Secret database-backup-storage.',
      );
      expect(front.refused).toContain('PutObject (s3:PutObject)');
    } finally {
      await front.stop();
    }
  });

  it('RBAC: a denied verb is named with the Role rule that grants it (SelfSubjectAccessReview)', async () => {
    await sandbox.kube.deny({ verb: 'create', resource: 'jobs', group: 'batch' });
    await sandbox.kube.deny({ verb: 'list', resource: 'events', group: '' });
    try {
      const run = await runCli(['run', 'troubleshoot.rbac'], { env });
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
      expect(run.stdout).toMatch(/✗ can create jobs\.batch +denied.* — needed for synthetic test/);
      expect(run.stdout).toMatch(/! can list events +denied/);
      expect(run.stdout).toContain(
        '- apiGroups: ["batch"]\n      resources: ["jobs"]\n      verbs: ["create"]',
      );
      expect(run.stdout).toContain('- apiGroups: [""]\n      resources: ["events"]\n      verbs: ["list"]');
      expect(run.stdout).toMatch(/FAILED: denied: create jobs\.batch, list events/);
    } finally {
      await sandbox.kube.allow({ verb: 'create', resource: 'jobs', group: 'batch' });
      await sandbox.kube.allow({ verb: 'list', resource: 'events', group: '' });
    }
  });

  it('backup port: a Community server has none, and the step says it does not apply and why, probing nothing', async () => {
    const run = await runCli(['run', 'troubleshoot.neo4j-backup-port'], { env });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(
      /does not apply: Neo4j 5\.26\.\d+ Community has no online backup and no backup port/,
    );
    expect(run.stdout).toContain('Community backups stop the server and dump it');
    // Nothing was probed: no probe Job, and the edition came over Bolt (never cypher-shell, never the password).
    expect((await kube.list('batch/v1', 'Job', 'data')).map((job) => job.metadata.name)).not.toContainEqual(
      expect.stringMatching(/^db-runbook-probe-/),
    );
    const events = journalEvents(run.sessionDir);
    expect(
      events.some((event) => event.type === 'command' && String(event.command).includes('cypher-shell')),
    ).toBe(false);
    expect(events.some((event) => event.type === 'api' && event.service === 'neo4j')).toBe(true);
    expectNoSecrets(run.stdout + journalText(run.sessionDir));
  });

  it('incremental switch: refused without --yes; with it, NEO4J_BACKUP_MODE=incremental read back from the API', async () => {
    const neo4jCron = cronJobsFromManifest().find((object) => object.metadata.name === 'neo4j-daily-backup');
    expect(neo4jCron).toBeDefined();
    await kube.apply(neo4jCron as KubeObject); // as deploy does: field manager db-runbook
    const modeOf = async () => {
      const live = await kube.get({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: 'neo4j-daily-backup',
        namespace: 'data',
      });
      const spec = live?.spec as {
        jobTemplate: {
          spec: {
            template: { spec: { containers: { image: string; env: { name: string; value?: string }[] }[] } };
          };
        };
      };
      const container = spec.jobTemplate.spec.template.spec.containers[0];
      return {
        live,
        container,
        mode: container?.env.find((variable) => variable.name === 'NEO4J_BACKUP_MODE')?.value,
      };
    };
    expect((await modeOf()).mode).toBe('full');

    const refused = await runCli(['run', 'troubleshoot.neo4j-incremental'], { env });
    expect(refused.exitCode, `${refused.stdout}\n${refused.stderr}`).toBe(3);
    expect((await modeOf()).mode).toBe('full');

    const run = await runCli(['run', 'troubleshoot.neo4j-incremental', '--yes'], { env });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/✓ NEO4J_BACKUP_MODE read back from the API +incremental \(was full\)/);
    const after = await modeOf();
    expect(after.mode).toBe('incremental');
    // Nothing else changed: image, the other variables, and the field manager that owns the change.
    expect(after.container?.image).toBe('neo4j:5-enterprise');
    expect(after.container?.env.map((variable) => variable.name)).toContain('NEO4J_ACCEPT_LICENSE_AGREEMENT');
    expect((after.live?.metadata.managedFields ?? []).map((entry) => entry.manager)).toContain(
      'db-runbook-troubleshoot',
    );
    // Server-side apply merged env by name: the switch's field manager owns that one variable and
    // nothing else; deploy's manager keeps the image and every other variable.
    const owned = (manager: string): string =>
      JSON.stringify(
        (after.live?.metadata.managedFields ?? []).find(
          (entry) => entry.manager === manager && entry.operation === 'Apply',
        )?.fieldsV1 ?? {},
      );
    const switchFields = owned('db-runbook-troubleshoot');
    expect(switchFields).toContain('k:{\\"name\\":\\"NEO4J_BACKUP_MODE\\"}');
    expect(switchFields).not.toContain('NEO4J_ACCEPT_LICENSE_AGREEMENT');
    expect(switchFields).not.toContain('f:image');
    expect(switchFields).not.toContain('f:schedule');
    const deployFields = owned('db-runbook');
    expect(deployFields).toContain('f:image');
    expect(deployFields).toContain('NEO4J_ACCEPT_LICENSE_AGREEMENT');
    const events = journalEvents(run.sessionDir);
    expect(events.find((event) => event.type === 'gate')).toMatchObject({
      kind: 'confirm',
      answer: 'accepted',
    });
    expect(
      events.some(
        (event) =>
          event.type === 'api' &&
          event.method === 'PATCH' &&
          String(event.path).includes('/cronjobs/neo4j-daily-backup?fieldManager=db-runbook-troubleshoot'),
      ),
    ).toBe(true);

    const again = await runCli(['run', 'troubleshoot.neo4j-incremental'], { env });
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toContain('NEO4J_BACKUP_MODE=incremental already');
  });

  it('a stale newest backup is flagged by its recovery point (key, then metadata), a fresh one passes', async () => {
    // s3rver stamps LastModified "now": the times that count are the ones the scripts write.
    const old = new Date(Date.now() - 3 * 24 * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    await aws([
      's3',
      'cp',
      '-',
      `s3://db-backups/postgres/${new Date().toISOString().slice(0, 10)}T01-00-00Z.sql.gz`,
      '--metadata',
      `recovery-point=${old}`,
    ]);
    const stale = await runCli(['run', 'troubleshoot.freshness'], { env: { ...env, DATABASES: 'postgres' } });
    expect(stale.exitCode, `${stale.stdout}\n${stale.stderr}`).toBe(1);
    expect(stale.stdout).toMatch(
      /✗ s3:\/\/db-backups\/postgres\/ +newest \S+T01-00-00Z\.sql\.gz is 3d old \(recovery point from the object metadata; no \.sha256 sidecar\) — STALE: over 1d 2h; 2 backups/,
    );
    expect(stale.stdout).toContain(
      'schedule 0 2 * * * (daily at 02:00 UTC) from CronJob postgres-daily-backup',
    );

    // A backup named by its start time now (as postgres-backup.sh names them) makes it fresh.
    const now = new Date()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z')
      .replaceAll(':', '-');
    await aws(['s3', 'cp', '-', `s3://db-backups/postgres/${now}.sql.gz`]);
    await aws(['s3', 'cp', '-', `s3://db-backups/postgres/${now}.sql.gz.sha256`]);
    const fresh = await runCli(['run', 'troubleshoot.freshness'], { env: { ...env, DATABASES: 'postgres' } });
    expect(fresh.exitCode, `${fresh.stdout}\n${fresh.stderr}`).toBe(0);
    expect(fresh.stdout).toMatch(
      new RegExp(
        `✓ s3://db-backups/postgres/ +newest ${now}\\.sql\\.gz is \\d+s old \\(recovery point from the key\\); 3 backups`,
      ),
    );
  });
});
