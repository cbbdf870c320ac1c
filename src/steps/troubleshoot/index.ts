/**
 * The runbook's "Troubleshooting", one diagnostic per step, each independent (a failing one does not
 * stop the next): `aws` command not found, permission denied (S3 per IAM action, Kubernetes RBAC per
 * rule), Neo4j backup failures (the backup port from here and from the cluster, the server's
 * settings), slow backups (durations, and the offer to switch to incremental), failed Jobs, and
 * backup freshness per prefix.
 */
import type { S3Adapter } from '../../adapters/types.js';
import {
  type Backup,
  buildCatalog,
  formatBytes,
  parseVerificationRecord,
  type Verification,
  verificationText,
} from '../../runbook/backup-catalog.js';
import { diagnoseS3Probe } from '../../runbook/diagnose.js';
import { RunbookError } from '../../runbook/errors.js';
import { assessFreshness, type Freshness } from '../../runbook/freshness.js';
import type { Check } from '../../runbook/step.js';
import { planNamespace } from '../kit/apply.js';
import { defineStep, endpointFlag, type RunbookStep } from '../define.js';
import {
  askPermissions,
  type Permission,
  REQUIRED_PERMISSIONS,
  resourceName,
} from '../prerequisites/cluster.js';
import { TROUBLESHOOT_IDS, troubleshootJobSteps } from './backup-jobs.js';
import { neo4jBackupPort } from './neo4j.js';
import {
  backupCronJobs,
  prefixesInScope,
  S3_KEY_AND_PREFIX_VALUES,
  scheduleOf,
} from '../kit/backup-cronjobs.js';

function failureOf(error: unknown): { code?: string; message: string; next?: string } {
  if (error instanceof RunbookError)
    return {
      ...(error.code ? { code: error.code } : {}),
      message: error.message,
      ...(error.next ? { next: error.next } : {}),
    };
  return { message: error instanceof Error ? error.message : String(error) };
}

// ---------------------------------------------------------------- S3 permissions

interface ProbeResult {
  check: Check;
  /** The credentials or the bucket are the problem: probing other actions tells nothing more. */
  blocksOthers: boolean;
  denied?: string;
}

async function probe(
  operation: string,
  label: string,
  bucket: string,
  call: () => Promise<string>,
): Promise<ProbeResult> {
  try {
    const detail = await call();
    return { check: { id: label, label, status: 'ok', detail }, blocksOthers: false };
  } catch (error) {
    const failure = failureOf(error);
    const diagnosis = diagnoseS3Probe(operation, failure, bucket);
    return {
      check: {
        id: label,
        label,
        status: 'fail',
        detail: `${diagnosis.cause} (${failure.message})`,
        next: diagnosis.fix,
      },
      blocksOthers: diagnosis.blocksOthers,
      ...(diagnosis.kind === 's3-access-denied' && diagnosis.iamAction
        ? { denied: diagnosis.iamAction }
        : {}),
    };
  }
}

async function newestBackupKey(s3: S3Adapter, prefix: string, kind: 'postgres' | 'neo4j') {
  const catalog = buildCatalog(await s3.list(prefix), { kind, prefix });
  return catalog.find((backup) => !backup.preRestore) ?? catalog[0];
}

