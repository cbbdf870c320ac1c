/**
 * The Kubernetes objects the Configuration section creates, built exactly the way
 * `kubectl create secret generic --from-literal` / `kubectl create configmap --from-literal --from-file`
 * / `kubectl create serviceaccount` build them (same keys, base64 `data` for Secrets, `data` or
 * `binaryData` for ConfigMaps), plus the label `app.kubernetes.io/managed-by: db-runbook`.
 *
 * And the comparison a step shows before it writes: create / update (which key NAMES change, never
 * the values) / unchanged, and which other field managers own fields an apply would change.
 * Pure: no I/O.
 */
import type { KubeObject } from './kube-object.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** The server-side apply field manager (same as the Kubernetes adapter's). */
export const RUNBOOK_MANAGER = 'db-runbook';

export type Entry = readonly [key: string, value: string];

export interface FileEntry {
  key: string;
  content: Buffer | string;
}

/**
 * kubectl's rule for Secret and ConfigMap keys (IsConfigMapKey): `[-._a-zA-Z0-9]+`, at most 253
 * characters, not "." or "..", not starting with "..".
 */
export function keyProblem(key: string): string | undefined {
  if (key === '') return 'a key must not be empty';
  if (key.length > 253) return `key "${key.slice(0, 40)}…" is longer than 253 characters`;
  if (!/^[-._a-zA-Z0-9]+$/.test(key))
    return `key "${key}" may contain only letters, digits, "-", "_" and "." (a valid config key)`;
  if (key === '.' || key === '..' || key.startsWith('..'))
    return `key "${key}" must not be "." or start with ".."`;
  return undefined;
}

function checkKeys(kind: string, name: string, keys: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of keys) {
    const problem = keyProblem(key);
    if (problem) throw new Error(`${kind} ${name}: ${problem}`);
    // kubectl: "cannot add key X, another key by that name already exists"
    if (seen.has(key))
      throw new Error(`${kind} ${name}: cannot add key ${key}, another key by that name already exists`);
    seen.add(key);
  }
}

function metadata(name: string, namespace: string): KubeObject['metadata'] {
  return { name, namespace, labels: { [MANAGED_BY_LABEL]: RUNBOOK_MANAGER } };
}

/** `kubectl create secret generic NAME --from-literal=K=V …` (+ the managed-by label). */
export function secretFromLiterals(name: string, namespace: string, literals: readonly Entry[]): KubeObject {
  checkKeys(
    'Secret',
    name,
    literals.map(([key]) => key),
  );
  const data: Record<string, string> = {};
  for (const [key, value] of literals) data[key] = Buffer.from(value, 'utf8').toString('base64');
  return { apiVersion: 'v1', kind: 'Secret', metadata: metadata(name, namespace), type: 'Opaque', data };
}

/** True when the bytes are valid UTF-8 (kubectl puts those in `data`, anything else in `binaryData`). */
function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** `kubectl create configmap NAME --from-literal=K=V … --from-file=KEY=PATH …` (+ the managed-by label). */
export function configMapFrom(
  name: string,
  namespace: string,
  source: { literals?: readonly Entry[]; files?: readonly FileEntry[] },
): KubeObject {
  const literals = source.literals ?? [];
  const files = source.files ?? [];
  checkKeys('ConfigMap', name, [...literals.map(([key]) => key), ...files.map((file) => file.key)]);
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const [key, value] of literals) data[key] = value;
  for (const file of files) {
    const bytes = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    if (isUtf8(bytes)) data[file.key] = bytes.toString('utf8');
    else binaryData[file.key] = bytes.toString('base64');
  }
  const object: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(name, namespace) };
  if (Object.keys(data).length > 0 || Object.keys(binaryData).length === 0) object.data = data;
  if (Object.keys(binaryData).length > 0) object.binaryData = binaryData;
  return object;
}

/** `kubectl create serviceaccount NAME` (+ the managed-by label). */
export function serviceAccount(name: string, namespace: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: metadata(name, namespace) };
}

// ------------------------------------------------------------------------------------------ diff

export type ObjectAction = 'create' | 'update' | 'unchanged';

