// The TUI fits the terminal, at 80×24 and at 200×60: the header is always the top row, the frame is
// never taller than the terminal, no row is wider than it, the help overlay scrolls to its last row,
// a long detail scrolls (PgDn, G, /filter), and a gate's input row stays on screen.
import { describe, expect, it } from 'vitest';
import { newSessionId, openJournal } from '../../src/adapters/journal-store.js';
import { Session } from '../../src/engine/session.js';
import type { Gate } from '../../src/runbook/step.js';
import { resolveValues } from '../../src/runbook/values.js';
import { App } from '../../src/screens/App.js';
import { textWidth } from '../../src/screens/text.js';
import { defineStep, type RunbookStep } from '../../src/steps/define.js';
import { stepsOf } from '../../src/steps/index.js';
import { renderSized, rowsOf } from '../support/ink-sized.js';
import { waitForFrame } from '../support/session.js';
import { tempDir } from '../support/temp.js';

const SIZES = [
  { columns: 80, rows: 24 },
  { columns: 200, rows: 60 },
] as const;

const DOWN = '\u001B[B';
const ENTER = '\r';
const PGDN = '\u001B[6~';

function session() {
  const dir = tempDir('db-runbook-layout-');
  const { values } = resolveValues({ env: { S3_BUCKET: 'acme-db-backups', POSTGRES_DATABASE: 'app' } });
  const journal = openJournal(dir, newSessionId(), values.secretValues());
  // No adapter is used: the steps below are pure, the others are only drawn.
  return new Session({
    journal,
    values,
    settings: {},
    target: {
      context: 'SANDBOX',
      namespace: 'data',
      sandbox: true,
      bucket: 'acme-db-backups',
      s3Endpoint: 'http://127.0.0.1:4566',
    },
    adapters: () => ({}) as never,
  });
}

/** A restore-like section: a step that logs 300 lines, and one behind a typed gate with a long target. */
function fakeSteps(gateSeen: (gate: Gate) => void): RunbookStep[] {
  return [
    defineStep({
      id: 'restore-postgres.long-log',
      section: 'restore-postgres',
      title: 'Read the long log',
      description: 'Writes 300 log lines, so the detail has to scroll.',
      inputs: [],
      plan: () => ({ actions: [{ summary: 'log 300 lines' }] }),
      async run(ctx) {
        for (let n = 1; n <= 300; n++) ctx.log(`log line ${n}${n === 150 ? ' needle' : ''}`);
        return { summary: 'logged 300 lines' };
      },
    }),
    defineStep({
      id: 'restore-postgres.gated',
      section: 'restore-postgres',
      title: 'Replace the database',
      description: 'Behind a typed gate with many target lines.',
      inputs: [],
      plan: () => ({ actions: [{ summary: 'replace it', destructive: true }] }),
      gate: () => {
        const gate: Gate = {
          kind: 'typed',
          prompt:
            'DESTRUCTIVE: database app on db.internal:5432 will be DROPPED and replaced by the backup (CLEAN_TARGET=true). Type "drop app" to confirm.',
          phrase: 'drop app',
          target: Object.fromEntries(
            [
              'kube context',
              'namespace',
              'host',
              'port',
              'database',
              'backup',
              'recovery point',
              'data loss',
              'integrity',
              'safety backup',
              'runs',
            ].map((label) => [
              label,
              `${label} value, long enough to wrap on a narrow terminal: ${'x'.repeat(60)}`,
            ]),
          ),
        };
        gateSeen(gate);
        return gate;
      },
      async run() {
        return { summary: 'replaced' };
      },
    }),
  ];
}

function checkFits(frame: string | undefined, size: { columns: number; rows: number }): string[] {
  const rows = rowsOf(frame);
  expect(rows.length, rows.join('\n')).toBeLessThanOrEqual(size.rows - 1);
  expect(rows[0], 'the header is the top row').toMatch(/^db-runbook\s+SANDBOX\s+namespace data/);
  for (const row of rows)
    expect(textWidth(row), `wider than ${size.columns}: ${row}`).toBeLessThanOrEqual(size.columns);
  return rows;
}

