/**
 * Per-resource behaviour of the registry, after the API server's strategies: decoding checks (400),
 * defaulting, and what create/update set or keep (uid, creationTimestamp, generation, status, the Job
 * selector and template labels, Secret stringData folded into data).
 */

import { randomUUID } from 'node:crypto';

import type { ResourceDef } from './resources.js';
import { badRequest } from './status.js';
import { asArray, clone, deepEqual, dig, ensureObject, isPlainObject, nowIso } from './types.js';
import type { JsonObject, KubeObject } from './types.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function base64Problem(text: string): string | undefined {
  const bad = [...text].findIndex((ch) => !/[A-Za-z0-9+/=]/.test(ch));
  if (bad >= 0) return `illegal base64 data at input byte ${bad}`;
  if (!BASE64.test(text) || text.length % 4 !== 0) {
    return `illegal base64 data at input byte ${text.length - (text.length % 4 || 4)}`;
  }
  return undefined;
}

function cannotHandle(def: ResourceDef, problem: string): Error {
  return badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${problem}`);
}

function goType(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'object' : typeof value;
}

function checkStringMap(def: ResourceDef, map: unknown, goField: string, goValueType: string): void {
  if (map === undefined || map === null) return;
  if (!isPlainObject(map)) {
    throw cannotHandle(
      def,
      `json: cannot unmarshal ${goType(map)} into Go struct field ${goField} of type map[string]${goValueType}`,
    );
  }
  for (const value of Object.values(map)) {
    if (typeof value !== 'string' && value !== null) {
      throw cannotHandle(
        def,
        `json: cannot unmarshal ${goType(value)} into Go struct field ${goField} of type ${goValueType}`,
      );
    }
  }
}

/** What JSON decoding into the Go types would reject: wrong value types, bad base64. Throws 400. */
export function checkDecodable(def: ResourceDef, obj: KubeObject): void {
  if (!isPlainObject(obj.metadata))
    throw cannotHandle(def, 'json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta');
  checkStringMap(def, obj.metadata.labels, 'ObjectMeta.metadata.labels', 'string');
  checkStringMap(def, obj.metadata.annotations, 'ObjectMeta.metadata.annotations', 'string');
  const binaryField =
    def.plural === 'secrets' ? 'data' : def.plural === 'configmaps' ? 'binaryData' : undefined;
  if (binaryField) {
    checkStringMap(def, obj[binaryField], `${def.kind}.${binaryField}`, '[]uint8');
    for (const value of Object.values(isPlainObject(obj[binaryField]) ? obj[binaryField] : {})) {
      const problem = typeof value === 'string' ? base64Problem(value) : undefined;
      if (problem) throw cannotHandle(def, problem);
    }
  }
  if (def.plural === 'secrets') checkStringMap(def, obj.stringData, 'Secret.stringData', 'string');
  if (def.plural === 'configmaps') checkStringMap(def, obj.data, 'ConfigMap.data', 'string');
}

function containerDefaults(container: unknown): void {
  if (!isPlainObject(container)) return;
  const image = typeof container.image === 'string' ? container.image : '';
  const tagged = /:[^/]+$/.test(image.split('@')[0] ?? '') && !image.endsWith(':latest');
  container.imagePullPolicy ??= tagged || image.includes('@') ? 'IfNotPresent' : 'Always';
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  container.resources ??= {};
}

function podSpecDefaults(spec: unknown): void {
  if (!isPlainObject(spec)) return;
  spec.restartPolicy ??= 'Always';
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  asArray(spec.containers).forEach(containerDefaults);
  asArray(spec.initContainers).forEach(containerDefaults);
  for (const volume of asArray(spec.volumes)) {
    for (const source of ['configMap', 'secret']) {
      const v = dig(volume, source);
      if (isPlainObject(v)) v.defaultMode ??= 420;
    }
  }
}

/** SetDefaults_* for the fields the product reads back. */
export function setDefaults(def: ResourceDef, obj: KubeObject): void {
  switch (def.plural) {
    case 'secrets':
      obj.type ??= 'Opaque';
      break;
    case 'namespaces':
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.metadata.labels = {
        ...obj.metadata.labels,
        'kubernetes.io/metadata.name': obj.metadata.name ?? '',
      };
      break;
    case 'pods':
      podSpecDefaults(obj.spec);
      break;
    case 'jobs': {
      const spec = isPlainObject(obj.spec) ? obj.spec : (obj.spec = {});
      spec.backoffLimit ??= 6;
      spec.completions ??= 1;
      spec.parallelism ??= 1;
      spec.completionMode ??= 'NonIndexed';
      spec.suspend ??= false;
      spec.podReplacementPolicy ??= 'TerminatingOrFailed';
      podSpecDefaults(dig(spec, 'template', 'spec'));
      break;
    }
    case 'cronjobs': {
      const spec = isPlainObject(obj.spec) ? obj.spec : (obj.spec = {});
      spec.concurrencyPolicy ??= 'Allow';
      spec.suspend ??= false;
      spec.successfulJobsHistoryLimit ??= 3;
      spec.failedJobsHistoryLimit ??= 1;
      podSpecDefaults(dig(spec, 'jobTemplate', 'spec', 'template', 'spec'));
      break;
    }
  }
}

/** Secret stringData is write-only: folded into data (base64), stringData wins on the same key. */
function foldStringData(obj: KubeObject): void {
  if (!isPlainObject(obj.stringData)) {
    delete obj.stringData;
    return;
  }
  const data = isPlainObject(obj.data) ? obj.data : (obj.data = {});
  for (const [key, value] of Object.entries(obj.stringData)) {
    data[key] = Buffer.from(String(value ?? ''), 'utf8').toString('base64');
  }
  delete obj.stringData;
}

function initialStatus(def: ResourceDef): JsonObject | undefined {
  switch (def.plural) {
    case 'namespaces':
      return { phase: 'Active' };
    case 'pods':
      return { phase: 'Pending', qosClass: 'BestEffort' };
    case 'jobs':
    case 'cronjobs':
      return {};
    default:
      return undefined;
  }
}

function addJobSelector(obj: KubeObject): void {
  const uid = obj.metadata.uid ?? '';
  const name = obj.metadata.name ?? '';
  const spec = ensureObject(obj as JsonObject, 'spec');
  if (spec.manualSelector !== true) {
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  }
  const labels = ensureObject(spec, 'template', 'metadata', 'labels') as Record<string, string>;
  labels['batch.kubernetes.io/controller-uid'] = uid;
  labels['batch.kubernetes.io/job-name'] = name;
  labels['controller-uid'] = uid;
  labels['job-name'] = name;
}

/** PrepareForCreate + BeforeCreate: identity, timestamps, generation, reset status. */
export function prepareForCreate(def: ResourceDef, obj: KubeObject): void {
  const meta = obj.metadata;
  meta.uid = randomUUID();
  meta.creationTimestamp = nowIso();
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  if (def.hasGeneration) meta.generation = 1;
  else delete meta.generation;
  if (def.hasStatus) {
    const status = initialStatus(def);
    if (status) obj.status = status;
    else delete obj.status;
  }
  if (def.plural === 'secrets') foldStringData(obj);
  if (def.plural === 'jobs') addJobSelector(obj);
}

/** PrepareForUpdate: what an update of the main endpoint may not change. */
export function prepareForUpdate(def: ResourceDef, obj: KubeObject, old: KubeObject): void {
  const meta = obj.metadata;
  meta.uid = old.metadata.uid;
  meta.creationTimestamp = old.metadata.creationTimestamp;
  if (old.metadata.deletionTimestamp) meta.deletionTimestamp = old.metadata.deletionTimestamp;
  else delete meta.deletionTimestamp;
  if (def.hasStatus) {
    if (old.status === undefined) delete obj.status;
    else obj.status = clone(old.status);
  }
  if (def.plural === 'secrets') foldStringData(obj);
  if (def.plural === 'jobs') {
    const spec = ensureObject(obj as JsonObject, 'spec');
    const oldSelector = dig(old, 'spec', 'selector');
    if (oldSelector !== undefined) spec.selector = clone(oldSelector);
    const oldLabels = dig(old, 'spec', 'template', 'metadata', 'labels');
    if (isPlainObject(oldLabels)) {
      const labels = ensureObject(spec, 'template', 'metadata', 'labels');
      for (const key of [
        'batch.kubernetes.io/controller-uid',
        'batch.kubernetes.io/job-name',
        'controller-uid',
        'job-name',
      ]) {
        if (typeof oldLabels[key] === 'string') labels[key] = oldLabels[key];
      }
    }
  }
  if (def.hasGeneration) {
    const generation = typeof old.metadata.generation === 'number' ? old.metadata.generation : 1;
    meta.generation = deepEqual(obj.spec, old.spec) ? generation : generation + 1;
  } else {
    delete meta.generation;
  }
}

/** PrepareForUpdate of the /status endpoint: only status (and metadata labels/annotations) change. */
export function prepareForStatusUpdate(obj: KubeObject, old: KubeObject): KubeObject {
  const next = clone(old);
  if (obj.status === undefined) delete next.status;
  else next.status = clone(obj.status);
  next.metadata.managedFields = obj.metadata.managedFields;
  return next;
}
