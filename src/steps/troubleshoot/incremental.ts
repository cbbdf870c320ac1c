/**
 * troubleshoot.neo4j-incremental: the offer to switch the Neo4j CronJob to NEO4J_BACKUP_MODE=incremental by
 * server-side apply of that one variable (confirm gate, read back from the API).
 */
import type { KubeObject } from '../../runbook/kube-object.js';
import { shellCommand } from '../../runbook/plan.js';
import type { Gate, Preview } from '../../runbook/step.js';
import { planNamespace } from '../kit/apply.js';
import { defineStep } from '../define.js';
import { backupContainer, type Container, cronJobRef, envValue } from '../kit/backup-cronjobs.js';
import { NEO4J_CRONJOB, TROUBLESHOOT_IDS } from './ids.js';
import { slowBackups } from './slow-backups.js';

const SWITCH_FIELD_MANAGER = 'db-runbook-troubleshoot';

const MODE_VARIABLE = 'NEO4J_BACKUP_MODE';

interface SwitchPreview {
  found: boolean;
  container?: string;
  mode?: string;
  alreadyIncremental: boolean;
}

function switchData(preview: Preview | undefined): SwitchPreview | undefined {
  return preview?.data as SwitchPreview | undefined;
}

/**
 * The apply configuration: the backup container, by name, with NEO4J_BACKUP_MODE only. The API server
 * merges `containers` and `env` by name under server-side apply, so this field manager comes to own that
 * one variable and deploy's manager keeps the image and every other variable.
 */
function incrementalApplyConfig(cronJob: KubeObject, mode = 'incremental'): KubeObject {
  const first = ((
    cronJob.spec as { jobTemplate?: { spec?: { template?: { spec?: { containers?: Container[] } } } } }
  )?.jobTemplate?.spec?.template?.spec?.containers ?? [])[0] as Container | undefined;
  const containers = first ? [{ name: first.name, env: [{ name: MODE_VARIABLE, value: mode }] }] : [];
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: cronJob.metadata.name,
      ...(cronJob.metadata.namespace ? { namespace: cronJob.metadata.namespace } : {}),
    },
    spec: { jobTemplate: { spec: { template: { spec: { containers } } } } },
  };
}

