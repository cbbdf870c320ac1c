/**
 * Configuration (runbook steps 1–5): the Secrets, ConfigMaps and ServiceAccount the backup jobs read,
 * created or updated by server-side apply (field manager db-runbook) in exactly the shape
 * `kubectl create secret generic` / `kubectl create configmap` produce.
 *
 * Each step: preview (read the live object, show create / update: keys … / unchanged, and who else
 * manages it) → gate (confirm naming namespace and objects; typed when taking fields from another
 * manager) → apply → verify what the server returned.
 */
import { join } from 'node:path';
import type { KubeObject } from '../../adapters/types.js';
import {
  configMapFrom,
  RUNBOOK_MANAGER,
  secretFromLiterals,
  serviceAccount,
} from '../../runbook/k8s-objects.js';
import { shellQuote } from '../../runbook/plan.js';
import type { Plan, PlanAction, StepResult } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { defineStep, type RunbookStep } from '../define.js';
import {
  BACKUP_JOBS_RELATIVE,
  backupJobsDir,
  displayPath,
  listScripts,
  packageRoot,
  readScriptFile,
} from '../../adapters/backup-jobs-files.js';
import {
  applyGate,
  applyObjects,
  createApplyCommand,
  inspectObjects,
  literalFlag,
  planNamespace,
  previewLinesFor,
} from '../kit/apply.js';
import { neo4jScalerRoleStep } from './neo4j-scaler-role.js';

interface ObjectStepSpec extends Pick<
  RunbookStep,
  'id' | 'title' | 'description' | 'inputs' | 'optionalInputs' | 'skippable' | 'database'
> {
  kind: 'Secret' | 'ConfigMap' | 'ServiceAccount';
  name: string;
  /** The object to apply (values are set: the engine checked the inputs). */
  build(values: Values, namespace: string, settings: Record<string, unknown>): KubeObject;
  /** The equivalent kubectl pipeline, secrets masked. */
  command(values: Values, namespace: string): string;
  notes?: (values: Values) => string[];
}

/** A Configuration step that applies one object. */
function objectStep(spec: ObjectStepSpec): RunbookStep {
  const refs = [{ kind: spec.kind, name: spec.name }];
  return defineStep({
    id: spec.id,
    section: 'configure',
    title: spec.title,
    description: spec.description,
    inputs: spec.inputs,
    optionalInputs: spec.optionalInputs,
    skippable: spec.skippable,
    database: spec.database,
    plan(values, options): Plan {
      const namespace = planNamespace(options);
      const actions: PlanAction[] = [
        {
          summary: `read ${spec.kind} ${spec.name} and show create / update (which keys) / unchanged`,
          // describe shows a Secret's key names and sizes, never its values.
          command:
            spec.kind === 'Secret'
              ? `kubectl describe secret ${spec.name} --namespace ${namespace}`
              : `kubectl get ${spec.kind.toLowerCase()} ${spec.name} --namespace ${namespace} --show-managed-fields -o yaml`,
        },
        {
          summary: `create or update ${spec.kind} ${spec.name} (server-side apply, field manager ${RUNBOOK_MANAGER})`,
          command: spec.command(values, namespace),
          writes: true,
        },
      ];
      return { actions, notes: spec.notes?.(values) };
    },
    async preview(ctx) {
      const kube = await ctx.adapters.kube();
      const namespace = kube.target.namespace;
      const objects = await inspectObjects(kube, [spec.build(ctx.values, namespace, ctx.settings)]);
      return { lines: previewLinesFor(objects, namespace), data: { namespace, objects } };
    },
    gate: (_values, ctx) => applyGate(refs, ctx, ctx.preview),
    async run(ctx): Promise<StepResult> {
      const kube = await ctx.adapters.kube();
      const namespace = kube.target.namespace;
      const object = spec.build(ctx.values, namespace, ctx.settings);
      const { checks, objects } = await applyObjects(ctx, [object]);
      const first = objects[0];
      const failed = checks.some((check) => check.status === 'fail');
      return {
        summary: failed
          ? `${spec.kind} ${spec.name} was not applied as intended`
          : `${spec.kind} ${namespace}/${spec.name}: ${first?.line ?? 'applied'}`,
        checks,
        data: {
          namespace,
          objects: objects.map((item) => ({
            kind: item.kind,
            name: item.name,
            action: item.action,
            changedKeys: item.changedKeys,
            removedKeys: item.removedKeys,
          })),
        },
      };
    },
  });
}

// ------------------------------------------------------------------------------ the steps

function secretStep(
  spec: Omit<ObjectStepSpec, 'kind' | 'build' | 'command'> & { keys: (values: Values) => string[] },
): RunbookStep {
  return objectStep({
    ...spec,
    kind: 'Secret',
    build: (values, namespace) =>
      secretFromLiterals(
        spec.name,
        namespace,
        spec.keys(values).map((key) => [key, values.require(key)] as const),
      ),
    command: (values, namespace) =>
      createApplyCommand(
        ['kubectl', 'create', 'secret', 'generic', spec.name, '--namespace', namespace],
        spec.keys(values).map((key) => literalFlag(key, values)),
      ),
  });
}

const STORAGE_KEYS = ['S3_BUCKET', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];

