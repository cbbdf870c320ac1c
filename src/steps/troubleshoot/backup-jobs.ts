/**
 * Troubleshoot diagnostics that read the backup CronJobs' Jobs: "`aws` command not found" (here and
 * in the last failed Job), failed Jobs (exit code, log tail, events → the likely cause in one
 * sentence), slow backups (durations from Job status), and the offer to switch the Neo4j CronJob
 * to NEO4J_BACKUP_MODE=incremental by server-side apply (confirm gate, read back from the API).
 */
import type { KubeObject } from '../../adapters/types.js';
import { formatDuration } from '../../runbook/backup-catalog.js';
import { assessDurations, diagnoseJob, type Diagnosis, jobRun, type JobRun } from '../../runbook/diagnose.js';
import { parseDuration } from '../../runbook/durations.js';
import { scheduleInterval } from '../../runbook/freshness.js';
import { isoOf, type JobSummary } from '../../runbook/job-status.js';
import { shellCommand } from '../../runbook/plan.js';
import { firstLine } from '../../runbook/text.js';
import type { Check, Gate, Preview } from '../../runbook/step.js';
import { planNamespace } from '../kit/apply.js';
import { defineStep, type RunbookStep } from '../define.js';
import { evidenceChecks, jobEvidence, namespaceEvents } from './job-evidence.js';
import {
  activeDeadlineOf,
  backupContainer,
  type BackupCronJob,
  backupCronJobs,
  type Container,
  cronJobRef,
  envValue,
  installsAwsCli,
  scheduleOf,
} from '../kit/backup-cronjobs.js';

export const TROUBLESHOOT_IDS = {
  aws: 'troubleshoot.aws-cli',
  failedJobs: 'troubleshoot.failed-jobs',
  slowBackups: 'troubleshoot.slow-backups',
  incremental: 'troubleshoot.neo4j-incremental',
} as const;

const AWS_INSTALL_HINT =
  'Install the AWS CLI here: apt-get install awscli, pip install awscli, or the official installer (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html).';

