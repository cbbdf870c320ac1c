import { readJournalInBlocks } from '../adapters/journal-reader.js';
import { listSessions } from '../adapters/journal-store.js';
import { EXIT } from '../runbook/errors.js';
import { replayJournal } from '../runbook/replay.js';
import { printError } from './print-error.js';

export interface SessionSummary {
  id: string;
  startedAt: string | null;
  operator: string | null;
  sectionsDone: string[];
  /** done, failed, interrupted, refused, quit; `unfinished` when there is no session-end. */
  outcome: string;
  interruptedStep: string | null;
  events: number;
  damagedLines: number;
  path: string;
}

/** `db-runbook sessions`: the journals in the session directory, newest first. */
export async function sessionsCommand(options: { sessionDir: string; json: boolean }): Promise<number> {
  try {
    const summaries = listSessions(options.sessionDir).map(({ id, path }) =>
      summarize(options.sessionDir, id, path),
    );
    if (options.json) {
      process.stdout.write(`${JSON.stringify(summaries, null, 2)}\n`);
      return EXIT.done;
    }
    if (summaries.length === 0) {
      process.stdout.write(`No sessions in ${options.sessionDir}.\n`);
      return EXIT.done;
    }
    process.stdout.write(renderSessionsTable(summaries));
    return EXIT.done;
  } catch (error) {
    return printError(error);
  }
}

function summarize(dir: string, id: string, path: string): SessionSummary {
  let parsed;
  try {
    parsed = readJournalInBlocks(dir, id);
  } catch {
    return {
      id,
      startedAt: null,
      operator: null,
      sectionsDone: [],
      outcome: 'unreadable',
      interruptedStep: null,
      events: 0,
      damagedLines: 0,
      path,
    };
  }
  const replay = replayJournal(parsed.events);
  return {
    id,
    startedAt: replay.startedAt ?? parsed.events[0]?.ts ?? null,
    operator: replay.operator ?? null,
    sectionsDone: replay.sectionsDone,
    outcome: replay.outcome,
    interruptedStep: replay.interrupted?.step ?? null,
    events: parsed.events.length,
    damagedLines: parsed.damaged.length,
    path,
  };
}

/** Plain columns: ID, STARTED (UTC), OPERATOR, SECTIONS DONE, OUTCOME. */
export function renderSessionsTable(summaries: readonly SessionSummary[]): string {
  const rows = summaries.map((summary) => [
    summary.id,
    summary.startedAt ? summary.startedAt.slice(0, 19).replace('T', ' ') : '-',
    summary.operator ?? '-',
    summary.sectionsDone.length > 0 ? summary.sectionsDone.join(',') : '-',
    summary.outcome + (summary.interruptedStep ? ` (at ${summary.interruptedStep})` : ''),
  ]);
  const header = ['ID', 'STARTED (UTC)', 'OPERATOR', 'SECTIONS DONE', 'OUTCOME'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((text, column) => (column === cells.length - 1 ? text : text.padEnd(widths[column] ?? 0)))
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
