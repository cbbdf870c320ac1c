/**
 * Deploying the CronJobs: apply ops/db/backup-jobs/cronjobs.yaml by server-side apply into the
 * namespace, with the schedules from POSTGRES_BACKUP_SCHEDULE / NEO4J_BACKUP_SCHEDULE (the manifest's
 * other settings are kept), then read each CronJob back: schedule in words, next run, last schedule,
 * suspend, active and last jobs, and whether the Secrets/ConfigMaps/ServiceAccount it uses exist.
 */
import { readManifestText } from '../adapters/backup-jobs-files.js';
import { communityCronJob, COMMUNITY_MANIFEST, neo4jVariant, type Neo4jVariant } from './neo4j-edition.js';
import { parseAllDocuments } from 'yaml';
import type { Adapters, KubeAdapter, KubeObject } from '../adapters/types.js';
import { describeCron, nextRun } from '../runbook/cron.js';
import { RunbookError } from '../runbook/errors.js';
import { RUNBOOK_MANAGER } from '../runbook/k8s-objects.js';
import type { Check, Plan, StepContext, StepResult } from '../runbook/step.js';
import type { Settings } from '../runbook/options.js';
import type { Values } from '../runbook/values.js';
import {
  applyGate,
  applyObjects,
  backupJobsDir,
  displayPath,
  inspectObjects,
  planNamespace,
  previewLinesFor,
} from './configure.js';
import { defineStep, type RunbookStep } from './define.js';

/** The runbook's CronJobs, the value holding each one's schedule, and the database it backs up. */
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

const MANIFEST = 'cronjobs.yaml';
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
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

