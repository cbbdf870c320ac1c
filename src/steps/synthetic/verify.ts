/**
 * What both verify steps (test-postgres, test-neo4j) share: find the backup object the triggered Job wrote,
 * compare its streamed sha256 with the sidecar, and report it.
 */
import type { S3Adapter, S3ObjectInfo } from '../../adapters/types.js';
import { isGlobalsKey } from '../../runbook/backup-catalog.js';
import {
  CLOCK_SKEW_MS,
  type Ctx,
  jobRefOf,
  prefixOf,
  stepId,
  type SyntheticTarget,
  utcStamp,
} from './target.js';
import { jobOf } from './trigger.js';
import { isoOf } from '../../runbook/job-status.js';
import type { Check, Plan, StepResult } from '../../runbook/step.js';
import { parseSha256Sidecar, type ScanProgress } from '../../runbook/dump-scan.js';
import type { Values } from '../../runbook/values.js';
import { endpointFlag } from '../define.js';

/** Keys a backup writes besides the backup itself: checksum sidecars and in-flight temporaries. */
export function isBackupObject(key: string, prefix: string): boolean {
  // the sidecars, and the globals object published beside a PostgreSQL dump
  if (key.endsWith('/') || key.endsWith('.sha256') || isGlobalsKey(key)) return false;
  const rest = key.startsWith(prefix) ? key.slice(prefix.length) : key;
  // `.partial/…` (the scripts' temporaries), hidden segments, and the usual in-progress suffixes.
  if (rest.split('/').some((segment) => segment.startsWith('.'))) return false;
  if (/\.(tmp|temp|part|partial|inprogress|uploading)$/i.test(key)) return false;
  return true;
}

interface FoundObject {
  object?: S3ObjectInfo;
  /** The newest backup object, whatever its age (for "newest is … from …" messages). */
  newestAny?: S3ObjectInfo;
  threshold: Date;
}

/** The newest backup object under the prefix written at or after the trigger (minus clock skew). */
async function newestSince(s3: S3Adapter, prefix: string, triggeredAt: string): Promise<FoundObject> {
  const threshold = new Date(Math.floor(Date.parse(triggeredAt) / 1000) * 1000 - CLOCK_SKEW_MS);
  const objects = (await s3.list(prefix))
    .filter((item) => isBackupObject(item.key, prefix))
    .sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0));
  const newestAny = objects[0];
  const object = objects.find((item) => (item.lastModified?.getTime() ?? 0) >= threshold.getTime());
  return { ...(object ? { object } : {}), ...(newestAny ? { newestAny } : {}), threshold };
}

/** When the trigger happened: this session's trigger step, else the Job's creation time. */
async function triggerTime(
  ctx: Ctx,
  target: SyntheticTarget,
): Promise<{ job: string; triggeredAt?: string; source: string }> {
  const { job, triggeredAt } = jobOf(ctx, target);
  if (triggeredAt) return { job, triggeredAt, source: 'this session' };
  const kube = await ctx.adapters.kube();
  const live = await kube.get(jobRefOf(job, kube.target.namespace));
  const created = isoOf(live?.metadata.creationTimestamp);
  return created
    ? { job, triggeredAt: created, source: `Job ${job} creation time` }
    : { job, source: 'none' };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GiB`;
}

export function throughput(bytes: number, ms: number): string {
  const seconds = Math.max(ms, 1) / 1000;
  return `${(bytes / (1024 * 1024) / seconds).toFixed(1)} MiB/s`;
}

/** Checks for "no object newer than the trigger" (with what the newest one is). */
function noObjectResult(
  target: SyntheticTarget,
  bucket: string,
  prefix: string,
  found: FoundObject,
  triggeredAt: string,
): StepResult {
  const where = `s3://${bucket}/${prefix}`;
  const newest = found.newestAny
    ? `; the newest there is ${found.newestAny.key} from ${found.newestAny.lastModified?.toISOString() ?? '?'}`
    : '; the prefix holds no backups at all';
  return {
    summary: `no backup object newer than the trigger (${utcStamp(new Date(triggeredAt))}) under ${where}`,
    checks: [
      {
        id: 'object',
        label: `a new ${target.artifact} under ${where}`,
        status: 'fail',
        detail: `no backup object newer than the trigger at ${utcStamp(new Date(triggeredAt))}${newest}`,
        next: `Read the wait step's log (did the Job upload?) and run db-runbook run troubleshoot.`,
      },
    ],
    data: { prefix, triggeredAt, found: false, next: 'run db-runbook run troubleshoot' },
  };
}

/** Compares the streamed sha256 with the `<key>.sha256` sidecar. */
export async function sidecarCheck(
  s3: S3Adapter,
  key: string,
  sha256: string,
): Promise<{ check: Check; sidecar?: string }> {
  const text = await s3.getText(`${key}.sha256`, 4096).catch(() => undefined);
  if (text === undefined) {
    return {
      check: {
        id: 'sha256',
        label: 'sha256 sidecar',
        status: 'warn',
        detail: `no ${key}.sha256 next to the object; computed sha256 ${sha256}`,
        next: 'The backup scripts write a sidecar after publishing: a missing one means another writer or an interrupted publish.',
      },
    };
  }
  const parsed = parseSha256Sidecar(text);
  if (!parsed) {
    return {
      check: {
        id: 'sha256',
        label: 'sha256 sidecar',
        status: 'fail',
        detail: `${key}.sha256 does not hold a SHA-256 ("<hex>  <name>")`,
      },
    };
  }
  const name = key.slice(key.lastIndexOf('/') + 1);
  const nameNote = parsed.name && parsed.name !== name ? ` (the sidecar names ${parsed.name})` : '';
  return parsed.sha256 === sha256
    ? {
        sidecar: parsed.sha256,
        check: {
          id: 'sha256',
          label: 'sha256 matches the sidecar',
          status: 'ok',
          detail: `${sha256}${nameNote}`,
        },
      }
    : {
        sidecar: parsed.sha256,
        check: {
          id: 'sha256',
          label: 'sha256 differs from the sidecar',
          status: 'fail',
          detail: `streamed ${sha256}, sidecar says ${parsed.sha256}${nameNote}`,
          next: 'The object changed after it was written, or the upload was corrupted: do not restore from it; run a new backup.',
        },
      };
}

