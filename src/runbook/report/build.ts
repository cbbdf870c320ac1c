import type { JournalEvent } from '../journal.js';
import { replayJournal, type JournalReplay } from '../replay.js';
import { SECTIONS } from '../sections.js';
import { collectAttempts } from './attempts.js';
import { collectDeviations } from './deviations.js';
import { buildDigest } from './digest.js';
import { createMasker, maskDeep, type Masker } from './mask.js';
import {
  REPORT_KIND,
  REPORT_SCHEMA_VERSION,
  type ReportAttempt,
  type ReportEnvironment,
  type ReportModel,
  type ReportNote,
  type ReportResult,
  type ReportSection,
  type ReportSession,
  type ReportStep,
  type ScenarioId,
  type TimelineEntry,
} from './model.js';
import { DRILL_INTERVAL_MONTHS, nextDrillDate } from './next-drill.js';
import { collectRecoveries } from './recovery.js';
import { detectScenario } from './scenario.js';
import { timelineEntry } from './timeline.js';

export interface ReportOptions {
  /** The facilitator's notes (the TUI notes field, `--notes`). */
  notes?: string;
  /** Settings from the values file: `rpoTarget`, `rtoTarget`, `scenario`. */
  settings?: Readonly<Record<string, unknown>>;
  /** `--operator`: one name or several, comma-separated. Else the operators the journal recorded. */
  operator?: string;
  /** Secret values to mask once more, wherever they appear in the report. */
  secrets?: readonly string[];
  /** Journal lines that could not be parsed (`parseJournal(...).damaged`). */
  damaged?: readonly { line: number; text: string }[];
  /** Overrides the scenario the report would infer. */
  scenario?: ScenarioId;
  /** The report's own time (tests pass a fixed one). */
  now?: Date;
  /**
   * The session is still running (the report is made by it, or its process is alive): an open end is
   * "in progress", not a stop.
   */
  live?: boolean;
}

/** Builds the DR report from a session's journal events. Pure: no I/O, no clock unless `now` is absent. */
export function buildReport(events: readonly JournalEvent[], options: ReportOptions = {}): ReportModel {
  // Journal order is the truth (a clock that stepped back must not reorder what happened).
  const ordered = events;
  const replay = replayJournal(ordered);
  const settings = options.settings ?? {};
  const live = options.live === true && replay.outcome === 'unfinished';
  const attempts = collectAttempts(ordered, { live });
  const recovery = collectRecoveries(ordered, settings);
  const scenario = detectScenario(
    replay.sections.map((section) => section.section),
    { given: options.scenario ?? settings.scenario, sandbox: replay.target?.sandbox },
  );
  const mask = createMasker(options.secrets ?? []);
  const timeline: TimelineEntry[] = [];
  let logLines = 0;
  const journalNotes: ReportNote[] = [];
  for (const event of ordered) {
    const entry = timelineEntry(event);
    if (entry) timeline.push(maskEntry(entry, mask));
    else logLines++;
    if (event.type === 'note')
      journalNotes.push({ at: event.ts, author: event.author ?? null, text: event.text });
  }
  const operators = operatorsOf(ordered, options.operator);
  const notes = [
    ...journalNotes,
    ...(options.notes && options.notes.trim() !== ''
      ? [{ at: null, author: options.operator?.trim() || null, text: options.notes.trim() }]
      : []),
  ];
  const startedAt = replay.startedAt ?? ordered[0]?.ts ?? null;
  const generatedAt = (options.now ?? new Date()).toISOString();
  const drillFrom = new Date(startedAt ?? generatedAt);

  const model: Omit<ReportModel, 'timeline'> = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    kind: REPORT_KIND,
    generatedAt,
    result: { verdict: 'NOT MEASURED', reasons: [] },
    session: {
      id: replay.sessionIds.at(-1) ?? 'unknown',
      sessionIds: replay.sessionIds,
      startedAt,
      endedAt: replay.endedAt ?? null,
      lastEventAt: replay.lastEventAt ?? null,
      outcome: replay.outcome === 'unfinished' ? (live ? 'in-progress' : 'no-end-record') : replay.outcome,
      exitCode: replay.exitCode ?? null,
      resumes: ordered.filter(
        (event) =>
          event.type === 'session-start' && (event.mode === 'resume' || event.resumedFrom !== undefined),
      ).length,
      confirmation: confirmationOf(ordered),
    },
    scenario,
    operators,
    environment: environmentOf(replay, ordered),
    recoveries: recovery.recoveries,
    deviations: collectDeviations({
      events: ordered,
      attempts,
      damaged: options.damaged ?? [],
      recoveries: recovery.recoveries,
      evidence: recovery.evidence,
      live,
    }),
    backups: recovery.backups,
    validation: recovery.validation,
    sections: sectionsOf(replay, attempts),
    digest: buildDigest(ordered, mask),
    notes,
    journal: { events: ordered.length, logLines, damagedLines: [...(options.damaged ?? [])] },
    nextDrill: {
      date: nextDrillDate(drillFrom),
      basis: `the runbook asks for a restore drill every quarter: ${DRILL_INTERVAL_MONTHS} months after ${drillFrom.toISOString().slice(0, 10)}`,
    },
  };
  model.result = resultOf(model);
  // The timeline (most of a big report) was masked row by row; everything else is masked here.
  return { ...maskDeep(model, mask), timeline };
}

/** Masks a freshly made row in place (no second copy of a 100k-row timeline). */
function maskEntry(entry: TimelineEntry, mask: Masker): TimelineEntry {
  entry.action = mask(entry.action);
  if (entry.result !== null) entry.result = mask(entry.result);
  if (entry.step !== null) entry.step = mask(entry.step);
  if (entry.section !== null) entry.section = mask(entry.section);
  return entry;
}

