import { formatDuration, parseDuration } from './durations.js';

/**
 * Recovery metrics as the runbook's DR section asks for them:
 * RPO achieved = incident − recovery point of the restored backup (when its dump started);
 * RTO achieved = validated − incident declared. Checked against `rpoTarget` / `rtoTarget` from the
 * values file. A timestamp that is missing or unreadable makes the metric "unknown", never 0.
 */

/** The points in time the metrics need, as UTC ISO strings (absent when the session never recorded them). */
export interface RecoveryTimes {
  incidentDeclared?: string;
  recoveryPoint?: string;
  restoreStarted?: string;
  downloadDone?: string;
  restoreDone?: string;
  validated?: string;
}

/**
 * `recording error`: the figure came out negative (the end is recorded before the start), which no
 * recovery can achieve: a wrong incident time, a backup taken after the incident, or a clock problem.
 */
export type Verdict = 'PASS' | 'FAIL' | 'unknown' | 'no target' | 'recording error';

export interface RecoveryMetric {
  name: 'RPO' | 'RTO';
  /** The achieved duration in seconds, or null when it cannot be known (or came out negative). */
  achievedSeconds: number | null;
  /** `3h 12m`, or `unknown`. */
  achieved: string;
  /** The target as written in the values file, or null when none was set. */
  target: string | null;
  targetSeconds: number | null;
  verdict: Verdict;
  /** Why the verdict is not PASS/FAIL, or something a reader should know about the figure. */
  reason: string | null;
}

export interface RecoveryMetrics {
  rpo: RecoveryMetric;
  rto: RecoveryMetric;
}

export type TargetParse =
  | { kind: 'none' }
  | { kind: 'ok'; text: string; ms: number }
  | { kind: 'invalid'; text: string; message: string };

/** Reads `rpoTarget` / `rtoTarget` (or any key) from the settings of a values file. */
export function readTarget(settings: Readonly<Record<string, unknown>>, key: string): TargetParse {
  const raw = settings[key];
  if (raw === undefined || raw === null || raw === '') return { kind: 'none' };
  const text = String(raw);
  if (typeof raw !== 'string' && typeof raw !== 'number')
    return { kind: 'invalid', text, message: `${key} must be a duration such as 4h` };
  const parsed = parseDuration(text);
  return parsed.ok
    ? { kind: 'ok', text: text.trim(), ms: parsed.ms }
    : { kind: 'invalid', text, message: `${key}: ${parsed.message}` };
}

/** Milliseconds since the epoch, or undefined when the text is not a full ISO-8601 time with a zone. */
export function parseUtc(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  // Without a zone, Date.parse reads local time: refuse rather than guess.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim()))
    return undefined;
  const ms = Date.parse(text.trim());
  return Number.isNaN(ms) ? undefined : ms;
}

interface Span {
  name: 'RPO' | 'RTO';
  from: { label: string; at: string | undefined };
  to: { label: string; at: string | undefined };
}

function measure(span: Span, target: TargetParse): RecoveryMetric {
  const targetText = target.kind === 'none' ? null : target.text;
  const targetSeconds = target.kind === 'ok' ? target.ms / 1000 : null;
  const unknown = (reason: string): RecoveryMetric => ({
    name: span.name,
    achievedSeconds: null,
    achieved: 'unknown',
    target: targetText,
    targetSeconds,
    verdict: 'unknown',
    reason,
  });
  const missing = [span.from, span.to].filter((point) => point.at === undefined).map((point) => point.label);
  if (missing.length > 0) return unknown(`not recorded: ${missing.join(', ')}`);
  const unreadable = [span.from, span.to]
    .filter((point) => parseUtc(point.at) === undefined)
    .map((point) => `${point.label} "${point.at}"`);
  if (unreadable.length > 0) return unknown(`not a UTC time: ${unreadable.join(', ')}`);
  const ms = (parseUtc(span.to.at) as number) - (parseUtc(span.from.at) as number);
  if (ms < 0)
    return {
      name: span.name,
      achievedSeconds: null,
      achieved: 'recording error',
      target: targetText,
      targetSeconds,
      verdict: 'recording error',
      reason: `${span.to.label} (${span.to.at}) is ${formatDuration(-ms)} before ${span.from.label} (${span.from.at}): a negative ${span.name} cannot be achieved; ${span.name === 'RPO' ? 'the restored backup was taken after the incident, or the incident time is wrong' : 'check the recorded times'}`,
    };
  const achieved = { achievedSeconds: ms / 1000, achieved: formatDuration(ms) };
  if (target.kind === 'none')
    return {
      name: span.name,
      ...achieved,
      target: null,
      targetSeconds: null,
      verdict: 'no target',
      reason: null,
    };
  if (target.kind === 'invalid')
    return {
      name: span.name,
      ...achieved,
      target: targetText,
      targetSeconds,
      verdict: 'unknown',
      reason: target.message,
    };
  return {
    name: span.name,
    ...achieved,
    target: targetText,
    targetSeconds,
    verdict: ms <= target.ms ? 'PASS' : 'FAIL',
    reason: null,
  };
}

/** RPO and RTO with PASS/FAIL against `rpoTarget` / `rtoTarget` in `settings`. */
export function computeRecoveryMetrics(
  times: RecoveryTimes,
  settings: Readonly<Record<string, unknown>> = {},
): RecoveryMetrics {
  return {
    rpo: measure(
      {
        name: 'RPO',
        from: { label: 'recovery point', at: times.recoveryPoint },
        to: { label: 'incident declared', at: times.incidentDeclared },
      },
      readTarget(settings, 'rpoTarget'),
    ),
    rto: measure(
      {
        name: 'RTO',
        from: { label: 'incident declared', at: times.incidentDeclared },
        to: { label: 'validated', at: times.validated },
      },
      readTarget(settings, 'rtoTarget'),
    ),
  };
}
