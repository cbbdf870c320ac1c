/** The synthetic test's last step: delete the ad-hoc Job the trigger created (its pods too). */
import { summarizeJob } from '../../runbook/job-status.js';
import { defineStep, type RunbookStep } from '../define.js';
import { planNamespace } from '../kit/apply.js';
import { describeLiveJob, jobRefOf, stepId, type SyntheticTarget } from './target.js';
import { jobOf } from './trigger.js';

export function cleanupStep(target: SyntheticTarget): RunbookStep {
  return defineStep({
    id: stepId(target, 'cleanup'),
    section: target.section,
    database: target.database,
    title: 'Delete the ad-hoc Job',
    description: `Delete Job ${target.jobName} with propagationPolicy Background, so its pods go too. The seeded marker stays in the database as a record of the test.`,
    inputs: [],
    plan: (_values, options) => ({
      actions: [
        {
          summary: `delete Job ${target.jobName} and its pods`,
          command: `kubectl delete job ${target.jobName} --namespace ${planNamespace(options)} --cascade=background`,
          destructive: true,
        },
      ],
    }),
    async preview(ctx) {
      const kube = await ctx.adapters.kube();
      const { job } = jobOf(ctx, target);
      const live = await kube.get(jobRefOf(job, kube.target.namespace));
      return {
        lines: [
          live ? `Job ${job}: ${describeLiveJob(live)}` : `Job ${job} does not exist (nothing to delete)`,
        ],
        data: { job, exists: live !== undefined, running: live ? !summarizeJob(live).finished : false },
      };
    },
    gate(_values, ctx) {
      const data = ctx.preview?.data as { job?: string; exists?: boolean; running?: boolean } | undefined;
      if (data?.exists === false) return undefined;
      const job = data?.job ?? target.jobName;
      return {
        kind: 'confirm',
        prompt: `Delete Job ${job} in namespace ${ctx.target.namespace || planNamespace(ctx.options)} (its pods too)${data?.running ? ' — it is still running' : ''}?`,
        target: { context: ctx.target.context, namespace: ctx.target.namespace, job },
      };
    },
    async run(ctx) {
      const kube = await ctx.adapters.kube();
      const namespace = kube.target.namespace;
      const job = (ctx.preview?.data as { job?: string } | undefined)?.job ?? jobOf(ctx, target).job;
      const live = await kube.get(jobRefOf(job, namespace));
      if (!live) {
        return {
          summary: `Job ${job} was already gone`,
          checks: [
            { id: 'delete', label: `Job ${job}`, status: 'ok', detail: 'does not exist: nothing to delete' },
          ],
          data: { job, deleted: false },
        };
      }
      await kube.delete(jobRefOf(job, namespace), { propagationPolicy: 'Background' });
      return {
        summary: `Job ${job} deleted`,
        checks: [
          {
            id: 'delete',
            label: `Job ${job} deleted`,
            status: 'ok',
            detail: 'propagationPolicy Background: the garbage collector removes its pods',
          },
        ],
        data: { job, deleted: true },
      };
    },
  });
}
