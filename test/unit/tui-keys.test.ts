// The one key table drives both the input handling (commandFor → update) and the ? overlay: every
// binding is in the overlay and does something where the table says it works; the overlay lists
// nothing else. And the App's flow through its reducer, without a terminal.
import { describe, expect, it } from 'vitest';
import type { StepStatus } from '../../src/runbook/journal.js';
import { SECTIONS, type SectionId } from '../../src/runbook/sections.js';
import { initialState, update, type AppEnv, type AppState, type Msg } from '../../src/screens/app-state.js';
import { splitKeys, type KeyPress } from '../../src/screens/input.js';
import { commandFor, KEY_TABLE, type KeyContext } from '../../src/screens/key-table.js';
import { gateState } from '../../src/screens/prompts.js';
import { plain } from '../../src/screens/text.js';
import { helpLines } from '../../src/screens/views.js';

const STEPS: Record<string, { id: string; title: string; skippable: boolean }[]> = {
  prerequisites: [
    { id: 'prerequisites.binaries', title: 'Tools on this workstation', skippable: false },
    { id: 'prerequisites.cluster', title: 'Cluster access', skippable: false },
    { id: 'prerequisites.s3', title: 'S3 bucket', skippable: true },
  ],
  deploy: [{ id: 'deploy.apply', title: 'Apply the CronJobs', skippable: false }],
  'restore-neo4j': [
    { id: 'restore-neo4j.incident', title: 'Incident declared', skippable: false },
    { id: 'restore-neo4j.choose', title: 'Choose the backup', skippable: false },
    { id: 'restore-neo4j.integrity', title: 'Check the backup', skippable: false },
    { id: 'restore-neo4j.member-stopped', title: 'The member is stopped', skippable: false },
    { id: 'restore-neo4j.restore', title: 'Restore', skippable: false },
  ],
};

function env(statuses: Record<string, StepStatus> = {}): AppEnv {
  return {
    sections: SECTIONS,
    stepsOf: (section: SectionId) => STEPS[section] ?? [],
    status: (id) => statuses[id] ?? 'pending',
    hasReport: true,
    pane: () => ({ page: 10, total: 100 }),
    consequence: () => 'the step stops where it is; nothing after it runs',
    scheduleFields: () => [
      { name: 'POSTGRES_BACKUP_SCHEDULE', cronJob: 'postgres-daily-backup', value: '0 2 * * *' },
    ],
  };
}

function keys(state: AppState, chunk: string, world = env()) {
  let current = state;
  const effects: unknown[] = [];
  for (const key of splitKeys(chunk)) {
    const [next, made] = update(current, { type: 'key', key }, world);
    current = next;
    effects.push(...made);
  }
  return { state: current, effects };
}

function send(state: AppState, msg: Msg, world = env()): AppState {
  return update(state, msg, world)[0];
}

function inSection(section: SectionId, cursor = 0): AppState {
  return { ...initialState(), view: 'section', section, stepCursor: cursor };
}

/** A state in which a binding's context holds. */
function stateFor(context: KeyContext, section?: string): AppState {
  // Cursors in the middle, so that every move moves.
  const base = {
    ...inSection((section ?? 'prerequisites') as SectionId, 1),
    detail: { offset: 5, follow: false },
  };
  switch (context) {
    case 'home':
      return { ...initialState(), homeCursor: 1 };
    case 'section':
      return base;
    case 'running':
      return {
        ...base,
        running: {
          section: base.section!,
          queue: ['prerequisites.binaries'],
          current: 'prerequisites.binaries',
          all: false,
        },
      };
    case 'report':
      return { ...base, view: 'report', reportFrom: 'section', report: { offset: 5, follow: false } };
    case 'help':
      return { ...base, help: { offset: 5, follow: false } };
    case 'prompt':
      return { ...base, prompt: { kind: 'gate', state: gateState({ kind: 'confirm', prompt: 'Go?' }) } };
    case 'everywhere':
      return base;
  }
}

