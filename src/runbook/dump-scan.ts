import { createHash } from 'node:crypto';
import { Transform, Writable, type Duplex, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, type Gunzip } from 'node:zlib';
import { extract } from 'tar-stream';

/**
 * Streaming integrity scans of a backup object: one pass over the compressed bytes computes their
 * SHA-256 (what the `<key>.sha256` sidecar holds) while zlib inflates them and a consumer reads the
 * result — marker search for `.sql.gz` dumps, tar headers for `.backup.tar.gz` archives. Memory is
 * constant: fixed-size buffers, a marker tail of (longest marker − 1) bytes, no accumulation.
 * A broken gzip stream does not stop the hash: the rest of the object is still read, so the sha256
 * is always that of the whole object (and a truncated upload shows as both gzipOk false and a
 * sidecar mismatch).
 * With igzip and perl installed, scanGzipStream's marker search runs outside Node (`Inflate.markerScan`):
 * Node hashes and feeds the compressed bytes, the inflated text never crosses into it.
 */
export interface ScanProgress {
  /** Compressed bytes read from the source so far. */
  compressedBytes: number;
  /** Uncompressed bytes inflated so far. */
  bytes: number;
}

/**
 * Makes the stream that inflates (compressed in, inflated out); default Node's zlib. The adapters give
 * an `igzip -dc` child when igzip is installed. An error it raises is the gzip data's fault unless it
 * carries `integrity: false` (the inflater itself failed): then the scan rejects instead.
 * `markerScan`, when the adapters have one (igzip and perl installed), inflates and searches outside
 * Node: scanGzipStream then only hashes and feeds the compressed bytes.
 */
export type Inflate = (() => Duplex) & {
  readonly markerScan?: (markers: readonly Buffer[]) => MarkerScanStage | undefined;
};

/** Compressed bytes in, nothing out; ends when the gzip stream was whole, errors as an inflater does. */
export type MarkerScanStage = Duplex & {
  /** Inflated bytes so far. */
  readonly bytes: number;
  /** Indexes of the markers found. */
  readonly found: ReadonlySet<number>;
};

export interface ScanOptions {
  markers: string[];
  inflate?: Inflate;
  onProgress?(progress: ScanProgress): void;
  signal?: AbortSignal;
}

export interface ScanResult {
  /** Hex SHA-256 of the compressed bytes (the object as stored). */
  sha256: string;
  compressedBytes: number;
  /** Uncompressed bytes inflated (up to the point of a gzip error). */
  bytes: number;
  found: Record<string, boolean>;
  gzipOk: boolean;
  /** zlib's message when gzipOk is false (`unexpected end of file`, `incorrect header check`, …). */
  gzipError?: string;
}

/** Output buffer size for zlib: larger than the 16 KiB default, fewer round trips to the thread pool. */
const INFLATE_CHUNK = 256 * 1024;
const PROGRESS_EVERY_MS = 200;

/** Finds each marker once, across chunk boundaries, keeping only (longest marker − 1) bytes. */
export class MarkerSearch {
  readonly found: Record<string, boolean> = {};
  private pending: { text: string; bytes: Buffer }[];
  private tail: Buffer = Buffer.alloc(0);
  private readonly keep: number;

  constructor(markers: readonly string[]) {
    for (const marker of markers) this.found[marker] = marker === '';
    this.pending = [...new Set(markers)]
      .filter((marker) => marker !== '')
      .map((text) => ({ text, bytes: Buffer.from(text, 'utf8') }));
    this.keep = Math.max(0, ...this.pending.map((marker) => marker.bytes.length - 1));
  }

  get done(): boolean {
    return this.pending.length === 0;
  }

  push(chunk: Buffer): void {
    if (this.pending.length === 0 || chunk.length === 0) return;
    const joint = this.tail.length > 0 ? Buffer.concat([this.tail, chunk.subarray(0, this.keep)]) : undefined;
    this.pending = this.pending.filter((marker) => {
      const hit =
        chunk.indexOf(marker.bytes) !== -1 || (joint !== undefined && joint.indexOf(marker.bytes) !== -1);
      if (hit) this.found[marker.text] = true;
      return !hit;
    });
    if (this.pending.length === 0 || this.keep === 0) {
      this.tail = Buffer.alloc(0);
      return;
    }
    // Copy the tail so the (large) chunk it came from can be collected.
    if (chunk.length >= this.keep) this.tail = Buffer.from(chunk.subarray(chunk.length - this.keep));
    else {
      const both = Buffer.concat([this.tail, chunk]);
      this.tail = Buffer.from(both.subarray(Math.max(0, both.length - this.keep)));
    }
  }
}

interface HashedInflate {
  sha256: string;
  compressedBytes: number;
  gzipError?: Error;
  consumerError?: Error;
}

type Stage = NodeJS.ReadWriteStream | NodeJS.WritableStream;

/**
 * Reads `source` to the end, hashing it, and feeds it to a gunzip whose output flows through
 * `stages` (the last one consumes). A gzip or consumer error stops the inflating side only: the
 * source is still read to its end, so the hash covers the whole object. An abort or a source error
 * rejects.
 */
