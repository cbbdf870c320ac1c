/**
 * The App's state and its one reducer: every key and every run event goes through `update`, which
 * returns the next state and the effects to carry out (run steps, answer a prompt, abort, quit) as
 * values — bubbletea's shape, so the TUI's behaviour is testable without a terminal. The keys mean
 * what the key table says (key-table.ts).
 */
import type { ProofLine } from '../runbook/restorability.js';
import type { StepStatus } from '../runbook/journal.js';
import { toggleOption, type OptionName, type StepOptions } from '../runbook/options.js';
import type { SectionId, SectionInfo } from '../runbook/sections.js';
import { isCtrl, type KeyPress } from './input.js';
import { commandFor, keyLabel, type Command, type KeyContext } from './key-table.js';
import { editLine, lineOf, type LineState } from './line-editor.js';
import {
  reduceChoice,
  reduceForm,
  reduceGate,
  reduceSchedule,
  scheduleState,
  type ChoiceState,
  type FormState,
  type GateState,
  type ScheduleField,
  type ScheduleState,
} from './prompts.js';

export interface StepInfo {
  id: string;
  title: string;
  skippable: boolean;
}

/** What the reducer may ask about the world (read-only). */
export interface AppEnv {
  sections: readonly SectionInfo[];
  stepsOf(section: SectionId): readonly StepInfo[];
  status(stepId: string): StepStatus;
  hasReport: boolean;
  /** The scrollable pane now on screen: its rows and how many lines it holds (from the last frame). */
  pane(): { page: number; total: number };
  /** What interrupting a step would do, in words ("the restore is rolled back…"). */
  consequence(stepId: string): string;
  scheduleFields(): readonly ScheduleField[];
}

export type Prompt =
  | { kind: 'gate'; state: GateState }
  | { kind: 'form'; state: FormState }
  | { kind: 'choice'; state: ChoiceState }
  | { kind: 'schedules'; state: ScheduleState };

export interface Scroll {
  offset: number;
  /** Stay at the end as lines arrive (a running step's log). */
  follow: boolean;
}

export interface Running {
  section: SectionId;
  queue: readonly string[];
  current?: string;
  all: boolean;
  stopping?: 'detach' | 'ctrl-c' | 'quit';
}

export interface Notice {
  text: string;
  tone: 'info' | 'warn' | 'error' | 'ok';
}

export interface AppState {
  view: 'home' | 'section' | 'report';
  section?: SectionId;
  reportFrom: 'home' | 'section';
  homeCursor: number;
  stepCursor: number;
  focus: 'list' | 'detail';
  detail: Scroll;
  report: Scroll;
  help?: Scroll & { filter?: LineState; editing?: boolean };
  filter?: { editor: LineState; editing: boolean };
  prompt?: Prompt;
  quitAsk: boolean;
  note?: LineState;
  running?: Running;
  notice?: Notice;
  options: StepOptions;
  exiting?: { code: number; lines: readonly string[] };
  /** "Last proven restorable" per database, once read from the bucket (or why it could not be). */
  proof?: { lines: readonly ProofLine[] } | { problem: string };
}

export type Msg =
  | { type: 'key'; key: KeyPress }
  | { type: 'open-prompt'; prompt: Prompt }
  | { type: 'run-started'; section: SectionId; queue: readonly string[]; all: boolean }
  | { type: 'step-started'; step: string }
  | { type: 'run-ended'; last?: string; ok: boolean; notice?: Notice }
  | { type: 'notice'; notice?: Notice }
  | { type: 'proof'; proof: NonNullable<AppState['proof']> }
  | { type: 'exiting'; code: number; lines: readonly string[] };

export type Effect =
  | { type: 'run'; steps: readonly string[]; all: boolean }
  | { type: 'skip'; step: string }
  | { type: 'abort'; reason: 'detach' | 'SIGINT' }
  /** Resolves the open prompt: a gate's boolean, a form's values, a choice's value; undefined = cancelled. */
  | { type: 'answer'; value: unknown }
  | { type: 'wrong-phrase'; typed: string }
  | { type: 'set-values'; values: Record<string, string> }
  | { type: 'add-note'; text: string }
  | { type: 'export-report' }
  | { type: 'quit' }
  | { type: 'force-quit' };

export type Update = [AppState, Effect[]];

const TOP: Scroll = { offset: 0, follow: false };

export function initialState(options: StepOptions = {}): AppState {
  return {
    view: 'home',
    reportFrom: 'home',
    homeCursor: 0,
    stepCursor: 0,
    focus: 'list',
    detail: TOP,
    report: TOP,
    quitAsk: false,
    options: { 'write-canary': false, ...options },
  };
}

