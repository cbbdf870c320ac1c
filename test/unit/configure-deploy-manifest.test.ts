import { join } from 'node:path';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/adapters/types.js';
import { resolveValues } from '../../src/runbook/values.js';
import { packageRoot } from '../../src/adapters/backup-jobs-files.js';
import { configureSteps } from '../../src/steps/configure/index.js';
import { readManifest } from '../../src/steps/deploy/index.js';
import {
  cronJobStatus,
  describeStatus,
  parseManifest,
  referencedObjects,
  renderManifest,
} from '../../src/runbook/cronjob-manifest.js';

const SHIPPED = join(packageRoot(), 'ops/db/backup-jobs');
const FIXTURE = join(packageRoot(), 'test/fixtures/configure/backup-jobs');

describe.each([
  ['the shipped manifest', SHIPPED],
  ['the test fixture', FIXTURE],
])('deploy renders %s', (_label, dir) => {
  const original = readManifest(dir);
  const { values } = resolveValues({
    env: { POSTGRES_BACKUP_SCHEDULE: '15 3 * * 0', NEO4J_BACKUP_SCHEDULE: '45 4 * * *' },
  });
  const rendered = renderManifest(original, values, 'backups');

  it('with the schedules from the values and the namespace from -n, everything else kept', () => {
    expect(rendered.map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([
      'CronJob/postgres-daily-backup',
      'CronJob/neo4j-daily-backup',
      ...(dir === SHIPPED ? ['CronJob/postgres-restore-verify', 'CronJob/neo4j-restore-verify'] : []),
    ]);
    for (const object of rendered) {
      expect(object.metadata.namespace).toBe('backups');
      const before = structuredClone(original.find((item) => item.metadata.name === object.metadata.name)!);
      const after = structuredClone(object);
      expect((before.spec as { timeZone: string }).timeZone).toBe('Etc/UTC');
      delete (before.spec as Record<string, unknown>).schedule;
      delete (after.spec as Record<string, unknown>).schedule;
      delete before.metadata.namespace;
      delete after.metadata.namespace;
      expect(after).toEqual(before);
    }
    expect((rendered[0]!.spec as { schedule: string }).schedule).toBe('15 3 * * 0');
    expect((rendered[1]!.spec as { schedule: string }).schedule).toBe('45 4 * * *');
  });

  it('into CronJobs that validate against the Kubernetes OpenAPI schema', () => {
    for (const object of rendered) expect(() => new CronJob(object as never).validate()).not.toThrow();
  });

  it('using only Secrets, ConfigMaps and the ServiceAccount that configure creates', () => {
    // What the configure steps apply (configure-steps.test.ts checks each one is written).
    const created = new Set([
      'Secret/database-backup-storage',
      'Secret/postgres-backup-credentials',
      'Secret/neo4j-backup-credentials',
      'ConfigMap/database-backup-settings',
      'ConfigMap/database-backup-scripts',
      'ServiceAccount/database-backup',
    ]);
    // One step each, plus the Role that lets the Neo4j Community backup scale its StatefulSet (not a pod reference).
    expect(configureSteps).toHaveLength(created.size + 1);
    expect(configureSteps.map((step) => step.id)).toContain('configure.neo4j-scaler-role');
    const used = rendered.flatMap((object) =>
      referencedObjects(object)
        .filter((ref) => !ref.optional)
        .map((ref) => `${ref.kind}/${ref.name}`),
    );
    expect(used.length).toBeGreaterThan(0);
    for (const ref of used) expect(created).toContain(ref);
  });

  it('leaving out the CronJob of a database out of scope', () => {
    const { values: pgOnly } = resolveValues({ env: { DATABASES: 'postgres' } });
    expect(renderManifest(original, pgOnly, 'data').map((object) => object.metadata.name)).toEqual([
      'postgres-daily-backup',
      ...(dir === SHIPPED ? ['postgres-restore-verify'] : []),
    ]);
  });
});

describe('parseManifest', () => {
  it('rejects documents that are not Kubernetes objects', () => {
    expect(() => parseManifest('kind: CronJob\n')).toThrow(/apiVersion, kind and metadata.name/);
    expect(() => parseManifest('a: [\n')).toThrow(/not valid YAML/);
    expect(
      parseManifest('---\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n'),
    ).toHaveLength(1);
  });
});

describe('cronJobStatus', () => {
  const now = new Date('2026-03-01T01:00:00Z');
  const cronjob: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'postgres-daily-backup', namespace: 'data' },
    spec: { schedule: '0 2 * * *', timeZone: 'Etc/UTC', suspend: false },
    status: {
      lastScheduleTime: new Date('2026-02-28T02:00:00Z'),
      lastSuccessfulTime: '2026-02-28T02:04:10Z',
      active: [{ kind: 'Job', name: 'postgres-daily-backup-29500000' }],
    },
  };
  const job = (name: string, created: string, status: Record<string, unknown>): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      creationTimestamp: created,
      ownerReferences: [{ kind: 'CronJob', name: 'postgres-daily-backup', controller: true }],
    },
    status,
  });

  it('reads schedule, next run, last schedule/success, active and last job', () => {
    const status = cronJobStatus(
      cronjob,
      [
        job('postgres-daily-backup-1', '2026-02-27T02:00:00Z', {
          conditions: [{ type: 'Complete', status: 'True' }],
        }),
        job('postgres-daily-backup-2', '2026-02-28T02:00:00Z', {
          conditions: [{ type: 'Failed', status: 'True' }],
        }),
        { ...job('other', '2026-02-28T03:00:00Z', {}), metadata: { name: 'other', ownerReferences: [] } },
      ],
      now,
    );
    expect(status).toEqual({
      name: 'postgres-daily-backup',
      schedule: '0 2 * * *',
      words: 'daily at 02:00 UTC',
      timeZone: 'Etc/UTC',
      nextRun: '2026-03-01T02:00:00Z',
      lastScheduleTime: '2026-02-28T02:00:00Z',
      lastSuccessfulTime: '2026-02-28T02:04:10Z',
      suspend: false,
      active: ['postgres-daily-backup-29500000'],
      lastJob: { name: 'postgres-daily-backup-2', state: 'Failed', started: '2026-02-28T02:00:00Z' },
    });
    expect(describeStatus(status, now)).toBe(
      '0 2 * * * (daily at 02:00 UTC) · next run 2026-03-01 02:00 UTC (in 1 h 0 min) · last scheduled 2026-02-28 02:00 UTC · last successful 2026-02-28 02:04 UTC · active jobs: postgres-daily-backup-29500000 · last job postgres-daily-backup-2 (Failed)',
    );
  });

  it('says SUSPENDED and has no next run when suspended', () => {
    const suspended = { ...cronjob, spec: { ...(cronjob.spec as object), suspend: true }, status: {} };
    const status = cronJobStatus(suspended, [], now);
    expect(status.nextRun).toBeUndefined();
    expect(describeStatus(status, now)).toContain('SUSPENDED');
    expect(describeStatus(status, now)).toContain('last scheduled never');
  });
});
