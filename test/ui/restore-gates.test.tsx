// The restore-postgres screens in the real App (ink-testing-library), against a real sandbox: the backup
// list, the restore into a new database with its progress, and every gate — its target on screen, a wrong
// phrase refused, the right one accepted. The only replaced piece: S3 object bodies read by the product are
// slowed to ~1.5 MB/s (the bytes themselves are the real ones).
import { execa } from 'execa';
import { render } from 'ink-testing-library';
import { Transform, type Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Adapters } from '../../src/adapters/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { App } from '../../src/screens/App.js';
import { stepsOf } from '../../src/steps/index.js';
import { testSession, waitForFrame } from '../support/session.js';

const DOWN = '\u001B[B';
const ENTER = '\r';
const ESC = '\u001B';

let sandbox: Sandbox;
let database: string;
let backupKey: string;

async function psql(sql: string): Promise<string> {
  const result = await execa('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-q', '-c', sql], {
    env: {
      PATH: process.env.PATH ?? '',
      PGHOST: sandbox.postgres.host,
      PGPORT: String(sandbox.postgres.port),
      PGUSER: sandbox.postgres.user,
      PGPASSWORD: sandbox.postgres.password,
      PGDATABASE: database,
    },
    extendEnv: false,
  });
  return String(result.stdout).trim();
}

async function aws(args: string[]): Promise<void> {
  await execa('aws', ['--endpoint-url', sandbox.values.AWS_ENDPOINT_URL!, ...args], {
    env: { ...process.env, ...sandbox.values },
  });
}

/** Real adapters, with S3 object bodies slowed down (64 KiB every 40 ms). */
function slowBodies(real: Adapters): Adapters {
  return {
    ...real,
    async s3() {
      const s3 = await real.s3();
      return {
        ...s3,
        target: s3.target,
        async getStream(key, signal) {
          const got = await s3.getStream(key, signal);
          const slow = new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              const pieces: Buffer[] = [];
              for (let at = 0; at < chunk.length; at += 64 * 1024)
                pieces.push(chunk.subarray(at, at + 64 * 1024));
              const next = () => {
                const piece = pieces.shift();
                if (!piece) return callback();
                this.push(piece);
                setTimeout(next, 40);
              };
              next();
            },
          });
          return { ...got, body: (got.body as Readable).pipe(slow) };
        },
      };
    },
  };
}

function mount() {
  const { session } = testSession({
    env: sandbox.values,
    kubeconfig: sandbox.kubeconfigPath,
    adapters: slowBodies,
  });
  const ui = render(
    <App session={session} stepsOf={(id) => stepsOf(id as never)} onQuit={() => undefined} />,
  );
  return { session, ui };
}

type Ui = ReturnType<typeof mount>['ui'];

