/**
 * Every screen as lines: the header, the checklist, a section's steps and the selected step's detail,
 * the report, the help overlay and the footer. The App fits them into the terminal (header always on
 * top, the rest in a scrollable viewport); nothing here draws or does I/O.
 */
import type { ProofLine } from '../runbook/restorability.js';
import type { StepStatus, TargetInfo } from '../runbook/journal.js';
import type { StepOptions } from '../runbook/options.js';
import { outcomeText, type ReportModel } from '../runbook/report/index.js';
import type { RecoveryMetric } from '../runbook/metrics.js';
import type { SectionInfo } from '../runbook/sections.js';
import type { Plan } from '../runbook/step.js';
import { HELP_FOOTNOTES, helpRows } from './key-table.js';
import type { StepView } from './session-store.js';
import {
  bar,
  cut,
  filterLines,
  line,
  printable,
  rule,
  seg,
  textWidth,
  truncateLine,
  wrapAll,
  wrapLine,
  type Line,
  type Seg,
} from './text.js';
import { tuiText } from './tui-text.js';

// ---------------------------------------------------------------- header

/** Always on screen: where actions go. Two lines (three on a tall terminal with the sandbox note). */
export function headerLines(
  target: TargetInfo & { clusterProblem?: string },
  width: number,
  tall: boolean,
): Line[] {
  const first: Seg[] = [seg('db-runbook', { bold: true }), seg('  ')];
  if (target.sandbox) first.push(seg(' SANDBOX ', { backgroundColor: 'yellow', color: 'black', bold: true }));
  else first.push(seg('context '), seg(target.context, { bold: true }));
  first.push(seg('  namespace '), seg(target.namespace, { bold: true }));
  first.push(seg('  bucket '), seg(target.bucket ?? '(not set)', { bold: true }));
  const second: Seg[] = target.clusterProblem
    ? [seg(`no Kubernetes cluster: ${target.clusterProblem}`, { color: 'red' })]
    : [
        seg(`S3 ${target.s3Endpoint ?? '(not set)'}${target.server ? ` · API ${target.server}` : ''}`, {
          dim: true,
        }),
      ];
  const out = [truncateLine(first, width), truncateLine(second, width)];
  if (tall && target.sandbox)
    out.push(
      truncateLine(
        line(
          `Everything is local and temporary${target.sandboxStartupMs !== undefined ? ` (started in ${target.sandboxStartupMs} ms)` : ''}; Neo4j is a real 5.26 Community (only Enterprise online backup is simulated).`,
          { dim: true },
        ),
        width,
      ),
    );
  out.push(rule('', width, { color: target.sandbox ? 'yellow' : 'cyan', dim: true }));
  return out;
}

// ---------------------------------------------------------------- status words

const STEP_ICON: Record<StepStatus, { icon: string; color?: string }> = {
  pending: { icon: '○' },
  ready: { icon: '○' },
  'awaiting-confirmation': { icon: '?', color: 'yellow' },
  running: { icon: '◐', color: 'cyan' },
  verifying: { icon: '◑', color: 'cyan' },
  done: { icon: '✓', color: 'green' },
  failed: { icon: '✗', color: 'red' },
  skipped: { icon: '-', color: 'gray' },
};

const CHECK_ICON = {
  ok: { icon: '✓', color: 'green' },
  fail: { icon: '✗', color: 'red' },
  warn: { icon: '!', color: 'yellow' },
  skip: { icon: '-', color: 'gray' },
} as const;

export function stepIcon(status: StepStatus): Seg {
  const { icon, color } = STEP_ICON[status];
  return seg(icon, { color });
}

// ---------------------------------------------------------------- checklist

export interface SectionRow {
  section: SectionInfo;
  steps: number;
  statuses: readonly StepStatus[];
}

