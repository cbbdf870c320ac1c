/**
 * A restore script run as a Kubernetes Job made from a backup CronJob (its image, Secrets and scripts
 * ConfigMap): the Job created, then watched once a second until it ends (restore-postgres, restore-neo4j).
 */
import type { KubeAdapter, KubeObject, KubeRef } from '../../adapters/types.js';
import { RunbookError } from '../../runbook/errors.js';
import { byCreation, type JobSummary, podSelector, summarizeJob } from '../../runbook/job-status.js';
import { restoreJobFromCronJob, restoreJobName, type RestoreJobOptions } from '../../runbook/restore-job.js';
import { sleep } from '../define.js';
import type { Ctx } from './spec.js';

export interface RestoreJob {
  kube: KubeAdapter;
  ref: KubeRef;
  name: string;
  namespace: string;
  /** "Job <name> in <namespace>". */
  where: string;
  /** How to follow its log by hand. */
  follow: string;
  /** When it was created (ms). */
  started: number;
}

/**
 * Creates the restore Job (named after `job.app`) from CronJob `cronJobName` in the target namespace.
 * `refuse` says why that CronJob cannot serve (missing, or not the one that mounts the store): then the
 * error is thrown and nothing is created.
 */
export async function createRestoreJob(
  ctx: Pick<Ctx, 'adapters' | 'log'>,
  cronJobName: string,
  job: Omit<RestoreJobOptions, 'name' | 'namespace'>,
  refuse: (cronJob: KubeObject | undefined, namespace: string) => RunbookError | undefined,
): Promise<RestoreJob> {
  const kube = await ctx.adapters.kube();
  const namespace = kube.target.namespace;
  const cronJob = await kube.get({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    name: cronJobName,
    namespace,
  });
  const refused = refuse(cronJob, namespace);
  if (refused || !cronJob)
    throw refused ?? new RunbookError(`CronJob ${cronJobName} not found in namespace ${namespace}`);
  const name = restoreJobName(job.app, new Date());
  const started = Date.now();
  await kube.create(restoreJobFromCronJob(cronJob, { ...job, name, namespace }));
  const where = `Job ${name} in ${namespace}`;
  const follow = `kubectl logs -f job/${name} -n ${namespace}`;
  ctx.log(`created ${where} from CronJob ${cronJobName} (${follow})`);
  const ref = { apiVersion: 'batch/v1', kind: 'Job', name, namespace };
  return { kube, ref, name, namespace, where, follow, started };
}

/**
 * Polls the Job once a second until it finishes (its pod's exit code; else 0 when it succeeded, 1 when
 * not) or the step's signal aborts (undefined). `onPoll` sees each summary and the Job's pods, newest last.
 */
export async function watchRestoreJob(
  ctx: Pick<Ctx, 'signal'>,
  job: RestoreJob,
  onPoll: (summary: JobSummary, pods: KubeObject[]) => void,
): Promise<number | undefined> {
  for (;;) {
    if (ctx.signal.aborted) return undefined;
    const current = await job.kube.get(job.ref);
    if (!current) throw new RunbookError(`${job.where} disappeared while it ran (deleted by someone?)`);
    const pods = byCreation(await job.kube.list('v1', 'Pod', job.namespace, podSelector(job.name)));
    const summary = summarizeJob(current, pods);
    onPoll(summary, pods);
    if (summary.finished) return summary.pod?.exitCode ?? (summary.phase === 'succeeded' ? 0 : 1);
    await sleep(1000, ctx.signal);
  }
}
