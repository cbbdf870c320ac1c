/**
 * One streaming pass over a PostgreSQL `.sql.gz` dump, on the same hashing and inflating pass as every
 * other scan (dump-scan.ts): sha256, completeness, the synthetic marker, row counts and the privileges
 * it names. Memory stays flat for any size.
 */
import type { Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { hashAndInflate, MarkerSearch, throttled, type Inflate, type ScanProgress } from './dump-scan.js';
import { DumpRowCounter } from './pg-queries.js';
import { PrivilegeCollector, type DumpPrivileges } from './privileges.js';

/** pg_dump's last line in a plain dump: a dump cut short does not have it. */
export const DUMP_COMPLETE = '-- PostgreSQL database dump complete';

/** The synthetic test's marker table. */
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
 * SHA-256 of the compressed bytes, gunzip to the end, the rows per table its COPY blocks hold, the
 * marker table and pg_dump's completion line. A gzip error stops the inflating side only: the object
 * is still read to its end, so the hash covers all of it.
 */
export async function scanPgDump(
  source: Readable,
  options: { signal?: AbortSignal; inflate?: Inflate; onProgress?(progress: ScanProgress): void } = {},
): Promise<PgDumpScan> {
  const search = new MarkerSearch([MARKER_TEXT, DUMP_COMPLETE]);
  const privileges = new PrivilegeCollector();
  const counter = new DumpRowCounter((line) => privileges.line(line));
  let bytes = 0;
  let compressed = 0;
  const progress = throttled(options.onProgress, () => ({ compressedBytes: compressed, bytes }));
  const reader = new Writable({
    highWaterMark: 512 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      search.push(chunk);
      counter.push(chunk);
      callback();
    },
  });
  const result = await hashAndInflate(source, [reader], {
    signal: options.signal,
    inflate: options.inflate,
    onCompressed: (n) => {
      compressed = n;
      progress.tick();
    },
  });
  progress.final();
  const gzipError = result.gzipError ?? result.consumerError;
  return {
    sha256: result.sha256,
    compressedBytes: result.compressedBytes,
    bytes,
    gzipOk: gzipError === undefined,
    ...(gzipError ? { gzipError: gzipError.message } : {}),
    complete: search.found[DUMP_COMPLETE] === true,
    markerFound: search.found[MARKER_TEXT] === true,
    rowCounts: Object.fromEntries(counter.result()),
    privileges: privileges.result(),
  };
}
