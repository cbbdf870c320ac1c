/**
 * Server-side apply and managedFields bookkeeping, following structured-merge-diff's Updater:
 * - Apply: merge the configuration into the live object, claim its leaves for the manager, drop fields
 *   the manager applied before and now omits (unless another manager owns them), and refuse changes to
 *   fields another manager owns (409 Conflict) unless forced, in which case ownership moves.
 * - Update (create, update, merge/JSON patch): the manager gains the fields the request added or changed;
 *   other managers lose them; removed fields leave every set.
 */

import { compare, FieldSet, leafSet, pathToString, removePath } from './fields.js';
import type { FieldPath } from './fields.js';
import { applyConflict } from './status.js';
import type { ApplyConflict } from './status.js';
import { clone, isPlainObject } from './types.js';
import type { JsonObject, KubeObject, ManagedFieldsEntry } from './types.js';

/** Fields no manager ever owns (the metadata the server sets, the type identity). */
const SERVER_METADATA = new Set([
  'name',
  'namespace',
  'generateName',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

export type Endpoint = 'main' | 'status';

/** The ignore rule for a resource: on the main endpoint `status` is reset; on /status only status counts. */
export function ignoredFields(hasStatus: boolean, endpoint: Endpoint): (path: FieldPath) => boolean {
  return (path) => {
    const [first, second] = path;
    if (path.length === 1 && (first === 'f:apiVersion' || first === 'f:kind')) return true;
    if (path.length === 2 && first === 'f:metadata' && second && SERVER_METADATA.has(second.slice(2)))
      return true;
    if (endpoint === 'status') return path.length === 1 && first !== 'f:status' && first !== 'f:metadata';
    return hasStatus && path.length === 1 && first === 'f:status';
  };
}

interface Manager {
  entry: ManagedFieldsEntry;
  set: FieldSet;
}

function readManagers(obj: KubeObject | undefined): Manager[] {
  return (obj?.metadata.managedFields ?? []).map((entry) => ({
    entry: { ...entry },
    set: FieldSet.fromFieldsV1(entry.fieldsV1),
  }));
}

function writeManagers(managers: Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => m.set.size > 0)
    .map((m) => ({ ...m.entry, fieldsType: 'FieldsV1' as const, fieldsV1: m.set.toFieldsV1() }));
}

function sameIdentity(a: ManagedFieldsEntry, b: ManagedFieldsEntry): boolean {
  if (a.manager !== b.manager || a.operation !== b.operation) return false;
  if ((a.subresource ?? '') !== (b.subresource ?? '')) return false;
  // Appliers are one manager whatever version they use; updaters are keyed by apiVersion too.
  return a.operation === 'Apply' || a.apiVersion === b.apiVersion;
}

/** printManager: `"kubectl-create" using v1` for updaters, `"db-runbook"` for appliers. */
function describeManager(entry: ManagedFieldsEntry): string {
  let text = JSON.stringify(entry.manager);
  if (entry.subresource) text += ` with subresource ${JSON.stringify(entry.subresource)}`;
  return entry.operation === 'Update' ? `${text} using ${entry.apiVersion}` : text;
}

/**
 * Content without the server-owned metadata, for comparisons. A missing object compares as the empty
 * typed object a real server starts from, whose metadata and spec always exist (so they never show up
 * as added nodes).
 */
function content(obj: KubeObject | undefined): JsonObject {
  if (!obj) return { metadata: {}, spec: {} };
  const copy = clone(obj) as JsonObject;
  const meta = copy.metadata;
  if (isPlainObject(meta)) for (const key of SERVER_METADATA) delete meta[key];
  return copy;
}

function mergeInto(live: unknown, config: unknown): unknown {
  if (!isPlainObject(config) || !isPlainObject(live)) return clone(config);
  const out: JsonObject = clone(live);
  for (const [key, value] of Object.entries(config)) {
    if (value === null) delete out[key];
    else out[key] = mergeInto(out[key], value);
  }
  return out;
}

export interface ApplyRequest {
  live: KubeObject | undefined;
  config: KubeObject;
  manager: string;
  apiVersion: string;
  force: boolean;
  hasStatus: boolean;
  time: string;
}

/** Returns the applied object (with managedFields) or throws a 409 apply conflict. */
export function serverSideApply(req: ApplyRequest): KubeObject {
  const ignored = ignoredFields(req.hasStatus, 'main');
  const managers = readManagers(req.live);
  const applyEntry: ManagedFieldsEntry = {
    manager: req.manager,
    operation: 'Apply',
    apiVersion: req.apiVersion,
    time: req.time,
    fieldsType: 'FieldsV1',
    fieldsV1: {},
  };
  let mine = managers.find((m) => sameIdentity(m.entry, applyEntry));
  const lastSet = mine?.set ?? new FieldSet();
  const newSet = leafSet(content(req.config)).withoutIgnored(ignored);

  const merged = mergeInto(req.live ?? { metadata: {} }, req.config) as KubeObject;
  const others = managers.filter((m) => m !== mine);
  const ownedByOthers = others.reduce((acc, m) => acc.union(m.set), new FieldSet());
  const ownedAfter = ownedByOthers.union(newSet);
  for (const path of lastSet.difference(newSet).difference(ownedByOthers).paths()) {
    if (path.every((e) => e.startsWith('f:')))
      removePath(merged as JsonObject, path, (p) => ownedAfter.has(p));
  }

  const diff = compare(content(req.live), content(merged));
  const changed = diff.added.union(diff.modified);
  const conflicts: ApplyConflict[] = [];
  for (const other of others) {
    const clash = other.set.intersection(changed);
    if (clash.size === 0) continue;
    if (req.force) other.set = other.set.difference(clash);
    else
      for (const path of clash.paths())
        conflicts.push({ manager: describeManager(other.entry), path: pathToString(path) });
  }
  if (conflicts.length > 0) throw applyConflict(conflicts);

  for (const m of managers) m.set = m.set.difference(diff.removed);
  if (!mine) {
    mine = { entry: applyEntry, set: newSet };
    managers.push(mine);
  }
  mine.entry = { ...mine.entry, apiVersion: req.apiVersion, time: req.time };
  mine.set = newSet;
  merged.metadata = { ...(isPlainObject(merged.metadata) ? merged.metadata : {}) };
  merged.metadata.managedFields = writeManagers(managers);
  return merged;
}

export interface UpdateRequest {
  live: KubeObject | undefined;
  updated: KubeObject;
  manager: string;
  apiVersion: string;
  hasStatus: boolean;
  endpoint: Endpoint;
  time: string;
}

/** Records an Update operation in `updated.metadata.managedFields` (mutates and returns `updated`). */
export function trackUpdate(req: UpdateRequest): KubeObject {
  const ignored = ignoredFields(req.hasStatus, req.endpoint);
  const managers = readManagers(req.live);
  const diff = compare(content(req.live), content(req.updated));
  const changed = diff.added.union(diff.modified).withoutIgnored(ignored);
  const entry: ManagedFieldsEntry = {
    manager: req.manager,
    operation: 'Update',
    apiVersion: req.apiVersion,
    time: req.time,
    fieldsType: 'FieldsV1',
    fieldsV1: {},
  };
  if (req.endpoint === 'status') entry.subresource = 'status';
  let mine = managers.find((m) => sameIdentity(m.entry, entry));
  for (const m of managers) {
    if (m !== mine) m.set = m.set.difference(changed);
    m.set = m.set.difference(diff.removed);
  }
  if (changed.size > 0) {
    if (!mine) {
      mine = { entry, set: new FieldSet() };
      managers.push(mine);
    }
    mine.entry = { ...mine.entry, time: req.time };
    mine.set = mine.set.union(changed).difference(diff.removed);
  }
  req.updated.metadata.managedFields = writeManagers(managers);
  return req.updated;
}