function sectionStatus(row: SectionRow): { text: string; color?: string } {
  if (row.steps === 0) return { text: 'not available yet', color: 'gray' };
  const done = row.statuses.filter((s) => s === 'done' || s === 'skipped').length;
  if (row.statuses.some((s) => s === 'failed'))
    return { text: `✗ ${done}/${row.steps} done, failures`, color: 'red' };
  if (row.statuses.some((s) => s === 'running' || s === 'verifying' || s === 'awaiting-confirmation'))
    return { text: '◐ running', color: 'cyan' };
  if (done === row.steps) return { text: `✓ ${done}/${row.steps} done`, color: 'green' };
  return { text: `${done}/${row.steps} done` };
}

const PROOF_COLOR: Record<ProofLine['state'], string> = {
  proven: 'green',
  stale: 'yellow',
  failed: 'red',
  never: 'yellow',
  'no-backups': 'red',
};

/** Under the checklist's title: the last backup proven restorable, per database (read once at start). */
function proofLines(proof: HomeProof | undefined, width: number): Line[] {
  if (!proof) return [];
  if ('problem' in proof)
    return [truncateLine(line(`Proven restorable: not known (${proof.problem})`, { dim: true }), width)];
  return proof.lines.map((entry) =>
    truncateLine(
      [seg('Proven restorable  ', { dim: true }), seg(entry.text, { color: PROOF_COLOR[entry.state] })],
      width,
    ),
  );
}

export type HomeProof = { lines: readonly ProofLine[] } | { problem: string };

export function homeLines(
  rows: readonly SectionRow[],
  cursor: number,
  width: number,
  proof?: HomeProof,
): Line[] {
  const titleWidth = Math.min(30, Math.max(...rows.map((row) => textWidth(row.section.title))) + 2);
  const out: Line[] = [line('Runbook sections', { bold: true }), ...proofLines(proof, width)];
  rows.forEach((row, index) => {
    const selected = index === cursor;
    const status = sectionStatus(row);
    out.push(
      truncateLine(
        [
          seg(selected ? '› ' : '  ', { color: 'cyan' }),
          seg(row.section.title.padEnd(titleWidth), { bold: selected, dim: row.steps === 0 }),
          seg(status.text, { color: status.color }),
        ],
        width,
      ),
    );
  });
  const selected = rows[cursor];
  if (selected) out.push([], ...wrapLine(line(selected.section.summary, { dim: true }), width));
  return out;
}

// ---------------------------------------------------------------- a section

export interface StepRow {
  id: string;
  title: string;
  skippable: boolean;
  status: StepStatus;
  summary?: string;
}

/** The section's title and its steps, one line each (cut, never wrapped: the list keeps its shape). */
export function stepListLines(
  section: SectionInfo,
  rows: readonly StepRow[],
  cursor: number,
  width: number,
): Line[] {
  const out: Line[] = [
    truncateLine(
      [seg(section.title, { bold: true }), seg(` — runbook: ${section.runbookHeading}`, { dim: true })],
      width,
    ),
  ];
  rows.forEach((row, index) => {
    const selected = index === cursor;
    const parts: Seg[] = [
      seg(selected ? '› ' : '  ', { color: 'cyan' }),
      stepIcon(row.status),
      seg(' '),
      seg(row.title, { bold: selected }),
    ];
    if (row.skippable) parts.push(seg(' (optional)', { dim: true }));
    if (row.summary) parts.push(seg(`  · ${printable(tuiText(row.summary))}`, { dim: true }));
    out.push(truncateLine(parts, width));
  });
  return out;
}

export interface DetailInput {
  title: string;
  description: string;
  status: StepStatus;
  view?: StepView;
  plan?: Plan;
  mask(text: string): string;
  /** The spinner's current frame. */
  spinner: string;
  /** How many log lines to keep (the whole log when the detail scrolls). */
  logTail?: number;
}

function formatBytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

