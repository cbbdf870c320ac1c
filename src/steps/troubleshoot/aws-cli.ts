/** troubleshoot.aws-cli: the aws CLI here, and in the backup Jobs (exit code 127, "aws: command not found", the apt-get install). */
import { diagnoseJob } from '../../runbook/diagnose.js';
import type { Check } from '../../runbook/step.js';
import { firstLine } from '../../runbook/text.js';
import { defineStep } from '../define.js';
import { planNamespace } from '../kit/apply.js';
import { backupContainer, backupCronJobs, installsAwsCli } from '../kit/backup-cronjobs.js';
import { TROUBLESHOOT_IDS } from './ids.js';
import {
  cronJobMissing,
  evidenceChecks,
  isFailed,
  jobEvidence,
  namespaceEvents,
  podLine,
} from './job-evidence.js';

const AWS_INSTALL_HINT =
  'Install the AWS CLI here: apt-get install awscli, pip install awscli, or the official installer (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html).';
export const awsCli = defineStep({
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
      const version = await ctx.adapters.proc.run('aws', ['--version'], { timeoutMs: 15000 });
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
