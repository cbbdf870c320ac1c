/**
 * One streaming pass over a PostgreSQL `.sql.gz` dump, on the same hashing and inflating pass as the
 * other scans (dump-scan.ts): sha256, completeness, the synthetic marker, row counts and the privileges
 * it names. Memory stays flat for any size.
 */
import type { Readable } from 'node:stream';
import { MarkerSearch, scanInflated, type Inflate, type ScanProgress } from './dump-scan.js';
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
  const result = await scanInflated(source, options, (chunk) => {
    search.push(chunk);
    counter.push(chunk);
  });
  return {
    sha256: result.sha256,
    compressedBytes: result.compressedBytes,
    bytes: result.bytes,
    gzipOk: result.gzipError === undefined,
    ...(result.gzipError ? { gzipError: result.gzipError.message } : {}),
    complete: search.found[DUMP_COMPLETE] === true,
    markerFound: search.found[MARKER_TEXT] === true,
    rowCounts: Object.fromEntries(counter.result()),
    privileges: privileges.result(),
  };
}
