import { chmodSync, copyFileSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { reportCommand } from '../../src/commands/report.js';
import { sessionsCommand } from '../../src/commands/sessions.js';
import { DRILL_JOURNAL_PATH, drillFixture } from './report-fixture.js';
import { tempDir } from '../support/temp.js';

const DRILL_ID = '20260115T100000Z-k3x9';

let dir: string;
let stdout: string;
let stderr: string;

function line(body: Record<string, unknown>): string {
  return `${JSON.stringify(body)}\n`;
}

const target = { context: 'SANDBOX', namespace: 'data', sandbox: true };

beforeEach(() => {
  dir = tempDir('report-command-');
  copyFileSync(DRILL_JOURNAL_PATH, join(dir, `${DRILL_ID}.jsonl`));
  // An older, unfinished setup session.
  writeFileSync(
    join(dir, '20260110T080000Z-aaaa.jsonl'),
    line({
      type: 'session-start',
      ts: '2026-01-10T08:00:00Z',
      seq: 1,
      session: '20260110T080000Z-aaaa',
      version: 1,
      tool: 'db-runbook',
      toolVersion: '0.1.0',
      operator: 'erin',
      argv: [],
      target,
      mode: 'tui',
    }),
  );
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

describe('reportCommand', () => {
  it('prints the newest session as Markdown by default, masked, and warns about the damaged line', async () => {
    const code = await reportCommand({
      sessionDir: dir,
      format: 'markdown',
      secrets: drillFixture.secrets,
      settings: drillFixture.settings,
    });
    expect(code).toBe(0);
    expect(stdout).toContain(`Session \`${DRILL_ID}\``);
    expect(stdout).toContain('**FAIL**');
    expect(stdout).toContain('```mermaid\ngantt');
    expect(stderr).toContain('journal line 83 is damaged');
    for (const secret of drillFixture.secrets) expect(stdout).not.toContain(secret);
  });

  it('writes JSON to --output with mode 0600, also over an existing world-readable file', async () => {
    const output = join(dir, 'report.json');
    writeFileSync(output, 'old');
    chmodSync(output, 0o644);
    const code = await reportCommand({
      sessionDir: dir,
      session: DRILL_ID,
      format: 'json',
      output,
      operator: 'carol',
    });
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(statSync(output).mode & 0o777).toBe(0o600);
    const report = JSON.parse(readFileSync(output, 'utf8')) as {
      operators: string[];
      session: { id: string };
    };
    expect(report.operators).toEqual(['carol']);
    expect(report.session.id).toBe(DRILL_ID);
    expect(stderr).toContain(`written to ${output}`);
  });

  it('prints a self-contained HTML page with --format html', async () => {
    const code = await reportCommand({
      sessionDir: dir,
      session: DRILL_ID,
      format: 'html',
      secrets: drillFixture.secrets,
      settings: drillFixture.settings,
    });
    expect(code).toBe(0);
    expect(stdout.startsWith('<!doctype html>')).toBe(true);
    expect(stdout).toContain('<svg class="timeline"');
    expect(stdout).not.toMatch(/<script/i);
    for (const secret of drillFixture.secrets) expect(stdout).not.toContain(secret);
  });

  it('--export writes <session>-dr-report.md, .html and .json (0600) beside the journal, as x and the drill do', async () => {
    const code = await reportCommand({
      sessionDir: dir,
      session: DRILL_ID,
      format: 'markdown',
      export: true,
      secrets: drillFixture.secrets,
      settings: drillFixture.settings,
    });
    expect(code).toBe(0);
    for (const ext of ['md', 'html', 'json']) {
      const path = join(dir, `${DRILL_ID}-dr-report.${ext}`);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const text = readFileSync(path, 'utf8');
      for (const secret of drillFixture.secrets) expect(text).not.toContain(secret);
    }
    expect(stderr).toContain(`written to ${join(dir, `${DRILL_ID}-dr-report.md`)}`);
    expect(JSON.parse(readFileSync(join(dir, `${DRILL_ID}-dr-report.json`), 'utf8'))).toMatchObject({
      schemaVersion: 2,
      session: { id: DRILL_ID, outcome: 'done' },
    });
  });

  it('accepts a unique prefix of a session id', async () => {
    expect(await reportCommand({ sessionDir: dir, session: '20260110', format: 'json' })).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      session: { id: '20260110T080000Z-aaaa', outcome: 'no-end-record' },
    });
  });

  it('a missing session: a clear message and exit 2, no stack trace', async () => {
    const code = await reportCommand({ sessionDir: dir, session: 'nope', format: 'markdown' });
    expect(code).toBe(2);
    expect(stderr).toContain(`error: no session "nope" in ${dir}`);
    expect(stderr).toContain('db-runbook sessions');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stdout).toBe('');
  });

  it('no sessions at all: exit 2', async () => {
    const empty = join(dir, 'empty');
    expect(await reportCommand({ sessionDir: empty, format: 'markdown' })).toBe(2);
    expect(stderr).toContain('no sessions in');
  });

  it('an unwritable --output: a message and exit 1, no stack trace', async () => {
    const code = await reportCommand({
      sessionDir: dir,
      format: 'markdown',
      output: join(dir, 'missing-dir', 'r.md'),
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: .*ENOENT.*check the path/m);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('covers the session a resumed session continued (resumedFrom in another journal)', async () => {
    const resumed = '20260115T104200Z-bbbb';
    writeFileSync(
      join(dir, `${resumed}.jsonl`),
      line({
        type: 'session-start',
        ts: '2026-01-15T12:00:00Z',
        seq: 1,
        session: resumed,
        version: 1,
        tool: 'db-runbook',
        toolVersion: '0.1.0',
        operator: 'bob',
        argv: ['resume'],
        target,
        mode: 'resume',
        resumedFrom: DRILL_ID,
      }) +
        line({
          type: 'session-end',
          ts: '2026-01-15T12:01:00Z',
          seq: 2,
          session: resumed,
          outcome: 'done',
          exitCode: 0,
        }),
    );
    expect(await reportCommand({ sessionDir: dir, session: resumed, format: 'json' })).toBe(0);
    const report = JSON.parse(stdout) as {
      session: { id: string; sessionIds: string[] };
      backups: unknown[];
    };
    expect(report.session.sessionIds).toEqual([DRILL_ID, resumed]);
    expect(report.session.id).toBe(resumed);
    expect(report.backups).toHaveLength(1);
  });
});

describe('sessionsCommand', () => {
  it('lists id, started, operator, sections done and outcome, newest first', async () => {
    expect(await sessionsCommand({ sessionDir: dir, json: false })).toBe(0);
    const rows = stdout.trimEnd().split('\n');
    expect(rows[0]).toMatch(/^ID\s+STARTED \(UTC\)\s+OPERATOR\s+SECTIONS DONE\s+OUTCOME$/);
    expect(rows[1]).toMatch(
      new RegExp(
        // the fixture's journal has one torn line (a crash mid-write), left out and counted
        `^${DRILL_ID}\\s+2026-01-15 10:00:00\\s+alice\\s+configure,deploy,test-postgres,restore-postgres\\s+done \\(1 damaged line\\(s\\) left out\\)$`,
      ),
    );
    expect(rows[2]).toMatch(/^20260110T080000Z-aaaa\s+2026-01-10 08:00:00\s+erin\s+-\s+unfinished$/);
  });

  it('--json gives the same facts for scripts', async () => {
    expect(await sessionsCommand({ sessionDir: dir, json: true })).toBe(0);
    const sessions = JSON.parse(stdout) as { id: string; outcome: string; damagedLines: number }[];
    expect(sessions.map((s) => [s.id, s.outcome, s.damagedLines])).toEqual([
      [DRILL_ID, 'done', 1],
      ['20260110T080000Z-aaaa', 'unfinished', 0],
    ]);
  });

  it('names the step a killed session was in', async () => {
    const text = readFileSync(DRILL_JOURNAL_PATH, 'utf8').split('\n');
    const cut = text.findIndex((entry) => /"mode": ?"resume"/.test(entry));
    writeFileSync(join(dir, `${DRILL_ID}.jsonl`), text.slice(0, cut).join('\n'));
    await sessionsCommand({ sessionDir: dir, json: false });
    expect(stdout).toContain('unfinished (at restore-postgres.restore)');
  });

  it('an empty directory is not an error', async () => {
    expect(await sessionsCommand({ sessionDir: join(dir, 'none'), json: false })).toBe(0);
    expect(stdout).toContain('No sessions in');
  });
});