export interface FieldConflict {
  manager: string;
  operation?: string;
  /** Dotted field paths (data.AWS_SECRET_ACCESS_KEY, spec.schedule). */
  fields: string[];
}

export interface ObjectDiff {
  kind: string;
  name: string;
  action: ObjectAction;
  /** Keys (Secret/ConfigMap `data`/`binaryData`) added or with a different value. Names only. */
  changedKeys: string[];
  /** Keys the last apply by db-runbook set and this one leaves out: server-side apply removes them. */
  removedKeys: string[];
  /** Keys someone else added: server-side apply leaves them alone. */
  keptKeys: string[];
  /** Labels and annotations added or changed. */
  changedLabels: string[];
  /** Other changed fields (dotted paths outside data/labels), e.g. spec.schedule. */
  changedFields: string[];
  /** Every field manager of the live object other than db-runbook (with its operation). */
  otherManagers: string[];
  /** Other managers owning fields this apply would change: applying needs force (a conflict). */
  conflicts: FieldConflict[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown): Record<string, string> {
  if (!isObject(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') out[key] = item;
  return out;
}

/**
 * Is `desired` contained in `live`: every field desired sets has the same value live (live may carry
 * server defaults desired does not mention). Arrays must have the same length; their items compare the same way.
 */
function contained(desired: unknown, live: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) &&
      desired.length === live.length &&
      desired.every((item, i) => contained(item, live[i]))
    );
  }
  if (isObject(desired)) {
    if (!isObject(live)) return false;
    return Object.entries(desired).every(([key, value]) => contained(value, live[key]));
  }
  return desired === live;
}

/** Paths (as key lists) of the leaves desired sets that differ live. Arrays are leaves (compared by containment). */
function differingPaths(desired: unknown, live: unknown, path: string[] = []): string[][] {
  if (isObject(desired) && !Array.isArray(desired)) {
    if (!isObject(live)) return Object.keys(desired).length === 0 ? [] : [path];
    return Object.entries(desired).flatMap(([key, value]) =>
      differingPaths(value, live[key], [...path, key]),
    );
  }
  return contained(desired, live) ? [] : [path];
}

type ManagedEntry = NonNullable<KubeObject['metadata']['managedFields']>[number];

/** Does this managedFields entry own the field at `path` (or anything under it)? Stops at arrays (lists are keyed). */
function owns(entry: ManagedEntry, path: readonly string[]): boolean {
  let node: unknown = entry.fieldsV1;
  for (const key of path) {
    if (!isObject(node)) return false;
    const next = node[`f:${key}`];
    if (next === undefined) return false;
    node = next;
  }
  return node !== undefined;
}

function managers(live: KubeObject): ManagedEntry[] {
  // Entries for a subresource (status) never conflict with an apply to the main resource.
  return (live.metadata.managedFields ?? []).filter(
    (entry) => (entry as { subresource?: string }).subresource === undefined,
  );
}

function managerName(entry: ManagedEntry): string {
  return entry.manager ?? '(unknown manager)';
}

const DATA_FIELDS = ['data', 'binaryData', 'stringData'] as const;
const IGNORED_TOP = new Set(['apiVersion', 'kind', 'status']);
const IGNORED_META = new Set(['name', 'namespace']);

/**
 * Compares the object an apply would send with the live one. `undefined` live → create.
 * Works for any kind: Secret/ConfigMap `data` is compared key by key; other fields by containment
 * (fields the server defaulted do not count as changes).
 */
