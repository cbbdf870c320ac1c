import type { KubeAdapter } from '../../adapters/types.js';
import { shellCommand } from '../../runbook/plan.js';
import type { Check } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { NEO4J_SCALER_ROLE } from '../configure/index.js';
import { defineStep, endpointFlag, type RunbookStep } from '../define.js';
import { cypherShellCommand, neo4jServerInfo } from '../clients/cypher.js';

interface BinarySpec {
  name: string;
  versionArgs: string[];
  purpose: string;
  install: string;
  database?: 'postgres' | 'neo4j';
  /** Not needed for the runbook's usual path: missing is a note, not a failure (why). */
  optional?: string;
}

const BINARIES: readonly BinarySpec[] = [
  {
    name: 'kubectl',
    versionArgs: ['version', '--client'],
    purpose: 'cluster access',
    install: 'https://kubernetes.io/docs/tasks/tools/ — or: apt-get install kubectl (Kubernetes apt repo)',
  },
  {
    name: 'aws',
    versionArgs: ['--version'],
    purpose: 'S3 listing and copies',
    install: 'apt-get install awscli, or pip install awscli',
  },
  {
    name: 'psql',
    versionArgs: ['--version'],
    purpose: 'PostgreSQL seed, restore, validation',
    install: 'apt-get install postgresql-client (its major must be ≥ the pg_dump that made the backup)',
    database: 'postgres',
  },
  {
    name: 'pg_dump',
    versionArgs: ['--version'],
    purpose: 'PostgreSQL safety backups',
    install: 'apt-get install postgresql-client (major ≥ the server)',
    database: 'postgres',
  },
  {
    name: 'neo4j-admin',
    versionArgs: ['--version'],
    purpose: 'a Neo4j restore on this host, the Community drill’s isolated instance',
    install: 'a Neo4j 5 distribution (Java 17) with its bin/ on PATH',
    database: 'neo4j',
    optional:
      'only for restoring on this host or drilling Community here; on Kubernetes the restore runs in a Job, and Cypher goes over Bolt with the built-in driver (no cypher-shell or Java needed here)',
  },
];

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((line) => line.trim() !== '')
      ?.trim() ?? ''
  );
}

const binaries = defineStep({
  id: 'prerequisites.binaries',
  section: 'prerequisites',
  title: 'Tools on this workstation',
  description:
    'kubectl, aws, psql and pg_dump on PATH, with their versions (neo4j-admin only when Neo4j is restored or drilled on this host). No cypher-shell or Java: db-runbook speaks Bolt with the official driver.',
  inputs: [],
  optionalInputs: ['DATABASES'],
  continueOnFailure: true,
  plan: () => ({
    actions: BINARIES.map((binary) => ({
      summary: `find ${binary.name} (${binary.purpose})`,
      command: `command -v ${binary.name} && ${shellCommand([binary.name, ...binary.versionArgs])}`,
    })),
  }),
  async run(ctx) {
    const checks = await Promise.all(
      BINARIES.map(async (binary): Promise<Check> => {
        const inScope = binary.database === undefined || ctx.values.inScope(binary.database);
        const path = await ctx.adapters.proc.which(binary.name);
        if (!path && binary.optional) {
          return {
            id: binary.name,
            label: binary.name,
            status: 'skip',
            detail: `not on PATH: ${binary.optional}`,
          };
        }
        if (!path) {
          return {
            id: binary.name,
            label: binary.name,
            status: inScope ? 'fail' : 'warn',
            detail: inScope
              ? 'not found on PATH'
              : `not found on PATH (${binary.database} is out of scope: DATABASES=${ctx.values.get('DATABASES')})`,
            next: `Install it: ${binary.install}`,
          };
        }
        const version = await ctx.adapters.proc.run(binary.name, binary.versionArgs, { timeoutMs: 15_000 });
        const text = firstLine(version.stdout) || firstLine(version.stderr);
        return {
          id: binary.name,
          label: binary.name,
          status: version.exitCode === 0 ? 'ok' : 'warn',
          detail:
            version.exitCode === 0
              ? `${text} (${path})`
              : `${path} did not report a version (exit ${version.exitCode})`,
        };
      }),
    );
    const missing = checks.filter((check) => check.status === 'fail').map((check) => check.label);
    return {
      summary: missing.length ? `missing: ${missing.join(', ')}` : 'all tools found',
      checks,
      data: { tools: Object.fromEntries(checks.map((check) => [check.id, check.detail ?? ''])) },
    };
  },
});

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

