import type { RecoveryMetric } from '../metrics.js';

/**
 * The DR report as data: what `renderMarkdown`, `renderHtml` and `renderJson` print. The JSON form is a
 * public contract documented by docs/report-schema.json; bump REPORT_SCHEMA_VERSION on any breaking
 * change (docs/report-schema-migration.md says what changed between versions).
 */
export const REPORT_SCHEMA_VERSION = 2;
export const REPORT_KIND = 'db-runbook/dr-report';

export type ScenarioId = 'setup' | 'synthetic-test' | 'incident-restore' | 'drill';

export interface ReportScenario {
  id: ScenarioId;
  label: string;
  /** How it was decided: given by the operator, or which sections the session touched. */
  basis: string;
}

/**
 * How the session stood when the report was made. `in-progress`: the report was made by the running
 * session itself (or while its process was alive), before its end; `no-end-record`: it stopped
 * without closing its journal (killed) and was not resumed.
 */
export type SessionOutcome =
  'done' | 'failed' | 'interrupted' | 'refused' | 'quit' | 'in-progress' | 'no-end-record';

export interface ReportSession {
  id: string;
  /** Every session id whose events the report covers (a resumed session and the one it resumed). */
  sessionIds: string[];
  startedAt: string | null;
  /** The last session-end; null while the session is in progress or when it has no end record. */
  endedAt: string | null;
  lastEventAt: string | null;
  outcome: SessionOutcome;
  exitCode: number | null;
  /** How often the session was resumed after it stopped. */
  resumes: number;
  /** How the gates were answered: by a person at the prompt, by flags (`--yes`), or both. */
  confirmation: 'interactive' | 'non-interactive' | 'mixed' | 'no gates';
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
  /** Where the session ran (the recording process's host), when the journal says. */
  host: string | null;
}

export interface ReportAttempt {
  startedAt: string;
  endedAt: string | null;
  status: 'done' | 'failed' | 'skipped' | 'interrupted' | 'refused' | 'in-progress';
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
  | 'session'
  | 'values'
  | 'state'
  | 'api'
  | 'command'
  | 'gate'
  | 'gate-attempt'
  | 'check'
  | 'result'
  | 'mark'
  | 'note';

/** One journal event (log lines and previews aside): the full detail, kept in the JSON. */
export interface TimelineEntry {
  at: string;
  seq: number;
  kind: TimelineKind;
  step: string | null;
  section: string | null;
  action: string;
  result: string | null;
}

/**
 * The readable timeline: the session's events with API calls, checks and state changes folded into
 * one row per step attempt and kind, with counts ("24 permission checks, all allowed").
 */
export interface DigestRow {
  at: string;
  /** When the last event folded into the row happened (equal to `at` for a single event). */
  until: string;
  step: string | null;
  section: string | null;
  kind: 'session' | 'step' | 'gate' | 'api' | 'checks' | 'command' | 'result' | 'mark' | 'note' | 'values';
  action: string;
  result: string | null;
  /** How many journal events the row stands for. */
  events: number;
  /** Something in the row needs a reader's attention (a failure, a refusal, a warning). */
  attention: boolean;
}

export interface ReportTimes {
  /** When the dump of the restored backup started. */
  recoveryPoint: string | null;
  incidentDeclared: string | null;
  restoreStarted: string | null;
  downloadDone: string | null;
  restoreDone: string | null;
  /** Service restored and validated: the end of RTO. */
  validated: string | null;
}

export interface ReportBackup {
  uri: string;
  size: number | null;
  sha256: string | null;
  verified: boolean | null;
  recoveryPoint: string | null;
  step: string | null;
  /** The recovery that restored it. */
  recovery: string | null;
  /**
   * "Last proven restorable": what the backup's `<key>.verified.json` said when it was chosen (`proven restorable
   * 3h ago by <job>`, `verification FAILED (row counts)`, `never verified`); absent when not recorded.
   */
  provenRestorable?: string;
}

/**
 * One recovery: one database restored in one scenario (an incident restore of PostgreSQL, the drill's
 * Neo4j, …), with its own marks. A session may hold several; each is measured on its own.
 */
export interface ReportRecovery {
  /** `incident-restore/postgres`, `drill/neo4j`; `#2` and on when the same recovery ran again. */
  id: string;
  scenario: 'incident-restore' | 'drill';
  section: string;
  engine: 'postgres' | 'neo4j';
  /** `Incident restore · PostgreSQL orders`. */
  label: string;
  /** The database restored into (the scratch database in a drill), when recorded. */
  database: string | null;
  times: ReportTimes;
  backup: ReportBackup | null;
  rpo: RecoveryMetric;
  rto: RecoveryMetric;
  /** Validated: the recovery reached its end. */
  complete: boolean;
}

export interface ReportValidation {
  step: string | null;
  recovery: string | null;
  query: string;
  ok: boolean;
  detail: string | null;
}

export type DeviationKind =
  | 'backup-newer-than-incident'
  | 'failed-step'
  | 'interrupted-step'
  | 'retried-step'
  | 'skipped-step'
  | 'gate-refused'
  | 'wrong-phrase'
  | 'overridden-gate'
  | 'recorded-deviation'
  | 'non-interactive-confirmation'
  | 'warning'
  | 'left-behind'
  | 'stand-in'
  | 'session-interrupted'
  | 'session-in-progress'
  | 'session-no-end-record'
  | 'damaged-journal-line'
  | 'metric-problem';

/** high: the recovery's evidence or the data is in doubt; medium: a departure to explain; low/info: to note. */
export type DeviationSeverity = 'high' | 'medium' | 'low' | 'info';

export interface ReportDeviation {
  kind: DeviationKind;
  severity: DeviationSeverity;
  at: string | null;
  step: string | null;
  /** The recovery it concerns, when one. */
  recovery: string | null;
  detail: string;
  /** The journal events it was derived from (session id and sequence number). */
  evidence: { session: string; seq: number }[];
}

export interface ReportNote {
  at: string | null;
  author: string | null;
  text: string;
}

/**
 * The report's one-line answer. PASS: every recovery validated within its targets and no high-severity
 * deviation; FAIL: a target missed or a validation failed; INCOMPLETE: a recovery not validated, a
 * figure that cannot be judged, or a high-severity deviation; NOT MEASURED: the session restored nothing.
 */
export interface ReportResult {
  verdict: 'PASS' | 'FAIL' | 'INCOMPLETE' | 'NOT MEASURED';
  reasons: string[];
}

export interface ReportModel {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  kind: typeof REPORT_KIND;
  generatedAt: string;
  result: ReportResult;
  session: ReportSession;
  scenario: ReportScenario;
  operators: string[];
  environment: ReportEnvironment;
  recoveries: ReportRecovery[];
  deviations: ReportDeviation[];
  backups: ReportBackup[];
  validation: ReportValidation[];
  sections: ReportSection[];
  digest: DigestRow[];
  timeline: TimelineEntry[];
  notes: ReportNote[];
  journal: {
    events: number;
    /** Log lines and previews are kept in the journal but not repeated in the timeline. */
    logLines: number;
    damagedLines: { line: number; text: string; reason?: string }[];
  };
  nextDrill: { date: string; basis: string };
}

/** The files one export writes beside the journal: `<session>-dr-report.{md,html,json}`. */
export interface ReportPaths {
  markdown: string;
  html: string;
  json: string;
}

/** The one name every export uses (TUI `x`, the drill's report step, `db-runbook report --export`). */
export const REPORT_FILE_SUFFIX = '-dr-report';
