import { useEffect, useReducer, useState } from 'react';
import type { Session } from '../engine/session.js';
import type { CheckStatus } from '../runbook/journal.js';
import type { Progress } from '../runbook/step.js';

export interface StepView {
  logs: string[];
  preview: string[];
  checks: { id: string; label: string; status: CheckStatus; detail?: string; next?: string }[];
  summary?: string;
  next?: string;
  progress?: Progress;
}

const MAX_LOG_LINES = 200;

/** Subscribes a screen to a session: what each step printed, checked and concluded. */
export function useSessionView(session: Session): { views: Map<string, StepView>; version: number } {
  // One mutable map per session, updated by the subscription; `version` re-renders the screen.
  const [views] = useState(() => new Map<string, StepView>());
  const [version, bump] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const viewOf = (step: string): StepView => {
      let view = views.get(step);
      if (!view) {
        view = { logs: [], preview: [], checks: [] };
        views.set(step, view);
      }
      return view;
    };
    return session.subscribe((event) => {
      if (event.kind === 'progress') {
        viewOf(event.step).progress = event.progress;
        bump();
        return;
      }
      const e = event.event;
      switch (e.type) {
        case 'step-state':
          if (e.to === 'running')
            views.set(e.step, { logs: [], preview: viewOf(e.step).preview, checks: [] });
          break;
        case 'preview':
          viewOf(e.step).preview = e.lines;
          break;
        case 'log': {
          const logs = viewOf(e.step).logs;
          logs.push(e.line);
          if (logs.length > MAX_LOG_LINES) logs.splice(0, logs.length - MAX_LOG_LINES);
          break;
        }
        case 'check':
          viewOf(e.step).checks.push({
            id: e.id,
            label: e.label,
            status: e.status,
            detail: e.detail,
            next: e.next,
          });
          break;
        case 'result': {
          const view = viewOf(e.step);
          view.summary = e.summary;
          view.next = typeof e.data?.next === 'string' ? e.data.next : undefined;
          view.progress = undefined;
          break;
        }
        default:
          return;
      }
      bump();
    });
  }, [session, views]);
  return { views: views, version };
}