async function openRestoreSection(ui: Ui): Promise<void> {
  await waitForFrame(ui.lastFrame, (f) => f.includes('Runbook sections'));
  // Move down until the cursor is on the section (a key sent before the list listens is lost).
  for (let i = 0; i < 40 && !/›\s+Restore PostgreSQL/.test(ui.lastFrame() ?? ''); i++) {
    const before = ui.lastFrame();
    ui.stdin.write(DOWN);
    for (let wait = 0; wait < 10 && ui.lastFrame() === before; wait++)
      await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await waitForFrame(ui.lastFrame, (f) => /›\s+Restore PostgreSQL/.test(f));
  ui.stdin.write(ENTER);
  await waitForFrame(ui.lastFrame, (f) => f.includes('Incident declared') && f.includes('Choose the backup'));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Types into a typed gate's input and submits it. Two races of a test driving Ink by hand are
 * handled: keys written before a freshly mounted input listens are lost (write again until the text
 * is echoed), and an Enter that reaches the input's previous key handler submits the stale, empty
 * value (the gate then says `"" is not …`: type it again).
 */
async function type(ui: Ui, text: string): Promise<void> {
  const flat = () => (ui.lastFrame() ?? '').replace(/[║│\s]+/g, '');
  for (let round = 0; round < 5; round++) {
    // Nothing else moves while a gate waits: the frame changes when the input shows the text.
    let typed = false;
    for (let attempt = 0; attempt < 10 && !typed; attempt++) {
      const before = ui.lastFrame();
      ui.stdin.write(text);
      for (let wait = 0; wait < 25 && !typed; wait++) {
        await sleep(20);
        typed = ui.lastFrame() !== before;
      }
    }
    expect(typed, ui.lastFrame()).toBe(true);
    await sleep(100);
    const before = ui.lastFrame();
    ui.stdin.write(ENTER);
    for (let wait = 0; wait < 100 && ui.lastFrame() === before; wait++) await sleep(20);
    if (!flat().includes('✗""isnot')) return;
  }
  throw new Error(`could not submit "${text}": ${ui.lastFrame()}`);
}

async function fingerprint(): Promise<string> {
  return psql(
    "SELECT string_agg(t || '=' || n, ',' ORDER BY t) FROM (SELECT 'customers' t, count(*) n FROM customers UNION ALL SELECT 'orders', count(*) FROM orders UNION ALL SELECT 'bulk', count(*) FROM bulk) c",
  );
}

beforeAll(async () => {
  sandbox = await startSandbox();
  database = sandbox.postgres.database;
  // ~2 MB compressed: enough for the slowed integrity scan to show a few progress frames.
  await psql('CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS h FROM generate_series(1, 60000) g');
  const backup = await execa('bash', ['ops/db/backup-jobs/scripts/postgres-backup.sh'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...sandbox.values },
    extendEnv: false,
  });
  backupKey = /^object=s3:\/\/[^/]+\/(\S+)$/m.exec(String(backup.stdout))?.[1] ?? '';
  expect(backupKey).toMatch(/\.sql\.gz$/);
  await psql('DELETE FROM orders WHERE id > 10; DELETE FROM bulk WHERE id > 5');
});

afterAll(async () => {
  await sandbox?.stop();
});

describe('restore-postgres screens', () => {
  it('lists the backup, shows the restore into a new database, and each gate shows its target, refuses a wrong phrase and accepts the right one', async () => {
    const { session, ui } = mount();
    await openRestoreSection(ui);
    // The detail pane (with the progress bar) shows the selected step: select the integrity check, run all.
    ui.stdin.write(DOWN);
    await waitForFrame(ui.lastFrame, (f) => /›\s+\S+\s+Choose the backup/.test(f));
    ui.stdin.write(DOWN);
    await waitForFrame(ui.lastFrame, (f) => /›\s+\S+\s+Check the backup/.test(f));
    ui.stdin.write('a');
    // Incident time: a list, "now" first.
    await waitForFrame(
      ui.lastFrame,
      (f) => f.includes('When was the incident declared?') && f.includes('now ('),
    );
    ui.stdin.write(ENTER);
    // The backup list: key, size, age, recovery point, sidecar.
    const list = await waitForFrame(ui.lastFrame, (f) => f.includes('Which PostgreSQL backup to restore?'));
    expect(list).toContain(backupKey.replace('postgres/', ''));
    // size · age · recovery point · sidecar (the line may wrap: compare without the frame's layout)
    const flat = list.replace(/[│\s]+/g, ' ');
    expect(flat).toMatch(
      /\d+\.\d+ MiB · (\d+[dhms] ?)+ ago · recovery point \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z · sha256 ✓/,
    );
    ui.stdin.write(ENTER);

    // Integrity: the sidecar, the object and the globals; the dump itself is read once, by the restore.
    await waitForFrame(
      ui.lastFrame,
      () => /done|failed/.test(session.status('restore-postgres.integrity')),
      30_000,
    );
    expect(session.status('restore-postgres.integrity')).toBe('done');

    // Where the script runs: this host first. Then the restore into a new database, the database untouched.
    await waitForFrame(ui.lastFrame, (f) => f.includes('Where should postgres-restore.sh run?'), 60_000);
    ui.stdin.write(ENTER);
    const load = await waitForFrame(ui.lastFrame, (f) => f.includes('into a new database on'), 60_000);
    expect(load.replace(/[│\s]+/g, ' ')).toContain(`${database} is not touched`);
    ui.stdin.write('y');
    const seen = new Set<string>();
    const started = Date.now();
    while (!/done|failed/.test(session.status('restore-postgres.load')) && Date.now() - started < 60_000) {
      const match = /(restoring into a new database|streaming [\d.]+ \S+ into a new database)[^\n│]*/.exec(
        ui.lastFrame() ?? '',
      );
      if (match) seen.add(match[0]);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(session.status('restore-postgres.load')).toBe('done');
    expect(seen.size, [...seen].join('\n')).toBeGreaterThanOrEqual(1);
    expect(await fingerprint()).toBe('bulk=5,customers=200,orders=10');

    // Gate: stop writes. The target and the sessions connected now.
    const stop = await waitForFrame(ui.lastFrame, (f) => f.includes('Stop application writes to'));
    for (const label of [
      'kube context: SANDBOX',
      'namespace: data',
      'host: 127.0.0.1',
      `port: ${sandbox.postgres.port}`,
    ])
      expect(stop).toContain(label);
    expect(stop).toMatch(new RegExp(`database: ${database}`));
    expect(stop).toMatch(/sessions now: \d+/);
    await type(ui, 'nope');
    await waitForFrame(ui.lastFrame, (f) => f.includes(`"nope" is not "${database}": nothing was done`));
    expect(session.status('restore-postgres.stop-writes')).toBe('awaiting-confirmation');
    await type(ui, database);

    // Safety backup: take it (first in the list).
    await waitForFrame(
      ui.lastFrame,
      (f) => f.includes('Safety backup of') && f.includes('Take it (recommended)'),
    );
    ui.stdin.write(ENTER);

    // Gate: destructive. The restored copy's rows next to the database's, the backup, the safety backup.
    const destroy = await waitForFrame(
      ui.lastFrame,
      (f) => f.includes('DESTRUCTIVE: the restored copy'),
      60_000,
    );
    const flatDestroy = destroy.replace(/[│║\s]+/g, ' ');
    expect(flatDestroy).toMatch(
      new RegExp(`restored copy: ${database}_restore_\\d{14}: \\d+ row\\(s\\) in \\d+ table\\(s\\)`),
    );
    expect(flatDestroy).toMatch(new RegExp(`${database} now: ≈\\d+ row\\(s\\)`));
    expect(destroy).toContain(`backup: s3://${sandbox.values.S3_BUCKET}/${backupKey}`);
    expect(destroy).toMatch(/safety backup: s3:\/\/\S+\/postgres\/pre-restore\/\S+\.sql\.gz/);
    expect(flatDestroy).toMatch(/integrity: sha256 [0-9a-f]{16}… matched the sidecar as it streamed/);
    expect(flatDestroy).toContain('runs: postgres-restore.sh on this host, RESTORE_PHASE=swap');
    // The phrase that passed the first gate does not pass this one: it asks for "drop <database>".
    expect(flatDestroy).toContain(`Type "drop ${database}" to confirm`);
    await type(ui, database);
    await waitForFrame(ui.lastFrame, (f) => f.includes(`"${database}" is not "drop ${database}"`));
    expect(await fingerprint()).toBe('bulk=5,customers=200,orders=10');
    await type(ui, `drop ${database}`);

    // Restore, validation, then the confirm gate to resume writes.
    const resume = await waitForFrame(
      ui.lastFrame,
      (f) => f.includes('are resumed (maintenance mode off)?'),
      60_000,
    );
    expect(resume).toMatch(/validation: \d+ check\(s\) passed/);
    expect(await fingerprint()).toBe('bulk=60000,customers=200,orders=1000');
    ui.stdin.write('y');
    await waitForFrame(ui.lastFrame, () => session.status('restore-postgres.resume-writes') === 'done');
    ui.unmount();
  }, 120_000);

  it('a backup without its sidecar: the override gate and the skip-safety-backup gate show their target and take only their phrase; Esc at the destructive gate swaps nothing', async () => {
    // A newer copy of the backup, its sidecar left behind.
    const newer = backupKey.replace(/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(\.\d+)?Z/, '2099-01-01T00-00-00.000000Z');
    await aws([
      's3',
      'cp',
      `s3://${sandbox.values.S3_BUCKET}/${backupKey}`,
      `s3://${sandbox.values.S3_BUCKET}/${newer}`,
      '--only-show-errors',
    ]);
    await psql('DELETE FROM orders WHERE id > 10');
    const before = await fingerprint();

    const { session, ui } = mount();
    await openRestoreSection(ui);
    ui.stdin.write('a');
    await waitForFrame(ui.lastFrame, (f) => f.includes('When was the incident declared?'));
    ui.stdin.write(ENTER);
    const list = await waitForFrame(ui.lastFrame, (f) => f.includes('Which PostgreSQL backup to restore?'));
    expect(list).toContain('2099-01-01T00-00-00.000000Z.sql.gz');
    ui.stdin.write(ENTER);

    // Integrity fails; the override gate names the backup and the problem.
    const override = await waitForFrame(
      ui.lastFrame,
      (f) => f.includes('The integrity check FAILED'),
      30_000,
    );
    expect(override).toContain(`backup: s3://${sandbox.values.S3_BUCKET}/${newer}`);
    expect(override.replace(/[│║\s]+/g, ' ')).toMatch(/problem: the sidecar \S+ is missing/);
    expect(override).toContain('restore unverified 2099-01-01T00-00-00.000000Z.sql.gz');
    await type(ui, database);
    await waitForFrame(ui.lastFrame, (f) => f.includes(`"${database}" is not "restore unverified`));
    await type(ui, 'restore unverified 2099-01-01T00-00-00.000000Z.sql.gz');

    await waitForFrame(ui.lastFrame, (f) => f.includes('Where should postgres-restore.sh run?'), 60_000);
    ui.stdin.write(ENTER);
    await waitForFrame(ui.lastFrame, (f) => f.includes('into a new database on'), 60_000);
    ui.stdin.write('y');

    await waitForFrame(ui.lastFrame, (f) => f.includes('Stop application writes to'), 60_000);
    await type(ui, database);

    // Skip the safety backup: second in the list, then its own typed gate.
    await waitForFrame(ui.lastFrame, (f) => f.includes('Skip it'));
    ui.stdin.write(DOWN);
    await new Promise((resolve) => setTimeout(resolve, 50));
    ui.stdin.write(ENTER);
    const skip = await waitForFrame(ui.lastFrame, (f) => f.includes('Skip the safety backup?'));
    expect(skip).toContain(`database: ${database}`);
    expect(skip).toContain(`no safety backup of ${database}`);
    await type(ui, 'skip');
    await waitForFrame(ui.lastFrame, (f) => f.includes(`"skip" is not "no safety backup of ${database}"`));
    await type(ui, `no safety backup of ${database}`);

    // The destructive gate says the backup is unverified and nothing protects the current data; Esc refuses.
    const destroy = await waitForFrame(
      ui.lastFrame,
      (f) => f.includes('DESTRUCTIVE: the restored copy'),
      60_000,
    );
    expect(destroy).toContain('integrity: NOT VERIFIED (overridden)');
    expect(destroy).toContain('safety backup: SKIPPED (typed phrase)');
    ui.stdin.write(ESC);
    await waitForFrame(ui.lastFrame, () => session.status('restore-postgres.restore') === 'ready');
    expect(await fingerprint()).toBe(before);
    ui.unmount();
    // the restored copy is kept for a later swap; this test drops it
    const kept = await psql(
      `SELECT coalesce(string_agg(datname, ' '), '') FROM pg_database WHERE datname LIKE '${database}\\_restore\\_%'`,
    );
    expect(kept).toMatch(new RegExp(`^${database}_restore_\\d{14}$`));
    await psql(`DROP DATABASE "${kept}" WITH (FORCE)`);
  }, 120_000);
});
