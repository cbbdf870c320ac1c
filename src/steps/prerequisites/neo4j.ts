/** prerequisites.neo4j: the Neo4j edition and version over Bolt, and what Community needs (its StatefulSet and scaler Role). */
import { defineStep } from '../define.js';
import { NEO4J_SCALER_ROLE } from '../kit/backup-cronjobs.js';
import { cypherShellCommand, neo4jServerInfo } from '../clients/cypher.js';
import type { Check } from '../../runbook/step.js';

type Rule = { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs?: string[] };

/** Whether the Role lets its subject `verbs` on `resource` named `name` (and nothing is missing). */
function ruleAllows(
  rules: readonly Rule[],
  resource: string,
  name: string,
  verbs: readonly string[],
): boolean {
  return verbs.every((verb) =>
    rules.some(
      (rule) =>
        (rule.apiGroups ?? []).some((group) => group === 'apps' || group === '*') &&
        (rule.resources ?? []).some((each) => each === resource || each === '*') &&
        (!rule.resourceNames?.length || rule.resourceNames.includes(name)) &&
        (rule.verbs ?? []).some((each) => each === verb || each === '*'),
    ),
  );
}

export const neo4jServer = defineStep({
  id: 'prerequisites.neo4j',
  section: 'prerequisites',
  title: 'Neo4j edition and version',
  description:
    'Asks the server over Bolt (the official driver, CALL dbms.components()) for its edition and version, and says what follows: Enterprise backs up online over the backup port; Community has no online backup, so its backup stops the server (scales StatefulSet NEO4J_STATEFULSET to 0) — the Role neo4j-backup-scaler and its binding are checked.',
  inputs: [],
  optionalInputs: ['NEO4J_HOST', 'NEO4J_BOLT_PORT', 'NEO4J_USERNAME', 'NEO4J_PASSWORD', 'NEO4J_STATEFULSET'],
  database: 'neo4j',
  continueOnFailure: true,
  plan: (values) => {
    const address = `neo4j://${values.get('NEO4J_HOST') ?? '<host>'}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`;
    const statefulSet = values.get('NEO4J_STATEFULSET');
    return {
      actions: [
        {
          summary: 'edition and version, over Bolt with the driver (the same at a shell:)',
          command: cypherShellCommand(address, 'CALL dbms.components() YIELD versions, edition'),
        },
        ...(statefulSet
          ? [
              {
                summary: `Community on Kubernetes: StatefulSet ${statefulSet}, and Role ${NEO4J_SCALER_ROLE} lets database-backup get and scale it`,
                command: `kubectl get statefulset ${statefulSet}\nkubectl get role,rolebinding ${NEO4J_SCALER_ROLE} -o yaml`,
              },
            ]
          : []),
      ],
    };
  },
  async run(ctx) {
    const checks: Check[] = [];
    const { info, outcome } = await neo4jServerInfo(ctx);
    if (!info) {
      checks.push({
        id: 'edition',
        label: 'Neo4j edition and version',
        status: outcome.unavailable ? 'skip' : 'fail',
        detail: outcome.unavailable ?? outcome.error,
        ...(outcome.next ? { next: outcome.next } : {}),
      });
      return {
        summary: `Neo4j not asked: ${outcome.unavailable ?? outcome.error}`,
        checks,
        data: { edition: null },
      };
    }
    const community = info.edition === 'community';
    checks.push({
      id: 'edition',
      label: `Neo4j ${info.version} ${community ? 'Community' : info.edition === 'enterprise' ? 'Enterprise' : info.edition}`,
      status: 'ok',
      detail: community
        ? 'no online backup and no STOP DATABASE: backups stop the server for a dump; the drill restores into a second, isolated instance'
        : 'online backup over the backup port; STOP/START DATABASE around a restore; the drill uses a scratch database',
    });
    const statefulSet = ctx.values.get('NEO4J_STATEFULSET');
    if (community && !statefulSet)
      checks.push({
        id: 'statefulset',
        label: 'NEO4J_STATEFULSET',
        status: 'warn',
        detail: 'not set: a Community backup CronJob needs the StatefulSet it stops',
        next: 'Set NEO4J_STATEFULSET (Neo4j on Kubernetes), or run neo4j-backup.sh with NEO4J_BACKUP_METHOD=dump from cron on the Neo4j host.',
      });
    if (community && statefulSet) {
      const kube = await ctx.adapters.kube();
      const namespace = kube.target.namespace;
      const sts = await kube.get({
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        name: statefulSet,
        namespace,
      });
      checks.push({
        id: 'statefulset',
        label: `StatefulSet ${statefulSet}`,
        status: sts ? 'ok' : 'fail',
        detail: sts
          ? `${String((sts.spec as { replicas?: number } | undefined)?.replicas ?? '?')} replica(s); its store is the claim data-${statefulSet}-0`
          : `not found in namespace ${namespace}`,
        ...(sts ? {} : { next: 'Check NEO4J_STATEFULSET and the namespace (kubectl get statefulsets).' }),
      });
      const role = await kube.get({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        name: NEO4J_SCALER_ROLE,
        namespace,
      });
      const binding = await kube.get({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        name: NEO4J_SCALER_ROLE,
        namespace,
      });
      const rules = ((role?.rules as Rule[] | undefined) ?? []).filter(Boolean);
      const scales =
        ruleAllows(rules, 'statefulsets', statefulSet, ['get']) &&
        ruleAllows(rules, 'statefulsets/scale', statefulSet, ['get', 'patch']);
      const bound = ((binding?.subjects as { kind?: string; name?: string }[] | undefined) ?? []).some(
        (subject) => subject.kind === 'ServiceAccount' && subject.name === 'database-backup',
      );
      // Not there yet is the normal state before configure; there but wrong is a failure.
      const ok = Boolean(role && binding && scales && bound);
      checks.push({
        id: 'scaler-role',
        label: `Role ${NEO4J_SCALER_ROLE}: database-backup may get and scale statefulset/${statefulSet}`,
        status: ok ? 'ok' : !role && !binding ? 'warn' : 'fail',
        detail: !role
          ? `the Role does not exist yet${binding ? '' : ' (nor its RoleBinding)'}: the Community backup Job cannot stop Neo4j without it`
          : !scales
            ? `its rules do not allow get on statefulsets and get+patch on statefulsets/scale for ${statefulSet}`
            : !binding || !bound
              ? 'no RoleBinding of it to ServiceAccount database-backup'
              : 'get statefulsets, get/patch/update statefulsets/scale, that StatefulSet only',
        ...(role && binding && scales && bound
          ? {}
          : { next: 'Create it: db-runbook run configure.neo4j-scaler-role' }),
      });
    }
    const failed = checks.filter((check) => check.status === 'fail');
    return {
      summary: failed.length
        ? `${failed[0]?.label ?? 'a check'} failed`
        : `Neo4j ${info.version} ${info.edition}${community ? ': backups stop the server (dump)' : ': online backups'}`,
      checks,
      data: { edition: info.edition, version: info.version },
    };
  },
});
