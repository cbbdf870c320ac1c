/**
 * The one key table: command → keys → what it does, and where. Input handling looks keys up here
 * (`commandFor`) and the `?` overlay is drawn from it (`helpLines`), so the two cannot disagree.
 * Conventions of k9s and lazygit: `?` help, `/` filter, Esc back, `q` quit, j/k, g/G, PgUp/PgDn, Enter.
 * The option toggles (`w`, `t`) come from the options table in runbook/options.ts.
 */
import { OPTIONS, type OptionName, type OptionSpec } from '../runbook/options.js';
import type { SectionId } from '../runbook/sections.js';
import type { KeyName, KeyPress } from './input.js';

/** Where a key works. `list` = the checklist and a section's step list. */
export type KeyContext = 'everywhere' | 'home' | 'section' | 'running' | 'report' | 'help' | 'prompt';

export type Command =
  | 'up'
  | 'down'
  | 'page-up'
  | 'page-down'
  | 'top'
  | 'bottom'
  | 'open'
  | 'run-all'
  | 'skip'
  | 'edit-schedules'
  | 'focus'
  | 'filter'
  | 'report'
  | 'note'
  | 'export'
  | 'back'
  | 'help'
  | 'quit'
  | 'interrupt'
  | 'yes'
  | 'no'
  | `toggle:${OptionName}`;

export interface KeySpec {
  name: KeyName;
  /** For `char` keys: the character. */
  text?: string;
  ctrl?: boolean;
}

export interface Binding {
  command: Command;
  keys: readonly KeySpec[];
  /** How the keys are written in help and footers: `↑/k`. */
  label: string;
  description: string;
  contexts: readonly KeyContext[];
  /** Only in these sections (the toggles, `e`). */
  sections?: readonly SectionId[];
}

const char = (text: string): KeySpec => ({ name: 'char', text });

const MOVES: readonly KeyContext[] = ['home', 'section', 'running', 'report', 'help'];

const TOGGLES: Binding[] = (OPTIONS as readonly OptionSpec[])
  .filter((option) => option.tui !== undefined)
  .map((option) => ({
    command: `toggle:${option.name}` as Command,
    keys: [char(option.tui!.key)],
    label: option.tui!.key,
    description:
      option.kind === 'flag'
        ? `${option.tui!.label}: on/off (${option.description})`
        : `${option.tui!.label}: next value${option.kind === 'text' && option.cycle ? ` (${option.cycle.join(', ')})` : ''}`,
    contexts: ['section'] as const,
    sections: option.tui!.sections,
  }));

