import type { CheckStatus, StepStatus, TargetInfo } from './journal.js';
import type { Settings, StepOptions } from './options.js';
import type { SectionId } from './sections.js';
import type { Values } from './values.js';

/** One action a step will take, with the shell command that does the same (secrets masked). */
export interface PlanAction {
  summary: string;
  command?: string;
  destructive?: boolean;
  /** Writes something (an object, a row, a file) — shown so a reader knows plan changes nothing. */
  writes?: boolean;
}

export interface Plan {
  actions: PlanAction[];
  notes?: string[];
}

export type Gate =
  | { kind: 'confirm'; prompt: string; target?: Record<string, string> }
  | { kind: 'typed'; prompt: string; phrase: string; target?: Record<string, string> };

export interface Check {
  id: string;
  label: string;
  status: CheckStatus;
  /** Why: what was found. */
  detail?: string;
  /** What to do next when it is not ok. */
  next?: string;
}

/** `Out`: the facts a step hands to later steps and the report (plain JSON: object keys, times, counts). */
export interface StepResult<Out extends object = object> {
  summary: string;
  checks?: Check[];
  /** Facts later steps and the report read. Never secrets. */
  data?: Out;
}

/**
 * A typed reference to a step's output: the step itself, or `outputOf<T>(id)` for steps a factory builds
 * per section. `decode` checks data read back from a journal (resume, old journals) before a step uses it.
 */
export interface StepHandle<Out extends object = object> {
  readonly id: string;
  readonly decode?: (data: Record<string, unknown>) => Out | undefined;
}

/** A handle on the output of the step with this id, for steps built by a factory (restore-kit). */
export function outputOf<Out extends object>(
  id: string,
  decode?: (data: Record<string, unknown>) => Out | undefined,
): StepHandle<Out> {
  return decode ? { id, decode } : { id };
}

export interface Progress {
  message?: string;
  done?: number;
  total?: number;
  unit?: 'bytes' | 'items';
}

export interface Preview {
  lines: string[];
  data?: Record<string, unknown>;
}

/** What a step's functions receive. Effects go through `adapters`; nothing else does I/O. */
export interface StepContext<A = unknown> {
  stepId: string;
  sessionId: string;
  values: Values;
  /** The values file's settings (and the sandbox's own), checked against the settings table. */
  settings: Settings;
  target: TargetInfo;
  adapters: A;
  signal: AbortSignal;
  /** Options given on the command line or toggled in the TUI (e.g. `write-canary`): runbook/options.ts. */
  options: StepOptions;
  progress(progress: Progress): void;
  log(line: string): void;
  /** What an earlier step of this session returned, typed by its handle (`ctx.from(chooseBackup)`). */
  from<Out extends object>(step: StepHandle<Out>): Out | undefined;
  /** Records a named point in time for the report (incident declared, restore started, …). */
  mark(name: string, data?: Record<string, unknown>): void;
  /** The preview computed before the gate, when the step has one. */
  preview?: Preview;
  /**
   * Who passed the step's gate, when it has one: a person at the prompt (`operator`) or flags
   * (`flag`: `--yes`/`--confirm`, nobody asked). Steps must not claim a person confirmed under `flag`.
   */
  confirmedVia?: 'operator' | 'flag';
  /**
   * Lets the operator pick one of `choices` (the TUI shows a list). Non-interactive runs get
   * `fallback` (e.g. the newest backup, or what --restore-uri named).
   */
  choose(
    prompt: string,
    choices: readonly Choice[],
    fallback: string | undefined,
  ): Promise<string | undefined>;
}

export interface Choice {
  label: string;
  value: string;
  hint?: string;
}

export interface StepDefinition<A = unknown, Out extends object = object> extends StepHandle<Out> {
  /** Stable id, `section.name`: used in the journal and on the command line. */
  readonly id: string;
  section: SectionId;
  title: string;
  description: string;
  /** Values the step cannot run without. */
  inputs: readonly string[];
  /** Values it uses when set. */
  optionalInputs?: readonly string[];
  /** The runbook marks it optional: the user may skip it. */
  skippable?: boolean;
  /** The step is only meaningful when this database is in scope (DATABASES). */
  database?: 'postgres' | 'neo4j';
  /** What it will do, without looking at live state: powers `plan` and the TUI preview. */
  plan(values: Values, options: StepOptions): Plan;
  /**
   * Optional live look before the gate (reads only: e.g. create / update / unchanged per object).
   * Its result is shown to the operator and passed to `gate` and `run` (ctx.preview).
   */
  preview?(ctx: StepContext<A>): Promise<Preview>;
  gate?(
    values: Values,
    ctx: Pick<StepContext<A>, 'target' | 'from' | 'options'> & { preview?: Preview },
  ): Gate | undefined;
  run(ctx: StepContext<A>): Promise<StepResult<Out>>;
}

/** Events that move a step between states. */
export type StepEvent =
  | { type: 'inputs-ready' }
  | { type: 'start'; gated: boolean }
  | { type: 'gate-accepted' }
  | { type: 'gate-refused' }
  | { type: 'ran' }
  | { type: 'verified'; failed: boolean }
  | { type: 'error' }
  | { type: 'skip' }
  | { type: 'reset' };

/**
 * The step state machine: pending → ready → awaiting-confirmation → running → verifying →
 * done | failed | skipped. Returns the next state, or undefined when the event is not allowed.
 */
export function transition(state: StepStatus, event: StepEvent): StepStatus | undefined {
  switch (event.type) {
    case 'inputs-ready':
      return state === 'pending' ? 'ready' : undefined;
    case 'start':
      if (
        state !== 'ready' &&
        state !== 'pending' &&
        state !== 'failed' &&
        state !== 'done' &&
        state !== 'skipped'
      )
        return undefined;
      return event.gated ? 'awaiting-confirmation' : 'running';
    case 'gate-accepted':
      return state === 'awaiting-confirmation' ? 'running' : undefined;
    case 'gate-refused':
      return state === 'awaiting-confirmation' ? 'ready' : undefined;
    case 'ran':
      return state === 'running' ? 'verifying' : undefined;
    case 'verified':
      if (state !== 'verifying') return undefined;
      return event.failed ? 'failed' : 'done';
    case 'error':
      return state === 'running' || state === 'verifying' || state === 'awaiting-confirmation'
        ? 'failed'
        : undefined;
    case 'skip':
      return state === 'done' || state === 'running' || state === 'verifying' ? undefined : 'skipped';
    case 'reset':
      return state === 'running' || state === 'verifying' ? undefined : 'pending';
  }
}

export function isTerminal(state: StepStatus): boolean {
  return state === 'done' || state === 'failed' || state === 'skipped';
}

/** A result fails when any check failed. Warnings do not fail a step. */
export function resultFailed(result: StepResult): boolean {
  return (result.checks ?? []).some((check) => check.status === 'fail');
}
