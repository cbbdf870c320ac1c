/**
 * The runbook's backup CronJobs as they are in the cluster: references, their container and its env,
 * deadlines and schedules, the S3 prefixes in scope.
 */
import { BACKUP_CRONJOBS } from '../../runbook/cronjob-manifest.js';
import { RunbookError } from '../../runbook/errors.js';
import { isoOf } from '../../runbook/job-status.js';
import type { KubeObject } from '../../runbook/kube-object.js';
import type { StepContext } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import type { Adapters } from '../../adapters/types.js';

export interface BackupCronJob {
  name: string;
  database: 'postgres' | 'neo4j';
  /** The value holding its schedule (POSTGRES_BACKUP_SCHEDULE…). */
  scheduleValue: string;
  /** The live object; undefined when it does not exist (or could not be read: see `error`). */
  object?: KubeObject;
  /** Jobs it owns, newest first. */
  jobs: KubeObject[];
  error?: { message: string; next?: string };
}

export function cronJobRef(name: string, namespace: string) {
  return { apiVersion: 'batch/v1', kind: 'CronJob', name, namespace };
}

export function jobRef(name: string, namespace: string) {
  return { apiVersion: 'batch/v1', kind: 'Job', name, namespace };
}

export function ownedBy(job: KubeObject, cronJob: string): boolean {
  return (job.metadata.ownerReferences ?? []).some(
    (owner) => owner.kind === 'CronJob' && owner.name === cronJob,
  );
}

/** Newest first, by creation time then start time. */
export function newestFirst(jobs: readonly KubeObject[]): KubeObject[] {
  const key = (job: KubeObject) =>
    `${isoOf(job.metadata.creationTimestamp) ?? ''}|${isoOf((job.status as { startTime?: unknown } | undefined)?.startTime) ?? ''}`;
  return [...jobs].sort((a, b) => key(b).localeCompare(key(a)));
}

export function failure(error: unknown): { message: string; next?: string } {
  if (error instanceof RunbookError)
    return { message: error.message, ...(error.next ? { next: error.next } : {}) };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** The backup CronJobs of the databases in scope, each with the Jobs it owns (one list of Jobs for all). */
export async function backupCronJobs(
  ctx: Pick<StepContext<Adapters>, 'adapters' | 'values'>,
): Promise<BackupCronJob[]> {
  const kube = await ctx.adapters.kube();
  const namespace = kube.target.namespace;
  const inScope = BACKUP_CRONJOBS.filter((job) => ctx.values.inScope(job.database));
  let jobs: KubeObject[] | undefined;
  let listError: { message: string; next?: string } | undefined;
  try {
    jobs = await kube.list('batch/v1', 'Job', namespace);
  } catch (error) {
    listError = failure(error);
  }
  return Promise.all(
    inScope.map(async (spec): Promise<BackupCronJob> => {
      const base = { name: spec.name, database: spec.database, scheduleValue: spec.schedule, jobs: [] };
      try {
        const object = await kube.get(cronJobRef(spec.name, namespace));
        if (listError) return { ...base, ...(object ? { object } : {}), error: listError };
        return {
          ...base,
          ...(object ? { object } : {}),
          jobs: newestFirst((jobs ?? []).filter((job) => ownedBy(job, spec.name))),
        };
      } catch (error) {
        return { ...base, error: failure(error) };
      }
    }),
  );
}

/** The CronJob's job template pod spec. */
export function podSpecOf(cronJob: KubeObject | undefined): Record<string, unknown> | undefined {
  const spec = cronJob?.spec as
    { jobTemplate?: { spec?: { template?: { spec?: Record<string, unknown> } } } } | undefined;
  return spec?.jobTemplate?.spec?.template?.spec;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  [key: string]: unknown;
}

/** The first container of the CronJob's pod template (the backup container). */
export function backupContainer(cronJob: KubeObject | undefined): Container | undefined {
  const containers = podSpecOf(cronJob)?.containers;
  return Array.isArray(containers) ? (containers[0] as Container | undefined) : undefined;
}

export function envValue(container: Container | undefined, name: string): string | undefined {
  return container?.env?.find((variable) => variable.name === name)?.value;
}

/** Whether the container command installs awscli with apt-get when the image lacks it (the manifest's line). */
export function installsAwsCli(cronJob: KubeObject | undefined): boolean | undefined {
  const container = backupContainer(cronJob);
  if (!container) return undefined;
  const text = [...(container.command ?? []), ...(container.args ?? [])].join('\n');
  return /apt-get[^\n]*install/.test(text) && /awscli/.test(text);
}

export function activeDeadlineOf(cronJob: KubeObject | undefined): number | undefined {
  const spec = cronJob?.spec as { jobTemplate?: { spec?: { activeDeadlineSeconds?: number } } } | undefined;
  const value = spec?.jobTemplate?.spec?.activeDeadlineSeconds;
  return typeof value === 'number' ? value : undefined;
}

export function scheduleOf(
  cronJob: KubeObject | undefined,
  values: Values,
  scheduleValue: string,
): { schedule?: string; timeZone?: string; source: string } {
  const spec = cronJob?.spec as { schedule?: unknown; timeZone?: unknown } | undefined;
  if (typeof spec?.schedule === 'string')
    return {
      schedule: spec.schedule,
      ...(typeof spec.timeZone === 'string' ? { timeZone: spec.timeZone } : {}),
      source: `CronJob ${cronJob?.metadata.name}`,
    };
  const fromValues = values.get(scheduleValue);
  return fromValues ? { schedule: fromValues, source: scheduleValue } : { source: 'none' };
}

/** The optional values of a step that reads the backup prefixes with this session's credentials. */
export const S3_KEY_AND_PREFIX_VALUES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'POSTGRES_S3_PREFIX',
  'NEO4J_S3_PREFIX',
] as const;

/** Scopes: the S3 prefixes of the databases in scope. */
export function prefixesInScope(
  values: Values,
): { database: 'postgres' | 'neo4j'; prefix: string; kind: 'postgres' | 'neo4j' }[] {
  const out: { database: 'postgres' | 'neo4j'; prefix: string; kind: 'postgres' | 'neo4j' }[] = [];
  if (values.inScope('postgres'))
    out.push({
      database: 'postgres',
      prefix: values.get('POSTGRES_S3_PREFIX') ?? 'postgres/',
      kind: 'postgres',
    });
  if (values.inScope('neo4j'))
    out.push({ database: 'neo4j', prefix: values.get('NEO4J_S3_PREFIX') ?? 'neo4j/', kind: 'neo4j' });
  return out;
}
export const NEO4J_SCALER_ROLE = 'neo4j-backup-scaler';
