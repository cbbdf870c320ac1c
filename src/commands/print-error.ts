import { describeError, EXIT, RunbookError } from '../runbook/errors.js';

/** The message and the next step on stderr, never a stack trace. Returns the exit code. */
export function printError(error: unknown): number {
  const { message, next } = describeError(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    !(error instanceof RunbookError) && typeof code === 'string'
      ? ' (check the path and its permissions)'
      : '';
  process.stderr.write(`error: ${message}${hint}\n`);
  if (next) process.stderr.write(`  → ${next}\n`);
  return error instanceof RunbookError ? error.exitCode : EXIT.stepFailed;
}