export function diffObject(desired: KubeObject, live: KubeObject | undefined): ObjectDiff {
  const base: ObjectDiff = {
    kind: desired.kind,
    name: desired.metadata.name,
    action: 'create',
    changedKeys: [],
    removedKeys: [],
    keptKeys: [],
    changedLabels: [],
    changedFields: [],
    otherManagers: [],
    conflicts: [],
  };
  if (!live) {
    base.changedKeys = DATA_FIELDS.flatMap((field) => Object.keys(stringMap(desired[field])));
    return base;
  }
  const changedPaths: string[][] = [];
  const entries = managers(live);
  const ours = entries.filter((entry) => entry.manager === RUNBOOK_MANAGER && entry.operation === 'Apply');
  const others = entries.filter((entry) => entry.manager !== RUNBOOK_MANAGER);

  for (const field of DATA_FIELDS) {
    const want = stringMap(desired[field]);
    const have = stringMap(live[field]);
    for (const [key, value] of Object.entries(want)) {
      if (have[key] !== value) {
        base.changedKeys.push(key);
        changedPaths.push([field, key]);
      }
    }
    if (!(field in desired)) continue;
    for (const key of Object.keys(have)) {
      if (key in want) continue;
      const path = [field, key];
      const weOwn = ours.some((entry) => owns(entry, path));
      const theyOwn = others.some((entry) => owns(entry, path));
      if (weOwn && !theyOwn) base.removedKeys.push(key);
      else base.keptKeys.push(key);
    }
  }
  for (const metaField of ['labels', 'annotations'] as const) {
    const want = stringMap(desired.metadata[metaField]);
    const have = stringMap(live.metadata[metaField]);
    for (const [key, value] of Object.entries(want)) {
      if (have[key] !== value) {
        base.changedLabels.push(key);
        changedPaths.push(['metadata', metaField, key]);
      }
    }
  }
  for (const [key, value] of Object.entries(desired)) {
    if (IGNORED_TOP.has(key) || (DATA_FIELDS as readonly string[]).includes(key)) continue;
    if (key === 'metadata') {
      for (const [metaKey, metaValue] of Object.entries(desired.metadata)) {
        if (IGNORED_META.has(metaKey) || metaKey === 'labels' || metaKey === 'annotations') continue;
        for (const path of differingPaths(metaValue, live.metadata[metaKey], ['metadata', metaKey])) {
          base.changedFields.push(path.join('.'));
          changedPaths.push(path);
        }
      }
      continue;
    }
    for (const path of differingPaths(value, live[key], [key])) {
      base.changedFields.push(path.join('.'));
      changedPaths.push(path);
    }
  }
  base.otherManagers = [
    ...new Set(others.map((entry) => `${managerName(entry)} (${entry.operation ?? '?'})`)),
  ];
  for (const entry of others) {
    const fields = changedPaths.filter((path) => owns(entry, path)).map((path) => path.join('.'));
    if (fields.length > 0)
      base.conflicts.push({ manager: managerName(entry), operation: entry.operation, fields });
  }
  const changed =
    base.changedKeys.length + base.removedKeys.length + base.changedLabels.length + changedPaths.length > 0;
  base.action = changed ? 'update' : 'unchanged';
  return base;
}

/** One line for the screen and the journal: `create (keys A, B)` / `update: keys A, B` / `unchanged`. Never values. */
export function describeDiff(diff: ObjectDiff): string {
  if (diff.action === 'create') {
    return diff.changedKeys.length > 0 ? `create (keys ${diff.changedKeys.join(', ')})` : 'create';
  }
  if (diff.action === 'unchanged') return 'unchanged';
  const parts: string[] = [];
  if (diff.changedKeys.length > 0) parts.push(`keys ${diff.changedKeys.join(', ')}`);
  if (diff.removedKeys.length > 0) parts.push(`removes keys ${diff.removedKeys.join(', ')}`);
  if (diff.changedLabels.length > 0)
    parts.push(`${diff.changedLabels.length === 1 ? 'label' : 'labels'} ${diff.changedLabels.join(', ')}`);
  if (diff.changedFields.length > 0) parts.push(`fields ${diff.changedFields.join(', ')}`);
  return `update: ${parts.join('; ') || 'metadata'}`;
}

/** The other managers an apply would take fields from, as one sentence, or undefined when there is no conflict. */
export function describeConflicts(diff: ObjectDiff): string | undefined {
  if (diff.conflicts.length === 0) return undefined;
  return diff.conflicts
    .map(
      (conflict) =>
        `${conflict.manager}${conflict.operation ? ` (${conflict.operation})` : ''} owns ${conflict.fields.join(', ')}`,
    )
    .join('; ');
}

/** The managers named in an API Conflict ("Apply failed with 1 conflict: conflict with "kubectl-edit" …"). */
export function managersInConflictMessage(message: string): string[] {
  return [
    ...new Set([...message.matchAll(/conflict with "([^"]+)"/g)].map((match) => match[1] ?? '')),
  ].filter(Boolean);
}
