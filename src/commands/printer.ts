import type { SessionEvent } from '../engine/session.js';
import type { JournalEvent } from '../runbook/journal.js';

const MARKS = { ok: '✓', fail: '✗', warn: '!', skip: '-' } as const;

export interface Printer {
  (event: SessionEvent): void;
}

function paint(color: boolean, code: number, text: string): string {
  return color ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** Human-readable lines for `run`: steps, checks with reason and next step, results. */
export function humanPrinter(write: (text: string) => void, color: boolean): Printer {
  return ({ kind, ...rest }) => {
    if (kind !== 'journal') return;
    const event = (rest as { event: JournalEvent }).event;
    switch (event.type) {
      case 'step-state':
        if (event.to === 'running') write(`${paint(color, 1, `▶ ${event.step}`)}\n`);
        break;
      case 'preview':
        for (const line of event.lines) write(`  · ${line}\n`);
        break;
      case 'check': {
        const mark = MARKS[event.status];
        const code =
          event.status === 'ok' ? 32 : event.status === 'fail' ? 31 : event.status === 'warn' ? 33 : 90;
        write(
          `  ${paint(color, code, mark)} ${event.label}${event.detail ? `  ${paint(color, 90, event.detail)}` : ''}\n`,
        );
        if (event.next && event.status !== 'ok') write(`      → ${event.next}\n`);
        break;
      }
      case 'log':
        write(`  │ ${event.line}\n`);
        break;
      case 'gate':
        write(`  gate (${event.kind}): ${event.prompt} — ${event.answer}\n`);
        break;
      case 'result': {
        const tag =
          event.status === 'done'
            ? paint(color, 32, 'done')
            : event.status === 'skipped'
              ? 'skipped'
              : paint(color, 31, 'FAILED');
        write(`  ${tag}: ${event.summary}\n`);
        const next = event.data?.next;
        if (typeof next === 'string') write(`      → ${next}\n`);
        break;
      }
      default:
        break;
    }
  };
}

/** One JSON object per line on stdout: every journal event (masked) and progress. */
export function jsonPrinter(write: (text: string) => void): Printer {
  return (event) => {
    write(
      `${JSON.stringify(event.kind === 'journal' ? event.event : { type: 'progress', step: event.step, ...event.progress })}\n`,
    );
  };
}
