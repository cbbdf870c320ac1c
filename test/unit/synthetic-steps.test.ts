import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { KubeObject, KubeRef } from '../../src/adapters/types.js';
import type { Gate } from '../../src/runbook/step.js';
import { stepsOf } from '../../src/steps/index.js';
import { parseJobTimeout } from '../../src/steps/synthetic/target.js';
import { isBackupObject } from '../../src/steps/synthetic/verify.js';
import { boltScheme } from '../../src/steps/test-neo4j/index.js';
import { syntheticMarker } from '../../src/steps/synthetic/target.js';
import { FakeKube } from '../fixtures/configure/fake-kube.js';
import { testSession } from '../support/session.js';

/** The fake cluster also remembers how each delete asked for its dependents to go. */
class RecordingKube extends FakeKube {
  readonly deletes: { name: string; propagationPolicy?: string }[] = [];
  override async delete(
    ref: KubeRef,
    options: { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {},
  ) {
    this.deletes.push({ name: ref.name, propagationPolicy: options.propagationPolicy });
    await super.delete(ref);
  }
}

function cluster(): RecordingKube {
  const kube = new RecordingKube();
  const text = readFileSync(
    new URL('../fixtures/configure/backup-jobs/cronjobs.yaml', import.meta.url),
    'utf8',
  );
  for (const doc of parseAllDocuments(text)) {
    const cronJob = doc.toJSON() as KubeObject;
    cronJob.metadata.uid = `uid-${cronJob.metadata.name}`;
    kube.seed(cronJob, 'kubectl');
  }
  return kube;
}

const existingJob: KubeObject = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'postgres-backup-test', namespace: 'data', creationTimestamp: '2026-01-24T01:00:00Z' },
  spec: {},
  status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] },
};

function session(kube: FakeKube) {
  return testSession({ env: {}, adapters: (real) => ({ ...real, kube: async () => kube }) }).session;
}

const trigger = () => stepsOf('test-postgres').find((step) => step.id === 'test-postgres.trigger')!;

describe('test-postgres.trigger', () => {
  it('creates the Job from the CronJob without asking when the name is free', async () => {
    const kube = cluster();
    const gates: Gate[] = [];
    const outcome = await session(kube).run(trigger(), {
      confirm: async (gate) => (gates.push(gate), 'accepted'),
    });
    expect(outcome.status).toBe('done');
    expect(gates).toEqual([]);
    const job = kube.objects.get('Job/postgres-backup-test');
    expect(job?.metadata.annotations).toEqual({ 'cronjob.kubernetes.io/instantiate': 'manual' });
    expect(job?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: 'postgres-daily-backup',
        uid: 'uid-postgres-daily-backup',
        controller: true,
      },
    ]);
    expect(outcome.result?.data).toMatchObject({
      job: 'postgres-backup-test',
      cronJob: 'postgres-daily-backup',
    });
  });

  it('asks, and with the gate confirmed deletes the existing Job (Background) before creating it again', async () => {
    const kube = cluster();
    kube.seed(existingJob, 'kubectl-create');
    const prompts: string[] = [];
    const gates: Gate[] = [];
    const outcome = await session(kube).run(trigger(), {
      confirm: async (gate) => (gates.push(gate), 'accepted'),
      choose: async (prompt, choices, fallback) => {
        prompts.push(prompt, ...choices.map((choice) => choice.label));
        return fallback;
      },
    });
    expect(prompts[0]).toMatch(/^Job postgres-backup-test already exists \(succeeded, created .* ago\)/);
    expect(prompts).toContain('use the name postgres-backup-test-2');
    expect(gates[0]?.prompt).toBe('Delete Job postgres-backup-test in namespace data and create it again?');
    expect(kube.deletes).toEqual([{ name: 'postgres-backup-test', propagationPolicy: 'Background' }]);
    expect(outcome.status).toBe('done');
    expect(kube.objects.get('Job/postgres-backup-test')?.metadata.annotations).toMatchObject({
      'cronjob.kubernetes.io/instantiate': 'manual',
    });
  });

  it('refusing the delete gate changes nothing and exits 3', async () => {
    const kube = cluster();
    kube.seed(existingJob, 'kubectl-create');
    const outcome = await session(kube).run(trigger(), { confirm: async () => 'refused' });
    expect(outcome.exitCode).toBe(3);
    expect(kube.deletes).toEqual([]);
    expect(kube.calls.filter((call) => call.method === 'create')).toEqual([]);
  });

  it('with the suffixed name chosen, leaves the old Job alone and asks nothing more', async () => {
    const kube = cluster();
    kube.seed(existingJob, 'kubectl-create');
    const gates: Gate[] = [];
    const outcome = await session(kube).run(trigger(), {
      confirm: async (gate) => (gates.push(gate), 'accepted'),
      choose: async (_prompt, choices) => choices[1]?.value,
    });
    expect(outcome.status).toBe('done');
    expect(gates).toEqual([]);
    expect(kube.deletes).toEqual([]);
    expect(kube.objects.has('Job/postgres-backup-test-2')).toBe(true);
    expect(outcome.result?.data?.job).toBe('postgres-backup-test-2');
  });

  it('fails and points to deploy when the CronJob is missing', async () => {
    const kube = new RecordingKube();
    const outcome = await session(kube).run(trigger(), { confirm: async () => 'accepted' });
    expect(outcome.status).toBe('failed');
    expect(outcome.result?.checks?.[0]).toMatchObject({
      status: 'fail',
      detail: 'not found in namespace data',
      next: 'Run db-runbook run deploy (it applies ops/db/backup-jobs/cronjobs.yaml).',
    });
  });
});

describe('synthetic test helpers', () => {
  it('the marker carries UTC time, "synthetic check" and the session id', () => {
    expect(syntheticMarker(new Date('2026-01-24T02:00:00.123Z'), '20260124T015930Z-ab12')).toBe(
      '2026-01-24T02:00:00Z synthetic check 20260124T015930Z-ab12',
    );
  });

  it('backups exclude sidecars and temporaries', () => {
    expect(isBackupObject('postgres/2026-01-24T02-00-00Z.sql.gz', 'postgres/')).toBe(true);
    expect(isBackupObject('postgres/2026-01-24T02-00-00Z.sql.gz.sha256', 'postgres/')).toBe(false);
    expect(isBackupObject('postgres/.partial/2026-01-24T02-00-00Z.sql.gz.vm-123', 'postgres/')).toBe(false);
    expect(isBackupObject('postgres/x.sql.gz.tmp', 'postgres/')).toBe(false);
  });

  it('--job-timeout reads 15m, 90s, 1h30m and refuses nonsense', () => {
    expect(parseJobTimeout(undefined)).toBe(15 * 60_000);
    expect(parseJobTimeout('90s')).toBe(90_000);
    expect(parseJobTimeout('1h30m')).toBe(90 * 60_000);
    expect(() => parseJobTimeout('soon')).toThrow(/--job-timeout "soon" is not a duration/);
  });

  it('Bolt uses TLS as the runbook says, plain in the sandbox, or what the values file sets', () => {
    expect(boltScheme(false, {})).toBe('neo4j+s');
    expect(boltScheme(true, {})).toBe('neo4j');
    expect(boltScheme(false, { neo4jUriScheme: 'bolt' })).toBe('bolt');
  });
});