async function hashAndInflate(
  source: Readable,
  stages: readonly [...Stage[], Stage],
  options: { signal?: AbortSignal; inflate?: Inflate; onCompressed?(bytes: number): void },
): Promise<HashedInflate> {
  const hash = createHash('sha256');
  let compressedBytes = 0;
  const gunzip: Duplex | Gunzip = options.inflate?.() ?? createGunzip({ chunkSize: INFLATE_CHUNK });
  // A child inflater asks for larger writes (igzip fed 16–256 KiB at a time spends its core waking up).
  const writeBytes = (gunzip as { preferredWrite?: number }).preferredWrite ?? INFLATE_CHUNK;
  let gzipError: Error | undefined;
  let consumerError: Error | undefined;
  // pipeline() destroys every stage with the first error: the first listener to see an error names
  // where it came from (these are registered before pipeline's own).
  gunzip.once('error', (error) => {
    if (error !== consumerError) gzipError ??= error;
  });
  for (const stage of stages) {
    (stage as NodeJS.EventEmitter).once('error', (error: Error) => {
      if (error !== gzipError) consumerError ??= error;
    });
  }
  let innerFailed = false;
  const streams: (NodeJS.ReadWriteStream | NodeJS.WritableStream)[] = [gunzip, ...stages];
  const inflated = pipeline(streams, { signal: options.signal }).then(
    () => undefined,
    (error: unknown) => {
      innerFailed = true;
      return error as Error;
    },
  );
  // HTTPS bodies arrive in ≤ 16 KiB TLS records: gathered into INFLATE_CHUNK-sized writes, zlib makes
  // a quarter as many round trips to the thread pool (a 16 KiB-fed inflate runs at half speed).
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const feed = (callback: (error?: Error | null) => void) => {
    const data = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    if (innerFailed || gunzip.destroyed) return callback();
    if (gunzip.write(data)) return callback();
    const resume = () => {
      gunzip.off('drain', resume);
      gunzip.off('close', resume);
      callback();
    };
    gunzip.on('drain', resume);
    gunzip.on('close', resume);
  };
  const tap = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      compressedBytes += chunk.length;
      options.onCompressed?.(compressedBytes);
      if (innerFailed || gunzip.destroyed) return callback();
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes < writeBytes) return callback();
      feed(callback);
    },
    final(callback) {
      const end = () => {
        if (!gunzip.destroyed && !gunzip.writableEnded) gunzip.end();
        void inflated.then(() => callback());
      };
      if (pendingBytes > 0) feed(end);
      else end();
    },
  });
  try {
    await pipeline(source, tap, { signal: options.signal });
  } catch (error) {
    gunzip.destroy();
    throw error;
  }
  const innerError = await inflated;
  if (options.signal?.aborted) throw abortReason(options.signal);
  // igzip could not run or was killed: no verdict on the data, so no gzipOk: false either.
  if ((gzipError as { integrity?: unknown } | undefined)?.integrity === false) throw gzipError;
  if (innerError && !gzipError && !consumerError) consumerError = innerError;
  return {
    sha256: hash.digest('hex'),
    compressedBytes,
    ...(gzipError ? { gzipError } : {}),
    ...(consumerError ? { consumerError } : {}),
  };
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  const error = new Error(`aborted${reason !== undefined ? ` (${String(reason)})` : ''}`);
  error.name = 'AbortError';
  return error;
}

function throttled(onProgress: ((progress: ScanProgress) => void) | undefined, read: () => ScanProgress) {
  let last = 0;
  return {
    tick() {
      if (!onProgress) return;
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS) return;
      last = now;
      onProgress(read());
    },
    final() {
      onProgress?.(read());
    },
  };
}

/**
 * Streams a gzip object once: sha256 and size of the compressed bytes, inflated size, whether the
 * gzip stream is intact, and which markers occur in the inflated text (searched across chunk
 * boundaries). Memory stays flat for any size. Rejects only on abort or a source (network) error.
 */
export async function scanGzipStream(source: Readable, options: ScanOptions): Promise<ScanResult> {
  const wanted = [...new Set(options.markers)].filter((marker) => marker !== '');
  const outside = options.inflate?.markerScan?.(wanted.map((marker) => Buffer.from(marker, 'utf8')));
  if (outside) return scanMarkersOutside(source, options, outside, wanted);
  const search = new MarkerSearch(options.markers);
  const result = await scanInflated(source, options, (chunk) => search.push(chunk));
  return {
    sha256: result.sha256,
    compressedBytes: result.compressedBytes,
    bytes: result.bytes,
    found: { ...search.found },
    gzipOk: result.gzipError === undefined,
    ...(result.gzipError ? { gzipError: result.gzipError.message } : {}),
  };
}

/**
 * scanGzipStream with the inflating and the search in a child (igzip and a reader): the inflated text
 * never enters Node. The same hash, counts, markers and error kinds as the in-Node search.
 */
