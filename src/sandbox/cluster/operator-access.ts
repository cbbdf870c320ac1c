/**
 * What the sandbox's operator may do, as real RBAC: a ClusterRole bound in each sandbox namespace (and
 * read access to namespaces), with every verb on what the runbook touches. A sandbox fault
 * (`deny=create/secrets`) removes that verb from the rule, so the apiserver itself answers 403.
 */

import type { KubeConfig, V1PolicyRule } from '@kubernetes/client-node';

export interface AccessRule {
  verb: string;
  /** `pods/log` names a subresource. */
  resource: string;
  /** API group; '' is the core group. Omitted: any group that has the resource. */
  group?: string;
}

export const OPERATOR_USER = 'sandbox-operator';
const ROLE = 'db-runbook-sandbox-operator';
const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

/** The runbook's resources by API group. */
const RESOURCES: Record<string, string[]> = {
  '': [
    'secrets',
    'configmaps',
    'serviceaccounts',
    'pods',
    'pods/log',
    'events',
    'persistentvolumeclaims',
    'services',
  ],
  batch: ['jobs', 'cronjobs'],
  apps: ['statefulsets', 'statefulsets/scale', 'deployments', 'deployments/scale'],
  'rbac.authorization.k8s.io': ['roles', 'rolebindings'],
  'events.k8s.io': ['events'],
};

export function operatorRules(denials: AccessRule[]): V1PolicyRule[] {
  const rules: V1PolicyRule[] = [];
  for (const [group, resources] of Object.entries(RESOURCES)) {
    for (const resource of resources) {
      const denied = denials
        .filter((rule) => rule.resource === resource && (rule.group === undefined || rule.group === group))
        .map((rule) => rule.verb);
      const verbs = denied.includes('*') ? [] : VERBS.filter((verb) => !denied.includes(verb));
      if (verbs.length > 0) rules.push({ apiGroups: [group], resources: [resource], verbs });
    }
  }
  return rules;
}

export class OperatorAccess {
  private denials: AccessRule[];

  constructor(
    private readonly admin: KubeConfig,
    private readonly namespaces: string[],
    denials: AccessRule[],
  ) {
    this.denials = [...denials];
  }

  async install(): Promise<void> {
    const { RbacAuthorizationV1Api } = await import('@kubernetes/client-node');
    const rbac = this.admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: ROLE }, rules: operatorRules(this.denials) } });
    await rbac.createClusterRole({
      body: {
        metadata: { name: `${ROLE}-namespaces` },
        rules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: `${ROLE}-namespaces` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${ROLE}-namespaces` },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: OPERATOR_USER }],
      },
    });
    for (const namespace of this.namespaces) {
      await rbac.createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: ROLE, namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ROLE },
          subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: OPERATOR_USER }],
        },
      });
    }
  }

  deny(rule: AccessRule): Promise<void> {
    this.denials.push(rule);
    return this.update(rule, false);
  }

  allow(rule: AccessRule): Promise<void> {
    this.denials = this.denials.filter(
      (denial) =>
        !(denial.verb === rule.verb && denial.resource === rule.resource && denial.group === rule.group),
    );
    return this.update(rule, true);
  }

  /** Rewrites the role, then waits until the apiserver's authorizer answers accordingly. */
  private async update(rule: AccessRule, allowed: boolean): Promise<void> {
    const { AuthorizationV1Api, RbacAuthorizationV1Api } = await import('@kubernetes/client-node');
    const rbac = this.admin.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readClusterRole({ name: ROLE });
    role.rules = operatorRules(this.denials);
    await rbac.replaceClusterRole({ name: ROLE, body: role });
    const authorization = this.admin.makeApiClient(AuthorizationV1Api);
    const [resource = '', subresource] = rule.resource.split('/');
    for (let attempt = 0; attempt < 50; attempt++) {
      const review = await authorization.createSubjectAccessReview({
        body: {
          spec: {
            user: OPERATOR_USER,
            groups: ['system:authenticated'],
            resourceAttributes: {
              verb: rule.verb,
              resource,
              subresource,
              group: rule.group ?? '',
              namespace: this.namespaces[0],
            },
          },
        },
      });
      if (Boolean(review.status?.allowed) === allowed) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
