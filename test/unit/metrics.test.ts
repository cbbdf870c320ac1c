import { describe, expect, it } from 'vitest';
import { computeRecoveryMetrics, parseUtc, readTarget } from '../../src/runbook/metrics.js';

const times = {
  recoveryPoint: '2026-01-15T02:00:05Z',
  incidentDeclared: '2026-01-15T09:40:00Z',
  validated: '2026-01-15T11:55:00.000Z',
};

describe('RPO and RTO arithmetic', () => {
  it('RPO = incident − recovery point, RTO = validated − incident declared', () => {
    const { rpo, rto } = computeRecoveryMetrics(times, { rpoTarget: '24h', rtoTarget: '4h' });
    expect(rpo).toMatchObject({
      achievedSeconds: 7 * 3600 + 39 * 60 + 55,
      achieved: '7h 39m 55s',
      verdict: 'PASS',
    });
    expect(rto).toMatchObject({ achievedSeconds: 2 * 3600 + 15 * 60, achieved: '2h 15m', verdict: 'PASS' });
  });

  it('FAIL when the achieved value is over the target; PASS at exactly the target', () => {
    expect(computeRecoveryMetrics(times, { rtoTarget: '2h' }).rto.verdict).toBe('FAIL');
    expect(computeRecoveryMetrics(times, { rtoTarget: '2h15m' }).rto.verdict).toBe('PASS');
    expect(computeRecoveryMetrics(times, { rpoTarget: '90m' }).rpo).toMatchObject({
      verdict: 'FAIL',
      target: '90m',
      targetSeconds: 5400,
    });
  });

  it('computes in UTC whatever offset the times were written with', () => {
    const { rto } = computeRecoveryMetrics({
      incidentDeclared: '2026-03-29T00:30:00+01:00', // 2026-03-28T23:30Z, the night Europe moves its clocks
      validated: '2026-03-29T03:30:00+02:00', // 2026-03-29T01:30Z
    });
    expect(rto.achievedSeconds).toBe(2 * 3600);
  });

  it('spans midnight and month ends', () => {
    const { rpo } = computeRecoveryMetrics({
      recoveryPoint: '2026-01-31T23:30:00Z',
      incidentDeclared: '2026-02-01T00:15:00Z',
    });
    expect(rpo.achieved).toBe('45m');
  });
});

describe('missing or unreadable timestamps', () => {
  it('is "unknown", never 0, and says what was not recorded', () => {
    const { rpo, rto } = computeRecoveryMetrics(
      { incidentDeclared: times.incidentDeclared },
      { rpoTarget: '24h' },
    );
    expect(rpo).toMatchObject({ achievedSeconds: null, achieved: 'unknown', verdict: 'unknown' });
    expect(rpo.reason).toMatch(/recovery point/);
    expect(rto).toMatchObject({ achievedSeconds: null, achieved: 'unknown', verdict: 'unknown' });
    expect(rto.reason).toMatch(/validated/);
  });

  it('with nothing recorded both are unknown', () => {
    const { rpo, rto } = computeRecoveryMetrics({});
    expect([rpo.achieved, rto.achieved]).toEqual(['unknown', 'unknown']);
    expect(rpo.reason).toMatch(/recovery point, incident declared/);
  });

  it('refuses a time without a zone rather than reading it as local time', () => {
    const { rto } = computeRecoveryMetrics({
      incidentDeclared: '2026-01-15 09:40',
      validated: times.validated,
    });
    expect(rto).toMatchObject({ achieved: 'unknown', verdict: 'unknown' });
    expect(rto.reason).toMatch(/not a UTC time/);
    expect(parseUtc('2026-01-15T09:40:00')).toBeUndefined();
    expect(parseUtc('2026-01-15T09:40:00Z')).toBe(Date.UTC(2026, 0, 15, 9, 40));
  });

  it('shows a validation recorded before the incident as a recording error, never a negative RTO', () => {
    const { rto } = computeRecoveryMetrics(
      { incidentDeclared: times.validated, validated: times.incidentDeclared },
      { rtoTarget: '4h' },
    );
    expect(rto).toMatchObject({
      verdict: 'recording error',
      achieved: 'recording error',
      achievedSeconds: null,
    });
    expect(rto.reason).toMatch(/is 2h 15m before incident declared/);
  });

  it('shows a backup taken after the incident as an RPO recording error that says so', () => {
    const { rpo } = computeRecoveryMetrics(
      { incidentDeclared: '2026-01-15T09:00:00Z', recoveryPoint: '2026-01-15T09:29:22Z' },
      { rpoTarget: '24h' },
    );
    expect(rpo).toMatchObject({ verdict: 'recording error', achievedSeconds: null });
    expect(rpo.reason).toMatch(/29m 22s before recovery point .*taken after the incident/);
  });
});

describe('targets from the values file', () => {
  it.each([
    ['90m', 5400_000],
    ['4h', 4 * 3600_000],
    ['1d', 24 * 3600_000],
    ['1h30m', 5400_000],
  ])('reads rtoTarget %j', (text, ms) => {
    expect(readTarget({ rtoTarget: text }, 'rtoTarget')).toEqual({ kind: 'ok', text, ms });
  });

  it('no target: the figure is shown, the verdict is "no target"', () => {
    const { rpo } = computeRecoveryMetrics(times, {});
    expect(rpo).toMatchObject({ achieved: '7h 39m 55s', target: null, verdict: 'no target' });
  });

  it('a bare number or a typo: the verdict is unknown and the reason names the setting', () => {
    expect(readTarget({ rpoTarget: 24 }, 'rpoTarget')).toMatchObject({ kind: 'invalid' });
    const { rpo, rto } = computeRecoveryMetrics(times, { rpoTarget: 24, rtoTarget: '4 hours' });
    expect(rpo).toMatchObject({ verdict: 'unknown', target: '24', achieved: '7h 39m 55s' });
    expect(rpo.reason).toMatch(/rpoTarget.*no unit/);
    expect(rto.reason).toMatch(/rtoTarget.*not a duration/);
  });

  it('ignores a target of another type', () => {
    expect(readTarget({ rtoTarget: { hours: 4 } }, 'rtoTarget')).toMatchObject({ kind: 'invalid' });
    expect(readTarget({}, 'rtoTarget')).toEqual({ kind: 'none' });
  });
});
