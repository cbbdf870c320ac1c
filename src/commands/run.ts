import { runLoop } from '../engine/run-loop.js';
import type { Confirmer, GateAnswer, GateDecision, Session, SessionEvent } from '../engine/session.js';
import { EXIT, UsageError } from '../runbook/errors.js';
import { phraseMismatch } from '../runbook/journal.js';
import {
  resolveStepOptions,
  type OptionCommand,
  type OptionProblem,
  type StepOptions,
} from '../runbook/options.js';
import type { Gate } from '../runbook/step.js';
import { isSecret, missingInputs, VALUE_SPECS, type Values } from '../runbook/values.js';
import type { SandboxHandle } from '../sandbox/handle.js';
import type { RunbookStep } from '../steps/define.js';
import { selectSteps } from '../steps/index.js';
import {
  describeTarget,
  inputProblems,
  maybeStartSandbox,
  openSession,
  resolveAll,
  valuesFileProblems,
  type GlobalOptions,
} from './context.js';
import { printError, printProblem } from './print-error.js';
import { humanPrinter, jsonPrinter } from './printer.js';

export interface RunOptions extends GlobalOptions {
  yes?: boolean;
  /** The texts given with --confirm (it may be repeated: one per typed gate). */
  confirm?: string | readonly string[];
  writeCanary?: boolean;
  restoreUri?: string;
  incidentTime?: string;
  jobTimeout?: string;
  restoreMode?: 'host' | 'job';
}

function confirmTexts(options: RunOptions): readonly string[] {
  if (options.confirm === undefined) return [];
  return typeof options.confirm === 'string' ? [options.confirm] : options.confirm;
}

/** Step options from the command line and the environment (RESTORE_S3_URI), per the options table. */
export function stepOptions(options: object, command: OptionCommand = 'run'): StepOptions {
  return resolveStepOptions(options as Record<string, unknown>, process.env, command).options;
}

/**
 * Non-interactive gates: confirm needs --yes; typed needs --yes and a --confirm with its exact text.
 * The journal records them as answered by flags (nobody was asked), and a wrong --confirm as an attempt.
 */
function scriptedConfirm(options: RunOptions): Confirmer {
  const texts = confirmTexts(options);
  return async (gate, _step, attempts) => {
    const flags = [
      ...(options.yes ? ['--yes'] : []),
      ...(gate.kind === 'typed' && texts.length > 0 ? ['--confirm'] : []),
    ];
    const decide = (answer: GateAnswer): GateDecision => ({ answer, via: 'flag', flags });
    if (gate.kind === 'typed') {
      const matched = texts.includes(gate.phrase);
      if (!matched) for (const text of texts) attempts.wrongPhrase(text);
      return decide(options.yes && matched ? 'accepted' : 'refused');
    }
    return decide(options.yes ? 'accepted' : 'refused');
  };
}

function outcomeOf(exitCode: number): 'done' | 'failed' | 'interrupted' | 'refused' {
  if (exitCode === EXIT.done) return 'done';
  if (exitCode === EXIT.gateRefused) return 'refused';
  if (exitCode === EXIT.interrupted) return 'interrupted';
  return 'failed';
}

/** The typed gates of these steps whose phrase is known before anything runs (from the values alone). */
export function knownTypedGates(
  session: Pick<Session, 'values' | 'target' | 'status'>,
  steps: readonly RunbookStep[],
  options: StepOptions,
): { step: RunbookStep; gate: Extract<Gate, { kind: 'typed' }> }[] {
  const out: { step: RunbookStep; gate: Extract<Gate, { kind: 'typed' }> }[] = [];
  for (const step of steps) {
    const status = session.status(step.id);
    if (status === 'done' || status === 'skipped' || !step.gate) continue;
    if (step.database && !session.values.inScope(step.database)) continue;
    try {
      const gate = step.gate(session.values, {
        target: session.target,
        from: () => undefined,
        options,
      });
      if (gate?.kind === 'typed' && !gate.phrase.includes('?')) out.push({ step, gate });
    } catch {
      // A gate that needs earlier steps' results is asked when it is reached.
    }
  }
  return out;
}

