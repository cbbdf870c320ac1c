/**
 * What the troubleshoot steps (and the drill) share: the backup CronJobs in scope with the Jobs they
 * own, the evidence a failed Job leaves (newest pod, exit code, log tail, events), the CronJob's
 * container and env, and Cypher over Bolt through the official driver (credentials never in argv).
 */
import { Neo4jError, type Neo4jErrorKind } from '../adapters/neo4j.js';
import type { Adapters, KubeAdapter, KubeObject } from '../adapters/types.js';
import { describeEvents, eventsFor, type EventSummary } from '../runbook/diagnose.js';
import { RunbookError } from '../runbook/errors.js';
import { byCreation, isoOf, summarizeJob, type JobSummary } from '../runbook/job-status.js';
import { shellCommand } from '../runbook/plan.js';
import type { Check, StepContext } from '../runbook/step.js';
import type { Values } from '../runbook/values.js';
import { BACKUP_CRONJOBS } from './deploy.js';

type Ctx = StepContext<Adapters>;

export const LOG_TAIL_LINES = 40;
export const SHOWN_TAIL_LINES = 10;

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

function ownedBy(job: KubeObject, cronJob: string): boolean {
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

function failure(error: unknown): { message: string; next?: string } {
  if (error instanceof RunbookError)
    return { message: error.message, ...(error.next ? { next: error.next } : {}) };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** The backup CronJobs of the databases in scope, each with the Jobs it owns (one list of Jobs for all). */
export async function backupCronJobs(ctx: Pick<Ctx, 'adapters' | 'values'>): Promise<BackupCronJob[]> {
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

export interface JobEvidenceView {
  summary: JobSummary;
  logTail: string[];
  events: EventSummary[];
}

/** A Job's newest pod, its log tail and the events of the Job and its pods. Missing parts stay empty. */
export async function jobEvidence(
  kube: KubeAdapter,
  job: KubeObject,
  allEvents: readonly KubeObject[],
): Promise<JobEvidenceView> {
  const namespace = job.metadata.namespace ?? kube.target.namespace;
  const uid = job.metadata.uid;
  const pods = await kube
    .list(
      'v1',
      'Pod',
      namespace,
      uid ? `batch.kubernetes.io/controller-uid=${uid}` : `batch.kubernetes.io/job-name=${job.metadata.name}`,
    )
    .catch(() => [] as KubeObject[]);
  const summary = summarizeJob(job, pods);
  const newest = byCreation(pods).at(-1);
  let logTail: string[] = [];
  if (newest) {
    const text = await kube
      .podLog(namespace, newest.metadata.name, { tailLines: LOG_TAIL_LINES })
      .catch(() => '');
    logTail = text.split('\n').filter((line, index, all) => line !== '' || index < all.length - 1);
  }
  const names = new Set([`Job/${job.metadata.name}`, ...pods.map((pod) => `Pod/${pod.metadata.name}`)]);
  return { summary, logTail, events: eventsFor(allEvents, names) };
}

/** Events of the namespace (an empty list when they cannot be read: they are only a clue). */
export async function namespaceEvents(kube: KubeAdapter): Promise<KubeObject[]> {
  return kube.list('v1', 'Event', kube.target.namespace).catch(() => [] as KubeObject[]);
}

/** Check rows for a log tail and events (indented lines under the label). */
export function evidenceChecks(id: string, view: JobEvidenceView, status: Check['status']): Check[] {
  const shown = view.logTail.slice(-SHOWN_TAIL_LINES);
  const checks: Check[] = [
    {
      id: `${id}:log`,
      label: `last ${shown.length} log line${shown.length === 1 ? '' : 's'} of ${view.summary.pod?.name ?? 'the pod'}`,
      status,
      detail: shown.length > 0 ? `\n${shown.map((line) => `    ${line}`).join('\n')}` : '(no log)',
    },
  ];
  const events = describeEvents(view.events);
  if (events.length > 0)
    checks.push({
      id: `${id}:events`,
      label: 'events',
      status,
      detail: `\n${events.map((line) => `    ${line}`).join('\n')}`,
    });
  return checks;
}

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

export { sleep } from './define.js';

// ---------------------------------------------------------------- Neo4j from this host

/** `neo4j://host:7687`, or the values file's `neo4jAddress` (as restore-neo4j reads it). */
export function neo4jAddress(ctx: { values: Values; settings: Record<string, unknown> }): string {
  const fromSettings = ctx.settings.neo4jAddress;
  if (typeof fromSettings === 'string' && fromSettings !== '') return fromSettings;
  return `neo4j://${ctx.values.get('NEO4J_HOST') ?? 'localhost'}:${ctx.values.get('NEO4J_BOLT_PORT') ?? '7687'}`;
}

/** NEO4J_HOME on this host: the values file's `neo4jHome`, else NEO4J_HOME, else the runbook's /var/lib/neo4j. */
export function neo4jHome(settings: Record<string, unknown>): string {
  const fromSettings = settings.neo4jHome;
  if (typeof fromSettings === 'string' && fromSettings !== '') return fromSettings;
  return process.env.NEO4J_HOME ?? '/var/lib/neo4j';
}

export async function neo4jBinary(
  ctx: Pick<Ctx, 'adapters' | 'settings'>,
  name: string,
): Promise<string | undefined> {
  return (
    (await ctx.adapters.proc.which(`${neo4jHome(ctx.settings)}/bin/${name}`)) ??
    (await ctx.adapters.proc.which(name))
  );
}

export interface CypherOutcome {
  ok: boolean;
  /** Each row's values as text (numbers and temporals as Cypher prints them, lists and maps as JSON). */
  rows: string[][];
  /** The same rows as plain values (numbers stay numbers). */
  values: unknown[][];
  error: string;
  /** What went wrong, for the steps that act on it (auth, unavailable, database-not-found, unsupported…). */
  kind?: Neo4jErrorKind;
  /** What to do about it. */
  next?: string;
  /** The credentials are not set: nothing was asked. */
  unavailable?: string;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The cypher-shell command a person would type for the same statement (credentials in the environment). */
export function cypherShellCommand(address: string, statement: string, database?: string): string {
  return shellCommand([
    'cypher-shell',
    '-a',
    address,
    ...(database ? ['-d', database] : []),
    '--format',
    'plain',
    statement,
  ]);
}

/**
 * One Cypher statement over Bolt with the official driver (no cypher-shell, no Java here); the user and
 * password go to the driver's auth token, never to a command line. Parameters travel apart from the text.
 */
export async function cypher(
  ctx: Pick<Ctx, 'adapters' | 'settings' | 'values' | 'signal'>,
  statement: string,
  database?: string,
  params?: Record<string, unknown>,
  address: string = neo4jAddress(ctx),
): Promise<CypherOutcome> {
  const username = ctx.values.get('NEO4J_USERNAME');
  const password = ctx.values.get('NEO4J_PASSWORD');
  if (!username || !password)
    return {
      ok: false,
      rows: [],
      values: [],
      error: '',
      unavailable: 'NEO4J_USERNAME/NEO4J_PASSWORD are not set',
    };
  try {
    const result = await ctx.adapters.neo4j({ address, username, password }).run(statement, {
      ...(database ? { database } : {}),
      ...(params ? { params } : {}),
      signal: ctx.signal,
    });
    return { ok: true, rows: result.rows.map((row) => row.map(cell)), values: result.rows, error: '' };
  } catch (error) {
    if (error instanceof Neo4jError)
      return {
        ok: false,
        rows: [],
        values: [],
        error: error.message,
        kind: error.kind,
        ...(error.next ? { next: error.next } : {}),
      };
    return { ok: false, rows: [], values: [], error: error instanceof Error ? error.message : String(error) };
  }
}

export interface Neo4jServerInfo {
  edition: 'community' | 'enterprise' | string;
  version: string;
}

/** CALL dbms.components(): the server's edition and version (undefined when it cannot be asked: see `error`). */
export async function neo4jServerInfo(
  ctx: Pick<Ctx, 'adapters' | 'settings' | 'values' | 'signal'>,
  address?: string,
): Promise<{ info?: Neo4jServerInfo; outcome: CypherOutcome }> {
  const outcome = await cypher(
    ctx,
    'CALL dbms.components() YIELD name, versions, edition RETURN edition, versions[0] AS version',
    undefined,
    undefined,
    address,
  );
  const row = outcome.values[0];
  if (!outcome.ok || !row) return { outcome };
  return { info: { edition: String(row[0]), version: String(row[1]) }, outcome };
}

/** A Neo4j database name in backticks. */
export function quoteNeo4jName(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}
