import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/adapters/types.js';
import {
  createJobCommand,
  INSTANTIATE_ANNOTATION,
  jobFromCronJob,
  suffixedJobName,
} from '../../src/runbook/job-from-cronjob.js';

function fixtureCronJobs(): KubeObject[] {
  const text = readFileSync(
    new URL('../fixtures/configure/backup-jobs/cronjobs.yaml', import.meta.url),
    'utf8',
  );
  return parseAllDocuments(text).map((doc) => doc.toJSON() as KubeObject);
}

function live(cronJob: KubeObject): KubeObject {
  return {
    ...cronJob,
    metadata: {
      ...cronJob.metadata,
      uid: '3f1c2a9e-0000-4000-8000-000000000001',
      resourceVersion: '12',
      creationTimestamp: '2026-01-24T01:00:00Z',
    },
  };
}

describe('jobFromCronJob (kubectl create job --from=cronjob/X NAME)', () => {
  const [postgres] = fixtureCronJobs();
  if (!postgres) throw new Error('fixture has no CronJob');

  it('copies jobTemplate.spec unchanged and names the Job', () => {
    const job = jobFromCronJob(live(postgres), 'postgres-backup-test', 'data');
    const template = (postgres.spec as { jobTemplate: { spec: unknown } }).jobTemplate.spec;
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.kind).toBe('Job');
    expect(job.metadata.name).toBe('postgres-backup-test');
    expect(job.metadata.namespace).toBe('data');
    expect(job.spec).toEqual(template);
    expect(job.spec).not.toBe(template);
  });

  it("takes the template's labels, not the CronJob's", () => {
    const job = jobFromCronJob(live(postgres), 'postgres-backup-test', 'data');
    expect(job.metadata.labels).toEqual({ 'app.kubernetes.io/name': 'postgres-backup' });
  });

  it('annotates instantiate=manual, and template annotations win over it', () => {
    expect(jobFromCronJob(live(postgres), 'a', 'data').metadata.annotations).toEqual({
      [INSTANTIATE_ANNOTATION]: 'manual',
    });
    const annotated = live(postgres);
    const spec = structuredClone(annotated.spec) as { jobTemplate: { metadata: Record<string, unknown> } };
    spec.jobTemplate.metadata.annotations = { team: 'dba', [INSTANTIATE_ANNOTATION]: 'template' };
    const job = jobFromCronJob({ ...annotated, spec }, 'a', 'data');
    expect(job.metadata.annotations).toEqual({ team: 'dba', [INSTANTIATE_ANNOTATION]: 'template' });
  });

  it('owns the Job by the CronJob as controller, without blockOwnerDeletion', () => {
    const job = jobFromCronJob(live(postgres), 'postgres-backup-test', 'data');
    expect(job.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: 'postgres-daily-backup',
        uid: '3f1c2a9e-0000-4000-8000-000000000001',
        controller: true,
      },
    ]);
  });

  it('carries nothing server-set from the CronJob (uid, resourceVersion, status)', () => {
    const job = jobFromCronJob({ ...live(postgres), status: { active: [] } }, 'x', 'data');
    expect(job.metadata.uid).toBeUndefined();
    expect(job.metadata.resourceVersion).toBeUndefined();
    expect(job.status).toBeUndefined();
  });

  it('refuses something that is not a CronJob with a job template', () => {
    expect(() =>
      jobFromCronJob({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }, 'j'),
    ).toThrow(/not a CronJob/);
    expect(() =>
      jobFromCronJob({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'x' }, spec: {} }, 'j'),
    ).toThrow(/no spec.jobTemplate.spec/);
  });

  it('prints the equivalent kubectl command', () => {
    expect(createJobCommand('postgres-daily-backup', 'postgres-backup-test', 'data')).toBe(
      'kubectl create job --from=cronjob/postgres-daily-backup postgres-backup-test --namespace data',
    );
  });
});

describe('suffixedJobName', () => {
  it('keeps a free name and suffixes a taken one', () => {
    expect(suffixedJobName('postgres-backup-test', () => false)).toBe('postgres-backup-test');
    const taken = new Set(['postgres-backup-test', 'postgres-backup-test-2']);
    expect(suffixedJobName('postgres-backup-test', (name) => taken.has(name))).toBe('postgres-backup-test-3');
  });
});
