/**
 * The synthetic test's trigger step: create a Job from the backup CronJob the way `kubectl create job
 * --from=cronjob/…` does, and the typed handle later steps read it through (`jobOf`).
 */
import type { KubeObject } from '../../runbook/kube-object.js';
import { summarizeJob } from '../../runbook/job-status.js';
import { createJobCommand, jobFromCronJob, suffixedJobName } from '../../runbook/job-from-cronjob.js';
import { UsageError } from '../../runbook/errors.js';
import { type Check, outputOf, type Preview, type StepHandle } from '../../runbook/step.js';
import { type Ctx, describeLiveJob, jobRefOf, stepId, type SyntheticTarget, utcStamp } from './target.js';
import { planNamespace } from '../kit/apply.js';
import { defineStep, type RunbookStep, sleep } from '../define.js';

/** What the trigger step hands to wait, verify and cleanup: the Job it created and when. */
export interface TriggerData {
  job: string;
  uid?: string | undefined;
  namespace: string;
  cronJob: string;
  /** Always written; a journal from an older version may lack it (then the Job's creation time is used). */
  triggeredAt?: string;
}

/** Journals written by older versions still decode: only the Job name is required. */
function decodeTrigger(data: Record<string, unknown>): TriggerData | undefined {
  if (typeof data.job !== 'string') return undefined;
  const { triggeredAt, ...rest } = data;
  return { ...rest, ...(typeof triggeredAt === 'string' ? { triggeredAt } : {}) } as unknown as TriggerData;
}

/** The typed handle on a target's trigger step (built per section, so by id). */
export function triggerOutput(target: SyntheticTarget): StepHandle<TriggerData> {
  return outputOf(stepId(target, 'trigger'), decodeTrigger);
}

interface TriggerPreview {
  cronJobFound: boolean;
  existing: boolean;
  existingRunning: boolean;
  /** delete-first | the suffixed name chosen instead */
  action: 'create' | 'delete-first' | 'suffixed';
  jobName: string;
  /** The backup stops the database: the gate asks, naming the downtime expected. */
  downtimePrompt?: string;
}

function triggerPreviewData(preview: Preview | undefined): TriggerPreview | undefined {
  return preview?.data as TriggerPreview | undefined;
}

