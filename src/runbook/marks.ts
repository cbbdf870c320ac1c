/**
 * Named points in time that steps record with `ctx.mark(name, data)` and the DR report reads.
 * The names are a contract between the restore/drill sections and the report: import them from here.
 */
export const MARK = {
  /** When the incident was declared. data: `{at}` (UTC ISO) when it was declared before the mark was made. */
  incidentDeclared: 'incident-declared',
  restoreStarted: 'restore-started',
  downloadDone: 'download-done',
  restoreDone: 'restore-done',
  /** Service restored and validated: the end of RTO. */
  validated: 'validated',
  /** The restored backup's recovery point (when its dump started). data: {@link RecoveryPointData}. */
  recoveryPoint: 'recovery-point',
  /** The operator departed from the runbook on purpose (an override, a skipped safety net). data: {@link DeviationMarkData}. */
  deviation: 'deviation',
  /** Something made for the session only (a scratch database, an ad-hoc Job, a canary object). data: {@link TemporaryData}. */
  temporaryCreated: 'temporary-created',
  /** …and removed again. The report lists what was created and never removed as left behind. */
  temporaryRemoved: 'temporary-removed',
  /** The report files were written. data: their paths. */
  reportExported: 'report-exported',
  /** The operator stopped a running step (Ctrl-C, q). data: `{by, consequences}`: what it left (rolled back, Jobs). */
  interrupted: 'interrupted',
} as const;

export type MarkName = (typeof MARK)[keyof typeof MARK];

export const MARK_NAMES: readonly MarkName[] = Object.values(MARK);

export function isMarkName(name: string): name is MarkName {
  return (MARK_NAMES as readonly string[]).includes(name);
}

/** `data` of an `incident-declared` mark. */
export interface IncidentDeclaredData {
  /** UTC ISO time the incident was declared; the mark's own time when absent. */
  at?: string;
}

/** `data` of a `recovery-point` mark: the backup that was restored. */
export interface RecoveryPointData {
  /** UTC ISO time its dump started. */
  at: string;
  uri: string;
  size?: number;
  sha256?: string;
  verified?: boolean;
}

/** `data` of a `deviation` mark: listed under the report's deviations. */
export interface DeviationMarkData {
  reason: string;
  /** The step the deviation is about, when not the step that recorded it. */
  step?: string;
  uri?: string;
}

/** What a restore step may put in its result `data` for the report. */
export interface RestoreResultData {
  backup?: { uri: string; size?: number; sha256?: string; verified?: boolean };
  validation?: { query: string; ok: boolean; detail?: string }[];
}

/** `data` of `temporary-created` / `temporary-removed` marks: the same `kind` and `name` pair them. */
export interface TemporaryData {
  kind: 'database' | 'job' | 'object' | 'instance';
  name: string;
  /** Where it lives: `postgres 127.0.0.1:5432`, `neo4j`, `namespace data`, `s3://bucket`. */
  where?: string;
}

/** Which database engine a recovery mark is about, when the step that made it serves several. */
export type RecoveryEngine = 'postgres' | 'neo4j';
