/** The runbook's CronJobs, the value holding each one's schedule, and the database it backs up. */

import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './kube-object.js';
import { RunbookError } from './errors.js';
import type { Settings } from './options.js';
import type { Values } from './values.js';
import { describeCron, nextRun } from './cron.js';

export const BACKUP_CRONJOBS: readonly { name: string; schedule: string; database: 'postgres' | 'neo4j' }[] =
  [
    { name: 'postgres-daily-backup', schedule: 'POSTGRES_BACKUP_SCHEDULE', database: 'postgres' },
    { name: 'neo4j-daily-backup', schedule: 'NEO4J_BACKUP_SCHEDULE', database: 'neo4j' },
  ];

/**
 * The restore-verification CronJobs (daily after the backups): each is deployed with its database's backup
 * unless the values file says `restoreVerify: false`; `restoreVerifySchedule` sets their schedule.
 */
export const RESTORE_VERIFY_CRONJOBS: readonly { name: string; database: 'postgres' | 'neo4j' }[] = [
  { name: 'postgres-restore-verify', database: 'postgres' },
  { name: 'neo4j-restore-verify', database: 'neo4j' },
];

export const MANIFEST = 'cronjobs.yaml';

export const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
]);

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses a multi-document manifest into objects (empty documents skipped). */
export function parseManifest(text: string, source = MANIFEST): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) {
      throw new RunbookError(
        `${source} is not valid YAML: ${document.errors[0]?.message.split('\n')[0] ?? ''}`,
        {
          exitCode: 2,
        },
      );
    }
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (
      !isObject(value) ||
      typeof value.apiVersion !== 'string' ||
      typeof value.kind !== 'string' ||
      !isObject(value.metadata) ||
      typeof value.metadata.name !== 'string'
    ) {
      throw new RunbookError(
        `${source}: every document must be a Kubernetes object with apiVersion, kind and metadata.name`,
        {
          exitCode: 2,
        },
      );
    }
    objects.push(value as KubeObject);
  }
  return objects;
}

/**
 * What gets applied: the manifest's objects in the namespace, each backup CronJob with its schedule
 * from the values (and only for databases in scope). Everything else in the manifest is kept as is.
 */
export function renderManifest(
  objects: readonly KubeObject[],
  values: Values,
  namespace: string,
  settings: Settings = {},
): KubeObject[] {
  const out: KubeObject[] = [];
  for (const original of objects) {
    const object = structuredClone(original);
    const { creationTimestamp: _created, ...metadata } = object.metadata;
    object.metadata = CLUSTER_SCOPED.has(object.kind) ? metadata : { ...metadata, namespace };
    delete object.status;
    const backup =
      object.kind === 'CronJob'
        ? BACKUP_CRONJOBS.find((job) => job.name === object.metadata.name)
        : undefined;
    if (backup) {
      if (!values.inScope(backup.database)) continue;
      const schedule = values.get(backup.schedule);
      if (schedule) object.spec = { ...(isObject(object.spec) ? object.spec : {}), schedule };
    }
    const verify =
      object.kind === 'CronJob'
        ? RESTORE_VERIFY_CRONJOBS.find((job) => job.name === object.metadata.name)
        : undefined;
    if (verify) {
      if (!values.inScope(verify.database) || settings.restoreVerify === false) continue;
      const schedule = settings.restoreVerifySchedule;
      if (schedule) object.spec = { ...(isObject(object.spec) ? object.spec : {}), schedule };
    }
    out.push(object);
  }
  return out;
}

export function cronSpec(object: KubeObject): Json {
  return isObject(object.spec) ? object.spec : {};
}

export function scheduleOf(object: KubeObject): string | undefined {
  const schedule = cronSpec(object).schedule;
  return typeof schedule === 'string' ? schedule : undefined;
}

export function timeZoneOf(object: KubeObject): string | undefined {
  const zone = cronSpec(object).timeZone;
  return typeof zone === 'string' ? zone : undefined;
}