function s3Command(values: Values, args: string): string {
  return `aws s3 ${args}${endpointFlag(values.get('AWS_ENDPOINT_URL'))}`;
}

/** What a verify step's plan says besides the artifact's noun, file extension and the way it reads the stream. */
export interface VerifyPlanText {
  /** `object`, `archive`: what the listing looks for. */
  listed: string;
  /** `.sql.gz`, `.backup.tar.gz`. */
  extension: string;
  readSummary: string;
  /** The shell pipeline after `aws s3 cp … -`. */
  readPipe: string;
}

/** The verify step's plan: list the prefix, stream the newest backup through the reader, fetch the sidecar. */
export function verifyPlan(values: Values, target: SyntheticTarget, text: VerifyPlanText): Plan {
  const bucket = values.get('S3_BUCKET') ?? '$S3_BUCKET';
  const prefix = prefixOf(values, target);
  return {
    actions: [
      {
        summary: `find the newest ${text.listed} under s3://${bucket}/${prefix} written after the trigger`,
        command: s3Command(values, `ls s3://${bucket}/${prefix}`),
      },
      {
        summary: text.readSummary,
        command: `${s3Command(values, `cp s3://${bucket}/${prefix}<latest-backup>${text.extension} -`)} | ${text.readPipe}`,
      },
      {
        summary: 'compare with the sidecar',
        command: s3Command(values, `cp s3://${bucket}/${prefix}<latest-backup>${text.extension}.sha256 -`),
      },
    ],
  };
}

/** The backup object a verify step reads, found after the trigger. */
export interface TriggeredBackup {
  object: S3ObjectInfo;
  uri: string;
  written: Date;
  triggeredAt: string;
}

/** The verify step's result when neither this session nor the cluster knows when the Job was triggered. */
function noTriggerResult(target: SyntheticTarget, job: string): StepResult {
  return {
    summary: 'no trigger time to compare with',
    checks: [
      {
        id: 'trigger',
        label: 'trigger time',
        status: 'fail',
        detail: `this session did not trigger a Job and ${job} does not exist`,
        next: `Run ${stepId(target, 'trigger')} and ${stepId(target, 'wait')} first.`,
      },
    ],
  };
}

/** The newest backup object written since the trigger, or the failed result that says why there is none. */
export async function findTriggeredBackup(
  ctx: Ctx,
  s3: S3Adapter,
  target: SyntheticTarget,
  prefix: string,
): Promise<{ backup: TriggeredBackup } | { failure: StepResult }> {
  const trigger = await triggerTime(ctx, target);
  if (!trigger.triggeredAt) return { failure: noTriggerResult(target, trigger.job) };
  const found = await newestSince(s3, prefix, trigger.triggeredAt);
  if (!found.object)
    return { failure: noObjectResult(target, s3.target.bucket, prefix, found, trigger.triggeredAt) };
  const object = found.object;
  return {
    backup: {
      object,
      uri: `s3://${s3.target.bucket}/${object.key}`,
      written: object.lastModified ?? new Date(),
      triggeredAt: trigger.triggeredAt,
    },
  };
}

/** The passed check naming the object found (`newest dump s3://…`): size, age and the trigger it follows. */
export function newestObjectCheck(noun: string, backup: TriggeredBackup): Check {
  const { object, written } = backup;
  const ageSeconds = Math.max(0, Math.round((Date.now() - written.getTime()) / 1000));
  return {
    id: 'object',
    label: `newest ${noun} ${backup.uri}`,
    status: 'ok',
    detail: `${formatBytes(object.size)}, written ${utcStamp(written)} (${ageSeconds} s ago), after the trigger at ${utcStamp(new Date(backup.triggeredAt))}`,
  };
}

/** Reports a stream scan's progress as `<verb> <key>: <n> inflated`, counted in compressed bytes. */
export function scanProgressReporter(
  ctx: Ctx,
  verb: string,
  object: S3ObjectInfo,
): (progress: ScanProgress) => void {
  return (p) =>
    ctx.progress({
      message: `${verb} ${object.key}: ${formatBytes(p.bytes)} inflated`,
      done: p.compressedBytes,
      total: object.size,
      unit: 'bytes',
    });
}

/** The data fields every verify step reports first: the object, its digest and the sidecar's. */
export function verifiedObjectData(
  backup: TriggeredBackup,
  sha256: string,
  sidecar: string | undefined,
): Record<string, unknown> {
  return {
    key: backup.object.key,
    uri: backup.uri,
    size: backup.object.size,
    lastModified: backup.written.toISOString(),
    sha256,
    ...(sidecar ? { sidecarSha256: sidecar } : {}),
  };
}
