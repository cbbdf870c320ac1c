// Malformed journals: every field of every event of the drill fixture removed, nulled or given the wrong
// type. The line is left out and counted with its number; the rest still reads, and the report builds.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJournalInBlocks } from '../../src/adapters/journal-reader.js';
import { eventProblem, parseJournal } from '../../src/runbook/journal.js';
import { buildReport, jsonChunks, markdownChunks } from '../../src/runbook/report/index.js';
import { drillFixture, drillJournalText, FIXED_NOW } from './report-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'journal-malformed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = drillJournalText().split('\n');
const WRONG: unknown[] = [undefined, null, [], {}, 0, 'x'];

/**
 * Every (field, wrong value) mutation of the first two events of each type and of each mark of the
 * fixture, one at a time.
 */
function* mutations(): Generator<{ line: number; field: string; value: unknown; text: string }> {
  const seen = new Map<string, number>();
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // blank, or the fixture's own torn line
    }
    const kind = `${String(event.type)}:${event.type === 'mark' ? String(event.name) : ''}`;
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
    if ((seen.get(kind) ?? 0) > 2) continue;
    for (const field of Object.keys(event)) {
      for (const value of WRONG) {
        const copy: Record<string, unknown> = { ...event };
        if (value === undefined) delete copy[field];
        else copy[field] = value;
        const mutated = [...lines];
        mutated[index] = JSON.stringify(copy);
        yield { line: index + 1, field, value, text: mutated.join('\n') };
      }
    }
  }
}

function report(text: string): void {
  const parsed = parseJournal(text);
  const model = buildReport(parsed.events, {
    settings: drillFixture.settings,
    secrets: drillFixture.secrets,
    damaged: parsed.damaged,
    now: FIXED_NOW,
  } as Parameters<typeof buildReport>[1]);
  for (const chunk of markdownChunks(model)) expect(typeof chunk).toBe('string');
  for (const chunk of jsonChunks(model)) expect(typeof chunk).toBe('string');
}

describe('malformed journal lines', () => {
  it('the report builds for every field of every event removed, nulled or of the wrong type', () => {
    let tried = 0;
    let leftOut = 0;
    const failures: string[] = [];
    for (const mutation of mutations()) {
      tried++;
      const parsed = parseJournal(mutation.text);
      if (parsed.damaged.some((damaged) => damaged.line === mutation.line)) leftOut++;
      try {
        report(mutation.text);
      } catch (error) {
        failures.push(
          `line ${mutation.line} ${mutation.field}=${JSON.stringify(mutation.value) ?? 'removed'}: ${(error as Error).message}`,
        );
      }
    }
    expect(failures.slice(0, 10)).toEqual([]);
    expect(tried).toBeGreaterThan(500);
    expect(leftOut).toBeGreaterThan(0);
  });

  it('a missing ts, values: null or data as an array is left out and named by its line number', () => {
    const good = (extra: Record<string, unknown>) =>
      JSON.stringify({ ts: '2026-01-01T00:00:00.000Z', seq: 1, session: 's', ...extra });
    const text = [
      good({ type: 'note', text: 'kept' }),
      JSON.stringify({ type: 'note', text: 'no ts', seq: 2, session: 's' }),
      good({ type: 'values', values: null }),
      good({ type: 'result', step: 'a.b', status: 'done', summary: 's', data: [1, 2] }),
      good({ type: 'mark', name: 'validated', at: 'yesterday' }),
      '{"type":"no',
    ].join('\n');
    const parsed = parseJournal(text);
    expect(parsed.events.map((event) => event.type)).toEqual(['note']);
    expect(parsed.damaged.map(({ line, reason }) => `${line}: ${reason}`)).toEqual([
      '2: no valid "ts"',
      '3: values: "values" is missing or not object',
      '4: result: "data" is missing or not object',
      '5: mark: "at" is missing or not time',
      '6: not JSON (a torn write after a crash?)',
    ]);
    expect(eventProblem({ type: 'future-event', ts: '2026-01-01T00:00:00Z' })).toBeUndefined();
  });

  it('a journal read in blocks leaves out the same lines with the same numbers', () => {
    const text = `${lines.slice(0, 3).join('\n')}\n{"type":"note","text":1,"ts":"2026-01-01T00:00:00Z"}\n${lines.slice(3).join('\n')}`;
    writeFileSync(join(dir, 'mixed.jsonl'), text);
    for (const block of [5, 64, 1 << 20]) {
      const parsed = readJournalInBlocks(dir, 'mixed', block);
      const fixture = parseJournal(drillJournalText()).damaged;
      expect(parsed.damaged).toEqual([
        {
          line: 4,
          text: '{"type":"note","text":1,"ts":"2026-01-01T00:00:00Z"}',
          reason: 'note: "text" is missing or not string',
        },
        ...fixture.map((damaged) => ({ ...damaged, line: damaged.line + 1 })),
      ]);
      expect(parsed.events.length).toBe(parseJournal(drillJournalText()).events.length);
    }
  });
});
