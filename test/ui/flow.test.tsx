// The TUI at 3 a.m.: quitting in the middle of a step asks first (q) or says what it did (Ctrl-C) and
// the journal keeps it, so the next start offers to resume; keys in a burst reach a gate in order;
// keys pressed while a step runs are answered; without a cluster nothing asks for S3 keys first.
import { readdirSync } from 'node:fs';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { newSessionId, openJournal, readJournal } from '../../src/adapters/journal-store.js';
import { unfinishedSession } from '../../src/commands/resume.js';
import { Session } from '../../src/engine/session.js';
import type { TargetInfo } from '../../src/runbook/journal.js';
import { resolveValues } from '../../src/runbook/values.js';
import { App } from '../../src/screens/App.js';
import { CLI_WORDS } from '../../src/screens/tui-text.js';
import { defineStep, type RunbookStep } from '../../src/steps/define.js';
import { stepsOf } from '../../src/steps/index.js';
import { waitForFrame } from '../support/session.js';
import { tempDir } from '../support/temp.js';

const DOWN = '\u001B[B';
const ENTER = '\r';

function session(target: Partial<TargetInfo> = {}) {
  const dir = tempDir('db-runbook-flow-');
  const { values } = resolveValues({ env: { S3_BUCKET: 'acme-db-backups', POSTGRES_DATABASE: 'app' } });
  const journal = openJournal(dir, newSessionId(), values.secretValues());
  const s = new Session({
    journal,
    values,
    settings: {},
    target: { context: 'prod-eu', namespace: 'data', sandbox: false, ...target },
    // These steps use no adapter; the real ones are only drawn.
    adapters: () => ({}) as never,
  });
  s.record({
    type: 'session-start',
    version: 1,
    tool: 'db-runbook',
    toolVersion: '0.1.0',
    operator: 'op',
    argv: [],
    target: s.target,
    mode: 'tui',
  });
  return { session: s, dir };
}

/** A Job wait that runs until aborted (it has started a Job, as the synthetic test's trigger does). */
function waitingSteps(s: Session): RunbookStep[] {
  return [
    defineStep({
      id: 'test-postgres.wait',
      section: 'test-postgres',
      title: 'Wait for the Job',
      description: 'Follows Job postgres-backup-test until it ends.',
      inputs: [],
      plan: () => ({ actions: [{ summary: 'wait' }] }),
      async run(ctx) {
        s.record({
          type: 'api',
          step: ctx.stepId,
          service: 'kubernetes',
          method: 'POST',
          path: '/apis/batch/v1/namespaces/data/jobs',
          object: 'postgres-backup-test',
          status: 201,
        });
        ctx.progress({ message: 'pod Running · 3 s' });
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        ctx.log('interrupted: Job postgres-backup-test is left running');
        return { summary: 'stopped waiting' };
      },
    }),
    defineStep({
      id: 'test-postgres.verify',
      section: 'test-postgres',
      title: 'Verify the dump',
      description: 'Never reached in these tests.',
      inputs: [],
      plan: () => ({ actions: [{ summary: 'verify' }] }),
      async run() {
        return { summary: 'verified' };
      },
    }),
  ];
}

async function openSection(ui: ReturnType<typeof render>, downs: number, title: string) {
  await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
  ui.stdin.write(`${DOWN.repeat(downs)}${ENTER}`);
  await waitForFrame(ui.lastFrame, (f) => f.includes(title));
}

