/**
 * Server-side printing: the meta.k8s.io/v1 Table kubectl asks for (`Accept: …;as=Table;…`), with the
 * columns `kubectl get` shows for each resource.
 */

import { asArray, dig, isPlainObject } from './types.js';
import type { JsonObject, KubeObject } from './types.js';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  cell: (obj: KubeObject) => unknown;
  priority?: number;
}

/** duration.HumanDuration, as kubectl prints ages. */
export function humanDuration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 8) return hours % 24 === 0 ? `${days}d` : `${days}d${hours % 24}h`;
  if (days < 365 * 2) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

const since = (time: unknown): string =>
  typeof time === 'string' ? humanDuration(Date.now() - Date.parse(time)) : '<unknown>';

const name: Column = { name: 'Name', type: 'string', cell: (o) => o.metadata.name ?? '' };
const age: Column = { name: 'Age', type: 'string', cell: (o) => since(o.metadata.creationTimestamp) };
const count = (value: unknown): number => (isPlainObject(value) ? Object.keys(value).length : 0);

function jobStatus(job: KubeObject): string {
  const conditions = asArray(dig(job, 'status', 'conditions'));
  const has = (type: string): boolean =>
    conditions.some((c) => dig(c, 'type') === type && dig(c, 'status') === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobDuration(job: KubeObject): string {
  const start = dig(job, 'status', 'startTime');
  if (typeof start !== 'string') return '';
  const end = dig(job, 'status', 'completionTime');
  return humanDuration((typeof end === 'string' ? Date.parse(end) : Date.now()) - Date.parse(start));
}

function podReady(pod: KubeObject): string {
  const statuses = asArray(dig(pod, 'status', 'containerStatuses'));
  const total = asArray(dig(pod, 'spec', 'containers')).length;
  return `${statuses.filter((s) => dig(s, 'ready') === true).length}/${total}`;
}

function podStatus(pod: KubeObject): string {
  for (const s of asArray(dig(pod, 'status', 'containerStatuses'))) {
    const waiting = dig(s, 'state', 'waiting', 'reason');
    if (typeof waiting === 'string' && waiting !== 'ContainerCreating') return waiting;
  }
  const phase = dig(pod, 'status', 'phase');
  if (phase === 'Succeeded') return 'Completed';
  if (phase === 'Failed') return String(dig(pod, 'status', 'reason') ?? 'Error');
  return typeof phase === 'string' ? phase : 'Unknown';
}

const COLUMNS: Record<string, Column[]> = {
  namespaces: [name, { name: 'Status', type: 'string', cell: (o) => dig(o, 'status', 'phase') ?? '' }, age],
  secrets: [
    name,
    { name: 'Type', type: 'string', cell: (o) => o.type ?? '' },
    { name: 'Data', type: 'integer', cell: (o) => count(o.data) },
    age,
  ],
  configmaps: [
    name,
    { name: 'Data', type: 'integer', cell: (o) => count(o.data) + count(o.binaryData) },
    age,
  ],
  serviceaccounts: [name, { name: 'Secrets', type: 'integer', cell: (o) => asArray(o.secrets).length }, age],
  pods: [
    name,
    { name: 'Ready', type: 'string', cell: podReady },
    { name: 'Status', type: 'string', cell: podStatus },
    {
      name: 'Restarts',
      type: 'string',
      cell: (o) =>
        String(
          asArray(dig(o, 'status', 'containerStatuses')).reduce<number>(
            (n, s) => n + Number(dig(s, 'restartCount') ?? 0),
            0,
          ),
        ),
    },
    age,
  ],
  events: [
    { name: 'Last Seen', type: 'string', cell: (o) => since(o.lastTimestamp ?? o.eventTime) },
    { name: 'Type', type: 'string', cell: (o) => o.type ?? '' },
    { name: 'Reason', type: 'string', cell: (o) => o.reason ?? '' },
    {
      name: 'Object',
      type: 'string',
      cell: (o) =>
        `${String(dig(o, 'involvedObject', 'kind') ?? '').toLowerCase()}/${String(dig(o, 'involvedObject', 'name') ?? '')}`,
    },
    { name: 'Message', type: 'string', cell: (o) => o.message ?? '' },
  ],
  cronjobs: [
    name,
    { name: 'Schedule', type: 'string', cell: (o) => dig(o, 'spec', 'schedule') ?? '' },
    { name: 'Timezone', type: 'string', cell: (o) => dig(o, 'spec', 'timeZone') ?? '<none>' },
    { name: 'Suspend', type: 'string', cell: (o) => (dig(o, 'spec', 'suspend') === true ? 'True' : 'False') },
    { name: 'Active', type: 'integer', cell: (o) => asArray(dig(o, 'status', 'active')).length },
    {
      name: 'Last Schedule',
      type: 'string',
      cell: (o) =>
        dig(o, 'status', 'lastScheduleTime') ? since(dig(o, 'status', 'lastScheduleTime')) : '<none>',
    },
    age,
  ],
  jobs: [
    name,
    { name: 'Status', type: 'string', cell: jobStatus },
    {
      name: 'Completions',
      type: 'string',
      cell: (o) =>
        `${Number(dig(o, 'status', 'succeeded') ?? 0)}/${Number(dig(o, 'spec', 'completions') ?? 1)}`,
    },
    { name: 'Duration', type: 'string', cell: jobDuration },
    age,
  ],
};

/** The Table for a list of objects (or one object), rows carrying PartialObjectMetadata. */
export function toTable(resource: string, objects: KubeObject[], resourceVersion: string): JsonObject {
  const columns = COLUMNS[resource] ?? [name, age];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c === name ? 'name' : '',
      description: c.name,
      priority: c.priority ?? 0,
    })),
    rows: objects.map((obj) => ({
      cells: columns.map((c) => c.cell(obj)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
    })),
  };
}

export function wantsTable(accept: string | undefined): boolean {
  return typeof accept === 'string' && /as=Table/.test(accept);
}
