// The real kubectl (an independent client) against the stand-in with the generated kubeconfig:
// table output, server-side apply (with server-side field validation via OpenAPI v3), conflicts,
// auth can-i through SelfSubjectAccessReview, and `create job --from=cronjob` (a protobuf POST).
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { BatchV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startKubeStandIn } from '../../src/sandbox/kube/index.js';
import type { KubeStandIn } from '../../src/sandbox/kube/index.js';
import { tempDir } from '../support/temp.js';

const hasKubectl = await new Promise<boolean>((resolve) =>
  execFile('kubectl', ['version', '--client'], (error) => resolve(!error)),
);

let dir: string;
let kube: KubeStandIn;
let batch: BatchV1Api;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'kubectl',
      ['--kubeconfig', kube.kubeconfigPath, '--cache-dir', join(dir, 'cache'), ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: dir } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const MANIFEST = `apiVersion: v1
kind: ConfigMap
metadata:
  name: backup-scripts
  namespace: data
data:
  backup.sh: |
    echo "backing up to $S3_BUCKET from $(hostname)"
---
apiVersion: v1
kind: Secret
metadata:
  name: backup-env
  namespace: data
stringData:
  S3_BUCKET: db-backups
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: postgres-backup
  namespace: data
spec:
  schedule: "0 2 * * *"
  timeZone: Etc/UTC
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    metadata:
      labels: {app: postgres-backup}
      annotations: {team: sre}
    spec:
      backoffLimit: 1
      activeDeadlineSeconds: 600
      template:
        metadata:
          labels: {app: postgres-backup}
        spec:
          restartPolicy: Never
          containers:
            - name: backup
              image: postgres:15
              command: ["/bin/sh", "/scripts/backup.sh"]
              envFrom:
                - secretRef: {name: backup-env}
              resources:
                requests: {cpu: 100m, memory: 128Mi}
              volumeMounts:
                - {name: scripts, mountPath: /scripts}
                - {name: work, mountPath: /backup}
          volumes:
            - name: scripts
              configMap: {name: backup-scripts, defaultMode: 0755}
            - name: work
              emptyDir: {}
`;

