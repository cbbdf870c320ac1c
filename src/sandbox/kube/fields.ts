/**
 * Field sets for managedFields: paths such as ['f:data', 'f:S3_BUCKET'], their FieldsV1 encoding
 * (`{"f:data":{".":{},"f:S3_BUCKET":{}}}`), and the structural comparisons server-side apply needs.
 *
 * Simplification: every list is atomic (a leaf), where a real server keys some lists
 * (containers and env by name, volumeMounts by mountPath) and tracks their items one by one.
 */

import { deepEqual, isPlainObject } from './types.js';
import type { JsonObject } from './types.js';

export type FieldPath = readonly string[];

const SEP = '\u0000';

/** A set of field paths; members are the joined path strings. */
export class FieldSet {
  private readonly members = new Set<string>();

  static of(paths: Iterable<FieldPath>): FieldSet {
    const set = new FieldSet();
    for (const p of paths) set.add(p);
    return set;
  }

  add(path: FieldPath): void {
    this.members.add(path.join(SEP));
  }

  has(path: FieldPath): boolean {
    return this.members.has(path.join(SEP));
  }

  get size(): number {
    return this.members.size;
  }

  paths(): FieldPath[] {
    return [...this.members].sort().map((m) => (m === '' ? [] : m.split(SEP)));
  }

  union(other: FieldSet): FieldSet {
    return FieldSet.of([...this.paths(), ...other.paths()]);
  }

  difference(other: FieldSet): FieldSet {
    return FieldSet.of(this.paths().filter((p) => !other.has(p)));
  }

  intersection(other: FieldSet): FieldSet {
    return FieldSet.of(this.paths().filter((p) => other.has(p)));
  }

  /** Drops every path equal to or below one that `isIgnored` accepts. */
  withoutIgnored(isIgnored: (path: FieldPath) => boolean): FieldSet {
    return FieldSet.of(this.paths().filter((p) => !p.some((_, i) => isIgnored(p.slice(0, i + 1)))));
  }

  toFieldsV1(): JsonObject {
    interface Node {
      self: boolean;
      children: Map<string, Node>;
    }
    const root: Node = { self: false, children: new Map() };
    for (const path of this.paths()) {
      let node = root;
      for (const element of path) {
        let next = node.children.get(element);
        if (!next) {
          next = { self: false, children: new Map() };
          node.children.set(element, next);
        }
        node = next;
      }
      node.self = true;
    }
    const encode = (node: Node): JsonObject => {
      const out: JsonObject = {};
      if (node.self && node.children.size > 0) out['.'] = {};
      for (const key of [...node.children.keys()].sort()) out[key] = encode(node.children.get(key) as Node);
      return out;
    };
    return encode(root);
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    const walk = (node: unknown, prefix: string[]): void => {
      if (!isPlainObject(node)) return;
      const keys = Object.keys(node);
      if (keys.length === 0 && prefix.length > 0) set.add(prefix);
      for (const key of keys) {
        if (key === '.') set.add(prefix);
        else walk(node[key], [...prefix, key]);
      }
    };
    walk(fields, []);
    return set;
  }
}

/** `.data.S3_BUCKET` — fieldpath.Path.String(). */
export function pathToString(path: FieldPath): string {
  return path
    .map((element) => {
      if (element.startsWith('f:')) return `.${element.slice(2)}`;
      if (element.startsWith('k:')) {
        const key = JSON.parse(element.slice(2)) as Record<string, unknown>;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      if (element.startsWith('v:')) return `[=${element.slice(2)}]`;
      if (element.startsWith('i:')) return `[${element.slice(2)}]`;
      return element;
    })
    .join('');
}

/** The set an applied configuration claims: its leaves (scalars, nulls, lists). Empty maps claim nothing. */
export function leafSet(value: unknown): FieldSet {
  const set = new FieldSet();
  const walk = (node: JsonObject, prefix: string[]): void => {
    for (const [key, child] of Object.entries(node)) {
      const path = [...prefix, `f:${key}`];
      if (isPlainObject(child)) walk(child, path);
      else set.add(path);
    }
  };
  if (isPlainObject(value)) walk(value, []);
  return set;
}

export interface Comparison {
  added: FieldSet;
  modified: FieldSet;
  removed: FieldSet;
}

function addSubtree(set: FieldSet, value: unknown, path: string[]): void {
  set.add(path);
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) addSubtree(set, child, [...path, `f:${key}`]);
  }
}

/** typed.Compare: which fields were added, modified (leaf values) or removed going from `before` to `after`. */
export function compare(before: unknown, after: unknown): Comparison {
  const result: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const walk = (a: JsonObject, b: JsonObject, prefix: string[]): void => {
    for (const [key, bv] of Object.entries(b)) {
      const path = [...prefix, `f:${key}`];
      if (!(key in a)) {
        addSubtree(result.added, bv, path);
        continue;
      }
      const av = a[key];
      if (isPlainObject(av) && isPlainObject(bv)) walk(av, bv, path);
      else if (!deepEqual(av, bv)) result.modified.add(path);
    }
    for (const [key, av] of Object.entries(a)) {
      if (!(key in b)) addSubtree(result.removed, av, [...prefix, `f:${key}`]);
    }
  };
  walk(isPlainObject(before) ? before : {}, isPlainObject(after) ? after : {}, []);
  return result;
}

/** Removes the field at `path` (f: elements only); then removes parents left empty unless `keep` says not to. */
export function removePath(root: JsonObject, path: FieldPath, keep: (path: FieldPath) => boolean): void {
  const names = path.map((e) => e.slice(2));
  const chain: JsonObject[] = [root];
  for (const name of names.slice(0, -1)) {
    const next = chain[chain.length - 1]?.[name];
    if (!isPlainObject(next)) return;
    chain.push(next);
  }
  const last = names[names.length - 1];
  const parent = chain[chain.length - 1];
  if (last === undefined || !parent) return;
  delete parent[last];
  for (let depth = chain.length - 1; depth > 0; depth--) {
    const node = chain[depth];
    const owner = chain[depth - 1];
    const name = names[depth - 1];
    if (!node || !owner || name === undefined) break;
    if (Object.keys(node).length > 0 || keep(path.slice(0, depth))) break;
    delete owner[name];
  }
}
