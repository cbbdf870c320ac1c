// The verify step's scan with igzip and perl installed: the .sql.gz is inflated and searched outside
// Node (igzip -dc read by a perl counter), Node only hashes the compressed bytes. What the operator sees
// must not change: the same sha256, sizes and markers as zlib in Node, a corrupt object told as a broken
// gzip stream, a network failure or a dead helper as a failure with no verdict on the data, and the
// in-Node search when perl is missing.
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  chooseMarkerScan,
  createInflaterFactory,
  findOnPath,
  type InflaterFactory,
  isIntegrityError,
} from '../../src/adapters/inflate.js';
import { scanGzipStream, type ScanProgress } from '../../src/runbook/dump-scan.js';
import { tempDir } from '../support/temp.js';

const igzip = findOnPath('igzip');
const perl = findOnPath('perl');
const outsideNode = igzip !== undefined && perl !== undefined;

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

/**
 * ~6 MiB of COPY lines with one distinct marker straddling every 64 KiB boundary (wherever the pipe
 * reads cut, some straddle a cut), the session marker at the very end, non-ASCII text and a NUL byte.
 */
function dump(): { text: Buffer; boundaryMarkers: string[] } {
  const size = 6 * 1024 * 1024;
  const text = Buffer.alloc(size + 1024);
  const line = Buffer.from(
    '42\t7\tcarol.12@example.test\t19.99\t2026-01-05 03:00:00+00\tünïcødé ✓\t{t1,x}\n',
  );
  for (let offset = 0; offset < text.length; offset += line.length) line.copy(text, offset);
  const boundaryMarkers: string[] = [];
  for (let at = 64 * 1024; at < size; at += 64 * 1024) {
    const marker = `marker-${at}-${'x'.repeat(at % 7)}`;
    Buffer.from(marker).copy(text, at - 9);
    boundaryMarkers.push(marker);
  }
  text[100] = 0;
  const tail = Buffer.from(`\n1\t${MARKER}\n-- PostgreSQL database dump complete\n`);
  return { text: Buffer.concat([text, tail]), boundaryMarkers };
}

const zlib = createInflaterFactory({ ...process.env, DB_RUNBOOK_INFLATER: 'zlib' });
const outside = createInflaterFactory({ ...process.env, DB_RUNBOOK_INFLATER: 'igzip' });

describe('choosing where the verify scan searches', () => {
  it('outside Node with igzip and perl; in Node when forced, with zlib, or without perl', () => {
    if (outsideNode) expect(chooseMarkerScan({ PATH: process.env.PATH })).toBeDefined();
    expect(chooseMarkerScan({ PATH: process.env.PATH, DB_RUNBOOK_MARKER_SCAN: 'node' })).toBeUndefined();
    expect(chooseMarkerScan({ PATH: process.env.PATH, DB_RUNBOOK_INFLATER: 'zlib' })).toBeUndefined();
    expect(chooseMarkerScan({ PATH: '/nonexistent' })).toBeUndefined();
  });

  it('runs here (scripts/setup.mjs installs isal; perl is in the base system)', () => {
    expect(outsideNode).toBe(true);
  });
});

