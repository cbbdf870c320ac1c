import { describe, expect, it } from 'vitest';
import { parseJournal } from '../../src/runbook/journal.js';
import { replayJournal, sectionOfStep } from '../../src/runbook/replay.js';
import { drillJournal, drillJournalText } from './report-fixture.js';

/** The drill fixture up to the kill: everything before the resumed session-start, torn line last. */
function killedJournalText(): string {
  const lines = drillJournalText().split('\n');
  const resumed = lines.findIndex((line) => /"mode": ?"resume"/.test(line));
  return lines.slice(0, resumed).join('\n'); // no trailing newline: the torn line is the last
}

describe('replayJournal', () => {
  it('tolerates a torn last line and finds the step that was running when the process died', () => {
    const parsed = parseJournal(killedJournalText());
    expect(parsed.damaged).toHaveLength(1);
    expect(parsed.damaged[0]?.text).toMatch(/"name":"download-do$/);
    const replay = replayJournal(parsed.events);
    expect(replay.outcome).toBe('unfinished');
    expect(replay.endedAt).toBeUndefined();
    expect(replay.interrupted).toEqual({
      step: 'restore-postgres.restore',
      section: 'restore-postgres',
      state: 'running',
      since: '2026-01-15T10:14:10.110Z', // the attempt began at its gate
    });
    const restore = replay.steps.find((step) => step.step === 'restore-postgres.restore');
    expect(restore).toMatchObject({ status: 'running', resumeAs: 'ready', attempts: 1 });
    expect(restore?.result).toBeUndefined();
  });

  it('keeps completed steps done with their result data, for resume and for ctx.from()', () => {
    const replay = replayJournal(parseJournal(killedJournalText()).events);
    expect(replay.done).toEqual([
      'configure.storage-secret',
      'configure.db-secrets',
      'configure.settings-configmap',
      'deploy.apply-cronjobs',
      'test-postgres.seed',
      'test-postgres.trigger-job',
      'test-postgres.verify-dump',
      'restore-postgres.select-backup',
      'restore-postgres.verify-integrity',
    ]);
    expect(replay.skipped).toEqual(['configure.service-account']);
    expect(replay.failed).toEqual([]);
    const trigger = replay.steps.find((step) => step.step === 'test-postgres.trigger-job');
    expect(trigger).toMatchObject({ status: 'done', resumeAs: 'done', attempts: 2 });
    expect(trigger?.result?.data).toEqual({ key: 'postgres/2026-01-15T100730Z.sql.gz' });
    expect(replay.sectionsDone).toEqual(['configure', 'deploy', 'test-postgres']);
  });

  it('returns the target and where each value came from, never a secret value', () => {
    const replay = replayJournal(parseJournal(killedJournalText()).events);
    expect(replay.target).toMatchObject({
      context: 'dr-drill-eu1',
      namespace: 'data',
      bucket: 'acme-db-backups',
    });
    expect(replay.values.S3_BUCKET).toEqual({ source: 'values-file', value: 'acme-db-backups' });
    expect(replay.values.POSTGRES_PASSWORD).toEqual({ source: 'environment', secret: true });
    expect(replay.operator).toBe('alice');
    expect(replay.startedAt).toBe('2026-01-15T10:00:00.120Z');
  });

  it('after resume: nothing interrupted, the session is done, the restore took two attempts', () => {
    const replay = replayJournal(drillJournal().events);
    expect(replay.outcome).toBe('done');
    expect(replay.exitCode).toBe(0);
    expect(replay.interrupted).toBeUndefined();
    expect(replay.sessionIds).toEqual(['20260115T100000Z-k3x9']);
    expect(replay.steps.find((step) => step.step === 'restore-postgres.restore')).toMatchObject({
      status: 'done',
      attempts: 2,
    });
    expect(replay.sectionsDone).toContain('restore-postgres');
  });

  it('a step killed while awaiting its gate or verifying also starts again from ready', () => {
    const base = { session: 'S', ts: '2026-01-01T00:00:00Z' };
    const replay = replayJournal([
      {
        ...base,
        seq: 1,
        type: 'step-state',
        step: 'deploy.apply',
        section: 'deploy',
        from: 'ready',
        to: 'awaiting-confirmation',
      },
      {
        ...base,
        seq: 2,
        type: 'step-state',
        step: 'configure.x',
        section: 'configure',
        from: 'running',
        to: 'verifying',
      },
    ]);
    expect(replay.steps.map((step) => step.resumeAs)).toEqual(['ready', 'ready']);
    expect(replay.interrupted?.step).toBe('configure.x');
  });

  it('an interrupted run that recorded its failure (Ctrl-C) is failed, not in flight', () => {
    const base = { session: 'S', ts: '2026-01-01T00:00:00Z' };
    const replay = replayJournal([
      { ...base, seq: 1, type: 'step-state', step: 'a.b', section: 'a', from: 'ready', to: 'running' },
      {
        ...base,
        seq: 2,
        type: 'step-state',
        step: 'a.b',
        section: 'a',
        from: 'running',
        to: 'failed',
        reason: 'interrupted',
      },
      { ...base, seq: 3, type: 'result', step: 'a.b', status: 'failed', summary: 'interrupted' },
      { ...base, seq: 4, type: 'session-end', outcome: 'interrupted', exitCode: 130 },
    ]);
    expect(replay).toMatchObject({ outcome: 'interrupted', exitCode: 130, failed: ['a.b'] });
    expect(replay.interrupted).toBeUndefined();
  });

  it('an empty journal replays to nothing, unfinished', () => {
    expect(replayJournal([])).toMatchObject({ steps: [], outcome: 'unfinished', sessionIds: [] });
  });

  it('reads the section from a step id', () => {
    expect(sectionOfStep('restore-postgres.restore')).toBe('restore-postgres');
    expect(sectionOfStep('odd')).toBe('odd');
  });
});
