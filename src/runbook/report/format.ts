import type { RecoveryMetric } from '../metrics.js';
import type { ReportModel, ReportTimes } from './model.js';

/** Words and numbers shared by the Markdown, HTML and screen forms of the report. */

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** `2026-01-15 10:03:12` (UTC), or the text as given when it is not a time. */
export function utc(iso: string): string {
  if (ISO_UTC.test(iso)) return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** `10:03:12`, with the date only when it differs from `day` (`2026-01-15`). */
export function clockTime(iso: string, day: string | null): string {
  const full = utc(iso);
  return day !== null && full.startsWith(day) ? full.slice(11) : full;
}

export function seconds(value: number): string {
  if (value < 60) return `${Math.round(value * 10) / 10}s`;
  const minutes = Math.floor(value / 60);
  const rest = Math.round(value - minutes * 60);
  return minutes < 60 ? `${minutes}m ${rest}s` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

export function bytes(size: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(1)} ${units[unit]} (${size} bytes)`;
}

export const TIME_COLUMNS: readonly { key: keyof ReportTimes; label: string }[] = [
  { key: 'incidentDeclared', label: 'Incident declared' },
  { key: 'recoveryPoint', label: 'Recovery point (backup dump started)' },
  { key: 'restoreStarted', label: 'Restore started' },
  { key: 'downloadDone', label: 'Download done' },
  { key: 'restoreDone', label: 'Restore done' },
  { key: 'validated', label: 'Validated' },
];

export const METRIC_DEFINITIONS = {
  RPO: 'incident declared − recovery point of the restored backup (when its dump started)',
  RTO: 'service restored and validated − incident declared',
} as const;

/** `PASS`, `FAIL`, `no target`, `unknown`, `recording error`. */
export function verdictText(metric: RecoveryMetric): string {
  return metric.verdict;
}

/** The day (UTC) most of the session happened on, so times can drop it. */
export function sessionDay(model: ReportModel): string | null {
  return model.session.startedAt ? utc(model.session.startedAt).slice(0, 10) : null;
}

/** `in progress at 09:12 UTC`, `done (exit 0)`, `no end record (last event 10:31:10)`. */
export function outcomeText(model: ReportModel): string {
  const session = model.session;
  const exit = session.exitCode !== null ? ` (exit ${session.exitCode})` : '';
  if (session.outcome === 'in-progress')
    return `in progress at ${session.lastEventAt ? utc(session.lastEventAt).slice(11, 16) : 'unknown'} UTC (exported before the session ended)`;
  if (session.outcome === 'no-end-record')
    return `no end record: the journal stops at ${session.lastEventAt ? utc(session.lastEventAt) : 'unknown'} (killed, not resumed)`;
  return `${session.outcome}${exit}`;
}

export const CONFIRMATION_TEXT: Readonly<Record<ReportModel['session']['confirmation'], string>> = {
  interactive: 'every gate answered by a person at the prompt',
  'non-interactive': 'gates passed by --yes/--confirm: nobody was asked at the time',
  mixed: 'some gates answered at the prompt, some by --yes/--confirm',
  'no gates': 'no confirmation gate was reached',
};

/** Sign-off lines an auditor expects on a DR exercise record. */
export const SIGN_OFF_ROLES = [
  'Drill facilitator / incident commander',
  'Technical reviewer (DBA / SRE lead)',
  'Service owner / approver',
] as const;
