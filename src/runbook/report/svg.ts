import type { RecoveryMetric } from '../metrics.js';
import type { ReportModel } from './model.js';
import { barsOf, milestonesOf, phaseLabel, PHASES, type Bar, type PhaseId } from './phases.js';

/** Inline SVG pictures for the HTML report: the step timeline and RPO/RTO against their targets. */

export function esc(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const WIDTH = 1000;
const LABEL = 230;
const RIGHT = 20;
const ROW = 18;
const BREAK = 22;

interface Segment {
  start: number;
  end: number;
  x: number;
  width: number;
}

/**
 * Splits time into stretches of activity: a pause longer than a tenth of the whole (and over two
 * minutes) becomes a break drawn as ≈, so a short session with an incident declared an hour earlier
 * still shows its steps at a readable width.
 */
export function segmentsOf(points: readonly [number, number][], width: number): Segment[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  if (sorted.length === 0) return [];
  const first = sorted[0] as [number, number];
  const total = Math.max(...sorted.map((p) => p[1])) - first[0];
  const gap = Math.max(120_000, total * 0.1);
  const spans: [number, number][] = [[first[0], first[1]]];
  for (const [start, end] of sorted.slice(1)) {
    const last = spans.at(-1) as [number, number];
    if (start - last[1] <= gap) last[1] = Math.max(last[1], end);
    else spans.push([start, end]);
  }
  const breaks = (spans.length - 1) * BREAK;
  const minimum = 40;
  const durations = spans.map(([start, end]) => end - start);
  const sum = durations.reduce((a, b) => a + b, 0);
  const free = Math.max(0, width - breaks - minimum * spans.length);
  let x = 0;
  return spans.map(([start, end], index) => {
    const share = sum > 0 ? ((durations[index] as number) / sum) * free : free / spans.length;
    const segment = { start, end, x, width: minimum + share };
    x += segment.width + BREAK;
    return segment;
  });
}

function xOf(segments: readonly Segment[], t: number): number {
  const segment = segments.find((s) => t >= s.start && t <= s.end) ?? nearest(segments, t);
  if (segment.end === segment.start) return segment.x + segment.width / 2;
  const clamped = Math.min(Math.max(t, segment.start), segment.end);
  return segment.x + ((clamped - segment.start) / (segment.end - segment.start)) * segment.width;
}

function nearest(segments: readonly Segment[], t: number): Segment {
  return segments.reduce((best, s) =>
    Math.min(Math.abs(t - s.start), Math.abs(t - s.end)) <
    Math.min(Math.abs(t - best.start), Math.abs(t - best.end))
      ? s
      : best,
  );
}

const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400].map(
  (s) => s * 1000,
);

function ticksOf(segment: Segment): number[] {
  const span = segment.end - segment.start;
  if (span <= 0) return [segment.start];
  const perPx = span / segment.width;
  const step = TICK_STEPS.find((candidate) => candidate / perPx >= 80) ?? 86_400_000;
  const out: number[] = [];
  for (let t = Math.ceil(segment.start / step) * step; t <= segment.end; t += step) out.push(t);
  return out.length > 0 ? out : [segment.start];
}

function clock(ms: number, withSeconds: boolean): string {
  const iso = new Date(ms).toISOString();
  return withSeconds ? iso.slice(11, 19) : iso.slice(11, 16);
}

const STATUS_CLASS: Readonly<Record<Bar['status'], string>> = {
  done: 'b-done',
  failed: 'b-failed',
  interrupted: 'b-failed',
  refused: 'b-refused',
  skipped: 'b-skipped',
  'in-progress': 'b-running',
};

