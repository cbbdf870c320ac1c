import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeAdapter } from '../../src/adapters/kube.js';
import type { KubeAdapter, KubeObject } from '../../src/adapters/types.js';
import { summarizeJob } from '../../src/runbook/job-status.js';
import { startCluster, type Cluster } from '../../src/sandbox/cluster/index.js';
import { App } from '../../src/screens/App.js';
import { stepsOf } from '../../src/steps/index.js';
import { testSession, waitForFrame } from '../support/session.js';
import { tempDir } from '../support/temp.js';

const DOWN = '\u001B[B';
const ENTER = '\r';
const ESC = '\u001B';

let standIn: Cluster;
let kube: KubeAdapter;

/** A Job like the backup's, whose container talks for a minute (the stand-in runs it as a local process). */
const slowJob: KubeObject = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'postgres-backup-test', namespace: 'data' },
  spec: {
    backoffLimit: 0,
    template: {
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'backup',
            image: 'postgres:15',
            command: [
              '/bin/sh',
              '-c',
              'echo "postgres-backup: dumping app"; i=1; while [ $i -le 60 ]; do echo "postgres-backup: progress $i"; i=$((i+1)); sleep 1; done',
            ],
          },
        ],
      },
    },
  },
};

beforeAll(async () => {
  standIn = await startCluster({ workDir: tempDir('db-runbook-ui-wait-') });
  kube = await createKubeAdapter({
    kubeconfig: standIn.kubeconfigPath,
    namespace: 'data',
    record: () => undefined,
  });
  await kube.create(slowJob);
});

afterAll(async () => {
  await standIn?.stop();
});

describe('the live wait view', () => {
  it('shows the pod phase with elapsed time and the log lines as they come, and Esc stops waiting while the Job keeps running', async () => {
    const { session } = testSession({ env: {}, kubeconfig: standIn.kubeconfigPath });
    const ui = render(
      <App session={session} stepsOf={(id) => stepsOf(id as never)} onQuit={() => undefined} />,
    );
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    // one key at a time: wait for the frame each key produces
    for (const title of ['Configure', 'Deploy CronJobs', 'Synthetic test: PostgreSQL']) {
      ui.stdin.write(DOWN);
      await waitForFrame(ui.lastFrame, (f) => new RegExp(`›\\s+${title}`).test(f));
    }
    ui.stdin.write(ENTER);
    await waitForFrame(
      ui.lastFrame,
      (f) => f.includes('Seed a marker row') && f.includes('Wait for the Job'),
    );
    for (const title of ['Run the backup Job now', 'Wait for the Job']) {
      ui.stdin.write(DOWN);
      await waitForFrame(ui.lastFrame, (f) => new RegExp(`›\\s+\\S*\\s*${title}`).test(f));
    }
    ui.stdin.write(ENTER);

    // the spinner line: pod phase · elapsed time, ticking; the log pane: the container's lines
    const first = await waitForFrame(
      ui.lastFrame,
      (f) => /pod Running · \d+ s/.test(f) && f.includes('progress'),
    );
    expect(first).toContain('postgres-backup: dumping app');
    const seconds = (frame: string) => Number(/pod Running · (\d+) s/.exec(frame)?.[1] ?? -1);
    const later = await waitForFrame(
      ui.lastFrame,
      (f) => seconds(f) >= seconds(first) + 2 && /progress [3-9]/.test(f),
    );
    expect(later).toMatch(/│ postgres-backup: progress \d+/);

    ui.stdin.write(ESC);
    const detached = await waitForFrame(ui.lastFrame, (f) =>
      f.includes('stopped waiting; Job postgres-backup-test keeps running'),
    );
    expect(detached).toContain('Done: stopped waiting; Job postgres-backup-test keeps running');
    expect(detached).toMatch(/! ?stopped waiting for Job/);
    expect(session.status('test-postgres.wait')).toBe('done');
    expect(session.result('test-postgres.wait')?.data).toMatchObject({ detached: true, finished: false });

    // the Job was left alone: still active, not deleted, its pod still running
    const job = await kube.get({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: 'postgres-backup-test',
      namespace: 'data',
    });
    expect(job).toBeDefined();
    const pods = await kube.list(
      'v1',
      'Pod',
      'data',
      `batch.kubernetes.io/controller-uid=${job?.metadata.uid}`,
    );
    const summary = summarizeJob(job!, pods);
    expect(summary).toMatchObject({ finished: false, phase: 'running' });
    expect(summary.pod?.phase).toBe('Running');
    ui.unmount();
  });
});
