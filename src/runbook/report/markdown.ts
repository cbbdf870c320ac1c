import type { RecoveryMetric } from '../metrics.js';
import { renderGantt } from './gantt.js';
import type { ReportModel, ReportTimes } from './model.js';

/** The DR report as Markdown: summary, recovery metrics, backup, validation, deviations, chart, timeline. */
export function renderMarkdown(model: ReportModel): string {
  return [...markdownChunks(model)].join('');
}

const TIMELINE_BATCH = 2000;

/** The same Markdown in pieces, so a 100k-row timeline can be written out without one huge string. */
export function* markdownChunks(model: ReportModel): Generator<string> {
  const head = [
    `# DR report: ${model.scenario.label}`,
    '',
    `Session \`${model.session.id}\` · generated ${utc(model.generatedAt)} · report schema v${model.schemaVersion}`,
    '',
    ...summary(model),
    ...metrics(model),
    ...backups(model),
    ...validation(model),
    ...deviations(model),
    ...sectionsAndSteps(model),
    '## Timeline',
    '',
    ...table(['Time (UTC)', 'Step', 'Action', 'Result'], []),
  ];
  yield `${head.join('\n')}\n`;
  for (let start = 0; start < model.timeline.length; start += TIMELINE_BATCH) {
    const rows = model.timeline
      .slice(start, start + TIMELINE_BATCH)
      .map((entry) => tableRow([utc(entry.at), entry.step ?? '', entry.action, entry.result ?? '']));
    yield `${rows.join('\n')}\n`;
  }
  const tail = [
    '',
    ...journal(model),
    '## Next drill',
    '',
    `Next quarterly restore drill due by **${model.nextDrill.date}**${model.nextDrill.date < model.generatedAt.slice(0, 10) ? ' (overdue)' : ''} (${model.nextDrill.basis}).`,
    '',
  ];
  yield tail.join('\n');
}

function summary(model: ReportModel): string[] {
  const env = model.environment;
  const session = model.session;
  const ended =
    session.endedAt !== null
      ? utc(session.endedAt)
      : `unfinished (last activity ${session.lastEventAt ? utc(session.lastEventAt) : 'unknown'})`;
  const context = env.kubeContext
    ? `${env.kubeContext}${env.kubeServer ? ` (${env.kubeServer})` : ''}${env.sandbox ? ' [sandbox]' : ''}`
    : 'unknown';
  const rows: [string, string][] = [
    ['Scenario', `${model.scenario.label} (${model.scenario.basis})`],
    ['Operator(s)', model.operators.length > 0 ? model.operators.join(', ') : 'unknown'],
    ['Kubernetes context', context],
    ['Namespace', env.namespace ?? 'unknown'],
    ['S3 endpoint', env.s3Endpoint ?? 'AWS S3 (default endpoint)'],
    ['S3 bucket', env.bucket ?? 'unknown'],
    ['Tool', env.tool ? `${env.tool} ${env.toolVersion ?? ''}`.trim() : 'unknown'],
    ['Started', session.startedAt ? utc(session.startedAt) : 'unknown'],
    ['Ended', ended],
    ['Outcome', `${session.outcome}${session.exitCode !== null ? ` (exit ${session.exitCode})` : ''}`],
  ];
  if (session.resumes > 0) rows.push(['Resumed', `${session.resumes} time(s)`]);
  if (session.sessionIds.length > 1) rows.push(['Session ids', session.sessionIds.map(code).join(', ')]);
  return ['## Summary', '', ...table(['Field', 'Value'], rows), ''];
}

const TIME_ROWS: readonly { key: keyof ReportTimes; label: string }[] = [
  { key: 'recoveryPoint', label: 'Recovery point of the restored backup (dump started)' },
  { key: 'incidentDeclared', label: 'Incident declared' },
  { key: 'restoreStarted', label: 'Restore started' },
  { key: 'downloadDone', label: 'Download done' },
  { key: 'restoreDone', label: 'Restore done' },
  { key: 'validated', label: 'Service restored and validated' },
];

function metricRow(metric: RecoveryMetric, definition: string): string[] {
  const verdict =
    metric.verdict === 'PASS' || metric.verdict === 'FAIL' ? `**${metric.verdict}**` : metric.verdict;
  return [
    `${metric.name} (${definition})`,
    metric.achieved,
    metric.target ?? 'not set',
    metric.reason ? `${verdict}: ${metric.reason}` : verdict,
  ];
}

function metrics(model: ReportModel): string[] {
  const { rpo, rto, times } = model.recovery;
  return [
    '## Recovery metrics',
    '',
    ...table(
      ['Metric', 'Achieved', 'Target', 'Result'],
      [metricRow(rpo, 'incident − recovery point'), metricRow(rto, 'validated − incident declared')],
    ),
    '',
    ...table(
      ['Point in time', 'UTC'],
      TIME_ROWS.map(({ key, label }) => [label, times[key] ? utc(times[key]) : 'unknown']),
    ),
    '',
    'Targets come from `rpoTarget` and `rtoTarget` in the values file (e.g. `24h`, `4h`).',
    '',
  ];
}

