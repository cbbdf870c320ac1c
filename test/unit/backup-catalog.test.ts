import { describe, expect, it } from 'vitest';
import {
  buildCatalog,
  dataLossWindow,
  defaultBackup,
  describeBackup,
  formatBytes,
  formatDuration,
  parseSidecar,
  parseTimestamp,
  recoveryPointFromMetadata,
  withMetadata,
} from '../../src/runbook/backup-catalog.js';

const HEX = 'a'.repeat(64);

describe('parseTimestamp', () => {
  it.each([
    ['2026-01-02T03:04:05Z.sql.gz', '2026-01-02T03:04:05.000Z'],
    ['2026-01-02T03-04-05Z.sql.gz', '2026-01-02T03:04:05.000Z'],
    ['20260102T030405Z.sql.gz', '2026-01-02T03:04:05.000Z'],
    ['20260102-030405.sql.gz', '2026-01-02T03:04:05.000Z'],
    ['2026-01-02_03-04-05.sql.gz', '2026-01-02T03:04:05.000Z'],
    ['neo4j-2026-01-02T03-04-05.backup', '2026-01-02T03:04:05.000Z'],
    ['2026-01-02T03:04:05.250Z', '2026-01-02T03:04:05.250Z'],
    ['2026-01-02T05:04:05+02:00', '2026-01-02T03:04:05.000Z'],
    // the scripts' keys and recovery points carry microseconds (two backups in one second never share a key)
    ['2026-01-02T03-04-05.123456Z.sql.gz', '2026-01-02T03:04:05.123Z'],
    ['2026-01-02T03:04:05.123456Z', '2026-01-02T03:04:05.123Z'],
  ])('%s → %s', (text, iso) => {
    expect(parseTimestamp(text)).toBe(iso);
  });

  it.each(['backup.sql.gz', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T24:00:00Z'])(
    'finds no valid time in %s',
    (text) => {
      expect(parseTimestamp(text)).toBeUndefined();
    },
  );
});

describe('buildCatalog with microsecond keys', () => {
  it('two backups of the same second are two backups, newest first, each with its own sidecar', () => {
    const catalog = buildCatalog(
      [
        { key: 'postgres/2026-01-02T03-04-05.000100Z.sql.gz', size: 1 },
        { key: 'postgres/2026-01-02T03-04-05.000100Z.sql.gz.sha256', size: 90 },
        { key: 'postgres/2026-01-02T03-04-05.000900Z.sql.gz', size: 2 },
        { key: 'postgres/2026-01-02T03-04-05.000900Z.sql.gz.sha256', size: 90 },
        { key: 'postgres/2026-01-02T03-04-04Z.sql.gz', size: 3 },
      ],
      { kind: 'postgres', prefix: 'postgres/' },
    );
    expect(catalog.map((backup) => [backup.key.slice(9), backup.sidecarKey !== undefined])).toEqual([
      ['2026-01-02T03-04-05.000900Z.sql.gz', true],
      ['2026-01-02T03-04-05.000100Z.sql.gz', true],
      ['2026-01-02T03-04-04Z.sql.gz', false],
    ]);
  });
});

describe('buildCatalog', () => {
  const objects = [
    { key: 'postgres/20260101T020000Z.sql.gz', size: 1000, lastModified: new Date('2026-01-01T02:05:00Z') },
    { key: 'postgres/20260101T020000Z.sql.gz.sha256', size: 90 },
    { key: 'postgres/20260103T020000Z.sql.gz', size: 3000, lastModified: '2026-01-03T02:04:00Z' },
    { key: 'postgres/20260103T020000Z.sql.gz.sha256', size: 90 },
    { key: 'postgres/20260102T020000Z.sql.gz', size: 2000, lastModified: '2026-01-02T02:04:00Z' },
    { key: 'postgres/pre-restore/20260104T010000Z.sql.gz', size: 2500, lastModified: '2026-01-04T01:01:00Z' },
    { key: 'postgres/pre-restore/20260104T010000Z.sql.gz.sha256', size: 90 },
    { key: 'postgres/manual.sql.gz', size: 10, lastModified: '2025-12-31T00:00:00Z' },
    { key: 'postgres/.tmp-20260105T020000Z.sql.gz.part', size: 5 },
    { key: 'postgres/notes.txt', size: 5 },
    { key: 'neo4j/20260103T023000Z.backup.tar.gz', size: 5 },
    { key: 'postgres/', size: 0 },
  ];

  it('groups backups with their sidecars, newest first, and leaves other objects out', () => {
    const catalog = buildCatalog(objects, { kind: 'postgres', prefix: 'postgres/' });
    expect(catalog.map((b) => b.key)).toEqual([
      'postgres/pre-restore/20260104T010000Z.sql.gz',
      'postgres/20260103T020000Z.sql.gz',
      'postgres/20260102T020000Z.sql.gz',
      'postgres/20260101T020000Z.sql.gz',
      'postgres/manual.sql.gz',
    ]);
    expect(catalog[1]).toMatchObject({
      size: 3000,
      sidecarKey: 'postgres/20260103T020000Z.sql.gz.sha256',
      recoveryPoint: '2026-01-03T02:00:00.000Z',
      recoveryPointSource: 'key',
      preRestore: false,
    });
    expect(catalog[2]?.sidecarKey).toBeUndefined();
    expect(catalog[0]?.preRestore).toBe(true);
    // No time in the name: the upload time is an upper bound for the recovery point.
    expect(catalog[4]).toMatchObject({
      recoveryPoint: '2025-12-31T00:00:00.000Z',
      recoveryPointSource: 'last-modified',
    });
  });

  it('picks the newest regular backup by default, never a pre-restore one', () => {
    const catalog = buildCatalog(objects, { kind: 'postgres', prefix: 'postgres/' });
    expect(defaultBackup(catalog)?.key).toBe('postgres/20260103T020000Z.sql.gz');
    expect(defaultBackup([])).toBeUndefined();
  });

  it('lists Neo4j archives under their prefix', () => {
    const catalog = buildCatalog(objects, { kind: 'neo4j', prefix: 'neo4j/' });
    expect(catalog.map((b) => b.key)).toEqual(['neo4j/20260103T023000Z.backup.tar.gz']);
  });

  it('orders backups without any time last', () => {
    const catalog = buildCatalog(
      [
        { key: 'p/b.sql.gz', size: 1 },
        { key: 'p/20260101T000000Z.sql.gz', size: 1 },
      ],
      { kind: 'postgres', prefix: 'p/' },
    );
    expect(catalog.map((b) => b.key)).toEqual(['p/20260101T000000Z.sql.gz', 'p/b.sql.gz']);
  });
});

describe('recovery point from metadata', () => {
  it('reads the names backup scripts use, in ISO, compact or epoch form', () => {
    expect(recoveryPointFromMetadata({ 'recovery-point': '2026-01-02T03:04:05Z' })).toBe(
      '2026-01-02T03:04:05.000Z',
    );
    expect(recoveryPointFromMetadata({ Recovery_Point: '20260102T030405Z' })).toBe(
      '2026-01-02T03:04:05.000Z',
    );
    expect(recoveryPointFromMetadata({ 'recovery-point': '1767323045' })).toBe('2026-01-02T03:04:05.000Z');
    expect(recoveryPointFromMetadata({ 'pg-dump-version': '15.18' })).toBeUndefined();
  });

  it('beats the key name', () => {
    const [backup] = buildCatalog([{ key: 'p/20260102T030000Z.sql.gz', size: 1 }], {
      kind: 'postgres',
      prefix: 'p/',
    });
    expect(withMetadata(backup!, { 'recovery-point': '2026-01-02T02:59:58Z' })).toMatchObject({
      recoveryPoint: '2026-01-02T02:59:58.000Z',
      recoveryPointSource: 'metadata',
    });
    expect(withMetadata(backup!, {})).toBe(backup);
  });
});

describe('parseSidecar', () => {
  it('reads a bare digest or sha256sum output', () => {
    expect(parseSidecar(`${HEX}\n`)).toEqual({ ok: true, sha256: HEX });
    expect(parseSidecar(`${HEX.toUpperCase()}  20260101T020000Z.sql.gz\n`)).toEqual({
      ok: true,
      sha256: HEX,
    });
    expect(parseSidecar(`${HEX} *-`)).toEqual({ ok: true, sha256: HEX });
  });

  it.each(['', '\n\n', 'abc', `${HEX}0`, `sha256:${HEX}`])('refuses %j', (text) => {
    expect(parseSidecar(text).ok).toBe(false);
  });
});

describe('data-loss window', () => {
  it('is incident − recovery point', () => {
    const window = dataLossWindow('2026-01-03T14:30:00Z', {
      recoveryPoint: '2026-01-03T02:00:00Z',
      recoveryPointSource: 'key',
    });
    expect(window).toMatchObject({ ms: 12.5 * 3600_000, afterIncident: false, atLeast: false });
    expect(window?.text).toBe('12h 30m of writes before the incident are lost');
  });

  it('says "at least" when only the upload time is known', () => {
    expect(
      dataLossWindow('2026-01-03T03:00:00Z', {
        recoveryPoint: '2026-01-03T02:00:00Z',
        recoveryPointSource: 'last-modified',
      })?.text,
    ).toMatch(/^at least 1h/);
  });

  it('warns when the backup started after the incident', () => {
    const window = dataLossWindow('2026-01-03T01:00:00Z', { recoveryPoint: '2026-01-03T02:00:00Z' });
    expect(window?.afterIncident).toBe(true);
    expect(window?.text).toMatch(/AFTER the incident/);
  });

  it('is unknown without both times', () => {
    expect(dataLossWindow(undefined, { recoveryPoint: '2026-01-03T02:00:00Z' })).toBeUndefined();
    expect(dataLossWindow('2026-01-03T02:00:00Z', {})).toBeUndefined();
  });
});

describe('formatting', () => {
  it('formats durations and sizes', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(61_000)).toBe('1m 1s');
    expect(formatDuration(26 * 3600_000)).toBe('1d 2h');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(1024 ** 3 * 1.5)).toBe('1.50 GiB');
  });

  it('describes a backup for the choice list', () => {
    const [backup] = buildCatalog(
      [{ key: 'p/20260103T020000Z.sql.gz', size: 3 * 1024 * 1024, lastModified: '2026-01-03T02:04:00Z' }],
      { kind: 'postgres', prefix: 'p/' },
    );
    expect(describeBackup(backup!, new Date('2026-01-03T14:00:00Z'), '2026-01-03T13:00:00Z')).toBe(
      '3.00 MiB · 12h ago · recovery point 2026-01-03T02:00:00Z · NO sha256 sidecar · loss 11h',
    );
  });
});
