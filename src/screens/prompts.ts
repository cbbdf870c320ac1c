/**
 * The prompts a step (or the operator) opens — a gate, missing values, a list to choose from, the
 * backup schedules, the quit question — each as pure state, a reducer over keys, and lines to draw.
 * The App routes keys to the open prompt through its one store; the standalone components
 * (GatePrompt, ValuesForm, ChoicePrompt, ScheduleEditor) wrap the same reducers.
 */
import { cronProblem, describeCron, nextRun } from '../runbook/cron.js';
import type { Choice, Gate } from '../runbook/step.js';
import { validateValue, valueSpec } from '../runbook/values.js';
import type { KeyPress } from './input.js';
import { commandFor } from './key-table.js';
import { editLine, editorLine, lineOf, type LineState } from './line-editor.js';
import { line, printable, rule, seg, wrapAll, wrapLine, type Line } from './text.js';

// ---------------------------------------------------------------- gate

export interface GateState {
  gate: Gate;
  editor: LineState;
  error?: string;
}

export type GateStep = { state: GateState; answer?: boolean; wrongPhrase?: string; quit?: boolean };

export function gateState(gate: Gate): GateState {
  return { gate, editor: lineOf() };
}

export function reduceGate(state: GateState, pressed: KeyPress): GateStep {
  const { gate } = state;
  if (pressed.name === 'escape') return { state, answer: false };
  if (gate.kind === 'confirm') {
    const command = commandFor(pressed, 'prompt');
    if (command === 'yes') return { state, answer: true };
    if (command === 'no') return { state, answer: false };
    if (command === 'quit') return { state, quit: true };
    return {
      state: { ...state, error: 'Press y to proceed or n to refuse (nothing is done until you do).' },
    };
  }
  const edit = editLine(state.editor, pressed);
  if (edit.cancel) return { state, answer: false };
  if (edit.submit === undefined) return { state: { ...state, editor: edit.state } };
  if (edit.submit === gate.phrase) return { state, answer: true };
  return {
    state: {
      ...state,
      editor: lineOf(),
      error: `"${printable(edit.submit)}" is not "${gate.phrase}": nothing was done. Type it exactly, or Esc to cancel.`,
    },
    wrongPhrase: edit.submit,
  };
}

export function gateLines(state: GateState, width: number): Line[] {
  const { gate } = state;
  const out: Line[] = [
    rule(gate.kind === 'typed' ? 'Confirm by typing' : 'Confirm', width, { color: 'yellow', bold: true }),
    ...wrapLine(line(gate.prompt, { bold: true, color: 'yellow' }), width),
  ];
  for (const [label, value] of Object.entries(gate.target ?? {}))
    out.push(...wrapLine([seg(`${label}: `), seg(value, { bold: true })], width, 2));
  if (gate.kind === 'confirm') out.push(line('Proceed? y / n (Esc cancels)'));
  else
    out.push(
      ...wrapLine(
        editorLine([seg('Type '), seg(gate.phrase, { bold: true }), seg(' to confirm: ')], state.editor),
        width,
        2,
      ),
    );
  if (state.error) out.push(...wrapLine(line(`✗ ${state.error}`, { color: 'red' }), width, 2));
  return out;
}

// ---------------------------------------------------------------- values form

export interface FormState {
  names: readonly string[];
  index: number;
  answers: Readonly<Record<string, string>>;
  editor: LineState;
  error?: string;
}

export type FormStep = { state: FormState; done?: Record<string, string> | null };

function defaultOf(name: string): string {
  const spec = valueSpec(name);
  return spec.secret ? '' : (spec.default ?? '');
}

export function formState(names: readonly string[]): FormState {
  return { names, index: 0, answers: {}, editor: lineOf(defaultOf(names[0] ?? '')) };
}

