import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  chooseInflater,
  createInflaterFactory,
  findOnPath,
  type InflaterFactory,
  isIntegrityError,
} from '../../src/adapters/inflate.js';
import { scanGzipStream } from '../../src/runbook/dump-scan.js';

/** A Readable that hands out `data` in pieces of `size` bytes (as an HTTP body would). */
function chunked(data: Buffer, size: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (offset >= data.length) return void this.push(null);
      this.push(data.subarray(offset, offset + size));
      offset += size;
    },
  });
}

const MARKER = '2026-01-24T02:00:00Z synthetic check 20260124T020000Z-ab12';
const hasIgzip = findOnPath('igzip') !== undefined;

/** Some SQL-like text, with incompressible bytes so the gzip is large enough to stream in many chunks. */
function dumpText(): Buffer {
  const rows: string[] = ['CREATE TABLE public.backup_validation (id integer, note text);\n'];
  rows.push('COPY public.t (id, v) FROM stdin;\n');
  for (let i = 0; i < 20000; i++) rows.push(`${i}\t${randomBytes(24).toString('hex')}\n`);
  rows.push('\\.\n', `COPY public.backup_validation (id, note) FROM stdin;\n1\t${MARKER}\n\\.\n`);
  rows.push('-- PostgreSQL database dump complete\n');
  return Buffer.from(rows.join(''));
}

const kinds: [string, InflaterFactory][] = [
  ['zlib', createInflaterFactory({ ...process.env, DB_RUNBOOK_INFLATER: 'zlib' })],
];
if (hasIgzip) kinds.push(['igzip', createInflaterFactory({ ...process.env, DB_RUNBOOK_INFLATER: 'igzip' })]);

describe('chooseInflater', () => {
  it('takes igzip when it is on PATH, zlib when forced or when igzip is missing', () => {
    expect(chooseInflater({ PATH: '/nonexistent' }).kind).toBe('zlib');
    expect(chooseInflater({ PATH: process.env.PATH, DB_RUNBOOK_INFLATER: 'zlib' }).kind).toBe('zlib');
    if (hasIgzip) expect(chooseInflater({ PATH: process.env.PATH }).kind).toBe('igzip');
    expect(() => chooseInflater({ PATH: '/nonexistent', DB_RUNBOOK_INFLATER: 'igzip' })).toThrow(
      /not on PATH/,
    );
  });

  it('is installed here (scripts/setup.mjs installs isal): the igzip cases below run', () => {
    expect(hasIgzip).toBe(true);
  });
});

describe.each(kinds)('the %s inflater', (kind, inflate) => {
  const text = dumpText();
  const gz = gzipSync(text, { level: 1 });

  it('inflates to the same bytes, hash and markers as zlib', async () => {
    const factory = inflate();
    expect((factory as { inflater?: string }).inflater).toBe(kind);
    factory.destroy();
    const plain = await scanGzipStream(chunked(gz, 16 * 1024), { markers: [MARKER] });
    const viaKind = await scanGzipStream(chunked(gz, 16 * 1024), { markers: [MARKER], inflate });
    expect(viaKind).toEqual(plain);
    expect(viaKind.gzipOk).toBe(true);
    expect(viaKind.bytes).toBe(text.length);
    expect(viaKind.found[MARKER]).toBe(true);
  });

  it('inflates concatenated gzip members, as gunzip does', async () => {
    const two = Buffer.concat([gzipSync(Buffer.from('first\n')), gzipSync(Buffer.from(MARKER))]);
    const result = await scanGzipStream(Readable.from([two]), { markers: [MARKER], inflate });
    expect(result.gzipOk).toBe(true);
    expect(result.bytes).toBe(6 + MARKER.length);
  });

  it('reports a flipped byte near the end as corrupt (gzipOk false), not as a transport failure', async () => {
    const corrupt = Buffer.from(gz);
    corrupt[corrupt.length - 6] = (corrupt[corrupt.length - 6] ?? 0) ^ 0xff; // the CRC32
    const result = await scanGzipStream(chunked(corrupt, 8192), { markers: [], inflate });
    expect(result.gzipOk).toBe(false);
    expect(result.gzipError).toBeTruthy();
    expect(result.compressedBytes).toBe(corrupt.length);
  });

  it('reports scribbled deflate data, a truncated object and a non-gzip object as corrupt', async () => {
    const scribbled = Buffer.from(gz);
    scribbled.fill(0x41, 20, 400);
    for (const bad of [scribbled, gz.subarray(0, gz.length - 12), Buffer.from('-- plain SQL\n')]) {
      const result = await scanGzipStream(chunked(bad, 4096), { markers: [], inflate });
      expect(result.gzipOk).toBe(false);
      expect(result.compressedBytes).toBe(bad.length);
    }
  });

  it('rejects on a transport failure (the source errors), which is not a gzip verdict', async () => {
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent > 0)
          return void this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
        sent++;
        this.push(gz.subarray(0, 4096));
      },
    });
    await expect(scanGzipStream(source, { markers: [], inflate })).rejects.toThrow(/socket hang up/);
  });
});

describe.runIf(hasIgzip)('the igzip inflater failing itself', () => {
  it('rejects (not gzipOk false) when igzip is killed, and marks the error as not an integrity one', async () => {
    const base = createInflaterFactory({ ...process.env, DB_RUNBOOK_INFLATER: 'igzip' });
    // killed before it could finish: deterministic, whatever the machine's load
    const inflate: InflaterFactory = () => {
      const stream = base();
      (stream as unknown as { child: { kill(signal: string): void } }).child.kill('SIGKILL');
      return stream;
    };
    const gz = gzipSync(dumpText(), { level: 1 });
    const error = await scanGzipStream(chunked(gz, 8192), { markers: [], inflate }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/killed by SIGKILL/);
    expect(isIntegrityError(error)).toBe(false);
  });
});