const s3Permissions = defineStep({
  id: 'troubleshoot.s3-permissions',
  section: 'troubleshoot',
  title: 'Permission denied: S3',
  description:
    'Each IAM action the backups need, probed on its own with these credentials: s3:ListBucket (ListObjectsV2, MaxKeys=1), s3:GetObject (HeadObject on the newest backup), and — only with --write-canary — s3:PutObject (a canary object, deleted again). A failure names the missing action.',
  inputs: [],
  optionalInputs: ['S3_BUCKET', 'AWS_ENDPOINT_URL', 'AWS_DEFAULT_REGION', ...S3_KEY_AND_PREFIX_VALUES],
  continueOnFailure: true,
  plan: (values, options) => {
    const bucket = values.get('S3_BUCKET') ?? '$S3_BUCKET';
    const endpoint = endpointFlag(values.get('AWS_ENDPOINT_URL'));
    const actions = prefixesInScope(values).flatMap(({ prefix }) => [
      {
        summary: `s3:ListBucket — ListObjectsV2 under ${prefix} (MaxKeys=1)`,
        command: `aws s3api list-objects-v2 --bucket ${bucket} --prefix ${prefix} --max-keys 1${endpoint}`,
      },
      {
        summary: `s3:GetObject — HeadObject on the newest backup under ${prefix}`,
        command: `aws s3api head-object --bucket ${bucket} --key ${prefix}<newest backup>${endpoint}`,
      },
      options['write-canary'] === true
        ? {
            summary: `s3:PutObject — put and delete s3://${bucket}/${prefix}.db-runbook-canary-<session>`,
            command: `echo canary | aws s3 cp - s3://${bucket}/${prefix}.db-runbook-canary${endpoint} && aws s3 rm s3://${bucket}/${prefix}.db-runbook-canary${endpoint}`,
            writes: true,
          }
        : { summary: 's3:PutObject — not probed (it writes): --write-canary, or w in the TUI' },
    ]);
    return {
      actions,
      notes: [
        'These are this session’s credentials; the jobs use the ones in Secret database-backup-storage (configure writes the same values).',
      ],
    };
  },
  async run(ctx) {
    const bucket = ctx.values.get('S3_BUCKET');
    if (!bucket)
      return {
        summary: 'S3_BUCKET is not set: nothing to probe',
        checks: [{ id: 'bucket', label: 'S3_BUCKET', status: 'skip', detail: 'not set' }],
      };
    const s3 = await ctx.adapters.s3();
    const checks: Check[] = [];
    const denied = new Set<string>();
    let blocked: string | undefined;
    const canary = ctx.options['write-canary'] === true;
    for (const { prefix, kind } of prefixesInScope(ctx.values)) {
      const skipped = (action: string, label: string, why: string): Check => ({
        id: label,
        label,
        status: 'skip',
        detail: `${action} not probed: ${why}`,
      });
      const listLabel = `s3:ListBucket — list ${prefix}`;
      const getLabel = `s3:GetObject — read the newest backup under ${prefix}`;
      const putLabel = `s3:PutObject — write under ${prefix}`;
      if (blocked) {
        checks.push(
          skipped('s3:ListBucket', listLabel, blocked),
          skipped('s3:GetObject', getLabel, blocked),
          skipped('s3:PutObject', putLabel, blocked),
        );
        continue;
      }
      const list = await probe('ListObjectsV2', listLabel, bucket, async () => {
        const found = await s3.list(prefix, { maxKeys: 1 });
        return found.length ? `allowed (e.g. ${found[0]?.key})` : 'allowed (the prefix is empty)';
      });
      checks.push(list.check);
      if (list.denied) denied.add(list.denied);
      if (list.blocksOthers) {
        blocked = 'the credentials or bucket were refused above';
        checks.push(skipped('s3:GetObject', getLabel, blocked), skipped('s3:PutObject', putLabel, blocked));
        continue;
      }
      let newest: string | undefined;
      if (list.check.status === 'ok') {
        newest = (await newestBackupKey(s3, prefix, kind).catch(() => undefined))?.key;
        if (!newest) checks.push(skipped('s3:GetObject', getLabel, `no backup under ${prefix} to read`));
      } else
        checks.push(skipped('s3:GetObject', getLabel, 'the listing was denied, so no backup key is known'));
      if (newest) {
        const key = newest;
        const get = await probe('HeadObject', getLabel, bucket, async () => {
          const head = await s3.head(key);
          return head
            ? `allowed: HeadObject ${key} (${formatBytes(head.size)})`
            : `${key} vanished since the listing`;
        });
        checks.push(get.check);
        if (get.denied) denied.add(get.denied);
      }
      if (!canary) {
        checks.push(skipped('s3:PutObject', putLabel, 'it writes; run with --write-canary (w in the TUI)'));
        continue;
      }
      const canaryKey = `${prefix}.db-runbook-canary-${ctx.sessionId}`;
      const put = await probe('PutObject', putLabel, bucket, async () => {
        await s3.put(canaryKey, `db-runbook write canary ${new Date().toISOString()}\n`);
        return `allowed: PutObject ${canaryKey}`;
      });
      checks.push(put.check);
      if (put.denied) denied.add(put.denied);
      if (put.check.status === 'ok') {
        const del = await probe(
          'DeleteObject',
          `s3:DeleteObject — remove the canary under ${prefix}`,
          bucket,
          async () => {
            await s3.delete(canaryKey);
            return `allowed: ${canaryKey} deleted`;
          },
        );
        // The scripts delete their temporary objects: worth knowing, but not what the runbook lists.
        if (del.check.status === 'fail') {
          del.check.status = 'warn';
          del.check.detail = `${del.check.detail ?? ''}; the canary ${canaryKey} is left behind`;
        }
        checks.push(del.check);
      }
    }
    const failed = checks.filter((check) => check.status === 'fail');
    return {
      summary:
        denied.size > 0
          ? `missing IAM action${denied.size > 1 ? 's' : ''}: ${[...denied].join(', ')}`
          : failed.length > 0
            ? (failed[0]?.detail ?? 'S3 refused')
            : `S3 permissions in place${canary ? '' : ' (PutObject not probed)'}`,
      checks,
      data: { denied: [...denied], credentialsRejected: blocked !== undefined },
    };
  },
});

