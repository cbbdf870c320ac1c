import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/adapters/types.js';
import { quantityBytes, restoreJobFromCronJob, restoreJobName } from '../../src/runbook/restore-job.js';
import { parseManifest } from '../../src/runbook/cronjob-manifest.js';

const manifest = parseManifest(
  readFileSync(new URL('../../ops/db/backup-jobs/cronjobs.yaml', import.meta.url), 'utf8'),
);
const cronJob = manifest.find(
  (object) => object.kind === 'CronJob' && object.metadata.name === 'postgres-daily-backup',
)!;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function build(extra: Partial<Parameters<typeof restoreJobFromCronJob>[1]> = {}): Json {
  const job = restoreJobFromCronJob(
    { ...cronJob, metadata: { ...cronJob.metadata, uid: 'u-1' } },
    {
      name: 'postgres-restore-20260102030405',
      namespace: 'data',
      backupScript: 'postgres-backup.sh',
      restoreScript: 'postgres-restore.sh',
      env: {
        RESTORE_S3_URI: 's3://b/postgres/x.sql.gz',
        CLEAN_TARGET: 'true',
        BACKUP_WORK_DIR: '/backup-work',
      },
      app: 'postgres-restore',
      ...extra,
    },
  );
  return job as Json;
}

describe('the restore Job derived from the backup CronJob (ops/db/backup-jobs/cronjobs.yaml)', () => {
  it('keeps the image, Secrets, settings and scripts volume, and runs the restore script instead', () => {
    const job = build();
    const template = (cronJob as Json).spec.jobTemplate.spec.template.spec;
    const pod = job.spec.template.spec;
    const container = pod.containers[0];
    expect(job).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'postgres-restore-20260102030405', namespace: 'data' },
    });
    expect(container.image).toBe(template.containers[0].image);
    expect(container.envFrom).toEqual(template.containers[0].envFrom);
    expect(pod.volumes.find((v: Json) => v.name === 'scripts').configMap.name).toBe(
      'database-backup-scripts',
    );
    const script = container.command.join(' ');
    expect(script).toContain('exec bash /scripts/postgres-restore.sh');
    expect(script).not.toContain('postgres-backup.sh');
    // The restore's variables, each once (BACKUP_WORK_DIR replaced, not duplicated).
    const names = container.env.map((e: Json) => e.name);
    expect(names.filter((n: string) => n === 'BACKUP_WORK_DIR')).toHaveLength(1);
    expect(container.env).toEqual(
      expect.arrayContaining([
        { name: 'RESTORE_S3_URI', value: 's3://b/postgres/x.sql.gz' },
        { name: 'CLEAN_TARGET', value: 'true' },
      ]),
    );
  });

  it('is not owned by the CronJob, never retries, has no backup deadline, and is labelled as a restore', () => {
    const job = build();
    expect(job.metadata.ownerReferences).toBeUndefined();
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBeUndefined();
    expect(job.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'postgres-restore',
      'app.kubernetes.io/managed-by': 'db-runbook',
    });
    expect(job.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('postgres-restore');
    // The CronJob object itself is untouched.
    expect((cronJob as Json).spec.jobTemplate.spec.template.spec.containers[0].command.join(' ')).toContain(
      'postgres-backup.sh',
    );
  });

  it('makes room for the downloaded backup in the work emptyDir and the ephemeral-storage limits', () => {
    const job = build({ workBytes: 5 * 1024 ** 3 });
    const pod = job.spec.template.spec;
    expect(pod.volumes.find((v: Json) => v.name === 'work').emptyDir.sizeLimit).toBe('6Gi');
    expect(pod.containers[0].resources.limits['ephemeral-storage']).toBe('7Gi');
    expect(pod.containers[0].resources.requests['ephemeral-storage']).toBe('6Gi');
    const small = build({ workBytes: 10 * 1024 ** 2 }).spec.template.spec;
    expect(small.volumes.find((v: Json) => v.name === 'work').emptyDir.sizeLimit).toBe('2Gi');
  });

  it('refuses a CronJob that does not run the backup script', () => {
    const other: KubeObject = structuredClone(cronJob);
    (other as Json).spec.jobTemplate.spec.template.spec.containers[0].command = ['sleep', '1'];
    expect(
      () =>
        build({}) &&
        restoreJobFromCronJob(other, {
          name: 'x',
          namespace: 'data',
          backupScript: 'postgres-backup.sh',
          restoreScript: 'postgres-restore.sh',
          env: {},
          app: 'a',
        }),
    ).toThrow(/does not run postgres-backup\.sh/);
  });

  it('names the Job as a DNS label and reads quantities', () => {
    expect(restoreJobName('postgres-restore', new Date('2026-01-02T03:04:05.678Z'))).toBe(
      'postgres-restore-20260102030405',
    );
    expect(quantityBytes('512Mi')).toBe(512 * 1024 ** 2);
    expect(quantityBytes('1G')).toBe(1e9);
    expect(quantityBytes(1000)).toBe(1000);
    expect(quantityBytes('lots')).toBeUndefined();
  });
});
