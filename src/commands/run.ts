import type { GateAnswer } from '../engine/session.js';
import { EXIT, describeError, UsageError } from '../runbook/errors.js';
import { isSecret, missingInputs } from '../runbook/values.js';
import type { Sandbox } from '../sandbox/index.js';
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
}

/** Step options from the command line (steps read them as ctx.options[name]). */
export function stepOptions(options: RunOptions): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = { 'write-canary': options.writeCanary === true };
  if (options.restoreUri) out['restore-uri'] = options.restoreUri;
  else if (process.env.RESTORE_S3_URI) out['restore-uri'] = process.env.RESTORE_S3_URI;
  if (options.incidentTime) out['incident-time'] = options.incidentTime;
  if (options.jobTimeout) out['job-timeout'] = options.jobTimeout;
  return out;
}

/** `db-runbook run SECTION|STEP… --yes`: the non-interactive path. Returns the exit code. */
export async function runCommand(words: string[], options: RunOptions): Promise<number> {
  const steps = selectSteps(words);
  let sandbox: Sandbox | undefined;
  const write = (text: string) => process.stdout.write(text);
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    sandbox = await maybeStartSandbox(options);
    if (sandbox && !options.json) write(`SANDBOX started in ${sandbox.startupMs} ms (${sandbox.dir})\n`);
    const resolution = await resolveAll(options, sandbox);
    const missing = [...new Set(steps.flatMap((step) => missingInputs(resolution.values, step.inputs)))];
    if (missing.length > 0) {
      throw new UsageError(
        `missing value${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`,
        `Set ${missing.join(', ')} in the environment${missing.some(isSecret) ? ' (secrets only there)' : ' or the --values file'}.`,
      );
    }
    const target = await describeTarget(options, resolution, sandbox);
    const session = openSession(options, resolution, target, sandbox, 'run');
    if (!options.json) {
      write(
        `db-runbook ${target.sandbox ? 'SANDBOX' : `context ${target.context}`}  namespace ${target.namespace}  s3 ${target.s3Endpoint ?? '-'} bucket ${target.bucket ?? '-'}\n`,
      );
    }
    session.subscribe(
      options.json
        ? jsonPrinter(write)
        : humanPrinter(write, options.color !== false && process.stdout.isTTY === true),
    );
    const runOptions = stepOptions(options);
    const confirm = async (
      gate: Parameters<Parameters<typeof session.run>[1]['confirm']>[0],
    ): Promise<GateAnswer> => {
      if (gate.kind === 'typed')
        return options.confirm === gate.phrase && options.yes ? 'accepted' : 'refused';
      return options.yes ? 'accepted' : 'refused';
    };
    let exitCode: number = EXIT.done;
    for (const step of steps) {
      if (controller.signal.aborted) break;
      if (step.database && !session.values.inScope(step.database)) {
        session.skip(step, `${step.database} is out of scope (DATABASES=${session.values.get('DATABASES')})`);
        continue;
      }
      const outcome = await session.run(step, { confirm, options: runOptions, signal: controller.signal });
      if (outcome.error && !options.json) {
        process.stderr.write(
          `error: ${outcome.error.message}\n${outcome.error.next ? `  → ${outcome.error.next}\n` : ''}`,
        );
      }
      if (outcome.exitCode !== EXIT.done) {
        exitCode =
          exitCode === EXIT.done || outcome.exitCode === EXIT.interrupted ? outcome.exitCode : exitCode;
        if (outcome.exitCode !== EXIT.stepFailed || !step.continueOnFailure) break;
      }
    }
    if (controller.signal.aborted) exitCode = EXIT.interrupted;
    const outcome =
      exitCode === EXIT.done
        ? 'done'
        : exitCode === EXIT.gateRefused
          ? 'refused'
          : exitCode === EXIT.interrupted
            ? 'interrupted'
            : 'failed';
    session.close(outcome, exitCode);
    if (!options.json) {
      const counts = steps.map((step) => session.status(step.id));
      const done = counts.filter((s) => s === 'done').length;
      const failed = counts.filter((s) => s === 'failed').length;
      write(
        `\n${steps.length} step(s): ${done} done, ${failed} failed${outcome === 'done' ? '' : ` — ${outcome}`}. Journal: ${session.journalPath}\n`,
      );
    }
    return exitCode;
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