describe('quitting in the middle of a step', () => {
  it('q asks first; n keeps the step running; y interrupts it, says the Job it left and how to delete it, and the journal records it', async () => {
    const { session: s, dir } = session();
    const outcomes: string[] = [];
    const ui = render(
      <App
        session={s}
        stepsOf={(id) => (id === 'test-postgres' ? waitingSteps(s) : [])}
        onQuit={(outcome) => {
          outcomes.push(outcome);
          s.close(outcome, outcome === 'interrupted' ? 130 : 0);
        }}
      />,
    );
    await openSection(ui, 3, 'Wait for the Job');
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => f.includes('pod Running · 3 s'));
    ui.stdin.write('q');
    const asked = await waitForFrame(ui.lastFrame, (f) => f.includes('── Quit?'));
    expect(asked.replace(/\s+/g, ' ')).toContain('"Wait for the Job" is running. Quitting interrupts it:');
    expect(asked.replace(/\s+/g, ' ')).toContain('Job postgres-backup-test stays in the cluster');
    ui.stdin.write('n');
    await waitForFrame(ui.lastFrame, (f) => !f.includes('── Quit?') && f.includes('Kept running.'));
    expect(s.status('test-postgres.wait')).toBe('running');

    ui.stdin.write('qy');
    const last = await waitForFrame(ui.lastFrame, (f) => f.includes('Interrupted by q'));
    const flat = last.replace(/\s+/g, ' ');
    expect(flat).toContain('Interrupted by q: "Wait for the Job" (test-postgres.wait).');
    expect(flat).toContain('The step said: interrupted: Job postgres-backup-test is left running');
    expect(flat).toContain(
      'Job postgres-backup-test (namespace data) was left in the cluster (it may still be running). Delete it: kubectl delete job postgres-backup-test -n data',
    );
    expect(flat).toContain('The next start offers to resume this session.');
    expect(last).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(outcomes).toEqual(['interrupted']);

    const events = readJournal(dir, s.id).events;
    expect(events.find((e) => e.type === 'mark' && e.name === 'interrupted')).toMatchObject({
      step: 'test-postgres.wait',
      data: { by: 'quit' },
    });
    expect(events.at(-1)).toMatchObject({ type: 'session-end', outcome: 'interrupted', exitCode: 130 });
    // The next start offers to resume it (a cluster session; a sandbox one only against the same sandbox).
    expect(unfinishedSession(dir, undefined)).toMatchObject({ id: s.id });
    expect(unfinishedSession(dir, undefined)?.notResumable).toBeUndefined();
  });

  it('Ctrl-C interrupts at once and says what it did; the journal says interrupted', async () => {
    const { session: s, dir } = session();
    const ui = render(
      <App
        session={s}
        stepsOf={(id) => (id === 'test-postgres' ? waitingSteps(s) : [])}
        onQuit={(outcome) => s.close(outcome, outcome === 'interrupted' ? 130 : 0)}
      />,
    );
    await openSection(ui, 3, 'Wait for the Job');
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => f.includes('pod Running · 3 s'));
    ui.stdin.write('\u0003');
    const last = await waitForFrame(ui.lastFrame, (f) => f.includes('Interrupted by Ctrl-C'));
    expect(last.replace(/\s+/g, ' ')).toContain('kubectl delete job postgres-backup-test -n data');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(readJournal(dir, s.id).events.at(-1)).toMatchObject({
      type: 'session-end',
      outcome: 'interrupted',
    });
    expect(readdirSync(dir).some((name) => name.endsWith('.jsonl'))).toBe(true);
  });

  it('a sandbox session is offered again only against the same sandbox', () => {
    const { session: s, dir } = session({
      sandbox: true,
      context: 'SANDBOX',
      server: 'https://127.0.0.1:6443',
    });
    s.close('interrupted', 130);
    expect(unfinishedSession(dir, { kubeServer: 'https://127.0.0.1:6443' })?.notResumable).toBeUndefined();
    expect(unfinishedSession(dir, { kubeServer: 'https://127.0.0.1:7443' })?.notResumable).toMatch(
      /no longer exists/,
    );
    expect(unfinishedSession(dir, undefined)?.notResumable).toMatch(/this run has none/);
  });
});

