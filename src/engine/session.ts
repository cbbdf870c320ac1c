import type { JournalWriter } from '../adapters/journal-store.js';
import type { Adapters } from '../adapters/types.js';
import { describeError, EXIT, GateRefusedError, InterruptedError, RunbookError } from '../runbook/errors.js';
import {
  maskString,
  phraseMismatch,
  type GateVia,
  type JournalEvent,
  type JournalEventBody,
  type StepStatus,
  type TargetInfo,
} from '../runbook/journal.js';
import {
  resultFailed,
  transition,
  type Choice,
  type Gate,
  type Progress,
  type StepContext,
  type StepDefinition,
  type StepEvent,
  type StepHandle,
  type StepResult,
} from '../runbook/step.js';
import type { Settings, StepOptions } from '../runbook/options.js';
import type { Values } from '../runbook/values.js';
import { isSecret, missingInputs, type ValueSource } from '../runbook/values.js';

/** Abort reason for "stop waiting, leave it running" (Esc in the TUI). Steps check ctx.signal.reason. */
export const DETACH = 'detach';

export type GateAnswer = 'accepted' | 'refused' | 'overridden';

/** A gate's answer and who gave it: a person at the prompt, or flags (`--yes`, `--confirm`) with nobody asked. */
export interface GateDecision {
  answer: GateAnswer;
  via: GateVia;
  /** The flags that answered (names only), when `via` is `flag`. */
  flags?: string[];
}

/** What a confirmer reports while the gate is open: each wrong phrase typed (journaled without its text). */
export interface GateAttempts {
  wrongPhrase(typed: string): void;
}

export type Confirmer = (
  gate: Gate,
  step: StepDefinition<Adapters>,
  attempts: GateAttempts,
) => Promise<GateAnswer | GateDecision>;

/** Lets the operator pick one of `choices`; `fallback` is what a non-interactive run gets. */
export type Chooser = (
  prompt: string,
  choices: readonly Choice[],
  fallback: string | undefined,
) => Promise<string | undefined>;

export type SessionEvent =
  { kind: 'journal'; event: JournalEvent } | { kind: 'progress'; step: string; progress: Progress };

export interface SessionOptions {
  journal: JournalWriter;
  values: Values;
  settings: Settings;
  target: TargetInfo;
  adapters: (session: Session) => Adapters;
}

export interface RunOptions {
  confirm: Confirmer;
  /** Interactive choice; absent in non-interactive runs (the step's fallback is used). */
  choose?: Chooser;
  options?: StepOptions;
  signal?: AbortSignal;
  /** Gates are answered by flags (`run`, `resume`), not by a person at a prompt. */
  nonInteractive?: boolean;
}

export interface StepOutcome {
  status: StepStatus;
  /** Its data as the journal holds it (plain JSON). */
  result?: StepResult<Record<string, unknown>>;
  error?: { message: string; next?: string };
  exitCode: number;
}

/**
 * One operator session: the values, the journal and each step's state. Every transition, gate
 * answer, check and result goes to the journal; the screens and the non-interactive printer listen.
 */
export class Session {
  readonly id: string;
  readonly target: TargetInfo;
  readonly settings: Settings;
  readonly adapters: Adapters;
  private valuesNow: Values;
  private readonly journal: JournalWriter;
  private readonly states = new Map<string, StepStatus>();
  private readonly results = new Map<string, StepResult>();
  private readonly listeners = new Set<(event: SessionEvent) => void>();
  private current: string | undefined;

  constructor(options: SessionOptions) {
    this.journal = options.journal;
    this.id = options.journal.sessionId;
    this.valuesNow = options.values;
    this.settings = options.settings;
    this.target = options.target;
    this.adapters = options.adapters(this);
  }

  get values(): Values {
    return this.valuesNow;
  }

  get journalPath(): string {
    return this.journal.path;
  }

  get currentStep(): string | undefined {
    return this.current;
  }

