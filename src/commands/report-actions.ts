import { dirname } from 'node:path';
import { createReportFiles } from '../adapters/report-files.js';
import type { Session } from '../engine/session.js';
import type { ReportModel } from '../runbook/report/index.js';

/** What the TUI's Report screen can do; the file I/O stays in the adapter, out of the screens. */
export interface ReportActions {
  build(): ReportModel;
  /** Writes `<session>-report.md` and `.json` (mode 0600) beside the journal; returns their paths. */
  export(): { markdown: string; json: string };
}

export function reportActions(session: Session, operator?: string): ReportActions {
  const files = createReportFiles(dirname(session.journalPath));
  const options = () => ({ settings: session.settings, secrets: session.values.secretValues(), operator });
  return {
    build: () => files.build(session.id, options()),
    export() {
      const paths = files.write(session.id, options());
      session.record({ type: 'mark', name: 'report-exported', at: new Date().toISOString(), data: paths });
      return paths;
    },
  };
}
