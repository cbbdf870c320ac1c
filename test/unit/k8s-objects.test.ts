import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/adapters/types.js';
import {
  configMapFrom,
  describeConflicts,
  describeDiff,
  diffObject,
  keyProblem,
  managersInConflictMessage,
  MANAGED_BY_LABEL,
  secretFromLiterals,
  serviceAccount,
} from '../../src/runbook/k8s-objects.js';
import { tempDir } from '../support/temp.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

function kubectlAvailable(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function kubectlJson(args: string[]): KubeObject {
  const out = execFileSync('kubectl', [...args, '--dry-run=client', '-o', 'json'], { encoding: 'utf8' });
  return JSON.parse(out) as KubeObject;
}

/** What kubectl prints, plus the label db-runbook adds and the type the API server defaults. */
function asApplied(object: KubeObject, withType: boolean): KubeObject {
  const { creationTimestamp: _ts, ...metadata } = object.metadata;
  return {
    ...object,
    metadata: { ...metadata, labels: { ...(metadata.labels ?? {}), [MANAGED_BY_LABEL]: 'db-runbook' } },
    ...(withType ? { type: 'Opaque' } : {}),
  };
}

describe('object builders', () => {
  it('build a Secret like kubectl create secret generic --from-literal', () => {
    const secret = secretFromLiterals('database-backup-storage', 'data', [
      ['S3_BUCKET', 'acme-db-backups'],
      ['AWS_SECRET_ACCESS_KEY', 'p@ss=w0rd with spaces/ünï'],
    ]);
    expect(secret).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'database-backup-storage',
        namespace: 'data',
        labels: { 'app.kubernetes.io/managed-by': 'db-runbook' },
      },
      type: 'Opaque',
      data: { S3_BUCKET: b64('acme-db-backups'), AWS_SECRET_ACCESS_KEY: b64('p@ss=w0rd with spaces/ünï') },
    });
  });

  it('build ConfigMaps from literals and files (binary files go to binaryData)', () => {
    const cm = configMapFrom('database-backup-scripts', 'data', {
      files: [
        { key: 'a.sh', content: '#!/bin/sh\necho ä\n' },
        { key: 'blob.bin', content: Buffer.from([0xff, 0xfe, 0x00]) },
      ],
      literals: [['X', 'y']],
    });
    expect(cm.data).toEqual({ X: 'y', 'a.sh': '#!/bin/sh\necho ä\n' });
    expect(cm.binaryData).toEqual({ 'blob.bin': Buffer.from([0xff, 0xfe, 0x00]).toString('base64') });
    expect(configMapFrom('empty', 'data', {}).data).toEqual({});
    expect(serviceAccount('database-backup', 'data')).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'database-backup', namespace: 'data', labels: { [MANAGED_BY_LABEL]: 'db-runbook' } },
    });
  });

  it('reject keys and duplicates kubectl rejects', () => {
    expect(keyProblem('POSTGRES_HOST')).toBeUndefined();
    expect(keyProblem('postgres-backup.sh')).toBeUndefined();
    expect(keyProblem('a b')).toMatch(/may contain only/);
    expect(keyProblem('..x')).toMatch(/must not/);
    expect(() =>
      secretFromLiterals('s', 'data', [
        ['A', '1'],
        ['A', '2'],
      ]),
    ).toThrow(/another key by that name/);
  });

  it.skipIf(!kubectlAvailable())(
    'match kubectl --dry-run=client output byte for byte (plus label and type)',
    () => {
      const password = `it's "quoted" $HOME \\ ünï`;
      const secret = secretFromLiterals('postgres-backup-credentials', 'data', [
        ['POSTGRES_HOST', 'pg.data.svc'],
        ['POSTGRES_PASSWORD', password],
      ]);
      const fromKubectl = kubectlJson([
        'create',
        'secret',
        'generic',
        'postgres-backup-credentials',
        '--namespace',
        'data',
        '--from-literal=POSTGRES_HOST=pg.data.svc',
        `--from-literal=POSTGRES_PASSWORD=${password}`,
      ]);
      expect(secret).toEqual(asApplied(fromKubectl, true));

      const dir = tempDir('k8s-objects-');
      const script = '#!/usr/bin/env bash\nset -euo pipefail\necho "ünïcode"\n';
      writeFileSync(join(dir, 'postgres-backup.sh'), script);
      writeFileSync(join(dir, 'blob.bin'), Buffer.from([0xff, 0x00, 0x81]));
      const cm = configMapFrom('database-backup-scripts', 'data', {
        files: [
          { key: 'postgres-backup.sh', content: Buffer.from(script) },
          { key: 'blob.bin', content: Buffer.from([0xff, 0x00, 0x81]) },
        ],
      });
      const cmKubectl = kubectlJson([
        'create',
        'configmap',
        'database-backup-scripts',
        '--namespace',
        'data',
        `--from-file=postgres-backup.sh=${join(dir, 'postgres-backup.sh')}`,
        `--from-file=blob.bin=${join(dir, 'blob.bin')}`,
      ]);
      expect(cm).toEqual(asApplied(cmKubectl, false));
    },
  );
});

