/**
 * The one run loop: steps in order, skipping those out of scope (and, on resume, those already done),
 * asking for missing values, stopping at the first failure unless a step's checks are independent.
 * The TUI and the command line supply only how to ask, confirm and choose.
 */
import { EXIT } from '../runbook/errors.js';
import type { StepOptions } from '../runbook/options.js';
import type { Adapters } from '../adapters/types.js';
import type { StepDefinition } from '../runbook/step.js';
import type { Chooser, Confirmer, Session, StepOutcome } from './session.js';

/** A step as the loop runs it: `continueOnFailure` marks checks that are independent of each other. */
export type LoopStep = StepDefinition<Adapters> & { continueOnFailure?: boolean };

export interface LoopSurface {
  confirm: Confirmer;
  /** Interactive choice; absent in non-interactive runs (each step's fallback is used). */
  choose?: Chooser;
  /** Asks for the values a step cannot run without; undefined: not given. Absent: the step reports them missing. */
  askValues?: (step: LoopStep, missing: string[]) => Promise<Record<string, string> | undefined>;
  /** Why a step cannot run on this surface at all (the TUI without a cluster), before anything is asked. */
  blocked?: (step: LoopStep) => string | undefined;
  /** The options at the moment each step starts (the TUI's toggles can change between steps). */
  options: () => StepOptions;
  signal: AbortSignal;
  /** Gates are answered by flags, not by a person at a prompt. */
  nonInteractive?: boolean;
  /** Steps already done or skipped in this session are not run again (run, resume). */
  skipFinished?: boolean;
  onStepStart?: (step: LoopStep) => void;
  onOutcome?: (step: LoopStep, outcome: StepOutcome) => void;
}

/** Why the loop stopped before the end, when it did. */
export type LoopStop =
  | { kind: 'blocked'; step: LoopStep; reason: string }
  | { kind: 'values-not-given'; step: LoopStep }
  | { kind: 'outcome'; step: LoopStep; outcome: StepOutcome };

export interface LoopResult {
  /** The first failure's exit code (an interruption wins), or 0. */
  exitCode: number;
  /** Every step ran to done or was skipped. */
  ok: boolean;
  /** The last step the loop reached. */
  last?: LoopStep;
  stop?: LoopStop;
}

export async function runLoop(
  session: Session,
  steps: readonly LoopStep[],
  surface: LoopSurface,
): Promise<LoopResult> {
  const { signal } = surface;
  let exitCode: number = EXIT.done;
  let ok = true;
  let last: LoopStep | undefined;
  for (const step of steps) {
    if (signal.aborted) break;
    const status = session.status(step.id);
    if (surface.skipFinished && (status === 'done' || status === 'skipped')) continue;
    last = step;
    if (step.database && !session.values.inScope(step.database)) {
      session.skip(step, `${step.database} is out of scope (DATABASES=${session.values.get('DATABASES')})`);
      continue;
    }
    surface.onStepStart?.(step);
    const blocked = surface.blocked?.(step);
    if (blocked)
      return { exitCode: EXIT.usage, ok: false, last, stop: { kind: 'blocked', step, reason: blocked } };
    const missing = session.missing(step);
    if (missing.length > 0 && surface.askValues) {
      const answers = await surface.askValues(step, missing);
      if (!answers)
        return { exitCode: EXIT.usage, ok: false, last, stop: { kind: 'values-not-given', step } };
      for (const [name, value] of Object.entries(answers)) session.setValue(name, value);
    }
    const outcome = await session.run(step, {
      confirm: surface.confirm,
      choose: surface.choose,
      options: surface.options(),
      signal,
      nonInteractive: surface.nonInteractive,
    });
    surface.onOutcome?.(step, outcome);
    if (outcome.status !== 'done' || outcome.exitCode !== EXIT.done) ok = false;
    if (outcome.exitCode !== EXIT.done && (exitCode === EXIT.done || outcome.exitCode === EXIT.interrupted))
      exitCode = outcome.exitCode;
    const independent =
      outcome.status === 'failed' && outcome.exitCode === EXIT.stepFailed && step.continueOnFailure === true;
    const goOn = outcome.status === 'done' || independent;
    if (!goOn) return { exitCode, ok, last, stop: { kind: 'outcome', step, outcome } };
  }
  if (signal.aborted) return { exitCode: EXIT.interrupted, ok: false, last };
  return { exitCode, ok, last };
}
