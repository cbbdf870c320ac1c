/**
 * The integrity check that streams the chosen object once, before anything touches a database.
 */
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { type ScanProgress, scanTarGzStream } from '../../runbook/dump-scan.js';
import { EXIT, RunbookError } from '../../runbook/errors.js';
import type { Check } from '../../runbook/step.js';
import { defineStep, endpointFlag, type RunbookStep } from '../define.js';
import {
  chosenBackup,
  type Ctx,
  type IntegrityData,
  restoreHandles,
  type RestoreSpec,
  stepIds,
} from './spec.js';
import { readSidecar } from './globals.js';
import { postgresIntegrity } from './integrity-postgres.js';

/** Progress with throughput and ETA, at most every 250 ms (the last call is always shown). */
export function byteProgress(
  ctx: Pick<Ctx, 'progress'>,
  verb: string,
  total: number | undefined,
): (done: number, final?: boolean) => { mbPerSec: number; seconds: number } {
  const started = Date.now();
  let last = 0;
  return (done, final = false) => {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - started) / 1000);
    const mbPerSec = done / 1e6 / seconds;
    if (final || now - last >= 250) {
      last = now;
      const remaining = total && mbPerSec > 0 ? (total - done) / 1e6 / mbPerSec : undefined;
      ctx.progress({
        message: [
          `${verb} ${formatBytes(done)}${total ? ` of ${formatBytes(total)}` : ''}`,
          `${mbPerSec.toFixed(1)} MB/s`,
          final
            ? `${formatDuration(seconds * 1000)}`
            : remaining !== undefined
              ? `ETA ${formatDuration(remaining * 1000)}`
              : '',
        ]
          .filter(Boolean)
          .join(' · '),
        done,
        ...(total ? { total } : {}),
        unit: 'bytes',
      });
    }
    return { mbPerSec, seconds };
  };
}

