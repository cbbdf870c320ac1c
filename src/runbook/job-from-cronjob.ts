import type { KubeObject } from './kube-object.js';

/** The annotation kubectl (and the CronJob controller's manual path) puts on a Job made by hand. */
export const INSTANTIATE_ANNOTATION = 'cronjob.kubernetes.io/instantiate';

interface JobTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

/**
 * The Job `kubectl create job --from=cronjob/CRONJOB NAME -n NAMESPACE` builds (kubectl
 * pkg/cmd/create/create_job.go, createJobFromCronJob):
 * - spec = cronjob.spec.jobTemplate.spec, unchanged;
 * - labels = the job template's labels;
 * - annotations = `cronjob.kubernetes.io/instantiate: manual`, then the template's annotations (which win);
 * - one ownerReference to the CronJob with controller: true and no blockOwnerDeletion (kubectl avoids
 *   metav1.NewControllerRef, which would need the cronjobs/finalizers permission).
 * Pure: the CronJob comes from a GET; the caller creates the result.
 */
export function jobFromCronJob(cronJob: KubeObject, name: string, namespace?: string): KubeObject {
  if (cronJob.kind !== 'CronJob')
    throw new Error(`${cronJob.kind}/${cronJob.metadata.name} is not a CronJob`);
  const spec = cronJob.spec as { jobTemplate?: JobTemplate } | undefined;
  const template = spec?.jobTemplate;
  if (!template?.spec) throw new Error(`CronJob ${cronJob.metadata.name} has no spec.jobTemplate.spec`);
  const annotations: Record<string, string> = {
    [INSTANTIATE_ANNOTATION]: 'manual',
    ...(template.metadata?.annotations ?? {}),
  };
  const labels = template.metadata?.labels;
  const ownerReference: Record<string, unknown> = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    name: cronJob.metadata.name,
    uid: cronJob.metadata.uid ?? '',
    controller: true,
  };
  const metadata: KubeObject['metadata'] = {
    name,
    ...((namespace ?? cronJob.metadata.namespace)
      ? { namespace: namespace ?? cronJob.metadata.namespace }
      : {}),
    ...(labels && Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}),
    annotations,
    ownerReferences: [ownerReference],
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata,
    spec: structuredClone(template.spec),
  };
}

/** The kubectl line that does the same. */
export function createJobCommand(cronJobName: string, jobName: string, namespace: string): string {
  return `kubectl create job --from=cronjob/${cronJobName} ${jobName} --namespace ${namespace}`;
}

/**
 * A Job name that is free: `name` itself, or `name-2`, `name-3`, … (Job names are DNS labels: ≤ 63
 * characters, and the pods get a suffix, so keep it short).
 */
export function suffixedJobName(name: string, taken: (candidate: string) => boolean): string {
  if (!taken(name)) return name;
  for (let n = 2; n < 1000; n++) {
    const candidate = `${name.slice(0, 56)}-${n}`;
    if (!taken(candidate)) return candidate;
  }
  throw new Error(`no free Job name like ${name}`);
}