function progressText(view: StepView): string | undefined {
  const p = view.progress;
  if (!p?.total || p.done === undefined) return undefined;
  return p.unit === 'bytes' ? `${formatBytes(p.done)}/${formatBytes(p.total)}` : `${p.done}/${p.total}`;
}

/** A shell command as lines that paste: `$ ` before the first only (heredoc lines stay as they are). */
export function commandLines(command: string): Line[] {
  const [first, ...rest] = command.split('\n');
  return [
    line(`  $ ${first ?? ''}`, { dim: true }),
    ...rest.map((text) => line(`    ${text}`, { dim: true })),
  ];
}

/** The selected step: its result, live state, preview, checks, log and what it will do. */
export function detailLines(input: DetailInput, width: number): Line[] {
  const { view, status } = input;
  const prose = (text: string) => printable(tuiText(text));
  const out: Line[] = [line(prose(input.description), { dim: true })];
  const running = status === 'running' || status === 'verifying';
  if (view?.summary && !running) {
    const head = status === 'failed' ? 'FAILED: ' : status === 'done' ? 'Done: ' : '';
    out.push([
      seg(head + prose(view.summary), {
        bold: true,
        color: status === 'failed' ? 'red' : status === 'done' ? 'green' : undefined,
      }),
    ]);
    if (view.next) out.push(line(`→ ${prose(view.next)}`, { color: 'yellow' }));
  }
  if (running) {
    // The spinner says what is happening once; a byte counter and bar only when there is a total.
    out.push([
      seg(`${input.spinner} `, { color: 'cyan' }),
      seg(prose(view?.progress?.message ?? 'running…')),
    ]);
    const counted = view ? progressText(view) : undefined;
    if (view?.progress?.total && counted)
      out.push(
        line(
          `  ${bar((view.progress.done ?? 0) / view.progress.total, Math.min(30, width - 20))} ${counted}`,
          { color: 'cyan' },
        ),
      );
  }
  if (view && view.preview.length > 0) for (const text of view.preview) out.push(line(`· ${prose(text)}`));
  if (view && view.checks.length > 0) {
    for (const check of view.checks) {
      const icon = CHECK_ICON[check.status];
      out.push([
        seg(icon.icon, { color: icon.color }),
        seg(` ${prose(check.label)}`),
        ...(check.detail ? [seg(`  ${prose(check.detail)}`, { dim: true })] : []),
      ]);
      if (check.next && check.status !== 'ok')
        out.push(line(`  → ${prose(check.next)}`, { color: 'yellow' }));
    }
  }
  if (view && view.logs.length > 0) {
    const logs = input.logTail ? view.logs.slice(-input.logTail) : view.logs;
    for (const text of logs) out.push(line(`│ ${printable(text)}`, { dim: true }));
  }
  if ((status === 'pending' || status === 'ready') && input.plan) {
    out.push(line('Will do', { underline: true }));
    for (const action of input.plan.actions) {
      out.push([
        seg(`• ${prose(action.summary)}`),
        ...(action.destructive
          ? [seg(' [destructive]', { color: 'red' })]
          : action.writes
            ? [seg(' [writes]', { color: 'yellow' })]
            : []),
      ]);
      if (action.command) out.push(...commandLines(input.mask(action.command)));
    }
    for (const note of input.plan.notes ?? []) out.push(line(`note: ${prose(note)}`, { dim: true }));
  }
  return wrapAll(out, width, 2);
}

// ---------------------------------------------------------------- report

function metricLine(metric: RecoveryMetric): Line {
  const color = metric.verdict === 'PASS' ? 'green' : metric.verdict === 'FAIL' ? 'red' : 'yellow';
  return [
    seg(`${metric.name} ${metric.verdict === 'recording error' ? '' : 'achieved '}`),
    seg(metric.achieved, { bold: true }),
    seg(` · target ${metric.target ?? 'not set'} · `),
    seg(metric.verdict, { color, bold: true }),
    ...(metric.reason ? [seg(` (${metric.reason})`, { dim: true })] : []),
  ];
}

