import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, jsonChunks, markdownChunks, type ReportModel } from '../runbook/report/index.js';
import { readJournalInBlocks } from './journal-reader.js';

export interface ReportFiles {
  /** The report of a session, built from its journal as it is now. */
  build(
    sessionId: string,
    options: { settings?: Record<string, unknown>; secrets?: readonly string[]; operator?: string },
  ): ReportModel;
  /** Writes `<session><suffix>.md` and `.json` (mode 0600) beside the journal; returns their paths. */
  write(
    sessionId: string,
    options: {
      settings?: Record<string, unknown>;
      secrets?: readonly string[];
      operator?: string;
      suffix?: string;
    },
  ): { markdown: string; json: string };
}

function writePrivate(path: string, chunks: Iterable<string>): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    for (const chunk of chunks) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/** Report files for the sessions in one journal directory. */
export function createReportFiles(sessionDir: string): ReportFiles {
  const build: ReportFiles['build'] = (sessionId, options) => {
    const { events, damaged } = readJournalInBlocks(sessionDir, sessionId);
    return buildReport(events, {
      settings: options.settings,
      secrets: options.secrets,
      operator: options.operator,
      damaged,
    });
  };
  return {
    build,
    write(sessionId, options) {
      const model = build(sessionId, options);
      const base = join(sessionDir, `${sessionId}${options.suffix ?? '-report'}`);
      writePrivate(`${base}.md`, markdownChunks(model));
      writePrivate(`${base}.json`, jsonChunks(model));
      return { markdown: `${base}.md`, json: `${base}.json` };
    },
  };
}