function operatorsOf(events: readonly JournalEvent[], given: string | undefined): string[] {
  const named = (given ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (named.length > 0) return [...new Set(named)];
  const recorded = events.flatMap((event) => (event.type === 'session-start' ? [event.operator] : []));
  return [...new Set(recorded.filter((name) => name !== ''))];
}

function environmentOf(replay: JournalReplay, events: readonly JournalEvent[]): ReportEnvironment {
  const target = replay.target;
  const start = events.findLast((event) => event.type === 'session-start');
  const value = (name: string) => {
    const entry = replay.values[name];
    return entry && !entry.secret && entry.value ? entry.value : null;
  };
  return {
    kubeContext: target?.context ?? null,
    kubeServer: target?.server ?? null,
    namespace: target?.namespace ?? null,
    s3Endpoint: target?.s3Endpoint || value('AWS_ENDPOINT_URL'),
    bucket: target?.bucket || value('S3_BUCKET'),
    sandbox: target?.sandbox ?? null,
    tool: start?.type === 'session-start' ? start.tool : null,
    toolVersion: start?.type === 'session-start' ? start.toolVersion : null,
    host: start?.type === 'session-start' ? (start.host ?? null) : null,
  };
}

/** Whether a person answered the gates, flags did (`--yes`), or both. Journals before `via` count by mode. */
function confirmationOf(events: readonly JournalEvent[]): ReportSession['confirmation'] {
  let mode: string | undefined;
  const seen = new Set<string>();
  for (const event of events) {
    if (event.type === 'session-start') mode = event.mode;
    else if (event.type === 'gate')
      seen.add(event.via ?? (mode === 'run' || mode === 'resume' ? 'flag' : 'operator'));
  }
  if (seen.size === 0) return 'no gates';
  if (seen.size > 1) return 'mixed';
  return seen.has('flag') ? 'non-interactive' : 'interactive';
}

function sectionsOf(
  replay: JournalReplay,
  attempts: ReadonlyMap<string, readonly ReportAttempt[]>,
): ReportSection[] {
  const known = SECTIONS.map((section) => section.id as string);
  const order = [
    ...known,
    ...replay.sections.map((section) => section.section).filter((id) => !known.includes(id)),
  ];
  return order.flatMap((id) => {
    const steps = replay.steps.filter((step) => step.section === id);
    if (steps.length === 0) return [];
    const title = SECTIONS.find((section) => section.id === id)?.title ?? id;
    return [{ id, title, steps: steps.map((step) => stepOf(step, attempts.get(step.step) ?? [])) }];
  });
}

function stepOf(step: JournalReplay['steps'][number], attempts: readonly ReportAttempt[]): ReportStep {
  const first = attempts[0];
  const last = attempts.at(-1);
  const startedAt = first?.startedAt ?? null;
  const endedAt = last?.endedAt ?? null;
  const duration =
    startedAt !== null && endedAt !== null ? (Date.parse(endedAt) - Date.parse(startedAt)) / 1000 : null;
  return {
    id: step.step,
    status:
      (last?.status === 'interrupted' || last?.status === 'in-progress' || last?.status === 'refused') &&
      step.status !== 'done'
        ? last.status
        : step.status,
    startedAt,
    endedAt,
    durationSeconds: duration !== null && Number.isFinite(duration) ? duration : null,
    summary: step.result?.summary ?? null,
    attempts: [...attempts],
  };
}

/** The one-line answer an auditor reads first (see {@link ReportResult}). */
export function resultOf(model: Pick<ReportModel, 'recoveries' | 'deviations' | 'validation'>): ReportResult {
  const reasons: string[] = [];
  if (model.recoveries.length === 0)
    return { verdict: 'NOT MEASURED', reasons: ['the session restored no database: no RPO/RTO to measure'] };
  let fail = false;
  let incomplete = false;
  for (const recovery of model.recoveries) {
    for (const metric of [recovery.rpo, recovery.rto]) {
      if (metric.verdict === 'FAIL') {
        fail = true;
        reasons.push(
          `${recovery.label}: ${metric.name} ${metric.achieved} is over its target ${metric.target ?? ''}`.trim(),
        );
      } else if (metric.verdict === 'unknown' || metric.verdict === 'recording error') {
        incomplete = true;
        reasons.push(
          `${recovery.label}: ${metric.name} ${metric.verdict === 'unknown' ? 'unknown' : 'is a recording error'}`,
        );
      }
    }
    if (!recovery.complete) {
      incomplete = true;
      reasons.push(`${recovery.label}: not validated`);
    }
  }
  const failedChecks = model.validation.filter((entry) => !entry.ok).length;
  if (failedChecks > 0) {
    fail = true;
    reasons.push(`${failedChecks} validation ${failedChecks === 1 ? 'query' : 'queries'} failed`);
  }
  const high = model.deviations.filter((deviation) => deviation.severity === 'high').length;
  if (high > 0) {
    incomplete = true;
    reasons.push(`${high} high-severity deviation${high === 1 ? '' : 's'}`);
  }
  const verdict = fail ? 'FAIL' : incomplete ? 'INCOMPLETE' : 'PASS';
  if (verdict === 'PASS')
    reasons.push(
      `${model.recoveries.length} recover${model.recoveries.length === 1 ? 'y' : 'ies'} validated within ${model.recoveries.every((r) => r.rpo.verdict === 'PASS' && r.rto.verdict === 'PASS') ? 'their targets' : 'the targets set'}`,
    );
  return { verdict, reasons: [...new Set(reasons)] };
}