function live(
  object: KubeObject,
  managedFields: NonNullable<KubeObject['metadata']['managedFields']>,
): KubeObject {
  return {
    ...structuredClone(object),
    metadata: { ...structuredClone(object.metadata), uid: 'u1', resourceVersion: '7', managedFields },
  };
}

const ourFields = (keys: string[]) => ({
  manager: 'db-runbook',
  operation: 'Apply',
  fieldsV1: {
    'f:data': Object.fromEntries(keys.map((key) => [`f:${key}`, {}])),
    'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/managed-by': {} } },
    'f:type': {},
  },
});

describe('diffObject', () => {
  const desired = secretFromLiterals('database-backup-storage', 'data', [
    ['S3_BUCKET', 'b'],
    ['AWS_SECRET_ACCESS_KEY', 'new-secret'],
  ]);

  it('create when there is no live object', () => {
    const diff = diffObject(desired, undefined);
    expect(diff.action).toBe('create');
    expect(describeDiff(diff)).toBe('create (keys S3_BUCKET, AWS_SECRET_ACCESS_KEY)');
  });

  it('unchanged when the live object carries the same data (server additions ignored)', () => {
    const same = live(desired, [ourFields(['S3_BUCKET', 'AWS_SECRET_ACCESS_KEY'])]);
    same.metadata.creationTimestamp = '2025-01-01T00:00:00Z';
    const diff = diffObject(desired, same);
    expect(diff.action).toBe('unchanged');
    expect(describeDiff(diff)).toBe('unchanged');
    expect(diff.conflicts).toEqual([]);
  });

  it('update names changed keys, never values', () => {
    const old = live(
      secretFromLiterals('database-backup-storage', 'data', [
        ['S3_BUCKET', 'b'],
        ['AWS_SECRET_ACCESS_KEY', 'old-secret'],
        ['AWS_ENDPOINT_URL', 'http://minio:9000'],
      ]),
      [ourFields(['S3_BUCKET', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL'])],
    );
    const diff = diffObject(desired, old);
    expect(diff.action).toBe('update');
    expect(diff.changedKeys).toEqual(['AWS_SECRET_ACCESS_KEY']);
    expect(diff.removedKeys).toEqual(['AWS_ENDPOINT_URL']);
    const line = describeDiff(diff);
    expect(line).toBe('update: keys AWS_SECRET_ACCESS_KEY; removes keys AWS_ENDPOINT_URL');
    expect(line).not.toContain('secret-');
    expect(JSON.stringify(diff)).not.toMatch(/old-secret|new-secret|bmV3|b2xk/);
  });

  it('keeps keys someone else added, and reports the missing label as an update', () => {
    const theirs = live(
      {
        ...desired,
        metadata: { name: desired.metadata.name, namespace: 'data' },
        data: { ...(desired.data as object), EXTRA: b64('x') },
      },
      [
        {
          manager: 'kubectl-create',
          operation: 'Update',
          fieldsV1: {
            'f:data': { '.': {}, 'f:S3_BUCKET': {}, 'f:AWS_SECRET_ACCESS_KEY': {}, 'f:EXTRA': {} },
            'f:type': {},
          },
        },
      ],
    );
    const diff = diffObject(desired, theirs);
    expect(diff.action).toBe('update');
    expect(diff.keptKeys).toEqual(['EXTRA']);
    expect(describeDiff(diff)).toBe('update: label app.kubernetes.io/managed-by');
    expect(diff.otherManagers).toEqual(['kubectl-create (Update)']);
    expect(diff.conflicts).toEqual([]); // same values: shared ownership, no force needed
  });

  it('reports a conflict when another manager owns a field the apply changes', () => {
    const theirs = live(
      secretFromLiterals('database-backup-storage', 'data', [
        ['S3_BUCKET', 'other-bucket'],
        ['AWS_SECRET_ACCESS_KEY', 'new-secret'],
      ]),
      [
        ourFields(['AWS_SECRET_ACCESS_KEY']),
        {
          manager: 'helm',
          operation: 'Update',
          fieldsV1: {
            'f:data': { 'f:S3_BUCKET': {} },
            'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/managed-by': {} } },
          },
        },
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          subresource: 'status',
          fieldsV1: { 'f:status': {} },
        } as never,
      ],
    );
    theirs.metadata.labels = { [MANAGED_BY_LABEL]: 'Helm' };
    const diff = diffObject(desired, theirs);
    expect(diff.changedKeys).toEqual(['S3_BUCKET']);
    expect(diff.changedLabels).toEqual([MANAGED_BY_LABEL]);
    expect(diff.conflicts).toEqual([
      {
        manager: 'helm',
        operation: 'Update',
        fields: ['data.S3_BUCKET', `metadata.labels.${MANAGED_BY_LABEL}`],
      },
    ]);
    expect(describeConflicts(diff)).toBe(
      'helm (Update) owns data.S3_BUCKET, metadata.labels.app.kubernetes.io/managed-by',
    );
  });

  it('compares other kinds by containment: server defaults are not changes', () => {
    const cronjob: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'postgres-daily-backup', namespace: 'data' },
      spec: {
        schedule: '0 2 * * *',
        jobTemplate: {
          spec: { template: { spec: { containers: [{ name: 'backup', image: 'postgres:15' }] } } },
        },
      },
    };
    const liveCron = live(cronjob, [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        fieldsV1: { 'f:spec': { 'f:schedule': {} } },
      },
    ]);
    const spec = liveCron.spec as Record<string, unknown>;
    spec.suspend = false;
    (
      (spec.jobTemplate as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } }).spec
        .template.spec.containers[0] as Record<string, unknown>
    ).imagePullPolicy = 'IfNotPresent';
    expect(diffObject(cronjob, liveCron).action).toBe('unchanged');
    const changed = structuredClone(cronjob);
    (changed.spec as Record<string, unknown>).schedule = '0 3 * * *';
    const diff = diffObject(changed, liveCron);
    expect(describeDiff(diff)).toBe('update: fields spec.schedule');
    expect(diff.conflicts).toEqual([
      { manager: 'kubectl-client-side-apply', operation: 'Update', fields: ['spec.schedule'] },
    ]);
  });
});

describe('managersInConflictMessage', () => {
  it('reads the managers an API Conflict names', () => {
    expect(
      managersInConflictMessage(
        'Apply failed with 2 conflicts: conflict with "kubectl-edit" using v1: .data.A\nconflict with "helm" using v1: .data.B',
      ),
    ).toEqual(['kubectl-edit', 'helm']);
  });
});
