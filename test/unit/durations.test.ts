import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/runbook/durations.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('parseDuration', () => {
  it.each([
    ['90m', 90 * MINUTE],
    ['4h', 4 * HOUR],
    ['1d', 24 * HOUR],
    ['1h30m', 90 * MINUTE],
    ['1h 30m', 90 * MINUTE],
    ['2w', 14 * 24 * HOUR],
    ['45s', 45_000],
    ['1.5h', 90 * MINUTE],
    [' 24H ', 24 * HOUR],
    ['1d2h3m4s', 24 * HOUR + 2 * HOUR + 3 * MINUTE + 4000],
  ])('reads %j', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, ms });
  });

  it('refuses a bare number: hours or minutes?', () => {
    const parsed = parseDuration('24');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(/no unit.*24h or 24m/);
  });

  it.each(['', '   ', 'h', '4 hours', '30m1h', '1h1h', '-4h', '4x', 'PT4H'])('refuses %j', (text) => {
    expect(parseDuration(text).ok).toBe(false);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [850, '850ms'],
    [45_000, '45s'],
    [90 * MINUTE, '1h 30m'],
    [2 * HOUR + 15 * MINUTE, '2h 15m'],
    [7 * HOUR + 39 * MINUTE + 55_000, '7h 39m 55s'],
    [26 * HOUR + 4000, '1d 2h 4s'],
    [-90 * MINUTE, '-1h 30m'],
    [Number.NaN, 'unknown'],
  ])('%d ms → %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips what it prints', () => {
    const ms = 3 * 24 * HOUR + 5 * HOUR + 7 * MINUTE + 9000;
    const parsed = parseDuration(formatDuration(ms));
    expect(parsed).toEqual({ ok: true, ms });
  });
});
