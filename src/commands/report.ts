import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { readJournalInBlocks } from '../adapters/journal-reader.js';
import { listSessions } from '../adapters/journal-store.js';
import { EXIT, UsageError } from '../runbook/errors.js';
import type { JournalEvent } from '../runbook/journal.js';
import { buildReport, jsonChunks, markdownChunks, type ReportModel } from '../runbook/report/index.js';
import { printError } from './print-error.js';

export interface ReportCommandOptions {
  sessionDir: string;
  /** A session id (or a unique prefix of one); default: the newest session. */
  session?: string;
  format: 'markdown' | 'json';
  /** Write here (mode 0600) instead of stdout. */
  output?: string;
  operator?: string;
  notes?: string;
  secrets?: string[];
  settings?: Record<string, unknown>;
}

/** `db-runbook report [SESSION] [--format markdown|json] [--output FILE]`. Returns the exit code. */
export async function reportCommand(options: ReportCommandOptions): Promise<number> {
  try {
    if (options.format !== 'markdown' && options.format !== 'json')
      throw new UsageError(
        `unknown report format "${String(options.format)}"`,
        'Use --format markdown or --format json.',
      );
    const sessionId = resolveSessionId(options.sessionDir, options.session);
    const model = reportOf(options, sessionId);
    const chunks = options.format === 'json' ? jsonChunks(model) : markdownChunks(model);
    if (options.output) {
      writePrivate(options.output, chunks);
      process.stderr.write(`report of session ${sessionId} written to ${options.output}\n`);
    } else {
      for (const chunk of chunks) process.stdout.write(chunk);
    }
    return EXIT.done;
  } catch (error) {
    return printError(error);
  }
}

/** Reads and builds in its own scope, so the parsed events can be collected before the report is written. */
function reportOf(options: ReportCommandOptions, sessionId: string): ReportModel {
  const { events, damaged } = readSessionChain(options.sessionDir, sessionId);
  for (const line of damaged)
    process.stderr.write(`warning: journal line ${line.line} is damaged (a torn write?) and was left out\n`);
  return buildReport(events, {
    notes: options.notes,
    settings: options.settings,
    operator: options.operator,
    secrets: options.secrets,
    damaged,
  });
}

/** The session asked for, or the newest; a missing one is a usage error (exit 2). */
export function resolveSessionId(dir: string, wanted: string | undefined): string {
  const sessions = listSessions(dir);
  if (sessions.length === 0)
    throw new UsageError(
      `no sessions in ${dir}`,
      'Run a section first, or pass --session-dir where the journals are.',
    );
  if (wanted === undefined || wanted === '') return (sessions[0] as { id: string }).id;
  const exact = sessions.find((session) => session.id === wanted);
  if (exact) return exact.id;
  const matches = sessions.filter((session) => session.id.startsWith(wanted));
  if (matches.length === 1) return (matches[0] as { id: string }).id;
  if (matches.length > 1)
    throw new UsageError(
      `session "${wanted}" is ambiguous: ${matches.map((session) => session.id).join(', ')}`,
      'Give more of the id.',
    );
  throw new UsageError(`no session "${wanted}" in ${dir}`, 'Run db-runbook sessions to list them.');
}

type Damaged = { line: number; text: string };

/**
 * The session's events, preceded by those of the sessions it resumed (a `session-start` with
 * `resumedFrom` naming another journal in the directory), so one report covers the whole incident.
 */
function readSessionChain(dir: string, sessionId: string): { events: JournalEvent[]; damaged: Damaged[] } {
  const known = new Set(listSessions(dir).map((session) => session.id));
  const parts: { id: string; events: JournalEvent[]; damaged: Damaged[] }[] = [];
  let next: string | undefined = sessionId;
  while (next !== undefined && !parts.some((part) => part.id === next)) {
    const id: string = next;
    const parsed = readJournalInBlocks(dir, id);
    parts.unshift({ id, ...parsed });
    const start = parsed.events.find((event) => event.type === 'session-start');
    const from = start?.type === 'session-start' ? start.resumedFrom : undefined;
    next = from !== undefined && known.has(from) ? from : undefined;
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

/** Creates or truncates the file with mode 0600 (also when it existed with a wider mode) before writing. */
function writePrivate(path: string, chunks: Iterable<string>): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    for (const chunk of chunks) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}