// ---------------------------------------------------------------- Kubernetes RBAC

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
export function roleRules(missing: readonly Pick<Permission, 'verb' | 'resource' | 'group'>[]): string[] {
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

const rbac = defineStep({
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

// ---------------------------------------------------------------- freshness

const FRESHNESS_HEADS = 3;

const freshness = defineStep({
  id: 'troubleshoot.freshness',
  section: 'troubleshoot',
  title: 'Backup freshness',
  description:
    'Per prefix: the newest backup’s age by its recovery point (object metadata or the time in its key, not the upload time) against its CronJob’s schedule — stale after the longest gap between runs plus 2 h (26 h for a daily job) — with the number of backups and their total size.',
  inputs: [],
  optionalInputs: [
    'S3_BUCKET',
    'POSTGRES_S3_PREFIX',
    'NEO4J_S3_PREFIX',
    'POSTGRES_BACKUP_SCHEDULE',
    'NEO4J_BACKUP_SCHEDULE',
  ],
  continueOnFailure: true,
  plan: (values) => {
    const bucket = values.get('S3_BUCKET') ?? '$S3_BUCKET';
    const endpoint = endpointFlag(values.get('AWS_ENDPOINT_URL'));
    return {
      actions: prefixesInScope(values).map(({ prefix }) => ({
        summary: `list s3://${bucket}/${prefix}: newest backup, count, total size; HEAD the newest for its recovery-point metadata`,
        command: `aws s3 ls s3://${bucket}/${prefix} --summarize${endpoint}`,
      })),
      notes: ['The schedule comes from the live CronJob; without cluster access, from the values.'],
    };
  },
  async run(ctx) {
    const bucket = ctx.values.get('S3_BUCKET');
    if (!bucket)
      return {
        summary: 'S3_BUCKET is not set',
        checks: [{ id: 'bucket', label: 'S3_BUCKET', status: 'skip', detail: 'not set' }],
      };
    const s3 = await ctx.adapters.s3();
    const crons = await backupCronJobs(ctx).catch(() => []);
    const now = new Date();
    const checks: Check[] = [];
    const results: Freshness[] = [];
    for (const { database, prefix, kind } of prefixesInScope(ctx.values)) {
      const cron = crons.find((candidate) => candidate.database === database);
      const scheduleValue = database === 'postgres' ? 'POSTGRES_BACKUP_SCHEDULE' : 'NEO4J_BACKUP_SCHEDULE';
      const { schedule, timeZone, source } = scheduleOf(cron?.object, ctx.values, scheduleValue);
      const label = `s3://${bucket}/${prefix}`;
      try {
        const objects = await s3.list(prefix);
        const candidates = buildCatalog(objects, { kind, prefix })
          .filter((backup) => !backup.preRestore)
          .slice(0, FRESHNESS_HEADS);
        const metadata: Record<string, Record<string, string>> = {};
        for (const backup of candidates) {
          const head = await s3.head(backup.key).catch(() => undefined);
          if (head) metadata[backup.key] = head.metadata;
        }
        const result = assessFreshness(objects, {
          kind,
          prefix,
          now,
          ...(schedule ? { schedule } : {}),
          ...(timeZone ? { timeZone } : {}),
          metadata,
        });
        results.push(result);
        const scheduleNote = `schedule ${result.scheduleText}${schedule ? ` from ${source}` : ''}`;
        checks.push({
          id: prefix,
          label,
          status: result.status === 'fresh' ? 'ok' : result.status === 'future' ? 'warn' : 'fail',
          detail: `${result.summary}; ${scheduleNote}`,
          ...(result.status === 'stale' || result.status === 'empty'
            ? {
                next: `The ${cron?.name ?? `${database} backup`} CronJob has not produced a backup in time: see ${TROUBLESHOOT_IDS.failedJobs}${cron?.object ? '' : ' (and deploy it: db-runbook run deploy)'}.`,
              }
            : {}),
        });
        if (kind === 'postgres') checks.push(await provenCheck(s3, objects, bucket, prefix, now));
      } catch (error) {
        const failure = failureOf(error);
        checks.push({
          id: prefix,
          label,
          status: 'fail',
          detail: failure.message,
          ...(failure.next ? { next: failure.next } : {}),
        });
      }
    }
    const bad = results.filter((result) => result.status !== 'fresh');
    return {
      summary: bad.length
        ? bad.map((result) => `${result.prefix} ${result.status.toUpperCase()}`).join(', ')
        : results.length
          ? `fresh: ${results.map((result) => `${result.prefix} ${result.newest?.recoveryPoint ?? ''}`).join(', ')}`
          : 'no prefix could be read',
      checks,
      data: {
        prefixes: results.map((result) => ({
          prefix: result.prefix,
          status: result.status,
          count: result.count,
          totalBytes: result.totalBytes,
          newest: result.newest?.key ?? null,
          recoveryPoint: result.newest?.recoveryPoint ?? null,
          ageSeconds: result.ageMs !== undefined ? Math.round(result.ageMs / 1000) : null,
          staleAfterSeconds: result.staleAfterMs / 1000,
        })),
      },
    };
  },
});

/**
 * "Last proven restorable" beside freshness: the newest backup's `<key>.verified.json` (the restore-verify Job's
 * proof) and the newest backup that was proven. A failed verification is explained: the check, psql's error or the
 * check's detail, and the end of the restore's log.
 */
async function provenCheck(
  s3: S3Adapter,
  objects: Parameters<typeof buildCatalog>[0],
  bucket: string,
  prefix: string,
  now: Date,
): Promise<Check> {
  const catalog = buildCatalog(objects, { kind: 'postgres', prefix }).filter((backup) => !backup.preRestore);
  const id = `${prefix}proven`;
  const label = `s3://${bucket}/${prefix} proven restorable`;
  const newest = catalog[0];
  if (!newest) return { id, label, status: 'skip', detail: 'no backup to prove' };
  const read = async (backup: Backup): Promise<Verification> => {
    if (!backup.verifiedKey) return { state: 'unverified' };
    const text = await s3.getText(backup.verifiedKey, 1 << 20).catch(() => undefined);
    return text === undefined
      ? { state: 'unverified', detail: 'the verification record cannot be read' }
      : parseVerificationRecord(text);
  };
  const name = (backup: Backup) => backup.key.slice(backup.key.lastIndexOf('/') + 1);
  const newestState = await read(newest);
  let lastProven: { backup: Backup; verification: Verification } | undefined;
  if (newestState.state === 'proven') lastProven = { backup: newest, verification: newestState };
  for (const backup of catalog.slice(1, 30)) {
    if (lastProven) break;
    if (!backup.verifiedKey) continue;
    const verification = await read(backup);
    if (verification.state === 'proven') lastProven = { backup, verification };
  }
  const last = lastProven
    ? `last proven restorable: ${name(lastProven.backup)} (recovery point ${lastProven.backup.recoveryPoint ?? '?'}; ${verificationText(lastProven.verification, now)}${lastProven.verification.by ? ` by ${lastProven.verification.by}` : ''})`
    : 'no backup was ever proven restorable';
  const verifyNow = `db-runbook verify s3://${bucket}/${newest.key}`;
  if (newestState.state === 'proven') return { id, label, status: 'ok', detail: last };
  if (newestState.state === 'failed') {
    const tail = (newestState.logTail ?? '').split('\n').filter(Boolean).slice(-3).join(' | ');
    return {
      id,
      label,
      status: 'fail',
      detail: `newest ${name(newest)}: ${verificationText(newestState, now)}${newestState.detail ? `: ${newestState.detail}` : ''}${tail ? `; log: ${tail}` : ''}; ${last}`,
      next: `Read the whole record (aws s3 cp s3://${bucket}/${newest.key}.verified.json -) and the Job's log (kubectl logs job/<postgres-restore-verify-…>); after fixing the cause: ${verifyNow}.`,
    };
  }
  return {
    id,
    label,
    status: 'warn',
    detail: `newest ${name(newest)}: ${verificationText(newestState, now)}; ${last}`,
    next: `The postgres-restore-verify CronJob proves the newest backup daily (db-runbook run deploy applies it); now: ${verifyNow}.`,
  };
}

/** In the order the runbook lists its problems; the offer that changes something comes last. */
export const troubleshootSteps: readonly RunbookStep[] = [
  troubleshootJobSteps.awsCli,
  s3Permissions,
  rbac,
  neo4jBackupPort,
  troubleshootJobSteps.slowBackups,
  troubleshootJobSteps.failedJobs,
  freshness,
  troubleshootJobSteps.incremental,
];