export function reduceForm(state: FormState, pressed: KeyPress): FormStep {
  const name = state.names[state.index];
  if (!name) return { state, done: { ...state.answers } };
  const edit = editLine(state.editor, pressed);
  if (edit.cancel) return { state, done: null };
  if (edit.submit === undefined) return { state: { ...state, editor: edit.state } };
  const problem = validateValue(name, edit.submit);
  if (problem) return { state: { ...state, error: `${name} ${problem}` } };
  const answers = { ...state.answers, [name]: edit.submit };
  if (state.index + 1 >= state.names.length) return { state: { ...state, answers }, done: answers };
  const following = state.names[state.index + 1]!;
  return {
    state: {
      ...state,
      answers,
      index: state.index + 1,
      editor: lineOf(defaultOf(following)),
      error: undefined,
    },
  };
}

export function formLines(state: FormState, width: number): Line[] {
  const name = state.names[state.index];
  if (!name) return [];
  const spec = valueSpec(name);
  const out: Line[] = [
    rule(`Values needed (${state.index + 1}/${state.names.length})`, width, { bold: true }),
  ];
  if (spec.help) out.push(...wrapLine(line(spec.help, { dim: true }), width, 2));
  out.push(
    ...wrapLine(
      editorLine([seg(`${spec.label} `), seg(`(${name})`, { dim: true }), seg(': ')], state.editor, {
        secret: spec.secret,
        placeholder: spec.secret ? '(hidden)' : (spec.example ?? spec.default ?? ''),
      }),
      width,
      2,
    ),
  );
  out.push(
    state.error
      ? line(`✗ ${state.error}`, { color: 'red' })
      : line('Enter to accept · Backspace erases · Esc to cancel', { dim: true }),
  );
  return wrapAll(out, width);
}

// ---------------------------------------------------------------- choice

export interface ChoiceState {
  prompt: string;
  choices: readonly Choice[];
  cursor: number;
}

export type ChoiceStep = { state: ChoiceState; done?: string | null; quit?: boolean };

/** The suggested choice (`fallback`) goes first, under the cursor. */
export function choiceState(prompt: string, choices: readonly Choice[], fallback?: string): ChoiceState {
  const ordered = [...choices].sort((a, b) => Number(b.value === fallback) - Number(a.value === fallback));
  return { prompt, choices: ordered, cursor: 0 };
}

const CHOICE_PAGE = 8;

export function reduceChoice(state: ChoiceState, pressed: KeyPress): ChoiceStep {
  const last = state.choices.length - 1;
  const move = (cursor: number) => ({ state: { ...state, cursor: Math.max(0, Math.min(last, cursor)) } });
  switch (commandFor(pressed, 'prompt')) {
    case 'up':
      return move(state.cursor - 1);
    case 'down':
      return move(state.cursor + 1);
    case 'page-up':
      return move(state.cursor - CHOICE_PAGE);
    case 'page-down':
      return move(state.cursor + CHOICE_PAGE);
    case 'top':
      return move(0);
    case 'bottom':
      return move(last);
    case 'open':
      return { state, done: state.choices[state.cursor]?.value ?? null };
    case 'back':
      return { state, done: null };
    case 'quit':
      return { state, quit: true };
    default:
      return { state };
  }
}

/** The list, windowed to `rows` lines around the cursor when given. */
export function choiceLines(state: ChoiceState, width: number, rows?: number): Line[] {
  const head = wrapLine(line(state.prompt, { bold: true }), width);
  const items = state.choices.map((choice, index) => {
    const selected = index === state.cursor;
    return wrapLine(
      [
        seg(selected ? '› ' : '  ', { color: 'cyan' }),
        seg(choice.label, { bold: selected, color: selected ? 'cyan' : undefined }),
        ...(choice.hint ? [seg(`  ${choice.hint}`, { dim: true })] : []),
      ],
      width,
      4,
    );
  });
  const foot = line('↑/↓ move · Enter choose · Esc cancel', { dim: true });
  let shown = items;
  let more: Line[] = [];
  if (rows !== undefined) {
    const room = Math.max(1, rows - head.length - 2);
    // Items from the cursor's page, as many as fit.
    let start = Math.max(0, state.cursor - Math.floor(room / 2));
    let used = 0;
    let end = start;
    while (end < items.length && used + items[end]!.length <= room) used += items[end++]!.length;
    while (start > 0 && used + items[start - 1]!.length <= room) used += items[--start]!.length;
    shown = items.slice(start, Math.max(end, start + 1));
    if (start > 0 || end < items.length)
      more = [line(`(${state.cursor + 1} of ${items.length}: ↑/↓ for more)`, { dim: true })];
  }
  return [rule('Choose', width, { color: 'cyan' }), ...head, ...shown.flat(), ...more, foot];
}

