// DR reports of real sandbox sessions (test/fixtures/report/README.md): per-recovery figures equal to
// what the steps printed, every deviation kind derived from the journal, a live export, readable layout.
import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/runbook/journal.js';
import { buildReport, renderMarkdown, type ReportModel } from '../../src/runbook/report/index.js';
import { metricLine } from '../../src/steps/kit/recovery-figures.js';
import { FIXED_NOW, SANDBOX_SETTINGS, sandboxJournal } from './report-fixture.js';

type Check = Extract<JournalEvent, { type: 'check' }>;
type Result = Extract<JournalEvent, { type: 'result' }>;

function report(name: Parameters<typeof sandboxJournal>[0], options: { live?: boolean; cut?: number } = {}) {
  const { events, damaged } = sandboxJournal(name);
  return buildReport(options.cut === undefined ? events : events.slice(0, options.cut), {
    damaged,
    settings: SANDBOX_SETTINGS,
    now: FIXED_NOW,
    live: options.live,
  });
}

function checksOf(events: readonly JournalEvent[], step: string): Check[] {
  return events.filter((event): event is Check => event.type === 'check' && event.step === step);
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`## ${heading}`);
  expect(start, `section ${heading}`).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

describe('a TUI session that restored PostgreSQL (incident 30m ago) and then ran the drill', () => {
  const { events } = sandboxJournal('sandbox-restore-drill');
  const model = report('sandbox-restore-drill');
  const markdown = renderMarkdown(model);

  it('has one recovery per scenario, each with its own incident, recovery point, restore and validation', () => {
    expect(model.recoveries.map((recovery) => recovery.id)).toEqual([
      'incident-restore/postgres',
      'drill/postgres',
    ]);
    const [restore, drill] = model.recoveries as [ReportModel['recoveries'][0], ReportModel['recoveries'][0]];
    const markOf = (step: string, name: string) =>
      events.find((event) => event.type === 'mark' && event.step === step && event.name === name);
    const at = (step: string, name: string) => {
      const mark = markOf(step, name);
      return mark?.type === 'mark' ? ((mark.data?.at as string | undefined) ?? mark.at) : undefined;
    };
    expect(restore.times.incidentDeclared).toBe(at('restore-postgres.incident', 'incident-declared'));
    expect(restore.times.validated).toBe(at('restore-postgres.validate', 'validated'));
    expect(drill.times.incidentDeclared).toBe(at('dr-validation.incident', 'incident-declared'));
    expect(drill.times.restoreDone).toBe(at('dr-validation.restore', 'restore-done'));
    expect(drill.times.validated).toBe(at('dr-validation.smoke', 'validated'));
    expect(drill.database).toMatch(/_drill_/);
    expect(restore.complete && drill.complete).toBe(true);
  });

  it('shows each figure exactly as the step that measured it printed it', () => {
    const [restore, drill] = model.recoveries;
    const validate = checksOf(events, 'restore-postgres.validate');
    expect(validate.find((check) => check.id === 'rto')?.detail).toBe(metricLine(restore!.rto));
    expect(validate.find((check) => check.id === 'rpo')?.detail).toBe(metricLine(restore!.rpo));
    const drillChecks = checksOf(events, 'dr-validation.report');
    expect(drillChecks.find((check) => check.id === 'rto:postgres')?.detail).toBe(metricLine(drill!.rto));
    expect(drillChecks.find((check) => check.id === 'rpo:postgres')?.detail).toBe(metricLine(drill!.rpo));
    const printed = events.find(
      (event): event is Result => event.type === 'result' && event.step === 'dr-validation.report',
    );
    expect(printed?.summary).toContain(`RTO ${drill!.rto.achieved}, RPO ${drill!.rpo.achieved};`);
    // The same figures in the report's metrics table.
    expect(section(markdown, 'Recovery metrics')).toContain(
      `| ${drill!.label} | ${drill!.rpo.achieved} | 24h | **PASS** | ${drill!.rto.achieved} | 1h | **PASS** |`,
    );
  });

  it('reports the restore of a backup taken after the incident: RPO a recording error, never negative', () => {
    const restore = model.recoveries[0]!;
    expect(restore.rpo).toMatchObject({ verdict: 'recording error', achievedSeconds: null });
    expect(restore.rto.verdict).toBe('PASS');
    expect(markdown).not.toMatch(/\| -\d/);
    expect(model.result.verdict).toBe('INCOMPLETE');
  });

  it('lists the deviations the facilitator saw: backup after the incident, wrong phrase, scratch database left, drop refused, sandbox, warning', () => {
    expect(model.deviations.map((deviation) => deviation.kind)).toEqual([
      'stand-in',
      'warning',
      'wrong-phrase',
      'backup-newer-than-incident',
      'left-behind',
      'gate-refused',
    ]);
    const deviations = section(markdown, 'Deviations');
    expect(deviations).toMatch(
      /\| wrong-phrase \| restore-postgres\.stop-writes: 1 wrong phrase typed .*differs only in letter case; the text is not recorded\), then the gate was accepted \|/,
    );
    expect(deviations).toMatch(
      /\| left-behind \| scratch database app_drill_\d{8} \(PostgreSQL 127\.0\.0\.1:\d+\), created by dr-validation\.restore, was not removed/,
    );
    expect(deviations).toMatch(
      /\| gate-refused \| dr-validation\.drop-scratch: confirm gate refused by the operator/,
    );
    expect(deviations).toMatch(
      /\| warning \| restore-postgres\.choose ended ✓ with a warning: data-loss window: none: the backup started .* AFTER the incident/,
    );
    // The wrong text itself is nowhere.
    expect(JSON.stringify(events)).not.toContain('"App"');
  });

  it('puts the summary, the metrics and the deviations first, then the evidence and the folded timeline', () => {
    const order = [
      '## Summary',
      '## Recovery metrics',
      '## Deviations',
      '## Backups restored',
      '## Sign-off',
      '## Steps',
      '## Timeline',
    ];
    const positions = order.map((heading) => markdown.indexOf(heading));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const timeline = section(markdown, 'Timeline');
    expect(timeline).toContain('| prerequisites.cluster | 14 permission checks | all allowed |');
    expect(timeline).toMatch(
      /\| configure\.storage-secret \| 1 Kubernetes API call: GET secrets \| 1 not found \(does not exist yet\) \|/,
    );
    const rows = timeline.split('\n').filter((line) => line.startsWith('| 09:'));
    expect(rows.length).toBeLessThan(events.length / 2);
    rows.slice(1).forEach((row, index) => expect(row).not.toBe(rows[index]));
    expect(markdown.split('\n').length).toBeLessThan(500);
  });

  it('draws a gantt with one section per scenario, the refused drop as crit, and the incident 30m before it in words', () => {
    const gantt = /```mermaid\ngantt\n([\s\S]*?)```/.exec(markdown)?.[1] ?? '';
    expect([...gantt.matchAll(/section (.+)\n/g)].map((match) => match[1])).toEqual([
      'Setup',
      'Synthetic data test',
      'Incident restore',
      'DR drill',
    ]);
    expect(gantt).toContain('axisFormat %H:%M:%S\n');
    expect(gantt).toMatch(/dr-validation\.drop-scratch \(gate refused\) :crit, t\d+, /);
    expect(gantt).not.toMatch(/active/);
    const incident = model.recoveries[0]!.times.incidentDeclared!;
    expect(markdown).toContain(
      `Outside the chart: Incident declared (Incident restore) at ${incident.slice(0, 10)} ${incident.slice(11, 19)} UTC.`,
    );
  });
});

