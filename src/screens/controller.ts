/**
 * The TUI's controller: the App's store and the effects `update` asks for — running steps through the
 * session (its prompts are the store's), aborting, answering, quitting. Plain TypeScript, made once per
 * App; the component only draws its state. The run loop is the TUI's side of the engine's: the step
 * options, prompts and interruption live here, the steps' states and journal in the session.
 */
import { scheduleFields } from './components/configure/ScheduleEditor.js';
import { runLoop, type LoopStop } from '../engine/run-loop.js';
import { DETACH, type GateAttempts, type GateDecision, type Session } from '../engine/session.js';
import { describeError, EXIT } from '../runbook/errors.js';
import { lastProvenRestorable } from '../steps/clients/verification-records.js';
import { interruptConsequence, interruptSummary } from '../runbook/interrupt.js';
import { MARK } from '../runbook/marks.js';
import type { StepOptions } from '../runbook/options.js';
import type { ReportModel, ReportPaths } from '../runbook/report/index.js';
import { SECTIONS, type SectionId } from '../runbook/sections.js';
import type { Choice, Gate } from '../runbook/step.js';
import type { RunbookStep } from '../steps/define.js';
import {
  initialState,
  update,
  type AppEnv,
  type AppState,
  type Effect,
  type Msg,
  type Notice,
  type Prompt,
} from './app-state.js';
import type { KeyPress } from './input.js';
import { choiceState, formState, gateState } from './prompts.js';
import { storeOf } from './session-store.js';
import { tuiText } from './tui-text.js';
import { createStore, type Store } from './use-store.js';

/** What the TUI says when the loop stopped before the end (a failed step speaks for itself in its row). */
function stopNotice(stop: LoopStop | undefined): Notice | undefined {
  if (!stop) return undefined;
  const title = stop.step.title;
  if (stop.kind === 'blocked')
    return {
      text: `"${title}" needs a Kubernetes cluster, and there is none: ${stop.reason}. Nothing was asked or done. Quit (q) and start again with a kubeconfig (KUBECONFIG, --kubeconfig FILE, --context NAME) or with --sandbox.`,
      tone: 'error',
    };
  if (stop.kind === 'values-not-given')
    return { text: `"${title}" was not run: the values it needs were not given.`, tone: 'warn' };
  const { outcome } = stop;
  if (outcome.exitCode === EXIT.gateRefused)
    return {
      text: `Gate refused: nothing was changed. Enter runs "${title}" again and asks again.`,
      tone: 'warn',
    };
  if (outcome.error && outcome.status !== 'failed')
    return {
      text: tuiText(`${outcome.error.message}${outcome.error.next ? ` → ${outcome.error.next}` : ''}`),
      tone: 'error',
    };
  return undefined;
}

/** Sections whose steps need the Kubernetes API before anything else. */
const CLUSTER_SECTIONS: ReadonlySet<SectionId> = new Set([
  'configure',
  'deploy',
  'test-postgres',
  'test-neo4j',
]);

export interface ControllerInput {
  session: Session;
  stepsOf(section: string): RunbookStep[];
  onQuit(outcome: 'quit' | 'interrupted'): void;
  report?: { build(): ReportModel; export(): ReportPaths };
  initialOptions?: StepOptions;
  startNotice?: string;
  clusterProblem?: string;
}

export class TuiController {
  readonly store: Store<AppState>;
  /** The scrollable pane of the last frame: its rows and lines (the App sets it after each render). */
  private pane = { page: 1, total: 0 };
  /** Ends the Ink app (the App sets it). */
  private exit: () => void = () => undefined;
  readonly env: AppEnv;
  private abort: AbortController | undefined;
  private resolver: ((value: unknown) => void) | undefined;
  private wrongPhrase: ((typed: string) => void) | undefined;
  private quitting = false;

  constructor(private readonly input: ControllerInput) {
    this.store = createStore<AppState>({
      ...initialState(input.initialOptions),
      notice: input.startNotice ? { text: input.startNotice, tone: 'warn' } : undefined,
    });
    const { session } = input;
    this.env = {
      sections: SECTIONS,
      stepsOf: (section) =>
        this.steps(section).map((step) => ({
          id: step.id,
          title: step.title,
          skippable: step.skippable === true,
        })),
      status: (id) => session.status(id),
      hasReport: input.report !== undefined,
      pane: () => this.pane,
      consequence: (id) => interruptConsequence(id, storeOf(session).getSnapshot().events),
      scheduleFields: () => scheduleFields(session.values),
    };
  }

  /**
   * Reads "last proven restorable" from the bucket once, in the background: the checklist shows it when it
   * arrives, and nothing waits for it. Without S3_BUCKET there is nothing to read.
   */
  readProof(): void {
    const { session } = this.input;
    if (!session.values.get('S3_BUCKET')) return;
    lastProvenRestorable(session.adapters, session.values).then(
      (lines) => this.dispatch({ type: 'proof', proof: { lines } }),
      (error: unknown) =>
        this.dispatch({ type: 'proof', proof: { problem: tuiText(describeError(error).message) } }),
    );
  }

  setPane(pane: { page: number; total: number }): void {
    this.pane = pane;
  }

  setExit(exit: () => void): void {
    this.exit = exit;
  }

  steps(section: SectionId): RunbookStep[] {
    return this.input.stepsOf(section);
  }

  findStep(id: string): RunbookStep | undefined {
    return SECTIONS.flatMap((section) => this.steps(section.id)).find((step) => step.id === id);
  }

  dispatch = (msg: Msg): void => {
    const [next, effects] = update(this.store.get(), msg, this.env);
    this.store.set(next);
    for (const effect of effects) this.perform(effect);
  };

