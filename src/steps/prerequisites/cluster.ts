/** prerequisites.cluster: the API server answers, the namespace exists, and the runbook's API calls are allowed (kubectl auth can-i). */
import type { KubeAdapter } from '../../adapters/types.js';
import { defineStep } from '../define.js';
import type { Values } from '../../runbook/values.js';
import type { Check } from '../../runbook/step.js';

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

/** `secrets`, `jobs.batch`: how kubectl names a resource of a group. */

export function resourceName(permission: { resource: string; group: string }): string {
  return permission.group ? `${permission.resource}.${permission.group}` : permission.resource;
}

export const cluster = defineStep({
  id: 'prerequisites.cluster',
  section: 'prerequisites',
  title: 'Cluster access and permissions',
  description: 'The API server answers, the namespace exists, and you may create what the runbook creates.',
  inputs: [],
  continueOnFailure: true,
  plan: (_values: Values) => ({
    actions: [
      { summary: 'ask the API server for its version', command: 'kubectl version' },
      { summary: 'check the namespace exists', command: 'kubectl get namespace "$NAMESPACE"' },
      ...REQUIRED_PERMISSIONS.map((permission) => ({
        summary: `may ${permission.verb} ${resourceName(permission)} (${permission.why})`,
        command: `kubectl auth can-i ${permission.verb} ${resourceName(permission)} -n "$NAMESPACE"`,
      })),
    ],
  }),
  async run(ctx) {
    const kube = await ctx.adapters.kube();
    const namespace = kube.target.namespace;
    const checks: Check[] = [];
    const version = await kube.serverVersion();
    checks.push({
      id: 'api',
      label: 'API server answers',
      status: 'ok',
      detail: `${kube.target.server} (context ${kube.target.context}), Kubernetes ${version}`,
    });
    const exists = await kube.namespaceExists(namespace);
    checks.push(
      exists
        ? { id: 'namespace', label: `namespace ${namespace}`, status: 'ok', detail: 'exists' }
        : {
            id: 'namespace',
            label: `namespace ${namespace}`,
            status: 'fail',
            detail: 'does not exist',
            next: `Create it (kubectl create namespace ${namespace}) or pass -n with the right namespace.`,
          },
    );
    const answers = await askPermissions(kube, REQUIRED_PERMISSIONS, namespace);
    for (const { permission, answer } of answers) {
      const name = `${permission.verb} ${resourceName(permission)}`;
      checks.push(
        answer.allowed
          ? { id: `can-i ${name}`, label: `can ${name}`, status: 'ok', detail: permission.why }
          : {
              id: `can-i ${name}`,
              label: `can ${name}`,
              status: permission.required ? 'fail' : 'warn',
              detail: `denied${answer.reason ? `: ${answer.reason}` : ''} — needed for ${permission.why}`,
              next: `Add to the Role in ${namespace}: apiGroups: ["${permission.group}"], resources: ["${permission.resource}"], verbs: ["${permission.verb}"]`,
            },
      );
    }
    const denied = answers
      .filter(({ permission, answer }) => permission.required && !answer.allowed)
      .map(({ permission }) => `${permission.verb} ${resourceName(permission)}`);
    return {
      summary: denied.length
        ? `missing permissions: ${denied.join(', ')}`
        : exists
          ? `cluster ready (${kube.target.context}/${namespace})`
          : `namespace ${namespace} missing`,
      checks,
      data: { server: kube.target.server, context: kube.target.context, version, denied },
    };
  },
});
