import { closeSync, fchmodSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readJournalInBlocks } from '../adapters/journal-reader.js';
import type { Session } from '../engine/session.js';
import { buildReport, markdownChunks, jsonChunks, type ReportModel } from '../runbook/report/index.js';

/** What the TUI's Report screen can do; the file I/O stays here, out of the screens. */
export interface ReportActions {
  build(): ReportModel;
  /** Writes `<session>-report.md` and `.json` (mode 0600) beside the journal; returns their paths. */
  export(): { markdown: string; json: string };
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

export function reportActions(session: Session, operator?: string): ReportActions {
  const dir = dirname(session.journalPath);
  const build = () => {
    const { events, damaged } = readJournalInBlocks(dir, session.id);
    return buildReport(events, {
      settings: session.settings,
      secrets: session.values.secretValues(),
      damaged,
      operator,
    });
  };
  return {
    build,
    export() {
      const model = build();
      const markdown = join(dir, `${session.id}-report.md`);
      const json = join(dir, `${session.id}-report.json`);
      writePrivate(markdown, markdownChunks(model));
      writePrivate(json, jsonChunks(model));
      session.record({
        type: 'mark',
        name: 'report-exported',
        at: new Date().toISOString(),
        data: { markdown, json },
      });
      return { markdown, json };
    },
  };
}