describe('keys', () => {
  it('a burst "apo⌫p⏎" at a typed gate is the phrase "app", and the gate accepts it', async () => {
    const { session: s } = session();
    const step = defineStep({
      id: 'restore-postgres.gated',
      section: 'restore-postgres',
      title: 'Gated',
      description: 'Behind a typed gate.',
      inputs: [],
      plan: () => ({ actions: [{ summary: 'do it' }] }),
      gate: () => ({ kind: 'typed', prompt: 'Type the phrase', phrase: 'app' }),
      async run() {
        return { summary: 'done it' };
      },
    });
    const ui = render(
      <App
        session={s}
        stepsOf={(id) => (id === 'restore-postgres' ? [step] : [])}
        onQuit={() => undefined}
      />,
    );
    await openSection(ui, 5, 'Gated');
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => f.includes('Type app to confirm:'));
    ui.stdin.write('apo\u007fp\r');
    await waitForFrame(ui.lastFrame, (f) => f.includes('Done: done it'));
    expect(s.status('restore-postgres.gated')).toBe('done');
  });

  it('a key pressed while a step runs is answered, not dropped', async () => {
    const { session: s } = session();
    const ui = render(
      <App
        session={s}
        stepsOf={(id) => (id === 'test-postgres' ? waitingSteps(s) : [])}
        onQuit={() => undefined}
      />,
    );
    await openSection(ui, 3, 'Wait for the Job');
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => f.includes('pod Running · 3 s'));
    ui.stdin.write('a');
    const frame = await waitForFrame(ui.lastFrame, (f) => f.includes('"a" not done'));
    expect(frame.replace(/\s+/g, ' ')).toContain(
      '"a" not done: "Wait for the Job" is running. Esc stops waiting for it',
    );
    ui.stdin.write('\u001B');
    const stopped = await waitForFrame(ui.lastFrame, (f) => f.includes('Esc: stopped waiting'));
    expect(stopped.replace(/\s+/g, ' ')).toContain('Esc: stopped waiting for "Wait for the Job"');
    ui.unmount();
  });
});

describe('without a cluster', () => {
  it('configure says there is no cluster before asking for anything (no S3 key form)', async () => {
    const { session: s } = session({ context: '(no context)' });
    const ui = render(
      <App
        session={s}
        stepsOf={(id) => stepsOf(id as never)}
        onQuit={() => undefined}
        clusterProblem="no kubeconfig found (KUBECONFIG, ~/.kube/config)"
      />,
    );
    const home = await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    expect(home).toContain('no Kubernetes cluster: no kubeconfig found');
    ui.stdin.write(`${DOWN}${ENTER}`);
    await waitForFrame(ui.lastFrame, (f) => f.includes('Secret database-backup-storage'));
    ui.stdin.write(ENTER);
    const frame = await waitForFrame(ui.lastFrame, (f) => f.includes('needs a Kubernetes cluster'));
    expect(frame).not.toContain('Values needed');
    expect(frame).not.toContain('(AWS_ACCESS_KEY_ID)');
    ui.unmount();
  });
});

describe('no command-line words in the TUI', () => {
  it('the steps’ prose, a refused gate and the write-canary hint name TUI keys, not flags', async () => {
    const { session: s } = session();
    const ui = render(<App session={s} stepsOf={(id) => stepsOf(id as never)} onQuit={() => undefined} />);
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    // Every section's every step, as the detail pane shows it before it runs.
    for (let section = 0; section < 9; section++) {
      ui.stdin.write(ENTER);
      await waitForFrame(ui.lastFrame, (f) => f.includes('Enter run step'));
      for (let step = 0; step < 12; step++) {
        const frame = ui.lastFrame() ?? '';
        const prose = frame
          .split('\n')
          .filter((line) => !/^\s*\$ |^\s{4}/.test(line))
          .join('\n');
        expect(prose, frame).not.toMatch(CLI_WORDS);
        const before = frame;
        ui.stdin.write('j');
        await new Promise((resolve) => setTimeout(resolve, 30));
        if (ui.lastFrame() === before) break;
      }
      ui.stdin.write('\u001B');
      await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
      ui.stdin.write(DOWN);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    ui.unmount();
  });
});