export function update(state: AppState, msg: Msg, env: AppEnv): Update {
  switch (msg.type) {
    case 'key':
      return onKey({ ...state }, msg.key, env);
    case 'open-prompt':
      return [{ ...state, prompt: msg.prompt, quitAsk: false }, []];
    case 'run-started':
      return [
        { ...state, running: { section: msg.section, queue: msg.queue, all: msg.all }, notice: undefined },
        [],
      ];
    case 'step-started': {
      if (!state.running) return [state, []];
      const next: AppState = { ...state, running: { ...state.running, current: msg.step } };
      if (state.view === 'section' && state.section === state.running.section) {
        const index = env.stepsOf(state.running.section).findIndex((step) => step.id === msg.step);
        if (index >= 0) {
          next.stepCursor = index;
          next.detail = { offset: 0, follow: true };
        }
      }
      return [next, []];
    }
    case 'run-ended': {
      const running = state.running;
      const next: AppState = { ...state, running: undefined, prompt: undefined, quitAsk: false };
      if (msg.notice) next.notice = msg.notice;
      // The cursor follows: after one step went well, it moves to the next step still to do (not
      // after Esc: the operator stopped waiting to read what the step saw).
      if (
        running &&
        !running.all &&
        !running.stopping &&
        msg.ok &&
        msg.last &&
        state.view === 'section' &&
        state.section
      ) {
        const steps = env.stepsOf(state.section);
        const at = steps.findIndex((step) => step.id === msg.last);
        const following = steps.findIndex(
          (step, index) => index > at && !['done', 'skipped'].includes(env.status(step.id)),
        );
        if (at >= 0 && at === state.stepCursor && following >= 0) {
          next.stepCursor = following;
          next.detail = TOP;
        }
      }
      if (next.detail.follow) next.detail = { ...next.detail, follow: false };
      return [next, []];
    }
    case 'notice':
      return [{ ...state, notice: msg.notice }, []];
    case 'proof':
      return [{ ...state, proof: msg.proof }, []];
    case 'exiting':
      return [
        { ...state, exiting: { code: msg.code, lines: msg.lines }, prompt: undefined, quitAsk: false },
        [],
      ];
  }
}

// ---------------------------------------------------------------- keys

function title(env: AppEnv, state: AppState, stepId: string | undefined): string {
  if (!stepId) return 'the step';
  const section = state.running?.section ?? state.section;
  return (section && env.stepsOf(section).find((step) => step.id === stepId)?.title) || stepId;
}

/** The value that resolves an open prompt as "cancelled". */
function cancelValue(prompt: Prompt): unknown {
  return prompt.kind === 'gate' ? false : undefined;
}

function closePrompt(state: AppState): Effect[] {
  return state.prompt && state.prompt.kind !== 'schedules'
    ? [{ type: 'answer', value: cancelValue(state.prompt) }]
    : [];
}

function interrupt(state: AppState, env: AppEnv, how: 'ctrl-c' | 'quit'): Update {
  const running = state.running!;
  const effects: Effect[] = [...closePrompt(state), { type: 'abort', reason: 'SIGINT' }];
  const name = title(env, state, running.current);
  return [
    {
      ...state,
      prompt: undefined,
      quitAsk: false,
      running: { ...running, stopping: how },
      notice: {
        text: `${how === 'ctrl-c' ? 'Ctrl-C' : 'q'}: interrupting "${name}" — ${running.current ? env.consequence(running.current) : 'nothing else runs'}. Waiting for it to stop; Ctrl-C again quits at once.`,
        tone: 'warn',
      },
    },
    effects,
  ];
}

function keyName(pressed: KeyPress): string {
  if (pressed.name === 'char')
    return `${pressed.ctrl ? 'Ctrl-' : ''}${pressed.meta ? 'Alt-' : ''}${pressed.text}`;
  return pressed.name;
}

