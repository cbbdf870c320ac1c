import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { newSessionId, openJournal } from '../../src/adapters/journal-store.js';
import { reportActions } from '../../src/commands/report-actions.js';
import { Session } from '../../src/engine/session.js';
import { resolveValues } from '../../src/runbook/values.js';
import { App } from '../../src/screens/App.js';
import { stepsOf } from '../../src/steps/index.js';
import { waitForFrame } from '../support/session.js';
import { tempDir } from '../support/temp.js';

function sessionWithTargets() {
  const dir = tempDir('db-runbook-report-ui-');
  const { values } = resolveValues({
    env: { S3_BUCKET: 'acme-backups', POSTGRES_PASSWORD: 'pw-not-shown-123' },
    valuesFile: { rpoTarget: '24h', rtoTarget: '4h' },
  });
  const settings = { rpoTarget: '24h', rtoTarget: '4h' };
  const journal = openJournal(dir, newSessionId(), values.secretValues());
  // No adapter is used by this screen: the report is built from the journal alone.
  const session = new Session({
    journal,
    values,
    settings,
    target: { context: 'SANDBOX', namespace: 'data', sandbox: true },
    adapters: () => ({}) as never,
  });
  session.record({
    type: 'session-start',
    version: 1,
    tool: 'db-runbook',
    toolVersion: '0.1.0',
    operator: 'alice',
    argv: [],
    target: session.target,
    mode: 'tui',
  });
  return { session, dir };
}

describe('report screen', () => {
  it('says no database is restored yet, takes a facilitator note, and x exports Markdown, HTML and JSON (0600) as an in-progress report', async () => {
    const { session, dir } = sessionWithTargets();
    const ui = render(
      <App
        session={session}
        stepsOf={(id) => stepsOf(id as never)}
        onQuit={() => undefined}
        report={reportActions(session)}
      />,
    );
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    ui.stdin.write('r');
    const frame = await waitForFrame(ui.lastFrame, (f) => f.includes('DR report'));
    expect(frame).toContain('No database restored yet: RPO/RTO unknown until a restore is validated.');
    expect(frame).toMatch(/Result NOT MEASURED · in progress at \d\d:\d\d UTC/);
    ui.stdin.write('n');
    await waitForFrame(ui.lastFrame, (f) => f.includes('Note:'));
    for (const ch of 'drill ran long: VPN') ui.stdin.write(ch);
    await waitForFrame(ui.lastFrame, (f) => f.includes('drill ran long: VPN'));
    ui.stdin.write('\r');
    await waitForFrame(ui.lastFrame, (f) => f.includes('Notes (1)'));
    ui.stdin.write('x');
    const exported = await waitForFrame(ui.lastFrame, (f) => f.includes('written:'));
    const base = join(dir, `${session.id}-dr-report`);
    expect(exported.replace(/\n/g, '')).toContain(`written: ${base}.md, ${base}.html and ${base}.json`);
    const markdown = readFileSync(`${base}.md`, 'utf8');
    expect(markdown).toContain('drill ran long: VPN');
    expect(markdown).toContain('> **In progress at');
    expect(markdown).not.toMatch(/interrupted|unfinished/i);
    for (const ext of ['md', 'html', 'json']) {
      const text = readFileSync(`${base}.${ext}`, 'utf8');
      expect(text).not.toContain('pw-not-shown-123');
      expect(statSync(`${base}.${ext}`).mode & 0o777).toBe(0o600);
    }
    expect(JSON.parse(readFileSync(`${base}.json`, 'utf8'))).toMatchObject({
      schemaVersion: 2,
      session: { outcome: 'in-progress' },
    });
    ui.unmount();
  });
});