function keyOf(binding: (typeof KEY_TABLE)[number]): KeyPress {
  const spec = binding.keys[0]!;
  return { name: spec.name, text: spec.text ?? '', ctrl: spec.ctrl ?? false, meta: false };
}

describe('the key table', () => {
  it('lists every binding in the ? overlay, and nothing that is not a binding', () => {
    const overlay = helpLines(200).map(plain);
    const rows = overlay.filter(
      (text) => /^\S/.test(text) && !text.startsWith('In a typed') && !text.startsWith('Every action'),
    );
    expect(rows).toHaveLength(KEY_TABLE.length);
    for (const binding of KEY_TABLE) {
      const row = rows.find((text) => text.startsWith(binding.label) && text.includes(binding.description));
      expect(row, `${binding.label} ${binding.description}`).toBeDefined();
    }
    // n (note), x (export), w, t, / and Tab are all in it.
    for (const label of ['n', 'x', 'w', 't', '/', 'Tab', 'PgUp/^B', 'g/Home', 'G/End', 'Ctrl-C'])
      expect(rows.some((text) => text.startsWith(`${label} `))).toBe(true);
  });

  it('every key of every binding means its command where the table says it works, and the App acts on it', () => {
    for (const binding of KEY_TABLE) {
      const contexts = binding.contexts.filter((context) => context !== 'everywhere');
      for (const context of contexts.length ? contexts : (['section'] as KeyContext[])) {
        for (const spec of binding.keys) {
          const key: KeyPress = {
            name: spec.name,
            text: spec.text ?? '',
            ctrl: spec.ctrl ?? false,
            meta: false,
          };
          const section = binding.sections?.[0];
          expect(commandFor(key, context, section as SectionId), `${binding.label} in ${context}`).toBe(
            binding.command,
          );
        }
        const before = stateFor(context, binding.sections?.[0]);
        const [after, effects] = update(before, { type: 'key', key: keyOf(binding) }, env());
        const acted = effects.length > 0 || JSON.stringify(after) !== JSON.stringify(before);
        expect(acted, `${binding.label} (${binding.command}) does something in ${context}`).toBe(true);
      }
    }
  });
});

