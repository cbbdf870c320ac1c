// The stand-in's job runner, driven through the real @kubernetes/client-node: Jobs become pods whose
// container runs as a local process with its env from Secrets/ConfigMaps, its volumes materialized and
// its mount paths rewritten; status, conditions, events, logs (with follow), retries, deadlines,
// CronJob bookkeeping, deletion and stop().
import { mkdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  Log,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startKubeStandIn } from '../../src/sandbox/kube/index.js';
import type { KubeStandIn } from '../../src/sandbox/kube/index.js';
import { tempDir } from '../support/temp.js';

const NS = 'data';
let dir: string;
let kube: KubeStandIn;
let kc: KubeConfig;
let core: CoreV1Api;
let batch: BatchV1Api;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function podsOf(job: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({ namespace: NS, labelSelector: `job-name=${job}` })).items;
}

function job(
  name: string,
  spec: { command: string[]; backoffLimit?: number; deadline?: number; env?: object[]; envFrom?: object[] },
): V1Job {
  return {
    metadata: { name },
    spec: {
      backoffLimit: spec.backoffLimit ?? 0,
      ...(spec.deadline ? { activeDeadlineSeconds: spec.deadline } : {}),
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: 'main',
              image: 'busybox:1.36',
              command: spec.command,
              env: spec.env as never,
              envFrom: spec.envFrom as never,
            },
          ],
        },
      },
    },
  };
}

beforeAll(async () => {
  dir = tempDir('kube-standin-jobs-');
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'standin-tool'), '#!/bin/sh\necho "standin-tool $*"\n');
  await chmod(join(bin, 'standin-tool'), 0o755);
  process.env.KUBE_STANDIN_HOST_ONLY = 'leaked';
  kube = await startKubeStandIn({
    workDir: join(dir, 'kube'),
    jobPath: [bin],
    jobEnv: { SANDBOX_MARK: 'from-jobEnv' },
  });
  kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  batch = kc.makeApiClient(BatchV1Api);
});

