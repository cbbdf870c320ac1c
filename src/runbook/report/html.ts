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
import type { ReportModel } from './model.js';
import { esc, metricSvg, timelineSvg } from './svg.js';

/**
 * The DR report as one self-contained HTML page: inline CSS and SVG, no script, no external resource,
 * so it opens anywhere and a browser prints it to PDF. Page 1: result, summary, metrics with their
 * bars against the targets, deviations. Then the picture of the session, the evidence and sign-off.
 */
export function renderHtml(model: ReportModel): string {
  return [...htmlChunks(model)].join('');
}

const ROW_BATCH = 1000;

export function* htmlChunks(model: ReportModel): Generator<string> {
  const title = `DR report: ${model.scenario.label} · ${model.session.id}`;
  yield [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${esc(`${model.environment.tool ?? 'db-runbook'} ${model.environment.toolVersion ?? ''}`.trim())}">`,
    `<title>${esc(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    '<main>',
    '<section class="page first">',
    `<header><p class="kind">Disaster recovery report · schema v${model.schemaVersion}</p><h1>${esc(model.scenario.label)}</h1>`,
    `<p class="meta">Session <code>${esc(model.session.id)}</code> · generated ${esc(utc(model.generatedAt))} UTC</p></header>`,
    ...banners(model),
    result(model),
    summary(model),
    metrics(model),
    deviations(model),
    '</section>',
    '<section class="page">',
    '<h2>Timeline</h2>',
    `<p class="note">Each bar is a step attempt (${legend()}); ◆ marks the recovery's points in time. Times in UTC${sessionDay(model) ? ` on ${esc(sessionDay(model) ?? '')}` : ''}; ≈ is a pause left out of the scale.</p>`,
    timelineSvg(model),
    backups(model),
    validation(model),
    notes(model),
    signOff(),
    '</section>',
    '<section class="page">',
    steps(model),
    '<h2>Timeline in detail</h2>',
    '<p class="note">API calls, checks and commands are folded under their step with counts; every event, with its sequence number, is in the JSON report.</p>',
    '<table class="digest"><thead><tr><th>Time</th><th>Step</th><th>What happened</th><th>Outcome</th></tr></thead><tbody>',
  ].join('\n');
  const day = sessionDay(model);
  for (let start = 0; start < model.digest.length; start += ROW_BATCH) {
    yield model.digest
      .slice(start, start + ROW_BATCH)
      .map((row) => {
        const when =
          row.until !== row.at && clockTime(row.until, day) !== clockTime(row.at, day)
            ? `${clockTime(row.at, day)}–${clockTime(row.until, day)}`
            : clockTime(row.at, day);
        return `<tr${row.attention ? ' class="attention"' : ''}><td class="t">${esc(when)}</td><td>${esc(row.step ?? '')}</td><td>${esc(row.action)}</td><td>${esc(row.result ?? '')}</td></tr>`;
      })
      .join('\n');
  }
  yield [
    '</tbody></table>',
    evidence(model),
    `<h2>Next drill</h2><p>Next quarterly restore drill due by <strong>${esc(model.nextDrill.date)}</strong>${model.nextDrill.date < model.generatedAt.slice(0, 10) ? ' <span class="sev-high">overdue</span>' : ''} (${esc(model.nextDrill.basis)}).</p>`,
    '</section>',
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function banners(model: ReportModel): string[] {
  const out: string[] = [];
  if (model.session.outcome === 'in-progress')
    out.push(
      `<p class="banner live"><strong>In progress at ${esc(model.session.lastEventAt ? utc(model.session.lastEventAt).slice(11, 16) : '?')} UTC.</strong> Exported while the session was still running: what happens after that is not in this report.</p>`,
    );
  if (model.environment.sandbox)
    out.push(
      '<p class="banner sandbox"><strong>SANDBOX.</strong> Run against the local sandbox, not production: it shows the procedure works; its times are not production recovery times.</p>',
    );
  return out;
}

function result(model: ReportModel): string {
  return `<div class="result r-${model.result.verdict.toLowerCase().replace(' ', '-')}"><span class="verdict">${esc(model.result.verdict)}</span><ul>${model.result.reasons.map((reason) => `<li>${esc(reason)}</li>`).join('')}</ul></div>`;
}

function summary(model: ReportModel): string {
  const env = model.environment;
  const session = model.session;
  const rows: [string, string][] = [
    ['Scenario', `${model.scenario.label} (${model.scenario.basis})`],
    ['Operator(s)', model.operators.join(', ') || 'unknown'],
    ['Confirmation', CONFIRMATION_TEXT[session.confirmation]],
    [
      'Kubernetes',
      env.kubeContext
        ? `${env.kubeContext}${env.kubeServer ? ` (${env.kubeServer})` : ''}, namespace ${env.namespace ?? 'unknown'}`
        : 'unknown',
    ],
    ['Storage', `${env.bucket ?? 'unknown bucket'} at ${env.s3Endpoint ?? 'AWS S3'}`],
    ['Tool', `${env.tool ?? 'unknown'} ${env.toolVersion ?? ''}${env.host ? ` on ${env.host}` : ''}`.trim()],
    ['Started', session.startedAt ? `${utc(session.startedAt)} UTC` : 'unknown'],
    ['Ended', session.endedAt ? `${utc(session.endedAt)} UTC` : outcomeText(model)],
    ['Outcome', outcomeText(model)],
  ];
  if (session.resumes > 0)
    rows.push(['Resumed', `${session.resumes} time(s): ${session.sessionIds.join(', ')}`]);
  return `<h2>Summary</h2><dl class="summary">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

function verdictBadge(metric: RecoveryMetric): string {
  const cls =
    metric.verdict === 'PASS'
      ? 'pass'
      : metric.verdict === 'FAIL' || metric.verdict === 'recording error'
        ? 'fail'
        : 'unknown';
  return `<span class="badge ${cls}">${esc(metric.verdict)}</span>`;
}

function metrics(model: ReportModel): string {
  if (model.recoveries.length === 0)
    return '<h2>Recovery metrics</h2><p>No database was restored in this session: there is no RPO or RTO to measure.</p>';
  const day = sessionDay(model);
  const blocks = model.recoveries.map((recovery) => {
    const row = (metric: RecoveryMetric) =>
      `<tr><th>${metric.name}</th><td class="num">${esc(metric.achieved)}</td><td class="num">${esc(metric.target ?? 'not set')}</td><td>${verdictBadge(metric)}</td><td>${metricSvg(metric)}${metric.reason ? `<div class="reason">${esc(metric.reason)}</div>` : ''}</td></tr>`;
    const times = TIME_COLUMNS.map(({ key, label }) => {
      const at = recovery.times[key];
      return `<li><span>${esc(label)}</span> ${at ? esc(key === 'recoveryPoint' ? utc(at) : clockTime(at, day)) : '—'}</li>`;
    }).join('');
    return `<div class="recovery"><h3>${esc(recovery.label)}${recovery.complete ? '' : ' <span class="badge unknown">not validated</span>'}</h3><table class="metrics"><thead><tr><th></th><th>Achieved</th><th>Target</th><th>Result</th><th>Against the target</th></tr></thead><tbody>${row(recovery.rpo)}${row(recovery.rto)}</tbody></table><ul class="times">${times}</ul></div>`;
  });
  return `<h2>Recovery metrics</h2><p class="note">RPO = ${esc(METRIC_DEFINITIONS.RPO)}; RTO = ${esc(METRIC_DEFINITIONS.RTO)}. Each recovery is measured from its own marks; targets are rpoTarget/rtoTarget from the values file.</p>${blocks.join('')}`;
}

function deviations(model: ReportModel): string {
  if (model.deviations.length === 0)
    return '<h2>Deviations (0)</h2><p>None: every step ran as the runbook says, and every gate was answered at the prompt.</p>';
  const day = sessionDay(model);
  const rows = model.deviations
    .map(
      (deviation, index) =>
        `<tr><td class="num">${index + 1}</td><td><span class="sev sev-${deviation.severity}">${deviation.severity}</span></td><td class="t">${esc(deviation.at ? clockTime(deviation.at, day) : '')}</td><td><code>${esc(deviation.kind)}</code></td><td>${esc(deviation.detail)}</td></tr>`,
    )
    .join('');
  return `<h2>Deviations (${model.deviations.length})</h2><table class="deviations"><thead><tr><th>#</th><th>Severity</th><th>Time</th><th>Kind</th><th>What happened</th></tr></thead><tbody>${rows}</tbody></table><p class="note">Derived from the journal; the JSON report gives each one's evidence (journal sequence numbers).</p>`;
}

function backups(model: ReportModel): string {
  if (model.backups.length === 0) return '<h2>Backups restored</h2><p>No restored backup was recorded.</p>';
  const rows = model.backups
    .map(
      (backup) =>
        `<tr><td>${esc(model.recoveries.find((r) => r.id === backup.recovery)?.label ?? backup.step ?? '')}</td><td><code>${esc(backup.uri)}</code></td><td>${esc(backup.size === null ? 'unknown' : bytes(backup.size))}</td><td><code class="hash">${esc(backup.sha256 ?? 'unknown')}</code></td><td>${backup.verified === null ? 'unknown' : backup.verified ? 'yes' : '<strong>no</strong>'}</td><td>${esc(backup.provenRestorable ?? 'not recorded')}</td><td>${esc(backup.recoveryPoint ? utc(backup.recoveryPoint) : 'unknown')}</td></tr>`,
    )
    .join('');
  return `<h2>Backups restored</h2><table><thead><tr><th>Recovery</th><th>URI</th><th>Size</th><th>SHA-256</th><th>Verified</th><th>Proven restorable</th><th>Recovery point (UTC)</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function validation(model: ReportModel): string {
  if (model.validation.length === 0) return '<h2>Validation</h2><p>No validation query was recorded.</p>';
  const failed = model.validation.filter((entry) => !entry.ok).length;
  const rows = model.validation
    .map(
      (entry) =>
        `<tr${entry.ok ? '' : ' class="attention"'}><td>${esc(entry.step ?? '')}</td><td><code>${esc(entry.query)}</code></td><td>${entry.ok ? 'ok' : '<strong>failed</strong>'}</td><td>${esc(entry.detail ?? '')}</td></tr>`,
    )
    .join('');
  return `<h2>Validation</h2><p>${failed === 0 ? `All ${model.validation.length} validation queries passed.` : `<strong>${failed} of ${model.validation.length} validation queries failed.</strong>`}</p><table><thead><tr><th>Step</th><th>Query</th><th>Result</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function notes(model: ReportModel): string {
  if (model.notes.length === 0) return '<h2>Facilitator notes</h2><p>None.</p>';
  return `<h2>Facilitator notes</h2>${model.notes
    .map((note) => {
      const by = [note.author, note.at ? `${utc(note.at)} UTC` : undefined].filter(Boolean).join(', ');
      return `<blockquote>${esc(note.text).replace(/\n/g, '<br>')}${by ? `<footer>— ${esc(by)}</footer>` : ''}</blockquote>`;
    })
    .join('')}`;
}

function signOff(): string {
  const rows = SIGN_OFF_ROLES.map(
    (role) =>
      `<tr><td>${esc(role)}</td><td class="line"></td><td class="line"></td><td class="line"></td></tr>`,
  ).join('');
  return `<h2>Sign-off</h2><p class="note">Reviewed the summary, the recovery metrics and every deviation; corrective actions are tracked in the notes or the linked tickets.</p><table class="signoff"><thead><tr><th>Role</th><th>Name</th><th>Signature</th><th>Date</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function steps(model: ReportModel): string {
  const day = sessionDay(model);
  const rows = model.sections
    .flatMap((section) =>
      section.steps.map(
        (step) =>
          `<tr${step.status === 'failed' || step.status === 'interrupted' ? ' class="attention"' : ''}><td>${esc(section.title)}</td><td class="id"><code>${esc(step.id)}</code></td><td>${esc(step.status)}</td><td class="num">${step.attempts.length}</td><td class="t">${esc(step.startedAt ? clockTime(step.startedAt, day) : '')}</td><td class="num">${esc(step.durationSeconds === null ? '' : seconds(step.durationSeconds))}</td><td>${esc(step.summary ?? '')}</td></tr>`,
      ),
    )
    .join('');
  return `<h2>Steps</h2>${rows ? `<table><thead><tr><th>Section</th><th>Step</th><th>Status</th><th>Attempts</th><th>Started</th><th>Elapsed</th><th>Result</th></tr></thead><tbody>${rows}</tbody></table>` : '<p>No step ran.</p>'}`;
}

function evidence(model: ReportModel): string {
  const damaged =
    model.journal.damagedLines.length > 0
      ? ` ${model.journal.damagedLines.length} damaged line(s) could not be read: ${model.journal.damagedLines.map((line) => line.line).join(', ')}.`
      : '';
  return `<h2>Evidence</h2><p>The session journal (<code>${esc(model.session.id)}.jsonl</code>, one JSON event per line, written and flushed as each event happened) holds ${model.journal.events} events; ${model.journal.logLines} log lines and previews are in it and not repeated here. The JSON report lists every event.${esc(damaged)}</p>`;
}

function legend(): string {
  return [
    ['b-done', 'done'],
    ['b-failed', 'failed or interrupted'],
    ['b-refused', 'gate refused'],
    ['b-skipped', 'skipped'],
    ['b-running', 'in progress'],
  ]
    .map(([cls, text]) => `<span class="key ${cls}"></span>${text}`)
    .join(', ');
}

const CSS = `
:root { --ink: #1b1f24; --muted: #57606a; --rule: #d0d7de; --pass: #1a7f37; --fail: #cf222e; --warn: #9a6700; --info: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 2px 0 4px; }
h2 { font-size: 16px; margin: 22px 0 8px; padding-bottom: 3px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 14px; margin: 12px 0 6px; }
.kind { margin: 0; color: var(--muted); text-transform: uppercase; letter-spacing: .06em; font-size: 11px; }
.meta, .note { color: var(--muted); margin: 4px 0 8px; }
code { font: 12px/1.3 ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
td.id, td.id code, table.deviations td:nth-child(4) code { white-space: nowrap; overflow-wrap: normal; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { text-align: left; vertical-align: top; padding: 3px 6px; border-bottom: 1px solid #eaeef2; }
thead th { background: #f6f8fa; border-bottom: 1px solid var(--rule); font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
td.t { white-space: nowrap; font-variant-numeric: tabular-nums; }
dl.summary { display: grid; grid-template-columns: 110px 1fr 110px 1fr; gap: 3px 12px; margin: 6px 0 10px; }
dl.summary dt { color: var(--muted); }
dl.summary dd { margin: 0; overflow-wrap: anywhere; }
tr.attention td { background: #fff5f5; }
.banner { padding: 8px 12px; border-radius: 6px; margin: 8px 0; }
.banner.live { background: #ddf4ff; border: 1px solid #54aeff; }
.banner.sandbox { background: #fff8c5; border: 1px solid #d4a72c; }
.result { display: flex; gap: 16px; align-items: center; border: 1px solid var(--rule); border-left-width: 6px; border-radius: 6px; padding: 8px 14px; margin: 10px 0; }
.result .verdict { font-size: 20px; font-weight: 700; min-width: 120px; }
.result ul { margin: 0; padding-left: 18px; }
.r-pass { border-left-color: var(--pass); } .r-pass .verdict { color: var(--pass); }
.r-fail { border-left-color: var(--fail); } .r-fail .verdict { color: var(--fail); }
.r-incomplete, .r-not-measured { border-left-color: var(--warn); } .r-incomplete .verdict, .r-not-measured .verdict { color: var(--warn); }
.recovery { border: 1px solid var(--rule); border-radius: 6px; padding: 4px 12px 8px; margin: 8px 0; break-inside: avoid; }
table.metrics th:first-child { width: 40px; }
table.metrics td { vertical-align: middle; }
.reason { color: var(--muted); font-size: 12px; max-width: 470px; }
ul.times { list-style: none; padding: 0; margin: 4px 0 0; display: flex; flex-wrap: wrap; gap: 4px 18px; font-variant-numeric: tabular-nums; }
ul.times span { color: var(--muted); }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 11px; font-weight: 700; border: 1px solid; white-space: nowrap; }
.badge.pass { color: var(--pass); border-color: var(--pass); }
.badge.fail { color: var(--fail); border-color: var(--fail); }
.badge.unknown { color: var(--warn); border-color: var(--warn); }
.sev { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 11px; font-weight: 600; color: #fff; }
.sev-high { background: var(--fail); color: #fff; padding: 0 6px; border-radius: 3px; }
.sev-medium { background: var(--warn); }
.sev-low { background: var(--info); }
.sev-info { background: var(--muted); }
svg.metric { display: block; }
.m-track { fill: #f0f2f4; }
.m-pass { fill: var(--pass); } .m-fail { fill: var(--fail); } .m-none { fill: var(--info); }
.m-unknown { fill: #eaeef2; stroke: var(--warn); stroke-dasharray: 4 3; }
.m-text { font-size: 11px; fill: var(--warn); }
.m-target { stroke: var(--ink); stroke-width: 2; stroke-dasharray: 3 2; }
.m-tlabel { font-size: 10px; fill: var(--ink); }
svg.timeline { display: block; margin: 6px 0 12px; border: 1px solid var(--rule); border-radius: 6px; background: #fff; }
svg.timeline text { font-family: system-ui, "DejaVu Sans", sans-serif; }
.lane { font-size: 12px; font-weight: 700; fill: var(--ink); }
.lane-rule { stroke: var(--rule); }
.step { font-size: 11px; fill: var(--muted); }
.tick { font-size: 10px; fill: var(--muted); }
.axis { stroke: var(--muted); }
.grid { stroke: #eef1f4; }
.gap { fill: #f6f8fa; }
.break { font-size: 14px; fill: var(--muted); }
.b-done { fill: var(--pass); }
.b-failed { fill: var(--fail); }
.b-refused { fill: #fff; stroke: var(--fail); stroke-width: 1.5; stroke-dasharray: 3 2; }
.b-skipped { fill: #afb8c1; }
.b-running { fill: var(--info); }
.milestone { fill: var(--ink); }
.mlabel { font-size: 11px; fill: var(--ink); }
.key { display: inline-block; width: 14px; height: 9px; margin: 0 4px 0 2px; border-radius: 2px; vertical-align: baseline; }
.key.b-done { background: var(--pass); } .key.b-failed { background: var(--fail); } .key.b-refused { border: 1.5px dashed var(--fail); }
.key.b-skipped { background: #afb8c1; } .key.b-running { background: var(--info); }
blockquote { margin: 6px 0; padding: 4px 12px; border-left: 3px solid var(--rule); color: var(--ink); }
blockquote footer { color: var(--muted); font-size: 12px; }
table.signoff td.line { height: 34px; border-bottom: 1px solid var(--ink); width: 24%; }
table.digest td { font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 9.5px; line-height: 1.35; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h1 { font-size: 18px; }
  h2 { font-size: 13px; margin: 10px 0 4px; }
  h3 { font-size: 11px; margin: 4px 0 2px; }
  th, td { padding: 1px 4px; }
  code { font-size: 9px; }
  .result { padding: 4px 10px; margin: 6px 0; }
  .result .verdict { font-size: 15px; }
  .banner { padding: 4px 8px; margin: 4px 0; }
  .recovery { padding: 2px 8px 4px; margin: 4px 0; }
  .reason { font-size: 8.5px; }
  svg.metric { width: 300px; height: 26px; }
  table.deviations td:nth-child(4) code { white-space: normal; overflow-wrap: anywhere; }
  main { max-width: none; padding: 0; }
  .page { break-before: page; }
  .page.first { break-before: auto; }
  h2, h3 { break-after: avoid; }
  tr, .recovery, svg, blockquote { break-inside: avoid; }
  thead { display: table-header-group; }
}
`;