describe('the same session exported with x while it was still running', () => {
  const { events } = sandboxJournal('sandbox-restore-drill');
  const exported = events.findIndex((event) => event.type === 'mark' && event.name === 'report-exported');
  const model = report('sandbox-restore-drill', { cut: exported, live: true });
  const markdown = renderMarkdown(model);

  it('says "in progress at HH:MM", never interrupted or unfinished', () => {
    expect(exported).toBeGreaterThan(0);
    expect(model.session.outcome).toBe('in-progress');
    const hhmm = events[exported - 1]!.ts.slice(11, 16);
    expect(markdown).toContain(`> **In progress at ${hhmm} UTC.**`);
    expect(section(markdown, 'Summary')).toContain(
      `| Outcome | in progress at ${hhmm} UTC (exported before the session ended) |`,
    );
    expect(model.deviations.at(-1)).toMatchObject({ kind: 'session-in-progress', severity: 'info' });
    expect(markdown).not.toMatch(/interrupted|unfinished/i);
  });

  it('has the same recoveries and figures as the final report', () => {
    const final = report('sandbox-restore-drill');
    expect(model.recoveries).toEqual(final.recoveries);
  });

  it('read after the session ended (process gone), the same journal says it stopped without an end record', () => {
    expect(report('sandbox-restore-drill', { cut: exported }).session.outcome).toBe('no-end-record');
  });
});