function onKey(state: AppState, pressed: KeyPress, env: AppEnv): Update {
  if (state.exiting) return [state, []];
  if (isCtrl(pressed, 'c')) {
    if (state.running) {
      if (state.running.stopping === 'ctrl-c' || state.running.stopping === 'quit')
        return [state, [{ type: 'force-quit' }]];
      return interrupt(state, env, 'ctrl-c');
    }
    return [state, [{ type: 'quit' }]];
  }
  if (state.quitAsk) {
    const command = commandFor(pressed, 'prompt');
    if (command === 'yes' && state.running) return interrupt(state, env, 'quit');
    if (command === 'yes') return [state, [{ type: 'quit' }]];
    if (command === 'no' || command === 'back')
      return [{ ...state, quitAsk: false, notice: { text: 'Kept running.', tone: 'info' } }, []];
    return [
      { ...state, notice: { text: 'y quits (interrupting the step) · n keeps it running', tone: 'warn' } },
      [],
    ];
  }
  if (state.prompt) return onPromptKey(state, state.prompt, pressed);
  if (state.help) return onHelpKey(state, pressed, env);
  if (state.filter?.editing) return onFilterKey(state, pressed);
  if (state.note) return onNoteKey(state, pressed);
  const context: KeyContext =
    state.view === 'report'
      ? 'report'
      : state.view === 'home'
        ? 'home'
        : state.running
          ? 'running'
          : 'section';
  const command = commandFor(pressed, context, state.section);
  state.notice = undefined;
  if (!command) {
    if (state.running && context === 'running') return acknowledge(state, env, keyName(pressed));
    return [
      {
        ...state,
        notice: { text: `"${keyName(pressed)}" does nothing here — ? lists every key.`, tone: 'info' },
      },
      [],
    ];
  }
  switch (context) {
    case 'home':
      return onHome(state, command, env);
    case 'report':
      return onReport(state, command, env);
    case 'running':
      return onRunning(state, command, env);
    default:
      return onSection(state, command, env);
  }
}

function onPromptKey(state: AppState, prompt: Prompt, pressed: KeyPress): Update {
  switch (prompt.kind) {
    case 'gate': {
      const step = reduceGate(prompt.state, pressed);
      if (step.quit) return [{ ...state, quitAsk: true }, []];
      const effects: Effect[] =
        step.wrongPhrase !== undefined ? [{ type: 'wrong-phrase', typed: step.wrongPhrase }] : [];
      if (step.answer !== undefined)
        return [{ ...state, prompt: undefined }, [...effects, { type: 'answer', value: step.answer }]];
      return [{ ...state, prompt: { kind: 'gate', state: step.state } }, effects];
    }
    case 'form': {
      const step = reduceForm(prompt.state, pressed);
      if (step.done !== undefined)
        return [{ ...state, prompt: undefined }, [{ type: 'answer', value: step.done ?? undefined }]];
      return [{ ...state, prompt: { kind: 'form', state: step.state } }, []];
    }
    case 'choice': {
      const step = reduceChoice(prompt.state, pressed);
      if (step.quit) return [{ ...state, quitAsk: true }, []];
      if (step.done !== undefined)
        return [{ ...state, prompt: undefined }, [{ type: 'answer', value: step.done ?? undefined }]];
      return [{ ...state, prompt: { kind: 'choice', state: step.state } }, []];
    }
    case 'schedules': {
      const step = reduceSchedule(prompt.state, pressed);
      if (step.done === null) return [{ ...state, prompt: undefined }, []];
      if (step.done)
        return [
          {
            ...state,
            prompt: undefined,
            notice: {
              text: 'Schedules set for this session: Enter on the apply step deploys them.',
              tone: 'ok',
            },
          },
          [{ type: 'set-values', values: step.done }],
        ];
      return [{ ...state, prompt: { kind: 'schedules', state: step.state } }, []];
    }
  }
}

function scrollBy(scroll: Scroll, delta: number, env: AppEnv): Scroll {
  const { page, total } = env.pane();
  const max = Math.max(0, total - page);
  const from = scroll.follow ? max : Math.min(scroll.offset, max);
  const offset = Math.max(0, Math.min(max, from + delta));
  return { offset, follow: offset >= max && delta > 0 };
}

function page(env: AppEnv): number {
  return Math.max(1, env.pane().page - 1);
}

/** Scroll commands on a pane; undefined when the command is not a scroll. */
function scrolled(scroll: Scroll, command: Command, env: AppEnv): Scroll | undefined {
  switch (command) {
    case 'up':
      return scrollBy(scroll, -1, env);
    case 'down':
      return scrollBy(scroll, 1, env);
    case 'page-up':
      return scrollBy(scroll, -page(env), env);
    case 'page-down':
      return scrollBy(scroll, page(env), env);
    case 'top':
      return TOP;
    case 'bottom':
      return { offset: Math.max(0, env.pane().total - env.pane().page), follow: true };
    default:
      return undefined;
  }
}