export const KEY_TABLE: readonly Binding[] = [
  {
    command: 'up',
    keys: [{ name: 'up' }, char('k')],
    label: '↑/k',
    description: 'move up; in the detail, report and help: scroll a line',
    contexts: [...MOVES, 'prompt'],
  },
  {
    command: 'down',
    keys: [{ name: 'down' }, char('j')],
    label: '↓/j',
    description: 'move down; in the detail, report and help: scroll a line',
    contexts: [...MOVES, 'prompt'],
  },
  {
    command: 'page-up',
    keys: [{ name: 'pageup' }, { name: 'char', text: 'b', ctrl: true }],
    label: 'PgUp/^B',
    description: 'scroll the detail, the report or this help a page up',
    contexts: [...MOVES, 'prompt'],
  },
  {
    command: 'page-down',
    keys: [{ name: 'pagedown' }, { name: 'char', text: 'f', ctrl: true }],
    label: 'PgDn/^F',
    description: 'scroll a page down',
    contexts: [...MOVES, 'prompt'],
  },
  {
    command: 'top',
    keys: [char('g'), { name: 'home' }],
    label: 'g/Home',
    description: 'to the top (first section or step, start of the detail)',
    contexts: [...MOVES, 'prompt'],
  },
  {
    command: 'bottom',
    keys: [char('G'), { name: 'end' }],
    label: 'G/End',
    description: 'to the bottom (last section or step, end of the detail)',
    contexts: [...MOVES, 'prompt'],
  },
  {
    command: 'open',
    keys: [{ name: 'return' }],
    label: 'Enter',
    description: 'open the section / run the selected step / choose in a list',
    contexts: ['home', 'section', 'prompt'],
  },
  {
    command: 'run-all',
    keys: [char('a')],
    label: 'a',
    description: "run the section's remaining steps in order (done steps stay done; Enter re-runs one)",
    contexts: ['section'],
  },
  {
    command: 'skip',
    keys: [char('s')],
    label: 's',
    description: 'skip the selected step (optional steps only)',
    contexts: ['section'],
  },
  {
    command: 'edit-schedules',
    keys: [char('e')],
    label: 'e',
    description: 'edit the backup schedules (cron, UTC)',
    contexts: ['section'],
    sections: ['deploy'],
  },
  ...TOGGLES,
  {
    command: 'focus',
    keys: [{ name: 'tab' }, { name: 'backtab' }],
    label: 'Tab',
    description: 'switch between the step list and the detail (j/k then scroll the detail)',
    contexts: ['section', 'running'],
  },
  {
    command: 'filter',
    keys: [char('/')],
    label: '/',
    description: 'filter the detail, the report or this help: type, Enter keeps it, Esc clears it',
    contexts: ['section', 'running', 'report', 'help'],
  },
  {
    command: 'report',
    keys: [char('r')],
    label: 'r',
    description: 'the DR report of this session: RTO/RPO, deviations, timeline',
    contexts: ['home', 'section', 'running'],
  },
  {
    command: 'note',
    keys: [char('n')],
    label: 'n',
    description: "add a facilitator's note to the report (the journal keeps it)",
    contexts: ['report'],
  },
  {
    command: 'export',
    keys: [char('x')],
    label: 'x',
    description: 'export the report: <session>-dr-report.md, .html and .json beside the journal',
    contexts: ['report'],
  },
  {
    command: 'yes',
    keys: [char('y'), char('Y')],
    label: 'y',
    description: 'yes, at a confirm gate or the quit question',
    contexts: ['prompt'],
  },
  {
    command: 'no',
    keys: [char('n'), char('N')],
    label: 'n',
    description: 'no, at a confirm gate or the quit question (nothing is done)',
    contexts: ['prompt'],
  },
  {
    command: 'back',
    keys: [{ name: 'escape' }],
    label: 'Esc',
    description:
      'back / cancel / clear the filter; while a step runs: stop waiting for it, and the steps after it are not run (the screen names them)',
    contexts: ['everywhere'],
  },
  {
    command: 'help',
    keys: [char('?')],
    label: '?',
    description: 'this help (every key)',
    contexts: ['home', 'section', 'running', 'report', 'help'],
  },
  {
    command: 'quit',
    keys: [char('q')],
    label: 'q',
    description: 'quit; while a step runs it asks first, and says what stopping it leaves behind',
    contexts: ['home', 'section', 'running', 'report', 'help', 'prompt'],
  },
  {
    command: 'interrupt',
    keys: [{ name: 'char', text: 'c', ctrl: true }],
    label: 'Ctrl-C',
    description:
      'interrupt now: the running step stops (a restore is rolled back, a Job is left running and named), the journal records it, and the next start offers to resume',
    contexts: ['everywhere'],
  },
];

function matches(spec: KeySpec, pressed: KeyPress): boolean {
  if (spec.name !== pressed.name) return false;
  if (spec.name !== 'char') return true;
  return spec.text === pressed.text && (spec.ctrl ?? false) === pressed.ctrl && !pressed.meta;
}

/** The command a key means in a context (and section), per the table. */
export function commandFor(pressed: KeyPress, context: KeyContext, section?: SectionId): Command | undefined {
  for (const binding of KEY_TABLE) {
    if (!binding.contexts.includes(context) && !binding.contexts.includes('everywhere')) continue;
    if (binding.sections && (!section || !binding.sections.includes(section))) continue;
    if (binding.keys.some((spec) => matches(spec, pressed))) return binding.command;
  }
  return undefined;
}

export function bindingOf(command: Command): Binding {
  const found = KEY_TABLE.find((binding) => binding.command === command);
  if (!found) throw new Error(`no binding for ${command}`);
  return found;
}

/** `Enter` for a command: how footers name its keys. */
export function keyLabel(command: Command): string {
  return bindingOf(command).label;
}

const CONTEXT_TITLES: Record<KeyContext, string> = {
  everywhere: 'Everywhere',
  home: 'Checklist',
  section: 'A section',
  running: 'While a step runs',
  report: 'The report',
  help: 'This help',
  prompt: 'Gates, lists and the quit question',
};

/**
 * The help overlay's rows, from the table: one row per binding, `label  description  (where)`.
 * Text prompts (a typed gate, a value) take the keys as text, except Enter, Esc and Ctrl-C.
 */
export function helpRows(): { label: string; description: string; where: string }[] {
  return KEY_TABLE.map((binding) => ({
    label: binding.label,
    description: binding.description,
    where: [
      binding.contexts.map((context) => CONTEXT_TITLES[context]).join(', '),
      binding.sections ? `sections: ${binding.sections.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; '),
  }));
}

export const HELP_FOOTNOTES = [
  'In a typed gate or a value field, keys are text: Backspace erases, ←/→ move, Ctrl-U clears, Enter submits, Esc cancels.',
  'Every action is written to the session journal.',
];
