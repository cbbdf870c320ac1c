import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../src/runbook/journal.js';
import { MARK } from '../../src/runbook/marks.js';
import { addMonthsUtc, buildReport, renderJson, renderMarkdown } from '../../src/runbook/report/index.js';
import { drillFixture, drillJournal, drillJournalText, FIXED_NOW } from './report-fixture.js';

function drillReport(extra: Parameters<typeof buildReport>[1] = {}) {
  const { events, damaged } = drillJournal();
  return buildReport(events, {
    damaged,
    settings: drillFixture.settings,
    secrets: drillFixture.secrets,
    now: FIXED_NOW,
    ...extra,
  });
}

function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`## ${heading}\n`);
  expect(start, `section ${heading}`).toBeGreaterThanOrEqual(0);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

describe('the DR report of a drill killed mid-restore and resumed', () => {
  const markdown = renderMarkdown(
    drillReport({ notes: 'Pre-pull the backup image next quarter.', operator: 'carol' }),
  );

  it('has the summary an incident commander hands on', () => {
    const summary = section(markdown, 'Summary');
    expect(summary).toContain('| Operator(s) | carol |');
    expect(summary).toContain('dr-drill-eu1 (https://10.20.0.1:6443)');
    expect(summary).toContain('| Namespace | data |');
    expect(summary).toContain('| S3 endpoint | https://minio.dr.internal:9000 |');
    expect(summary).toContain('| S3 bucket | acme-db-backups |');
    expect(summary).toContain('| Tool | db-runbook 0.1.0 |');
    expect(summary).toContain('| Started | 2026-01-15 10:00:00 UTC |');
    expect(summary).toContain('| Ended | 2026-01-15 11:56:30 UTC |');
    expect(summary).toContain(
      '| Result | **FAIL**: Incident restore · PostgreSQL: RTO 2h 15m is over its target 2h',
    );
    expect(summary).toContain(
      '| Confirmation | gates passed by --yes/--confirm: nobody was asked at the time |',
    );
    expect(summary).toContain('| Outcome | done (exit 0) |');
    expect(summary).toContain('| Resumed | 1 time(s) |');
  });

  it('names the operators the journal recorded when --operator is not given', () => {
    expect(drillReport().operators).toEqual(['alice', 'bob']);
  });

  it('has RPO PASS and RTO FAIL against the fixture targets, with every point in time', () => {
    const metrics = section(markdown, 'Recovery metrics');
    expect(metrics).toContain(
      '| Incident restore · PostgreSQL | 7h 39m 55s | 24h | **PASS** | 2h 15m | 2h | **FAIL** |',
    );
    // The restore was started twice (killed, resumed): it counts from the first start.
    expect(metrics).toContain(
      '| Incident restore · PostgreSQL | 09:40:00 | 2026-01-15 02:00:05 | 10:14:40 | 10:58:40 | 11:47:13 | 11:55:00 |',
    );
  });

  it('passes RTO against a 4h target', () => {
    const model = drillReport({ settings: { rpoTarget: '24h', rtoTarget: '4h' } });
    expect(model.recoveries[0]?.rto.verdict).toBe('PASS');
  });

  it('names the backup used and the validation queries with their results', () => {
    expect(section(markdown, 'Backups restored')).toContain(
      '| Incident restore · PostgreSQL | `s3://acme-db-backups/postgres/2026-01-15T020005Z.sql.gz` | 1.7 GiB (1843212288 bytes) | `9f2c1e4b7a0d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5a6` | yes | not recorded | 2026-01-15 02:00:05 |',
    );
    const validation = section(markdown, 'Validation');
    expect(validation).toContain('All 3 validation queries passed.');
    expect(validation).toContain(
      '| restore-postgres.validate | `SELECT count(*) FROM orders` | ok | 1204331 rows |',
    );
  });

  it('lists the deviations: skipped, retried, the kill, the overridden gate, --yes, the Job left behind, the damaged line', () => {
    const deviations = section(markdown, 'Deviations (10)');
    expect(deviations).toMatch(/\| skipped-step \| configure\.service-account skipped/);
    expect(deviations).toMatch(
      /\| retried-step \| test-postgres\.trigger-job ran 2 times: 1\. failed \(job postgres-backup-test did not finish within 5m\); 2\. done \|/,
    );
    expect(deviations).toMatch(
      /\| retried-step \| restore-postgres\.restore ran 2 times: 1\. interrupted; 2\. done \|/,
    );
    expect(deviations).toMatch(
      /\| \*\*high\*\* \| 10:31:10 \| session-interrupted \| .*killed\?.*resumed at 2026-01-15T10:42:00/,
    );
    expect(deviations).toMatch(/\| overridden-gate \| restore-postgres\.restore: typed gate overridden/);
    expect(deviations).toMatch(
      /\| non-interactive-confirmation \| 2 gates were passed by --yes \(non-interactive/,
    );
    expect(deviations).toMatch(
      /\| left-behind \| Job postgres-backup-test \(namespace data\), created by test-postgres\.trigger-job/,
    );
    expect(deviations).toMatch(/\| damaged-journal-line \| journal line 83 /);
    // A failure that a later attempt fixed is told once, in the retried row.
    expect(deviations).not.toMatch(/failed-step/);
    const notes = section(markdown, 'Facilitator notes');
    expect(notes).toContain('> Image pull failed: registry mirror was down');
    expect(notes).toContain('> Pre-pull the backup image next quarter.');
    expect(notes).toContain('> — carol');
  });

  it('has a Mermaid gantt: one section per scenario, scaled to the session, failures crit, the recovery milestones', () => {
    const gantt = /```mermaid\ngantt\n([\s\S]*?)```/.exec(markdown)?.[1] ?? '';
    expect(gantt).toContain('dateFormat YYYY-MM-DD HH:mm:ss');
    expect(gantt).toContain('axisFormat %H:%M\n');
    expect(gantt).toContain('tickInterval 15minute\n');
    expect(gantt).toContain('todayMarker off\n');
    const sections = [...gantt.matchAll(/section (.+)\n/g)].map((match) => match[1]);
    expect(sections).toEqual(['Setup', 'Synthetic data test', 'Incident restore']);
    expect(gantt).toContain(
      'restore-postgres.restore (attempt 1) (interrupted) :crit, t12, 2026-01-15 10:14:10, 2026-01-15 10:31:10',
    );
    expect(gantt).toContain(
      'restore-postgres.restore (attempt 2) :done, t13, 2026-01-15 10:42:01, 2026-01-15 11:47:13',
    );
    expect(gantt).toContain('configure.service-account (skipped) :t4, ');
    expect(gantt).toContain('Incident declared :milestone, m15, 2026-01-15 09:40:00, 0d');
    expect(gantt).toContain('Validated :milestone, m18, 2026-01-15 11:55:00, 0d');
    expect(gantt).not.toMatch(/active/);
    // A one-second step is drawn at 1/120 of the chart (58 s here), never as a sliver.
    expect(gantt).toContain('configure.storage-secret :done, t1, 2026-01-15 10:00:01, 2026-01-15 10:00:59');
    const taskLines = gantt.split('\n').filter((line) => / :/.test(line));
    for (const line of taskLines)
      expect(line).toMatch(
        /^ {4}[^:#;]+ :(?:(?:done|crit|milestone), )*[tm]\d+, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, (?:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|0d)$/,
      );
  });

  it('has a timeline in UTC with API calls and checks folded under their step, and keeps log lines out of it', () => {
    const timeline = section(markdown, 'Timeline');
    const rows = timeline.split('\n').filter((line) => /^\| \d\d:\d\d/.test(line));
    const { events } = drillJournal();
    expect(rows.length).toBeLessThan(events.length);
    expect(rows[0]).toMatch(/^\| 10:00:00 \| {2}\| session started \(run\) by alice/);
    expect(timeline).toContain(
      '| 10:00:01 | configure.storage-secret | 1 Kubernetes API call: PATCH secrets | succeeded |',
    );
    expect(timeline).toContain(
      '| restore-postgres.restore | typed gate: Type "orders@pg-restore.data.svc.cluster.local"',
    );
    expect(timeline).toContain('| **overridden (deviation)** |');
    expect(timeline).not.toContain('downloading s3://');
    expect(new Set(rows).size).toBe(rows.length);
  });

  it('gives the next quarterly drill date', () => {
    expect(section(markdown, 'Next drill')).toContain('**2026-04-15**');
    const late = renderMarkdown(drillReport({ now: new Date('2026-05-01T00:00:00Z') }));
    expect(section(late, 'Next drill')).toContain('**2026-04-15** (overdue)');
    expect(section(markdown, 'Next drill')).not.toContain('overdue');
  });

  it('contains none of the secrets, even those that leaked into the journal', () => {
    const raw = drillJournalText();
    // The fixture leaks two of them on purpose (a command line, a note): the report must mask them again.
    expect(raw).toContain('pg-Fixture-p4ss');
    expect(raw).toContain('AKIAFIXTURE0EXAMPLE');
    const json = renderJson(drillReport({ notes: `the key was ${drillFixture.secrets[1]}` }));
    for (const secret of drillFixture.secrets) {
      expect(markdown).not.toContain(secret);
      expect(json).not.toContain(secret);
      expect(json).not.toContain(encodeURIComponent(secret));
    }
    expect(markdown).toContain('PGPASSWORD=••••••');
  });
});

function event(seq: number, ts: string, body: Record<string, unknown>): JournalEvent {
  return { ...body, ts, seq, session: 'S1' } as JournalEvent;
}

const start = (seq: number, ts: string, sandbox = false) =>
  event(seq, ts, {
    type: 'session-start',
    version: 1,
    tool: 'db-runbook',
    toolVersion: '0.1.0',
    operator: 'dana',
    argv: [],
    target: { context: sandbox ? 'SANDBOX' : 'prod', namespace: 'data', sandbox },
    mode: 'run',
  });

describe('reports of other sessions', () => {
  it('shows unknown metrics as "unknown", never 0', () => {
    const model = buildReport([start(1, '2026-02-01T08:00:00Z')], {
      settings: { rtoTarget: '4h' },
      now: FIXED_NOW,
    });
    const markdown = renderMarkdown(model);
    expect(model.recoveries).toEqual([]);
    expect(markdown).toContain(
      'No database was restored in this session: there is no RPO or RTO to measure.',
    );
    expect(markdown).not.toMatch(/\| 0s \|/);
    expect(markdown).toContain(
      '| Outcome | no end record: the journal stops at 2026-02-01 08:00:00 (killed, not resumed) |',
    );
    expect(model.session.outcome).toBe('no-end-record');
    expect(model.result.verdict).toBe('NOT MEASURED');
  });

  it('reports a session killed mid-restore as stopped without an end record, the step interrupted, RTO unknown', () => {
    const { events } = drillJournal();
    const killedAt = events.findIndex((candidate) => candidate.type === 'session-start' && candidate.seq > 1);
    const model = buildReport(events.slice(0, killedAt), { now: FIXED_NOW });
    expect(model.session.outcome).toBe('no-end-record');
    const restore = model.sections
      .find((s) => s.id === 'restore-postgres')
      ?.steps.find((s) => s.id === 'restore-postgres.restore');
    expect(restore?.status).toBe('interrupted');
    expect(model.deviations.map((d) => d.kind)).toContain('interrupted-step');
    expect(model.recoveries[0]?.times.validated).toBeNull();
    expect(model.recoveries[0]?.rto.achieved).toBe('unknown');
    expect(model.deviations.map((d) => d.kind)).toContain('session-no-end-record');
  });

  it('infers the scenario from the sections run, and lets the operator say it', () => {
    const step = (seq: number, id: string, section: string) =>
      event(seq, '2026-02-01T08:00:01Z', {
        type: 'step-state',
        step: id,
        section,
        from: 'pending',
        to: 'ready',
      });
    const setup = [start(1, '2026-02-01T08:00:00Z'), step(2, 'configure.storage-secret', 'configure')];
    expect(buildReport(setup).scenario.id).toBe('setup');
    expect(buildReport([...setup, step(3, 'test-postgres.seed', 'test-postgres')]).scenario.id).toBe(
      'synthetic-test',
    );
    const restore = [...setup, step(3, 'restore-postgres.restore', 'restore-postgres')];
    expect(buildReport(restore).scenario.id).toBe('incident-restore');
    expect(buildReport([start(1, '2026-02-01T08:00:00Z', true), ...restore.slice(1)]).scenario.id).toBe(
      'drill',
    );
    expect(buildReport(restore, { settings: { scenario: 'drill' } }).scenario).toMatchObject({
      id: 'drill',
      basis: 'given by the operator',
    });
  });

  it('gives each database restored its own recovery point and RPO', () => {
    const mark = (seq: number, step: string, at: string) =>
      event(seq, '2026-02-01T09:00:00Z', {
        type: 'mark',
        step,
        name: MARK.recoveryPoint,
        at: '2026-02-01T09:00:00Z',
        data: { at, uri: `s3://b/${step}`, verified: true },
      });
    const model = buildReport([
      start(1, '2026-02-01T08:00:00Z'),
      event(2, '2026-02-01T08:00:00Z', {
        type: 'mark',
        name: MARK.incidentDeclared,
        at: '2026-02-01T08:00:00Z',
      }),
      mark(3, 'restore-postgres.select-backup', '2026-02-01T02:00:00Z'),
      mark(4, 'restore-neo4j.select-backup', '2026-02-01T02:30:00Z'),
    ]);
    expect(model.recoveries.map((r) => [r.id, r.times.recoveryPoint, r.rpo.achieved])).toEqual([
      ['incident-restore/postgres', '2026-02-01T02:00:00Z', '6h'],
      ['incident-restore/neo4j', '2026-02-01T02:30:00Z', '5h 30m'],
    ]);
    expect(model.backups.map((backup) => backup.uri)).toEqual([
      's3://b/restore-postgres.select-backup',
      's3://b/restore-neo4j.select-backup',
    ]);
  });

  it('lists the deviations steps recorded with a deviation mark', () => {
    const model = buildReport([
      start(1, '2026-02-01T08:00:00Z'),
      event(2, '2026-02-01T08:10:00Z', {
        type: 'mark',
        step: 'restore-postgres.override-integrity',
        name: MARK.deviation,
        at: '2026-02-01T08:10:00Z',
        data: { reason: 'integrity check overridden for s3://b/k: sha256 sidecar missing', uri: 's3://b/k' },
      }),
      event(3, '2026-02-01T08:11:00Z', {
        type: 'mark',
        step: 'restore-postgres.restore',
        name: MARK.deviation,
        at: '2026-02-01T08:11:00Z',
        data: {
          reason: 'safety backup of orders skipped by typed confirmation',
          step: 'restore-postgres.safety-backup',
        },
      }),
    ]);
    expect(model.deviations.filter((d) => d.kind === 'recorded-deviation')).toEqual([
      {
        kind: 'recorded-deviation',
        severity: 'high',
        at: '2026-02-01T08:10:00Z',
        step: 'restore-postgres.override-integrity',
        recovery: null,
        detail:
          'restore-postgres.override-integrity: integrity check overridden for s3://b/k: sha256 sidecar missing',
        evidence: [{ session: 'S1', seq: 2 }],
      },
      {
        kind: 'recorded-deviation',
        severity: 'high',
        at: '2026-02-01T08:11:00Z',
        step: 'restore-postgres.safety-backup',
        recovery: null,
        detail: 'restore-postgres.safety-backup: safety backup of orders skipped by typed confirmation',
        evidence: [{ session: 'S1', seq: 3 }],
      },
    ]);
    expect(renderMarkdown(model)).toContain(
      '| recorded-deviation | restore-postgres.safety-backup: safety backup',
    );
  });

  it('escapes table cells so a pipe or newline in a summary cannot break the table', () => {
    const model = buildReport([
      start(1, '2026-02-01T08:00:00Z'),
      event(2, '2026-02-01T08:00:01Z', {
        type: 'result',
        step: 'troubleshoot.aws',
        status: 'failed',
        summary: 'a | b\nc',
      }),
    ]);
    expect(renderMarkdown(model)).toContain('| troubleshoot.aws | a \\| b<br>c | **failed** |');
  });
});

describe('next drill date', () => {
  it('is three calendar months later, clamped to the end of a shorter month', () => {
    expect(addMonthsUtc(new Date('2026-01-15T23:30:00Z'), 3)).toBe('2026-04-15');
    expect(addMonthsUtc(new Date('2025-11-30T10:00:00Z'), 3)).toBe('2026-02-28');
    expect(addMonthsUtc(new Date('2027-11-30T10:00:00Z'), 3)).toBe('2028-02-29');
    expect(addMonthsUtc(new Date('2026-10-31T10:00:00Z'), 3)).toBe('2027-01-31');
  });
});
