import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';

/**
 * Gzip inflaters for the integrity and verify passes: an `igzip -dc` child when igzip (Debian package
 * `isal`) is on PATH — 3–6× faster than zlib, and on another core — else Node's zlib. Both are duplex
 * streams (compressed bytes in, the same inflated bytes out). Their errors keep two kinds apart:
 *  - the gzip data is bad (not gzip, truncated, CRC or length mismatch): `integrity: true`
 *    (zlib's own errors, or igzip exiting non-zero after reading its input);
 *  - the inflater itself failed (igzip could not start, was killed by a signal): `integrity: false`.
 * A transport failure never reaches the inflater: it is the source stream's error.
 * DB_RUNBOOK_INFLATER=zlib|igzip forces one (tests compare both).
 */

export type InflaterKind = 'igzip' | 'zlib';
export type InflaterFactory = () => Duplex & { readonly inflater?: InflaterKind };

export class InflateError extends Error {
  constructor(
    message: string,
    readonly integrity: boolean,
  ) {
    super(message);
    this.name = integrity ? 'GzipIntegrityError' : 'InflaterError';
  }
}

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

/** The choice is made on first use (a stat per PATH entry), not when the adapters are built. */
export function createInflaterFactory(env: NodeJS.ProcessEnv = process.env): InflaterFactory {
  let choice: ReturnType<typeof chooseInflater> | undefined;
  return () => {
    choice ??= chooseInflater(env);
    if (choice.kind === 'igzip') return new ChildInflater(choice.binary);
    return Object.assign(createGunzip({ chunkSize: ZLIB_CHUNK }), { inflater: 'zlib' as const });
  };
}

const STDERR_KEEP = 2048;

/** `igzip -dc` as a duplex stream: writes go to its stdin, its stdout is what this stream reads. */
class ChildInflater extends Duplex {
  readonly inflater = 'igzip' as const;
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private stderr = '';
  private waiting: (() => void) | undefined;
  private exited = false;

  constructor(binary: string) {
    super({ readableHighWaterMark: 1024 * 1024, writableHighWaterMark: 1024 * 1024 });
    this.child = spawn(binary, ['-dc'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const child = this.child;
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (this.stderr.length < STDERR_KEEP) this.stderr += text;
    });
    // igzip stops reading at bad data and exits: EPIPE on its stdin is that, reported by 'close' below.
    child.stdin.on('error', () => this.release());
    child.on('error', (error) => {
      this.exited = true;
      this.release();
      this.destroy(new InflateError(`igzip could not run: ${error.message}`, false));
    });
    child.on('close', (code, signal) => {
      this.exited = true;
      this.release();
      if (this.destroyed) return;
      if (code === 0) this.push(null);
      else if (signal)
        this.destroy(new InflateError(`igzip was killed by ${signal} (not a verdict on the data)`, false));
      else {
        const said =
          this.stderr
            .trim()
            .split('\n')
            .at(-1)
            ?.replace(/^igzip: /, '') ?? '';
        this.destroy(new InflateError(`invalid gzip data (igzip: ${said || `exit ${code}`})`, true));
      }
    });
  }

  private release(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  override _read(): void {
    this.child.stdout.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.exited || this.child.stdin.destroyed) return callback();
    if (this.child.stdin.write(chunk)) return callback();
    this.waiting = () => callback();
    this.child.stdin.once('drain', () => this.release());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.exited && !this.child.stdin.destroyed) this.child.stdin.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.exited) {
      this.child.stdin.destroy();
      this.child.stdout.destroy();
      this.child.kill('SIGKILL');
    }
    this.release();
    callback(error);
  }
}
