import type { JournalEvent, StepStatus, TargetInfo } from './journal.js';

/**
 * Replays a session journal into what `resume` needs: each step's last state and result, the step
 * that was interrupted (running with no result), the target and values sources, and the outcome.
 */
export interface ReplayedResult {
  status: StepStatus;
  summary: string;
  data?: Record<string, unknown>;
  at: string;
}

export interface ReplayedStep {
  step: string;
  section: string;
  /** The last state the journal recorded. */
  status: StepStatus;
  /** The state `resume` should restore: interrupted steps start again from `ready`. */
  resumeAs: StepStatus;
  /** How many times it was started (ready/failed/… → awaiting-confirmation or running). */
  attempts: number;
  /** The last result recorded for the step, when any. */
  result?: ReplayedResult;
  firstAt: string;
  lastAt: string;
}

export interface InterruptedStep {
  step: string;
  section: string;
  /** running, verifying or awaiting-confirmation: what it was doing when the session stopped. */
  state: StepStatus;
  /** When the attempt began (its first in-flight state, e.g. waiting at the gate). */
  since: string;
}

export type ReplayOutcome = 'done' | 'failed' | 'interrupted' | 'refused' | 'quit' | 'unfinished';

export interface SectionProgress {
  section: string;
  steps: number;
  done: number;
  skipped: number;
  failed: number;
}

export interface JournalReplay {
  /** Session ids seen, in order (a resumed session may continue in the same file). */
  sessionIds: string[];
  operator?: string;
  startedAt?: string;
  endedAt?: string;
  lastEventAt?: string;
  target?: TargetInfo;
  toolVersion?: string;
  resumedFrom?: string;
  /** Merged values events: name → source (and the value, for non-secrets). */
  values: Record<string, { source: string; value?: string; secret?: boolean }>;
  /** Steps in the order they first appeared. */
  steps: ReplayedStep[];
  done: string[];
  skipped: string[];
  failed: string[];
  interrupted?: InterruptedStep;
  sections: SectionProgress[];
  /** Sections with at least one step done and every step seen done or skipped. */
  sectionsDone: string[];
  outcome: ReplayOutcome;
  exitCode?: number;
}

const IN_FLIGHT: ReadonlySet<StepStatus> = new Set(['running', 'verifying', 'awaiting-confirmation']);
const STARTABLE: ReadonlySet<StepStatus> = new Set(['pending', 'ready', 'failed', 'done', 'skipped']);

/** A step id is `section.name`; events other than step-state do not carry the section. */
export function sectionOfStep(step: string): string {
  const dot = step.indexOf('.');
  return dot > 0 ? step.slice(0, dot) : step;
}

function resumeState(status: StepStatus): StepStatus {
  return IN_FLIGHT.has(status) ? 'ready' : status;
}

export function replayJournal(events: readonly JournalEvent[]): JournalReplay {
  const steps = new Map<string, ReplayedStep & { inFlightSince?: string }>();
  const replay: JournalReplay = {
    sessionIds: [],
    values: {},
    steps: [],
    done: [],
    skipped: [],
    failed: [],
    sections: [],
    sectionsDone: [],
    outcome: 'unfinished',
  };
  let ended = false;

  const stepEntry = (step: string, section: string | undefined, at: string) => {
    let entry = steps.get(step);
    if (!entry) {
      entry = {
        step,
        section: section ?? sectionOfStep(step),
        status: 'pending',
        resumeAs: 'pending',
        attempts: 0,
        firstAt: at,
        lastAt: at,
      };
      steps.set(step, entry);
    }
    if (section) entry.section = section;
    entry.lastAt = at;
    return entry;
  };

  for (const event of events) {
    replay.lastEventAt = event.ts;
    if (event.session && !replay.sessionIds.includes(event.session)) replay.sessionIds.push(event.session);
    switch (event.type) {
      case 'session-start':
        replay.startedAt ??= event.ts;
        replay.operator ??= event.operator;
        replay.target = event.target;
        replay.toolVersion = event.toolVersion;
        replay.resumedFrom ??= event.resumedFrom;
        ended = false;
        break;
      case 'session-end':
        ended = true;
        replay.endedAt = event.ts;
        replay.outcome = event.outcome;
        replay.exitCode = event.exitCode;
        break;
      case 'values':
        Object.assign(replay.values, event.values);
        break;
      case 'step-state': {
        const entry = stepEntry(event.step, event.section, event.ts);
        if (IN_FLIGHT.has(event.to) && STARTABLE.has(event.from)) entry.attempts++;
        entry.status = event.to;
        entry.inFlightSince = IN_FLIGHT.has(event.to) ? (entry.inFlightSince ?? event.ts) : undefined;
        break;
      }
      case 'result': {
        const entry = stepEntry(event.step, undefined, event.ts);
        entry.result = { status: event.status, summary: event.summary, data: event.data, at: event.ts };
        // The result is the last word on a step, even when its state events were lost.
        entry.status = event.status;
        entry.inFlightSince = undefined;
        break;
      }
      default:
        break;
    }
  }
  if (!ended) {
    replay.outcome = 'unfinished';
    replay.endedAt = undefined;
    replay.exitCode = undefined;
  }

  let latestInFlight: (ReplayedStep & { inFlightSince?: string }) | undefined;
  for (const entry of steps.values()) {
    const { inFlightSince, ...step } = entry;
    step.resumeAs = resumeState(step.status);
    replay.steps.push(step);
    if (step.status === 'done') replay.done.push(step.step);
    if (step.status === 'skipped') replay.skipped.push(step.step);
    if (step.status === 'failed') replay.failed.push(step.step);
    if (
      inFlightSince !== undefined &&
      (!latestInFlight || inFlightSince >= (latestInFlight.inFlightSince ?? ''))
    )
      latestInFlight = entry;
  }
  if (latestInFlight?.inFlightSince !== undefined)
    replay.interrupted = {
      step: latestInFlight.step,
      section: latestInFlight.section,
      state: latestInFlight.status,
      since: latestInFlight.inFlightSince,
    };

  replay.sections = sectionProgress(replay.steps);
  replay.sectionsDone = replay.sections
    .filter((section) => section.done > 0 && section.done + section.skipped === section.steps)
    .map((section) => section.section);
  return replay;
}

function sectionProgress(steps: readonly ReplayedStep[]): SectionProgress[] {
  const bySection = new Map<string, SectionProgress>();
  for (const step of steps) {
    let progress = bySection.get(step.section);
    if (!progress) {
      progress = { section: step.section, steps: 0, done: 0, skipped: 0, failed: 0 };
      bySection.set(step.section, progress);
    }
    progress.steps++;
    if (step.status === 'done') progress.done++;
    if (step.status === 'skipped') progress.skipped++;
    if (step.status === 'failed') progress.failed++;
  }
  return [...bySection.values()];
}
