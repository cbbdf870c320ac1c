import { readFileSync } from 'node:fs';
import { parseJournal, type ParsedJournal } from '../../src/runbook/journal.js';

const dir = new URL('../fixtures/report/', import.meta.url);

/** The drill fixture: a hand-written journal of configure → deploy → test-postgres → restore-postgres, killed mid-restore and resumed. */
export const DRILL_JOURNAL_PATH = new URL('drill-journal.jsonl', dir);

export function drillJournalText(): string {
  return readFileSync(DRILL_JOURNAL_PATH, 'utf8');
}

export function drillJournal(): ParsedJournal {
  return parseJournal(drillJournalText());
}

export const drillFixture = JSON.parse(readFileSync(new URL('drill-secrets.json', dir), 'utf8')) as {
  secrets: string[];
  settings: Record<string, unknown>;
};

export const FIXED_NOW = new Date('2026-01-15T12:00:00Z');