export function readManifest(dir: string): KubeObject[] {
  const { path, text } = readManifestText(dir, MANIFEST);
  return parseManifest(text, path);
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

function cronSpec(object: KubeObject): Json {
  return isObject(object.spec) ? object.spec : {};
}

function scheduleOf(object: KubeObject): string | undefined {
  const schedule = cronSpec(object).schedule;
  return typeof schedule === 'string' ? schedule : undefined;
}

function timeZoneOf(object: KubeObject): string | undefined {
  const zone = cronSpec(object).timeZone;
  return typeof zone === 'string' ? zone : undefined;
}

/** A time as the API returned it (client-node turns them into Date objects), as ISO text. */
function iso(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function shortTime(text: string | undefined): string {
  if (!text) return 'never';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function inAbout(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
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

function jobState(job: KubeObject): string {
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

async function readBack(
  kube: KubeAdapter,
  desired: readonly KubeObject[],
  now: Date,
): Promise<{ checks: Check[]; statuses: CronJobStatus[] }> {
  const namespace = kube.target.namespace;
  const cronjobs = desired.filter((object) => object.kind === 'CronJob');
  let jobs: KubeObject[] | undefined;
  let jobsProblem: string | undefined;
  try {
    jobs = await kube.list('batch/v1', 'Job', namespace);
  } catch (error) {
    jobsProblem = (error as Error).message;
  }
  const checks: Check[] = [];
  const statuses: CronJobStatus[] = [];
  for (const object of cronjobs) {
    const live = await kube.get({
      apiVersion: object.apiVersion,
      kind: 'CronJob',
      name: object.metadata.name,
      namespace,
    });
    const id = `status ${object.metadata.name}`;
    if (!live) {
      checks.push({
        id,
        label: `CronJob ${object.metadata.name} read back`,
        status: 'fail',
        detail: 'not found after apply',
        next: 'Check for an admission webhook or policy that removes it: kubectl get events -n ' + namespace,
      });
      continue;
    }
    const status = cronJobStatus(live, jobs, now);
    statuses.push(status);
    const wanted = scheduleOf(object);
    const check: Check = {
      id,
      label: `CronJob ${object.metadata.name}`,
      status: 'ok',
      detail: describeStatus(status, now),
    };
    if (wanted && status.schedule !== wanted) {
      check.status = 'fail';
      check.next = `The cluster has schedule "${status.schedule ?? ''}", not "${wanted}": another field manager may own spec.schedule; run deploy again.`;
    } else if (status.suspend) {
      check.status = 'warn';
      check.next = `It will not run while suspended: kubectl patch cronjob ${object.metadata.name} -n ${namespace} -p '{"spec":{"suspend":false}}'`;
    }
    checks.push(check);
  }
  if (jobsProblem) {
    checks.push({
      id: 'jobs',
      label: 'jobs of the CronJobs',
      status: 'warn',
      detail: `cannot list jobs: ${jobsProblem}`,
      next: `Last jobs are shown when you may list jobs.batch in ${namespace}.`,
    });
  }
  const refs = new Map<string, { kind: string; name: string; optional: boolean; users: string[] }>();
  for (const object of cronjobs) {
    for (const ref of referencedObjects(object)) {
      const key = `${ref.kind}/${ref.name}`;
      const entry = refs.get(key) ?? { ...ref, users: [] };
      entry.users.push(object.metadata.name);
      refs.set(key, entry);
    }
  }
  const missing: string[] = [];
  for (const ref of refs.values()) {
    if (ref.optional) continue;
    try {
      const found = await kube.get({ apiVersion: 'v1', kind: ref.kind, name: ref.name, namespace });
      if (!found) missing.push(`${ref.kind} ${ref.name} (used by ${ref.users.join(', ')})`);
    } catch {
      // Not allowed to read it: the permission check in prerequisites covers that.
    }
  }
  if (refs.size > 0) {
    checks.push(
      missing.length === 0
        ? {
            id: 'references',
            label: 'what the jobs use exists',
            status: 'ok',
            detail: [...refs.values()].map((ref) => `${ref.kind} ${ref.name}`).join(', '),
          }
        : {
            id: 'references',
            label: 'what the jobs use exists',
            status: 'warn',
            detail: `missing: ${missing.join('; ')}`,
            next: 'Create them first: db-runbook run configure (the jobs fail to start without them).',
          },
    );
  }
  return { checks, statuses };
}

/**
 * What deploy applies: cronjobs.yaml rendered, and for a Neo4j that reports Community (and runs as
 * StatefulSet NEO4J_STATEFULSET) the neo4j-daily-backup of cronjob-neo4j-community.yaml instead.
 */
async function desiredObjects(
  ctx: Pick<StepContext<Adapters>, 'values' | 'settings' | 'adapters' | 'signal'>,
  namespace: string,
): Promise<{ objects: KubeObject[]; neo4j?: Neo4jVariant }> {
  const dir = backupJobsDir(ctx.settings);
  const objects = renderManifest(readManifest(dir), ctx.values, namespace, ctx.settings);
  if (!ctx.values.inScope('neo4j')) return { objects };
  const neo4j = await neo4jVariant(ctx);
  if (neo4j.method !== 'dump' || !neo4j.statefulSet) return { objects, neo4j };
  const [community] = renderManifest([communityCronJob(dir, neo4j.statefulSet)], ctx.values, namespace);
  return {
    objects: objects.map((object) =>
      object.kind === 'CronJob' && object.metadata.name === 'neo4j-daily-backup' && community
        ? community
        : object,
    ),
    neo4j,
  };
}

function neo4jLines(neo4j: Neo4jVariant | undefined): string[] {
  if (!neo4j) return [];
  if (neo4j.method === 'dump' && neo4j.statefulSet)
    return [`${neo4j.line}: neo4j-daily-backup comes from ${COMMUNITY_MANIFEST}`];
  if (neo4j.method === 'dump')
    return [
      `${neo4j.line}. NEO4J_STATEFULSET is not set, so the Enterprise CronJob of cronjobs.yaml would fail: set it (Neo4j on Kubernetes), or run neo4j-backup.sh with NEO4J_BACKUP_METHOD=dump from cron on the Neo4j host`,
    ];
  return [neo4j.line];
}

export const cronJobsStep: RunbookStep = defineStep({
  id: 'deploy.cronjobs',
  section: 'deploy',
  title: 'Apply the backup CronJobs',
  description:
    'postgres-daily-backup and neo4j-daily-backup from ops/db/backup-jobs/cronjobs.yaml (server-side apply), with the schedules you set, and postgres-restore-verify (proves the newest PostgreSQL backup restorable daily; restoreVerify: false leaves it out); then read them back.',
  inputs: BACKUP_CRONJOBS.map((job) => job.schedule),
  plan(values, options): Plan {
    const namespace = planNamespace(options);
    const dir = backupJobsDir();
    const manifestPath = displayPath(dir, MANIFEST);
    const notes: string[] = [];
    let manifest: KubeObject[] = [];
    try {
      manifest = readManifest(dir);
    } catch (error) {
      notes.push(`${(error as Error).message}`);
    }
    const rewrites: string[] = [];
    for (const job of BACKUP_CRONJOBS) {
      if (!values.inScope(job.database)) {
        notes.push(`${job.name} is left out: ${job.database} is not in DATABASES.`);
        continue;
      }
      const original = manifest.find(
        (object) => object.kind === 'CronJob' && object.metadata.name === job.name,
      );
      const schedule = values.get(job.schedule) ?? (original ? scheduleOf(original) : undefined);
      const zone = original ? timeZoneOf(original) : 'Etc/UTC';
      if (schedule) notes.push(`${job.name}: ${schedule} — ${describeCron(schedule, zone)}.`);
      if (original && schedule && scheduleOf(original) !== schedule)
        rewrites.push(`spec.schedule of ${job.name} = "${schedule}"`);
    }
    const namespaces = new Set(manifest.map((object) => object.metadata.namespace).filter(Boolean));
    if (
      !namespace.startsWith('"') &&
      (namespaces.size > 1 || (namespaces.size === 1 && !namespaces.has(namespace)))
    )
      rewrites.unshift(`metadata.namespace = ${namespace}`);
    if (rewrites.length > 0)
      notes.push(
        `db-runbook applies the manifest with ${rewrites.join(', ')}; with kubectl, edit those fields in a copy of ${manifestPath} first.`,
      );
    if (values.inScope('neo4j'))
      notes.push(
        `Neo4j Community (CALL dbms.components() says so over Bolt) has no online backup: neo4j-daily-backup then comes from ${COMMUNITY_MANIFEST} (the Job scales StatefulSet ${values.get('NEO4J_STATEFULSET') ?? '$NEO4J_STATEFULSET'} to 0, dumps, scales it back).`,
      );
    return {
      actions: [
        {
          summary: 'read each CronJob and show create / update (which fields) / unchanged',
          command: `kubectl diff --server-side --field-manager=${RUNBOOK_MANAGER} -f ${manifestPath}`,
        },
        {
          summary: `apply ${
            manifest
              .filter((object) => object.kind === 'CronJob')
              .map((object) => object.metadata.name)
              .join(' and ') || 'the CronJobs'
          } (server-side apply, field manager ${RUNBOOK_MANAGER})`,
          command: `kubectl apply --server-side --field-manager=${RUNBOOK_MANAGER} -f ${manifestPath}`,
          writes: true,
        },
        {
          summary: 'read them back: schedule, next run, last schedule, suspend, active and last jobs',
          command: `kubectl get cronjobs,jobs --namespace ${namespace} -o wide`,
        },
      ],
      notes,
    };
  },
  async preview(ctx) {
    const kube = await ctx.adapters.kube();
    const namespace = kube.target.namespace;
    const { objects: desired, neo4j } = await desiredObjects(ctx, namespace);
    const objects = await inspectObjects(kube, desired);
    const now = new Date();
    const lines = [...neo4jLines(neo4j), ...previewLinesFor(objects, namespace)];
    for (const object of desired.filter((item) => item.kind === 'CronJob')) {
      const schedule = scheduleOf(object);
      const next = schedule ? nextRun(schedule, now, timeZoneOf(object)) : undefined;
      lines.push(
        `  ${object.metadata.name} schedule ${scheduleInWords(object)}${next ? `, next run ${shortTime(next.toISOString())}` : ''}`,
      );
    }
    return {
      lines,
      data: {
        namespace,
        objects,
        ...(neo4j ? { neo4jEdition: neo4j.edition ?? 'unknown', neo4jBackupMethod: neo4j.method } : {}),
      },
    };
  },
  gate(_values, ctx) {
    const objects = ctx.preview?.data?.objects;
    const refs = Array.isArray(objects)
      ? (objects as { kind: string; name: string }[])
      : BACKUP_CRONJOBS.map((job) => ({ kind: 'CronJob', name: job.name }));
    return applyGate(refs, ctx, ctx.preview);
  },
  async run(ctx): Promise<StepResult> {
    const kube = await ctx.adapters.kube();
    const namespace = kube.target.namespace;
    const { objects: desired, neo4j } = await desiredObjects(ctx, namespace);
    for (const line of neo4jLines(neo4j)) ctx.log(line);
    const applied = await applyObjects(ctx, desired);
    const now = new Date();
    const back = await readBack(kube, desired, now);
    const checks = [...applied.checks, ...back.checks];
    const failed = checks.filter((check) => check.status === 'fail');
    const changed = applied.objects.filter((object) => object.action !== 'unchanged').length;
    return {
      summary: failed.length
        ? `${failed.length} check(s) failed`
        : `${back.statuses.map((status) => `${status.name} ${status.words}`).join('; ')}${changed === 0 ? ' (unchanged)' : ''}`,
      checks,
      data: {
        namespace,
        objects: applied.objects.map((object) => ({
          kind: object.kind,
          name: object.name,
          action: object.action,
        })),
        cronjobs: back.statuses,
        ...(neo4j
          ? {
              neo4jEdition: neo4j.edition ?? 'unknown',
              neo4jVersion: neo4j.version,
              neo4jBackupMethod: neo4j.method,
            }
          : {}),
      },
    };
  },
});

export const deploySteps: readonly RunbookStep[] = [cronJobsStep];
