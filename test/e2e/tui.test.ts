import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, journalEvents } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const name = `db-runbook-e2e-${process.pid}`;
// A tmux server of this test's own, on a socket in its temp folder (nothing left in /tmp/tmux-UID).
const socket = `${tempDir('db-runbook-tmux-')}/tmux.sock`;

async function tmux(...args: string[]): Promise<string> {
  return String((await execa('tmux', ['-S', socket, ...args])).stdout);
}

async function screen(target = name): Promise<string> {
  return tmux('capture-pane', '-p', '-t', target);
}

async function waitUntilGone(text: string, timeoutMs = 10_000, target = name): Promise<void> {
  const started = Date.now();
  while ((await screen(target)).includes(text)) {
    if (Date.now() - started > timeoutMs) throw new Error(`screen still shows ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitFor(text: string | RegExp, timeoutMs = 30_000, target = name): Promise<string> {
  const started = Date.now();
  for (;;) {
    const shown = await screen(target);
    if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() - started > timeoutMs) throw new Error(`screen never showed ${String(text)}:\n${shown}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the TUI in a real terminal (tmux)', () => {
  afterAll(async () => {
    await execa('tmux', ['-S', socket, 'kill-server'], { reject: false });
  });

  it('opens on the checklist, runs prerequisites, shows ✓ rows, and quits leaving the terminal restored', async () => {
    const sessionDir = tempDir('db-runbook-tui-');
    await tmux(
      'new-session',
      '-d',
      '-s',
      name,
      '-x',
      '140',
      '-y',
      '60',
      `env NO_COLOR= node ${CLI} --sandbox --session-dir ${sessionDir}; echo "EXITED:$?"; sleep 60`,
    );
    const home = await waitFor('Runbook sections');
    expect(home).toContain('SANDBOX');
    expect(home).toContain('Restore PostgreSQL');

    await tmux('send-keys', '-t', name, '?');
    await waitFor('Keys');
    await tmux('send-keys', '-t', name, '?');
    await waitUntilGone('Keys');
    await tmux('send-keys', '-t', name, 'Enter');
    await waitFor('Will do');
    await tmux('send-keys', '-t', name, 'a');
    // The last step asks PostgreSQL what the restore-verify Job will need.
    const done = await waitFor(/✓ Restore verification grants/, 90_000);
    // Every step's row is ticked; the detail pane followed the steps to the last one.
    for (const title of [
      'Tools on this workstation',
      'Cluster access and permissions',
      'S3 bucket',
      'Database reachability',
      'Neo4j edition and version',
      'Restore verification grants',
    ]) {
      expect(done).toMatch(new RegExp(`✓ ${title}`));
    }
    expect(done).toMatch(/✓ may create the scratch database/);
    // One step up, the detail shows the Neo4j step's: it asked the edition over Bolt (a real 5.26 Community).
    await tmux('send-keys', '-t', name, 'Up');
    const neo4j = await waitFor(/✓ StatefulSet neo4j/);
    expect(neo4j).toMatch(/Neo4j 5\.26\.\d+ Community/);

    await tmux('send-keys', '-t', name, 'Escape');
    await waitFor('✓ 6/6 done');
    await tmux('send-keys', '-t', name, 'q');
    const after = await waitFor('EXITED:0');
    expect(after).not.toContain('Error');
    expect(await tmux('display-message', '-p', '-t', name, '#{cursor_flag}')).toBe('1');

    const events = journalEvents(sessionDir);
    expect(events.at(-1)).toMatchObject({ type: 'session-end', outcome: 'quit', exitCode: 0 });
  }, 120_000);
});

/**
 * What a person sees: the header on the top row (the frame never scrolls it away), no row that the
 * terminal had to wrap (capture-pane -J joins wrapped rows: none may be wider than the pane), and the
 * footer's key hints on the last row in use (nothing drawn over or under it).
 */
async function checkScreen(target: string, width: number): Promise<string[]> {
  const rows = (await tmux('capture-pane', '-p', '-J', '-t', target)).split('\n');
  expect(rows[0], rows.join('\n')).toMatch(/^db-runbook\s+SANDBOX\s+namespace data/);
  for (const row of rows) expect([...row].length, `wider than ${width}: ${row}`).toBeLessThanOrEqual(width);
  const used = rows.filter((row) => row.trim() !== '');
  expect(used.at(-1), rows.join('\n')).toMatch(/ · \? help · /);
  expect(new Set(used.filter((row) => /^db-runbook /.test(row))).size, 'one header').toBe(1);
  return rows;
}

describe.each([
  { columns: 80, rows: 24 },
  { columns: 200, rows: 60 },
])('the TUI in a $columns×$rows terminal (tmux)', ({ columns, rows }) => {
  afterAll(async () => {
    await execa('tmux', ['-S', socket, 'kill-server'], { reject: false });
  });

  it('keeps the header on screen, fits every row, scrolls the help to its end, runs a section and quits', async () => {
    const target = `db-runbook-${columns}x${rows}-${process.pid}`;
    const sessionDir = tempDir('db-runbook-tui-size-');
    await tmux(
      'new-session',
      '-d',
      '-s',
      target,
      '-x',
      String(columns),
      '-y',
      String(rows),
      `env NO_COLOR= node ${CLI} --sandbox --session-dir ${sessionDir}; echo "EXITED:$?"; sleep 60`,
    );
    await waitFor('Runbook sections', 60_000, target);
    await checkScreen(target, columns);

    await tmux('send-keys', '-t', target, '?');
    await waitFor('── Keys', 10_000, target);
    await checkScreen(target, columns);
    await tmux('send-keys', '-t', target, 'G');
    await waitFor('Every action is written to the session journal.', 10_000, target);
    await checkScreen(target, columns);
    await tmux('send-keys', '-t', target, 'Escape');
    await waitUntilGone('── Keys', 10_000, target);

    await tmux('send-keys', '-t', target, 'Enter');
    await waitFor('Will do', 10_000, target);
    await checkScreen(target, columns);
    await tmux('send-keys', '-t', target, 'a');
    await waitFor(/✓ Database reachability/, 90_000, target);
    await checkScreen(target, columns);
    // The run is over when the footer offers Enter again (not "Esc stop waiting").
    await waitFor(/Enter run step · a run remaining/, 90_000, target);
    // Page through the last step's detail; the header stays.
    await tmux('send-keys', '-t', target, 'PageDown');
    await checkScreen(target, columns);

    await tmux('send-keys', '-t', target, 'Escape');
    await waitFor('Runbook sections', 10_000, target);
    await checkScreen(target, columns);
    await tmux('send-keys', '-t', target, 'q');
    await waitFor('EXITED:0', 20_000, target);
    expect(journalEvents(sessionDir).at(-1)).toMatchObject({ type: 'session-end', outcome: 'quit' });
  }, 180_000);
});
