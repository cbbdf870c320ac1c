import type { JournalEvent, StepStatus } from '../journal.js';
import type { ReportAttempt } from './model.js';

const IN_FLIGHT: ReadonlySet<StepStatus> = new Set(['running', 'verifying', 'awaiting-confirmation']);

/**
 * Each step's attempts, from the moment it was started to its result. An attempt without a result
 * (the process was killed, or the session was resumed over it) is `interrupted` and ends at the last
 * event before the stop; in a live session the attempt still open at the end is `in-progress`.
 */
export function collectAttempts(
  events: readonly JournalEvent[],
  options: { live?: boolean } = {},
): Map<string, ReportAttempt[]> {
  const byStep = new Map<string, ReportAttempt[]>();
  const open = new Map<string, ReportAttempt>();
  let previousTs: string | undefined;

  const interruptOpen = (at: string | undefined) => {
    for (const attempt of open.values()) attempt.endedAt = at ?? attempt.startedAt;
    open.clear();
  };
  const push = (step: string, attempt: ReportAttempt) => {
    const list = byStep.get(step);
    if (list) list.push(attempt);
    else byStep.set(step, [attempt]);
  };

  for (const event of events) {
    switch (event.type) {
      case 'session-start':
        interruptOpen(previousTs);
        break;
      case 'step-state': {
        const current = open.get(event.step);
        if (IN_FLIGHT.has(event.to) && !current) {
          const attempt: ReportAttempt = {
            startedAt: event.ts,
            endedAt: null,
            status: 'interrupted',
            summary: null,
          };
          open.set(event.step, attempt);
          push(event.step, attempt);
        } else if (current && event.from === 'awaiting-confirmation' && event.to === 'ready') {
          current.endedAt = event.ts;
          current.status = 'refused';
          current.summary = 'gate refused';
          open.delete(event.step);
        }
        break;
      }
      case 'result': {
        const current = open.get(event.step);
        const status = event.summary === 'interrupted' ? 'interrupted' : attemptStatus(event.status);
        if (current) {
          current.endedAt = event.ts;
          current.status = status;
          current.summary = event.summary;
          open.delete(event.step);
        } else {
          push(event.step, { startedAt: event.ts, endedAt: event.ts, status, summary: event.summary });
        }
        break;
      }
      default:
        break;
    }
    previousTs = event.ts;
  }
  if (options.live) {
    for (const attempt of open.values()) {
      attempt.endedAt = previousTs ?? attempt.startedAt;
      attempt.status = 'in-progress';
    }
    open.clear();
  } else interruptOpen(previousTs);
  return byStep;
}

function attemptStatus(status: StepStatus): ReportAttempt['status'] {
  if (status === 'done' || status === 'failed' || status === 'skipped') return status;
  return 'interrupted';
}