export const incremental = defineStep({
  id: TROUBLESHOOT_IDS.incremental,
  section: 'troubleshoot',
  database: 'neo4j',
  title: 'Offer: incremental Neo4j backups',
  description: `The runbook's fix for slow Neo4j backups: set ${MODE_VARIABLE}=incremental in CronJob ${NEO4J_CRONJOB} (server-side apply of that variable, field manager ${SWITCH_FIELD_MANAGER}), confirmed first, read back from the API and journaled. Each run then takes a differential on top of the newest chain under NEO4J_S3_PREFIX (a FULL when there is none).`,
  inputs: [],
  plan: (_values, options) => {
    const namespace = planNamespace(options);
    return {
      actions: [
        {
          summary: `read ${MODE_VARIABLE} of CronJob ${NEO4J_CRONJOB}`,
          command: `kubectl get cronjob ${NEO4J_CRONJOB} --namespace ${namespace} -o jsonpath='{.spec.jobTemplate.spec.template.spec.containers[0].env[?(@.name=="${MODE_VARIABLE}")].value}'`,
        },
        {
          summary: `when not incremental, and you confirm: set ${MODE_VARIABLE}=incremental by server-side apply, then read it back`,
          command: shellCommand([
            'kubectl',
            'apply',
            '--server-side',
            `--field-manager=${SWITCH_FIELD_MANAGER}`,
            '--force-conflicts',
            '--namespace',
            namespace,
            '-f',
            '-',
          ]).concat(
            ` <<'EOF'\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: ${NEO4J_CRONJOB}}\nspec: {jobTemplate: {spec: {template: {spec: {containers: [{name: neo4j-backup, env: [{name: ${MODE_VARIABLE}, value: incremental}]}]}}}}}\nEOF`,
          ),
          writes: true,
        },
      ],
      notes: [
        `A later deploy re-applies cronjobs.yaml (${MODE_VARIABLE}: full) and reports a conflict with ${SWITCH_FIELD_MANAGER}: change the manifest too to keep incremental.`,
      ],
    };
  },
  async preview(ctx) {
    const kube = await ctx.adapters.kube();
    const cronJob = await kube.get(cronJobRef(NEO4J_CRONJOB, kube.target.namespace));
    if (!cronJob)
      return {
        lines: [`CronJob ${NEO4J_CRONJOB} not found in ${kube.target.namespace}: deploy it first`],
        data: { found: false, alreadyIncremental: false } satisfies SwitchPreview,
      };
    const container = backupContainer(cronJob);
    const mode = envValue(container, MODE_VARIABLE) ?? 'full';
    const already = mode === 'incremental';
    const slow = ctx.from(slowBackups)?.offerIncremental === true;
    return {
      lines: already
        ? [`CronJob ${NEO4J_CRONJOB}: ${MODE_VARIABLE}=incremental already — nothing to change`]
        : [
            `CronJob ${NEO4J_CRONJOB}, container ${container?.name ?? '?'}: ${MODE_VARIABLE}=${mode}`,
            `offer: set ${MODE_VARIABLE}=incremental (server-side apply, field manager ${SWITCH_FIELD_MANAGER})${slow ? ' — the slow-backups check recommends it' : ''}`,
            'each run downloads the newest chain (every archive verified) and adds a differential; NEO4J_MAX_CHAIN_LENGTH (14) starts a new FULL chain',
          ],
      data: {
        found: true,
        ...(container?.name ? { container: container.name } : {}),
        mode,
        alreadyIncremental: already,
      } satisfies SwitchPreview,
    };
  },
  gate(_values, ctx): Gate | undefined {
    const data = switchData(ctx.preview);
    // Without a preview (db-runbook plan) the gate is shown as it will be asked.
    if (ctx.preview && (!data?.found || data.alreadyIncremental)) return undefined;
    const namespace = ctx.target.namespace || planNamespace(ctx.options);
    return {
      kind: 'confirm',
      prompt: `Switch CronJob ${NEO4J_CRONJOB} in namespace ${namespace} to ${MODE_VARIABLE}=incremental?`,
      target: {
        context: ctx.target.context,
        namespace,
        cronjob: NEO4J_CRONJOB,
        container: data?.container ?? 'neo4j-backup',
        change: `${MODE_VARIABLE}: ${data?.mode ?? 'full'} → incremental`,
        'field manager': SWITCH_FIELD_MANAGER,
      },
    };
  },
  async run(ctx) {
    const kube = await ctx.adapters.kube();
    const namespace = kube.target.namespace;
    const ref = cronJobRef(NEO4J_CRONJOB, namespace);
    const live = await kube.get(ref);
    if (!live)
      return {
        summary: `CronJob ${NEO4J_CRONJOB} not found in ${namespace}`,
        checks: [
          {
            id: 'cronjob',
            label: `CronJob ${NEO4J_CRONJOB}`,
            status: 'skip',
            detail: `not found in namespace ${namespace}: nothing to switch`,
            next: 'Deploy it first: db-runbook run deploy.',
          },
        ],
        data: { cronJob: NEO4J_CRONJOB, changed: false },
      };
    const before = envValue(backupContainer(live), MODE_VARIABLE) ?? 'full';
    if (before === 'incremental')
      return {
        summary: `${MODE_VARIABLE}=incremental already: nothing changed`,
        checks: [{ id: 'mode', label: MODE_VARIABLE, status: 'ok', detail: 'incremental (unchanged)' }],
        data: { cronJob: NEO4J_CRONJOB, from: before, to: before, changed: false },
      };
    await kube.apply(incrementalApplyConfig(live), { force: true, fieldManager: SWITCH_FIELD_MANAGER });
    ctx.log(
      `applied ${MODE_VARIABLE}=incremental to CronJob ${NEO4J_CRONJOB} (was ${before}), field manager ${SWITCH_FIELD_MANAGER}`,
    );
    const after = await kube.get(ref);
    const now = envValue(backupContainer(after), MODE_VARIABLE);
    const ok = now === 'incremental';
    return {
      summary: ok
        ? `CronJob ${NEO4J_CRONJOB}: ${MODE_VARIABLE} ${before} → incremental (read back from the API)`
        : `the API still says ${MODE_VARIABLE}=${now ?? '(unset)'} after the apply`,
      checks: [
        {
          id: 'read-back',
          label: `${MODE_VARIABLE} read back from the API`,
          status: ok ? 'ok' : 'fail',
          detail: ok
            ? `incremental (was ${before}); resourceVersion ${after?.metadata.resourceVersion ?? '?'}`
            : `${now ?? '(unset)'}: another field manager or an admission webhook may have overridden it`,
          next: ok
            ? `The next run takes a differential. To go back: set it to full the same way, or re-run deploy (cronjobs.yaml says full; deploy will report the conflict with ${SWITCH_FIELD_MANAGER}).`
            : `Inspect: kubectl get cronjob ${NEO4J_CRONJOB} -n ${namespace} --show-managed-fields -o yaml`,
        },
      ],
      data: {
        cronJob: NEO4J_CRONJOB,
        from: before,
        to: now ?? null,
        changed: ok,
        fieldManager: SWITCH_FIELD_MANAGER,
      },
    };
  },
});
