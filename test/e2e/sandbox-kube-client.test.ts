// The Kubernetes API stand-in driven by the real @kubernetes/client-node through its kubeconfig:
// discovery, CRUD verbs, Status error bodies, server-side apply and managedFields, patches, dry runs,
// authorization (403 and SelfSubjectAccessReview), authentication (401) and watches.
import { rm } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';

import {
  ApiException,
  AuthorizationV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from '@kubernetes/client-node';
import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startKubeStandIn } from '../../src/sandbox/kube/index.js';
import type { KubeStandIn } from '../../src/sandbox/kube/index.js';
import { tempDir } from '../support/temp.js';

let dir: string;
let kube: KubeStandIn;
let kc: KubeConfig;
let core: CoreV1Api;
let batch: BatchV1Api;
let objects: KubernetesObjectApi;

/** A raw HTTPS request to the stand-in, trusting its certificate from the kubeconfig. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  const ca = Buffer.from(kc.getCurrentCluster()?.caData ?? '', 'base64');
  return new Promise((resolve, reject) => {
    const req = request(`${kube.url}${path}`, { method, headers, ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The parsed Status body of a failed call. */
async function failure(call: Promise<unknown>): Promise<{ code: number; body: Record<string, unknown> }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    const body =
      typeof error.body === 'string' ? (JSON.parse(error.body) as Record<string, unknown>) : error.body;
    return { code: error.code, body: body as Record<string, unknown> };
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  dir = tempDir('kube-standin-client-');
  const started = Date.now();
  kube = await startKubeStandIn({ workDir: join(dir, 'kube') });
  console.log(`stand-in started in ${Date.now() - started} ms`);
  kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  batch = kc.makeApiClient(BatchV1Api);
  objects = KubernetesObjectApi.makeApiClient(kc);
});