describe.runIf(outsideNode)('the verify scan outside Node (igzip -dc | perl)', () => {
  const { text, boundaryMarkers } = dump();
  const gz = gzipSync(text, { level: 1 });
  const markers = [
    MARKER,
    'backup_validation',
    '',
    MARKER,
    'ünïcødé ✓',
    `${MARKER}\n-- PostgreSQL`,
    'not in this dump',
    ...boundaryMarkers,
  ];

  it('reports the same sha256, sizes and markers as zlib in Node, with progress up to the total', async () => {
    const inNode = await scanGzipStream(chunked(gz, 16 * 1024), { markers, inflate: zlib });
    const progress: ScanProgress[] = [];
    const viaPerl = await scanGzipStream(chunked(gz, 16 * 1024), {
      markers,
      inflate: outside,
      onProgress: (p) => progress.push(p),
    });
    expect(viaPerl).toEqual(inNode);
    expect(viaPerl.bytes).toBe(text.length);
    expect(viaPerl.found).toMatchObject({
      [MARKER]: true,
      '': true,
      'ünïcødé ✓': true,
      [`${MARKER}\n-- PostgreSQL`]: true,
      'not in this dump': false,
    });
    for (const marker of boundaryMarkers) expect(viaPerl.found[marker], marker).toBe(true);
    expect(progress.at(-1)).toEqual({ compressedBytes: gz.length, bytes: text.length });
  });

  it('finds a marker split between two reads of the inflated text, and one split over three', async () => {
    const dir = tempDir('verify-scan-split-');
    const fake = join(dir, 'igzip');
    // an "igzip" that writes its output in pieces, waiting between them: each piece is one read
    writeFileSync(
      fake,
      `#!/bin/sh\ncat >/dev/null\nprintf 'xx${MARKER.slice(0, 20)}'\nsleep 0.2\nprintf '${MARKER.slice(20)}yy ab'\nsleep 0.2\nprintf 'c'\nsleep 0.2\nprintf 'de'\n`,
    );
    chmodSync(fake, 0o755);
    symlinkSync(perl ?? '', join(dir, 'perl'));
    const inflate = createInflaterFactory({ PATH: dir });
    const result = await scanGzipStream(Readable.from([gz.subarray(0, 100)]), {
      markers: [MARKER, 'abcde', 'yyy'],
      inflate,
    });
    expect(result).toMatchObject({
      gzipOk: true,
      bytes: MARKER.length + 10,
      found: { [MARKER]: true, abcde: true, yyy: false },
    });
  });

  it('inflates concatenated gzip members and an empty object member, as gunzip does', async () => {
    const two = Buffer.concat([
      gzipSync(Buffer.from('first\n')),
      gzipSync(Buffer.alloc(0)),
      gzipSync(MARKER),
    ]);
    const result = await scanGzipStream(Readable.from([two]), { markers: [MARKER], inflate: outside });
    expect(result).toMatchObject({ gzipOk: true, bytes: 6 + MARKER.length, found: { [MARKER]: true } });
  });

  it('tells a bad CRC, scribbled data, a truncated object and plain SQL as a broken gzip stream', async () => {
    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 6] = (badCrc[badCrc.length - 6] ?? 0) ^ 0xff;
    const scribbled = Buffer.from(gz);
    scribbled.fill(0x41, 2000, 4000);
    const truncated = gz.subarray(0, gz.length >> 1);
    for (const bad of [badCrc, scribbled, truncated, Buffer.from('-- plain SQL\n')]) {
      const inNode = await scanGzipStream(chunked(bad, 8192), { markers: [MARKER], inflate: zlib });
      const result = await scanGzipStream(chunked(bad, 8192), { markers: [MARKER], inflate: outside });
      expect(result.gzipOk).toBe(false);
      expect(result.gzipError).toMatch(/^invalid gzip data \(igzip: .+\)$/);
      // the whole object is still read and hashed: the sidecar check sees the same sha256
      expect(result.compressedBytes).toBe(bad.length);
      expect(result.sha256).toBe(inNode.sha256);
      expect(result.bytes).toBeLessThanOrEqual(text.length);
    }
  });

  it('rejects on a network failure (the source errors): no gzip verdict', async () => {
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent > 0)
          return void this.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
        sent++;
        this.push(gz.subarray(0, 4096));
      },
    });
    await expect(scanGzipStream(source, { markers: [MARKER], inflate: outside })).rejects.toThrow(
      /socket hang up/,
    );
  });

  it('rejects, as no verdict on the data, when igzip is killed or perl is', async () => {
    const dir = tempDir('verify-scan-killed-');
    const killer = join(dir, 'igzip');
    writeFileSync(killer, '#!/bin/sh\nkill -KILL $$\n');
    chmodSync(killer, 0o755);
    symlinkSync(perl ?? '', join(dir, 'perl'));
    const killedIgzip = createInflaterFactory({ PATH: dir });
    const base = createInflaterFactory({ ...process.env, DB_RUNBOOK_INFLATER: 'igzip' });
    const killedPerl: InflaterFactory = Object.assign(() => base(), {
      markerScan: (wanted: readonly Buffer[]) => {
        const stage = base.markerScan?.(wanted);
        (stage as unknown as { child: { kill(signal: string): void } }).child.kill('SIGKILL');
        return stage;
      },
    });
    for (const [inflate, said] of [
      [killedIgzip, /igzip was killed by SIGKILL/],
      [killedPerl, /marker scan \(perl\) was killed by SIGKILL/],
    ] as const) {
      const error = await scanGzipStream(chunked(gz, 64 * 1024), { markers: [MARKER], inflate }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(String(error)).toMatch(said);
      expect(isIntegrityError(error)).toBe(false);
    }
  });

  it('searches in Node (through the igzip child) when perl is not on PATH', async () => {
    const dir = tempDir('verify-scan-noperl-');
    symlinkSync(igzip ?? '', join(dir, 'igzip'));
    const inflate = createInflaterFactory({ PATH: dir });
    expect(inflate.markerScan?.([])).toBeUndefined();
    const result = await scanGzipStream(chunked(gz, 16 * 1024), { markers: [MARKER], inflate });
    expect(result).toMatchObject({ gzipOk: true, bytes: text.length, found: { [MARKER]: true } });
  });

  it('leaves no igzip or perl running after an abort', async () => {
    const dir = tempDir('verify-scan-abort-');
    const link = join(dir, 'igzip');
    symlinkSync(igzip ?? '', link);
    symlinkSync(perl ?? '', join(dir, 'perl'));
    const inflate = createInflaterFactory({ PATH: dir });
    const controller = new AbortController();
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent++ === 4) controller.abort(new Error('operator pressed q'));
        // never ends on its own: only the abort stops the scan
        setTimeout(() => this.push(gz.subarray(0, 64 * 1024)), 5);
      },
    });
    await expect(
      scanGzipStream(source, { markers: [MARKER], inflate, signal: controller.signal }),
    ).rejects.toThrow(/abort/i);
    source.destroy();
    const running = () =>
      readdirSync('/proc')
        .filter((pid) => /^\d+$/.test(pid))
        .filter((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
          } catch {
            return false;
          }
        });
    for (let i = 0; i < 100 && running().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(running()).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });
});