describe.skipIf(!hasKubectl)('kubectl against the stand-in', () => {
  beforeAll(async () => {
    dir = tempDir('kube-standin-kubectl-');
    kube = await startKubeStandIn({ workDir: join(dir, 'kube') });
    await writeFile(join(dir, 'manifest.yaml'), MANIFEST);
    const kc = new KubeConfig();
    kc.loadFromFile(kube.kubeconfigPath);
    batch = kc.makeApiClient(BatchV1Api);
  });

  afterAll(async () => {
    await kube?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('applies manifests server-side and lists them as tables', async () => {
    const applied = await kubectl('apply', '--server-side', '-f', join(dir, 'manifest.yaml'));
    expect(applied.stderr).toBe('');
    expect(applied.stdout.trim().split('\n')).toEqual([
      'configmap/backup-scripts serverside-applied',
      'secret/backup-env serverside-applied',
      'cronjob.batch/postgres-backup serverside-applied',
    ]);
    const patch = kube.requests.find(
      (r) => r.method === 'PATCH' && r.path.endsWith('/cronjobs/postgres-backup'),
    );
    expect(patch).toMatchObject({
      contentType: 'application/apply-patch+yaml',
      fieldManager: 'kubectl',
      status: 201,
    });

    const secrets = await kubectl('get', 'secrets', '-n', 'data');
    expect(secrets.code).toBe(0);
    expect(secrets.stdout).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\nbackup-env\s+Opaque\s+1\s+\d+s\n$/);
    const cronJobs = await kubectl('get', 'cronjobs');
    expect(cronJobs.stdout).toMatch(/postgres-backup\s+0 2 \* \* \*\s+Etc\/UTC\s+False\s+0\s+<none>/);
    const again = await kubectl('apply', '--server-side', '-f', join(dir, 'manifest.yaml'));
    expect(again.code).toBe(0);
  });

  it('reports a field owned by another manager as a conflict, and takes it with --force-conflicts', async () => {
    expect(
      (await kubectl('create', 'secret', 'generic', 's3', '--from-literal=S3_BUCKET=manual')).stdout,
    ).toBe('secret/s3 created\n');
    await writeFile(
      join(dir, 's3.yaml'),
      'apiVersion: v1\nkind: Secret\nmetadata: {name: s3, namespace: data}\ndata: {S3_BUCKET: ZGItYmFja3Vwcw==}\n',
    );
    const refused = await kubectl('apply', '--server-side', '-f', join(dir, 's3.yaml'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.S3_BUCKET',
    );
    const forced = await kubectl('apply', '--server-side', '--force-conflicts', '-f', join(dir, 's3.yaml'));
    expect(forced.stdout).toBe('secret/s3 serverside-applied\n');
    const json = JSON.parse(
      (await kubectl('get', 'secret', 's3', '-o', 'json', '--show-managed-fields')).stdout,
    ) as {
      metadata: { managedFields: { manager: string; operation: string }[] };
    };
    expect(json.metadata.managedFields.map((m) => `${m.manager}/${m.operation}`)).toEqual([
      'kubectl-create/Update',
      'kubectl/Apply',
    ]);
  });

  it('answers auth can-i as the denials say', async () => {
    const yes = await kubectl('auth', 'can-i', 'create', 'secrets', '-n', 'data');
    expect([yes.code, yes.stdout.trim()]).toEqual([0, 'yes']);
    kube.deny({ verb: 'create', resource: 'secrets', namespace: 'data' });
    const no = await kubectl('auth', 'can-i', 'create', 'secrets', '-n', 'data');
    expect([no.code, no.stdout.trim()]).toEqual([1, 'no']);
    expect((await kubectl('auth', 'can-i', 'create', 'secrets', '-n', 'default')).stdout.trim()).toBe('yes');
    const refused = await kubectl('create', 'secret', 'generic', 'denied', '--from-literal=a=b');
    expect(refused.stderr).toBe(
      'error: failed to create secret secrets is forbidden: User "sandbox-user" cannot create resource "secrets" in API group "" in the namespace "data"\n',
    );
    kube.allow({ verb: 'create', resource: 'secrets', namespace: 'data' });
    expect((await kubectl('auth', 'can-i', 'create', 'secrets', '-n', 'data')).stdout.trim()).toBe('yes');
  });

  it('creates a job from the CronJob and runs it', async () => {
    const created = await kubectl('create', 'job', '--from=cronjob/postgres-backup', 'manual-backup');
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe('job.batch/manual-backup created\n');
    expect(await kube.waitForJob('data', 'manual-backup', 10_000)).toBe('Complete');

    const job = await batch.readNamespacedJob({ name: 'manual-backup', namespace: 'data' });
    const cron = await batch.readNamespacedCronJob({ name: 'postgres-backup', namespace: 'data' });
    expect(job.metadata?.annotations).toEqual({ 'cronjob.kubernetes.io/instantiate': 'manual', team: 'sre' });
    expect(job.metadata?.labels).toEqual({ app: 'postgres-backup' });
    expect(job.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: 'postgres-backup',
        uid: cron.metadata?.uid,
        controller: true,
      },
    ]);
    expect(job.spec?.backoffLimit).toBe(1);
    expect(job.spec?.template.spec?.containers[0]?.resources?.requests).toEqual({
      cpu: '100m',
      memory: '128Mi',
    });
    expect(job.spec?.template.spec?.volumes?.[0]?.configMap).toEqual({
      name: 'backup-scripts',
      defaultMode: 0o755,
    });
    expect(cron.status?.lastSuccessfulTime).toBeInstanceOf(Date);

    const logs = await kubectl('logs', 'job/manual-backup');
    expect(logs.stdout).toMatch(/^backing up to db-backups from \S+\n$/);
    const jobs = await kubectl('get', 'jobs');
    expect(jobs.stdout).toMatch(/manual-backup\s+Complete\s+1\/1/);
    expect((await kubectl('delete', 'job', 'manual-backup')).stdout).toBe(
      'job.batch "manual-backup" deleted\n',
    );
  });
});