describe('the App, through its reducer', () => {
  it('applies a burst of keys in order: jj then Enter opens the third section', () => {
    const { state } = keys(initialState(), 'jj\r');
    expect(state.view).toBe('section');
    expect(state.section).toBe(SECTIONS[2]!.id);
  });

  it('answers a key that cannot act while a step runs, instead of dropping it', () => {
    const running = stateFor('running');
    const { state, effects } = keys(running, 'a');
    expect(effects).toEqual([]);
    expect(state.notice?.text).toMatch(
      /"a" not done: "Tools on this workstation" is running\. Esc stops waiting/,
    );
    expect(keys(running, 'z').state.notice?.text).toMatch(/"z" not done/);
  });

  it('q while a step runs asks first; n keeps it running, y interrupts it', () => {
    const running = stateFor('running');
    const asked = keys(running, 'q').state;
    expect(asked.quitAsk).toBe(true);
    expect(keys(asked, 'n').state.quitAsk).toBe(false);
    const quitting = keys(asked, 'y');
    expect(quitting.effects).toEqual([{ type: 'abort', reason: 'SIGINT' }]);
    expect(quitting.state.running?.stopping).toBe('quit');
  });

  it('Ctrl-C while a step runs interrupts it and says what that does; a second Ctrl-C quits at once', () => {
    const running = {
      ...stateFor('running'),
      prompt: { kind: 'gate' as const, state: gateState({ kind: 'typed', prompt: 'Type', phrase: 'app' }) },
    };
    const first = keys(running, '\u0003');
    expect(first.effects).toEqual([
      { type: 'answer', value: false },
      { type: 'abort', reason: 'SIGINT' },
    ]);
    expect(first.state.notice?.text).toMatch(
      /Ctrl-C: interrupting "Tools on this workstation" — the step stops where it is/,
    );
    expect(keys(first.state, '\u0003').effects).toEqual([{ type: 'force-quit' }]);
    expect(keys(initialState(), '\u0003').effects).toEqual([{ type: 'quit' }]);
  });

  it('Esc during run-all says it stops waiting and names the steps it will not run', () => {
    const state = {
      ...inSection('prerequisites'),
      running: {
        section: 'prerequisites' as const,
        queue: STEPS.prerequisites!.map((s) => s.id),
        current: 'prerequisites.binaries',
        all: true,
      },
    };
    const { state: after, effects } = keys(state, '\u001b');
    expect(effects).toEqual([{ type: 'abort', reason: 'detach' }]);
    expect(after.notice?.text).toMatch(
      /Esc: stopped waiting for "Tools on this workstation".*Not run: Cluster access, S3 bucket — a runs them\./,
    );
  });

  it('the cursor follows: a step that went well moves it to the next step still to do', () => {
    let state = inSection('prerequisites', 0);
    state = send(state, {
      type: 'run-started',
      section: 'prerequisites',
      queue: ['prerequisites.binaries'],
      all: false,
    });
    state = send(state, { type: 'step-started', step: 'prerequisites.binaries' });
    state = send(
      state,
      { type: 'run-ended', last: 'prerequisites.binaries', ok: true },
      env({ 'prerequisites.binaries': 'done' }),
    );
    expect(state.stepCursor).toBe(1);
  });

  it('after Esc (stopped waiting) the cursor stays on the step, to read what it saw', () => {
    let state = inSection('prerequisites', 0);
    state = send(state, {
      type: 'run-started',
      section: 'prerequisites',
      queue: ['prerequisites.binaries'],
      all: false,
    });
    state = send(state, { type: 'step-started', step: 'prerequisites.binaries' });
    state = keys(state, '\u001b').state;
    state = send(
      state,
      { type: 'run-ended', last: 'prerequisites.binaries', ok: true },
      env({ 'prerequisites.binaries': 'done' }),
    );
    expect(state.stepCursor).toBe(0);
  });

  it("a runs the remaining steps only: after Esc at restore-neo4j's stop gate it does not start over", () => {
    const world = env({
      'restore-neo4j.incident': 'done',
      'restore-neo4j.choose': 'done',
      'restore-neo4j.integrity': 'done',
      'restore-neo4j.member-stopped': 'ready',
    });
    const { effects } = keys(inSection('restore-neo4j', 3), 'a', world);
    expect(effects).toEqual([
      { type: 'run', steps: ['restore-neo4j.member-stopped', 'restore-neo4j.restore'], all: true },
    ]);
  });

  it('scrolls the detail with PgDn/PgUp, g/G, and j/k once Tab focuses it; / filters', () => {
    let state = inSection('prerequisites');
    state = keys(state, '\u001b[6~').state;
    expect(state.detail.offset).toBe(9);
    state = keys(state, '\t').state;
    expect(state.focus).toBe('detail');
    state = keys(state, 'jj').state;
    expect(state.detail.offset).toBe(11);
    state = keys(state, 'G').state;
    expect(state.detail).toEqual({ offset: 90, follow: true });
    state = keys(state, 'g').state;
    expect(state.detail.offset).toBe(0);
    state = keys(state, '/s3\r').state;
    expect(state.filter).toEqual({ editor: { value: 's3', cursor: 2 }, editing: false });
    state = keys(state, '\u001b').state;
    expect(state.filter).toBeUndefined();
  });

  it('r opens the report from a section too; Esc goes back there', () => {
    const { state } = keys(inSection('deploy'), 'r');
    expect(state.view).toBe('report');
    expect(keys(state, '\u001b').state.view).toBe('section');
  });

  it('a typed gate takes a burst with Backspace and Enter: "apo⌫p⏎" accepts the phrase "app"', () => {
    const state = {
      ...stateFor('running'),
      prompt: { kind: 'gate' as const, state: gateState({ kind: 'typed', prompt: 'Type', phrase: 'app' }) },
    };
    const { effects } = keys(state, 'apo\u007fp\r');
    expect(effects).toEqual([{ type: 'answer', value: true }]);
  });
});