export function triggerStep(target: SyntheticTarget): RunbookStep<TriggerData> {
  return defineStep<TriggerData>({
    id: stepId(target, 'trigger'),
    section: target.section,
    database: target.database,
    title: 'Run the backup Job now',
    description: `Create Job ${target.jobName} from CronJob ${target.cronJob}, exactly as kubectl create job --from=cronjob/${target.cronJob} does (job template spec, labels, annotations, instantiate: manual, owner reference).`,
    inputs: [],
    plan: (_values, options) => {
      const namespace = planNamespace(options);
      return {
        actions: [
          {
            summary: `read CronJob ${target.cronJob}`,
            command: `kubectl get cronjob ${target.cronJob} --namespace ${namespace}`,
          },
          {
            summary: `create Job ${target.jobName} from its job template`,
            command: createJobCommand(target.cronJob, target.jobName, namespace),
            writes: true,
          },
        ],
        notes: [
          `If a Job named ${target.jobName} exists you choose: delete it first (kubectl delete job ${target.jobName} --cascade=background, confirmed) or use a suffixed name.`,
        ],
      };
    },
    async preview(ctx) {
      const kube = await ctx.adapters.kube();
      const namespace = kube.target.namespace;
      const cronJob = await kube.get({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: target.cronJob,
        namespace,
      });
      const lines: string[] = [];
      const data: TriggerPreview = {
        cronJobFound: cronJob !== undefined,
        existing: false,
        existingRunning: false,
        action: 'create',
        jobName: target.jobName,
      };
      if (!cronJob) {
        lines.push(
          `CronJob ${target.cronJob} not found in namespace ${namespace}: run the deploy section first`,
        );
        return { lines, data: { ...data } };
      }
      lines.push(
        `CronJob ${target.cronJob}: schedule "${String((cronJob.spec as { schedule?: string } | undefined)?.schedule ?? '?')}" in ${namespace}`,
      );
      const downtime = await target.downtime?.(ctx, cronJob);
      if (downtime) {
        lines.push(...downtime.lines);
        data.downtimePrompt = downtime.prompt;
      }
      const existing = await kube.get(jobRefOf(target.jobName, namespace));
      if (!existing) {
        lines.push(`will create Job ${target.jobName}`);
        return { lines, data: { ...data } };
      }
      data.existing = true;
      data.existingRunning = !summarizeJob(existing).finished;
      lines.push(`Job ${target.jobName} already exists: ${describeLiveJob(existing)}`);
      const taken = new Set<string>([target.jobName]);
      const jobs = await kube.list('batch/v1', 'Job', namespace).catch(() => [] as KubeObject[]);
      for (const job of jobs) taken.add(job.metadata.name);
      const suffixed = suffixedJobName(target.jobName, (name) => taken.has(name));
      const choice = await ctx.choose(
        `Job ${target.jobName} already exists (${describeLiveJob(existing)}). What now?`,
        [
          {
            label: `delete ${target.jobName} first (its pods too), then create it again`,
            value: 'delete-first',
            hint: data.existingRunning
              ? 'it is still running: deleting stops that backup'
              : 'asks to confirm',
          },
          { label: `use the name ${suffixed}`, value: suffixed, hint: 'leaves the old Job alone' },
        ],
        'delete-first',
      );
      if (choice === undefined) {
        throw new UsageError(
          `Job ${target.jobName} exists and no choice was made`,
          'Run the step again and pick one.',
        );
      }
      if (choice === 'delete-first') {
        data.action = 'delete-first';
        lines.push(`will delete Job ${target.jobName} (propagationPolicy Background), then create it again`);
      } else {
        data.action = 'suffixed';
        data.jobName = choice;
        lines.push(`will create Job ${choice} instead (the existing ${target.jobName} is left alone)`);
      }
      return { lines, data: { ...data } };
    },
    gate(_values, ctx) {
      const data = triggerPreviewData(ctx.preview);
      if (data?.action !== 'delete-first' && !data?.downtimePrompt) return undefined;
      const prompts = [
        ...(data.action === 'delete-first'
          ? [
              `Delete Job ${target.jobName} in namespace ${ctx.target.namespace || planNamespace(ctx.options)}${data.existingRunning ? ' (it is still running)' : ''} and create it again?`,
            ]
          : []),
        ...(data.downtimePrompt ? [data.downtimePrompt] : []),
      ];
      return {
        kind: 'confirm',
        prompt: prompts.join(' '),
        target: { context: ctx.target.context, namespace: ctx.target.namespace, job: data.jobName },
      };
    },
    async run(ctx) {
      const kube = await ctx.adapters.kube();
      const namespace = kube.target.namespace;
      const decided = triggerPreviewData(ctx.preview);
      const cronJob = await kube.get({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: target.cronJob,
        namespace,
      });
      if (!cronJob) {
        return {
          summary: `CronJob ${target.cronJob} not found in ${namespace}`,
          checks: [
            {
              id: 'cronjob',
              label: `CronJob ${target.cronJob}`,
              status: 'fail',
              detail: `not found in namespace ${namespace}`,
              next: 'Run db-runbook run deploy (it applies ops/db/backup-jobs/cronjobs.yaml).',
            },
          ],
        };
      }
      const jobName = decided?.jobName ?? target.jobName;
      const checks: Check[] = [];
      if (decided?.action === 'delete-first') {
        await kube.delete(jobRefOf(target.jobName, namespace), { propagationPolicy: 'Background' });
        ctx.log(`deleted Job ${target.jobName} (propagationPolicy Background)`);
        // The name is free once the object is gone (Background: immediately; finalizers may delay it).
        const deadline = Date.now() + 30000;
        while ((await kube.get(jobRefOf(target.jobName, namespace))) !== undefined) {
          if (Date.now() > deadline || ctx.signal.aborted) {
            return {
              summary: `Job ${target.jobName} is still being deleted`,
              checks: [
                {
                  id: 'delete',
                  label: `delete Job ${target.jobName}`,
                  status: 'fail',
                  detail: 'the Job still exists 30 s after the delete (finalizers?)',
                  next: `Check kubectl get job ${target.jobName} -n ${namespace} -o yaml (metadata.finalizers), then run the step again.`,
                },
              ],
            };
          }
          await sleep(250, ctx.signal);
        }
        checks.push({
          id: 'delete',
          label: `deleted the old Job ${target.jobName}`,
          status: 'ok',
          detail: 'its pods are removed in the background',
        });
      }
      const job = jobFromCronJob(cronJob, jobName, namespace);
      const triggeredAt = new Date().toISOString();
      const created = await kube.create(job);
      checks.push({
        id: 'job',
        label: `Job ${jobName} created from CronJob ${target.cronJob}`,
        status: 'ok',
        detail: `uid ${created.metadata.uid ?? '?'}, annotation cronjob.kubernetes.io/instantiate=manual, owned by the CronJob`,
      });
      return {
        summary: `Job ${jobName} created at ${utcStamp(new Date(triggeredAt))}`,
        checks,
        data: {
          job: jobName,
          uid: created.metadata.uid,
          namespace,
          cronJob: target.cronJob,
          triggeredAt,
        },
      };
    },
  });
}

/** Which Job the later steps look at: the one this session's trigger created, else the runbook's name. */
export function jobOf(
  ctx: Pick<Ctx, 'from'>,
  target: SyntheticTarget,
): { job: string; triggeredAt?: string } {
  const triggered = ctx.from(triggerOutput(target));
  const job = triggered?.job ?? target.jobName;
  const triggeredAt = triggered?.triggeredAt;
  return triggeredAt ? { job, triggeredAt } : { job };
}