function isFailed(job: KubeObject): boolean {
  const conditions = ((job.status ?? {}) as { conditions?: { type?: string; status?: string }[] }).conditions;
  return (conditions ?? []).some(
    (c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True',
  );
}

function isFinished(job: KubeObject): boolean {
  const conditions = ((job.status ?? {}) as { conditions?: { type?: string; status?: string }[] }).conditions;
  return (conditions ?? []).some(
    (c) => (c.type === 'Failed' || c.type === 'Complete') && c.status === 'True',
  );
}

function created(job: KubeObject): string {
  return isoOf(job.metadata.creationTimestamp) ?? '?';
}

function cronJobMissing(cron: BackupCronJob, namespace: string): Check {
  return cron.error
    ? {
        id: `${cron.name}:read`,
        label: `CronJob ${cron.name}`,
        status: 'fail',
        detail: cron.error.message,
        ...(cron.error.next ? { next: cron.error.next } : {}),
      }
    : {
        id: `${cron.name}:read`,
        label: `CronJob ${cron.name}`,
        status: 'warn',
        detail: `not found in namespace ${namespace}`,
        next: 'Deploy it: db-runbook run deploy.',
      };
}

function podLine(summary: JobSummary): string {
  const pod = summary.pod;
  if (!pod) return 'no pod';
  if (pod.exitCode !== undefined)
    return `pod ${pod.name} exit code ${pod.exitCode}${pod.terminatedReason ? ` (${pod.terminatedReason})` : ''}`;
  return `pod ${pod.name} ${pod.phase}${pod.waitingReason ? ` (${pod.waitingReason})` : ''}`;
}

// ---------------------------------------------------------------- aws CLI

const awsCli = defineStep({
  id: TROUBLESHOOT_IDS.aws,
  section: 'troubleshoot',
  title: '`aws` command not found',
  description:
    'The aws CLI on this host (validation and restores), and in the backup Jobs: the last failed Job of each CronJob — exit code 127 or "aws: command not found" in its log — and whether the CronJob installs awscli with apt-get as the manifest does.',
  inputs: [],
  continueOnFailure: true,
  plan: (_values, options) => {
    const namespace = planNamespace(options);
    return {
      actions: [
        { summary: 'find aws on this host', command: 'command -v aws && aws --version' },
        {
          summary: 'the last failed Job of each backup CronJob: its pod’s exit code and log tail',
          command: `kubectl get jobs --namespace ${namespace} -o wide\nkubectl logs job/<last failed job> --tail=40 --namespace ${namespace}`,
        },
        {
          summary: 'does the CronJob install awscli (apt-get) when the image lacks it?',
          command: `kubectl get cronjob postgres-daily-backup --namespace ${namespace} -o jsonpath='{.spec.jobTemplate.spec.template.spec.containers[0].command}'`,
        },
      ],
    };
  },
  async run(ctx) {
    const checks: Check[] = [];
    const path = await ctx.adapters.proc.which('aws');
    if (path) {
      const version = await ctx.adapters.proc.run('aws', ['--version'], { timeoutMs: 15_000 });
      checks.push({
        id: 'host',
        label: 'aws on this host',
        status: version.exitCode === 0 ? 'ok' : 'warn',
        detail:
          version.exitCode === 0
            ? `${firstLine(version.stdout) || firstLine(version.stderr)} (${path})`
            : `${path} did not start (exit ${version.exitCode}): ${firstLine(version.stderr)}`,
        ...(version.exitCode === 0 ? {} : { next: AWS_INSTALL_HINT }),
      });
    } else {
      checks.push({
        id: 'host',
        label: 'aws on this host',
        status: 'fail',
        detail:
          'not found on PATH: aws s3 ls/cp in the runbook’s validation and restore commands will fail here',
        next: AWS_INSTALL_HINT,
      });
    }
    const diagnoses: Record<string, string> = {};
    try {
      const kube = await ctx.adapters.kube();
      const events = await namespaceEvents(kube);
      for (const cron of await backupCronJobs(ctx)) {
        if (!cron.object || cron.error) {
          checks.push(cronJobMissing(cron, kube.target.namespace));
          continue;
        }
        const installs = installsAwsCli(cron.object);
        checks.push({
          id: `${cron.name}:manifest`,
          label: `CronJob ${cron.name} installs awscli when the image lacks it`,
          status: installs === false ? 'warn' : 'ok',
          detail:
            installs === false
              ? `its command has no apt-get install of awscli (image ${backupContainer(cron.object)?.image ?? '?'}): the image must ship aws`
              : 'command -v aws || apt-get install awscli (as in cronjobs.yaml)',
          ...(installs === false
            ? {
                next: 'Re-apply ops/db/backup-jobs/cronjobs.yaml (db-runbook run deploy), or use an image with the aws CLI.',
              }
            : {}),
        });
        const failed = cron.jobs.find(isFailed);
        if (!failed) {
          checks.push({
            id: `${cron.name}:jobs`,
            label: `Jobs of ${cron.name}`,
            status: 'ok',
            detail: cron.jobs.length ? `no failed Job among the ${cron.jobs.length} kept` : 'no Jobs yet',
          });
          continue;
        }
        const view = await jobEvidence(kube, failed, events);
        const diagnosis = diagnoseJob({
          job: view.summary,
          logTail: view.logTail,
          events: view.events,
          ...(installs !== undefined ? { installsAwsCli: installs } : {}),
        });
        if (diagnosis.kind === 'aws-missing' || diagnosis.kind === 'apt-get-failed') {
          diagnoses[cron.name] = diagnosis.cause;
          checks.push({
            id: `${cron.name}:aws`,
            label: `Job ${failed.metadata.name}: aws missing in the container`,
            status: 'fail',
            detail: `${podLine(view.summary)} — ${diagnosis.cause}`,
            next: diagnosis.fix,
          });
          checks.push(...evidenceChecks(`${cron.name}:aws`, view, 'fail'));
        } else {
          checks.push({
            id: `${cron.name}:aws`,
            label: `Job ${failed.metadata.name} (last failed)`,
            status: 'ok',
            detail: `not an aws problem: ${podLine(view.summary)}; ${diagnosis.cause}`,
            next: `See ${TROUBLESHOOT_IDS.failedJobs}.`,
          });
        }
      }
    } catch (error) {
      checks.push({
        id: 'cluster',
        label: 'backup Jobs',
        status: 'warn',
        detail: `cannot read the cluster: ${(error as Error).message}`,
        ...((error as { next?: string }).next ? { next: (error as { next?: string }).next } : {}),
      });
    }
    const jobProblems = Object.entries(diagnoses);
    return {
      summary: jobProblems.length
        ? `aws missing in ${jobProblems.map(([name]) => name).join(', ')}: ${jobProblems[0]?.[1] ?? ''}`
        : path
          ? 'aws found here; no Job failed for lack of it'
          : 'aws is missing on this host',
      checks,
      data: { hostAws: path ?? null, jobs: diagnoses },
    };
  },
});

// ---------------------------------------------------------------- failed jobs

const failedJobs = defineStep({
  id: TROUBLESHOOT_IDS.failedJobs,
  section: 'troubleshoot',
  title: 'Failed backup Jobs',
  description:
    'For each backup CronJob: the last failed Job, its pod’s exit code, log tail and events → the likely cause in one sentence, and the fix.',
  inputs: [],
  continueOnFailure: true,
  plan: (_values, options) => {
    const namespace = planNamespace(options);
    return {
      actions: [
        {
          summary: 'list the Jobs each backup CronJob owns, newest first',
          command: `kubectl get jobs --namespace ${namespace} --sort-by=.metadata.creationTimestamp`,
        },
        {
          summary: 'the last failed one: pod exit code, log tail, events',
          command: [
            `kubectl describe job <job> --namespace ${namespace}`,
            `kubectl logs job/<job> --tail=40 --namespace ${namespace}`,
            `kubectl get events --namespace ${namespace} --field-selector involvedObject.name=<job>`,
          ].join('\n'),
        },
      ],
    };
  },
  async run(ctx) {
    const kube = await ctx.adapters.kube();
    const namespace = kube.target.namespace;
    const events = await namespaceEvents(kube);
    const checks: Check[] = [];
    const found: Record<
      string,
      { job: string; cause: string; fix: string; exitCode?: number; current: boolean }
    > = {};
    for (const cron of await backupCronJobs(ctx)) {
      if (!cron.object || cron.error) {
        checks.push(cronJobMissing(cron, namespace));
        continue;
      }
      const failed = cron.jobs.find(isFailed);
      if (!failed) {
        checks.push({
          id: cron.name,
          label: `CronJob ${cron.name}`,
          status: 'ok',
          detail: cron.jobs.length
            ? `no failed Job among the ${cron.jobs.length} kept (history: 3 succeeded, 5 failed)`
            : 'no Jobs yet (none scheduled or triggered)',
        });
        continue;
      }
      // Still failing when no Job finished successfully after the failed one.
      const newerSuccess = cron.jobs
        .slice(0, cron.jobs.indexOf(failed))
        .find((job) => isFinished(job) && !isFailed(job));
      const view = await jobEvidence(kube, failed, events);
      const diagnosis: Diagnosis = diagnoseJob({
        job: view.summary,
        logTail: view.logTail,
        events: view.events,
        ...(installsAwsCli(cron.object) !== undefined ? { installsAwsCli: installsAwsCli(cron.object) } : {}),
        ...(ctx.values.get('S3_BUCKET') ? { bucket: ctx.values.get('S3_BUCKET') } : {}),
      });
      const status = newerSuccess ? 'warn' : 'fail';
      found[cron.name] = {
        job: failed.metadata.name,
        cause: diagnosis.cause,
        fix: diagnosis.fix,
        ...(view.summary.pod?.exitCode !== undefined ? { exitCode: view.summary.pod.exitCode } : {}),
        current: !newerSuccess,
      };
      checks.push({
        id: cron.name,
        label: `${cron.name}: Job ${failed.metadata.name} failed (created ${created(failed)})`,
        status,
        detail: `${podLine(view.summary)} — likely cause: ${diagnosis.cause}${newerSuccess ? ` (Job ${newerSuccess.metadata.name} succeeded since)` : ''}`,
        next: diagnosis.fix,
      });
      checks.push(...evidenceChecks(cron.name, view, status));
    }
    const current = Object.entries(found).filter(([, entry]) => entry.current);
    return {
      summary:
        current.length > 0
          ? current.map(([name, entry]) => `${name}: ${entry.cause}`).join(' · ')
          : Object.keys(found).length > 0
            ? 'earlier failures, but the newest runs succeeded'
            : 'no failed backup Jobs',
      checks,
      data: { failed: found },
    };
  },
});

// ---------------------------------------------------------------- slow backups

const RUNS_SHOWN = 5;

function runLine(run: JobRun): string {
  const took = run.seconds !== undefined ? formatDuration(run.seconds * 1000) : '?';
  return `${run.name}: ${took} ${run.outcome}${run.startedAt ? ` (started ${run.startedAt.replace('.000Z', 'Z')})` : ''}`;
}

function slowThreshold(settings: Record<string, unknown>): number | undefined {
  const raw = settings.slowBackupThreshold;
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const parsed = parseDuration(String(raw));
  return parsed.ok ? parsed.ms / 1000 : undefined;
}

const slowBackups = defineStep({
  id: TROUBLESHOOT_IDS.slowBackups,
  section: 'troubleshoot',
  title: 'Slow backups',
  description: `The last ${RUNS_SHOWN} Job durations of each backup CronJob from Job status (startTime → completion), against activeDeadlineSeconds, the schedule and the values file's slowBackupThreshold; the Neo4j backup mode.`,
  inputs: [],
  continueOnFailure: true,
  plan: (_values, options) => ({
    actions: [
      {
        summary: `durations of the last ${RUNS_SHOWN} Jobs of each backup CronJob`,
        command: `kubectl get jobs --namespace ${planNamespace(options)} -o custom-columns=NAME:.metadata.name,START:.status.startTime,END:.status.completionTime`,
      },
    ],
    notes: [
      `The fix the runbook names: adjust schedules (deploy section) or incremental Neo4j backups (${TROUBLESHOOT_IDS.incremental}).`,
    ],
  }),
  async run(ctx) {
    const now = new Date();
    const checks: Check[] = [];
    const data: Record<string, unknown> = {};
    let slowNeo4j = false;
    for (const cron of await backupCronJobs(ctx)) {
      if (!cron.object || cron.error) {
        checks.push(cronJobMissing(cron, (await ctx.adapters.kube()).target.namespace));
        continue;
      }
      const runs = cron.jobs.slice(0, RUNS_SHOWN).map((job) => jobRun(job, now));
      const deadline = activeDeadlineOf(cron.object);
      const { schedule, timeZone } = scheduleOf(cron.object, ctx.values, cron.scheduleValue);
      const interval = schedule ? scheduleInterval(schedule, now, timeZone) : undefined;
      const threshold = slowThreshold(ctx.settings);
      const assessment = assessDurations(runs, {
        ...(deadline !== undefined ? { activeDeadlineSeconds: deadline } : {}),
        ...(threshold !== undefined ? { thresholdSeconds: threshold } : {}),
        ...(interval !== undefined ? { intervalSeconds: interval / 1000 } : {}),
      });
      const mode =
        cron.database === 'neo4j'
          ? (envValue(backupContainer(cron.object), 'NEO4J_BACKUP_MODE') ?? 'full')
          : undefined;
      const slow = assessment.verdict === 'slow' || assessment.verdict === 'near-deadline';
      if (slow && cron.database === 'neo4j' && mode !== 'incremental') slowNeo4j = true;
      const next =
        cron.database === 'neo4j' && mode !== 'incremental'
          ? `Switch to incremental backups (${TROUBLESHOOT_IDS.incremental}), or move the schedule to a quieter window (deploy section, e edits schedules).`
          : 'Move the schedule to a quieter window or raise activeDeadlineSeconds (deploy section); look at the database’s load during the run.';
      checks.push({
        id: cron.name,
        label: `${cron.name} durations${mode ? ` (NEO4J_BACKUP_MODE=${mode})` : ''}`,
        status:
          assessment.verdict === 'near-deadline'
            ? 'fail'
            : assessment.verdict === 'slow'
              ? 'warn'
              : assessment.verdict === 'no-runs'
                ? 'skip'
                : 'ok',
        detail:
          runs.length > 0
            ? `${assessment.detail}\n${runs.map((run) => `    ${runLine(run)}`).join('\n')}`
            : assessment.detail,
        ...(slow ? { next } : {}),
      });
      data[cron.name] = { runs, verdict: assessment.verdict, ...(mode ? { mode } : {}) };
    }
    const slowOnes = checks.filter(
      (check) => !check.id.endsWith(':read') && (check.status === 'warn' || check.status === 'fail'),
    );
    return {
      summary: slowOnes.length
        ? `slow: ${slowOnes.map((check) => check.id).join(', ')}${slowNeo4j ? ` — offer: ${TROUBLESHOOT_IDS.incremental}` : ''}`
        : 'backup durations within limits',
      checks,
      data: { ...data, offerIncremental: slowNeo4j },
    };
  },
});

// ---------------------------------------------------------------- the incremental switch

export const NEO4J_CRONJOB = 'neo4j-daily-backup';

export const SWITCH_FIELD_MANAGER = 'db-runbook-troubleshoot';

const MODE_VARIABLE = 'NEO4J_BACKUP_MODE';

interface SwitchPreview {
  found: boolean;
  container?: string;
  mode?: string;
  alreadyIncremental: boolean;
}

function switchData(preview: Preview | undefined): SwitchPreview | undefined {
  return preview?.data as SwitchPreview | undefined;
}

/**
 * The apply configuration: the backup container, by name, with NEO4J_BACKUP_MODE only. The API server
 * merges `containers` and `env` by name under server-side apply, so this field manager comes to own that
 * one variable and deploy's manager keeps the image and every other variable.
 */
export function incrementalApplyConfig(cronJob: KubeObject, mode = 'incremental'): KubeObject {
  const first = ((
    cronJob.spec as { jobTemplate?: { spec?: { template?: { spec?: { containers?: Container[] } } } } }
  )?.jobTemplate?.spec?.template?.spec?.containers ?? [])[0] as Container | undefined;
  const containers = first ? [{ name: first.name, env: [{ name: MODE_VARIABLE, value: mode }] }] : [];
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: cronJob.metadata.name,
      ...(cronJob.metadata.namespace ? { namespace: cronJob.metadata.namespace } : {}),
    },
    spec: { jobTemplate: { spec: { template: { spec: { containers } } } } },
  };
}