/** A time as the API returned it (client-node turns them into Date objects), as ISO text. */
export function iso(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function shortTime(text: string | undefined): string {
  if (!text) return 'never';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function inAbout(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60000));
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h ${minutes % 60} min`;
  return `in ${Math.round(hours / 24)} days`;
}

/** "0 2 * * * (daily at 02:00 UTC)" */
export function scheduleInWords(object: KubeObject): string {
  const schedule = scheduleOf(object);
  if (!schedule) return '(no schedule)';
  return `${schedule} (${describeCron(schedule, timeZoneOf(object))})`;
}

/** The Secrets, ConfigMaps and ServiceAccount a CronJob's pods need, by kind and name. */
export function referencedObjects(cronjob: KubeObject): { kind: string; name: string; optional: boolean }[] {
  const refs = new Map<string, { kind: string; name: string; optional: boolean }>();
  const add = (kind: string, name: unknown, optional: unknown) => {
    if (typeof name !== 'string' || name === '') return;
    const key = `${kind}/${name}`;
    const existing = refs.get(key);
    refs.set(key, { kind, name, optional: optional === true && (existing?.optional ?? true) });
  };
  const podSpec = ['jobTemplate', 'spec', 'template', 'spec'].reduce<unknown>(
    (node, key) => (isObject(node) ? node[key] : undefined),
    cronSpec(cronjob),
  );
  if (!isObject(podSpec)) return [];
  add('ServiceAccount', podSpec.serviceAccountName, false);
  const containers = [podSpec.containers, podSpec.initContainers].flatMap((list) =>
    Array.isArray(list) ? list : [],
  );
  for (const container of containers) {
    if (!isObject(container)) continue;
    for (const source of Array.isArray(container.envFrom) ? container.envFrom : []) {
      if (!isObject(source)) continue;
      if (isObject(source.secretRef)) add('Secret', source.secretRef.name, source.secretRef.optional);
      if (isObject(source.configMapRef))
        add('ConfigMap', source.configMapRef.name, source.configMapRef.optional);
    }
    for (const variable of Array.isArray(container.env) ? container.env : []) {
      const from = isObject(variable) && isObject(variable.valueFrom) ? variable.valueFrom : undefined;
      if (!from) continue;
      if (isObject(from.secretKeyRef)) add('Secret', from.secretKeyRef.name, from.secretKeyRef.optional);
      if (isObject(from.configMapKeyRef))
        add('ConfigMap', from.configMapKeyRef.name, from.configMapKeyRef.optional);
    }
  }
  for (const volume of Array.isArray(podSpec.volumes) ? podSpec.volumes : []) {
    if (!isObject(volume)) continue;
    if (isObject(volume.secret)) add('Secret', volume.secret.secretName, volume.secret.optional);
    if (isObject(volume.configMap)) add('ConfigMap', volume.configMap.name, volume.configMap.optional);
  }
  return [...refs.values()];
}

export interface CronJobStatus {
  name: string;
  schedule?: string;
  words: string;
  timeZone?: string;
  nextRun?: string;
  lastScheduleTime?: string;
  lastSuccessfulTime?: string;
  suspend: boolean;
  active: string[];
  lastJob?: { name: string; state: string; started?: string };
}

export function jobState(job: KubeObject): string {
  const status = isObject(job.status) ? job.status : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [];
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return 'Complete';
  if (conditions.some((c) => c.type === 'Failed' && c.status === 'True')) return 'Failed';
  if (typeof status.active === 'number' && status.active > 0) return 'Running';
  if (typeof status.succeeded === 'number' && status.succeeded > 0) return 'Complete';
  return 'Pending';
}

/** Reads a CronJob's state as `kubectl get cronjob` + its jobs would show it. */
export function cronJobStatus(
  cronjob: KubeObject,
  jobs: readonly KubeObject[] | undefined,
  now: Date,
): CronJobStatus {
  const spec = cronSpec(cronjob);
  const status = isObject(cronjob.status) ? cronjob.status : {};
  const schedule = scheduleOf(cronjob);
  const timeZone = timeZoneOf(cronjob);
  const next = schedule ? nextRun(schedule, now, timeZone) : undefined;
  const active = (Array.isArray(status.active) ? status.active : [])
    .map((ref) => (isObject(ref) && typeof ref.name === 'string' ? ref.name : undefined))
    .filter((name): name is string => name !== undefined);
  const owned = (jobs ?? [])
    .filter((job) =>
      (job.metadata.ownerReferences ?? []).some(
        (owner) => owner.kind === 'CronJob' && owner.name === cronjob.metadata.name,
      ),
    )
    .sort((a, b) =>
      (iso(a.metadata.creationTimestamp) ?? '').localeCompare(iso(b.metadata.creationTimestamp) ?? ''),
    );
  const last = owned[owned.length - 1];
  return {
    name: cronjob.metadata.name,
    schedule,
    words: schedule ? describeCron(schedule, timeZone) : '(no schedule)',
    timeZone,
    nextRun: spec.suspend === true ? undefined : next?.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    lastScheduleTime: iso(status.lastScheduleTime),
    lastSuccessfulTime: iso(status.lastSuccessfulTime),
    suspend: spec.suspend === true,
    active,
    lastJob: last
      ? { name: last.metadata.name, state: jobState(last), started: iso(last.metadata.creationTimestamp) }
      : undefined,
  };
}

export function describeStatus(status: CronJobStatus, now: Date): string {
  const parts = [
    `${status.schedule ?? '(no schedule)'} (${status.words})`,
    status.suspend
      ? 'SUSPENDED'
      : status.nextRun
        ? `next run ${shortTime(status.nextRun)} (${inAbout(new Date(status.nextRun).getTime() - now.getTime())})`
        : 'next run unknown',
    `last scheduled ${shortTime(status.lastScheduleTime)}`,
    `last successful ${shortTime(status.lastSuccessfulTime)}`,
    `active jobs: ${status.active.length > 0 ? status.active.join(', ') : 'none'}`,
  ];
  if (status.lastJob) parts.push(`last job ${status.lastJob.name} (${status.lastJob.state})`);
  return parts.join(' · ');
}
