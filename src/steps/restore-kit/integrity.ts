/**
 * The integrity check that streams the chosen object once, before anything touches a database.
 */
import { formatBytes, formatDuration } from '../../runbook/backup-catalog.js';
import { type ScanProgress, scanTarGzStream } from '../../runbook/dump-scan.js';
import { EXIT, RunbookError } from '../../runbook/errors.js';
import { parseGlobals } from '../../runbook/privileges.js';
import { baseName } from '../../runbook/s3-uri.js';
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
import { fetchGlobals, readSidecar } from './globals.js';
import { scanPgDump } from '../../runbook/pg-dump-scan.js';

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
      'Before anything touches the database: stream the object once, compare its SHA-256 with the .sha256 sidecar and read the gzip stream to its end. A mismatch or a missing sidecar refuses the restore unless overridden with a typed phrase.',
    inputs: ['S3_BUCKET'],
    database: spec.database,
    // A failed check is followed by the typed override step; the restore itself refuses without it.
    continueOnFailure: true,
    plan: (values, options) => {
      const uri = typeof options['restore-uri'] === 'string' ? options['restore-uri'] : '$RESTORE_S3_URI';
      const endpoint = endpointFlag(values.get('AWS_ENDPOINT_URL'));
      return {
        actions: [
          {
            summary: 'stream the object once: SHA-256 against the sidecar, gzip to the end',
            command: [
              `aws s3 cp ${uri}.sha256 -${endpoint}`,
              `aws s3 cp ${uri} -${endpoint} | tee >(sha256sum >&2) | ${spec.kind === 'postgres' ? 'gzip -t' : 'tar -tzf - >/dev/null'}`,
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
      const s3 = await ctx.adapters.s3();
      const sidecar = await readSidecar(s3, chosen);
      const { body, size, etag, versionId } = await s3.getStream(chosen.key, ctx.signal);
      const total = size ?? chosen.size;
      const report = byteProgress(ctx, 'verifying', total);
      const onProgress = (progress: ScanProgress) => report(progress.compressedBytes);
      const problems: string[] = [];
      const checks: Check[] = [];
      let scan: {
        sha256: string;
        compressedBytes: number;
        bytes: number;
        gzipOk: boolean;
        gzipError?: string;
      };
      let extra: Partial<IntegrityData> = {};
      if (spec.kind === 'postgres') {
        const pg = await scanPgDump(body, { signal: ctx.signal, inflate: ctx.adapters.inflate, onProgress });
        scan = pg;
        extra = { rowCounts: pg.rowCounts, markerFound: pg.markerFound, privileges: pg.privileges };
        // the globals object: roles, the database's own properties, the catalog facts validation compares
        const globals = await fetchGlobals(s3, chosen.bucket, chosen.key, ctx.signal);
        const parsedGlobals = globals.text !== undefined ? parseGlobals(globals.text) : undefined;
        if (globals.problem) problems.push(globals.problem);
        extra.globals = {
          uri: globals.uri,
          missing: globals.missing,
          verified: globals.verified,
          ...(globals.sha256 ? { sha256: globals.sha256 } : {}),
          roles: parsedGlobals?.roles ?? [],
          facts: parsedGlobals?.facts.length ?? 0,
        };
        checks.push({
          id: 'globals',
          label: 'globals (roles, database settings, privileges to compare)',
          status: globals.missing ? 'warn' : globals.verified ? 'ok' : 'fail',
          detail: globals.missing
            ? `no ${baseName(globals.key)}: roles cannot be created from the backup, and owners and privileges cannot be compared after the restore`
            : globals.verified
              ? `${globals.uri}: ${parsedGlobals?.roles.length ?? 0} role(s), ${parsedGlobals?.facts.length ?? 0} fact(s), sha256 ${globals.sha256?.slice(0, 12)}… matches its sidecar`
              : (globals.problem ?? 'not verified'),
          ...(globals.missing
            ? { next: 'Backups written by this version of postgres-backup.sh have one.' }
            : {}),
        });
        if (pg.gzipOk) {
          const names = [...new Set([...pg.privileges.owners, ...pg.privileges.grantees])];
          checks.push({
            id: 'privileges',
            label: 'owners and privileges in the dump',
            status: pg.privileges.counts.owner > 0 ? 'ok' : 'warn',
            detail:
              pg.privileges.counts.owner > 0
                ? `${pg.privileges.counts.owner} ownership(s), ${pg.privileges.counts.grant} GRANT/REVOKE(s), ${pg.privileges.counts.defaults} default privilege(s); role(s): ${names.join(', ') || 'none'}`
                : 'none: the dump was made without owners and privileges (pg_dump --no-owner --no-privileges)',
          });
        }
        if (pg.gzipOk) {
          if (!pg.complete) problems.push('the dump has no "dump complete" line: it was cut short');
          checks.push({
            id: 'dump-complete',
            label: 'pg_dump finished',
            status: pg.complete ? 'ok' : 'fail',
            detail: pg.complete
              ? 'ends with "PostgreSQL database dump complete"'
              : 'the dump ends early (pg_dump was interrupted?)',
          });
          const tables = Object.keys(pg.rowCounts).length;
          const rows = Object.values(pg.rowCounts).reduce((sum, n) => sum + n, 0);
          checks.push({
            id: 'contents',
            label: 'contents',
            status: 'ok',
            detail: `${tables} table(s), ${rows} row(s)${pg.markerFound ? '; has backup_validation' : '; no backup_validation table'}`,
          });
        }
      } else {
        const tar = await scanTarGzStream(body, {
          signal: ctx.signal,
          inflate: ctx.adapters.inflate,
          onProgress,
          maxEntries: 10,
        });
        scan = tar;
        extra = { entries: tar.entries.map((entry) => `${entry.name} (${formatBytes(entry.size)})`) };
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
