import type { RecoveryMetric } from '../metrics.js';
import {
  bytes,
  clockTime,
  CONFIRMATION_TEXT,
  METRIC_DEFINITIONS,
  outcomeText,
  seconds,
  sessionDay,
  SIGN_OFF_ROLES,
  TIME_COLUMNS,
  utc,
} from './format.js';
import { renderGantt } from './gantt.js';
import type { ReportModel } from './model.js';

/**
 * The DR report as Markdown. The first page is what an auditor signs off on: the summary, the
 * recovery metrics per recovery, and the deviations. The evidence follows: backups, validation,
 * notes, sign-off lines, the steps with a Mermaid gantt, and the timeline with API calls and checks
 * folded under their step. Every event stays in the JSON form.
 */
export function renderMarkdown(model: ReportModel): string {
  return [...markdownChunks(model)].join('');
}

const TIMELINE_BATCH = 2000;

/** The same Markdown in pieces, so a long timeline can be written out without one huge string. */
export function* markdownChunks(model: ReportModel): Generator<string> {
  const head = [
    `# DR report: ${model.scenario.label}`,
    '',
    ...banner(model),
    `Session \`${model.session.id}\` · generated ${utc(model.generatedAt)} UTC · report schema v${model.schemaVersion}`,
    '',
    ...summary(model),
    ...metrics(model),
    ...deviations(model),
    '---',
    '',
    ...backups(model),
    ...validation(model),
    ...notes(model),
    ...signOff(),
    ...steps(model),
    '## Timeline',
    '',
    `Times in UTC${sessionDay(model) ? ` on ${sessionDay(model)}` : ''}. API calls, checks and commands are folded under their step with counts; every event, with its sequence number, is in the JSON report.`,
    '',
    ...table(['Time', 'Step', 'What happened', 'Outcome'], []),
  ];
  yield `${head.join('\n')}\n`;
  const day = sessionDay(model);
  for (let start = 0; start < model.digest.length; start += TIMELINE_BATCH) {
    const rows = model.digest.slice(start, start + TIMELINE_BATCH).map((row) => {
      const when =
        row.until !== row.at && clockTime(row.until, day) !== clockTime(row.at, day)
          ? `${clockTime(row.at, day)}–${clockTime(row.until, day)}`
          : clockTime(row.at, day);
      const outcome = row.result ?? '';
      return tableRow([
        when,
        row.step ?? '',
        row.action,
        row.attention ? `**${outcome || 'attention'}**` : outcome,
      ]);
    });
    yield `${rows.join('\n')}\n`;
  }
  const tail = ['', ...journal(model), '## Next drill', '', nextDrill(model), ''];
  yield tail.join('\n');
}

function banner(model: ReportModel): string[] {
  const lines: string[] = [];
  if (model.session.outcome === 'in-progress')
    lines.push(
      `> **In progress at ${model.session.lastEventAt ? utc(model.session.lastEventAt).slice(11, 16) : '?'} UTC.** This report was exported while the session was still running; what happens after that is not in it. Export again after the session ends for the final record.`,
      '',
    );
  if (model.environment.sandbox)
    lines.push(
      '> **SANDBOX.** This session ran against the local sandbox, not production: it shows the procedure works; its times are not production recovery times.',
      '',
    );
  return lines;
}

function summary(model: ReportModel): string[] {
  const env = model.environment;
  const session = model.session;
  const high = model.deviations.filter((deviation) => deviation.severity === 'high').length;
  const context = env.kubeContext
    ? `${env.kubeContext}${env.kubeServer ? ` (${env.kubeServer})` : ''}${env.sandbox ? ' [sandbox]' : ''}`
    : 'unknown';
  const rows: [string, string][] = [
    ['Result', `**${model.result.verdict}**: ${model.result.reasons.join('; ')}`],
    ['Scenario', `${model.scenario.label} (${model.scenario.basis})`],
    ['Recoveries', model.recoveries.length > 0 ? model.recoveries.map((r) => r.label).join('; ') : 'none'],
    ['Deviations', `${model.deviations.length}${high > 0 ? ` (${high} high severity)` : ''}`],
    ['Operator(s)', model.operators.length > 0 ? model.operators.join(', ') : 'unknown'],
    ['Confirmation', CONFIRMATION_TEXT[session.confirmation]],
    ['Kubernetes context', context],
    ['Namespace', env.namespace ?? 'unknown'],
    ['S3 endpoint', env.s3Endpoint ?? 'AWS S3 (default endpoint)'],
    ['S3 bucket', env.bucket ?? 'unknown'],
    ['Tool', env.tool ? `${env.tool} ${env.toolVersion ?? ''}`.trim() : 'unknown'],
    ...(env.host ? [['Host', env.host] as [string, string]] : []),
    ['Started', session.startedAt ? `${utc(session.startedAt)} UTC` : 'unknown'],
    ['Ended', session.endedAt ? `${utc(session.endedAt)} UTC` : outcomeText(model)],
    ['Outcome', outcomeText(model)],
  ];
  if (session.resumes > 0) rows.push(['Resumed', `${session.resumes} time(s)`]);
  if (session.sessionIds.length > 1) rows.push(['Session ids', session.sessionIds.map(code).join(', ')]);
  return ['## Summary', '', ...table(['Field', 'Value'], rows), ''];
}

function verdictCell(metric: RecoveryMetric): string {
  return metric.verdict === 'PASS' || metric.verdict === 'FAIL' || metric.verdict === 'recording error'
    ? `**${metric.verdict}**`
    : metric.verdict;
}

