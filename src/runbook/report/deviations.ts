import type { JournalEvent } from '../journal.js';
import { MARK } from '../marks.js';
import type { RecoveryMetric } from '../metrics.js';
import type { ReportAttempt, ReportDeviation, ScenarioId } from './model.js';

export interface DeviationInput {
  events: readonly JournalEvent[];
  attempts: ReadonlyMap<string, readonly ReportAttempt[]>;
  finalStatus: (step: string) => string | undefined;
  damaged: readonly { line: number; text: string }[];
  metrics: readonly RecoveryMetric[];
  scenario: ScenarioId;
}

/**
 * What did not go as the runbook says: skipped, failed or interrupted steps, overridden gates,
 * deviations steps recorded (`deviation` marks), sessions that stopped without an end record, damaged journal lines, metrics that cannot be judged.
 */
export function collectDeviations(input: DeviationInput): ReportDeviation[] {
  const deviations = [
    ...attemptDeviations(input.attempts, input.finalStatus),
    ...eventDeviations(input.events),
    ...input.damaged.map((damaged): ReportDeviation => ({
      kind: 'damaged-journal-line',
      at: null,
      step: null,
      detail: `journal line ${damaged.line} could not be read (a torn write after a crash?) and was left out: ${truncate(damaged.text, 80)}`,
    })),
    ...metricDeviations(input.metrics, input.scenario),
  ];
  // Stable: timed deviations in time order, then the rest as collected.
  return deviations
    .map((deviation, index) => ({ deviation, index }))
    .sort((a, b) => compareAt(a.deviation.at, b.deviation.at) || a.index - b.index)
    .map(({ deviation }) => deviation);
}

function attemptDeviations(
  attempts: ReadonlyMap<string, readonly ReportAttempt[]>,
  finalStatus: (step: string) => string | undefined,
): ReportDeviation[] {
  const out: ReportDeviation[] = [];
  for (const [step, list] of attempts) {
    const final = finalStatus(step);
    list.forEach((attempt, index) => {
      const later = index < list.length - 1 && final === 'done' ? '; done on a later attempt' : '';
      const at = attempt.endedAt ?? attempt.startedAt;
      if (attempt.status === 'failed')
        out.push({
          kind: 'failed-step',
          at,
          step,
          detail: `${step} failed: ${attempt.summary ?? ''}${later}`,
        });
      else if (attempt.status === 'skipped')
        out.push({
          kind: 'skipped-step',
          at,
          step,
          detail: `${step} skipped: ${attempt.summary ?? 'no reason given'}`,
        });
      else if (attempt.status === 'interrupted')
        out.push({
          kind: 'interrupted-step',
          at,
          step,
          detail: `${step} was interrupted before it finished (started ${attempt.startedAt})${later}`,
        });
    });
  }
  return out;
}

function eventDeviations(events: readonly JournalEvent[]): ReportDeviation[] {
  const out: ReportDeviation[] = [];
  let segmentOpen = false;
  let previousTs: string | undefined;
  for (const event of events) {
    if (event.type === 'session-start') {
      if (segmentOpen)
        out.push({
          kind: 'session-interrupted',
          at: previousTs ?? event.ts,
          step: null,
          detail: `the session stopped without an end record after ${previousTs ?? 'its start'} (killed?) and was resumed at ${event.ts}`,
        });
      segmentOpen = true;
    } else if (event.type === 'session-end') {
      segmentOpen = false;
      if (event.outcome === 'interrupted')
        out.push({
          kind: 'session-interrupted',
          at: event.ts,
          step: null,
          detail: `the session was interrupted (exit ${event.exitCode})`,
        });
    } else if (event.type === 'mark' && event.name === MARK.deviation) {
      const reason = typeof event.data?.reason === 'string' ? event.data.reason : 'a deviation was recorded';
      const step = typeof event.data?.step === 'string' ? event.data.step : (event.step ?? null);
      out.push({
        kind: 'recorded-deviation',
        at: event.ts,
        step,
        detail: step ? `${step}: ${reason}` : reason,
      });
    } else if (event.type === 'gate' && (event.answer === 'overridden' || event.deviation === true)) {
      out.push({
        kind: 'overridden-gate',
        at: event.ts,
        step: event.step,
        detail: `${event.step}: ${event.kind} gate ${event.answer}: ${event.prompt}`,
      });
    }
    previousTs = event.ts;
  }
  if (segmentOpen)
    out.push({
      kind: 'session-interrupted',
      at: previousTs ?? null,
      step: null,
      detail: 'the session has no end record: it is still running, or it was killed and not resumed',
    });
  return out;
}

function metricDeviations(metrics: readonly RecoveryMetric[], scenario: ScenarioId): ReportDeviation[] {
  const restoring = scenario === 'incident-restore' || scenario === 'drill';
  return metrics
    .filter((metric) => metric.reason !== null && (restoring || metric.achievedSeconds !== null))
    .map((metric) => ({
      kind: 'metric-problem' as const,
      at: null,
      step: null,
      detail: `${metric.name} ${metric.verdict === 'unknown' ? 'cannot be judged' : 'note'}: ${metric.reason ?? ''}`,
    }));
}

function compareAt(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length)}…` : text;
}