function onHelpKey(state: AppState, pressed: KeyPress, env: AppEnv): Update {
  const help = state.help!;
  if (help.editing) {
    const edit = editLine(help.filter ?? lineOf(), pressed);
    if (edit.cancel)
      return [{ ...state, help: { ...help, filter: undefined, editing: false, offset: 0 } }, []];
    if (edit.submit !== undefined) return [{ ...state, help: { ...help, editing: false } }, []];
    return [{ ...state, help: { ...help, filter: edit.state, offset: 0, follow: false } }, []];
  }
  const command = commandFor(pressed, 'help');
  if (command === 'help' || command === 'back') {
    if (command === 'back' && help.filter)
      return [{ ...state, help: { ...help, filter: undefined, offset: 0 } }, []];
    return [{ ...state, help: undefined }, []];
  }
  if (command === 'quit') return quit(state);
  if (command === 'filter') return [{ ...state, help: { ...help, filter: lineOf(), editing: true } }, []];
  const moved = command ? scrolled(help, command, env) : undefined;
  if (moved) return [{ ...state, help: { ...help, ...moved } }, []];
  return [state, []];
}

function onFilterKey(state: AppState, pressed: KeyPress): Update {
  const filter = state.filter!;
  const edit = editLine(filter.editor, pressed);
  const reset = state.view === 'report' ? { report: TOP } : { detail: TOP };
  if (edit.cancel) return [{ ...state, filter: undefined, ...reset }, []];
  if (edit.submit !== undefined) return [{ ...state, filter: { ...filter, editing: false } }, []];
  return [{ ...state, filter: { editor: edit.state, editing: true }, ...reset }, []];
}

function onNoteKey(state: AppState, pressed: KeyPress): Update {
  const edit = editLine(state.note!, pressed);
  if (edit.cancel) return [{ ...state, note: undefined }, []];
  if (edit.submit !== undefined) {
    const text = edit.submit.trim();
    return [
      {
        ...state,
        note: undefined,
        notice: text ? { text: 'Note added to the journal.', tone: 'ok' } : undefined,
      },
      text ? [{ type: 'add-note', text }] : [],
    ];
  }
  return [{ ...state, note: edit.state }, []];
}

function quit(state: AppState): Update {
  if (state.running) return [{ ...state, quitAsk: true }, []];
  return [state, [{ type: 'quit' }]];
}

function common(state: AppState, command: Command, env: AppEnv): Update | undefined {
  switch (command) {
    case 'help':
      return [{ ...state, help: { offset: 0, follow: false } }, []];
    case 'quit':
      return quit(state);
    case 'report':
      if (!env.hasReport)
        return [{ ...state, notice: { text: 'No report in this session.', tone: 'info' } }, []];
      return [
        {
          ...state,
          view: 'report',
          reportFrom: state.view === 'home' ? 'home' : 'section',
          report: TOP,
          filter: undefined,
        },
        [],
      ];
    default:
      return undefined;
  }
}

function onHome(state: AppState, command: Command, env: AppEnv): Update {
  const last = env.sections.length - 1;
  const move = (cursor: number): Update => [
    { ...state, homeCursor: Math.max(0, Math.min(last, cursor)) },
    [],
  ];
  switch (command) {
    case 'up':
      return move(state.homeCursor - 1);
    case 'down':
      return move(state.homeCursor + 1);
    case 'page-up':
    case 'top':
      return move(0);
    case 'page-down':
    case 'bottom':
      return move(last);
    case 'open': {
      const chosen = env.sections[state.homeCursor];
      if (!chosen) return [state, []];
      const steps = env.stepsOf(chosen.id);
      if (steps.length === 0)
        return [{ ...state, notice: { text: `${chosen.title} is not available yet.`, tone: 'info' } }, []];
      // The cursor starts on the first step still to do.
      const next = steps.findIndex((step) => !['done', 'skipped'].includes(env.status(step.id)));
      return [
        {
          ...state,
          view: 'section',
          section: chosen.id,
          stepCursor: next >= 0 ? next : 0,
          focus: 'list',
          detail: TOP,
          filter: undefined,
        },
        [],
      ];
    }
    case 'back':
      return [{ ...state, notice: { text: 'This is the checklist: q quits.', tone: 'info' } }, []];
    default:
      return common(state, command, env) ?? unavailable(state, command);
  }
}

function unavailable(state: AppState, command: Command): Update {
  return [
    {
      ...state,
      notice: {
        text: `${keyLabel(command)} does nothing here — ? lists every key and where it works.`,
        tone: 'info',
      },
    },
    [],
  ];
}