afterAll(async () => {
  delete process.env.KUBE_STANDIN_HOST_ONLY;
  await kube?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a Job created from a CronJob', () => {
  it('runs the template locally with its env, volumes and rewritten paths, and records it all', async () => {
    const script = [
      'echo "args: $*"',
      'echo "password=$DB_PASSWORD bucket=$CFG_S3_BUCKET pod=$POD_NAME ns=$POD_NAMESPACE dir=$BACKUP_DIR url=$URL"',
      'echo "optional=[${MISSING_OPTIONAL-unset}] mark=$SANDBOX_MARK host=[${KUBE_STANDIN_HOST_ONLY-}]"',
      'echo "home=$HOME" | grep -q "/pods/" && echo home-in-pod-dir',
      'echo payload > "$1"; cat "$1"; test -x /dev/null || true',
      'echo "cwd=$(pwd)"',
      'standin-tool --check',
      'echo "to stderr" >&2',
      // Hold the container until the test has seen it running.
      'i=0; while [ ! -f "$GO" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done',
    ].join('\n');
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: { metadata: { name: 'scripts' }, data: { 'run.sh': script, S3_BUCKET: 'bucket-1' } },
    });
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'creds' }, stringData: { PASSWORD: 'pw-123' } },
    });
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const cronJob = await objects.patch(
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'nightly', namespace: NS },
        spec: {
          schedule: '0 2 * * *',
          timeZone: 'Etc/UTC',
          concurrencyPolicy: 'Forbid',
          jobTemplate: {
            metadata: { labels: { app: 'db-backup' } },
            spec: {
              backoffLimit: 0,
              template: {
                spec: {
                  restartPolicy: 'Never',
                  containers: [
                    {
                      name: 'backup',
                      image: 'postgres:15',
                      command: ['/bin/sh', '/scripts/run.sh'],
                      args: ['/backup/out.txt', '$(POD_NAME)'],
                      workingDir: '/backup',
                      env: [
                        {
                          name: 'DB_PASSWORD',
                          valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } },
                        },
                        {
                          name: 'MISSING_OPTIONAL',
                          valueFrom: { configMapKeyRef: { name: 'nope', key: 'x', optional: true } },
                        },
                        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                        {
                          name: 'POD_NAMESPACE',
                          valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } },
                        },
                        { name: 'BACKUP_DIR', value: '/backup/pg' },
                        { name: 'GO', value: join(dir, 'go') },
                        { name: 'URL', value: 'file:///backup-not-a-mount/$(POD_NAMESPACE)' },
                      ],
                      envFrom: [{ configMapRef: { name: 'scripts' }, prefix: 'CFG_' }],
                      volumeMounts: [
                        { name: 'scripts', mountPath: '/scripts' },
                        { name: 'work', mountPath: '/backup' },
                      ],
                    },
                  ],
                  volumes: [
                    {
                      name: 'scripts',
                      configMap: {
                        name: 'scripts',
                        defaultMode: 0o755,
                        items: [{ key: 'run.sh', path: 'run.sh' }],
                      },
                    },
                    { name: 'work', emptyDir: {} },
                  ],
                },
              },
            },
          },
        },
      },
      undefined,
      undefined,
      'db-runbook',
      undefined,
      PatchStrategy.ServerSideApply,
    );

    const started = Date.now();
    const created = await batch.createNamespacedJob({
      namespace: NS,
      body: {
        metadata: {
          name: 'nightly-manual',
          annotations: { 'cronjob.kubernetes.io/instantiate': 'manual' },
          labels: { app: 'db-backup' },
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'CronJob',
              name: 'nightly',
              uid: (cronJob.metadata as { uid?: string } | undefined)?.uid ?? '',
              controller: true,
            },
          ],
        },
        spec: (cronJob as unknown as { spec: { jobTemplate: { spec: V1Job['spec'] } } }).spec.jobTemplate
          .spec,
      },
    });
    expect(created.spec?.selector?.matchLabels).toEqual({
      'batch.kubernetes.io/controller-uid': created.metadata?.uid,
    });
    expect(created.spec?.template.metadata?.labels).toMatchObject({
      'job-name': 'nightly-manual',
      'controller-uid': created.metadata?.uid,
    });

    await expect
      .poll(async () => (await podsOf('nightly-manual'))[0]?.status?.phase, { timeout: 5000 })
      .toBe('Running');
    const [pod] = await podsOf('nightly-manual');
    const podName = pod?.metadata?.name ?? '';
    expect(podName).toMatch(/^nightly-manual-[a-z0-9]{5}$/);
    expect(pod?.metadata?.labels).toMatchObject({
      'job-name': 'nightly-manual',
      'batch.kubernetes.io/job-name': 'nightly-manual',
      'controller-uid': created.metadata?.uid,
      'batch.kubernetes.io/controller-uid': created.metadata?.uid,
    });
    expect(pod?.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: 'nightly-manual',
        uid: created.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(pod?.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeInstanceOf(Date);
    const cronActive = await batch.readNamespacedCronJob({ name: 'nightly', namespace: NS });
    expect(cronActive.status?.active?.map((r) => r.name)).toEqual(['nightly-manual']);

    // Follow the log while the container runs.
    let followed = '';
    const finished = new Promise<void>((resolve) => {
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          followed += chunk.toString();
          callback();
        },
      });
      sink.on('finish', () => resolve());
      void new Log(kc).log(NS, podName, 'backup', sink, { follow: true });
    });

    await writeFile(join(dir, 'go'), '');
    expect(await kube.waitForJob(NS, 'nightly-manual', 10_000)).toBe('Complete');
    const overhead = Date.now() - started;
    console.log(`job run took ${overhead} ms end to end (including the test's checks while it ran)`);
    await finished;

    expect(followed).toContain(
      `args: ${join(dir, 'kube', 'pods', `data_${podName}`, 'volumes', 'work')}/out.txt ${podName}`,
    );
    expect(followed).toContain(
      `password=pw-123 bucket=bucket-1 pod=${podName} ns=data dir=${join(dir, 'kube', 'pods', `data_${podName}`, 'volumes', 'work')}/pg url=file:///backup-not-a-mount/data`,
    );
    expect(followed).toContain('optional=[unset] mark=from-jobEnv host=[]');
    expect(followed).toContain('home-in-pod-dir');
    expect(followed).toContain('payload');
    expect(followed).toContain(`cwd=${join(dir, 'kube', 'pods', `data_${podName}`, 'volumes', 'work')}`);
    expect(followed).toContain('standin-tool --check');
    expect(followed).toContain('to stderr');

    const done = await batch.readNamespacedJob({ name: 'nightly-manual', namespace: NS });
    expect(done.status).toMatchObject({ succeeded: 1, ready: 0, terminating: 0 });
    expect(done.status?.active).toBeUndefined();
    expect(done.status?.completionTime).toBeInstanceOf(Date);
    expect(done.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached'],
      ['Complete', 'True', 'CompletionsReached'],
    ]);
    const finishedPod = await core.readNamespacedPod({ name: podName, namespace: NS });
    expect(finishedPod.status?.phase).toBe('Succeeded');
    expect(finishedPod.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });

    const cron = await batch.readNamespacedCronJob({ name: 'nightly', namespace: NS });
    expect(cron.status?.active).toBeUndefined();
    expect(cron.status?.lastSuccessfulTime).toBeInstanceOf(Date);
    expect(cron.status?.lastScheduleTime).toBeUndefined();

    const events = (await core.listNamespacedEvent({ namespace: NS })).items;
    const reasons = (kind: string, name: string) =>
      events
        .filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name)
        .map((e) => e.reason);
    expect(reasons('Job', 'nightly-manual')).toEqual(['SuccessfulCreate', 'Completed']);
    expect(reasons('Pod', podName)).toEqual(expect.arrayContaining(['Scheduled', 'Created', 'Started']));
    const createdEvent = events.find((e) => e.reason === 'SuccessfulCreate');
    expect(createdEvent).toMatchObject({
      type: 'Normal',
      message: `Created pod: ${podName}`,
      count: 1,
      source: { component: 'job-controller' },
    });

    const tail = await core.readNamespacedPodLog({
      name: podName,
      namespace: NS,
      tailLines: 1,
      timestamps: true,
    });
    expect(tail).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z \S/);
    expect(tail.trim().split('\n')).toHaveLength(1);
    const scriptFile = join(dir, 'kube', 'pods', `data_${podName}`, 'volumes', 'scripts', 'run.sh');
    expect(await readFile(scriptFile, 'utf8')).toBe(script);
  });
});

