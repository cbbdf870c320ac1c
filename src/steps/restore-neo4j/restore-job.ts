/**
 * neo4j-restore.sh as a Kubernetes Job made from CronJob neo4j-daily-backup (the Community one: its image,
 * Secrets, scripts ConfigMap and the StatefulSet's claim at /data), while the StatefulSet is at 0.
 */
import { InterruptedError, RunbookError } from '../../runbook/errors.js';
import type { Ctx } from '../restore-kit/spec.js';
import { createRestoreJob, watchRestoreJob } from '../restore-kit/restore-job-run.js';

export const BACKUP_CRONJOB = 'neo4j-daily-backup';

/**
 * Runs the restore Job on the claim data-<statefulSet>-0. The Job's ServiceAccount may read the
 * StatefulSet (Role neo4j-backup-scaler): the script checks it has no pod before it touches the store.
 * Ctrl+C deletes the Job. Returns the exit code and the log.
 */
export async function runRestoreJob(
  ctx: Ctx,
  statefulSet: string,
  vars: Record<string, string>,
  objectBytes: number,
): Promise<{ exitCode: number; log: string; where: string; seconds: number }> {
  const claim = `data-${statefulSet}-0`;
  const job = await createRestoreJob(
    ctx,
    BACKUP_CRONJOB,
    {
      backupScript: 'neo4j-backup.sh',
      restoreScript: 'neo4j-restore.sh',
      env: vars,
      app: 'neo4j-restore',
      workBytes: objectBytes,
    },
    (cronJob, namespace) => {
      const podSpec = (
        cronJob?.spec as { jobTemplate?: { spec?: { template?: { spec?: Record<string, unknown> } } } }
      )?.jobTemplate?.spec?.template?.spec;
      const mountsClaim = JSON.stringify(podSpec?.volumes ?? []).includes(`"claimName":"${claim}"`);
      if (cronJob && mountsClaim) return undefined;
      return new RunbookError(
        cronJob
          ? `CronJob ${BACKUP_CRONJOB} does not mount the claim ${claim} (it is not the Community one)`
          : `CronJob ${BACKUP_CRONJOB} not found in namespace ${namespace}`,
        {
          next: 'The restore Job is made from it: run the configure and deploy sections first (deploy applies cronjob-neo4j-community.yaml for a Community server).',
        },
      );
    },
  );
  const { kube, ref, namespace, where, started } = job;
  let podName: string | undefined;
  const exitCode = await watchRestoreJob(ctx, job, (summary, pods) => {
    podName = pods.at(-1)?.metadata.name ?? podName;
    ctx.progress({ message: `${where}: ${summary.phase} · ${Math.round((Date.now() - started) / 1000)} s` });
  });
  if (exitCode === undefined) {
    await kube.delete(ref, { propagationPolicy: 'Foreground' }).catch(() => undefined);
    throw new InterruptedError();
  }
  const log = podName ? await kube.podLog(namespace, podName, {}).catch(() => '') : '';
  for (const line of log.split('\n').filter(Boolean)) ctx.log(line);
  return { exitCode, log, where, seconds: Math.round((Date.now() - started) / 100) / 10 };
}
