import { describe, expect, it } from 'vitest';
import { newSessionId, openJournal, readJournal } from '../../src/adapters/journal-store.js';
import type { Adapters } from '../../src/adapters/types.js';
import { runLoop, type LoopSurface } from '../../src/engine/run-loop.js';
import { Session } from '../../src/engine/session.js';
import { EXIT } from '../../src/runbook/errors.js';
import { outputOf } from '../../src/runbook/step.js';
import { resolveValues } from '../../src/runbook/values.js';
import { defineStep, type RunbookStep } from '../../src/steps/define.js';
import { tempDir } from '../support/temp.js';

/** Steps here do no I/O: the loop and the handles are what is tested, so the session gets no adapters. */
const dirs = new Map<Session, string>();

function session(env: Record<string, string> = {}): Session {
  const dir = tempDir('db-runbook-loop-');
  const { values, settings } = resolveValues({ env: { DATABASES: 'postgres', ...env } });
  const created = new Session({
    journal: openJournal(dir, newSessionId(), []),
    values,
    settings,
    target: { context: 'test', namespace: 'data', sandbox: false },
    adapters: () => ({}) as Adapters,
  });
  dirs.set(created, dir);
  return created;
}

function step(id: string, run: RunbookStep['run'], extra: Partial<RunbookStep> = {}): RunbookStep {
  return defineStep({
    id: `prerequisites.${id}`,
    section: 'prerequisites',
    title: id,
    description: id,
    inputs: [],
    plan: () => ({ actions: [] }),
    run,
    ...extra,
  });
}

const ok: RunbookStep['run'] = async () => ({ summary: 'ok' });
const fails: RunbookStep['run'] = async () => ({
  summary: 'failed',
  checks: [{ id: 'c', label: 'c', status: 'fail' }],
});

function surface(extra: Partial<LoopSurface> = {}): LoopSurface {
  return {
    confirm: async () => 'accepted',
    options: () => ({}),
    signal: new AbortController().signal,
    ...extra,
  };
}

describe('the run loop (the same for run, resume and the TUI)', () => {
  it('runs every step in order and ends ok with exit 0', async () => {
    const s = session();
    const ran: string[] = [];
    const steps = ['a', 'b'].map((id) => step(id, async () => (ran.push(id), { summary: id })));
    const result = await runLoop(s, steps, surface());
    expect(ran).toEqual(['a', 'b']);
    expect(result).toMatchObject({ exitCode: EXIT.done, ok: true });
    expect(result.stop).toBeUndefined();
  });

  it('skips a step whose database is out of scope, and says why in the journal', async () => {
    const s = session();
    const steps = [step('neo', ok, { database: 'neo4j' }), step('after', ok)];
    const result = await runLoop(s, steps, surface());
    expect(s.status('prerequisites.neo')).toBe('skipped');
    expect(s.status('prerequisites.after')).toBe('done');
    expect(result.ok).toBe(true);
  });

  it('stops at the first failure, and the later steps stay pending', async () => {
    const s = session();
    const result = await runLoop(s, [step('a', fails), step('b', ok)], surface());
    expect(result.exitCode).toBe(EXIT.stepFailed);
    expect(result.stop).toMatchObject({ kind: 'outcome', step: { id: 'prerequisites.a' } });
    expect(s.status('prerequisites.b')).toBe('pending');
  });

  it('goes on after a failed step whose checks are independent, and still exits 1', async () => {
    const s = session();
    const result = await runLoop(
      s,
      [step('a', fails, { continueOnFailure: true }), step('b', ok)],
      surface(),
    );
    expect(s.status('prerequisites.b')).toBe('done');
    expect(result).toMatchObject({ exitCode: EXIT.stepFailed, ok: false });
    expect(result.stop).toBeUndefined();
  });

  it('asks for missing values before a step and stops when they are not given', async () => {
    const asked: string[][] = [];
    const needs = step('needs', ok, { inputs: ['S3_BUCKET'] });
    const given = await runLoop(
      session(),
      [needs],
      surface({
        askValues: async (_step, missing) => (asked.push(missing), { S3_BUCKET: 'backups' }),
      }),
    );
    expect(asked).toEqual([['S3_BUCKET']]);
    expect(given.ok).toBe(true);
    const refused = await runLoop(session(), [needs], surface({ askValues: async () => undefined }));
    expect(refused.stop).toMatchObject({ kind: 'values-not-given' });
  });

  it('a step the surface cannot run is reported blocked before anything is asked', async () => {
    let asked = false;
    const result = await runLoop(
      session(),
      [step('a', ok)],
      surface({
        blocked: () => 'no cluster',
        confirm: async () => ((asked = true), 'accepted'),
      }),
    );
    expect(asked).toBe(false);
    expect(result.stop).toMatchObject({ kind: 'blocked', reason: 'no cluster' });
  });

  it('on resume, steps already done are not run again', async () => {
    const s = session();
    s.restoreStep('prerequisites.a', 'done', { summary: 'earlier' });
    let ran = 0;
    await runLoop(s, [step('a', async () => (ran++, { summary: 'again' }))], surface({ skipFinished: true }));
    expect(ran).toBe(0);
  });

  it('a refused gate stops the loop with exit 3 and nothing after it runs', async () => {
    const s = session();
    const gated = step('gated', ok, { gate: () => ({ kind: 'confirm', prompt: 'go?' }) });
    const result = await runLoop(s, [gated, step('b', ok)], surface({ confirm: async () => 'refused' }));
    expect(result.exitCode).toBe(EXIT.gateRefused);
    expect(s.status('prerequisites.b')).toBe('pending');
  });
});

