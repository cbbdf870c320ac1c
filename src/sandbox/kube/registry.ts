/**
 * The verbs (get, list, create, update, patch, delete, deletecollection) over the store, independent of
 * HTTP: body checks, defaulting, managedFields, validation, preconditions, dry runs and garbage
 * collection by ownerReference. Controllers use the same registry for their writes.
 */

import { randomBytes } from 'node:crypto';

import { serverSideApply, trackUpdate } from './apply.js';
import type { Endpoint } from './apply.js';
import { jsonPatch, mergePatch } from './patch.js';
import { groupVersion, mustResource } from './resources.js';
import type { ResourceDef } from './resources.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';
import {
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  MODIFIED_CONFLICT,
  notFound,
  StatusError,
} from './status.js';
import {
  checkDecodable,
  prepareForCreate,
  prepareForStatusUpdate,
  prepareForUpdate,
  setDefaults,
} from './strategy.js';
import type { Store } from './store.js';
import { clone, deepEqual, isPlainObject, nowIso } from './types.js';
import type { JsonObject, KubeObject } from './types.js';
import { validateObject } from './validate.js';

export const PATCH_TYPES = {
  apply: 'application/apply-patch+yaml',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager: string;
  subresource?: string;
}

export interface PatchOptions extends WriteOptions {
  force?: boolean;
  /** Called before a server-side apply creates the object: throws 403 when `create` is denied. */
  authorizeCreate?: () => void;
}

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WriteResult {
  object: KubeObject;
  created: boolean;
}

const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The 5-character suffix the API server appends to generateName. */
export function randomSuffix(length = 5): string {
  return [...randomBytes(length)].map((b) => NAME_SUFFIX_ALPHABET[b % NAME_SUFFIX_ALPHABET.length]).join('');
}

function gr(def: ResourceDef): { group: string; resource: string } {
  return { group: def.group, resource: def.plural };
}

function sameContent(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject): KubeObject => ({ ...o, metadata: { ...o.metadata, resourceVersion: '' } });
  return deepEqual(strip(a), strip(b));
}

export class Registry {
  constructor(readonly store: Store) {}

  get(def: ResourceDef, namespace: string, name: string): KubeObject {
    const found = this.store.get(def, namespace, name);
    if (!found) throw notFound(gr(def), name);
    return found;
  }

  list(def: ResourceDef, namespace: string, options: ListOptions = {}): KubeObject {
    const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : [];
    const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : [];
    const items = this.store
      .list(def, namespace)
      .filter((o) => matchesLabels(o.metadata.labels, labels) && matchesFields(o, fields))
      .map(({ apiVersion: _a, kind: _k, ...rest }) => rest as KubeObject);
    return {
      kind: `${def.kind}List`,
      apiVersion: groupVersion(def),
      metadata: { resourceVersion: this.store.resourceVersion },
      items,
    };
  }

