import { describe, expect, it } from 'vitest';
import { assessFreshness, scheduleInterval } from '../../src/runbook/freshness.js';

const NOW = new Date('2026-03-10T12:00:00Z');
const H = 3_600_000;

describe('scheduleInterval', () => {
  it('is the longest gap between runs', () => {
    expect(scheduleInterval('0 2 * * *', NOW)).toBe(24 * H);
    expect(scheduleInterval('0 */6 * * *', NOW)).toBe(6 * H);
    // weekdays only: Friday → Monday
    expect(scheduleInterval('0 2 * * 1-5', NOW)).toBe(72 * H);
    expect(scheduleInterval('not cron', NOW)).toBeUndefined();
  });
});

describe('assessFreshness', () => {
  const options = { kind: 'postgres' as const, prefix: 'postgres/', now: NOW, schedule: '0 2 * * *' };

  it('a daily job is fresh at 10 h and stale after 26 h, by the recovery point in the key', () => {
    const fresh = assessFreshness(
      [
        { key: 'postgres/2026-03-10T02-00-04Z.sql.gz', size: 2048, lastModified: NOW },
        { key: 'postgres/2026-03-10T02-00-04Z.sql.gz.sha256', size: 90, lastModified: NOW },
        { key: 'postgres/2026-03-09T02-00-03Z.sql.gz', size: 1024, lastModified: NOW },
      ],
      options,
    );
    expect(fresh).toMatchObject({ status: 'fresh', count: 2, totalBytes: 3072, staleAfterMs: 26 * H });
    expect(fresh.summary).toMatch(
      /^newest 2026-03-10T02-00-04Z.sql.gz is 9h 59m old \(recovery point from the key\); 2 backups, 3.00 KiB$/,
    );

    // s3rver (and a re-upload) sets LastModified to now: the key's time still decides.
    const stale = assessFreshness(
      [{ key: 'postgres/2026-03-09T02-00-00Z.sql.gz', size: 10, lastModified: NOW }],
      options,
    );
    expect(stale.status).toBe('stale');
    expect(stale.summary).toMatch(
      /is 1d 10h old \(recovery point from the key; no .sha256 sidecar\) — STALE: over 1d 2h; 1 backup, 10 B$/,
    );
  });

  it('metadata recovery point beats the key, and reorders', () => {
    const result = assessFreshness(
      [
        { key: 'postgres/2026-03-10T02-00-00Z.sql.gz', size: 1, lastModified: NOW },
        { key: 'postgres/2026-03-09T02-00-00Z.sql.gz', size: 1, lastModified: NOW },
      ],
      {
        ...options,
        metadata: { 'postgres/2026-03-10T02-00-00Z.sql.gz': { 'recovery-point': '2026-03-01T02:00:00Z' } },
      },
    );
    expect(result.newest?.key).toBe('postgres/2026-03-09T02-00-00Z.sql.gz');
    expect(result.status).toBe('stale');
  });

  it('without a time in key or metadata the upload time is used and said', () => {
    const result = assessFreshness(
      [{ key: 'postgres/latest.sql.gz', size: 1, lastModified: new Date(NOW.getTime() - H) }],
      options,
    );
    expect(result.status).toBe('fresh');
    expect(result.summary).toContain('upload time: no recovery point recorded');
  });

  it('empty prefixes, pre-restore copies and future times', () => {
    expect(assessFreshness([], options)).toMatchObject({ status: 'empty', count: 0 });
    const onlySafety = assessFreshness(
      [{ key: 'postgres/pre-restore/2026-03-10T01-00-00Z.sql.gz', size: 5, lastModified: NOW }],
      options,
    );
    expect(onlySafety).toMatchObject({ status: 'empty', preRestoreCount: 1 });
    expect(onlySafety.summary).toContain('only 1 pre-restore safety backup(s)');
    expect(assessFreshness([{ key: 'postgres/2026-03-11T02-00-00Z.sql.gz', size: 1 }], options).status).toBe(
      'future',
    );
  });

  it('a weekly schedule allows a week and two hours; no schedule assumes daily', () => {
    const old = [{ key: 'neo4j/2026-03-05T02-30-00Z.backup.tar.gz', size: 1 }];
    expect(
      assessFreshness(old, { kind: 'neo4j', prefix: 'neo4j/', now: NOW, schedule: '30 2 * * 0' }).status,
    ).toBe('fresh');
    const assumed = assessFreshness(old, { kind: 'neo4j', prefix: 'neo4j/', now: NOW });
    expect(assumed).toMatchObject({ status: 'stale', scheduleText: 'no schedule known: assumed daily' });
  });
});
