import type { Adapters } from '../adapters/types.js';
import type { StepContext, StepDefinition } from '../runbook/step.js';

/** What a step's functions receive, with the real adapters. */
export type Ctx = StepContext<Adapters>;

/** A runbook step whose effects come through the real adapters. */
export type RunbookStep<Out extends object = object> = StepDefinition<Adapters, Out> & {
  /** Later steps of the section still run when this one fails (independent checks). */
  continueOnFailure?: boolean;
};

/** A step whose `run` returns `Out`; later steps read it with `ctx.from(step)`. */
export function defineStep<Out extends object = object>(step: RunbookStep<NoInfer<Out>>): RunbookStep<Out> {
  return step;
}

/** `--endpoint-url URL` for aws CLI commands when an S3-compatible endpoint is set (Debian's awscli ignores AWS_ENDPOINT_URL). */
export function endpointFlag(endpoint: string | undefined): string {
  return endpoint ? ` --endpoint-url ${endpoint}` : '';
}

/** Waits `ms`, or less when the signal aborts (polling loops end at once on Ctrl-C or Esc). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
