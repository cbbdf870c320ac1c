import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/cluster/index.js';
import { App } from '../../src/screens/App.js';
import { stepsOf } from '../../src/steps/index.js';
import { flatFrame } from '../fixtures/configure/frames.js';
import { testSession, waitForFrame } from '../support/session.js';
import { tempDir } from '../support/temp.js';

const DOWN = '\u001B[B';
const ENTER = '\r';
const ACCESS_KEY = 'AKIAUITESTKEY0042';
const SECRET_KEY = 'ui-Secret/Key+never-on-screen';

let standIn: Cluster;

beforeAll(async () => {
  standIn = await startCluster({
    workDir: join(tempDir('db-runbook-ui-configure-'), 'kube'),
  });
});

afterAll(async () => {
  await standIn?.stop();
});

async function type(stdin: { write(data: string): void }, text: string): Promise<void> {
  for (const char of text) {
    stdin.write(char);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('configure screens', () => {
  it('fills the storage form with masked secrets, shows create/unchanged before writing, confirms, shows ✓', async () => {
    const { session } = testSession({
      env: { S3_BUCKET: 'acme-db-backups', AWS_DEFAULT_REGION: 'eu-west-1' },
      kubeconfig: standIn.kubeconfigPath,
    });
    const ui = render(
      <App session={session} stepsOf={(id) => stepsOf(id as never)} onQuit={() => undefined} />,
    );
    await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
    ui.stdin.write(DOWN);
    await waitForFrame(ui.lastFrame, (f) => /›\s+\S*\s*Configure/.test(f));
    ui.stdin.write(ENTER);
    await waitForFrame(
      ui.lastFrame,
      (f) =>
        f.includes('Secret database-backup-storage (S3 bucket and credentials)') && f.includes('Will do'),
    );
    expect(ui.lastFrame()).toContain('--from-literal=AWS_SECRET_ACCESS_KEY=••••••');
    ui.stdin.write(ENTER);

    await waitForFrame(ui.lastFrame, (f) => f.includes('(AWS_ACCESS_KEY_ID)'));
    await type(ui.stdin, ACCESS_KEY);
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => f.includes('(AWS_SECRET_ACCESS_KEY)'));
    await type(ui.stdin, SECRET_KEY);
    await waitForFrame(ui.lastFrame, (f) => f.includes('*'.repeat(SECRET_KEY.length)));
    ui.stdin.write(ENTER);

    const gate = await waitForFrame(ui.lastFrame, (f) => f.includes('Proceed? y / n'));
    expect(flatFrame(gate)).toContain(
      '· Secret data/database-backup-storage: create (keys S3_BUCKET, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
    );
    expect(gate).toContain('Apply Secret database-backup-storage (create) in namespace data');
    expect(gate).toMatch(/objects: Secret\/database-backup-storage/);
    ui.stdin.write('y');
    // The cursor follows to the next step once this one is done; back up one to read its result.
    await waitForFrame(ui.lastFrame, (f) => /›\s+\S+\s+Secret postgres-backup-credentials/.test(f));
    ui.stdin.write('k');
    const done = await waitForFrame(ui.lastFrame, (f) =>
      flatFrame(f).includes('Done: Secret data/database-backup-storage'),
    );
    // The check row: ✓, the object, what happened (key names only).
    expect(flatFrame(done)).toMatch(/✓ ?Secret (database-backup-storage )?created \(keys S3_BUCKET/);
    expect(flatFrame(done)).toContain('Done: Secret data/database-backup-storage: create');
    expect(session.status('configure.storage-secret')).toBe('done');

    // Again: nothing to write, so no gate; the preview says unchanged.
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => /›\s+\S+\s+Secret postgres-backup-credentials/.test(f));
    ui.stdin.write('k');
    const again = await waitForFrame(ui.lastFrame, (f) =>
      flatFrame(f).includes('Done: Secret data/database-backup-storage: unchanged'),
    );
    expect(flatFrame(again)).toMatch(/✓ ?Secret (database-backup-storage )?unchanged/);
    expect(flatFrame(again)).toContain('· Secret data/database-backup-storage: unchanged');
    expect(again).not.toContain('Proceed? y / n');

    for (const frame of ui.frames) {
      expect(frame).not.toContain(SECRET_KEY);
      expect(frame).not.toContain(ACCESS_KEY);
    }
    ui.unmount();
  });
});
