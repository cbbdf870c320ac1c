/**
 * One streaming pass over a PostgreSQL dump: sha256, completeness, the synthetic marker, row counts and
 * the privileges it names.
 */
import { DumpRowCounter } from '../../runbook/pg-queries.js';
import { type Inflate, MarkerSearch, type ScanProgress } from '../../runbook/dump-scan.js';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { type Readable, Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { type DumpPrivileges, PrivilegeCollector } from '../../runbook/privileges.js';

/** pg_dump's last line in a plain dump: a dump cut short does not have it. */
export const DUMP_COMPLETE = '-- PostgreSQL database dump complete';

export const MARKER_TEXT = 'backup_validation';

export interface PgDumpScan {
  sha256: string;
  compressedBytes: number;
  bytes: number;
  gzipOk: boolean;
  gzipError?: string;
  complete: boolean;
  markerFound: boolean;
  rowCounts: Record<string, number>;
  /** The roles the dump names (owners, grantees) and its owner/privilege statements. */
  privileges: DumpPrivileges;
}

/**
 * One pass over a `.sql.gz` object: SHA-256 of the compressed bytes, gunzip to the end, the rows per
 * table its COPY blocks hold, the marker table and pg_dump's completion line. A gzip error stops
 * the inflating side only: the object is still read to its end, so the hash covers all of it.
 * (The same shape as scanGzipStream in dump-scan.ts, which has no hook for the inflated bytes.)
 */
export async function scanPgDump(
  source: Readable,
  options: { signal?: AbortSignal; inflate?: Inflate; onProgress?(progress: ScanProgress): void } = {},
): Promise<PgDumpScan> {
  const hash = createHash('sha256');
  const search = new MarkerSearch([MARKER_TEXT, DUMP_COMPLETE]);
  const privileges = new PrivilegeCollector();
  const counter = new DumpRowCounter((line) => privileges.line(line));
  let compressedBytes = 0;
  let bytes = 0;
  let gzipError: Error | undefined;
  // igzip child when the adapters give one (faster, another core), else zlib
  const gunzip = options.inflate?.() ?? createGunzip({ chunkSize: 128 * 1024 });
  gunzip.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    search.push(chunk);
    counter.push(chunk);
  });
  const inflated = new Promise<void>((resolve) => {
    gunzip.once('end', resolve);
    gunzip.once('close', resolve);
    gunzip.once('error', (error) => {
      gzipError = error;
      resolve();
    });
  });
  const tap = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      compressedBytes += chunk.length;
      options.onProgress?.({ compressedBytes, bytes });
      if (gzipError || gunzip.destroyed) return callback();
      if (gunzip.write(chunk)) return callback();
      const resume = () => {
        gunzip.off('drain', resume);
        gunzip.off('close', resume);
        callback();
      };
      gunzip.on('drain', resume);
      gunzip.on('close', resume);
    },
    final(callback) {
      if (!gunzip.destroyed && !gunzip.writableEnded) gunzip.end();
      void inflated.then(() => callback());
    },
  });
  try {
    await pipeline(source, tap, { signal: options.signal });
  } catch (error) {
    gunzip.destroy();
    throw error;
  }
  await inflated;
  // the inflater itself failed (igzip killed, not started): no verdict on the data
  if ((gzipError as { integrity?: unknown } | undefined)?.integrity === false) throw gzipError;
  return {
    sha256: hash.digest('hex'),
    compressedBytes,
    bytes,
    gzipOk: gzipError === undefined,
    ...(gzipError ? { gzipError: gzipError.message } : {}),
    complete: search.found[DUMP_COMPLETE] === true,
    markerFound: search.found[MARKER_TEXT] === true,
    rowCounts: Object.fromEntries(counter.result()),
    privileges: privileges.result(),
  };
}