const cluster = defineStep({
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

const s3 = defineStep({
  id: 'prerequisites.s3',
  section: 'prerequisites',
  title: 'S3 bucket',
  description:
    'The bucket answers with these credentials; listing works under each prefix; optionally a write canary.',
  inputs: ['S3_BUCKET', 'AWS_DEFAULT_REGION'],
  optionalInputs: [
    'AWS_ENDPOINT_URL',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'POSTGRES_S3_PREFIX',
    'NEO4J_S3_PREFIX',
  ],
  continueOnFailure: true,
  plan: (values, options) => {
    const bucket = values.get('S3_BUCKET') ?? '$S3_BUCKET';
    const endpoint = endpointFlag(values.get('AWS_ENDPOINT_URL'));
    const actions = [
      { summary: 'HeadBucket', command: `aws s3api head-bucket --bucket ${bucket}${endpoint}` },
      ...prefixes(values).map((prefix) => ({
        summary: `list under ${prefix} (ListObjectsV2, MaxKeys=1)`,
        command: `aws s3api list-objects-v2 --bucket ${bucket} --prefix ${prefix} --max-keys 1${endpoint}`,
      })),
    ];
    const canary = `${values.get('POSTGRES_S3_PREFIX') ?? 'postgres/'}.db-runbook-canary`;
    actions.push({
      summary: options['write-canary']
        ? `write canary: put, head, delete s3://${bucket}/${canary}`
        : 'write canary skipped (it writes; enable with --write-canary, or w in the TUI)',
      command: options['write-canary']
        ? `echo canary | aws s3 cp - s3://${bucket}/${canary}${endpoint} && aws s3 rm s3://${bucket}/${canary}${endpoint}`
        : '',
      ...(options['write-canary'] ? { writes: true } : {}),
    } as { summary: string; command: string });
    return { actions: actions.map((action) => (action.command ? action : { summary: action.summary })) };
  },
  async run(ctx) {
    const s3client = await ctx.adapters.s3();
    const where = `${s3client.target.endpoint ?? `AWS S3 ${s3client.target.region}`}`;
    const checks: Check[] = [];
    try {
      await s3client.headBucket();
      checks.push({
        id: 'bucket',
        label: `bucket ${s3client.target.bucket}`,
        status: 'ok',
        detail: `answers at ${where}`,
      });
    } catch (error) {
      const failure = error as { message: string; next?: string };
      checks.push({
        id: 'bucket',
        label: `bucket ${s3client.target.bucket}`,
        status: 'fail',
        detail: failure.message,
        next: failure.next,
      });
      return { summary: failure.message, checks };
    }
    for (const prefix of prefixes(ctx.values)) {
      try {
        const found = await s3client.list(prefix, { maxKeys: 1 });
        checks.push({
          id: `list ${prefix}`,
          label: `list ${prefix}`,
          status: 'ok',
          detail: found.length ? `objects present (e.g. ${found[0]?.key})` : 'empty (no backups yet)',
        });
      } catch (error) {
        const failure = error as { message: string; next?: string };
        checks.push({
          id: `list ${prefix}`,
          label: `list ${prefix}`,
          status: 'fail',
          detail: failure.message,
          next: failure.next,
        });
      }
    }
    const canaryWanted = ctx.options['write-canary'] === true;
    if (canaryWanted) {
      const key = `${ctx.values.get('POSTGRES_S3_PREFIX') ?? 'postgres/'}.db-runbook-canary-${ctx.sessionId}`;
      try {
        await s3client.put(key, `db-runbook write canary ${new Date().toISOString()}\n`);
        const head = await s3client.head(key);
        await s3client.delete(key);
        checks.push({
          id: 'canary',
          label: 'write canary',
          status: head ? 'ok' : 'fail',
          detail: head ? `put, head and delete of ${key} worked` : `${key} was not readable after put`,
        });
      } catch (error) {
        const failure = error as { message: string; next?: string };
        checks.push({
          id: 'canary',
          label: 'write canary',
          status: 'fail',
          detail: failure.message,
          next: failure.next,
        });
      }
    } else {
      checks.push({
        id: 'canary',
        label: 'write canary',
        status: 'skip',
        detail: 'not run (it writes); use --write-canary',
      });
    }
    const failed = checks.filter((check) => check.status === 'fail');
    return {
      summary: failed.length
        ? `${failed.length} S3 check(s) failed`
        : `bucket ${s3client.target.bucket} ready`,
      checks,
    };
  },
});

function prefixes(values: Values): string[] {
  const out: string[] = [];
  if (values.inScope('postgres')) out.push(values.get('POSTGRES_S3_PREFIX') ?? 'postgres/');
  if (values.inScope('neo4j')) out.push(values.get('NEO4J_S3_PREFIX') ?? 'neo4j/');
  return out;
}

interface Endpoint {
  id: string;
  label: string;
  host?: string;
  port?: string;
  database: 'postgres' | 'neo4j';
  note?: string;
}

function endpoints(values: Values): Endpoint[] {
  return [
    {
      id: 'postgres',
      label: 'PostgreSQL',
      host: values.get('POSTGRES_HOST'),
      port: values.get('POSTGRES_PORT'),
      database: 'postgres' as const,
    },
    {
      id: 'neo4j-bolt',
      label: 'Neo4j Bolt',
      host: values.get('NEO4J_HOST'),
      port: values.get('NEO4J_BOLT_PORT'),
      database: 'neo4j' as const,
      note: 'Cypher over Bolt (the built-in driver)',
    },
    {
      id: 'neo4j-backup',
      label: 'Neo4j backup port',
      host: values.get('NEO4J_HOST'),
      port: values.get('NEO4J_BACKUP_PORT'),
      database: 'neo4j' as const,
      note: 'neo4j-admin database backup; the server must listen beyond 127.0.0.1 (server.backup.listen_address)',
    },
  ].filter((endpoint) => values.inScope(endpoint.database));
}

const network = defineStep({
  id: 'prerequisites.network',
  section: 'prerequisites',
  title: 'Database reachability',
  description:
    'TCP from this machine to PostgreSQL, Neo4j Bolt and the Neo4j backup port. The jobs connect from the cluster.',
  inputs: [],
  optionalInputs: ['POSTGRES_HOST', 'POSTGRES_PORT', 'NEO4J_HOST', 'NEO4J_BOLT_PORT', 'NEO4J_BACKUP_PORT'],
  continueOnFailure: true,
  plan: (values) => ({
    actions: endpoints(values).map((endpoint) => ({
      summary: `TCP ${endpoint.label} ${endpoint.host ?? '?'}:${endpoint.port ?? '?'}`,
      command: `timeout 3 bash -c '</dev/tcp/${endpoint.host ?? '$HOST'}/${endpoint.port ?? '$PORT'}'`,
    })),
    notes: [
      'This tests the route from this machine. The backup jobs connect from inside the cluster: troubleshoot runs a probe Job for that.',
    ],
  }),
  async run(ctx) {
    const checks = await Promise.all(
      endpoints(ctx.values).map(async (endpoint): Promise<Check> => {
        const label = `${endpoint.label} ${endpoint.host ?? '?'}:${endpoint.port ?? '?'}`;
        if (!endpoint.host || !endpoint.port) {
          const missing =
            endpoint.database === 'postgres' ? 'POSTGRES_HOST/POSTGRES_PORT' : 'NEO4J_HOST and its ports';
          return { id: endpoint.id, label, status: 'skip', detail: `${missing} not set` };
        }
        const probe = await ctx.adapters.net.tcpProbe(endpoint.host, Number(endpoint.port));
        return probe.ok
          ? {
              id: endpoint.id,
              label,
              status: 'ok',
              detail: `connected in ${probe.ms} ms${endpoint.note ? ` (${endpoint.note})` : ''}`,
            }
          : {
              id: endpoint.id,
              label,
              // From a workstation an in-cluster service name often does not resolve: the jobs may still reach it.
              status: 'warn',
              detail: probe.reason,
              next: `The jobs connect from the cluster; if they fail too, check the Service and NetworkPolicy.${endpoint.id === 'neo4j-backup' ? ' Neo4j listens for backups on 127.0.0.1:6362 by default: set server.backup.listen_address=0.0.0.0:6362.' : ''}`,
            };
      }),
    );
    const reached = checks.filter((check) => check.status === 'ok').length;
    return { summary: `${reached}/${checks.length} reachable from this machine`, checks };
  },
});

// ---------------------------------------------------------------- Neo4j: edition, version, what follows

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

const neo4jServer = defineStep({
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

export const prerequisitesSteps: readonly RunbookStep[] = [binaries, cluster, s3, network, neo4jServer];
