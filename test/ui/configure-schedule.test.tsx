import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { ScheduleEditor, scheduleFields } from '../../src/screens/components/configure/ScheduleEditor.js';
import { ValuesForm } from '../../src/screens/components/ValuesForm.js';
import { resolveValues } from '../../src/runbook/values.js';
import { flatFrame } from '../fixtures/configure/frames.js';
import { waitForFrame } from '../support/session.js';

const ENTER = '\r';
const BACKSPACE = '\u007F';
const NOW = () => new Date('2026-03-01T01:00:00Z');

async function type(stdin: { write(data: string): void }, text: string): Promise<void> {
  for (const char of text) {
    stdin.write(char);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('schedule editing', () => {
  it('shows the schedules in words, refuses an invalid cron with the reason, and accepts a valid edit', async () => {
    const { values } = resolveValues({ env: {} });
    const onSubmit = vi.fn();
    const ui = render(
      <ScheduleEditor
        fields={scheduleFields(values)}
        onSubmit={onSubmit}
        onCancel={() => undefined}
        now={NOW}
      />,
    );
    await waitForFrame(
      ui.lastFrame,
      (f) => f.includes('postgres-daily-backup') && f.includes('= daily at 02:00 UTC'),
    );
    expect(ui.lastFrame()).toContain('next run 2026-03-01 02:00 UTC');
    await type(ui.stdin, BACKSPACE.repeat(2));
    await waitForFrame(ui.lastFrame, (f) => f.includes('must have 5 fields'));
    ui.stdin.write(ENTER);
    const refused = await waitForFrame(ui.lastFrame, (f) => f.includes('✗ POSTGRES_BACKUP_SCHEDULE'));
    expect(flatFrame(refused)).toContain(
      '✗ POSTGRES_BACKUP_SCHEDULE must have 5 fields (minute hour day-of-month month day-of-week), got 4',
    );
    expect(onSubmit).not.toHaveBeenCalled();
    await type(ui.stdin, ' 0');
    await waitForFrame(ui.lastFrame, (f) => f.includes('= every Sunday at 02:00 UTC'));
    ui.stdin.write(ENTER);
    await waitForFrame(
      ui.lastFrame,
      (f) => f.includes('neo4j-daily-backup') && f.includes('= daily at 02:30 UTC'),
    );
    expect(ui.lastFrame()).toContain('✓ postgres-daily-backup: 0 2 * * 0 (every Sunday at 02:00 UTC');
    await type(ui.stdin, BACKSPACE.repeat(10) + '61 2 * * *');
    await waitForFrame(ui.lastFrame, (f) => f.includes('got value 61'));
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => f.includes('✗ NEO4J_BACKUP_SCHEDULE is not a valid schedule'));
    await type(ui.stdin, BACKSPACE.repeat(10) + '45 3 * * *');
    await waitForFrame(ui.lastFrame, (f) => f.includes('= daily at 03:45 UTC'));
    ui.stdin.write(ENTER);
    await vi.waitFor(() =>
      expect(onSubmit).toHaveBeenCalledWith({
        POSTGRES_BACKUP_SCHEDULE: '0 2 * * 0',
        NEO4J_BACKUP_SCHEDULE: '45 3 * * *',
      }),
    );
    ui.unmount();
  });

  it('the generic values form validates a schedule as cron too', async () => {
    const onSubmit = vi.fn();
    const ui = render(
      <ValuesForm names={['NEO4J_BACKUP_SCHEDULE']} onSubmit={onSubmit} onCancel={() => undefined} />,
    );
    await waitForFrame(ui.lastFrame, (f) => f.includes('NEO4J_BACKUP_SCHEDULE'));
    await type(ui.stdin, BACKSPACE.repeat(10) + 'every day');
    ui.stdin.write(ENTER);
    const frame = await waitForFrame(ui.lastFrame, (f) => f.includes('✗ NEO4J_BACKUP_SCHEDULE'));
    expect(frame).toMatch(/must have 5 fields|not valid/);
    expect(onSubmit).not.toHaveBeenCalled();
    ui.unmount();
  });
});