export const storageSecret = secretStep({
  id: 'configure.storage-secret',
  title: 'Secret database-backup-storage (S3 bucket and credentials)',
  description:
    'The bucket, region and access keys the backup jobs use; AWS_ENDPOINT_URL only for an S3-compatible provider.',
  inputs: STORAGE_KEYS,
  optionalInputs: ['AWS_ENDPOINT_URL'],
  name: 'database-backup-storage',
  keys: (values) => [...STORAGE_KEYS, ...(values.get('AWS_ENDPOINT_URL') ? ['AWS_ENDPOINT_URL'] : [])],
  notes: (values) => [
    values.get('AWS_ENDPOINT_URL')
      ? `AWS_ENDPOINT_URL is set: the Secret carries it (S3-compatible provider).`
      : 'AWS_ENDPOINT_URL is not set: AWS S3; the Secret leaves it out.',
  ],
});

const POSTGRES_KEYS = [
  'POSTGRES_HOST',
  'POSTGRES_PORT',
  'POSTGRES_DATABASE',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
];

export const postgresSecret = secretStep({
  id: 'configure.postgres-secret',
  title: 'Secret postgres-backup-credentials',
  description: 'Host, port, database, user and password the PostgreSQL backup job connects with.',
  inputs: POSTGRES_KEYS,
  database: 'postgres',
  name: 'postgres-backup-credentials',
  keys: () => POSTGRES_KEYS,
});

const NEO4J_KEYS = [
  'NEO4J_HOST',
  'NEO4J_BOLT_PORT',
  'NEO4J_DATABASE',
  'NEO4J_USERNAME',
  'NEO4J_PASSWORD',
  'NEO4J_BACKUP_PORT',
];

export const neo4jSecret = secretStep({
  id: 'configure.neo4j-secret',
  title: 'Secret neo4j-backup-credentials',
  description:
    'Host, Bolt port, database, user and password, plus NEO4J_BACKUP_PORT (default 6362): neo4j-admin backups use the backup port, not Bolt.',
  inputs: NEO4J_KEYS,
  database: 'neo4j',
  name: 'neo4j-backup-credentials',
  keys: () => NEO4J_KEYS,
  notes: () => [
    'Backups do not use Bolt: neo4j-admin database backup connects to the backup port (server.backup.listen_address, default 127.0.0.1:6362 — it must listen beyond localhost). NEO4J_BOLT_PORT is for Cypher (the driver db-runbook uses, cypher-shell).',
  ],
});

const SETTINGS_KEYS = ['POSTGRES_S3_PREFIX', 'NEO4J_S3_PREFIX'];

export const settingsConfigMap = objectStep({
  id: 'configure.settings',
  title: 'ConfigMap database-backup-settings (S3 prefixes)',
  description: 'Where in the bucket each database’s backups go.',
  inputs: SETTINGS_KEYS,
  kind: 'ConfigMap',
  name: 'database-backup-settings',
  build: (values, namespace) =>
    configMapFrom('database-backup-settings', namespace, {
      literals: SETTINGS_KEYS.map((key) => [key, values.require(key)] as const),
    }),
  command: (values, namespace) =>
    createApplyCommand(
      ['kubectl', 'create', 'configmap', 'database-backup-settings', '--namespace', namespace],
      SETTINGS_KEYS.map((key) => literalFlag(key, values)),
    ),
});

function scriptFiles(dir: string): { key: string; content: Buffer }[] {
  return listScripts(dir).map((script) => ({ key: script.key, content: readScriptFile(script.path) }));
}

export const scriptsConfigMap = objectStep({
  id: 'configure.scripts',
  title: 'ConfigMap database-backup-scripts (the backup and restore scripts)',
  description:
    'ops/db/backup-jobs/scripts/*.sh, key = file name. Re-apply after the scripts change: the preview names the keys that differ from the cluster’s copy.',
  inputs: [],
  kind: 'ConfigMap',
  name: 'database-backup-scripts',
  build: (_values, namespace, settings) =>
    configMapFrom('database-backup-scripts', namespace, { files: scriptFiles(backupJobsDir(settings)) }),
  command: (_values, namespace) => {
    const dir = backupJobsDir();
    let flags: string[];
    try {
      flags = listScripts(dir).map((script) =>
        shellQuote(`--from-file=${script.key}=${displayPath(dir, `scripts/${script.key}`)}`),
      );
    } catch {
      flags = [`--from-file=${BACKUP_JOBS_RELATIVE}/scripts/`];
    }
    return createApplyCommand(
      ['kubectl', 'create', 'configmap', 'database-backup-scripts', '--namespace', namespace],
      flags,
    );
  },
  notes: () =>
    backupJobsDir() === join(packageRoot(), BACKUP_JOBS_RELATIVE)
      ? [`Paths are relative to the db-runbook package (${packageRoot()}).`]
      : [],
});

export const serviceAccountStep = objectStep({
  id: 'configure.service-account',
  title: 'ServiceAccount database-backup',
  description:
    'The identity the backup pods run as (the CronJobs name it); bind cloud IAM to it if your cluster uses workload identity.',
  inputs: [],
  skippable: true,
  kind: 'ServiceAccount',
  name: 'database-backup',
  build: (_values, namespace) => serviceAccount('database-backup', namespace),
  command: (_values, namespace) =>
    createApplyCommand(
      ['kubectl', 'create', 'serviceaccount', 'database-backup', '--namespace', namespace],
      [],
    ),
});

export const configureSteps: readonly RunbookStep[] = [
  storageSecret,
  postgresSecret,
  neo4jSecret,
  settingsConfigMap,
  scriptsConfigMap,
  serviceAccountStep,
  neo4jScalerRoleStep,
];