// ---------------------------------------------------------------- backup schedules

export interface ScheduleField {
  /** Value name, e.g. POSTGRES_BACKUP_SCHEDULE. */
  name: string;
  /** What it schedules, e.g. postgres-daily-backup. */
  cronJob: string;
  /** The current value (the session's), shown as the starting text. */
  value: string;
}

export interface ScheduleState {
  fields: readonly ScheduleField[];
  timeZone: string;
  index: number;
  answers: Readonly<Record<string, string>>;
  editor: LineState;
  rejected?: { value: string; message: string };
}

export type ScheduleStep = { state: ScheduleState; done?: Record<string, string> | null };

export function scheduleState(fields: readonly ScheduleField[], timeZone = 'Etc/UTC'): ScheduleState {
  return { fields, timeZone, index: 0, answers: {}, editor: lineOf(fields[0]?.value ?? '') };
}

export function reduceSchedule(state: ScheduleState, pressed: KeyPress): ScheduleStep {
  const field = state.fields[state.index];
  if (!field) return { state, done: { ...state.answers } };
  const edit = editLine(state.editor, pressed);
  if (edit.cancel) return { state, done: null };
  if (edit.submit === undefined) return { state: { ...state, editor: edit.state } };
  const invalid = cronProblem(edit.submit);
  if (invalid)
    return { state: { ...state, rejected: { value: edit.submit, message: `${field.name} ${invalid}` } } };
  const answers = { ...state.answers, [field.name]: edit.submit.trim().split(/\s+/).join(' ') };
  const following = state.fields[state.index + 1];
  if (!following) return { state: { ...state, answers }, done: answers };
  return {
    state: {
      ...state,
      answers,
      index: state.index + 1,
      editor: lineOf(following.value),
      rejected: undefined,
    },
  };
}

function when(expression: string, timeZone: string, now: Date): string {
  const next = nextRun(expression, now, timeZone);
  const at = next ? `, next run ${next.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
  return `${describeCron(expression, timeZone)}${at}`;
}

export function scheduleLines(state: ScheduleState, width: number, now: Date): Line[] {
  const field = state.fields[state.index];
  if (!field) return [];
  const spec = valueSpec(field.name);
  const draft = state.editor.value;
  const problem = cronProblem(draft);
  const error = state.rejected && state.rejected.value === draft ? state.rejected.message : undefined;
  const out: Line[] = [
    rule(
      `Backup schedules (${state.index + 1}/${state.fields.length}) — time zone ${state.timeZone}`,
      width,
      {
        bold: true,
      },
    ),
  ];
  state.fields.forEach((other, position) => {
    if (position < state.index) {
      const value = state.answers[other.name] ?? '';
      out.push(line(`✓ ${other.cronJob}: ${value} (${when(value, state.timeZone, now)})`, { dim: true }));
    }
  });
  out.push(
    editorLine([seg(`${field.cronJob} `), seg(`(${field.name})`, { dim: true }), seg(': ')], state.editor, {
      placeholder: spec.default ?? '0 2 * * *',
    }),
  );
  out.push(
    error
      ? line(`✗ ${error}`, { color: 'red' })
      : problem
        ? line(`… ${problem}`, { color: 'yellow' })
        : line(`= ${when(draft, state.timeZone, now)}`, { color: 'green' }),
  );
  out.push(
    line('minute hour day-of-month month day-of-week · Enter to accept · Esc to cancel', { dim: true }),
  );
  return wrapAll(out, width);
}

// ---------------------------------------------------------------- the quit question

export function quitLines(stepTitle: string, consequence: string, width: number): Line[] {
  return wrapAll(
    [
      rule('Quit?', width, { color: 'red', bold: true }),
      line(`"${stepTitle}" is running. Quitting interrupts it: ${consequence}`, { bold: true }),
      line('y quit now · n or Esc keep it running', { color: 'yellow' }),
    ],
    width,
  );
}
