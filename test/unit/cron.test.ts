import { describe, expect, it } from 'vitest';
import {
  cronProblem,
  describeCron,
  isValidCron,
  nextRun,
  nextRuns,
  zoneLabel,
} from '../../src/runbook/cron.js';
import { resolveValues, validateValue } from '../../src/runbook/values.js';

describe('cronProblem', () => {
  it.each([
    '0 2 * * *',
    '30 2 * * *',
    '*/15 * * * *',
    '0 2 * * MON-FRI',
    '0 2 1 * *',
    '0 3 * JAN,JUL ?',
    '5 4 * * 0',
  ])('accepts %s', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
    expect(isValidCron(expression)).toBe(true);
  });

  it.each([
    ['', /is empty/],
    ['0 2 * *', /5 fields.*got 4/],
    ['0 0 2 * * *', /5 fields.*got 6/],
    ['61 2 * * *', /not a valid schedule.*61/],
    ['0 25 * * *', /not a valid schedule.*25/],
    ['@daily', /not a macro/],
    ['TZ=UTC 0 2 * * *', /spec.timeZone/],
    ['0 2 L * *', /day-of-month field "L"/],
    ['0 2 * * 1#2', /day-of-week field/],
    ['a b c d e', /minute field "a"/],
  ])('rejects %j', (expression, message) => {
    expect(cronProblem(expression)).toMatch(message);
  });
});

describe('describeCron', () => {
  it('says the runbook schedules in words', () => {
    expect(describeCron('0 2 * * *')).toBe('daily at 02:00 UTC');
    expect(describeCron('30 2 * * *', 'Etc/UTC')).toBe('daily at 02:30 UTC');
    expect(describeCron('15 3 * * 0')).toBe('every Sunday at 03:15 UTC');
    expect(describeCron('5 * * * *')).toBe('hourly at minute 5');
  });

  it('falls back to cronstrue for the rest', () => {
    expect(describeCron('*/15 * * * *')).toBe('every 15 minutes UTC');
    expect(describeCron('0 2 * * MON-FRI')).toBe('at 02:00, Monday through Friday UTC');
    expect(describeCron('0 2 * * *', 'Europe/Berlin')).toBe('daily at 02:00 Europe/Berlin');
  });

  it('labels UTC zones', () => {
    expect(zoneLabel('Etc/UTC')).toBe('UTC');
    expect(zoneLabel('UTC')).toBe('UTC');
    expect(zoneLabel('America/New_York')).toBe('America/New_York');
  });
});

describe('nextRun', () => {
  it('computes the next run in the CronJob time zone', () => {
    const from = new Date('2025-03-01T01:59:00Z');
    expect(nextRun('0 2 * * *', from, 'Etc/UTC')?.toISOString()).toBe('2025-03-01T02:00:00.000Z');
    expect(nextRun('0 2 * * *', new Date('2025-03-01T02:00:00Z'))?.toISOString()).toBe(
      '2025-03-02T02:00:00.000Z',
    );
    expect(nextRun('0 2 * * *', from, 'Europe/Berlin')?.toISOString()).toBe('2025-03-02T01:00:00.000Z');
    expect(nextRuns('30 2 * * *', from, 'Etc/UTC', 2).map((d) => d.toISOString())).toEqual([
      '2025-03-01T02:30:00.000Z',
      '2025-03-02T02:30:00.000Z',
    ]);
  });

  it('returns nothing for an invalid schedule', () => {
    expect(nextRun('0 2 * *', new Date())).toBeUndefined();
  });
});

describe('schedule values', () => {
  it('default to the runbook schedules and are validated', () => {
    const { values, problems } = resolveValues({ env: {} });
    expect(problems).toEqual([]);
    expect(values.get('POSTGRES_BACKUP_SCHEDULE')).toBe('0 2 * * *');
    expect(values.get('NEO4J_BACKUP_SCHEDULE')).toBe('30 2 * * *');
    expect(validateValue('POSTGRES_BACKUP_SCHEDULE', '0 2 * *')).toMatch(/5 fields/);
    const bad = resolveValues({ env: { NEO4J_BACKUP_SCHEDULE: '99 2 * * *' } });
    expect(bad.problems).toEqual([
      {
        name: 'NEO4J_BACKUP_SCHEDULE',
        message: expect.stringMatching(/not a valid schedule.*\(from environment\)/),
      },
    ]);
  });
});