afterAll(async () => {
  await kube?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('kubeconfig and discovery', () => {
  it('writes a kubeconfig with context sandbox, namespace data and a bearer token', () => {
    expect(kube.contextName).toBe('sandbox');
    expect(kc.getCurrentContext()).toBe('sandbox');
    expect(kc.getContextObject('sandbox')?.namespace).toBe('data');
    expect(kc.getCurrentUser()?.token).toMatch(/^[0-9a-f]{48}$/);
    expect(kube.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the default namespaces and resolves kinds through discovery', async () => {
    const namespaces = await core.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toEqual(['data', 'default', 'kube-system']);
    const accounts = await core.listServiceAccountForAllNamespaces();
    expect(accounts.items.map((sa) => `${sa.metadata?.namespace}/${sa.metadata?.name}`)).toEqual([
      'data/default',
      'default/default',
      'kube-system/default',
    ]);
    expect((await objects.list('batch/v1', 'CronJob', 'data')).items).toEqual([]);
    const auth = { Authorization: `Bearer ${kc.getCurrentUser()?.token ?? ''}` };
    const batchList = JSON.parse((await raw('GET', '/apis/batch/v1', auth)).body) as { resources: unknown[] };
    expect(batchList.resources).toContainEqual(
      expect.objectContaining({
        name: 'cronjobs',
        singularName: 'cronjob',
        namespaced: true,
        kind: 'CronJob',
        shortNames: ['cj'],
      }),
    );
    expect(batchList.resources).toContainEqual(
      expect.objectContaining({ name: 'jobs/status', kind: 'Job', verbs: ['get', 'patch', 'update'] }),
    );
    const groups = JSON.parse((await raw('GET', '/apis', auth)).body) as { groups: { name: string }[] };
    expect(groups.groups.map((g) => g.name)).toEqual(['batch', 'authorization.k8s.io']);
    expect(JSON.parse((await raw('GET', '/version', auth)).body)).toMatchObject({ major: '1', minor: '32' });
    await core.createNamespace({ body: { metadata: { name: 'extra' } } });
    await expect
      .poll(async () =>
        (await core.listNamespacedServiceAccount({ namespace: 'extra' })).items.map(
          (sa) => sa.metadata?.name,
        ),
      )
      .toEqual(['default']);
    const extra = await core.readNamespace({ name: 'extra' });
    expect(extra.metadata?.labels).toEqual({ 'kubernetes.io/metadata.name': 'extra' });
    expect(extra.status?.phase).toBe('Active');
  });

  it('answers 401 Unauthorized without the token', async () => {
    const anonymous = await raw('GET', '/api/v1/namespaces', {});
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    const wrong = new KubeConfig();
    wrong.loadFromOptions({
      clusters: kc.clusters,
      users: [{ name: 'sandbox-user', token: 'wrong' }],
      contexts: kc.contexts,
      currentContext: 'sandbox',
    });
    expect((await failure(wrong.makeApiClient(CoreV1Api).listNamespace())).code).toBe(401);
  });
});

describe('secrets: CRUD and Status bodies', () => {
  it('creates with defaults, folds stringData, and refuses duplicates with AlreadyExists', async () => {
    const created = await core.createNamespacedSecret({
      namespace: 'data',
      body: {
        metadata: { name: 'db-creds', labels: { app: 'db', tier: 'backend' } },
        stringData: { PASSWORD: 's3cret' },
      },
      fieldManager: 'test-suite',
    });
    expect(created.type).toBe('Opaque');
    expect(created.data).toEqual({ PASSWORD: Buffer.from('s3cret').toString('base64') });
    expect(created.stringData).toBeUndefined();
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    expect(created.metadata?.managedFields?.[0]).toMatchObject({
      manager: 'test-suite',
      operation: 'Update',
      apiVersion: 'v1',
      fieldsType: 'FieldsV1',
      fieldsV1: {
        'f:metadata': { 'f:labels': { '.': {}, 'f:app': {}, 'f:tier': {} } },
        'f:stringData': { '.': {}, 'f:PASSWORD': {} },
        'f:type': {},
      },
    });

    const { code, body } = await failure(
      core.createNamespacedSecret({ namespace: 'data', body: { metadata: { name: 'db-creds' } } }),
    );
    expect(code).toBe(409);
    expect(body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'secrets "db-creds" already exists',
      reason: 'AlreadyExists',
      details: { name: 'db-creds', kind: 'secrets' },
      code: 409,
    });
  });

  it('answers NotFound for missing objects and namespaces', async () => {
    const missing = await failure(core.readNamespacedSecret({ name: 'nope', namespace: 'data' }));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      reason: 'NotFound',
      message: 'secrets "nope" not found',
      details: { name: 'nope', kind: 'secrets' },
    });
    const job = await failure(batch.readNamespacedJob({ name: 'nope', namespace: 'data' }));
    expect(job.body).toMatchObject({
      message: 'jobs.batch "nope" not found',
      details: { name: 'nope', group: 'batch', kind: 'jobs' },
    });
    const ns = await failure(
      core.createNamespacedSecret({ namespace: 'ghost', body: { metadata: { name: 'x' } } }),
    );
    expect(ns.body).toMatchObject({
      code: 404,
      message: 'namespaces "ghost" not found',
      details: { name: 'ghost', kind: 'namespaces' },
    });
  });

  it('lists with label and field selectors', async () => {
    await core.createNamespacedSecret({
      namespace: 'data',
      body: { metadata: { name: 'other', labels: { app: 'web' } } },
    });
    const list = await core.listNamespacedSecret({
      namespace: 'data',
      labelSelector: 'app=db,tier!=frontend',
    });
    expect(list.kind).toBe('SecretList');
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(list.items.map((s) => s.metadata?.name)).toEqual(['db-creds']);
    expect((await core.listNamespacedSecret({ namespace: 'data', labelSelector: 'app' })).items).toHaveLength(
      2,
    );
    expect(
      (await core.listNamespacedSecret({ namespace: 'data', labelSelector: '!app' })).items,
    ).toHaveLength(0);
    expect(
      (await core.listNamespacedSecret({ namespace: 'data', labelSelector: 'app in (web,api)' })).items,
    ).toHaveLength(1);
    const byName = await core.listNamespacedSecret({
      namespace: 'data',
      fieldSelector: 'metadata.name=other',
    });
    expect(byName.items.map((s) => s.metadata?.name)).toEqual(['other']);
  });

  it('updates with optimistic concurrency and reports a stale resourceVersion as Conflict', async () => {
    const current = await core.readNamespacedSecret({ name: 'other', namespace: 'data' });
    const updated = await core.replaceNamespacedSecret({
      name: 'other',
      namespace: 'data',
      body: { ...current, data: { A: Buffer.from('1').toString('base64') } },
    });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(
      Number(current.metadata?.resourceVersion),
    );
    const stale = await failure(
      core.replaceNamespacedSecret({ name: 'other', namespace: 'data', body: { ...current, data: {} } }),
    );
    expect(stale.code).toBe(409);
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on secrets "other": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it('rejects invalid objects with 422 Invalid and causes, and bad base64 with 400', async () => {
    const invalid = await failure(
      core.createNamespacedSecret({ namespace: 'data', body: { metadata: { name: 'Bad_Name' } } }),
    );
    expect(invalid.code).toBe(422);
    expect(invalid.body).toMatchObject({
      reason: 'Invalid',
      details: {
        name: 'Bad_Name',
        kind: 'Secret',
        causes: [{ reason: 'FieldValueInvalid', field: 'metadata.name' }],
      },
    });
    expect(String(invalid.body.message)).toMatch(
      /^Secret "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    const base64 = await failure(
      core.createNamespacedSecret({
        namespace: 'data',
        body: { metadata: { name: 'b64' }, data: { K: 'not base64!' } } as V1Secret,
      }),
    );
    expect(base64.code).toBe(400);
    expect(base64.body).toMatchObject({
      reason: 'BadRequest',
      message: 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3',
    });
  });

  it('patches with merge patch and JSON patch', async () => {
    const merged = await core.patchNamespacedSecret(
      { name: 'other', namespace: 'data', body: { metadata: { labels: { app: null, patched: 'yes' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ patched: 'yes' });
    const jsonPatched = await core.patchNamespacedSecret(
      {
        name: 'other',
        namespace: 'data',
        body: [{ op: 'add', path: '/metadata/annotations', value: { note: 'x' } }],
      },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.metadata?.annotations).toEqual({ note: 'x' });
  });

  it('honours dryRun=All on every write', async () => {
    const created = await core.createNamespacedSecret({
      namespace: 'data',
      body: { metadata: { name: 'dry' } },
      dryRun: 'All',
    });
    expect(created.metadata?.name).toBe('dry');
    await failure(core.readNamespacedSecret({ name: 'dry', namespace: 'data' }));
    await core.deleteNamespacedSecret({ name: 'other', namespace: 'data', dryRun: 'All' });
    expect((await core.readNamespacedSecret({ name: 'other', namespace: 'data' })).metadata?.name).toBe(
      'other',
    );
  });

  it('deletes with a Success Status', async () => {
    const status = await core.deleteNamespacedSecret({ name: 'other', namespace: 'data' });
    expect(status).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'other', kind: 'secrets' },
    });
    expect((await failure(core.deleteNamespacedSecret({ name: 'other', namespace: 'data' }))).code).toBe(404);
  });
});

describe('server-side apply', () => {
  const configMap = (
    data: Record<string, string>,
    labels?: Record<string, string>,
  ): KubernetesObject & { data: Record<string, string> } => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: 'data', ...(labels ? { labels } : {}) },
    data,
  });

  it('creates, then updates, recording an Apply manager with FieldsV1', async () => {
    const first = await objects.patch(
      configMap({ S3_BUCKET: 'a', REGION: 'eu' }, { app: 'db' }),
      undefined,
      undefined,
      'db-runbook',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    expect(first.metadata?.managedFields).toEqual([
      expect.objectContaining({
        manager: 'db-runbook',
        operation: 'Apply',
        apiVersion: 'v1',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:data': { 'f:REGION': {}, 'f:S3_BUCKET': {} },
          'f:metadata': { 'f:labels': { 'f:app': {} } },
        },
      }),
    ]);
    const request = kube.requests.at(-1);
    expect(request).toMatchObject({
      method: 'PATCH',
      path: '/api/v1/namespaces/data/configmaps/settings',
      contentType: 'application/apply-patch+yaml',
      fieldManager: 'db-runbook',
      status: 201,
    });
    const again = await objects.patch(
      configMap({ S3_BUCKET: 'a', REGION: 'eu' }, { app: 'db' }),
      undefined,
      undefined,
      'db-runbook',
      undefined,
      PatchStrategy.ServerSideApply,
    );
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    expect(kube.requests.at(-1)?.status).toBe(200);
  });

  it('removes fields the manager stops applying', async () => {
    const applied = (await objects.patch(
      configMap({ S3_BUCKET: 'a' }),
      undefined,
      undefined,
      'db-runbook',
      undefined,
      PatchStrategy.ServerSideApply,
    )) as ReturnType<typeof configMap>;
    expect(applied.data).toEqual({ S3_BUCKET: 'a' });
    expect(applied.metadata?.labels).toBeUndefined();
  });

  it('reports conflicts with another manager, and force transfers ownership', async () => {
    await core.patchNamespacedConfigMap(
      {
        name: 'settings',
        namespace: 'data',
        body: { data: { S3_BUCKET: 'manual' } },
        fieldManager: 'kubectl-edit',
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const { code, body } = await failure(
      objects.patch(
        configMap({ S3_BUCKET: 'a' }),
        undefined,
        undefined,
        'db-runbook',
        undefined,
        PatchStrategy.ServerSideApply,
      ),
    );
    expect(code).toBe(409);
    expect(body).toMatchObject({
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.S3_BUCKET',
      details: {
        causes: [
          {
            reason: 'FieldManagerConflict',
            message: 'conflict with "kubectl-edit" using v1',
            field: '.data.S3_BUCKET',
          },
        ],
      },
    });
    const forced = (await objects.patch(
      configMap({ S3_BUCKET: 'a' }),
      undefined,
      undefined,
      'db-runbook',
      true,
      PatchStrategy.ServerSideApply,
    )) as ReturnType<typeof configMap>;
    expect(forced.data.S3_BUCKET).toBe('a');
    expect(forced.metadata?.managedFields?.map((m) => m.manager)).toEqual(['db-runbook']);
  });

  it('accepts YAML bodies and needs a fieldManager', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {S3_BUCKET: a}\n';
    const headers = {
      'Content-Type': 'application/apply-patch+yaml',
      Authorization: `Bearer ${kc.getCurrentUser()?.token ?? ''}`,
    };
    const path = '/api/v1/namespaces/data/configmaps/settings';
    const ok = await raw('PATCH', `${path}?fieldManager=db-runbook`, headers, yaml);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).data).toEqual({ S3_BUCKET: 'a' });
    const missing = await raw('PATCH', path, headers, yaml);
    expect(missing.status).toBe(422);
    expect(JSON.parse(missing.body).message).toBe(
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    );
    const malformed = await raw(
      'POST',
      '/api/v1/namespaces/data/configmaps',
      { ...headers, 'Content-Type': 'application/json' },
      '{',
    );
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.body)).toMatchObject({ reason: 'BadRequest', code: 400 });
  });
});