/** The whole report: summary, metrics, every deviation, notes, and every timeline row (it scrolls). */
export function reportLines(model: ReportModel, width: number): Line[] {
  const verdictColor =
    model.result.verdict === 'PASS' ? 'green' : model.result.verdict === 'FAIL' ? 'red' : 'yellow';
  const out: Line[] = [
    [
      seg(`DR report — ${model.scenario.label}`, { bold: true }),
      seg(` (${model.scenario.basis})`, { dim: true }),
    ],
    line(
      `session ${model.session.id} · operators ${model.operators.join(', ') || 'unknown'} · next drill ${model.nextDrill.date}`,
      { dim: true },
    ),
    [
      seg('Result '),
      seg(model.result.verdict, { bold: true, color: verdictColor }),
      ...(model.session.outcome === 'in-progress' ? [seg(` · ${outcomeText(model)}`, { dim: true })] : []),
    ],
    [],
  ];
  if (model.recoveries.length === 0)
    out.push(line('No database restored yet: RPO/RTO unknown until a restore is validated.', { dim: true }));
  for (const recovery of model.recoveries)
    out.push(line(recovery.label, { underline: true }), metricLine(recovery.rpo), metricLine(recovery.rto));
  out.push([], line(`Deviations (${model.deviations.length})`, { underline: true }));
  for (const deviation of model.deviations)
    out.push(
      line(`• ${deviation.kind}: ${deviation.detail}`, {
        color: deviation.severity === 'high' ? 'red' : undefined,
      }),
    );
  out.push([], line(`Notes (${model.notes.length})`, { underline: true }));
  for (const note of model.notes) out.push(line(`• ${note.text}`));
  out.push(
    [],
    line(`Timeline: ${model.digest.length} timeline rows (${model.timeline.length} journal events)`, {
      underline: true,
    }),
  );
  for (const row of model.digest)
    out.push([
      seg(`${row.at.slice(11, 19)} `, { dim: true }),
      seg(`${row.step ?? row.kind} `, { dim: true }),
      seg(`${row.action}${row.result ? ` → ${row.result}` : ''}`, {
        color: row.attention ? 'yellow' : undefined,
      }),
      ...(row.events > 1 ? [seg(` (${row.events} events)`, { dim: true })] : []),
    ]);
  return wrapAll(out, width, 2);
}

// ---------------------------------------------------------------- help

export function helpLines(width: number, filter = ''): Line[] {
  const rows = helpRows();
  const labelWidth = Math.min(12, Math.max(...rows.map((row) => textWidth(row.label))) + 2);
  const body: Line[] = rows.map((row) => [
    seg(row.label.padEnd(labelWidth), { bold: true }),
    seg(row.description),
    seg(`  [${row.where}]`, { dim: true }),
  ]);
  const wrapped = filterLines(body, filter).flatMap((value) => wrapLine(value, width, labelWidth));
  return [...wrapped, [], ...HELP_FOOTNOTES.flatMap((note) => wrapLine(line(note, { dim: true }), width, 2))];
}

// ---------------------------------------------------------------- viewport

export interface Viewed {
  lines: Line[];
  /** `12–30 of 80` when not everything fits. */
  position?: string;
  offset: number;
}

/** The slice of `lines` that fits `height` rows from `offset` (or the end, when following). */
export function viewport(
  lines: readonly Line[],
  offset: number,
  follow: boolean,
  height: number | undefined,
): Viewed {
  if (height === undefined || lines.length <= height) return { lines: [...lines], offset: 0 };
  const rows = Math.max(1, height);
  const max = lines.length - rows;
  const start = follow ? max : Math.max(0, Math.min(offset, max));
  return {
    lines: lines.slice(start, start + rows),
    position: `${start + 1}–${start + rows} of ${lines.length}`,
    offset: start,
  };
}

export { cut, rule, truncateLine, wrapLine };
export type { StepOptions };