/** The steps of the session on one time axis, a lane per scenario, with the recoveries' milestones. */
export function timelineSvg(model: ReportModel): string {
  const bars = barsOf(model);
  const milestones = milestonesOf(model.recoveries);
  if (bars.length === 0 && milestones.length === 0) return '<p>No step ran.</p>';
  const plot = WIDTH - LABEL - RIGHT;
  const segments = segmentsOf(
    [
      ...bars.map((bar): [number, number] => [bar.start, bar.end]),
      ...milestones.map((m): [number, number] => [m.at, m.at]),
    ],
    plot,
  );
  const span = (segments.at(-1)?.end ?? 0) - (segments[0]?.start ?? 0);
  const withSeconds = span < 2 * 3_600_000;
  const phases: PhaseId[] = [...PHASES.map((phase) => phase.id), 'other'];
  const parts: string[] = [];
  let y = 34;
  for (const phase of phases) {
    const inPhase = bars.filter((bar) => bar.phase === phase);
    const marks = milestones.filter((m) => m.phase === phase);
    if (inPhase.length === 0 && marks.length === 0) continue;
    parts.push(`<text class="lane" x="4" y="${y + 12}">${esc(phaseLabel(phase))}</text>`);
    parts.push(`<line class="lane-rule" x1="0" x2="${WIDTH}" y1="${y + 17}" y2="${y + 17}"/>`);
    y += 20;
    const steps = [...new Set(inPhase.map((bar) => bar.step))];
    for (const step of steps) {
      parts.push(
        `<text class="step" x="${LABEL - 6}" y="${y + 12}" text-anchor="end">${esc(shortStep(step))}</text>`,
      );
      for (const bar of inPhase.filter((candidate) => candidate.step === step)) {
        const x1 = LABEL + xOf(segments, bar.start);
        const x2 = LABEL + xOf(segments, bar.end);
        const width = Math.max(3, x2 - x1);
        parts.push(
          `<rect class="${STATUS_CLASS[bar.status]}" x="${x1.toFixed(1)}" y="${y + 3}" width="${width.toFixed(1)}" height="${ROW - 6}" rx="2"><title>${esc(`${bar.name}: ${bar.status}, ${clock(bar.start, true)}–${clock(bar.end, true)} UTC`)}</title></rect>`,
        );
      }
      y += ROW;
    }
    for (const mark of marks) {
      const x = LABEL + xOf(segments, mark.at);
      const cy = y + 9;
      const right = x > WIDTH - 220;
      parts.push(
        `<path class="milestone" d="M${x.toFixed(1)} ${cy - 6} l6 6 l-6 6 l-6 -6 z"><title>${esc(`${mark.label}: ${clock(mark.at, true)} UTC`)}</title></path>`,
        `<text class="mlabel" x="${(right ? x - 9 : x + 9).toFixed(1)}" y="${cy + 4}" text-anchor="${right ? 'end' : 'start'}">${esc(`${mark.label} ${clock(mark.at, withSeconds)}`)}</text>`,
      );
      y += 16;
    }
    y += 6;
  }
  const height = y + 8;
  // Axis: ticks per stretch, and ≈ marks where time was left out.
  const axis: string[] = [`<line class="axis" x1="${LABEL}" x2="${WIDTH - RIGHT}" y1="26" y2="26"/>`];
  segments.forEach((segment, index) => {
    for (const tick of ticksOf(segment)) {
      const x = LABEL + xOf([segment], tick);
      axis.push(
        `<line class="grid" x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="26" y2="${height - 4}"/>`,
        `<text class="tick" x="${x.toFixed(1)}" y="20" text-anchor="middle">${clock(tick, withSeconds)}</text>`,
      );
    }
    if (index < segments.length - 1) {
      const x = LABEL + segment.x + segment.width + BREAK / 2;
      const next = segments[index + 1] as Segment;
      axis.push(
        `<rect class="gap" x="${(x - BREAK / 2 + 3).toFixed(1)}" y="22" width="${BREAK - 6}" height="${height - 26}"><title>${esc(`${Math.round((next.start - segment.end) / 60_000)} min without activity left out`)}</title></rect>`,
        `<text class="break" x="${x.toFixed(1)}" y="31" text-anchor="middle">≈</text>`,
      );
    }
  });
  return [
    `<svg class="timeline" role="img" aria-label="Timeline of the session's steps" viewBox="0 0 ${WIDTH} ${height}" width="100%" xmlns="http://www.w3.org/2000/svg">`,
    ...axis,
    ...parts,
    '</svg>',
  ].join('\n');
}

function shortStep(step: string): string {
  return step.length > 34 ? `${step.slice(0, 33)}…` : step;
}

const METRIC_WIDTH = 460;

/** One metric as a bar against its target line: green within, red over, grey hatched when unknown. */
export function metricSvg(metric: RecoveryMetric): string {
  const achieved = metric.achievedSeconds;
  const target = metric.targetSeconds;
  const max = Math.max(achieved ?? 0, target ?? 0) * 1.15 || 1;
  const scale = (value: number) => (value / max) * METRIC_WIDTH;
  const cls =
    metric.verdict === 'PASS'
      ? 'm-pass'
      : metric.verdict === 'FAIL'
        ? 'm-fail'
        : metric.verdict === 'no target'
          ? 'm-none'
          : 'm-unknown';
  const bar =
    achieved === null
      ? `<rect class="m-unknown" x="0" y="6" width="${METRIC_WIDTH}" height="16"/><text class="m-text" x="8" y="18">${esc(metric.achieved)}</text>`
      : `<rect class="${cls}" x="0" y="6" width="${Math.max(2, scale(achieved)).toFixed(1)}" height="16" rx="2"/>`;
  const targetLine =
    target === null
      ? ''
      : `<line class="m-target" x1="${scale(target).toFixed(1)}" x2="${scale(target).toFixed(1)}" y1="2" y2="26"/><text class="m-tlabel" x="${Math.min(scale(target), METRIC_WIDTH - 2).toFixed(1)}" y="36" text-anchor="end">target ${esc(metric.target ?? '')}</text>`;
  return [
    `<svg class="metric" role="img" aria-label="${esc(`${metric.name} ${metric.achieved} against target ${metric.target ?? 'not set'}: ${metric.verdict}`)}" viewBox="0 0 ${METRIC_WIDTH + 4} 40" width="${METRIC_WIDTH + 4}" height="40" xmlns="http://www.w3.org/2000/svg">`,
    `<rect class="m-track" x="0" y="6" width="${METRIC_WIDTH}" height="16"/>`,
    bar,
    targetLine,
    '</svg>',
  ].join('');
}
