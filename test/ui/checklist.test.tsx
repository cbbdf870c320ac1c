import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { App } from '../../src/screens/App.js';
import { stepsOf } from '../../src/steps/index.js';
import { testSession, waitForFrame } from '../support/session.js';

const DOWN = '\u001B[B';
const ENTER = '\r';
const ESC = '\u001B';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({
    faults: {
      denials: [{ verb: 'create', resource: 'cronjobs', group: 'batch' }],
      s3Down: false,
      neo4jBackupClosed: false,
    },
  });
});

afterAll(async () => {
  await sandbox?.stop();
});

describe('checklist screen', () => {
  it('lists every runbook section with the target in the header, and says which are not available yet', async () => {
    const { session } = testSession({ env: sandbox.values, kubeconfig: sandbox.kubeconfigPath });
    const ui = render(
      <App session={session} stepsOf={(id) => stepsOf(id as never)} onQuit={() => undefined} />,
    );
    const frame = await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    for (const title of [
      'Prerequisites',
      'Configure',
      'Deploy CronJobs',
      'Synthetic test: PostgreSQL',
      'Restore PostgreSQL',
      'DR drill',
      'Troubleshoot',
    ]) {
      expect(frame).toContain(title);
    }
    expect(frame).toContain('SANDBOX');
    expect(frame).toContain('bucket db-backups');
    ui.unmount();
  });

  it('moves with the arrows, opens prerequisites, runs it, and shows ✓ rows and a ✗ row with the rule to add', async () => {
    const { session } = testSession({ env: sandbox.values, kubeconfig: sandbox.kubeconfigPath });
    const ui = render(
      <App session={session} stepsOf={(id) => stepsOf(id as never)} onQuit={() => undefined} />,
    );
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    ui.stdin.write(DOWN);
    await waitForFrame(ui.lastFrame, (f) => f.includes('› Configure') || /›\s+Configure/.test(f));
    ui.stdin.write('k');
    await waitForFrame(ui.lastFrame, (f) => /›\s+Prerequisites/.test(f));
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => f.includes('Tools on this workstation') && f.includes('Will do'));
    ui.stdin.write(DOWN);
    const cluster = await waitForFrame(ui.lastFrame, (f) => f.includes('kubectl auth can-i create secrets'));
    expect(cluster).toContain('Cluster access and permissions');
    ui.stdin.write(ENTER);
    const result = await waitForFrame(ui.lastFrame, (f) => f.includes('missing permissions'), 30_000);
    expect(result).toMatch(/✓ can create secrets/);
    expect(result).toMatch(/✗ can create cronjobs\.batch/);
    expect(result).toContain('resources: ["cronjobs"], verbs: ["create"]');
    expect(session.status('prerequisites.cluster')).toBe('failed');
    ui.stdin.write(ESC);
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections') && f.includes('failures'));
    ui.unmount();
  });

  it('opens the help overlay with ? and closes it again', async () => {
    const { session } = testSession({ env: sandbox.values, kubeconfig: sandbox.kubeconfigPath });
    const ui = render(
      <App session={session} stepsOf={(id) => stepsOf(id as never)} onQuit={() => undefined} />,
    );
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    ui.stdin.write('?');
    const help = await waitForFrame(ui.lastFrame, (f) => f.includes('Keys'));
    expect(help).toContain('quit');
    ui.stdin.write('?');
    await waitForFrame(ui.lastFrame, (f) => !f.includes('Keys'));
    ui.unmount();
  });

  it('a not-yet-built section says so instead of opening', async () => {
    const { session } = testSession({ env: sandbox.values, kubeconfig: sandbox.kubeconfigPath });
    const ui = render(
      <App
        session={session}
        stepsOf={(id) => (id === 'prerequisites' ? stepsOf(id) : [])}
        onQuit={() => undefined}
      />,
    );
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    ui.stdin.write(DOWN);
    await waitForFrame(ui.lastFrame, (f) => /›\s+Configure/.test(f));
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => f.includes('Configure is not available yet.'));
    ui.unmount();
  });
});