describe('sessions with every kind of deviation', () => {
  const model = report('sandbox-deviations');
  const kinds = new Set(model.deviations.map((deviation) => deviation.kind));

  it('derives each kind from the journal, with the events it came from', () => {
    for (const kind of [
      'backup-newer-than-incident',
      'failed-step',
      'interrupted-step',
      'retried-step',
      'skipped-step',
      'gate-refused',
      'wrong-phrase',
      'overridden-gate',
      'recorded-deviation',
      'non-interactive-confirmation',
      'warning',
      'left-behind',
      'stand-in',
      'session-interrupted',
      'session-no-end-record',
      'damaged-journal-line',
      'metric-problem',
    ] as const)
      expect(kinds, kind).toContain(kind);
    for (const deviation of model.deviations.filter(
      (d) => d.kind !== 'damaged-journal-line' && d.kind !== 'metric-problem',
    ))
      expect(deviation.evidence.length, deviation.kind).toBeGreaterThan(0);
  });

  it('records --yes as non-interactive confirmation, not as an operator who confirmed', () => {
    const flagged = model.deviations.filter((d) => d.kind === 'non-interactive-confirmation');
    expect(flagged[0]?.detail).toMatch(
      /^2 gates were passed by --yes --confirm \(non-interactive: no person was asked at the time\): restore-postgres\.stop-writes \(typed\)/,
    );
    expect(model.session.confirmation).toBe('mixed');
    const resumed = model.sections
      .flatMap((s) => s.steps)
      .find((step) => step.id === 'restore-postgres.resume-writes');
    expect(resumed?.summary).toMatch(/^writes resumed \(non-interactive: --yes, no person confirmed it at /);
    expect(renderMarkdown(model)).not.toContain('confirmed by the operator');
  });

  it('tells a wrong --confirm by its length and where it differs, not by its text', () => {
    const wrong = model.deviations.find((d) => d.kind === 'wrong-phrase');
    expect(wrong?.detail).toBe(
      'restore-postgres.stop-writes: 1 wrong phrase given with --confirm at the typed gate (3 characters for 3, differs only in letter case; the text is not recorded), then the gate was refused',
    );
  });

  it('lists what was left behind: the Jobs the killed and the uncleaned tests created', () => {
    expect(model.deviations.filter((d) => d.kind === 'left-behind').map((d) => d.detail)).toEqual([
      'Job postgres-backup-test (namespace data), created by test-postgres.trigger, was not removed in this session',
      'Job neo4j-backup-test (namespace data), created by test-neo4j.trigger, was not removed in this session',
    ]);
  });

  it('exported live, the open end is in progress instead of a stop', () => {
    const live = report('sandbox-deviations', { live: true });
    const kindsLive = live.deviations.map((d) => d.kind);
    expect(kindsLive).toContain('session-in-progress');
    expect(kindsLive).not.toContain('session-no-end-record');
    expect(kindsLive.filter((kind) => kind === 'interrupted-step')).toHaveLength(0);
  });
});