function backups(model: ReportModel): string[] {
  if (model.backups.length === 0) return ['## Backup used', '', 'No restored backup was recorded.', ''];
  return [
    '## Backup used',
    '',
    ...table(
      ['URI', 'Size', 'SHA-256', 'Verified', 'Recovery point', 'Step'],
      model.backups.map((backup) => [
        code(backup.uri),
        backup.size === null ? 'unknown' : bytes(backup.size),
        backup.sha256 ? code(backup.sha256) : 'unknown',
        backup.verified === null ? 'unknown' : backup.verified ? 'yes' : '**no**',
        backup.recoveryPoint ? utc(backup.recoveryPoint) : 'unknown',
        backup.step ?? '',
      ]),
    ),
    '',
  ];
}

function validation(model: ReportModel): string[] {
  if (model.validation.length === 0) return ['## Validation', '', 'No validation query was recorded.', ''];
  const failed = model.validation.filter((entry) => !entry.ok).length;
  return [
    '## Validation',
    '',
    failed === 0
      ? `All ${model.validation.length} validation queries passed.`
      : `**${failed} of ${model.validation.length} validation queries failed.**`,
    '',
    ...table(
      ['Step', 'Query', 'Result', 'Detail'],
      model.validation.map((entry) => [
        entry.step ?? '',
        code(entry.query),
        entry.ok ? 'ok' : '**failed**',
        entry.detail ?? '',
      ]),
    ),
    '',
  ];
}

function deviations(model: ReportModel): string[] {
  const out = ['## Deviations', ''];
  if (model.deviations.length === 0) out.push('None: every step ran as the runbook says.');
  for (const deviation of model.deviations)
    out.push(
      `- ${deviation.at ? `${utc(deviation.at)}: ` : ''}**${deviation.kind}**: ${inline(deviation.detail)}`,
    );
  out.push('', '### Facilitator notes', '');
  if (model.notes.length === 0) out.push('None.');
  for (const note of model.notes) {
    const by = [note.author, note.at ? utc(note.at) : undefined].filter(Boolean).join(', ');
    out.push(...quote(note.text), ...(by ? ['>', `> — ${by}`] : []), '');
  }
  out.push('');
  return out;
}

function sectionsAndSteps(model: ReportModel): string[] {
  const rows = model.sections.flatMap((section) =>
    section.steps.map((step) => [
      section.title,
      step.id,
      step.status,
      String(step.attempts.length),
      step.startedAt ? utc(step.startedAt) : '',
      step.durationSeconds === null ? '' : seconds(step.durationSeconds),
      step.summary ?? '',
    ]),
  );
  return [
    '## Sections and steps',
    '',
    ...renderGantt(model),
    '',
    ...(rows.length > 0
      ? table(['Section', 'Step', 'Status', 'Attempts', 'Started (UTC)', 'Elapsed', 'Result'], rows)
      : ['No step ran.']),
    '',
  ];
}

function journal(model: ReportModel): string[] {
  const out = [
    '## Journal',
    '',
    `${model.journal.events} events; ${model.journal.logLines} log lines and previews are in the journal, not repeated in the timeline.`,
  ];
  if (model.journal.damagedLines.length > 0)
    out.push(
      `${model.journal.damagedLines.length} damaged line(s) could not be read: ${model.journal.damagedLines
        .map((line) => line.line)
        .join(', ')}.`,
    );
  out.push('');
  return out;
}

const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** `2026-01-15 10:03:12` (UTC), or the text as given when it is not a time. */
function utc(iso: string): string {
  if (ISO_UTC.test(iso)) return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function seconds(value: number): string {
  if (value < 60) return `${Math.round(value * 10) / 10}s`;
  const minutes = Math.floor(value / 60);
  const rest = Math.round(value - minutes * 60);
  return minutes < 60 ? `${minutes}m ${rest}s` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

function bytes(size: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(1)} ${units[unit]} (${size} bytes)`;
}

/** One line of table cell text: pipes escaped (GFM does this inside code spans too), newlines as <br>. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>');
}

function inline(text: string): string {
  return text.replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  const clean = text.replace(/\r?\n/g, ' ');
  const fence = clean.includes('`') ? '``' : '`';
  return `${fence}${fence.length > 1 ? ' ' : ''}${clean}${fence.length > 1 ? ' ' : ''}${fence}`;
}

function quote(text: string): string[] {
  return text.split(/\r?\n/).map((line) => (line === '' ? '>' : `> ${line}`));
}

function tableRow(cells: readonly string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [tableRow(header), `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(tableRow)];
}
