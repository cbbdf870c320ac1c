// Field sets, FieldsV1 and the server-side apply / update bookkeeping of the Kubernetes stand-in.
import { describe, expect, it } from 'vitest';

import { serverSideApply, trackUpdate } from '../../src/sandbox/kube/apply.js';
import { compare, FieldSet, leafSet, pathToString } from '../../src/sandbox/kube/fields.js';
import { StatusError } from '../../src/sandbox/kube/status.js';
import type { KubeObject } from '../../src/sandbox/kube/types.js';

const T = '2026-01-01T00:00:00Z';

function secret(data: Record<string, string>, labels?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's', namespace: 'data', ...(labels ? { labels } : {}) },
    data,
  };
}

const apply = (
  live: KubeObject | undefined,
  config: KubeObject,
  manager = 'db-runbook',
  force = false,
): KubeObject =>
  serverSideApply({ live, config, manager, apiVersion: 'v1', force, hasStatus: false, time: T });

describe('FieldSet', () => {
  it('encodes and decodes FieldsV1 with "." for nodes that are members themselves', () => {
    const set = FieldSet.of([['f:data'], ['f:data', 'f:A'], ['f:metadata', 'f:labels', 'f:app'], ['f:type']]);
    const encoded = set.toFieldsV1();
    expect(encoded).toEqual({
      'f:data': { '.': {}, 'f:A': {} },
      'f:metadata': { 'f:labels': { 'f:app': {} } },
      'f:type': {},
    });
    expect(Object.keys(encoded['f:data'] as object)[0]).toBe('.');
    expect(FieldSet.fromFieldsV1(encoded).paths()).toEqual(set.paths());
  });

  it('prints paths as the API server does', () => {
    expect(pathToString(['f:data', 'f:S3_BUCKET'])).toBe('.data.S3_BUCKET');
    expect(pathToString(['f:spec', 'f:containers', 'k:{"name":"backup"}', 'f:image'])).toBe(
      '.spec.containers[name="backup"].image',
    );
  });

  it('claims leaves of an applied configuration, lists whole, empty maps not at all', () => {
    const set = leafSet({ data: { A: '1' }, spec: { args: ['x'], empty: {} } });
    expect(set.paths()).toEqual([
      ['f:data', 'f:A'],
      ['f:spec', 'f:args'],
    ]);
  });

  it('compares added, modified and removed fields', () => {
    const diff = compare({ a: { x: 1, y: 2 }, gone: { deep: true } }, { a: { x: 1, y: 3 }, b: { c: 1 } });
    expect(diff.added.paths()).toEqual([['f:b'], ['f:b', 'f:c']]);
    expect(diff.modified.paths()).toEqual([['f:a', 'f:y']]);
    expect(diff.removed.paths()).toEqual([['f:gone'], ['f:gone', 'f:deep']]);
  });
});

describe('Update operations', () => {
  it('records a creator as an Update manager with "." on created maps and no server metadata', () => {
    const created = trackUpdate({
      live: undefined,
      updated: secret({ A: 'MQ==' }, { app: 'db' }),
      manager: 'kubectl-create',
      apiVersion: 'v1',
      hasStatus: false,
      endpoint: 'main',
      time: T,
    });
    expect(created.metadata.managedFields).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'v1',
        time: T,
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:data': { '.': {}, 'f:A': {} },
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
        },
      },
    ]);
  });

  it('takes changed fields away from other managers and records status writers with subresource', () => {
    const live = apply(undefined, secret({ A: 'MQ==', B: 'Mg==' }));
    const updated = trackUpdate({
      live,
      updated: { ...secret({ A: 'Mw==', B: 'Mg==' }), metadata: { ...live.metadata } },
      manager: 'editor',
      apiVersion: 'v1',
      hasStatus: false,
      endpoint: 'main',
      time: T,
    });
    const byManager = Object.fromEntries(
      (updated.metadata.managedFields ?? []).map((m) => [m.manager, m.fieldsV1]),
    );
    expect(byManager).toEqual({
      'db-runbook': { 'f:data': { 'f:B': {} } },
      editor: { 'f:data': { 'f:A': {} } },
    });

    const job: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { x: 1 },
      status: {},
    };
    const withStatus = trackUpdate({
      live: job,
      updated: { ...job, status: { active: 1 } },
      manager: 'kube-controller-manager',
      apiVersion: 'batch/v1',
      hasStatus: true,
      endpoint: 'status',
      time: T,
    });
    expect(withStatus.metadata.managedFields?.[0]).toMatchObject({
      subresource: 'status',
      fieldsV1: { 'f:status': { 'f:active': {} } },
    });
  });
});

describe('server-side apply', () => {
  it('merges into the live object and claims only what was applied', () => {
    const live = trackUpdate({
      live: undefined,
      updated: secret({ OTHER: 'eA==' }),
      manager: 'kubectl-create',
      apiVersion: 'v1',
      hasStatus: false,
      endpoint: 'main',
      time: T,
    });
    const applied = apply(live, secret({ S3_BUCKET: 'YQ==' }));
    expect(applied.data).toEqual({ OTHER: 'eA==', S3_BUCKET: 'YQ==' });
    expect(applied.metadata.managedFields?.map((m) => [m.manager, m.operation, m.fieldsV1])).toEqual([
      ['kubectl-create', 'Update', { 'f:data': { '.': {}, 'f:OTHER': {} } }],
      ['db-runbook', 'Apply', { 'f:data': { 'f:S3_BUCKET': {} } }],
    ]);
  });

  it('raises a conflict for fields another manager owns with a different value, listing all of them', () => {
    const live = trackUpdate({
      live: undefined,
      updated: secret({ A: 'eA==', B: 'eA==' }),
      manager: 'kubectl-create',
      apiVersion: 'v1',
      hasStatus: false,
      endpoint: 'main',
      time: T,
    });
    expect(() => apply(live, secret({ A: 'eA==' }))).not.toThrow();
    try {
      apply(live, secret({ A: 'eQ==', B: 'eQ==' }));
      throw new Error('expected a conflict');
    } catch (error) {
      expect(error).toBeInstanceOf(StatusError);
      const body = (error as StatusError).toBody();
      expect(body.code).toBe(409);
      expect(body.message).toBe(
        'Apply failed with 2 conflicts: conflicts with "kubectl-create" using v1:\n- .data.A\n- .data.B',
      );
      expect(body.details?.causes).toHaveLength(2);
    }
    const forced = apply(live, secret({ A: 'eQ==' }), 'db-runbook', true);
    expect(forced.metadata.managedFields?.map((m) => [m.manager, m.fieldsV1])).toEqual([
      ['kubectl-create', { 'f:data': { '.': {}, 'f:B': {} } }],
      ['db-runbook', { 'f:data': { 'f:A': {} } }],
    ]);
  });

  it('removes fields the manager no longer applies, unless another manager owns them', () => {
    const first = apply(undefined, secret({ A: 'MQ==', B: 'Mg==' }, { app: 'db', tier: 'x' }));
    const shared = apply(first, secret({ B: 'Mg==' }), 'other-applier');
    const second = apply(shared, secret({ A: 'MQ==' }, { app: 'db' }));
    expect(second.data).toEqual({ A: 'MQ==', B: 'Mg==' });
    expect(second.metadata.labels).toEqual({ app: 'db' });
    const third = apply(second, secret({ A: 'MQ==' }));
    expect(third.metadata.labels).toBeUndefined();
  });
});