async function scanMarkersOutside(
  source: Readable,
  options: ScanOptions,
  stage: MarkerScanStage,
  wanted: readonly string[],
): Promise<ScanResult> {
  let compressed = 0;
  const progress = throttled(options.onProgress, () => ({ compressedBytes: compressed, bytes: stage.bytes }));
  const sink = new Writable({
    objectMode: true,
    write(_chunk: unknown, _encoding, callback) {
      callback();
    },
  });
  const result = await hashAndInflate(source, [sink], {
    signal: options.signal,
    inflate: () => stage,
    onCompressed: (n) => {
      compressed = n;
      progress.tick();
    },
  });
  progress.final();
  const gzipError = result.gzipError ?? result.consumerError;
  const found: Record<string, boolean> = {};
  for (const marker of options.markers)
    found[marker] = marker === '' || stage.found.has(wanted.indexOf(marker));
  return {
    sha256: result.sha256,
    compressedBytes: result.compressedBytes,
    bytes: stage.bytes,
    found,
    gzipOk: gzipError === undefined,
    ...(gzipError ? { gzipError: gzipError.message } : {}),
  };
}

/**
 * The pass every text scan shares: hash and inflate once, hand each inflated chunk to `consume`, count
 * both sides and report progress. `gzipError`: the data's fault (or the consumer's), never the network's.
 */
export async function scanInflated(
  source: Readable,
  options: Pick<ScanOptions, 'inflate' | 'onProgress' | 'signal'>,
  consume: (chunk: Buffer) => void,
): Promise<{ sha256: string; compressedBytes: number; bytes: number; gzipError?: Error }> {
  let bytes = 0;
  let compressed = 0;
  const progress = throttled(options.onProgress, () => ({ compressedBytes: compressed, bytes }));
  const reader = new Writable({
    highWaterMark: INFLATE_CHUNK * 2,
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      consume(chunk);
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
    ...(gzipError ? { gzipError } : {}),
  };
}

export interface TarEntryInfo {
  name: string;
  size: number;
  type: string;
  mtime?: Date;
}

export interface TarScanOptions {
  /** How many entries to keep (the rest are counted). Default 20. */
  maxEntries?: number;
  inflate?: Inflate;
  onProgress?(progress: ScanProgress): void;
  signal?: AbortSignal;
}

export interface TarScanResult {
  sha256: string;
  compressedBytes: number;
  bytes: number;
  gzipOk: boolean;
  gzipError?: string;
  /** The tar structure read to its end without error. */
  tarOk: boolean;
  tarError?: string;
  /** The first entries, in archive order (as `tar -tzf | head` lists them). */
  entries: TarEntryInfo[];
  entryCount: number;
  /** Sum of the entries' sizes. */
  contentBytes: number;
}

/**
 * Streams a `.tar.gz` once: sha256 of the compressed bytes, gzip and tar integrity, and the entry
 * list (names, sizes, types) without extracting anything. Entry bodies are read and dropped.
 */
export async function scanTarGzStream(
  source: Readable,
  options: TarScanOptions = {},
): Promise<TarScanResult> {
  const maxEntries = options.maxEntries ?? 20;
  const entries: TarEntryInfo[] = [];
  let entryCount = 0;
  let contentBytes = 0;
  let bytes = 0;
  let compressed = 0;
  const progress = throttled(options.onProgress, () => ({ compressedBytes: compressed, bytes }));
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const tar = extract();
  tar.on('entry', (header, stream, next) => {
    entryCount += 1;
    contentBytes += header.size ?? 0;
    if (entries.length < maxEntries) {
      entries.push({
        name: header.name,
        size: header.size ?? 0,
        type: header.type ?? 'file',
        ...(header.mtime ? { mtime: header.mtime } : {}),
      });
    }
    stream.on('end', () => next());
    stream.on('error', (error: Error) => next(error));
    stream.resume();
  });
  const result = await hashAndInflate(source, [counter, tar], {
    signal: options.signal,
    inflate: options.inflate,
    onCompressed: (n) => {
      compressed = n;
      progress.tick();
    },
  });
  progress.final();
  const gzipOk = result.gzipError === undefined;
  const tarFailure = gzipOk ? result.consumerError : undefined;
  return {
    sha256: result.sha256,
    compressedBytes: result.compressedBytes,
    bytes,
    gzipOk,
    ...(result.gzipError ? { gzipError: result.gzipError.message } : {}),
    tarOk: gzipOk && tarFailure === undefined,
    ...(tarFailure ? { tarError: tarFailure.message } : {}),
    entries,
    entryCount,
    contentBytes,
  };
}

/** Parses a `<key>.sha256` sidecar (`<hex>  <name>` as sha256sum writes it, or the bare hex). */
export function parseSha256Sidecar(text: string): { sha256: string; name?: string } | undefined {
  const line = text.split('\n').find((candidate) => candidate.trim() !== '');
  const match = line ? /^\s*([0-9a-fA-F]{64})(?:\s+\*?(.+?))?\s*$/.exec(line) : null;
  if (!match?.[1]) return undefined;
  return { sha256: match[1].toLowerCase(), ...(match[2] ? { name: match[2] } : {}) };
}
