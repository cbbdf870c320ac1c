import type { JournalEvent } from '../journal.js';
import { sectionOfStep } from '../replay.js';
import { MASK } from '../values.js';
import type { TimelineEntry, TimelineKind } from './model.js';

/**
 * One journal event as a timeline row: what was done and what came of it. Log lines and previews
 * are output, not actions: they stay in the journal and return undefined here.
 */
export function timelineEntry(event: JournalEvent): TimelineEntry | undefined {
  const row = describe(event);
  if (!row) return undefined;
  const step = 'step' in event && typeof event.step === 'string' ? event.step : null;
  const section = event.type === 'step-state' ? event.section : step ? sectionOfStep(step) : null;
  return { at: event.ts, seq: event.seq, step, section, ...row };
}

type Row = { kind: TimelineKind; action: string; result: string | null };

function describe(event: JournalEvent): Row | undefined {
  switch (event.type) {
    case 'session-start': {
      const resumed = event.resumedFrom ? `, resuming ${event.resumedFrom}` : '';
      return {
        kind: 'session',
        action: `session started (${event.mode}${resumed}) by ${event.operator} with ${event.tool} ${event.toolVersion}`,
        result: null,
      };
    }
    case 'session-end':
      return {
        kind: 'session',
        action: 'session ended',
        result: `${event.outcome} (exit ${event.exitCode})`,
      };
    case 'values': {
      const entries = Object.entries(event.values).map(
        ([name, entry]) => `${name}=${entry.secret ? MASK : (entry.value ?? '')} (${entry.source})`,
      );
      return { kind: 'values', action: `values: ${entries.join(', ')}`, result: null };
    }
    case 'step-state':
      return {
        kind: 'state',
        action: `state ${event.from} → ${event.to}${event.reason ? `: ${event.reason}` : ''}`,
        result: null,
      };
    case 'api': {
      const object = event.object ? ` (${event.object})` : '';
      return {
        kind: 'api',
        action: `${event.service} ${event.method} ${event.path}${object}`,
        result: joinDefined([event.status === undefined ? undefined : String(event.status), ms(event.ms)]),
      };
    }
    case 'command':
      return {
        kind: 'command',
        action: `$ ${event.command}`,
        result: joinDefined([
          event.exitCode === undefined ? undefined : `exit ${event.exitCode}`,
          ms(event.ms),
        ]),
      };
    case 'gate':
      return {
        kind: 'gate',
        action: `${event.kind} gate: ${event.prompt}`,
        result: gateResult(event),
      };
    case 'gate-attempt':
      return {
        kind: 'gate-attempt',
        action: `wrong phrase ${event.via === 'flag' ? 'given with --confirm' : 'typed'} at the typed gate (${event.length} characters for ${event.expectedLength}${event.caseOnly ? ', only the letter case differs' : event.whitespaceOnly ? ', only surrounding spaces differ' : `, differs from character ${event.firstDifferenceAt + 1}`}; the text is not recorded)`,
        result: 'not accepted',
      };
    case 'check':
      return {
        kind: 'check',
        action: `check: ${event.label}`,
        result: joinDefined([event.status, event.detail]),
      };
    case 'result':
      return { kind: 'result', action: event.summary, result: event.status };
    case 'mark': {
      const given =
        typeof event.data?.at === 'string' && event.data.at !== event.at ? ` at ${event.data.at}` : '';
      return { kind: 'mark', action: `mark: ${event.name}${given}`, result: null };
    }
    case 'note':
      return {
        kind: 'note',
        action: `note${event.author ? ` (${event.author})` : ''}: ${event.text}`,
        result: null,
      };
    case 'log':
    case 'preview':
      return undefined;
  }
}

/** `accepted by the operator`, `accepted by --yes (non-interactive)`, `overridden (deviation)`. */
export function gateResult(event: Extract<JournalEvent, { type: 'gate' }>): string {
  const answer = event.answer === 'overridden' ? 'overridden (deviation)' : event.answer;
  if (event.via === 'flag') {
    const flags = event.flags ?? [];
    if (event.answer === 'refused')
      return `refused (non-interactive: ${flags.includes('--yes') ? 'the --confirm text did not match' : '--yes not given'})`;
    return `${answer} by ${flags.join(' ') || '--yes'} (non-interactive)`;
  }
  if (event.via === 'operator') return `${answer} by the operator`;
  return answer;
}

function ms(value: number | undefined): string | undefined {
  return value === undefined ? undefined : `${value} ms`;
}

function joinDefined(parts: (string | undefined)[]): string | null {
  const present = parts.filter((part): part is string => part !== undefined && part !== '');
  return present.length > 0 ? present.join(', ') : null;
}
