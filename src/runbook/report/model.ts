import type { RecoveryMetric } from '../metrics.js';

/**
 * The DR report as data: what `renderMarkdown` and `renderJson` print. The JSON form is a public
 * contract documented by docs/report-schema.json; bump REPORT_SCHEMA_VERSION on any breaking change.
 */
export const REPORT_SCHEMA_VERSION = 1;
export const REPORT_KIND = 'db-runbook/dr-report';

export type ScenarioId = 'setup' | 'synthetic-test' | 'incident-restore' | 'drill';

export interface ReportScenario {
  id: ScenarioId;
  label: string;
  /** How it was decided: given by the operator, or which sections the session touched. */
  basis: string;
}

export interface ReportSession {
  id: string;
  /** Every session id whose events the report covers (a resumed session and the one it resumed). */
  sessionIds: string[];
  startedAt: string | null;
  /** The last session-end; null while the session is unfinished. */
  endedAt: string | null;
  lastEventAt: string | null;
  outcome: 'done' | 'failed' | 'interrupted' | 'refused' | 'quit' | 'unfinished';
  exitCode: number | null;
  /** How often the session was resumed after it stopped. */
  resumes: number;
}

export interface ReportEnvironment {
  kubeContext: string | null;
  kubeServer: string | null;
  namespace: string | null;
  s3Endpoint: string | null;
  bucket: string | null;
  sandbox: boolean | null;
  tool: string | null;
  toolVersion: string | null;
}

export interface ReportAttempt {
  startedAt: string;
  endedAt: string | null;
  status: 'done' | 'failed' | 'skipped' | 'interrupted' | 'refused';
  summary: string | null;
}

export interface ReportStep {
  id: string;
  status: string;
  startedAt: string | null;
  endedAt: string | null;
  durationSeconds: number | null;
  summary: string | null;
  attempts: ReportAttempt[];
}

export interface ReportSection {
  id: string;
  title: string;
  steps: ReportStep[];
}

export type TimelineKind =
  'session' | 'values' | 'state' | 'api' | 'command' | 'gate' | 'check' | 'result' | 'mark' | 'note';

export interface TimelineEntry {
  at: string;
  seq: number;
  kind: TimelineKind;
  step: string | null;
  section: string | null;
  action: string;
  result: string | null;
}

export interface ReportTimes {
  recoveryPoint: string | null;
  incidentDeclared: string | null;
  restoreStarted: string | null;
  downloadDone: string | null;
  restoreDone: string | null;
  validated: string | null;
}

export interface ReportBackup {
  uri: string;
  size: number | null;
  sha256: string | null;
  verified: boolean | null;
  recoveryPoint: string | null;
  step: string | null;
}

export interface ReportValidation {
  step: string | null;
  query: string;
  ok: boolean;
  detail: string | null;
}

export type DeviationKind =
  | 'skipped-step'
  | 'failed-step'
  | 'interrupted-step'
  | 'overridden-gate'
  | 'recorded-deviation'
  | 'session-interrupted'
  | 'damaged-journal-line'
  | 'metric-problem';

export interface ReportDeviation {
  kind: DeviationKind;
  at: string | null;
  step: string | null;
  detail: string;
}

export interface ReportNote {
  at: string | null;
  author: string | null;
  text: string;
}

export interface ReportModel {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: typeof REPORT_KIND;
  generatedAt: string;
  session: ReportSession;
  scenario: ReportScenario;
  operators: string[];
  environment: ReportEnvironment;
  sections: ReportSection[];
  timeline: TimelineEntry[];
  recovery: { times: ReportTimes; rpo: RecoveryMetric; rto: RecoveryMetric };
  backups: ReportBackup[];
  validation: ReportValidation[];
  deviations: ReportDeviation[];
  notes: ReportNote[];
  journal: {
    events: number;
    /** Log lines and previews are kept in the journal but not repeated in the timeline. */
    logLines: number;
    damagedLines: { line: number; text: string }[];
  };
  nextDrill: { date: string; basis: string };
}
