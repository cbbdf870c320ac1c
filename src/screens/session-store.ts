/**
 * What the screens show of a session — each step's preview, log, checks, result and progress — as an
 * external store for React's useSyncExternalStore: every session event makes a new immutable
 * snapshot, so a render never sees half an update and no Map is mutated under React.
 */
import { useSyncExternalStore } from 'react';
import type { Session, SessionEvent } from '../engine/session.js';
import type { CheckStatus, JournalEvent, StepStatus } from '../runbook/journal.js';
import type { Progress } from '../runbook/step.js';

export interface StepView {
  readonly logs: readonly string[];
  readonly preview: readonly string[];
  readonly checks: readonly {
    id: string;
    label: string;
    status: CheckStatus;
    detail?: string;
    next?: string;
  }[];
  readonly summary?: string;
  readonly next?: string;
  readonly progress?: Progress;
}

export interface SessionSnapshot {
  readonly views: ReadonlyMap<string, StepView>;
  readonly statuses: ReadonlyMap<string, StepStatus>;
  /**
   * Every journal event since the screen subscribed (masked as the screen gets them). Append-only and
   * shared between snapshots (copying it per event would cost O(n²) over a long session).
   */
  readonly events: readonly JournalEvent[];
  readonly version: number;
}

const MAX_LOG_LINES = 500;
const EMPTY_VIEW: StepView = { logs: [], preview: [], checks: [] };

export function emptySnapshot(): SessionSnapshot {
  return { views: new Map(), statuses: new Map(), events: [], version: 0 };
}

/** The next snapshot after one session event (pure). */
export function reduceSnapshot(snapshot: SessionSnapshot, event: SessionEvent): SessionSnapshot {
  const views = new Map(snapshot.views);
  const viewOf = (step: string) => views.get(step) ?? EMPTY_VIEW;
  const version = snapshot.version + 1;
  if (event.kind === 'progress') {
    views.set(event.step, { ...viewOf(event.step), progress: event.progress });
    return { ...snapshot, views, version };
  }
  const e = event.event;
  const events = snapshot.events as JournalEvent[];
  events.push(e);
  let statuses = snapshot.statuses;
  switch (e.type) {
    case 'step-state':
      statuses = new Map(statuses).set(e.step, e.to);
      if (e.to === 'running' && e.from !== 'running')
        views.set(e.step, { ...EMPTY_VIEW, preview: viewOf(e.step).preview });
      break;
    case 'preview':
      views.set(e.step, { ...viewOf(e.step), preview: e.lines });
      break;
    case 'log': {
      const logs = [...viewOf(e.step).logs, e.line];
      views.set(e.step, { ...viewOf(e.step), logs: logs.slice(-MAX_LOG_LINES) });
      break;
    }
    case 'check':
      views.set(e.step, {
        ...viewOf(e.step),
        checks: [
          ...viewOf(e.step).checks,
          { id: e.id, label: e.label, status: e.status, detail: e.detail, next: e.next },
        ],
      });
      break;
    case 'result':
      views.set(e.step, {
        ...viewOf(e.step),
        summary: e.summary,
        next: typeof e.data?.next === 'string' ? e.data.next : undefined,
        progress: undefined,
      });
      break;
    default:
      break;
  }
  return { views, statuses, events, version };
}

/** A store over one session: subscribe/getSnapshot for useSyncExternalStore. */
export class SessionStore {
  private snapshot = emptySnapshot();
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: () => void;

  constructor(session: Session) {
    this.unsubscribe = session.subscribe((event) => {
      this.snapshot = reduceSnapshot(this.snapshot, event);
      for (const listener of this.listeners) listener();
    });
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): SessionSnapshot => this.snapshot;

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }
}

const stores = new WeakMap<Session, SessionStore>();

/** The store of a session (one per session, made on first use). */
export function storeOf(session: Session): SessionStore {
  let store = stores.get(session);
  if (!store) {
    store = new SessionStore(session);
    stores.set(session, store);
  }
  return store;
}

/** Subscribes a screen to a session through useSyncExternalStore. */
export function useSessionSnapshot(session: Session): SessionSnapshot {
  const store = storeOf(session);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
