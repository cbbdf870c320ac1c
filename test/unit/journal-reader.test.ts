import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournalInBlocks } from '../../src/adapters/journal-reader.js';
import { parseJournal } from '../../src/runbook/journal.js';
import { DRILL_JOURNAL_PATH, drillJournalText } from './report-fixture.js';
import { tempDir } from '../support/temp.js';

let dir: string;

beforeAll(() => {
  dir = tempDir('journal-reader-');
  copyFileSync(DRILL_JOURNAL_PATH, join(dir, 'drill.jsonl'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readJournalInBlocks', () => {
  it.each([1, 7, 64, 4096, 1 << 20])('reads what parseJournal reads, in %d-byte blocks', (blockBytes) => {
    // The fixture has multi-byte characters (•, →, —) that blocks split in the middle.
    expect(readJournalInBlocks(dir, 'drill', blockBytes)).toEqual(parseJournal(drillJournalText()));
  });

  it('reports a torn last line with its line number, and blank lines keep the numbering', () => {
    const text =
      '{"type":"note","text":"a","ts":"2026-01-01T00:00:00Z","seq":1,"session":"s"}\n\n{"type":"note","text":"b","ts":"2026-01-01T00:00:01Z","seq":2,"session":"s"}\n{"type":"no';
    writeFileSync(join(dir, 'torn.jsonl'), text);
    for (const blockBytes of [3, 50, 1 << 20]) {
      const parsed = readJournalInBlocks(dir, 'torn', blockBytes);
      expect(parsed.events.map((event) => event.seq)).toEqual([1, 2]);
      expect(parsed.damaged).toEqual([
        { line: 4, text: '{"type":"no', reason: 'not JSON (a torn write after a crash?)' },
      ]);
    }
  });

  it('refuses a FIFO named like a journal at once, and one over the size limit, instead of hanging', () => {
    execFileSync('mkfifo', [join(dir, 'fifo.jsonl')]);
    expect(() => readJournalInBlocks(dir, 'fifo')).toThrow(
      /the journal .*fifo\.jsonl is a FIFO \(named pipe\), not a regular file/,
    );
    writeFileSync(join(dir, 'big.jsonl'), 'x'.repeat(2000));
    expect(() => readJournalInBlocks(dir, 'big', 1 << 20, 1000)).toThrow(/is 2000 bytes, more than the 1000/);
  });

  it('reads an empty journal', () => {
    writeFileSync(join(dir, 'empty.jsonl'), '');
    expect(readJournalInBlocks(dir, 'empty')).toEqual({ events: [], damaged: [] });
  });
});
