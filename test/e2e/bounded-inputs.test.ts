// The built CLI with special files where it expects small regular ones, and malformed journals: nothing hangs
// (a FIFO or /dev/zero fails at once with a message naming it), one bad journal never breaks `sessions` or
// `report`, and malformed lines are left out and named by their line numbers.
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const VALUES = {
  S3_BUCKET: 'bounded-bucket',
  POSTGRES_HOST: '127.0.0.1',
  POSTGRES_DATABASE: 'app',
  POSTGRES_USER: 'app',
  POSTGRES_PASSWORD: 'not-used',
  DATABASES: 'postgres',
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/root',
};

const ts = (second: number) => `2026-01-02T03:04:${String(second).padStart(2, '0')}.000Z`;
const line = (event: Record<string, unknown>) => JSON.stringify(event);

/** A finished `run prerequisites` session, with a few malformed lines among the good ones. */
function journalWithBadLines(id: string): string {
  const base = { session: id };
  return [
    line({
      ...base,
      type: 'session-start',
      seq: 1,
      ts: ts(0),
      version: 1,
      tool: 'db-runbook',
      toolVersion: '0.1.0',
      operator: 'dana',
      argv: ['run', 'prerequisites'],
      target: { context: 'prod', namespace: 'data', sandbox: false },
      mode: 'run',
    }),
    line({ ...base, type: 'values', seq: 2, values: null, ts: ts(1) }),
    line({ ...base, type: 'note', seq: 3, text: 'no ts' }),
    line({
      ...base,
      type: 'result',
      seq: 4,
      ts: ts(2),
      step: 'prerequisites.binaries',
      status: 'done',
      summary: 'ok',
      data: [1],
    }),
    line({ ...base, type: 'session-end', seq: 5, ts: ts(3), outcome: 'done', exitCode: 0 }),
  ].join('\n');
}

describe('inputs that are not small regular files', () => {
  it('--values /dev/zero fails at once with exit 2 and says what it is', async () => {
    const run = await runCli(['report', '--values', '/dev/zero'], { env: VALUES, timeoutMs: 60_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('the values file /dev/zero is a character device, not a regular file');
  });

  it('--values naming a FIFO fails at once with exit 2 (nothing writes to it)', async () => {
    const fifo = join(tempDir('bounded-values-'), 'values.yaml');
    execFileSync('mkfifo', [fifo]);
    const run = await runCli(['report', '--values', fifo], { env: VALUES, timeoutMs: 60_000 });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`the values file ${fifo} is a FIFO (named pipe), not a regular file`);
  });

  it('--kubeconfig /dev/zero: the cluster check fails with a message naming it; the header shows no context', async () => {
    const run = await runCli(['run', 'prerequisites', '--kubeconfig', '/dev/zero', '--yes'], {
      env: VALUES,
      timeoutMs: 90_000,
    });
    expect(run.stdout).toContain('context (no context)');
    expect(`${run.stdout}\n${run.stderr}`).toContain(
      'cannot read the kubeconfig: the kubeconfig /dev/zero is a character device, not a regular file',
    );
    expect(run.exitCode).not.toBe(0);
  });
});

describe('session journals: one bad file never breaks sessions, report or resume', () => {
  it('sessions lists a FIFO, a dangling symlink and a journal with malformed lines, each as a row', async () => {
    const dir = tempDir('bounded-sessions-');
    writeFileSync(join(dir, '20260102T030400Z-good.jsonl'), journalWithBadLines('20260102T030400Z-good'));
    execFileSync('mkfifo', [join(dir, '20260102T030500Z-fifo.jsonl')]);
    symlinkSync(join(dir, 'gone.jsonl'), join(dir, '20260102T030600Z-link.jsonl'));
    const run = await runCli(['sessions'], { env: VALUES, sessionDir: dir, timeoutMs: 60_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/20260102T030500Z-fifo +- +- +- +unreadable \(a FIFO, not a regular file\)/);
    expect(run.stdout).toMatch(/20260102T030600Z-link +- +- +- +unreadable \(a dangling symlink\)/);
    expect(run.stdout).toMatch(
      /20260102T030400Z-good +2026-01-02 03:04:00 +dana +.*done \(3 damaged line\(s\) left out\)/,
    );
  });

  it('report takes the newest readable journal, and names each malformed line it left out', async () => {
    const dir = tempDir('bounded-report-');
    writeFileSync(join(dir, '20260102T030400Z-good.jsonl'), journalWithBadLines('20260102T030400Z-good'));
    execFileSync('mkfifo', [join(dir, '20260102T030500Z-fifo.jsonl')]);
    const run = await runCli(['report', '--format', 'json'], {
      env: VALUES,
      sessionDir: dir,
      timeoutMs: 60_000,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ session: { id: '20260102T030400Z-good' } });
    for (const number of [2, 3, 4]) expect(run.stderr).toMatch(new RegExp(`journal line ${number} `));
  });

  it('report and resume of a FIFO named like a session say there is no such session (exit 2), without waiting on it', async () => {
    const dir = tempDir('bounded-resume-');
    execFileSync('mkfifo', [join(dir, '20260102T030500Z-fifo.jsonl')]);
    const report = await runCli(['report', '20260102T030500Z-fifo'], {
      env: VALUES,
      sessionDir: dir,
      timeoutMs: 60_000,
    });
    expect(report.exitCode).toBe(2);
    expect(report.stderr).toContain('no session');
    const resume = await runCli(['resume', '20260102T030500Z-fifo', '--yes'], {
      env: VALUES,
      sessionDir: dir,
      timeoutMs: 60_000,
    });
    expect(resume.exitCode).toBe(2);
    expect(resume.stderr).toContain('no session');
  });
});
