import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import {
  MarkerSearch,
  parseSha256Sidecar,
  scanGzipStream,
  scanTarGzStream,
} from '../../src/runbook/dump-scan.js';
import { tempDir } from '../support/temp.js';

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

function sha256sum(data: Buffer): string {
  const dir = tempDir('dump-scan-');
  const file = join(dir, 'dump.sql.gz');
  writeFileSync(file, data);
  return execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(/\s+/)[0] ?? '';
}

describe('MarkerSearch', () => {
  it('finds a marker split at every possible position between two chunks', () => {
    const text = Buffer.from(`xxxx${MARKER}yyyy`);
    for (let cut = 1; cut < text.length; cut++) {
      const search = new MarkerSearch([MARKER]);
      search.push(text.subarray(0, cut));
      search.push(text.subarray(cut));
      expect(search.found[MARKER], `cut at ${cut}`).toBe(true);
    }
  });

  it('finds a marker spread over many one-byte chunks', () => {
    const search = new MarkerSearch(['backup_validation', MARKER]);
    for (const byte of Buffer.from(`CREATE TABLE public.backup_validation (id integer);\n1\t${MARKER}\n`))
      search.push(Buffer.from([byte]));
    expect(search.found).toEqual({ backup_validation: true, [MARKER]: true });
  });

  it('says not found when only part of the marker is present', () => {
    const search = new MarkerSearch([MARKER]);
    search.push(Buffer.from(MARKER.slice(0, 30)));
    search.push(Buffer.from('-other-row'));
    expect(search.found[MARKER]).toBe(false);
  });
});

describe('scanGzipStream', () => {
  it('finds the session marker straddling the inflate buffer boundary and hashes like sha256sum', async () => {
    // 256 KiB is the inflate chunk: put the marker across it, in a dump big enough for several chunks.
    const create = Buffer.from('CREATE TABLE public.backup_validation (id integer, note text);\n');
    const before = Buffer.alloc(256 * 1024 - create.length - 10, 'a');
    const dump = Buffer.concat([create, before, Buffer.from(MARKER), Buffer.alloc(600 * 1024, 'b')]);
    const gz = gzipSync(dump);
    const result = await scanGzipStream(chunked(gz, 1000), { markers: ['backup_validation', MARKER] });
    expect(result).toMatchObject({
      gzipOk: true,
      compressedBytes: gz.length,
      bytes: dump.length,
      found: { backup_validation: true, [MARKER]: true },
    });
    expect(result.sha256).toBe(sha256sum(gz));
  });

  it('reports a marker that is not in the dump as not found', async () => {
    const gz = gzipSync(Buffer.from('1\t2026-01-01T00:00:00Z synthetic check 20260101T000000Z-zzzz\n'));
    const result = await scanGzipStream(Readable.from([gz]), { markers: [MARKER] });
    expect(result.found[MARKER]).toBe(false);
    expect(result.gzipOk).toBe(true);
  });

  it('says gzipOk false for a corrupt gzip, and still hashes every byte of the object', async () => {
    const gz = gzipSync(Buffer.alloc(256 * 1024, 'z'));
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x41, 20, 60); // scribble over the deflate data
    const result = await scanGzipStream(chunked(corrupt, 4096), { markers: ['x'] });
    expect(result.gzipOk).toBe(false);
    expect(result.gzipError).toBeTruthy();
    expect(result.compressedBytes).toBe(corrupt.length);
    expect(result.sha256).toBe(sha256sum(corrupt));
  });

  it('says gzipOk false for a truncated upload', async () => {
    const gz = gzipSync(Buffer.alloc(64 * 1024, 'q'));
    const result = await scanGzipStream(Readable.from([gz.subarray(0, gz.length - 12)]), { markers: [] });
    expect(result.gzipOk).toBe(false);
    expect(result.gzipError).toMatch(/unexpected end of file/);
  });

  it('says gzipOk false for something that is not gzip at all', async () => {
    const result = await scanGzipStream(Readable.from([Buffer.from('-- plain SQL, not gzip\n')]), {
      markers: ['SQL'],
    });
    expect(result.gzipOk).toBe(false);
    expect(result.found.SQL).toBe(false);
  });

  it('reports progress in compressed and inflated bytes', async () => {
    const gz = gzipSync(Buffer.alloc(300 * 1024, 'p'));
    const seen: { compressedBytes: number; bytes: number }[] = [];
    await scanGzipStream(chunked(gz, 100), { markers: [], onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toEqual({ compressedBytes: gz.length, bytes: 300 * 1024 });
  });

  it('stops when its signal aborts', async () => {
    const controller = new AbortController();
    const endless = new Readable({
      read() {
        setTimeout(() => this.push(gzipSync(Buffer.from('more'))), 5);
      },
    });
    setTimeout(() => controller.abort(), 50);
    await expect(scanGzipStream(endless, { markers: ['x'], signal: controller.signal })).rejects.toThrow();
  });
});

async function tarGz(files: { name: string; body: string }[]): Promise<Buffer> {
  const archive = pack();
  for (const file of files) archive.entry({ name: file.name }, file.body);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

describe('scanTarGzStream', () => {
  it('lists the entries in archive order, as tar -tzf does, and hashes the archive', async () => {
    const files = Array.from({ length: 25 }, (_, index) => ({
      name: `neo4j-2026-01-24T02-30-00.backup/part-${String(index).padStart(2, '0')}`,
      body: 'x'.repeat(index * 100),
    }));
    const gz = await tarGz(files);
    const result = await scanTarGzStream(chunked(gz, 777), { maxEntries: 10 });
    expect(result).toMatchObject({ gzipOk: true, tarOk: true, entryCount: 25, compressedBytes: gz.length });
    expect(result.entries.map((entry) => entry.name)).toEqual(files.slice(0, 10).map((file) => file.name));
    const dir = tempDir('tar-scan-');
    writeFileSync(join(dir, 'a.tar.gz'), gz);
    const listed = execFileSync('tar', ['-tzf', join(dir, 'a.tar.gz')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listed.slice(0, 10)).toEqual(result.entries.map((entry) => entry.name));
    expect(result.sha256).toBe(sha256sum(gz));
  });

  it('says tarOk false when the gzip holds something that is not a tar archive', async () => {
    const gz = gzipSync(Buffer.alloc(4096, 'n'));
    const result = await scanTarGzStream(Readable.from([gz]));
    expect(result.gzipOk).toBe(true);
    expect(result.tarOk).toBe(false);
    expect(result.tarError).toBeTruthy();
  });

  it('says gzipOk false for a truncated archive', async () => {
    const gz = await tarGz([{ name: 'a', body: 'y'.repeat(100_000) }]);
    const result = await scanTarGzStream(Readable.from([gz.subarray(0, gz.length / 2)]));
    expect(result.gzipOk).toBe(false);
    expect(result.tarOk).toBe(false);
  });
});

describe('parseSha256Sidecar', () => {
  it('reads sha256sum output and the bare hex', () => {
    const hex = 'a'.repeat(64);
    expect(parseSha256Sidecar(`${hex}  postgres-2026.sql.gz\n`)).toEqual({
      sha256: hex,
      name: 'postgres-2026.sql.gz',
    });
    expect(parseSha256Sidecar(`${hex.toUpperCase()}\n`)).toEqual({ sha256: hex });
    expect(parseSha256Sidecar('not a checksum')).toBeUndefined();
  });
});
