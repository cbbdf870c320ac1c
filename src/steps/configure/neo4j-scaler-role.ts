/**
 * configure.neo4j-scaler-role (Neo4j Community on Kubernetes): the Role and RoleBinding that let the backup
 * Job scale the Neo4j StatefulSet to 0 for a dump and back.
 */
import { MANAGED_BY_LABEL, RUNBOOK_MANAGER } from '../../runbook/k8s-objects.js';
import type { KubeObject } from '../../runbook/kube-object.js';
import { applyGate, applyObjects, inspectObjects, planNamespace, previewLinesFor } from '../kit/apply.js';
import { defineStep, type RunbookStep } from '../define.js';
import type { Plan, StepResult } from '../../runbook/step.js';
import { NEO4J_SCALER_ROLE } from '../kit/backup-cronjobs.js';

/**
 * What the Community backup Job may do, and nothing more: read one StatefulSet and change its scale
 * (`kubectl scale statefulset/<name>`), bound to ServiceAccount database-backup.
 */
export function neo4jScalerObjects(statefulSet: string, namespace: string): KubeObject[] {
  const labels = { [MANAGED_BY_LABEL]: RUNBOOK_MANAGER };
  return [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: NEO4J_SCALER_ROLE, namespace, labels },
      rules: [
        { apiGroups: ['apps'], resources: ['statefulsets'], resourceNames: [statefulSet], verbs: ['get'] },
        {
          apiGroups: ['apps'],
          resources: ['statefulsets/scale'],
          resourceNames: [statefulSet],
          verbs: ['get', 'patch', 'update'],
        },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: NEO4J_SCALER_ROLE, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: NEO4J_SCALER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: 'database-backup', namespace }],
    },
  ];
}

function scalerCommand(statefulSet: string, namespace: string): string {
  return [
    `kubectl create role ${NEO4J_SCALER_ROLE} --namespace ${namespace} --verb=get,patch,update --resource=statefulsets/scale --resource-name=${statefulSet} --dry-run=client -o yaml \\`,
    `  | kubectl apply --server-side --field-manager=${RUNBOOK_MANAGER} -f -   # plus get on statefulsets/${statefulSet}`,
    `kubectl create rolebinding ${NEO4J_SCALER_ROLE} --namespace ${namespace} --role=${NEO4J_SCALER_ROLE} --serviceaccount=${namespace}:database-backup --dry-run=client -o yaml \\`,
    `  | kubectl apply --server-side --field-manager=${RUNBOOK_MANAGER} -f -`,
  ].join('\n');
}

const NOT_ON_KUBERNETES =
  'NEO4J_STATEFULSET is not set: Neo4j does not run as a StatefulSet here (Enterprise online backups and a Community server on a host need no Kubernetes rights)';
export const neo4jScalerRoleStep: RunbookStep = defineStep({
  id: 'configure.neo4j-scaler-role',
  section: 'configure',
  title: 'Role neo4j-backup-scaler (Community on Kubernetes)',
  description:
    'Neo4j Community has no online backup: its backup Job stops the server by scaling the StatefulSet to 0, dumps the store, and scales it back. This Role lets ServiceAccount database-backup get and scale that one StatefulSet (NEO4J_STATEFULSET) and nothing else.',
  inputs: [],
  optionalInputs: ['NEO4J_STATEFULSET'],
  database: 'neo4j',
  skippable: true,
  plan(values, options): Plan {
    const namespace = planNamespace(options);
    const statefulSet = values.get('NEO4J_STATEFULSET');
    if (!statefulSet) return { actions: [], notes: [`Does not apply: ${NOT_ON_KUBERNETES}.`] };
    return {
      actions: [
        {
          summary: `read Role and RoleBinding ${NEO4J_SCALER_ROLE} and show create / update / unchanged`,
          command: `kubectl get role,rolebinding ${NEO4J_SCALER_ROLE} --namespace ${namespace} -o yaml`,
        },
        {
          summary: `let ServiceAccount database-backup get and scale StatefulSet ${statefulSet} only`,
          command: scalerCommand(statefulSet, namespace),
          writes: true,
        },
      ],
    };
  },
  async preview(ctx) {
    const statefulSet = ctx.values.get('NEO4J_STATEFULSET');
    if (!statefulSet) return { lines: [`does not apply: ${NOT_ON_KUBERNETES}`], data: { applies: false } };
    const kube = await ctx.adapters.kube();
    const namespace = kube.target.namespace;
    const objects = await inspectObjects(kube, neo4jScalerObjects(statefulSet, namespace));
    return { lines: previewLinesFor(objects, namespace), data: { namespace, objects, applies: true } };
  },
  gate: (values, ctx) =>
    ctx.preview?.data?.applies === false || !values.get('NEO4J_STATEFULSET')
      ? undefined
      : applyGate(
          [
            { kind: 'Role', name: NEO4J_SCALER_ROLE },
            { kind: 'RoleBinding', name: NEO4J_SCALER_ROLE },
          ],
          ctx,
          ctx.preview,
        ),
  async run(ctx): Promise<StepResult> {
    const statefulSet = ctx.values.get('NEO4J_STATEFULSET');
    if (!statefulSet)
      return {
        summary: 'does not apply: no NEO4J_STATEFULSET',
        checks: [{ id: 'applies', label: 'does not apply', status: 'skip', detail: NOT_ON_KUBERNETES }],
        data: { applies: false },
      };
    const kube = await ctx.adapters.kube();
    const namespace = kube.target.namespace;
    const { checks, objects } = await applyObjects(ctx, neo4jScalerObjects(statefulSet, namespace));
    const failed = checks.some((check) => check.status === 'fail');
    return {
      summary: failed
        ? `Role ${NEO4J_SCALER_ROLE} was not applied as intended`
        : `Role and RoleBinding ${namespace}/${NEO4J_SCALER_ROLE}: database-backup may get and scale statefulset/${statefulSet} only`,
      checks,
      data: {
        applies: true,
        namespace,
        statefulSet,
        objects: objects.map((item) => ({ kind: item.kind, name: item.name, action: item.action })),
      },
    };
  },
});