const incremental = defineStep({
  id: TROUBLESHOOT_IDS.incremental,
  section: 'troubleshoot',
  database: 'neo4j',
  title: 'Offer: incremental Neo4j backups',
  description: `The runbook's fix for slow Neo4j backups: set ${MODE_VARIABLE}=incremental in CronJob ${NEO4J_CRONJOB} (server-side apply of that variable, field manager ${SWITCH_FIELD_MANAGER}), confirmed first, read back from the API and journaled. Each run then takes a differential on top of the newest chain under NEO4J_S3_PREFIX (a FULL when there is none).`,
  inputs: [],
  plan: (_values, options) => {
    const namespace = planNamespace(options);
    return {
      actions: [
        {
          summary: `read ${MODE_VARIABLE} of CronJob ${NEO4J_CRONJOB}`,
          command: `kubectl get cronjob ${NEO4J_CRONJOB} --namespace ${namespace} -o jsonpath='{.spec.jobTemplate.spec.template.spec.containers[0].env[?(@.name=="${MODE_VARIABLE}")].value}'`,
        },
        {
          summary: `when not incremental, and you confirm: set ${MODE_VARIABLE}=incremental by server-side apply, then read it back`,
          command: shellCommand([
            'kubectl',
            'apply',
            '--server-side',
            `--field-manager=${SWITCH_FIELD_MANAGER}`,
            '--force-conflicts',
            '--namespace',
            namespace,
            '-f',
            '-',
          ]).concat(
            ` <<'EOF'\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: ${NEO4J_CRONJOB}}\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: neo4j-backup, env: [{name: ${MODE_VARIABLE}, value: incremental}]}]}}}}}\nEOF`,
          ),
          writes: true,
        },
      ],
      notes: [
        `A later deploy re-applies cronjobs.yaml (${MODE_VARIABLE}: full) and reports a conflict with ${SWITCH_FIELD_MANAGER}: change the manifest too to keep incremental.`,
      ],
    };
  },
  async preview(ctx) {
    const kube = await ctx.adapters.kube();
    const cronJob = await kube.get(cronJobRef(NEO4J_CRONJOB, kube.target.namespace));
    if (!cronJob)
      return {
        lines: [`CronJob ${NEO4J_CRONJOB} not found in ${kube.target.namespace}: deploy it first`],
        data: { found: false, alreadyIncremental: false } satisfies SwitchPreview,
      };
    const container = backupContainer(cronJob);
    const mode = envValue(container, MODE_VARIABLE) ?? 'full';
    const already = mode === 'incremental';
    const slow = ctx.earlier(TROUBLESHOOT_IDS.slowBackups)?.offerIncremental === true;
    return {
      lines: already
        ? [`CronJob ${NEO4J_CRONJOB}: ${MODE_VARIABLE}=incremental already — nothing to change`]
        : [
            `CronJob ${NEO4J_CRONJOB}, container ${container?.name ?? '?'}: ${MODE_VARIABLE}=${mode}`,
            `offer: set ${MODE_VARIABLE}=incremental (server-side apply, field manager ${SWITCH_FIELD_MANAGER})${slow ? ' — the slow-backups check recommends it' : ''}`,
            'each run downloads the newest chain (every archive verified) and adds a differential; NEO4J_MAX_CHAIN_LENGTH (14) starts a new FULL chain',
          ],
      data: {
        found: true,
        ...(container?.name ? { container: container.name } : {}),
        mode,
        alreadyIncremental: already,
      } satisfies SwitchPreview,
    };
  },
  gate(_values, ctx): Gate | undefined {
    const data = switchData(ctx.preview);
    // Without a preview (db-runbook plan) the gate is shown as it will be asked.
    if (ctx.preview && (!data?.found || data.alreadyIncremental)) return undefined;
    const namespace = ctx.target.namespace || planNamespace(ctx.options);
    return {
      kind: 'confirm',
      prompt: `Switch CronJob ${NEO4J_CRONJOB} in namespace ${namespace} to ${MODE_VARIABLE}=incremental?`,
      target: {
        context: ctx.target.context,
        namespace,
        cronjob: NEO4J_CRONJOB,
        container: data?.container ?? 'neo4j-backup',
        change: `${MODE_VARIABLE}: ${data?.mode ?? 'full'} → incremental`,
        'field manager': SWITCH_FIELD_MANAGER,
      },
    };
  },
  async run(ctx) {
    const kube = await ctx.adapters.kube();
    const namespace = kube.target.namespace;
    const ref = cronJobRef(NEO4J_CRONJOB, namespace);
    const live = await kube.get(ref);
    if (!live)
      return {
        summary: `CronJob ${NEO4J_CRONJOB} not found in ${namespace}`,
        checks: [
          {
            id: 'cronjob',
            label: `CronJob ${NEO4J_CRONJOB}`,
            status: 'skip',
            detail: `not found in namespace ${namespace}: nothing to switch`,
            next: 'Deploy it first: db-runbook run deploy.',
          },
        ],
        data: { cronJob: NEO4J_CRONJOB, changed: false },
      };
    const before = envValue(backupContainer(live), MODE_VARIABLE) ?? 'full';
    if (before === 'incremental')
      return {
        summary: `${MODE_VARIABLE}=incremental already: nothing changed`,
        checks: [{ id: 'mode', label: MODE_VARIABLE, status: 'ok', detail: 'incremental (unchanged)' }],
        data: { cronJob: NEO4J_CRONJOB, from: before, to: before, changed: false },
      };
    await kube.apply(incrementalApplyConfig(live), { force: true, fieldManager: SWITCH_FIELD_MANAGER });
    ctx.log(
      `applied ${MODE_VARIABLE}=incremental to CronJob ${NEO4J_CRONJOB} (was ${before}), field manager ${SWITCH_FIELD_MANAGER}`,
    );
    const after = await kube.get(ref);
    const now = envValue(backupContainer(after), MODE_VARIABLE);
    const ok = now === 'incremental';
    return {
      summary: ok
        ? `CronJob ${NEO4J_CRONJOB}: ${MODE_VARIABLE} ${before} → incremental (read back from the API)`
        : `the API still says ${MODE_VARIABLE}=${now ?? '(unset)'} after the apply`,
      checks: [
        {
          id: 'read-back',
          label: `${MODE_VARIABLE} read back from the API`,
          status: ok ? 'ok' : 'fail',
          detail: ok
            ? `incremental (was ${before}); resourceVersion ${after?.metadata.resourceVersion ?? '?'}`
            : `${now ?? '(unset)'}: another field manager or an admission webhook may have overridden it`,
          next: ok
            ? `The next run takes a differential. To go back: set it to full the same way, or re-run deploy (cronjobs.yaml says full; deploy will report the conflict with ${SWITCH_FIELD_MANAGER}).`
            : `Inspect: kubectl get cronjob ${NEO4J_CRONJOB} -n ${namespace} --show-managed-fields -o yaml`,
        },
      ],
      data: {
        cronJob: NEO4J_CRONJOB,
        from: before,
        to: now ?? null,
        changed: ok,
        fieldManager: SWITCH_FIELD_MANAGER,
      },
    };
  },
});

export const troubleshootJobSteps = { awsCli, failedJobs, slowBackups, incremental } satisfies Record<
  string,
  RunbookStep
>;