/**
 * Refuses, before any step runs, a typed gate whose phrase is known now and not given with --confirm
 * (a script learns it at once, not after half a restore; a typed gate also needs --yes). The journal
 * records the refusal and the wrong texts (their length only). Returns the exit code, or undefined.
 */
function refuseEarly(
  session: Session,
  steps: readonly RunbookStep[],
  options: RunOptions,
): number | undefined {
  const texts = confirmTexts(options);
  const typed = knownTypedGates(session, steps, stepOptions(options));
  const missing = typed.find(({ gate }) => !texts.includes(gate.phrase));
  if (!missing) return undefined;
  const { step, gate } = missing;
  const phrases = new Set(typed.map((entry) => entry.gate.phrase));
  for (const text of texts.filter((text) => !phrases.has(text)))
    session.record({
      type: 'gate-attempt',
      step: step.id,
      outcome: 'wrong-phrase',
      via: 'flag',
      ...phraseMismatch(text, gate.phrase),
    });
  session.record({
    type: 'gate',
    step: step.id,
    kind: 'typed',
    prompt: gate.prompt,
    answer: 'refused',
    via: 'flag',
    flags: [...(options.yes ? ['--yes'] : []), ...(texts.length ? ['--confirm'] : [])],
  });
  printProblem({
    message: `gate refused before anything ran: ${step.id} asks for the typed phrase "${gate.phrase}", and no --confirm gives it`,
    next: `Add --confirm "${gate.phrase}"${typed.length > 1 ? ` (each typed gate takes its own --confirm: ${[...phrases].map((phrase) => `"${phrase}"`).join(', ')})` : ''}. Nothing was changed.`,
  });
  return EXIT.gateRefused;
}

/**
 * Runs the steps in order, skipping those already done (resume) and those out of scope. Stops at the
 * first failure unless the step's checks are independent; closes the session. Returns the exit code.
 */
export async function runSteps(
  session: Session,
  steps: readonly RunbookStep[],
  options: RunOptions,
  signal: AbortSignal,
): Promise<number> {
  const write = (text: string) => process.stdout.write(text);
  const confirm = scriptedConfirm(options);
  const early = refuseEarly(session, steps, options);
  let exitCode: number = early ?? EXIT.done;
  if (early === undefined) {
    const loop = await runLoop(session, steps, {
      confirm,
      options: () => stepOptions(options),
      signal,
      nonInteractive: true,
      skipFinished: true,
      onOutcome: (_step, outcome) => {
        if (outcome.error && !options.json) printProblem(outcome.error);
      },
    });
    exitCode = loop.exitCode;
  }
  if (signal.aborted) exitCode = EXIT.interrupted;
  const outcome = outcomeOf(exitCode);
  session.close(outcome, exitCode);
  if (!options.json) {
    const states = steps.map((step) => session.status(step.id));
    const done = states.filter((s) => s === 'done').length;
    const failed = states.filter((s) => s === 'failed').length;
    write(
      `\n${steps.length} step(s): ${done} done, ${failed} failed${outcome === 'done' ? '' : ` — ${outcome}`}. Journal: ${session.journalPath}\n`,
    );
  }
  return exitCode;
}

/**
 * Every value the steps need, missing: required inputs (exit 2, all named at once), and the optional
 * ones without a default whose checks will be skipped (named, not fatal).
 */
