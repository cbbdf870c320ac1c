/** troubleshoot.rbac: every API permission the runbook and this section need, asked one by one, with the Role rules to add. */
import { planNamespace } from '../kit/apply.js';
import { defineStep } from '../define.js';
import type { Check } from '../../runbook/step.js';
import { askPermissions, type Permission, REQUIRED_PERMISSIONS, resourceName } from '../kit/permissions.js';

/** What the troubleshoot section itself does with the API, beside what the rest of the runbook needs. */
const TROUBLESHOOT_PERMISSIONS: readonly Permission[] = [
  {
    verb: 'list',
    resource: 'jobs',
    group: 'batch',
    why: 'troubleshoot: failed Jobs, durations',
    required: false,
  },
  {
    verb: 'list',
    resource: 'events',
    group: '',
    why: 'troubleshoot: events of failed Jobs',
    required: false,
  },
  {
    verb: 'patch',
    resource: 'cronjobs',
    group: 'batch',
    why: 'troubleshoot: incremental switch',
    required: false,
  },
];

function allPermissions(): Permission[] {
  const seen = new Set<string>();
  const out: Permission[] = [];
  for (const permission of [...REQUIRED_PERMISSIONS, ...TROUBLESHOOT_PERMISSIONS]) {
    const key = `${permission.verb} ${permission.resource}.${permission.group}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(permission);
  }
  return out;
}

/** The Role rules that grant `missing`, grouped by API group and resource (YAML lines). */
function roleRules(missing: readonly Pick<Permission, 'verb' | 'resource' | 'group'>[]): string[] {
  const grouped = new Map<string, { group: string; resource: string; verbs: string[] }>();
  for (const permission of missing) {
    const key = `${permission.group}/${permission.resource}`;
    const entry = grouped.get(key) ?? { group: permission.group, resource: permission.resource, verbs: [] };
    if (!entry.verbs.includes(permission.verb)) entry.verbs.push(permission.verb);
    grouped.set(key, entry);
  }
  return [...grouped.values()].map(
    (rule) =>
      `- apiGroups: ["${rule.group}"]\n  resources: ["${rule.resource}"]\n  verbs: [${rule.verbs.map((verb) => `"${verb}"`).join(', ')}]`,
  );
}

export const rbac = defineStep({
  id: 'troubleshoot.rbac',
  section: 'troubleshoot',
  title: 'Permission denied: Kubernetes RBAC',
  description:
    'Every verb the runbook uses, asked as kubectl auth can-i does (SelfSubjectAccessReview); each denial names the Role rule that grants it.',
  inputs: [],
  continueOnFailure: true,
  plan: (_values, options) => ({
    actions: allPermissions().map((permission) => ({
      summary: `may ${permission.verb} ${resourceName(permission)} (${permission.why})`,
      command: `kubectl auth can-i ${permission.verb} ${resourceName(permission)} --namespace ${planNamespace(options)}`,
    })),
  }),
  async run(ctx) {
    const kube = await ctx.adapters.kube();
    const namespace = kube.target.namespace;
    const permissions = allPermissions();
    const answers = await askPermissions(kube, permissions, namespace);
    const checks: Check[] = answers.map(({ permission, answer }) => {
      const name = `${permission.verb} ${resourceName(permission)}`;
      return answer.allowed
        ? { id: name, label: `can ${name}`, status: 'ok', detail: permission.why }
        : {
            id: name,
            label: `can ${name}`,
            status: permission.required ? 'fail' : 'warn',
            detail: `denied${answer.reason ? ` (${answer.reason})` : ''} — needed for ${permission.why}`,
            next: `Add to the Role bound to ${kube.target.user ?? 'you'} in ${namespace}:\n${roleRules([permission])[0] ?? ''}`,
          };
    });
    const missing = answers.filter(({ answer }) => !answer.allowed).map(({ permission }) => permission);
    if (missing.length > 0)
      checks.push({
        id: 'role',
        label: `Role rules to add in ${namespace}`,
        status: missing.some((permission) => permission.required) ? 'fail' : 'warn',
        detail: `\n${roleRules(missing)
          .join('\n')
          .split('\n')
          .map((line) => `    ${line}`)
          .join('\n')}`,
        next: `kubectl auth can-i --list --namespace ${namespace} shows what you may do now.`,
      });
    return {
      summary: missing.length
        ? `denied: ${missing.map((permission) => `${permission.verb} ${resourceName(permission)}`).join(', ')}`
        : `every verb allowed for ${kube.target.user ?? 'this user'} in ${namespace}`,
      checks,
      data: {
        denied: missing.map((permission) => ({
          verb: permission.verb,
          resource: permission.resource,
          group: permission.group,
        })),
      },
    };
  },
});
