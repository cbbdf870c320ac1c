import { describe, expect, it } from 'vitest';
import {
  maskString,
  maskValue,
  parseJournal,
  serializeEvent,
  type JournalEvent,
} from '../../src/runbook/journal.js';

const SECRET = 'S3cr3t-Pa55/word+';

describe('journal masking', () => {
  it('masks a secret wherever it appears, also URL-encoded and base64-encoded', () => {
    const text = `postgresql://app:${encodeURIComponent(SECRET)}@db/app ${SECRET} data: ${Buffer.from(SECRET).toString('base64')}`;
    const masked = maskString(text, [SECRET]);
    expect(masked).not.toContain(SECRET);
    expect(masked).not.toContain(encodeURIComponent(SECRET));
    expect(masked).not.toContain(Buffer.from(SECRET).toString('base64'));
    expect(masked).toContain('postgresql://app:');
  });

  it('masks the longer of two overlapping secrets whole', () => {
    expect(maskString('abcdef', ['abc', 'abcdef'])).toBe('••••••');
  });

  it('masks nested event fields before they are written', () => {
    const event = {
      type: 'log',
      step: 's',
      line: `password=${SECRET}`,
      ts: 't',
      seq: 1,
      session: 'x',
    } as JournalEvent;
    expect(serializeEvent(event, [SECRET])).not.toContain(SECRET);
    expect(maskValue({ a: [{ b: SECRET }] }, [SECRET])).toEqual({ a: [{ b: '••••••' }] });
  });

  it('reads a journal whose last line was torn by a crash, and reports the damage', () => {
    const good = JSON.stringify({
      type: 'note',
      text: 'hi',
      ts: '2026-01-01T00:00:00.000Z',
      seq: 1,
      session: 'x',
    });
    const parsed = parseJournal(`${good}\n${good}\n{"type":"step-st`);
    expect(parsed.events).toHaveLength(2);
    expect(parsed.damaged).toEqual([
      { line: 3, text: '{"type":"step-st', reason: 'not JSON (a torn write after a crash?)' },
    ]);
  });
});
