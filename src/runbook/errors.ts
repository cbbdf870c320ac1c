/** Exit codes: a stable contract for scripts. */
export const EXIT = {
  done: 0,
  stepFailed: 1,
  usage: 2,
  gateRefused: 3,
  interrupted: 130,
} as const;

/**
 * An error meant for the person at the keyboard: what went wrong and what to do next.
 * Never carries a secret value; never printed with a stack trace.
 */
export class RunbookError extends Error {
  readonly next?: string;
  readonly exitCode: number;
  readonly code?: string;

  constructor(
    message: string,
    options: { next?: string; exitCode?: number; code?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RunbookError';
    this.next = options.next;
    this.exitCode = options.exitCode ?? EXIT.stepFailed;
    this.code = options.code;
  }
}

export class UsageError extends RunbookError {
  constructor(message: string, next?: string) {
    super(message, { next, exitCode: EXIT.usage, code: 'usage' });
    this.name = 'UsageError';
  }
}

/** A gate the operator (or a missing --yes/--confirm) refused. Nothing was changed. */
export class GateRefusedError extends RunbookError {
  constructor(message: string, next?: string) {
    super(message, { next, exitCode: EXIT.gateRefused, code: 'gate-refused' });
    this.name = 'GateRefusedError';
  }
}

export class InterruptedError extends RunbookError {
  constructor(message = 'interrupted') {
    super(message, { exitCode: EXIT.interrupted, code: 'interrupted' });
    this.name = 'InterruptedError';
  }
}

/** One line for the screen: the message, then the next step when there is one. */
export function describeError(error: unknown): { message: string; next?: string } {
  if (error instanceof RunbookError) return { message: error.message, next: error.next };
  if (error instanceof Error) return { message: error.message };
  return { message: String(error) };
}