function metrics(model: ReportModel): string[] {
  const out = ['## Recovery metrics', ''];
  if (model.recoveries.length === 0) {
    out.push('No database was restored in this session: there is no RPO or RTO to measure.', '');
    return out;
  }
  out.push(
    ...table(
      ['Recovery', 'RPO achieved', 'RPO target', 'RPO', 'RTO achieved', 'RTO target', 'RTO'],
      model.recoveries.map((recovery) => [
        recovery.label,
        recovery.rpo.achieved,
        recovery.rpo.target ?? 'not set',
        verdictCell(recovery.rpo),
        recovery.rto.achieved,
        recovery.rto.target ?? 'not set',
        verdictCell(recovery.rto),
      ]),
    ),
    '',
    `RPO = ${METRIC_DEFINITIONS.RPO}; RTO = ${METRIC_DEFINITIONS.RTO}. Each recovery is measured from its own marks. Targets: \`rpoTarget\`/\`rtoTarget\` in the values file.`,
    '',
  );
  const reasons = model.recoveries.flatMap((recovery) =>
    [recovery.rpo, recovery.rto]
      .filter((metric) => metric.reason !== null)
      .map((metric) => `- ${recovery.label}, ${metric.name}: ${inline(metric.reason ?? '')}`),
  );
  if (reasons.length > 0) out.push(...reasons, '');
  const day = sessionDay(model);
  out.push(
    '### Points in time (UTC)',
    '',
    ...table(
      ['Recovery', ...TIME_COLUMNS.map((column) => column.label)],
      model.recoveries.map((recovery) => [
        recovery.label,
        ...TIME_COLUMNS.map(({ key }) => {
          const at = recovery.times[key];
          return at ? (key === 'recoveryPoint' ? utc(at) : clockTime(at, day)) : '—';
        }),
      ]),
    ),
    '',
  );
  return out;
}

function deviations(model: ReportModel): string[] {
  const out = [`## Deviations (${model.deviations.length})`, ''];
  if (model.deviations.length === 0) {
    out.push('None: every step ran as the runbook says, and every gate was answered at the prompt.', '');
    return out;
  }
  const day = sessionDay(model);
  out.push(
    ...table(
      ['#', 'Severity', 'Time (UTC)', 'Kind', 'What happened'],
      model.deviations.map((deviation, index) => [
        String(index + 1),
        deviation.severity === 'high' ? '**high**' : deviation.severity,
        deviation.at ? clockTime(deviation.at, day) : '',
        deviation.kind,
        deviation.detail,
      ]),
    ),
    '',
    'Derived from the journal. Evidence (journal sequence numbers) for each is in the JSON report.',
    '',
  );
  return out;
}

function backups(model: ReportModel): string[] {
  if (model.backups.length === 0) return ['## Backups restored', '', 'No restored backup was recorded.', ''];
  return [
    '## Backups restored',
    '',
    ...table(
      ['Recovery', 'URI', 'Size', 'SHA-256', 'Verified', 'Proven restorable', 'Recovery point (UTC)'],
      model.backups.map((backup) => [
        model.recoveries.find((recovery) => recovery.id === backup.recovery)?.label ?? backup.step ?? '',
        code(backup.uri),
        backup.size === null ? 'unknown' : bytes(backup.size),
        backup.sha256 ? code(backup.sha256) : 'unknown',
        backup.verified === null ? 'unknown' : backup.verified ? 'yes' : '**no**',
        backup.provenRestorable ?? 'not recorded',
        backup.recoveryPoint ? utc(backup.recoveryPoint) : 'unknown',
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

function notes(model: ReportModel): string[] {
  const out = ['## Facilitator notes', ''];
  if (model.notes.length === 0) out.push('None.', '');
  for (const note of model.notes) {
    const by = [note.author, note.at ? `${utc(note.at)} UTC` : undefined].filter(Boolean).join(', ');
    out.push(...quote(note.text), ...(by ? ['>', `> — ${by}`] : []), '');
  }
  return out;
}

function signOff(): string[] {
  return [
    '## Sign-off',
    '',
    'Reviewed the summary, the recovery metrics and every deviation above; corrective actions are tracked in the facilitator notes or the linked tickets.',
    '',
    ...table(
      ['Role', 'Name', 'Signature', 'Date'],
      SIGN_OFF_ROLES.map((role) => [role, ' ', ' ', ' ']),
    ),
    '',
  ];
}

function steps(model: ReportModel): string[] {
  const day = sessionDay(model);
  const rows = model.sections.flatMap((section) =>
    section.steps.map((step) => [
      section.title,
      step.id,
      step.status,
      String(step.attempts.length),
      step.startedAt ? clockTime(step.startedAt, day) : '',
      step.durationSeconds === null ? '' : seconds(step.durationSeconds),
      step.summary ?? '',
    ]),
  );
  return [
    '## Steps',
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
    '## Evidence',
    '',
    `The session journal (\`${model.session.id}.jsonl\`, one JSON event per line, written and flushed as each event happened) holds ${model.journal.events} events; ${model.journal.logLines} log lines and previews are in it and not repeated here. The JSON report lists every event.`,
  ];
  if (model.journal.damagedLines.length > 0)
    out.push(
      '',
      `${model.journal.damagedLines.length} damaged line(s) could not be read: ${model.journal.damagedLines
        .map((line) => line.line)
        .join(', ')}.`,
    );
  out.push('');
  return out;
}

function nextDrill(model: ReportModel): string {
  const overdue = model.nextDrill.date < model.generatedAt.slice(0, 10) ? ' (overdue)' : '';
  return `Next quarterly restore drill due by **${model.nextDrill.date}**${overdue} (${model.nextDrill.basis}).`;
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