  private checkIdentity(def: ResourceDef, namespace: string, body: unknown, urlName?: string): KubeObject {
    if (!isPlainObject(body))
      throw badRequest(`the object provided is unrecognized (must be of type ${def.kind})`);
    const obj = clone(body) as KubeObject;
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    if (!isPlainObject(obj.metadata)) throw badRequest('metadata must be an object');
    const expected = groupVersion(def);
    if (obj.apiVersion !== undefined && obj.apiVersion !== expected) {
      throw badRequest(
        `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${expected})`,
      );
    }
    if (obj.kind !== undefined && obj.kind !== def.kind) {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${def.kind}): couldn't get version/kind; got ${String(obj.kind)}`,
      );
    }
    obj.apiVersion = expected;
    obj.kind = def.kind;
    if (def.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = namespace;
    } else {
      delete obj.metadata.namespace;
    }
    if (urlName !== undefined) {
      if (obj.metadata.name === undefined || obj.metadata.name === '') obj.metadata.name = urlName;
      if (obj.metadata.name !== urlName) {
        throw badRequest(
          `the name of the object (${obj.metadata.name}) does not match the name on the URL (${urlName})`,
        );
      }
    }
    return obj;
  }

  private requireNamespace(def: ResourceDef, namespace: string): void {
    if (def.namespaced && !this.store.get(mustResource('', 'namespaces'), '', namespace)) {
      throw notFound({ group: '', resource: 'namespaces' }, namespace);
    }
  }

  create(def: ResourceDef, namespace: string, body: unknown, options: WriteOptions): WriteResult {
    const obj = this.checkIdentity(def, namespace, body);
    if (!obj.metadata.name && obj.metadata.generateName)
      obj.metadata.name = `${obj.metadata.generateName}${randomSuffix()}`;
    this.requireNamespace(def, namespace);
    checkDecodable(def, obj);
    setDefaults(def, obj);
    delete obj.metadata.managedFields;
    trackUpdate({
      live: undefined,
      updated: obj,
      manager: options.fieldManager,
      apiVersion: groupVersion(def),
      hasStatus: def.hasStatus,
      endpoint: 'main',
      time: nowIso(),
    });
    return { object: this.finishCreate(def, obj, options), created: true };
  }

  private finishCreate(def: ResourceDef, obj: KubeObject, options: WriteOptions): KubeObject {
    prepareForCreate(def, obj);
    const problem = validateObject(def, obj);
    if (problem) throw problem;
    const name = obj.metadata.name ?? '';
    if (this.store.get(def, obj.metadata.namespace ?? '', name)) throw alreadyExists(gr(def), name);
    return options.dryRun ? obj : this.store.put(def, obj);
  }

  update(
    def: ResourceDef,
    namespace: string,
    name: string,
    body: unknown,
    options: WriteOptions,
  ): WriteResult {
    const obj = this.checkIdentity(def, namespace, body, name);
    const old = this.get(def, namespace, name);
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(gr(def), name, MODIFIED_CONFLICT);
    checkDecodable(def, obj);
    setDefaults(def, obj);
    obj.metadata.managedFields = old.metadata.managedFields;
    const endpoint: Endpoint = options.subresource === 'status' ? 'status' : 'main';
    trackUpdate({
      live: old,
      updated: obj,
      manager: options.fieldManager,
      apiVersion: groupVersion(def),
      hasStatus: def.hasStatus,
      endpoint,
      time: nowIso(),
    });
    return { object: this.finishUpdate(def, obj, old, options), created: false };
  }

  private finishUpdate(
    def: ResourceDef,
    obj: KubeObject,
    old: KubeObject,
    options: WriteOptions,
  ): KubeObject {
    let next = obj;
    if (options.subresource === 'status') next = prepareForStatusUpdate(obj, old);
    else prepareForUpdate(def, next, old);
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    const problem = validateObject(def, next);
    if (problem) throw problem;
    if (options.dryRun || sameContent(next, old)) return options.dryRun ? next : old;
    return this.store.put(def, next);
  }

  patch(
    def: ResourceDef,
    namespace: string,
    name: string,
    patchType: string,
    body: unknown,
    options: PatchOptions,
  ): WriteResult {
    const isApply = patchType === PATCH_TYPES.apply;
    if (isApply && !options.fieldManager) {
      throw invalid('meta.k8s.io', 'PatchOptions', '', [
        { type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' },
      ]);
    }
    if (!isApply && options.force !== undefined) {
      throw invalid('meta.k8s.io', 'PatchOptions', '', [
        { type: 'FieldValueForbidden', field: 'force', detail: 'may not be specified for non-apply patch' },
      ]);
    }
    const old = this.store.get(def, namespace, name);
    const endpoint: Endpoint = options.subresource === 'status' ? 'status' : 'main';
    if (isApply) return this.apply(def, namespace, name, body, old, options, endpoint);
    if (!old) throw notFound(gr(def), name);
    let patched: unknown;
    if (patchType === PATCH_TYPES.json) patched = jsonPatch(old, body);
    else {
      if (!isPlainObject(body))
        throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
      patched = mergePatch(old, body);
    }
    const obj = this.checkIdentity(def, namespace, patched, name);
    if (obj.metadata.resourceVersion !== old.metadata.resourceVersion)
      throw conflict(gr(def), name, MODIFIED_CONFLICT);
    if (obj.metadata.uid !== old.metadata.uid) {
      throw conflict(
        gr(def),
        name,
        `Precondition failed: UID in precondition: ${String(obj.metadata.uid)}, UID in object meta: ${String(old.metadata.uid)}`,
      );
    }
    checkDecodable(def, obj);
    setDefaults(def, obj);
    trackUpdate({
      live: old,
      updated: obj,
      manager: options.fieldManager,
      apiVersion: groupVersion(def),
      hasStatus: def.hasStatus,
      endpoint,
      time: nowIso(),
    });
    return { object: this.finishUpdate(def, obj, old, options), created: false };
  }

  private apply(
    def: ResourceDef,
    namespace: string,
    name: string,
    body: unknown,
    old: KubeObject | undefined,
    options: PatchOptions,
    endpoint: Endpoint,
  ): WriteResult {
    if (!isPlainObject(body))
      throw badRequest('error decoding YAML: the applied configuration is not an object');
    for (const field of ['kind', 'apiVersion']) {
      if (!body[field])
        throw badRequest(
          `Object '${field === 'kind' ? 'Kind' : field}' is missing in '${JSON.stringify(body)}'`,
        );
    }
    const config = this.checkIdentity(def, namespace, body, name);
    checkDecodable(def, config);
    const rv = config.metadata.resourceVersion;
    if (rv && rv !== old?.metadata.resourceVersion) throw conflict(gr(def), name, MODIFIED_CONFLICT);
    delete config.metadata.resourceVersion;
    if (!old) {
      this.requireNamespace(def, namespace);
      options.authorizeCreate?.();
    }
    const merged = serverSideApply({
      live: old,
      config,
      manager: options.fieldManager,
      apiVersion: groupVersion(def),
      force: options.force === true,
      hasStatus: def.hasStatus && endpoint === 'main',
      time: nowIso(),
    });
    setDefaults(def, merged);
    if (!old) return { object: this.finishCreate(def, merged, options), created: true };
    return { object: this.finishUpdate(def, merged, old, options), created: false };
  }

  /** Returns the response body: the object (pods, orphan/foreground deletions) or a Success Status. */
  delete(def: ResourceDef, namespace: string, name: string, options: DeleteOptions = {}): JsonObject {
    const old = this.get(def, namespace, name);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw conflict(
        gr(def),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid ?? ''}`,
      );
    }
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(
        gr(def),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion ?? ''}`,
      );
    }
    const policy = options.propagationPolicy ?? (def.plural === 'jobs' ? 'Orphan' : 'Background');
    if (!['Orphan', 'Background', 'Foreground'].includes(policy)) {
      throw invalid('meta.k8s.io', 'DeleteOptions', '', [
        {
          type: 'FieldValueNotSupported',
          field: 'propagationPolicy',
          value: policy,
          detail: 'supported values: "Foreground", "Background", "Orphan", "nil"',
        },
      ]);
    }
    if (!options.dryRun) this.removeWithDependents(def, old, policy);
    const gone = clone(old);
    if (def.plural === 'pods' || def.plural === 'namespaces' || policy !== 'Background') {
      gone.metadata.deletionTimestamp = nowIso();
      if (def.plural === 'pods') gone.metadata.deletionGracePeriodSeconds = 0;
      if (def.plural === 'namespaces') gone.status = { phase: 'Terminating' };
      if (policy === 'Orphan') gone.metadata.finalizers = ['orphan'];
      if (policy === 'Foreground') gone.metadata.finalizers = ['foregroundDeletion'];
      return gone as JsonObject;
    }
    const details: JsonObject = { name };
    if (def.group) details.group = def.group;
    details.kind = def.plural;
    details.uid = old.metadata.uid;
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
  }

  deleteCollection(def: ResourceDef, namespace: string, options: ListOptions & DeleteOptions): KubeObject {
    const list = this.list(def, namespace, options);
    for (const item of list.items as KubeObject[]) {
      this.delete(def, item.metadata.namespace ?? '', item.metadata.name ?? '', options);
    }
    return list;
  }

  private removeWithDependents(def: ResourceDef, obj: KubeObject, policy: string): void {
    const uid = obj.metadata.uid;
    if (def.plural === 'namespaces') {
      for (const { def: d, object } of this.store.all()) {
        if (d.namespaced && object.metadata.namespace === obj.metadata.name) {
          this.store.remove(d, object.metadata.namespace ?? '', object.metadata.name ?? '');
        }
      }
    }
    for (const { def: d, object } of this.store.all()) {
      const refs = object.metadata.ownerReferences ?? [];
      if (!refs.some((r) => r.uid === uid)) continue;
      if (policy === 'Orphan') {
        object.metadata.ownerReferences = refs.filter((r) => r.uid !== uid);
        if (object.metadata.ownerReferences.length === 0) delete object.metadata.ownerReferences;
        this.store.put(d, object);
      } else {
        const ns = object.metadata.namespace ?? '';
        const name = object.metadata.name ?? '';
        const childPolicy = d.plural === 'jobs' ? 'Background' : policy;
        if (this.store.get(d, ns, name)) this.removeWithDependents(d, object, childPolicy);
      }
    }
    this.store.remove(def, obj.metadata.namespace ?? '', obj.metadata.name ?? '');
  }

  // ---- for controllers (no authorization, no dry run) ----

  /** Creates an object as a controller does (manager recorded as an Update). */
  createAs(def: ResourceDef, obj: KubeObject, manager: string): KubeObject {
    return this.create(def, obj.metadata.namespace ?? '', obj, { fieldManager: manager }).object;
  }

  /** Read-modify-write of an object's status through the /status endpoint; undefined when it is gone. */
  updateStatus(
    def: ResourceDef,
    namespace: string,
    name: string,
    mutate: (obj: KubeObject) => void,
    manager: string,
  ): KubeObject | undefined {
    const old = this.store.get(def, namespace, name);
    if (!old) return undefined;
    const next = clone(old);
    mutate(next);
    try {
      return this.update(def, namespace, name, next, { fieldManager: manager, subresource: 'status' }).object;
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) return undefined;
      throw err;
    }
  }
}
