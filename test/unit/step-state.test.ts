import { describe, expect, it } from 'vitest';
import type { StepStatus } from '../../src/runbook/journal.js';
import { isTerminal, resultFailed, transition, type StepEvent } from '../../src/runbook/step.js';

describe('step state machine', () => {
  const path = (start: StepStatus, events: StepEvent[]) =>
    events.reduce<StepStatus | undefined>(
      (state, event) => (state ? transition(state, event) : undefined),
      start,
    );

  it('an ungated step goes pending → ready → running → verifying → done', () => {
    expect(
      path('pending', [
        { type: 'inputs-ready' },
        { type: 'start', gated: false },
        { type: 'ran' },
        { type: 'verified', failed: false },
      ]),
    ).toBe('done');
  });

  it('a gated step waits for confirmation, and a refusal returns it to ready', () => {
    expect(transition('ready', { type: 'start', gated: true })).toBe('awaiting-confirmation');
    expect(transition('awaiting-confirmation', { type: 'gate-refused' })).toBe('ready');
    expect(transition('awaiting-confirmation', { type: 'gate-accepted' })).toBe('running');
  });

  it('a failed verification ends in failed; an error while running too', () => {
    expect(transition('verifying', { type: 'verified', failed: true })).toBe('failed');
    expect(transition('running', { type: 'error' })).toBe('failed');
  });

  it('a failed or done step can be run again', () => {
    expect(transition('failed', { type: 'start', gated: false })).toBe('running');
    expect(transition('done', { type: 'start', gated: true })).toBe('awaiting-confirmation');
  });

  it.each<[StepStatus, StepEvent]>([
    ['pending', { type: 'ran' }],
    ['running', { type: 'start', gated: false }],
    ['ready', { type: 'gate-accepted' }],
    ['done', { type: 'skip' }],
    ['running', { type: 'skip' }],
    ['running', { type: 'reset' }],
    ['ready', { type: 'verified', failed: false }],
  ])('refuses %s on %o', (state, event) => {
    expect(transition(state, event)).toBeUndefined();
  });

  it('knows terminal states and that only failed checks fail a result', () => {
    expect(['done', 'failed', 'skipped'].every((s) => isTerminal(s as StepStatus))).toBe(true);
    expect(isTerminal('running')).toBe(false);
    expect(resultFailed({ summary: '', checks: [{ id: 'a', label: 'a', status: 'warn' }] })).toBe(false);
    expect(resultFailed({ summary: '', checks: [{ id: 'a', label: 'a', status: 'fail' }] })).toBe(true);
  });
});
