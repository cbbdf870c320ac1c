import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ChildStage, InflateError } from './child-stage.js';
import { MarkerScanChild } from './marker-scan.js';

export { InflateError } from './child-stage.js';

/**
 * Gzip inflaters for the integrity and verify passes: an `igzip -dc` child when igzip (Debian package
 * `isal`) is on PATH — 3–6× faster than zlib, and on another core — else Node's zlib. Both are duplex
 * streams (compressed bytes in, the same inflated bytes out). Their errors keep two kinds apart:
 *  - the gzip data is bad (not gzip, truncated, CRC or length mismatch): `integrity: true`
 *    (zlib's own errors, or igzip exiting non-zero after reading its input);
 *  - the inflater itself failed (igzip could not start, was killed by a signal): `integrity: false`.
 * A transport failure never reaches the inflater: it is the source stream's error.
 * DB_RUNBOOK_INFLATER=zlib|igzip forces one (tests compare both).
 *
 * With igzip, a scan that only looks for markers (scanGzipStream) can keep the inflated text out of Node
 * altogether: `markerScan` gives `igzip -dc` read by a perl counter/searcher (marker-scan.ts) when perl
 * is on PATH too. DB_RUNBOOK_MARKER_SCAN=node keeps that search in Node (the igzip child's output read
 * by MarkerSearch).
 */

export type InflaterKind = 'igzip' | 'zlib';

/** Compressed bytes in, nothing out; `bytes` inflated and `found` (indexes of the markers given). */
export type MarkerScanStream = Duplex & { readonly bytes: number; readonly found: ReadonlySet<number> };

export type InflaterFactory = (() => Duplex & { readonly inflater?: InflaterKind }) & {
  /** A marker scan outside Node for these markers (non-empty), or undefined: inflate and search in Node. */
  readonly markerScan?: (markers: readonly Buffer[]) => MarkerScanStream | undefined;
};

/** True when `error` says the gzip data is bad (zlib's errors, igzip's refusals), not the inflater. */
export function isIntegrityError(error: unknown): boolean {
  if (error instanceof InflateError) return error.integrity;
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/** The first executable `name` on PATH (no child process: a stat per PATH entry). */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Which inflater `createInflaterFactory` uses: DB_RUNBOOK_INFLATER when set, else igzip when installed. */
export function chooseInflater(
  env: NodeJS.ProcessEnv = process.env,
): { kind: 'igzip'; binary: string } | { kind: 'zlib' } {
  const asked = env.DB_RUNBOOK_INFLATER;
  if (asked === 'zlib') return { kind: 'zlib' };
  const binary = findOnPath('igzip', env.PATH);
  if (binary) return { kind: 'igzip', binary };
  if (asked === 'igzip') throw new InflateError('DB_RUNBOOK_INFLATER=igzip but igzip is not on PATH', false);
  return { kind: 'zlib' };
}

const ZLIB_CHUNK = 256 * 1024;

/**
 * Whether scanGzipStream's markers are searched outside Node: igzip is the inflater, perl is on PATH
 * and DB_RUNBOOK_MARKER_SCAN is not `node`.
 */
export function chooseMarkerScan(
  env: NodeJS.ProcessEnv = process.env,
): { perl: string; igzip: string } | undefined {
  if (env.DB_RUNBOOK_MARKER_SCAN === 'node') return undefined;
  const inflater = chooseInflater(env);
  if (inflater.kind !== 'igzip') return undefined;
  const perl = findOnPath('perl', env.PATH);
  return perl ? { perl, igzip: inflater.binary } : undefined;
}

/** The choice is made on first use (a stat per PATH entry), not when the adapters are built. */
export function createInflaterFactory(env: NodeJS.ProcessEnv = process.env): InflaterFactory {
  let choice: ReturnType<typeof chooseInflater> | undefined;
  let scan: ReturnType<typeof chooseMarkerScan> | null | undefined;
  const inflate = () => {
    choice ??= chooseInflater(env);
    if (choice.kind === 'igzip') return new ChildInflater(choice.binary);
    return Object.assign(createGunzip({ chunkSize: ZLIB_CHUNK }), { inflater: 'zlib' as const });
  };
  const markerScan = (markers: readonly Buffer[]): MarkerScanStream | undefined => {
    scan ??= chooseMarkerScan(env) ?? null;
    return scan ? new MarkerScanChild(scan.perl, scan.igzip, markers) : undefined;
  };
  return Object.assign(inflate, { markerScan });
}

/** `igzip -dc` as a duplex stream: writes go to its stdin, its stdout is what this stream reads. */
class ChildInflater extends ChildStage {
  readonly inflater = 'igzip' as const;

  constructor(binary: string) {
    super('igzip', binary, ['-dc'], { readableHighWaterMark: 1024 * 1024 });
  }

  protected onStdout(chunk: Buffer): void {
    if (!this.push(chunk)) this.child.stdout.pause();
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  protected onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (code === 0) this.push(null);
    else if (signal)
      this.destroy(new InflateError(`igzip was killed by ${signal} (not a verdict on the data)`, false));
    else {
      const said = this.lastStderrLine();
      this.destroy(new InflateError(`invalid gzip data (igzip: ${said || `exit ${code}`})`, true));
    }
  }
}
