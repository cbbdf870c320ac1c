import type { Confirmer, GateAnswer, GateDecision, Session, SessionEvent } from '../engine/session.js';
import { EXIT, describeError, UsageError } from '../runbook/errors.js';
import { isSecret, missingInputs } from '../runbook/values.js';
import type { SandboxHandle } from '../sandbox/handle.js';
import type { RunbookStep } from '../steps/define.js';
import { selectSteps } from '../steps/index.js';
import { describeTarget, maybeStartSandbox, openSession, resolveAll, type GlobalOptions } from './context.js';
import { humanPrinter, jsonPrinter } from './printer.js';

export interface RunOptions extends GlobalOptions {
  yes?: boolean;
  confirm?: string;
  writeCanary?: boolean;
  restoreUri?: string;
  incidentTime?: string;
  jobTimeout?: string;
  restoreMode?: 'host' | 'job';
}

/** Step options from the command line (steps read them as ctx.options[name]). */
export function stepOptions(options: RunOptions): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = { 'write-canary': options.writeCanary === true };
  if (options.restoreUri) out['restore-uri'] = options.restoreUri;
  else if (process.env.RESTORE_S3_URI) out['restore-uri'] = process.env.RESTORE_S3_URI;
  if (options.incidentTime) out['incident-time'] = options.incidentTime;
  if (options.jobTimeout) out['job-timeout'] = options.jobTimeout;
  if (options.restoreMode) out['restore-mode'] = options.restoreMode;
  return out;
}

/**
 * Non-interactive gates: confirm needs --yes; typed needs --yes and --confirm with the exact text. The
 * journal records them as answered by flags (nobody was asked), and a wrong --confirm as an attempt.
 */
function scriptedConfirm(options: RunOptions): Confirmer {
  return async (gate, _step, attempts) => {
    const flags = [
      ...(options.yes ? ['--yes'] : []),
      ...(gate.kind === 'typed' && options.confirm !== undefined ? ['--confirm'] : []),
    ];
    const decide = (answer: GateAnswer): GateDecision => ({ answer, via: 'flag', flags });
    if (gate.kind === 'typed') {
      if (options.confirm !== undefined && options.confirm !== gate.phrase)
        attempts.wrongPhrase(options.confirm);
      return decide(options.yes && options.confirm === gate.phrase ? 'accepted' : 'refused');
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
  let exitCode: number = EXIT.done;
  for (const step of steps) {
    if (signal.aborted) break;
    const status = session.status(step.id);
    if (status === 'done' || status === 'skipped') continue;
    if (step.database && !session.values.inScope(step.database)) {
      session.skip(step, `${step.database} is out of scope (DATABASES=${session.values.get('DATABASES')})`);
      continue;
    }
    const outcome = await session.run(step, {
      confirm,
      options: stepOptions(options),
      signal,
      nonInteractive: true,
    });
    if (outcome.error && !options.json) {
      process.stderr.write(
        `error: ${outcome.error.message}\n${outcome.error.next ? `  → ${outcome.error.next}\n` : ''}`,
      );
    }
    if (outcome.exitCode !== EXIT.done) {
      if (exitCode === EXIT.done || outcome.exitCode === EXIT.interrupted) exitCode = outcome.exitCode;
      if (outcome.exitCode !== EXIT.stepFailed || !step.continueOnFailure) break;
    }
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

/** Shared by run and resume: signals, sandbox, values, session, printing, teardown. */
export async function withSession(
  options: RunOptions,
  steps: readonly RunbookStep[],
  open: (ctx: {
    resolution: Awaited<ReturnType<typeof resolveAll>>;
    sandbox?: SandboxHandle;
    listener?: (event: SessionEvent) => void;
  }) => Promise<Session>,
): Promise<number> {
  let sandbox: SandboxHandle | undefined;
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    sandbox = await maybeStartSandbox(options);
    if (sandbox && !options.json)
      process.stdout.write(
        sandbox.joined
          ? `SANDBOX joined: the one \`db-runbook sandbox\` keeps running (${sandbox.dir})\n`
          : `SANDBOX started in ${sandbox.startupMs} ms (${sandbox.dir})\n`,
      );
    const resolution = await resolveAll(options, sandbox);
    const missing = [
      ...new Set(
        steps
          .filter((step) => !step.database || resolution.values.inScope(step.database))
          .flatMap((step) => missingInputs(resolution.values, step.inputs)),
      ),
    ];
    if (missing.length > 0) {
      throw new UsageError(
        `missing value${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
        `Set ${missing.join(', ')} in the environment${missing.some(isSecret) ? ' (secrets only there)' : ' or the --values file'}.`,
      );
    }
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
    const described = describeError(error);
    process.stderr.write(`error: ${described.message}\n${described.next ? `  → ${described.next}\n` : ''}`);
    return (error as { exitCode?: number }).exitCode ?? EXIT.stepFailed;
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
    const described = describeError(error);
    process.stderr.write(`error: ${described.message}\n${described.next ? `  → ${described.next}\n` : ''}`);
    return EXIT.usage;
  }
  return withSession(options, steps, async ({ resolution, sandbox, listener }) => {
    const target = await describeTarget(options, resolution, sandbox);
    return openSession(options, resolution, target, sandbox, 'run', undefined, listener);
  });
}
