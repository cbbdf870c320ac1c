/** troubleshoot.s3-permissions: each IAM action the backups need, probed on its own with this session's credentials. */
import { buildCatalog, formatBytes } from '../../runbook/backup-catalog.js';
import type { S3Adapter } from '../../adapters/types.js';
import { diagnoseS3Probe } from '../../runbook/diagnose.js';
import { RunbookError } from '../../runbook/errors.js';
import type { Check } from '../../runbook/step.js';
import { defineStep, endpointFlag } from '../define.js';
import { prefixesInScope, S3_KEY_AND_PREFIX_VALUES } from '../kit/backup-cronjobs.js';

export function failureOf(error: unknown): { code?: string; message: string; next?: string } {
  if (error instanceof RunbookError)
    return {
      ...(error.code ? { code: error.code } : {}),
      message: error.message,
      ...(error.next ? { next: error.next } : {}),
    };
  return { message: error instanceof Error ? error.message : String(error) };
}

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

export const s3Permissions = defineStep({
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
