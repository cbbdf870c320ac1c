import { describe, expect, it } from 'vitest';
import { POSTGRES_TARGET } from '../../src/steps/test-postgres/index.js';
import { jobOf, triggerOutput } from '../../src/steps/synthetic/trigger.js';
import type { StepHandle } from '../../src/runbook/step.js';

/** A `from` that returns journal data through the handle's decoder, as the session does. */
function fromJournal(data: Record<string, Record<string, unknown>>) {
  return {
    from<Out extends object>(handle: StepHandle<Out>): Out | undefined {
      const found = data[handle.id];
      if (!found) return undefined;
      return handle.decode ? handle.decode(found) : (found as Out);
    },
  };
}

describe('the synthetic trigger handle', () => {
  const id = 'test-postgres.trigger';

  it('is the trigger step of the target', () => {
    expect(triggerOutput(POSTGRES_TARGET).id).toBe(id);
  });

  it('gives later steps the Job this session created, and when', () => {
    const ctx = fromJournal({
      [id]: {
        job: 'postgres-backup-test-2',
        namespace: 'db',
        cronJob: 'x',
        triggeredAt: '2026-01-01T00:00:00Z',
      },
    });
    expect(jobOf(ctx, POSTGRES_TARGET)).toEqual({
      job: 'postgres-backup-test-2',
      triggeredAt: '2026-01-01T00:00:00Z',
    });
  });

  it("falls back to the runbook's Job name when nothing (or nothing usable) was triggered", () => {
    expect(jobOf(fromJournal({}), POSTGRES_TARGET)).toEqual({ job: 'postgres-backup-test' });
    expect(jobOf(fromJournal({ [id]: { job: 42 } }), POSTGRES_TARGET)).toEqual({
      job: 'postgres-backup-test',
    });
  });

  it('decodes an old journal without a trigger time', () => {
    const ctx = fromJournal({ [id]: { job: 'postgres-backup-test', triggeredAt: null } });
    expect(jobOf(ctx, POSTGRES_TARGET)).toEqual({ job: 'postgres-backup-test' });
    expect(triggerOutput(POSTGRES_TARGET).decode?.({ job: 'j', triggeredAt: 5 })).toEqual({ job: 'j' });
  });
});
