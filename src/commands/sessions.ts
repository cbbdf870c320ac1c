import { readJournalInBlocks } from '../adapters/journal-reader.js';
import { scanSessionDir } from '../adapters/journal-store.js';
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
  /** Why the journal could not be read at all (a FIFO, a dangling symlink, too large), when it could not. */
  problem?: string;
  path: string;
}

/** `db-runbook sessions`: the journals in the session directory, newest first. */
export async function sessionsCommand(options: { sessionDir: string; json: boolean }): Promise<number> {
  try {
    // One bad file (a FIFO, a dangling symlink, malformed lines) is a row saying so, never a failure.
    const { sessions, unreadable } = scanSessionDir(options.sessionDir);
    const summaries = [
      ...sessions.map(({ id, path }) => summarize(options.sessionDir, id, path)),
      ...unreadable.map(({ id, path, problem }) => unreadableSummary(id, path, problem)),
    ].sort((a, b) => b.id.localeCompare(a.id));
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

function unreadableSummary(id: string, path: string, problem: string): SessionSummary {
  return {
    id,
    startedAt: null,
    operator: null,
    sectionsDone: [],
    outcome: 'unreadable',
    interruptedStep: null,
    events: 0,
    damagedLines: 0,
    problem,
    path,
  };
}

function summarize(dir: string, id: string, path: string): SessionSummary {
  let parsed;
  let replay;
  try {
    parsed = readJournalInBlocks(dir, id);
    replay = replayJournal(parsed.events);
  } catch (error) {
    return unreadableSummary(id, path, error instanceof Error ? error.message : String(error));
  }
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
    summary.outcome +
      (summary.interruptedStep ? ` (at ${summary.interruptedStep})` : '') +
      (summary.problem ? ` (${summary.problem})` : '') +
      (summary.damagedLines > 0 ? ` (${summary.damagedLines} damaged line(s) left out)` : ''),
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
