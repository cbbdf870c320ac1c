import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { JournalEvent } from '../runbook/journal.js';
import {
  buildReport,
  htmlChunks,
  jsonChunks,
  markdownChunks,
  REPORT_FILE_SUFFIX,
  type ReportModel,
  type ReportPaths,
} from '../runbook/report/index.js';
import { readJournalInBlocks } from './journal-reader.js';
import { listSessions } from './journal-store.js';

export interface ReportFileOptions {
  settings?: Record<string, unknown>;
  secrets?: readonly string[];
  operator?: string;
  notes?: string;
  /** The caller is the running session itself: an open end is "in progress". Else it is worked out from the journal. */
  live?: boolean;
}

export interface ReportFiles {
  /** The report of a session (with the sessions it resumed), built from its journal as it is now. */
  build(sessionId: string, options: ReportFileOptions): ReportModel;
  /**
   * Writes `<session>-dr-report.md`, `.html` and `.json` (mode 0600) beside the journal: the one export
   * behind the TUI's `x`, the drill's report step and `db-runbook report --export`. Returns the paths
   * and the report they hold.
   */
  write(sessionId: string, options: ReportFileOptions): ReportPaths & { model: ReportModel };
}

/** Creates or truncates the file with mode 0600 (also when it existed with a wider mode) before writing. */
export function writePrivate(path: string, chunks: Iterable<string>): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    for (const chunk of chunks) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

type Damaged = { line: number; text: string };

/**
 * The session's events, preceded by those of the sessions it resumed (a `session-start` with
 * `resumedFrom` naming another journal in the directory), so one report covers the whole incident.
 */
export function readSessionChain(
  dir: string,
  sessionId: string,
): { events: JournalEvent[]; damaged: Damaged[] } {
  const known = new Set(listSessions(dir).map((session) => session.id));
  const parts: { id: string; events: JournalEvent[]; damaged: Damaged[] }[] = [];
  let next: string | undefined = sessionId;
  while (next !== undefined && !parts.some((part) => part.id === next)) {
    const id: string = next;
    const parsed = readJournalInBlocks(dir, id);
    parts.unshift({ id, ...parsed });
    const start = parsed.events.find((event) => event.type === 'session-start');
    const from = start?.type === 'session-start' ? start.resumedFrom : undefined;
    next = from !== undefined && from !== id && known.has(from) ? from : undefined;
  }
  return {
    events: parts.flatMap((part) => part.events),
    damaged: parts.flatMap((part) =>
      part.damaged.map((line) =>
        part.id === sessionId ? line : { ...line, text: `[${part.id}] ${line.text}` },
      ),
    ),
  };
}

/**
 * Whether the session that wrote these events is still running: its last segment has no end record
 * and the process it names is alive on this host. (A journal from before pids were recorded: no.)
 */
export function sessionProcessAlive(events: readonly JournalEvent[]): boolean {
  const start = events.findLast((event) => event.type === 'session-start');
  if (start?.type !== 'session-start' || start.pid === undefined || start.host !== hostname()) return false;
  if (events.slice(events.lastIndexOf(start)).some((event) => event.type === 'session-end')) return false;
  if (start.pid === process.pid) return true;
  try {
    process.kill(start.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Report files for the sessions in one journal directory. */
export function createReportFiles(sessionDir: string): ReportFiles {
  const build: ReportFiles['build'] = (sessionId, options) => {
    const { events, damaged } = readSessionChain(sessionDir, sessionId);
    return buildReport(events, {
      settings: options.settings,
      secrets: options.secrets,
      operator: options.operator,
      notes: options.notes,
      damaged,
      live: options.live ?? sessionProcessAlive(events),
    });
  };
  return {
    build,
    write(sessionId, options) {
      const model = build(sessionId, options);
      const base = join(sessionDir, `${sessionId}${REPORT_FILE_SUFFIX}`);
      const paths = { markdown: `${base}.md`, html: `${base}.html`, json: `${base}.json` };
      writePrivate(paths.markdown, markdownChunks(model));
      writePrivate(paths.html, htmlChunks(model));
      writePrivate(paths.json, jsonChunks(model));
      return { ...paths, model };
    },
  };
}
