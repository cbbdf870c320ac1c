/** troubleshoot.freshness: per prefix, how old the newest backup is against its schedule, and when it was last proven restorable. */
import type { S3Adapter } from '../../adapters/types.js';
import {
  type Backup,
  buildCatalog,
  type Verification,
  verificationText,
} from '../../runbook/backup-catalog.js';
import { readVerification } from '../clients/verification-records.js';
import { assessFreshness, type Freshness } from '../../runbook/freshness.js';
import type { Check } from '../../runbook/step.js';
import { defineStep, endpointFlag } from '../define.js';
import { backupCronJobs, prefixesInScope, scheduleOf } from '../kit/backup-cronjobs.js';
import { TROUBLESHOOT_IDS } from './ids.js';
import { failureOf } from './s3-permissions.js';

const FRESHNESS_HEADS = 3;

export const freshness = defineStep({
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
        checks.push(await provenCheck(s3, objects, { bucket, prefix, kind }, now));
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
 * proof, checked against its own sha256) and the newest backup that was proven. A failed verification is explained:
 * the check, psql's error or the check's detail, and the end of the restore's log.
 */
async function provenCheck(
  s3: S3Adapter,
  objects: Parameters<typeof buildCatalog>[0],
  where: { bucket: string; prefix: string; kind: 'postgres' | 'neo4j' },
  now: Date,
): Promise<Check> {
  const { bucket, prefix, kind } = where;
  const catalog = buildCatalog(objects, { kind, prefix }).filter((backup) => !backup.preRestore);
  const id = `${prefix}proven`;
  const label = `s3://${bucket}/${prefix} proven restorable`;
  const newest = catalog[0];
  if (!newest) return { id, label, status: 'skip', detail: 'no backup to prove' };
  const read = async (backup: Backup): Promise<Verification> =>
    backup.verifiedKey ? readVerification(s3, backup.verifiedKey) : { state: 'unverified' };
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
  const cronJob = `${kind}-restore-verify`;
  const verifyNow =
    kind === 'postgres'
      ? `db-runbook verify s3://${bucket}/${newest.key}`
      : `kubectl -n "$NAMESPACE" create job --from=cronjob/${cronJob} ${kind}-verify-now`;
  if (newestState.state === 'proven') return { id, label, status: 'ok', detail: last };
  if (newestState.tampered)
    return {
      id,
      label,
      status: 'fail',
      detail: `newest ${name(newest)}: ${newestState.detail ?? 'verification record tampered or unreadable'}; ${last}`,
      next: `Check who can write s3://${bucket}/${prefix} (a record must match its .sha256); then prove it again: ${verifyNow}.`,
    };
  if (newestState.state === 'failed') {
    const tail = (newestState.logTail ?? '').split('\n').filter(Boolean).slice(-3).join(' | ');
    return {
      id,
      label,
      status: 'fail',
      detail: `newest ${name(newest)}: ${verificationText(newestState, now)}${newestState.detail ? `: ${newestState.detail}` : ''}${tail ? `; log: ${tail}` : ''}; ${last}`,
      next: `Read the whole record (aws s3 cp s3://${bucket}/${newest.key}.verified.json -) and the Job's log (kubectl logs job/<${cronJob}-…>); after fixing the cause: ${verifyNow}.`,
    };
  }
  return {
    id,
    label,
    status: 'warn',
    detail: `newest ${name(newest)}: ${verificationText(newestState, now)}; ${last}`,
    next: `The ${cronJob} CronJob proves the newest backup daily (db-runbook run deploy applies it); now: ${verifyNow}.`,
  };
}