  key = (pressed: KeyPress): void => this.dispatch({ type: 'key', key: pressed });

  /** SIGINT/SIGTERM from outside: as Ctrl-C. */
  interrupt = (): void => this.key({ name: 'char', text: 'c', ctrl: true, meta: false });

  private perform(effect: Effect): void {
    const { session, report } = this.input;
    switch (effect.type) {
      case 'run':
        void this.runSteps(effect.steps, effect.all);
        return;
      case 'skip': {
        const step = this.findStep(effect.step);
        if (step) session.skip(step, 'skipped by the operator');
        return;
      }
      case 'abort':
        this.abort?.abort(effect.reason === 'detach' ? DETACH : 'SIGINT');
        return;
      case 'answer': {
        const resolve = this.resolver;
        this.resolver = undefined;
        this.wrongPhrase = undefined;
        resolve?.(effect.value);
        return;
      }
      case 'wrong-phrase':
        this.wrongPhrase?.(effect.typed);
        return;
      case 'set-values':
        for (const [name, value] of Object.entries(effect.values)) session.setValue(name, value);
        return;
      case 'add-note':
        session.record({ type: 'note', text: effect.text });
        return;
      case 'export-report': {
        if (!report) return;
        const paths = report.export();
        this.dispatch({
          type: 'notice',
          notice: { text: `written: ${paths.markdown}, ${paths.html} and ${paths.json}`, tone: 'ok' },
        });
        return;
      }
      case 'quit':
        this.finish('quit');
        return;
      case 'force-quit':
        this.abort?.abort('SIGINT');
        session.record({
          type: 'mark',
          name: MARK.interrupted,
          at: new Date().toISOString(),
          data: { by: 'ctrl-c', forced: true },
        });
        this.finish('interrupted');
        return;
    }
  }

  private finish(outcome: 'quit' | 'interrupted'): void {
    if (this.quitting) return;
    this.quitting = true;
    this.input.onQuit(outcome);
    // Let the last frame (the summary) draw before Ink unmounts.
    setTimeout(() => this.exit(), 30);
  }

  /** Opens a prompt and waits for its answer (undefined: cancelled). */
  private ask<T>(prompt: Prompt, onWrong?: (typed: string) => void): Promise<T> {
    return new Promise<T>((resolve) => {
      this.resolver = resolve as (value: unknown) => void;
      this.wrongPhrase = onWrong;
      this.dispatch({ type: 'open-prompt', prompt });
    });
  }

  /** Runs steps of the open section in order; `all`: the section's remaining ones. */
  async runSteps(ids: readonly string[], all: boolean): Promise<void> {
    const { session, clusterProblem } = this.input;
    const section = this.store.get().section;
    if (!section || this.abort) return;
    const toRun = ids
      .map((id) => this.findStep(id))
      .filter((step): step is RunbookStep => step !== undefined);
    const controller = new AbortController();
    this.abort = controller;
    this.dispatch({ type: 'run-started', section, queue: toRun.map((step) => step.id), all });
    let last: string | undefined;
    let ok = true;
    let notice: Notice | undefined;
    try {
      const loop = await runLoop(session, toRun, {
        signal: controller.signal,
        options: () => this.store.get().options,
        onStepStart: (step) => this.dispatch({ type: 'step-started', step: step.id }),
        blocked: (step) =>
          clusterProblem && CLUSTER_SECTIONS.has(step.section) ? clusterProblem : undefined,
        askValues: (_step, missing) =>
          this.ask<Record<string, string> | undefined>({ kind: 'form', state: formState(missing) }),
        confirm: async (gate: Gate, _step, attempts: GateAttempts): Promise<GateDecision> => {
          const accepted = await this.ask<boolean>(
            { kind: 'gate', state: gateState({ ...gate, prompt: tuiText(gate.prompt) }) },
            (typed) => attempts.wrongPhrase(typed),
          );
          return { answer: accepted ? 'accepted' : 'refused', via: 'operator' };
        },
        choose: (prompt: string, choices: readonly Choice[], fallback: string | undefined) =>
          this.ask<string | undefined>({
            kind: 'choice',
            state: choiceState(
              tuiText(prompt),
              choices.map((choice) => ({
                ...choice,
                label: tuiText(choice.label),
                hint: choice.hint && tuiText(choice.hint),
              })),
              fallback,
            ),
          }),
      });
      last = loop.last?.id;
      ok = loop.ok;
      notice = stopNotice(loop.stop);
    } finally {
      this.abort = undefined;
      const stopping = this.store.get().running?.stopping;
      if (stopping === 'ctrl-c' || stopping === 'quit') this.stopped(stopping, last);
      else this.dispatch({ type: 'run-ended', last, ok, notice });
    }
  }

  /** After Ctrl-C or q: the journal records what the interruption left; the last frame says it; quit. */
  private stopped(how: 'ctrl-c' | 'quit', last: string | undefined): void {
    const { session } = this.input;
    const lines = interruptSummary({
      stepId: last,
      stepTitle: last ? this.findStep(last)?.title : undefined,
      how,
      events: storeOf(session).getSnapshot().events,
    });
    session.record({
      type: 'mark',
      ...(last ? { step: last } : {}),
      name: MARK.interrupted,
      at: new Date().toISOString(),
      data: { by: how, consequences: lines },
    });
    this.dispatch({
      type: 'exiting',
      code: 130,
      lines: [
        ...lines,
        `Journal: ${session.journalPath} (recorded as interrupted). ${
          session.target.sandbox
            ? 'A sandbox goes away with this process: the next start says this session stopped here but cannot resume it (run `db-runbook sandbox` in another terminal to keep one to resume against).'
            : 'The next start offers to resume this session.'
        }`,
      ],
    });
    this.finish('interrupted');
  }
}
