/** prerequisites.s3: the bucket answers, each prefix in scope lists, and (with --write-canary) a put/head/delete works. */
import type { Check } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import { defineStep, endpointFlag } from '../define.js';
import { prefixesInScope, S3_KEY_AND_PREFIX_VALUES } from '../kit/backup-cronjobs.js';

export const s3 = defineStep({
  id: 'prerequisites.s3',
  section: 'prerequisites',
  title: 'S3 bucket',
  description:
    'The bucket answers with these credentials; listing works under each prefix; optionally a write canary.',
  inputs: ['S3_BUCKET', 'AWS_DEFAULT_REGION'],
  optionalInputs: ['AWS_ENDPOINT_URL', ...S3_KEY_AND_PREFIX_VALUES],
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
  return prefixesInScope(values).map(({ prefix }) => prefix);
}
