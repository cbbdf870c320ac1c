// deploy and the postgres-restore-verify CronJob (issue 19): on by default with the PostgreSQL backup, left out by
// `restoreVerify: false` or when PostgreSQL is not in scope, scheduled by `restoreVerifySchedule`.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveValues } from '../../src/runbook/values.js';
import { packageRoot } from '../../src/adapters/backup-jobs-files.js';
import { readManifest } from '../../src/steps/deploy/index.js';
import { renderManifest, RESTORE_VERIFY_CRONJOBS } from '../../src/runbook/cronjob-manifest.js';
const POSTGRES_VERIFY = RESTORE_VERIFY_CRONJOBS[0]!.name;

const manifest = readManifest(join(packageRoot(), 'ops/db/backup-jobs'));
const names = (env: Record<string, string>, settings = {}) =>
  renderManifest(manifest, resolveValues({ env }).values, 'data', settings).map((o) => o.metadata.name);

describe('deploy: the restore-verify CronJob', () => {
  it('is deployed beside the PostgreSQL backup by default, daily at 06:00 UTC, running postgres-verify.sh', () => {
    expect(names({})).toContain(POSTGRES_VERIFY);
    const job = renderManifest(manifest, resolveValues({ env: {} }).values, 'data').find(
      (o) => o.metadata.name === POSTGRES_VERIFY,
    )!;
    const spec = job.spec as {
      schedule: string;
      concurrencyPolicy: string;
      jobTemplate: {
        spec: {
          backoffLimit: number;
          activeDeadlineSeconds: number;
          template: { spec: { containers: { command: string[] }[] } };
        };
      };
    };
    expect(spec.schedule).toBe('0 6 * * *');
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(spec.jobTemplate.spec.backoffLimit).toBeLessThanOrEqual(1);
    expect(spec.jobTemplate.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(spec.jobTemplate.spec.template.spec.containers[0]!.command.join(' ')).toContain(
      'exec bash /scripts/postgres-verify.sh',
    );
  });

  it('is left out with restoreVerify: false, or when only Neo4j is in scope', () => {
    expect(names({}, { restoreVerify: false })).not.toContain(POSTGRES_VERIFY);
    expect(names({ DATABASES: 'neo4j' })).not.toContain(POSTGRES_VERIFY);
    expect(names({}, { restoreVerify: false })).toContain('postgres-daily-backup');
  });

  it('takes its schedule from restoreVerifySchedule', () => {
    const job = renderManifest(manifest, resolveValues({ env: {} }).values, 'data', {
      restoreVerifySchedule: '30 7 * * *',
    }).find((o) => o.metadata.name === POSTGRES_VERIFY)!;
    expect((job.spec as { schedule: string }).schedule).toBe('30 7 * * *');
  });
});

describe('deploy: the neo4j-restore-verify CronJob', () => {
  const NEO4J_VERIFY = RESTORE_VERIFY_CRONJOBS.find((job) => job.database === 'neo4j')!.name;
  type Pod = {
    automountServiceAccountToken: boolean;
    terminationGracePeriodSeconds: number;
    containers: {
      command: string[];
      env: { name: string; value?: string }[];
      envFrom: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
    }[];
    volumes: {
      name: string;
      persistentVolumeClaim?: unknown;
      configMap?: { name: string; optional?: boolean };
    }[];
  };
  const rendered = (env: Record<string, string> = {}) =>
    renderManifest(manifest, resolveValues({ env }).values, 'data').find(
      (o) => o.metadata.name === NEO4J_VERIFY,
    );

  it('is deployed beside the Neo4j backup by default, daily after the backups, Forbid, one retry, a deadline, running neo4j-verify.sh', () => {
    const spec = rendered()!.spec as {
      schedule: string;
      concurrencyPolicy: string;
      jobTemplate: { spec: { backoffLimit: number; activeDeadlineSeconds: number; template: { spec: Pod } } };
    };
    expect(spec.schedule).toBe('30 6 * * *');
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(spec.jobTemplate.spec.backoffLimit).toBe(1);
    expect(spec.jobTemplate.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    const pod = spec.jobTemplate.spec.template.spec;
    expect(pod.containers[0]!.command.join(' ')).toContain('exec bash /scripts/neo4j-verify.sh');
    // isolated: no credentials of the production Neo4j, no claim of its store, no API token
    expect(pod.containers[0]!.envFrom.map((source) => source.secretRef?.name).filter(Boolean)).toEqual([
      'database-backup-storage',
    ]);
    expect(pod.volumes.some((volume) => volume.persistentVolumeClaim !== undefined)).toBe(false);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(60);
    expect(pod.volumes.find((volume) => volume.name === 'smoke-queries')?.configMap).toEqual({
      name: 'db-runbook-smoke-queries',
      optional: true,
    });
  });

  it('is left out with restoreVerify: false, or when only PostgreSQL is in scope', () => {
    expect(names({})).toContain(NEO4J_VERIFY);
    expect(names({}, { restoreVerify: false })).not.toContain(NEO4J_VERIFY);
    expect(names({ DATABASES: 'postgres' })).not.toContain(NEO4J_VERIFY);
  });
});