describe('failures', () => {
  it('retries up to backoffLimit, then fails with BackoffLimitExceeded', async () => {
    await batch.createNamespacedJob({
      namespace: NS,
      body: job('flaky', { command: ['/bin/sh', '-c', 'echo attempt; exit 3'], backoffLimit: 1 }),
    });
    expect(await kube.waitForJob(NS, 'flaky', 10_000)).toBe('Failed');
    const failed = await batch.readNamespacedJob({ name: 'flaky', namespace: NS });
    expect(failed.status?.failed).toBe(2);
    expect(failed.status?.conditions?.map((c) => [c.type, c.reason, c.message])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ['Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ]);
    const pods = await podsOf('flaky');
    expect(pods).toHaveLength(2);
    expect(pods.map((p) => p.status?.containerStatuses?.[0]?.state?.terminated)).toEqual([
      expect.objectContaining({ exitCode: 3, reason: 'Error' }),
      expect.objectContaining({ exitCode: 3, reason: 'Error' }),
    ]);
    const events = (
      await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.name=flaky' })
    ).items;
    expect(events.map((e) => e.reason)).toEqual([
      'SuccessfulCreate',
      'SuccessfulCreate',
      'BackoffLimitExceeded',
    ]);
  });

  it('kills a job that outlives activeDeadlineSeconds', async () => {
    const started = Date.now();
    await batch.createNamespacedJob({
      namespace: NS,
      body: job('slow', { command: ['/bin/sh', '-c', 'sleep 30'], deadline: 1 }),
    });
    expect(await kube.waitForJob(NS, 'slow', 10_000)).toBe('Failed');
    expect(Date.now() - started).toBeLessThan(5000);
    const failed = await batch.readNamespacedJob({ name: 'slow', namespace: NS });
    expect(failed.status?.conditions?.at(-1)).toMatchObject({
      type: 'Failed',
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
    await expect.poll(async () => (await podsOf('slow'))[0]?.status?.phase, { timeout: 5000 }).toBe('Failed');
  });

  it('fails a pod whose Secret is missing, like the kubelet reports it', async () => {
    await batch.createNamespacedJob({
      namespace: NS,
      body: job('no-secret', { command: ['/bin/true'], envFrom: [{ secretRef: { name: 'absent' } }] }),
    });
    expect(await kube.waitForJob(NS, 'no-secret', 10_000)).toBe('Failed');
    const [pod] = await podsOf('no-secret');
    expect(pod?.status?.containerStatuses?.[0]?.state?.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: 'secret "absent" not found',
    });
    const events = (
      await core.listNamespacedEvent({
        namespace: NS,
        fieldSelector: `involvedObject.name=${pod?.metadata?.name ?? ''}`,
      })
    ).items;
    expect(events.find((e) => e.reason === 'Failed')).toMatchObject({
      type: 'Warning',
      message: 'Error: secret "absent" not found',
    });
    const log = await core
      .readNamespacedPodLog({ name: pod?.metadata?.name ?? '', namespace: NS })
      .catch((e: { code: number }) => e.code);
    expect(log).toBe(400);
  });

  it('rejects invalid Jobs and CronJobs with the API server field errors', async () => {
    const bad = job('BAD', { command: ['x'] });
    const error = await batch
      .createNamespacedJob({
        namespace: NS,
        body: {
          ...bad,
          spec: { ...bad.spec, template: { spec: { containers: [], restartPolicy: 'Always' } } },
        },
      })
      .catch((e: { code: number; body: string }) => e);
    expect((error as { code: number }).code).toBe(422);
    const body = JSON.parse((error as { body: string }).body) as {
      message: string;
      details: { causes: { field: string }[] };
    };
    expect(body.details.causes.map((c) => c.field)).toEqual([
      'metadata.name',
      'spec.template.spec.containers',
      'spec.template.spec.restartPolicy',
    ]);
    expect(body.message).toContain(
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    );
    const cron = await batch
      .createNamespacedCronJob({
        namespace: NS,
        body: {
          metadata: { name: 'badcron' },
          spec: {
            schedule: '61 * * * *',
            timeZone: 'Mars/Olympus',
            jobTemplate: { spec: job('x', { command: ['x'] }).spec ?? { template: {} } },
          },
        },
      })
      .catch((e: { body: string }) => JSON.parse(e.body) as { message: string });
    expect((cron as { message: string }).message).toBe(
      'CronJob.batch "badcron" is invalid: [spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61, spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus]',
    );
  });
});

describe('suspended jobs', () => {
  it('starts a suspended Job only when it is resumed', async () => {
    const body = job('held', { command: ['/bin/true'] });
    await batch.createNamespacedJob({
      namespace: NS,
      body: { ...body, spec: { ...body.spec, suspend: true, template: body.spec?.template ?? {} } },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await podsOf('held')).toHaveLength(0);
    await batch.patchNamespacedJob(
      { name: 'held', namespace: NS, body: { spec: { suspend: false } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(await kube.waitForJob(NS, 'held', 10_000)).toBe('Complete');
  });
});

describe('deletion and stop', () => {
  it('deletes a running Job with its pods and process (Background), and keeps them with Orphan', async () => {
    const command = ['/bin/sh', '-c', 'echo $$$$ > "$PIDFILE"; sleep 30'];
    const pidfile = (name: string) => join(dir, `${name}.pid`);
    for (const name of ['doomed', 'orphaned']) {
      await batch.createNamespacedJob({
        namespace: NS,
        body: job(name, { command, env: [{ name: 'PIDFILE', value: pidfile(name) }] }),
      });
    }
    const readPid = async (name: string) =>
      Number((await readFile(pidfile(name), 'utf8').catch(() => '')).trim());
    await expect.poll(() => readPid('doomed'), { timeout: 5000 }).toBeGreaterThan(0);
    await expect.poll(() => readPid('orphaned'), { timeout: 5000 }).toBeGreaterThan(0);

    await batch.deleteNamespacedJob({ name: 'doomed', namespace: NS, propagationPolicy: 'Background' });
    await expect.poll(async () => (await podsOf('doomed')).length, { timeout: 5000 }).toBe(0);
    await expect.poll(async () => alive(await readPid('doomed')), { timeout: 5000 }).toBe(false);

    const orphan = await batch.deleteNamespacedJob({
      name: 'orphaned',
      namespace: NS,
      propagationPolicy: 'Orphan',
    });
    // The API server answers an orphaning delete with the Job itself (client-node types it as a Status).
    expect(orphan.kind).toBe('Job');
    const [kept] = await podsOf('orphaned');
    expect(kept?.metadata?.ownerReferences).toBeUndefined();
    expect(alive(await readPid('orphaned'))).toBe(true);
  });

  it('keeps two stand-ins apart, and stop() leaves no process behind', async () => {
    const other = await startKubeStandIn({ workDir: join(dir, 'other') });
    const otherKc = new KubeConfig();
    otherKc.loadFromFile(other.kubeconfigPath);
    const otherBatch = otherKc.makeApiClient(BatchV1Api);
    expect(other.url).not.toBe(kube.url);
    const pidfile = join(dir, 'other.pid');
    await otherBatch.createNamespacedJob({
      namespace: NS,
      body: job('nightly-manual', {
        command: ['/bin/sh', '-c', 'echo $$$$ > "$PIDFILE"; sleep 30'],
        env: [{ name: 'PIDFILE', value: pidfile }],
      }),
    });
    const readPid = async () => Number((await readFile(pidfile, 'utf8').catch(() => '')).trim());
    await expect.poll(readPid, { timeout: 5000 }).toBeGreaterThan(0);
    // The first stand-in's finished job of the same name is untouched.
    expect(await kube.waitForJob(NS, 'nightly-manual', 1000)).toBe('Complete');
    const pid = await readPid();
    await other.stop();
    expect(alive(pid)).toBe(false);
    await expect(otherBatch.listNamespacedJob({ namespace: NS })).rejects.toThrow();
    // The first stand-in still runs the orphaned pod's process until its own stop().
    const orphanPid = Number((await readFile(join(dir, 'orphaned.pid'), 'utf8')).trim());
    expect(alive(orphanPid)).toBe(true);
    await kube.stop();
    expect(alive(orphanPid)).toBe(false);
  });
});
