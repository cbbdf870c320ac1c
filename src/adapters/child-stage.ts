import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants } from 'node:os';
import { Duplex, type DuplexOptions, type Readable, type Writable } from 'node:stream';

/**
 * A stage of the integrity pass that runs as a child process: writes go to its stdin (the compressed
 * object), its stdout is for the subclass to read. Its errors keep two kinds apart:
 *  - the gzip data is bad (not gzip, truncated, CRC or length mismatch): `integrity: true`;
 *  - the stage itself failed (could not start, was killed by a signal): `integrity: false`.
 * A transport failure never reaches it: it is the source stream's error.
 */
export class InflateError extends Error {
  constructor(
    message: string,
    readonly integrity: boolean,
  ) {
    super(message);
    this.name = integrity ? 'GzipIntegrityError' : 'InflaterError';
  }
}

const STDERR_KEEP = 2048;

/** Writes of this size keep a child inflater busy (16 KiB writes make igzip run at half speed). */
export const CHILD_WRITE_BYTES = 1024 * 1024;

export abstract class ChildStage extends Duplex {
  /** How many compressed bytes to gather before each write (read by the integrity pass). */
  readonly preferredWrite = CHILD_WRITE_BYTES;
  protected readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private stderrText = '';
  private waiting: (() => void) | undefined;
  private exited = false;

  constructor(
    private readonly label: string,
    binary: string,
    args: readonly string[],
    options: DuplexOptions & { env?: NodeJS.ProcessEnv } = {},
  ) {
    const { env, ...duplexOptions } = options;
    super({ writableHighWaterMark: 1024 * 1024, ...duplexOptions });
    this.child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    const child = this.child;
    child.stdout.on('data', (chunk: Buffer) => this.onStdout(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (this.stderrText.length < STDERR_KEEP) this.stderrText += text;
    });
    // The inflater stops reading at bad data and exits: EPIPE on its stdin is that, reported by 'close'.
    child.stdin.on('error', () => this.release());
    child.on('error', (error) => {
      this.exited = true;
      this.release();
      this.destroy(new InflateError(`${this.label} could not run: ${error.message}`, false));
    });
    child.on('close', (code, signal) => {
      this.exited = true;
      this.release();
      if (!this.destroyed) this.onExit(code, signal);
    });
  }

  /** A chunk of the child's stdout. */
  protected abstract onStdout(chunk: Buffer): void;

  /** The child exited (its stdout and stderr are read to their end): end or destroy this stream. */
  protected abstract onExit(code: number | null, signal: NodeJS.Signals | null): void;

  /** The last line the child wrote to stderr, without an `igzip: ` prefix. */
  protected lastStderrLine(): string {
    return (
      this.stderrText
        .trim()
        .split('\n')
        .at(-1)
        ?.replace(/^igzip: /, '') ?? ''
    );
  }

  private release(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
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

/** `SIGKILL` for 9 (a wait status's signal number). */
export function signalName(number: number): string {
  const name = Object.entries(constants.signals).find(([, value]) => value === number)?.[0];
  return name ?? `signal ${number}`;
}
