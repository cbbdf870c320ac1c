import { dirname } from 'node:path';
import { createReportFiles } from '../adapters/report-files.js';
import type { Session } from '../engine/session.js';
import { MARK } from '../runbook/marks.js';
import type { ReportModel, ReportPaths } from '../runbook/report/index.js';

/** What the TUI's Report screen can do; the file I/O stays in the adapter, out of the screens. */
export interface ReportActions {
  build(): ReportModel;
  /** Writes `<session>-dr-report.md`, `.html` and `.json` (mode 0600) beside the journal; returns their paths. */
  export(): ReportPaths;
}

export function reportActions(session: Session, operator?: string): ReportActions {
  const files = createReportFiles(dirname(session.journalPath));
  // The TUI is the running session: an open end is "in progress".
  const options = () => ({
    settings: session.settings,
    secrets: session.values.secretValues(),
    operator,
    live: true,
  });
  return {
    build: () => files.build(session.id, options()),
    export() {
      const { model: _model, ...paths } = files.write(session.id, options());
      session.record({
        type: 'mark',
        name: MARK.reportExported,
        at: new Date().toISOString(),
        data: { ...paths },
      });
      return paths;
    },
  };
}