describe('authorization', () => {
  it('answers SelfSubjectAccessReview and refuses denied requests with 403', async () => {
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const ask = async (verb: string, resource: string, group = '') =>
      (
        await authz.createSelfSubjectAccessReview({
          body: { spec: { resourceAttributes: { namespace: 'data', verb, group, resource } } },
        })
      ).status?.allowed;
    expect(await ask('create', 'secrets')).toBe(true);
    kube.deny({ verb: 'create', resource: 'secrets', group: '', namespace: 'data' });
    kube.deny({ verb: '*', resource: 'cronjobs', group: 'batch' });
    expect(await ask('create', 'secrets')).toBe(false);
    expect(await ask('get', 'secrets')).toBe(true);
    expect(await ask('patch', 'cronjobs', 'batch')).toBe(false);

    const refused = await failure(
      core.createNamespacedSecret({ namespace: 'data', body: { metadata: { name: 'denied' } } }),
    );
    expect(refused.code).toBe(403);
    expect(refused.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        'secrets is forbidden: User "sandbox-user" cannot create resource "secrets" in API group "" in the namespace "data"',
      reason: 'Forbidden',
      details: { kind: 'secrets' },
      code: 403,
    });
    const named = await failure(batch.readNamespacedCronJob({ name: 'x', namespace: 'data' }));
    expect(named.body.message).toBe(
      'cronjobs.batch "x" is forbidden: User "sandbox-user" cannot get resource "cronjobs" in API group "batch" in the namespace "data"',
    );

    kube.allow({ verb: 'create', resource: 'secrets', group: '', namespace: 'data' });
    kube.allow({ verb: '*', resource: 'cronjobs', group: 'batch' });
    expect(await ask('create', 'secrets')).toBe(true);
  });

  it('requires create as well as patch for a server-side apply that creates', async () => {
    kube.deny({ verb: 'create', resource: 'configmaps' });
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'fresh', namespace: 'data' },
      data: { a: 'b' },
    };
    const refused = await failure(
      objects.patch(cm, undefined, undefined, 'db-runbook', undefined, PatchStrategy.ServerSideApply),
    );
    expect(refused.body.message).toBe(
      'configmaps "fresh" is forbidden: User "sandbox-user" cannot create resource "configmaps" in API group "" in the namespace "data"',
    );
    kube.allow({ verb: 'create', resource: 'configmaps' });
    await objects.patch(cm, undefined, undefined, 'db-runbook', undefined, PatchStrategy.ServerSideApply);
  });
});

describe('watch', () => {
  it('streams ADDED and MODIFIED events', async () => {
    const seen: string[] = [];
    const watch = new Watch(kc);
    const controller = await watch.watch(
      '/api/v1/namespaces/data/configmaps',
      { fieldSelector: 'metadata.name=watched' },
      (type: string, obj: KubernetesObject) => seen.push(`${type} ${obj.metadata?.name ?? ''}`),
      () => undefined,
    );
    await core.createNamespacedConfigMap({
      namespace: 'data',
      body: { metadata: { name: 'watched' }, data: { a: '1' } },
    });
    await core.replaceNamespacedConfigMap({
      name: 'watched',
      namespace: 'data',
      body: { metadata: { name: 'watched' }, data: { a: '2' } },
    });
    await expect.poll(() => seen, { timeout: 5000 }).toEqual(['ADDED watched', 'MODIFIED watched']);
    controller.abort();
  });
});
