/** The Kubernetes permissions the runbook needs, asked of the API (SelfSubjectAccessReview), for prerequisites and troubleshoot. */
import type { KubeAdapter } from '../../adapters/types.js';

export interface Permission {
  verb: string;
  /** `pods/log` names a subresource. */
  resource: string;
  group: string;
  why: string;
  required: boolean;
}

/** What the runbook's later steps do with the API, as `kubectl auth can-i` would ask it. */
export const REQUIRED_PERMISSIONS: readonly Permission[] = [
  ...['secrets', 'configmaps', 'serviceaccounts'].flatMap((resource) =>
    ['create', 'patch'].map((verb) => ({
      verb,
      resource,
      group: '',
      why: 'configure (server-side apply)',
      required: true,
    })),
  ),
  { verb: 'create', resource: 'cronjobs', group: 'batch', why: 'deploy (server-side apply)', required: true },
  { verb: 'patch', resource: 'cronjobs', group: 'batch', why: 'deploy (server-side apply)', required: true },
  {
    verb: 'get',
    resource: 'cronjobs',
    group: 'batch',
    why: 'deploy read-back, synthetic test',
    required: true,
  },
  {
    verb: 'create',
    resource: 'jobs',
    group: 'batch',
    why: 'synthetic test (create job --from=cronjob)',
    required: true,
  },
  { verb: 'get', resource: 'jobs', group: 'batch', why: 'watch the test job', required: false },
  { verb: 'delete', resource: 'jobs', group: 'batch', why: 'clean up the test job', required: false },
  { verb: 'list', resource: 'pods', group: '', why: "find the job's pod", required: false },
  { verb: 'get', resource: 'pods/log', group: '', why: 'stream the job log', required: false },
];

/** `secrets`, `jobs.batch`: how kubectl names a resource of a group. */
export function resourceName(permission: { resource: string; group: string }): string {
  return permission.group ? `${permission.resource}.${permission.group}` : permission.resource;
}

/** The API's own access review for each permission, as `kubectl auth can-i` asks it (`pods/log` → subresource). */
export async function askPermissions<P extends Permission>(
  kube: KubeAdapter,
  permissions: readonly P[],
  namespace: string,
): Promise<{ permission: P; answer: { allowed: boolean; reason?: string } }[]> {
  return Promise.all(
    permissions.map(async (permission) => {
      const [resource, subresource] = permission.resource.split('/');
      return {
        permission,
        answer: await kube.canI({
          verb: permission.verb,
          resource: resource ?? permission.resource,
          subresource,
          group: permission.group,
          namespace,
        }),
      };
    }),
  );
}