describe.each(SIZES)('the TUI at $columns×$rows', (size) => {
  it('keeps the header on the top row and fits the checklist, a section and the help overlay', async () => {
    const ui = renderSized(
      <App session={session()} stepsOf={(id) => stepsOf(id as never)} onQuit={() => undefined} />,
      size,
    );
    checkFits(await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections')), size);
    ui.stdin.write(`${DOWN.repeat(5)}${ENTER}`);
    const section = checkFits(
      await waitForFrame(ui.lastFrame, (f) => f.includes('Restore PostgreSQL —')),
      size,
    );
    expect(section.join('\n')).toMatch(/Enter run step/);
    ui.stdin.write('?');
    const help = checkFits(await waitForFrame(ui.lastFrame, (f) => f.includes('── Keys')), size);
    expect(help.join('\n')).toContain('↑/k');
    // The overlay scrolls to its last row (a footnote), whatever the height.
    ui.stdin.write('G');
    const end = checkFits(
      await waitForFrame(ui.lastFrame, (f) => f.includes('Every action is written to the session journal.')),
      size,
    );
    expect(end.join('\n')).toContain('Ctrl-C');
    ui.stdin.write('\u001B');
    await waitForFrame(ui.lastFrame, (f) => !f.includes('── Keys'));
    ui.unmount();
  });

  it('scrolls a long detail with PgDn and G, filters it with /, and keeps a gate’s input row on screen', async () => {
    const gates: Gate[] = [];
    const s = session();
    const ui = renderSized(
      <App
        session={s}
        stepsOf={(id) => (id === 'restore-postgres' ? fakeSteps((gate) => gates.push(gate)) : [])}
        onQuit={() => undefined}
      />,
      size,
    );
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    ui.stdin.write(`${DOWN.repeat(5)}${ENTER}`);
    await waitForFrame(ui.lastFrame, (f) => f.includes('Read the long log'));
    ui.stdin.write(ENTER);
    // The cursor follows to the next step once this one is done; go back up to read its log.
    await waitForFrame(ui.lastFrame, (f) => /› \S+ Replace the database/.test(f));
    ui.stdin.write('k');
    const logged = checkFits(
      await waitForFrame(ui.lastFrame, (f) => f.includes('Done: logged 300 lines')),
      size,
    );
    expect(logged.join('\n')).toMatch(/\(1–\d+ of \d+\)/);
    ui.stdin.write(PGDN);
    const paged = checkFits(
      await waitForFrame(ui.lastFrame, (f) => !/\(1–\d+ of/.test(f) && /\(\d+–\d+ of \d+\)/.test(f)),
      size,
    );
    expect(paged.join('\n')).toMatch(/│ log line \d+/);
    // Tab focuses the detail: then g/G and j/k scroll it (in the list they move between steps).
    ui.stdin.write('\tG');
    checkFits(await waitForFrame(ui.lastFrame, (f) => f.includes('│ log line 300')), size);
    ui.stdin.write('/needle\r');
    const filtered = checkFits(
      await waitForFrame(ui.lastFrame, (f) => f.includes('log line 150 needle')),
      size,
    );
    expect(filtered.join('\n')).not.toContain('log line 149');
    ui.stdin.write('\u001B');
    await waitForFrame(ui.lastFrame, (f) => !f.includes('/ needle'));
    ui.stdin.write('\t');
    await waitForFrame(ui.lastFrame, (f) => !f.includes('[detail: j/k scroll'));

    // Run the gated step: the gate shows its input row, the header stays.
    ui.stdin.write('j');
    await waitForFrame(ui.lastFrame, (f) => /› \S+ Replace the database/.test(f));
    ui.stdin.write(ENTER);
    const gate = checkFits(await waitForFrame(ui.lastFrame, (f) => f.includes('to confirm:')), size);
    expect(gate.join('\n')).toMatch(/Type drop app to confirm:/);
    ui.stdin.write('drop app\r');
    await waitForFrame(ui.lastFrame, () => s.status('restore-postgres.gated') === 'done');
    ui.unmount();
  });
});

describe('spinner', () => {
  it('says what is happening once, not twice', async () => {
    const s = session();
    let release: () => void = () => undefined;
    const step = defineStep({
      id: 'restore-postgres.waits',
      section: 'restore-postgres',
      title: 'Wait for the pod',
      description: 'Reports progress until released.',
      inputs: [],
      plan: () => ({ actions: [{ summary: 'wait' }] }),
      async run(ctx) {
        ctx.progress({ message: 'pod Running · 1 s' });
        await new Promise<void>((resolve) => (release = resolve));
        return { summary: 'pod done' };
      },
    });
    const ui = renderSized(
      <App
        session={s}
        stepsOf={(id) => (id === 'restore-postgres' ? [step] : [])}
        onQuit={() => undefined}
      />,
      {
        columns: 160,
        rows: 48,
      },
    );
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    ui.stdin.write(`${DOWN.repeat(5)}${ENTER}`);
    await waitForFrame(ui.lastFrame, (f) => f.includes('Wait for the pod'));
    ui.stdin.write(ENTER);
    const frame = await waitForFrame(ui.lastFrame, (f) => f.includes('pod Running · 1 s'));
    expect(frame.split('pod Running · 1 s')).toHaveLength(2);
    release();
    await waitForFrame(ui.lastFrame, (f) => f.includes('Done: pod done'));
    ui.unmount();
  });
});