export function missingValues(
  values: Values,
  steps: readonly RunbookStep[],
): { required: string[]; optional: string[] } {
  const inScope = steps.filter((step) => !step.database || values.inScope(step.database));
  const required = [...new Set(inScope.flatMap((step) => missingInputs(values, step.inputs)))];
  const withDefault = new Set(
    VALUE_SPECS.filter((spec) => spec.default !== undefined).map((spec) => spec.name),
  );
  // The endpoint is empty for AWS itself, and AWS keys may come from the SDK's credential chain.
  const never = new Set(['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']);
  const optional = [
    ...new Set(
      inScope
        .flatMap((step) => missingInputs(values, step.optionalInputs ?? []))
        .filter((name) => !withDefault.has(name) && !never.has(name) && !required.includes(name)),
    ),
  ].filter((name) => {
    const database = name.startsWith('NEO4J_')
      ? 'neo4j'
      : name.startsWith('POSTGRES_')
        ? 'postgres'
        : undefined;
    return !database || values.inScope(database);
  });
  return { required, optional };
}

/** Flags and the values file, checked before anything starts (the sandbox included). */
async function checkInputEarly(options: RunOptions, command: OptionCommand): Promise<void> {
  const problems: OptionProblem[] = [
    ...resolveStepOptions(options as unknown as Record<string, unknown>, process.env, command).problems,
    ...(await valuesFileProblems(options)),
  ];
  const error = inputProblems(problems);
  if (error) throw error;
}

/** Shared by run and resume: signals, sandbox, values, session, printing, teardown. */
export async function withSession(
  options: RunOptions,
  steps: readonly RunbookStep[],
  open: (ctx: {
    resolution: Awaited<ReturnType<typeof resolveAll>>;
    sandbox?: SandboxHandle;
    listener?: (event: SessionEvent) => void;
  }) => Promise<Session>,
  command: OptionCommand = 'run',
): Promise<number> {
  let sandbox: SandboxHandle | undefined;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await checkInputEarly(options, command);
    sandbox = await maybeStartSandbox(options);
    if (sandbox && !options.json)
      process.stdout.write(
        sandbox.joined
          ? `SANDBOX joined: the one \`db-runbook sandbox\` keeps running (${sandbox.dir})\n`
          : `SANDBOX started in ${sandbox.startupMs} ms (${sandbox.dir})\n`,
      );
    const resolution = await resolveAll(options, sandbox);
    const missing = missingValues(resolution.values, steps);
    if (missing.required.length > 0) {
      const all = [...missing.required, ...missing.optional];
      throw new UsageError(
        `missing value${missing.required.length > 1 ? 's' : ''}: ${missing.required.join(', ')}${
          missing.optional.length
            ? `; also not set (the checks that use them would be skipped): ${missing.optional.join(', ')}`
            : ''
        }`,
        `Set ${all.join(', ')} in the environment${all.some(isSecret) ? ' (secrets only there)' : ' or the --values file'}.`,
      );
    }
    if (missing.optional.length > 0 && !options.json)
      process.stderr.write(
        `warning: not set, so the checks that use them are skipped: ${missing.optional.join(', ')}\n`,
      );
    const write = (text: string) => process.stdout.write(text);
    // JSON listens from the first event (session-start); people get the header line first.
    const session = await open({
      resolution,
      sandbox,
      listener: options.json ? jsonPrinter(write) : undefined,
    });
    const target = session.target;
    if (!options.json) {
      write(
        `db-runbook ${target.sandbox ? 'SANDBOX' : `context ${target.context}`}  namespace ${target.namespace}  s3 ${target.s3Endpoint ?? '-'} bucket ${target.bucket ?? '-'}\n`,
      );
      session.subscribe(humanPrinter(write, options.color !== false && process.stdout.isTTY === true));
    }
    return await runSteps(session, steps, options, controller.signal);
  } catch (error) {
    return printError(error);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await sandbox?.stop();
  }
}

/** `db-runbook run SECTION|STEP… --yes`: the non-interactive path. Returns the exit code. */
export async function runCommand(words: string[], options: RunOptions): Promise<number> {
  let steps: RunbookStep[];
  try {
    steps = selectSteps(words);
  } catch (error) {
    printError(error);
    return EXIT.usage;
  }
  return withSession(options, steps, async ({ resolution, sandbox, listener }) => {
    const target = await describeTarget(options, resolution, sandbox);
    return openSession(options, resolution, target, sandbox, 'run', undefined, listener);
  });
}
