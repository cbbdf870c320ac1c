/** prerequisites.cluster: the API server answers, the namespace exists, and the runbook's API calls are allowed (kubectl auth can-i). */
import { defineStep } from '../define.js';
import type { Values } from '../../runbook/values.js';
import type { Check } from '../../runbook/step.js';
import { askPermissions, REQUIRED_PERMISSIONS, resourceName } from '../kit/permissions.js';

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
