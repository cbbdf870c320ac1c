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

/**
 * Journals of real sandbox sessions (see test/fixtures/report/README.md):
 * - `sandbox-restore-drill.jsonl`: the TUI — setup, synthetic test, restore-postgres with the incident
 *   "30m ago", dr-validation, report exported with `x`, then quit;
 * - `sandbox-deviations.jsonl`: `run`/`resume` sessions (a wrong --confirm, a kill -9 mid-restore, a
 *   failed Neo4j restore, a kill -9 mid-wait) after a short TUI segment written by hand (an integrity
 *   override, a skipped step), ending in a torn line.
 */
export function sandboxJournal(name: 'sandbox-restore-drill' | 'sandbox-deviations'): ParsedJournal {
  return parseJournal(readFileSync(new URL(`${name}.jsonl`, dir), 'utf8'));
}

/** The targets the sandbox sessions ran with (/tmp values file of the TUI session). */
export const SANDBOX_SETTINGS = { rpoTarget: '24h', rtoTarget: '1h' };