export function integrityStep(spec: RestoreSpec): RunbookStep<IntegrityData> {
  const ids = stepIds(spec);
  return defineStep<IntegrityData>({
    ...restoreHandles(spec).integrity,
    section: spec.section,
    title: 'Check the backup’s integrity',
    description:
      spec.kind === 'postgres'
        ? 'Before anything touches the database: the .sha256 sidecar, the object’s size and ETag, and the globals object (against its own sidecar). The dump is read once, by the restore: hashed and checked as it streams into a new database, never swapped in unless it matches. A missing sidecar refuses the restore unless overridden with a typed phrase.'
        : 'Before anything touches the database: stream the object once, compare its SHA-256 with the .sha256 sidecar and read the gzip stream to its end. A mismatch or a missing sidecar refuses the restore unless overridden with a typed phrase.',
    inputs: ['S3_BUCKET'],
    database: spec.database,
    // A failed check is followed by the typed override step; the restore itself refuses without it.
    continueOnFailure: true,
    plan: (values, options) => {
      const uri = typeof options['restore-uri'] === 'string' ? options['restore-uri'] : '$RESTORE_S3_URI';
      const endpoint = endpointFlag(values.get('AWS_ENDPOINT_URL'));
      if (spec.kind === 'postgres')
        return {
          actions: [
            {
              summary: 'the sidecar, the object’s size and ETag, the globals object and its sidecar',
              command: [
                `aws s3 cp ${uri}.sha256 -${endpoint}`,
                `aws s3api head-object --bucket <bucket> --key <key>${endpoint}`,
                `aws s3 cp ${uri.replace(/\.sql\.gz$/, '.globals.sql.gz')} -${endpoint} | sha256sum`,
              ].join('\n'),
            },
          ],
          notes: [
            'The dump is read once, by the restore: hashed, inflated and checked as it streams into a new database, and swapped in only when its SHA-256 equals the sidecar’s.',
          ],
        };
      return {
        actions: [
          {
            summary: 'stream the object once: SHA-256 against the sidecar, gzip to the end',
            command: [
              `aws s3 cp ${uri}.sha256 -${endpoint}`,
              `aws s3 cp ${uri} -${endpoint} | tee >(sha256sum >&2) | tar -tzf - >/dev/null`,
            ].join('\n'),
          },
        ],
        notes: ['Done in Node while streaming: memory stays flat for any size.'],
      };
    },
    async run(ctx) {
      const chosen = chosenBackup(ctx.from, spec);
      if (!chosen)
        throw new RunbookError('no backup has been chosen in this session', {
          next: `Run ${ids.choose} first.`,
        });
      if (spec.kind === 'postgres') return postgresIntegrity(ctx, spec, chosen);
      const s3 = await ctx.adapters.s3();
      const sidecar = await readSidecar(s3, chosen);
      const { body, size, etag, versionId } = await s3.getStream(chosen.key, ctx.signal);
      const total = size ?? chosen.size;
      const report = byteProgress(ctx, 'verifying', total);
      const onProgress = (progress: ScanProgress) => report(progress.compressedBytes);
      const problems: string[] = [];
      const checks: Check[] = [];
      const scan = await scanTarGzStream(body, {
        signal: ctx.signal,
        inflate: ctx.adapters.inflate,
        onProgress,
        maxEntries: 10,
      });
      const tar = scan;
      const extra: Partial<IntegrityData> = {
        entries: tar.entries.map((entry) => `${entry.name} (${formatBytes(entry.size)})`),
      };
      if (tar.gzipOk) {
        if (!tar.tarOk) problems.push(`the tar archive is damaged: ${tar.tarError ?? 'error'}`);
        checks.push({
          id: 'tar',
          label: 'tar archive',
          status: tar.tarOk ? 'ok' : 'fail',
          detail: tar.tarOk
            ? `${tar.entryCount} entries, ${formatBytes(tar.contentBytes)}: ${tar.entries
                .slice(0, 3)
                .map((entry) => entry.name)
                .join(', ')}${tar.entryCount > 3 ? ', …' : ''}`
            : (tar.tarError ?? 'unreadable'),
        });
      }
      const { mbPerSec, seconds } = report(scan.compressedBytes, true);
      if (ctx.signal.aborted) throw new RunbookError('interrupted', { exitCode: EXIT.interrupted });
      const shaOk = sidecar.sha256 !== undefined && sidecar.sha256 === scan.sha256;
      if (sidecar.problem) problems.push(sidecar.problem);
      else if (!shaOk)
        problems.push(`SHA-256 mismatch: the sidecar says ${sidecar.sha256}, the object is ${scan.sha256}`);
      if (!scan.gzipOk) problems.push(`the gzip stream is broken: ${scan.gzipError ?? 'error'}`);
      if (total !== undefined && scan.compressedBytes !== total)
        problems.push(`read ${scan.compressedBytes} bytes of ${total}`);
      checks.unshift(
        {
          id: 'sha256',
          label: 'SHA-256 matches the sidecar',
          status: shaOk ? 'ok' : 'fail',
          detail: sidecar.problem ?? (shaOk ? scan.sha256 : `expected ${sidecar.sha256}, got ${scan.sha256}`),
          ...(shaOk
            ? {}
            : {
                next: `Choose another backup (${ids.choose}), or override with a typed phrase in ${ids.override} — journaled as a deviation.`,
              }),
        },
        {
          id: 'gzip',
          label: 'gzip stream intact to the end',
          status: scan.gzipOk ? 'ok' : 'fail',
          detail: scan.gzipOk
            ? `${formatBytes(scan.compressedBytes)} → ${formatBytes(scan.bytes)} in ${formatDuration(seconds * 1000)} (${mbPerSec.toFixed(1)} MB/s)`
            : `${scan.gzipError ?? 'broken'} after ${formatBytes(scan.bytes)} inflated`,
        },
      );
      const verified = problems.length === 0;
      const data: IntegrityData = {
        uri: chosen.uri,
        verified,
        sha256: scan.sha256,
        ...(sidecar.sha256 ? { expectedSha256: sidecar.sha256 } : {}),
        ...(etag ? { etag } : {}),
        ...(versionId ? { versionId } : {}),
        size: scan.compressedBytes,
        bytes: scan.bytes,
        problems,
        seconds: Math.round(seconds * 10) / 10,
        ...extra,
      };
      return {
        summary: verified
          ? `verified: sha256 ${scan.sha256.slice(0, 12)}…, gzip intact (${formatBytes(scan.compressedBytes)}, ${mbPerSec.toFixed(1)} MB/s)`
          : `REFUSED: ${problems.join('; ')}`,
        checks,
        data,
      };
    },
  });
}