  subscribe(listener: (event: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(body: JournalEventBody): void {
    const event = this.journal.append(body);
    const masked = {
      ...event,
      ...(body.type === 'log' ? { line: this.mask(body.line) } : {}),
    } as JournalEvent;
    for (const listener of this.listeners) listener({ kind: 'journal', event: masked });
  }

  mask(text: string): string {
    return maskString(text, this.valuesNow.secretValues());
  }

  /** A value typed in the TUI. Secrets are masked in the journal from now on; the value itself is never journaled. */
  setValue(name: string, value: string, source: ValueSource = 'input'): void {
    if (isSecret(name)) this.journal.addSecrets([value]);
    this.valuesNow = this.valuesNow.with(name, value, source);
    this.record({
      type: 'values',
      values: { [name]: isSecret(name) ? { source, secret: true } : { source, value } },
    });
  }

  /** Restores what a previous session (resume) recorded. */
  restoreStep(stepId: string, status: StepStatus, result?: StepResult): void {
    this.states.set(stepId, status);
    if (result) this.results.set(stepId, result);
  }

  status(stepId: string): StepStatus {
    return this.states.get(stepId) ?? 'pending';
  }

  result(stepId: string): StepResult | undefined {
    return this.results.get(stepId);
  }

  /** An earlier step's output through its handle; data from a journal goes through the handle's decoder. */
  output<Out extends object>(handle: StepHandle<Out>): Out | undefined {
    const data = this.results.get(handle.id)?.data as Record<string, unknown> | undefined;
    if (data === undefined) return undefined;
    return handle.decode ? handle.decode(data) : (data as Out);
  }

  private move(step: StepDefinition<Adapters>, event: StepEvent, reason?: string): void {
    const from = this.status(step.id);
    const to = transition(from, event);
    if (!to) throw new Error(`step ${step.id}: ${event.type} is not allowed in state ${from}`);
    this.states.set(step.id, to);
    this.record({ type: 'step-state', step: step.id, section: step.section, from, to, reason });
  }

  skip(step: StepDefinition<Adapters>, reason: string): void {
    this.move(step, { type: 'skip' }, reason);
    this.record({ type: 'result', step: step.id, status: 'skipped', summary: reason });
  }

  missing(step: StepDefinition<Adapters>): string[] {
    return missingInputs(this.valuesNow, step.inputs);
  }

  async run(step: StepDefinition<Adapters>, run: RunOptions): Promise<StepOutcome> {
    const missing = this.missing(step);
    if (missing.length > 0) {
      const error = new RunbookError(`${step.id} needs ${missing.join(', ')}`, {
        exitCode: EXIT.usage,
        next: `Set ${missing.join(', ')} in the environment${missing.some(isSecret) ? '' : ' or the --values file'}.`,
      });
      return { status: this.status(step.id), error: describeError(error), exitCode: EXIT.usage };
    }
    if (this.status(step.id) === 'pending') this.move(step, { type: 'inputs-ready' });
    this.current = step.id;
    const controller = new AbortController();
    const onAbort = () => controller.abort(run.signal?.reason);
    run.signal?.addEventListener('abort', onAbort, { once: true });
    const ctx: StepContext<Adapters> = {
      stepId: step.id,
      sessionId: this.id,
      values: this.valuesNow,
      settings: this.settings,
      target: this.target,
      adapters: this.adapters,
      signal: controller.signal,
      options: run.options ?? {},
      progress: (progress) => this.emit({ kind: 'progress', step: step.id, progress }),
      log: (line) => this.record({ type: 'log', step: step.id, line: this.mask(line) }),
      from: (handle) => this.output(handle),
      mark: (name, data) =>
        this.record({ type: 'mark', step: step.id, name, at: new Date().toISOString(), data }),
      choose: async (prompt, choices, fallback) =>
        run.choose ? run.choose(prompt, choices, fallback) : fallback,
    };
    try {
      if (step.preview) {
        ctx.preview = await step.preview(ctx);
        this.record({
          type: 'preview',
          step: step.id,
          lines: ctx.preview.lines.map((line) => this.mask(line)),
        });
      }
      const gate = step.gate?.(this.valuesNow, {
        target: this.target,
        from: ctx.from,
        options: ctx.options,
        preview: ctx.preview,
      });
      this.move(step, { type: 'start', gated: gate !== undefined });
      if (gate) {
        const given = await run.confirm(gate, step, {
          wrongPhrase: (typed) => {
            if (gate.kind !== 'typed') return;
            this.record({
              type: 'gate-attempt',
              step: step.id,
              outcome: 'wrong-phrase',
              via: run.nonInteractive ? 'flag' : 'operator',
              ...phraseMismatch(typed, gate.phrase),
            });
          },
        });
        const decision: GateDecision = typeof given === 'string' ? { answer: given, via: 'operator' } : given;
        const answer = decision.answer;
        this.record({
          type: 'gate',
          step: step.id,
          kind: gate.kind,
          prompt: gate.prompt,
          answer,
          deviation: answer === 'overridden',
          via: decision.via,
          ...(decision.flags ? { flags: decision.flags } : {}),
        });
        ctx.confirmedVia = decision.via;
        if (answer === 'refused') {
          this.move(step, { type: 'gate-refused' });
          // Each surface says how to accept it there: flags for `run`, the prompt in the TUI.
          const refused = new GateRefusedError(
            `gate refused: ${gate.prompt}`,
            run.nonInteractive
              ? gate.kind === 'typed'
                ? `To proceed, give the exact text with --confirm "${gate.phrase}" (and --yes).`
                : 'Run again with --yes to accept.'
              : 'Nothing was changed. Run the step again to be asked again.',
          );
          return { status: 'ready', error: describeError(refused), exitCode: EXIT.gateRefused };
        }
        this.move(step, { type: 'gate-accepted' });
      }
      const result: StepResult = await step.run(ctx);
      // 'detach' (Esc while waiting) is the operator choosing to stop watching: the step reports what it saw.
      if (run.signal?.aborted && run.signal.reason !== DETACH) throw new InterruptedError();
      this.move(step, { type: 'ran' });
      for (const check of result.checks ?? []) this.record({ type: 'check', step: step.id, ...check });
      const failed = resultFailed(result);
      this.move(step, { type: 'verified', failed });
      this.results.set(step.id, result);
      this.record({
        type: 'result',
        step: step.id,
        status: failed ? 'failed' : 'done',
        summary: result.summary,
        data: result.data as Record<string, unknown> | undefined,
      });
      return {
        status: failed ? 'failed' : 'done',
        result: result as StepResult<Record<string, unknown>>,
        exitCode: failed ? EXIT.stepFailed : EXIT.done,
      };
    } catch (caught) {
      const error =
        run.signal?.aborted && !(caught instanceof RunbookError) ? new InterruptedError() : caught;
      const described = describeError(error);
      const message = this.mask(described.message);
      const from = this.status(step.id);
      if (transition(from, { type: 'error' })) this.move(step, { type: 'error' }, message);
      const exitCode = error instanceof RunbookError ? error.exitCode : EXIT.stepFailed;
      const summary = error instanceof InterruptedError ? 'interrupted' : message;
      this.record({
        type: 'result',
        step: step.id,
        status: 'failed',
        summary,
        data: described.next ? { next: described.next } : undefined,
      });
      return { status: this.status(step.id), error: { message, next: described.next }, exitCode };
    } finally {
      run.signal?.removeEventListener('abort', onAbort);
      this.current = undefined;
    }
  }

  close(outcome: 'done' | 'failed' | 'interrupted' | 'refused' | 'quit', exitCode: number): void {
    this.record({ type: 'session-end', outcome, exitCode });
    this.journal.close();
  }

  private emit(event: SessionEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

export function valuesForJournal(
  values: Values,
): Record<string, { source: string; value?: string; secret?: boolean }> {
  const out: Record<string, { source: string; value?: string; secret?: boolean }> = {};
  for (const name of values.names()) {
    const source = values.source(name) ?? 'default';
    out[name] = isSecret(name) ? { source, secret: true } : { source, value: values.get(name) ?? '' };
  }
  return out;
}