describe('typed handles between steps', () => {
  interface Chosen {
    uri: string;
    size: number;
  }
  const choose = defineStep<Chosen>({
    id: 'prerequisites.choose',
    section: 'prerequisites',
    title: 'choose',
    description: 'choose',
    inputs: [],
    plan: () => ({ actions: [] }),
    run: async () => ({ summary: 'chosen', data: { uri: 's3://b/k.sql.gz', size: 3 } }),
  });

  it('a later step reads the earlier step’s output through the step itself', async () => {
    const s = session();
    let seen: Chosen | undefined;
    const reader = step('read', async (ctx) => ((seen = ctx.from(choose)), { summary: 'read' }));
    await runLoop(s, [choose, reader], surface());
    expect(seen).toEqual({ uri: 's3://b/k.sql.gz', size: 3 });
  });

  it('a step that has not run gives undefined, not a stale or foreign result', async () => {
    const s = session();
    let seen: Chosen | undefined = { uri: 'x', size: 0 };
    await runLoop(
      s,
      [step('read', async (ctx) => ((seen = ctx.from(choose)), { summary: 'read' }))],
      surface(),
    );
    expect(seen).toBeUndefined();
  });

  it('data from an old journal goes through the handle’s decoder: a record without the field is not used', () => {
    const s = session();
    const handle = outputOf<Chosen>('prerequisites.choose', (data) =>
      typeof data.uri === 'string' ? (data as unknown as Chosen) : undefined,
    );
    s.restoreStep('prerequisites.choose', 'done', { summary: 'old', data: { key: 'k.sql.gz' } });
    expect(s.output(handle)).toBeUndefined();
    s.restoreStep('prerequisites.choose', 'done', { summary: 'new', data: { uri: 's3://b/k', size: 1 } });
    expect(s.output(handle)).toEqual({ uri: 's3://b/k', size: 1 });
  });

  it('the journal keeps the output as plain JSON, so resume reads it back the same', async () => {
    const s = session();
    await runLoop(s, [choose], surface());
    const events = readJournal(dirs.get(s)!, s.id).events;
    const result = events.find((event) => event.type === 'result' && event.step === choose.id);
    expect(result).toMatchObject({ data: { uri: 's3://b/k.sql.gz', size: 3 } });
  });
});
