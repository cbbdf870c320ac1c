import {
  readSessionChain,
  sessionProcessAlive,
  createReportFiles,
  writePrivate,
} from '../adapters/report-files.js';
import { listSessions } from '../adapters/journal-store.js';
import { EXIT, UsageError } from '../runbook/errors.js';
import {
  buildReport,
  htmlChunks,
  jsonChunks,
  markdownChunks,
  type ReportModel,
} from '../runbook/report/index.js';
import { printError } from './print-error.js';

export type ReportFormat = 'markdown' | 'json' | 'html';

export interface ReportCommandOptions {
  sessionDir: string;
  /** A session id (or a unique prefix of one); default: the newest session. */
  session?: string;
  format: ReportFormat;
  /** Write here (mode 0600) instead of stdout. */
  output?: string;
  /** Write the Markdown, HTML and JSON files beside the journal, as the TUI's `x` and the drill do. */
  export?: boolean;
  operator?: string;
  notes?: string;
  secrets?: string[];
  settings?: Record<string, unknown>;
}

/**
 * `db-runbook report [SESSION] [--format markdown|json|html] [--output FILE] [--export]`. Returns the
 * exit code.
 */
export async function reportCommand(options: ReportCommandOptions): Promise<number> {
  try {
    if (options.format !== 'markdown' && options.format !== 'json' && options.format !== 'html')
      throw new UsageError(
        `unknown report format "${String(options.format)}"`,
        'Use --format markdown, --format html or --format json.',
      );
    const sessionId = resolveSessionId(options.sessionDir, options.session);
    if (options.export) {
      const written = createReportFiles(options.sessionDir).write(sessionId, {
        settings: options.settings,
        secrets: options.secrets,
        operator: options.operator,
        notes: options.notes,
      });
      warnDamaged(written.model);
      process.stderr.write(
        `report of session ${sessionId} written to ${written.markdown}, ${written.html} and ${written.json}\n`,
      );
      return EXIT.done;
    }
    const model = reportOf(options, sessionId);
    const chunks =
      options.format === 'json'
        ? jsonChunks(model)
        : options.format === 'html'
          ? htmlChunks(model)
          : markdownChunks(model);
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

function warnDamaged(model: ReportModel): void {
  for (const line of model.journal.damagedLines)
    process.stderr.write(`warning: journal line ${line.line} is damaged (a torn write?) and was left out\n`);
}

/** Reads and builds in its own scope, so the parsed events can be collected before the report is written. */
function reportOf(options: ReportCommandOptions, sessionId: string): ReportModel {
  const { events, damaged } = readSessionChain(options.sessionDir, sessionId);
  const model = buildReport(events, {
    notes: options.notes,
    settings: options.settings,
    operator: options.operator,
    secrets: options.secrets,
    damaged,
    live: sessionProcessAlive(events),
  });
  warnDamaged(model);
  return model;
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
