import { describeError, EXIT, RunbookError } from '../runbook/errors.js';

/**
 * The one place the command line prints an error: the message and the next step on stderr, never a stack
 * trace. Returns the exit code.
 */
export function printError(error: unknown): number {
  const { message, next } = describeError(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    !(error instanceof RunbookError) && typeof code === 'string'
      ? ' (check the path and its permissions)'
      : '';
  printProblem({ message: `${message}${hint}`, next });
  if (error instanceof RunbookError) return error.exitCode;
  // Errors of the setup step and the sandbox carry their own exit code (2: something to install first).
  const exitCode = (error as { exitCode?: unknown } | undefined)?.exitCode;
  return typeof exitCode === 'number' ? exitCode : EXIT.stepFailed;
}

/** An already described problem (a step's outcome): `error: …` and `  → next`. */
export function printProblem(problem: { message: string; next?: string }): void {
  process.stderr.write(`error: ${problem.message}\n${problem.next ? `  → ${problem.next}\n` : ''}`);
}
