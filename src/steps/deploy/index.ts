/**
 * Deploying the CronJobs: apply ops/db/backup-jobs/cronjobs.yaml by server-side apply into the
 * namespace, with the schedules from POSTGRES_BACKUP_SCHEDULE / NEO4J_BACKUP_SCHEDULE (the manifest's
 * other settings are kept), then read each CronJob back: schedule in words, next run, last schedule,
 * suspend, active and last jobs, and whether the Secrets/ConfigMaps/ServiceAccount it uses exist.
 */
import { withEnterpriseVerifier } from '../../runbook/verify-image.js';
import { parseValidationQueries } from '../../runbook/pg-queries.js';
import { parseNeo4jSmokeQueries, runnableByJob, smokeQueriesConfigMap } from '../../runbook/smoke-queries.js';
import type { Settings } from '../../runbook/options.js';
import { backupJobsDir, displayPath, readManifestText } from '../../adapters/backup-jobs-files.js';
import {
  COMMUNITY_MANIFEST,
  communityCronJob,
  neo4jVariant,
  type Neo4jVariant,
} from '../clients/neo4j-edition.js';
import type { Adapters, KubeAdapter, KubeObject } from '../../adapters/types.js';
import { describeCron, nextRun } from '../../runbook/cron.js';
import { RUNBOOK_MANAGER } from '../../runbook/k8s-objects.js';
import type { Check, Plan, StepContext, StepResult } from '../../runbook/step.js';
import { applyGate, applyObjects, inspectObjects, planNamespace, previewLinesFor } from '../kit/apply.js';
import { defineStep, type RunbookStep } from '../define.js';
import {
  BACKUP_CRONJOBS,
  type CronJobStatus,
  cronJobStatus,
  describeStatus,
  MANIFEST,
  parseManifest,
  referencedObjects,
  renderManifest,
  RESTORE_VERIFY_CRONJOBS,
  scheduleInWords,
  scheduleOf,
  shortTime,
  timeZoneOf,
} from '../../runbook/cronjob-manifest.js';

export function readManifest(dir: string): KubeObject[] {
  const { path, text } = readManifestText(dir, MANIFEST);
  return parseManifest(text, path);
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
 * StatefulSet NEO4J_STATEFULSET) the neo4j-daily-backup of cronjob-neo4j-community.yaml instead; for one that
 * reports Enterprise, neo4j-restore-verify with the Enterprise image, so it can prove online backups.
 */
async function desiredObjects(
  ctx: Pick<StepContext<Adapters>, 'values' | 'settings' | 'adapters' | 'signal'>,
  namespace: string,
): Promise<{ objects: KubeObject[]; neo4j?: Neo4jVariant; leftOut: string[] }> {
  const dir = backupJobsDir(ctx.settings);
  const { objects, leftOut } = withSmokeQueries(
    renderManifest(readManifest(dir), ctx.values, namespace, ctx.settings),
    ctx.settings,
    namespace,
  );
  if (!ctx.values.inScope('neo4j')) return { objects, leftOut };
  const neo4j = await neo4jVariant(ctx);
  // The Enterprise verify image only for a server that said Enterprise: an unknown edition keeps the shipped one.
  if (neo4j.method === 'online')
    return { objects: neo4j.unknown ? objects : withEnterpriseVerifier(objects), neo4j, leftOut };
  if (!neo4j.statefulSet) return { objects, neo4j, leftOut };
  const [community] = renderManifest([communityCronJob(dir, neo4j.statefulSet)], ctx.values, namespace);
  return {
    objects: objects.map((object) =>
      object.kind === 'CronJob' && object.metadata.name === 'neo4j-daily-backup' && community
        ? community
        : object,
    ),
    neo4j,
    leftOut,
  };
}

/**
 * The smoke queries the restore-verify Jobs run (ConfigMap db-runbook-smoke-queries), applied with them: the
 * values file's smokeQueries (else validationQueries) for PostgreSQL, neo4jSmokeQueries for Neo4j (checked when
 * the values file is read). A PostgreSQL query the Job would refuse is left out, and `leftOut` says why.
 */
function withSmokeQueries(
  objects: KubeObject[],
  settings: Settings,
  namespace: string,
): { objects: KubeObject[]; leftOut: string[] } {
  const verifying = objects.some(
    (object) =>
      object.kind === 'CronJob' && RESTORE_VERIFY_CRONJOBS.some((job) => job.name === object.metadata.name),
  );
  if (!verifying) return { objects, leftOut: [] };
  const key = settings.smokeQueries !== undefined ? 'smokeQueries' : 'validationQueries';
  const postgres = runnableByJob(
    parseValidationQueries(settings[key]).queries.map(({ name, sql, expect }) => ({
      name,
      statement: sql,
      ...(expect === undefined ? {} : { expect }),
    })),
    key,
  );
  const neo4j = parseNeo4jSmokeQueries(settings.neo4jSmokeQueries).queries;
  return {
    objects: [...objects, smokeQueriesConfigMap(namespace, postgres.runnable, neo4j)],
    leftOut: postgres.leftOut.map((why) => `left out of postgres-restore-verify: ${why}`),
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
    'postgres-daily-backup and neo4j-daily-backup from ops/db/backup-jobs/cronjobs.yaml (server-side apply), with the schedules you set, and postgres-restore-verify and neo4j-restore-verify with ConfigMap db-runbook-smoke-queries (they prove the newest backups restorable daily; restoreVerify: false leaves them out); then read them back.',
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
    const { objects: desired, neo4j, leftOut } = await desiredObjects(ctx, namespace);
    const objects = await inspectObjects(kube, desired);
    const now = new Date();
    const lines = [
      ...neo4jLines(neo4j),
      ...leftOut.map((why) => `! smoke query ${why}`),
      ...previewLinesFor(objects, namespace),
    ];
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
    const { objects: desired, neo4j, leftOut } = await desiredObjects(ctx, namespace);
    for (const line of neo4jLines(neo4j)) ctx.log(line);
    const applied = await applyObjects(ctx, desired);
    const now = new Date();
    const back = await readBack(kube, desired, now);
    const smoke: Check[] = leftOut.map((why, index) => ({
      id: `smoke-left-out-${index + 1}`,
      label: 'smoke query not run by the verify Job',
      status: 'warn',
      detail: why,
      next: 'Write it as one statement without ";" or "\\" (the Job runs each alone, read-only), or give the Job its own list in smokeQueries.',
    }));
    const checks = [...applied.checks, ...back.checks, ...smoke];
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
