/**
 * The object store: objects by resource, namespace and name; one resourceVersion counter for all of
 * them; a change feed (ADDED/MODIFIED/DELETED) with a bounded history for watches. Objects going in and
 * out are copies, so callers can never mutate what is stored.
 */

import { EventEmitter } from 'node:events';

import type { ResourceDef } from './resources.js';
import { clone } from './types.js';
import type { KubeObject } from './types.js';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  resource: ResourceDef;
  object: KubeObject;
  resourceVersion: number;
}

const HISTORY_LIMIT = 2000;

function keyOf(def: ResourceDef): string {
  return `${def.group}/${def.plural}`;
}

export class Store {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly defs = new Map<string, ResourceDef>();
  private revision = 0;
  private readonly history: Change[] = [];
  private readonly feed = new EventEmitter();

  constructor() {
    this.feed.setMaxListeners(0);
  }

  get resourceVersion(): string {
    return String(this.revision);
  }

  /** The oldest revision a watch can resume from. */
  get oldestRevision(): number {
    return this.history[0]?.resourceVersion ?? this.revision;
  }

  private table(def: ResourceDef): Map<string, KubeObject> {
    const key = keyOf(def);
    let table = this.objects.get(key);
    if (!table) {
      table = new Map();
      this.objects.set(key, table);
      this.defs.set(key, def);
    }
    return table;
  }

  get(def: ResourceDef, namespace: string, name: string): KubeObject | undefined {
    const found = this.table(def).get(`${namespace}/${name}`);
    return found ? clone(found) : undefined;
  }

  /** All objects of a resource, in one namespace or (namespace '') in all, sorted by namespace and name. */
  list(def: ResourceDef, namespace = ''): KubeObject[] {
    const out: KubeObject[] = [];
    for (const [key, obj] of this.table(def)) {
      if (!namespace || key.startsWith(`${namespace}/`)) out.push(clone(obj));
    }
    return out.sort((a, b) =>
      `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`.localeCompare(
        `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`,
      ),
    );
  }

  /** Stores the object with a new resourceVersion and returns the stored copy. */
  put(def: ResourceDef, obj: KubeObject): KubeObject {
    const namespace = def.namespaced ? (obj.metadata.namespace ?? '') : '';
    const key = `${namespace}/${obj.metadata.name ?? ''}`;
    const table = this.table(def);
    const type: ChangeType = table.has(key) ? 'MODIFIED' : 'ADDED';
    this.revision += 1;
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(this.revision);
    table.set(key, stored);
    this.emit({ type, resource: def, object: stored, resourceVersion: this.revision });
    return clone(stored);
  }

  remove(def: ResourceDef, namespace: string, name: string): KubeObject | undefined {
    const table = this.table(def);
    const key = `${def.namespaced ? namespace : ''}/${name}`;
    const existing = table.get(key);
    if (!existing) return undefined;
    table.delete(key);
    this.revision += 1;
    const gone = clone(existing);
    gone.metadata.resourceVersion = String(this.revision);
    this.emit({ type: 'DELETED', resource: def, object: gone, resourceVersion: this.revision });
    return clone(gone);
  }

  /** Every stored object of every resource (for garbage collection by ownerReference). */
  all(): { def: ResourceDef; object: KubeObject }[] {
    const out: { def: ResourceDef; object: KubeObject }[] = [];
    for (const [key, table] of this.objects) {
      const def = this.defs.get(key);
      if (def) for (const obj of table.values()) out.push({ def, object: clone(obj) });
    }
    return out;
  }

  private emit(change: Change): void {
    this.history.push(change);
    if (this.history.length > HISTORY_LIMIT) this.history.shift();
    this.feed.emit('change', change);
  }

  /** Changes after `revision` still held in history (for watch resumption). */
  changesSince(revision: number): Change[] {
    return this.history.filter((c) => c.resourceVersion > revision);
  }

  onChange(listener: (change: Change) => void): () => void {
    this.feed.on('change', listener);
    return () => this.feed.off('change', listener);
  }
}