function onSection(state: AppState, command: Command, env: AppEnv): Update {
  const section = state.section!;
  const steps = env.stepsOf(section);
  const last = steps.length - 1;
  const moveCursor = (cursor: number): Update => [
    { ...state, stepCursor: Math.max(0, Math.min(last, cursor)), detail: TOP },
    [],
  ];
  if (state.focus === 'detail' || ['page-up', 'page-down'].includes(command)) {
    const moved = scrolled(state.detail, command, env);
    if (moved) return [{ ...state, detail: moved }, []];
  }
  const selected = steps[state.stepCursor];
  switch (command) {
    case 'up':
      return moveCursor(state.stepCursor - 1);
    case 'down':
      return moveCursor(state.stepCursor + 1);
    case 'top':
      return moveCursor(0);
    case 'bottom':
      return moveCursor(last);
    case 'open':
      return selected ? [state, [{ type: 'run', steps: [selected.id], all: false }]] : [state, []];
    case 'run-all': {
      const remaining = steps.filter((step) => !['done', 'skipped'].includes(env.status(step.id)));
      if (remaining.length === 0)
        return [
          {
            ...state,
            notice: { text: 'Every step is done: Enter runs the selected step again.', tone: 'info' },
          },
          [],
        ];
      return [state, [{ type: 'run', steps: remaining.map((step) => step.id), all: true }]];
    }
    case 'skip':
      if (!selected) return [state, []];
      if (!selected.skippable)
        return [
          {
            ...state,
            notice: { text: `${selected.title} is not optional: it cannot be skipped.`, tone: 'warn' },
          },
          [],
        ];
      return [state, [{ type: 'skip', step: selected.id }]];
    case 'edit-schedules':
      return [{ ...state, prompt: { kind: 'schedules', state: scheduleState(env.scheduleFields()) } }, []];
    case 'focus':
      return [{ ...state, focus: state.focus === 'list' ? 'detail' : 'list' }, []];
    case 'filter':
      return [{ ...state, filter: { editor: lineOf(), editing: true } }, []];
    case 'back':
      if (state.filter) return [{ ...state, filter: undefined, detail: TOP }, []];
      if (state.focus === 'detail') return [{ ...state, focus: 'list' }, []];
      return [{ ...state, view: 'home', section: undefined, filter: undefined, focus: 'list' }, []];
    default:
      if (command.startsWith('toggle:'))
        return [
          { ...state, options: toggleOption(state.options, command.slice('toggle:'.length) as OptionName) },
          [],
        ];
      return common(state, command, env) ?? unavailable(state, command);
  }
}

/** A key that cannot act while a step runs is answered, never dropped silently. */
function acknowledge(state: AppState, env: AppEnv, what: string): Update {
  const name = title(env, state, state.running?.current);
  return [
    {
      ...state,
      notice: {
        text: `"${what}" not done: "${name}" is running. Esc stops waiting for it · q quits (asks first) · Ctrl-C interrupts.`,
        tone: 'warn',
      },
    },
    [],
  ];
}

function onRunning(state: AppState, command: Command, env: AppEnv): Update {
  const running = state.running!;
  switch (command) {
    case 'up':
    case 'down':
    case 'top':
    case 'bottom':
    case 'page-up':
    case 'page-down':
    case 'focus':
    case 'filter':
      return onSection(state, command, env);
    case 'back': {
      if (state.filter) return [{ ...state, filter: undefined, detail: TOP }, []];
      if (running.stopping) return [state, []];
      const at = running.current ? running.queue.indexOf(running.current) : -1;
      const rest = running.queue.slice(at + 1).map((id) => title(env, state, id));
      const name = title(env, state, running.current);
      return [
        {
          ...state,
          running: { ...running, stopping: 'detach' },
          notice: {
            text: `Esc: stopped waiting for "${name}" (it reports what it saw; a Job it started keeps running in the cluster).${
              rest.length ? ` Not run: ${rest.join(', ')} — a runs them.` : ''
            }`,
            tone: 'warn',
          },
        },
        [{ type: 'abort', reason: 'detach' }],
      ];
    }
    case 'quit':
      return [{ ...state, quitAsk: true }, []];
    case 'help':
    case 'report':
      return common(state, command, env) ?? [state, []];
    default:
      return acknowledge(state, env, keyLabel(command));
  }
}

function onReport(state: AppState, command: Command, env: AppEnv): Update {
  const moved = scrolled(state.report, command, env);
  if (moved) return [{ ...state, report: moved }, []];
  switch (command) {
    case 'note':
      return [{ ...state, note: lineOf() }, []];
    case 'export':
      return [state, [{ type: 'export-report' }]];
    case 'filter':
      return [{ ...state, filter: { editor: lineOf(), editing: true } }, []];
    case 'back':
      if (state.filter) return [{ ...state, filter: undefined, report: TOP }, []];
      return [{ ...state, view: state.reportFrom === 'section' && state.section ? 'section' : 'home' }, []];
    default:
      return common(state, command, env) ?? unavailable(state, command);
  }
}
