/** troubleshoot.failed-jobs: each backup CronJob's failed Jobs, with exit code, log tail and events → the likely cause. */
import { diagnoseJob, type Diagnosis } from '../../runbook/diagnose.js';
import type { Check } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { planNamespace } from '../kit/apply.js';
import { backupCronJobs, installsAwsCli } from '../kit/backup-cronjobs.js';
import { TROUBLESHOOT_IDS } from './ids.js';
import {
  created,
  cronJobMissing,
  evidenceChecks,
  isFailed,
  isFinished,
  jobEvidence,
  namespaceEvents,
  podLine,
} from './job-evidence.js';

export const failedJobs = defineStep({
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
