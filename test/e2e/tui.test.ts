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

async function screen(): Promise<string> {
  return tmux('capture-pane', '-p', '-t', name);
}

async function waitUntilGone(text: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  while ((await screen()).includes(text)) {
    if (Date.now() - started > timeoutMs) throw new Error(`screen still shows ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitFor(text: string | RegExp, timeoutMs = 30_000): Promise<string> {
  const started = Date.now();
  for (;;) {
    const shown = await screen();
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
    const done = await waitFor(/reachable from this machine/, 60_000);
    // Every step's row is ticked; the detail pane followed the steps to the last one.
    for (const title of [
      'Tools on this workstation',
      'Cluster access and permissions',
      'S3 bucket',
      'Database reachability',
    ]) {
      expect(done).toMatch(new RegExp(`✓ ${title}`));
    }
    expect(done).toMatch(/✓ PostgreSQL 127\.0\.0\.1:\d+/);

    await tmux('send-keys', '-t', name, 'Escape');
    await waitFor('✓ 4/4 done');
    await tmux('send-keys', '-t', name, 'q');
    const after = await waitFor('EXITED:0');
    expect(after).not.toContain('Error');
    expect(await tmux('display-message', '-p', '-t', name, '#{cursor_flag}')).toBe('1');

    const events = journalEvents(sessionDir);
    expect(events.at(-1)).toMatchObject({ type: 'session-end', outcome: 'quit', exitCode: 0 });
  }, 120_000);
});
