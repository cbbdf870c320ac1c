// What the journal keeps of a gate: who answered it (a person, or --yes/--confirm), and each wrong
// phrase typed at a typed gate — its length and where it differed, never the text.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Adapters } from '../../src/adapters/types.js';
import { journalArgv } from '../../src/commands/context.js';
import { runSteps } from '../../src/commands/run.js';
import { parseJournal, phraseMismatch, type JournalEvent } from '../../src/runbook/journal.js';
import type { StepContext, StepDefinition } from '../../src/runbook/step.js';
import type { RunbookStep } from '../../src/steps/define.js';
import { testSession } from '../support/session.js';

const PHRASE = 'orders@db.internal';

function typedStep(seen: { via?: string }): StepDefinition<Adapters> {
  return {
    id: 'restore-postgres.restore',
    section: 'restore-postgres',
    title: 'Restore',
    description: 'a typed gate',
    inputs: [],
    plan: () => ({ actions: [] }),
    gate: () => ({ kind: 'typed', prompt: `Type ${PHRASE}`, phrase: PHRASE }),
    async run(ctx: StepContext<Adapters>) {
      seen.via = ctx.confirmedVia;
      return { summary: 'restored' };
    },
  };
}

function journal(session: ReturnType<typeof testSession>['session']): JournalEvent[] {
  return parseJournal(readFileSync(session.journalPath, 'utf8')).events;
}

afterEach(() => vi.restoreAllMocks());

describe('gates in the journal', () => {
  it('records each wrong phrase typed at the prompt without its text, then who accepted', async () => {
    const { session } = testSession({ env: {} });
    const seen: { via?: string } = {};
    const outcome = await session.run(typedStep(seen), {
      confirm: async (_gate, _step, attempts) => {
        attempts.wrongPhrase('Orders@db.internal');
        attempts.wrongPhrase('hunter2-pasted-password');
        return { answer: 'accepted', via: 'operator' };
      },
    });
    expect(outcome.status).toBe('done');
    const events = journal(session);
    const attempts = events.filter((event) => event.type === 'gate-attempt');
    expect(attempts).toMatchObject([
      { step: 'restore-postgres.restore', via: 'operator', length: 18, expectedLength: 18, caseOnly: true },
      { via: 'operator', length: 23, expectedLength: 18, firstDifferenceAt: 0, caseOnly: false },
    ]);
    expect(events.find((event) => event.type === 'gate')).toMatchObject({
      answer: 'accepted',
      via: 'operator',
    });
    const text = readFileSync(session.journalPath, 'utf8');
    expect(text).not.toContain('Orders@db.internal');
    expect(text).not.toContain('hunter2');
    expect(seen.via).toBe('operator');
  });

  it('records --yes and a wrong --confirm as non-interactive: refused, the attempt without its text', async () => {
    const { session } = testSession({ env: {} });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const seen: { via?: string } = {};
    const step = typedStep(seen) as RunbookStep;
    const refused = await runSteps(
      session,
      [step],
      { namespace: 'data', yes: true, confirm: 'orders@db' },
      new AbortController().signal,
    );
    expect(refused).toBe(3);
    const events = journal(session);
    expect(events.find((event) => event.type === 'gate-attempt')).toMatchObject({
      via: 'flag',
      length: 9,
      expectedLength: 18,
      firstDifferenceAt: 9,
    });
    expect(events.find((event) => event.type === 'gate')).toMatchObject({
      answer: 'refused',
      via: 'flag',
      flags: ['--yes', '--confirm'],
    });
    expect(readFileSync(session.journalPath, 'utf8')).not.toContain('"orders@db"');
  });

  it('tells the step it was passed by --yes, so it does not claim an operator confirmed', async () => {
    const { session } = testSession({ env: {} });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const seen: { via?: string } = {};
    const code = await runSteps(
      session,
      [typedStep(seen) as RunbookStep],
      { namespace: 'data', yes: true, confirm: PHRASE },
      new AbortController().signal,
    );
    expect(code).toBe(0);
    expect(seen.via).toBe('flag');
    expect(journal(session).find((event) => event.type === 'gate')).toMatchObject({
      answer: 'accepted',
      via: 'flag',
      flags: ['--yes', '--confirm'],
    });
  });

  it('keeps the --confirm text out of the command line it records', () => {
    expect(journalArgv(['run', 'restore-postgres', '--yes', '--confirm', 's3cr3t-ish'])).toEqual([
      'run',
      'restore-postgres',
      '--yes',
      '--confirm',
      '<not recorded>',
    ]);
    expect(journalArgv(['run', 'x', '--confirm=abc'])).toEqual(['run', 'x', '--confirm=<not recorded>']);
  });

  it('says how a phrase differed: case only, spaces only, or from which character', () => {
    expect(phraseMismatch('APP', 'app')).toMatchObject({
      caseOnly: true,
      whitespaceOnly: false,
      firstDifferenceAt: 0,
    });
    expect(phraseMismatch(' app ', 'app')).toMatchObject({ caseOnly: false, whitespaceOnly: true });
    expect(phraseMismatch('apq', 'app')).toMatchObject({
      firstDifferenceAt: 2,
      length: 3,
      expectedLength: 3,
    });
  });
});
