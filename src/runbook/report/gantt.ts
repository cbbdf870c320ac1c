import type { ReportModel } from './model.js';
import { barsOf, milestonesOf, phaseLabel, PHASES, type Bar, type PhaseId } from './phases.js';

/**
 * A Mermaid `gantt` block: one section per scenario (setup, synthetic test, incident restore, drill),
 * one bar per step attempt styled by how it ended (done; failed, interrupted and refused as `crit`;
 * skipped plain; `active` only for a step still running in a live session), and the scenario's
 * recovery milestones. The axis fits the session's activity: a point in time far outside it (an
 * incident declared an hour before the session) is listed under the chart instead of squashing it.
 */
export function renderGantt(model: ReportModel): string[] {
  const bars = barsOf(model);
  if (bars.length === 0) return [];
  const from = Math.min(...bars.map((bar) => bar.start));
  const to = Math.max(...bars.map((bar) => bar.end), from + 1000);
  const span = to - from;
  // A bar shorter than 1/120 of the chart would be a sliver: draw it at that width (the tables have the times).
  const minimum = Math.max(1000, Math.ceil(span / 120 / 1000) * 1000);
  const milestones = milestonesOf(model.recoveries);
  const inside = milestones.filter((m) => m.at >= from - span * 0.25 && m.at <= to + span * 0.25);
  const outside = milestones.filter((m) => !inside.includes(m));

  const lines = [
    '```mermaid',
    'gantt',
    `    title ${label(`Session ${model.session.id} · ${new Date(from).toISOString().slice(0, 10)} · UTC`)}`,
    '    dateFormat YYYY-MM-DD HH:mm:ss',
    `    axisFormat ${axisFormat(span)}`,
    `    tickInterval ${tickInterval(span)}`,
    '    todayMarker off',
  ];
  let taskId = 0;
  const phases: PhaseId[] = [...PHASES.map((phase) => phase.id), 'other'];
  for (const phase of phases) {
    const inPhase = bars.filter((bar) => bar.phase === phase);
    const marks = inside.filter((m) => m.phase === phase);
    if (inPhase.length === 0 && marks.length === 0) continue;
    lines.push(`    section ${label(phaseLabel(phase))}`);
    for (const bar of inPhase) {
      const end = Math.max(bar.end, bar.start + minimum);
      lines.push(
        `    ${label(`${bar.name}${SUFFIX[bar.status]}`)} :${TAGS[bar.status]}t${++taskId}, ${mermaidTime(bar.start)}, ${mermaidTime(end)}`,
      );
    }
    for (const mark of marks)
      lines.push(`    ${label(mark.label)} :milestone, m${++taskId}, ${mermaidTime(mark.at)}, 0d`);
  }
  lines.push('```');
  if (outside.length > 0)
    lines.push(
      '',
      `Outside the chart: ${outside.map((m) => `${m.label} (${phaseLabel(m.phase)}) at ${mermaidTime(m.at)} UTC`).join('; ')}.`,
    );
  return lines;
}

const TAGS: Readonly<Record<Bar['status'], string>> = {
  done: 'done, ',
  failed: 'crit, ',
  interrupted: 'crit, ',
  refused: 'crit, ',
  skipped: '',
  'in-progress': 'active, ',
};

const SUFFIX: Readonly<Record<Bar['status'], string>> = {
  done: '',
  failed: ' (failed)',
  interrupted: ' (interrupted)',
  refused: ' (gate refused)',
  skipped: ' (skipped)',
  'in-progress': ' (in progress)',
};

/** `%H:%M:%S` for a session of minutes, `%H:%M` for hours, with the date for days. */
export function axisFormat(spanMs: number): string {
  if (spanMs <= 20 * 60_000) return '%H:%M:%S';
  if (spanMs <= 36 * 3_600_000) return '%H:%M';
  return '%m-%d %H:%M';
}

const TICKS: readonly [number, string][] = [
  [1_000, '1second'],
  [5_000, '5second'],
  [10_000, '10second'],
  [15_000, '15second'],
  [30_000, '30second'],
  [60_000, '1minute'],
  [120_000, '2minute'],
  [300_000, '5minute'],
  [600_000, '10minute'],
  [900_000, '15minute'],
  [1_800_000, '30minute'],
  [3_600_000, '1hour'],
  [7_200_000, '2hour'],
  [21_600_000, '6hour'],
  [43_200_000, '12hour'],
  [86_400_000, '1day'],
];

/** The smallest round interval that gives at most 10 ticks. */
export function tickInterval(spanMs: number): string {
  return (TICKS.find(([ms]) => spanMs / ms <= 10) ?? TICKS[TICKS.length - 1])?.[1] ?? '1day';
}

/** `2026-01-15 10:03:12` in UTC: the chart's dateFormat. */
function mermaidTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Mermaid gantt task and section names end at `:`, and `#`/`;` start entities and statements. */
function label(text: string): string {
  return text.replace(/[:#;]/g, ' ').replace(/\s+/g, ' ').trim();
}
