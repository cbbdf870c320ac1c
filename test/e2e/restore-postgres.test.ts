// restore-postgres end to end: the built CLI (`node dist/cli.js run restore-postgres …`) against a real
// PostgreSQL 15, s3rver and the real postgres-backup.sh / postgres-restore.sh. One sandbox is started in
// this process and every CLI run is pointed at it through the environment (S3_BUCKET, AWS_*, POSTGRES_*,
// KUBECONFIG), as it would be at a real cluster: `--sandbox` would give each run a fresh, empty database,
// and the scenario needs "back up → damage → restore" across runs.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { journalEvents, journalText, runCli, startCli } from '../support/cli.js';
import { startSyntheticEnv, type SyntheticEnv } from '../support/synthetic.js';
import { tempDir } from '../support/temp.js';

const TABLES = ['customers', 'orders', 'inventory', 'backup_validation', 'slow_rows'] as const;
/**
 * Extra rows beside the sandbox seed: the marker table the synthetic test writes, and a table whose
 * CHECK sleeps 10 ms per row during COPY (unless a setting says otherwise), so a restore lasts long
 * enough to be interrupted in the middle without burning CPU.
 */
const EXTRA_SEED = `
CREATE TABLE backup_validation(id SERIAL PRIMARY KEY, note TEXT);
INSERT INTO backup_validation(note) VALUES ('2026-01-01T00:00:00Z synthetic check restore-e2e');
CREATE FUNCTION public.slow_ok(integer) RETURNS boolean LANGUAGE sql AS
  $$ SELECT CASE WHEN current_setting('restore_e2e.fast', true) = 'on' THEN true ELSE pg_sleep(0.01) IS NOT NULL END $$;
CREATE TABLE slow_rows (id integer PRIMARY KEY CHECK (public.slow_ok(id)), label text);
SET restore_e2e.fast = 'on';
INSERT INTO slow_rows SELECT g, 'row ' || g FROM generate_series(1, 400) g;
`;

let lab: SyntheticEnv;
let sandbox: Sandbox;
let env: Record<string, string>;
let database: string;
let backupUri: string;
let seed: Record<string, string>;
let damaged: Record<string, string>;

async function psql(sql: string, db?: string): Promise<string> {
  const result = await execa('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-q', '-c', sql], {
    env: {
      PATH: process.env.PATH ?? '',
      PGHOST: sandbox.postgres.host,
      PGPORT: String(sandbox.postgres.port),
      PGUSER: sandbox.postgres.user,
      PGPASSWORD: sandbox.postgres.password,
      PGDATABASE: db ?? database,
    },
    extendEnv: false,
  });
  return String(result.stdout).trim();
}

/** Row count and md5 of the ordered content of each table ('missing' when it does not exist). */
async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    const exists = await psql(`SELECT to_regclass('public.${table}') IS NOT NULL`);
    out[table] =
      exists === 't'
        ? await psql(
            `SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-') FROM public.${table} t`,
          )
        : 'missing';
  }
  return out;
}

async function aws(args: string[]): Promise<string> {
  const result = await execa('aws', ['--endpoint-url', sandbox.values.AWS_ENDPOINT_URL!, ...args], {
    env: { ...process.env, ...sandbox.values },
  });
  return String(result.stdout);
}

/** Each typed gate takes its own phrase: the database name (writes stopped), then "drop <name>". */
function restoreArgs(confirm: string, uri = backupUri): string[] {
  return [
    'run',
    'restore-postgres',
    '--yes',
    '--confirm',
    confirm,
    '--confirm',
    `drop ${confirm}`,
    '--restore-uri',
    uri,
  ];
}

function steps(sessionDir: string, type: string): Record<string, unknown>[] {
  return journalEvents(sessionDir).filter((event) => event.type === type);
}

beforeAll(async () => {
  lab = await startSyntheticEnv();
  sandbox = lab.sandbox;
  database = sandbox.postgres.database;
  env = lab.env();
  await psql(EXTRA_SEED);
  seed = await fingerprint();
  // The backup, exactly as the CronJob's container runs it: the real script, env only.
  const backup = await execa('bash', ['ops/db/backup-jobs/scripts/postgres-backup.sh'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...sandbox.values },
    extendEnv: false,
    reject: false,
  });
  expect(backup.exitCode, String(backup.stderr)).toBe(0);
  backupUri = /^object=(\S+)$/m.exec(String(backup.stdout))?.[1] ?? '';
  expect(backupUri).toMatch(/^s3:\/\/.+\.sql\.gz$/);
  // The incident: rows changed, rows deleted, a table dropped.
  await psql(
    "UPDATE customers SET name = 'overwritten' WHERE id <= 20; DELETE FROM orders WHERE id > 900; DROP TABLE inventory; DELETE FROM backup_validation;",
  );
  damaged = await fingerprint();
  expect(damaged).not.toEqual(seed);
});

afterAll(async () => {
  await lab?.stop();
});

describe('restore-postgres (built CLI, real scripts, real PostgreSQL and S3)', () => {
  it('a corrupted object is refused as it streams into a new database: exit 1, the database as it was, nothing left', async () => {
    const file = join(tempDir('restore-e2e-'), 'restore-e2e.sql.gz');
    await aws(['s3', 'cp', backupUri, file, '--only-show-errors']);
    const bytes = readFileSync(file);
    for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 16; i++)
      bytes[i] = bytes[i]! ^ 0xff;
    writeFileSync(file, bytes);
    const corrupt = backupUri.replace(/([^/]+)\.sql\.gz$/, 'corrupt-$1.sql.gz');
    await aws(['s3', 'cp', file, corrupt, '--only-show-errors']);
    await aws(['s3', 'cp', `${backupUri}.sha256`, `${corrupt}.sha256`, '--only-show-errors']);

    const run = await runCli(restoreArgs(database, corrupt), { env });
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/restore into a new database FAILED \(exit 5: integrity check failed/);
    expect(run.stdout).toMatch(/checksum mismatch for \S+corrupt-/);
    expect(await fingerprint()).toEqual(damaged);
    expect(await psql("SELECT count(*) FROM pg_database WHERE datname LIKE '%_restore_%'", 'postgres')).toBe(
      '0',
    );
    const results = steps(run.sessionDir, 'result');
    expect(results.find((r) => r.step === 'restore-postgres.load')?.status).toBe('failed');
    // Nothing after the refusal ran: no writes-stopped gate, no safety backup, no swap.
    expect(steps(run.sessionDir, 'gate').map((g) => g.step)).not.toContain('restore-postgres.stop-writes');
    expect(steps(run.sessionDir, 'mark').map((m) => m.name)).toEqual([
      'incident-declared',
      'restore-started',
    ]);
  }, 120_000);

  it('refuses the wrong --confirm with exit 3 and leaves the database as it was', async () => {
    const run = await runCli(restoreArgs(`${database}-typo`), { env });
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/gate refused/);
    expect(await fingerprint()).toEqual(damaged);
    const gates = steps(run.sessionDir, 'gate');
    expect(gates.at(-1)).toMatchObject({
      step: 'restore-postgres.stop-writes',
      kind: 'typed',
      answer: 'refused',
    });
    // Every --confirm phrase is checked before the first write: not even the restore into a new database ran.
    expect(journalText(run.sessionDir)).not.toContain('postgres-restore.sh');
    expect(await psql("SELECT count(*) FROM pg_database WHERE datname LIKE '%_restore_%'", 'postgres')).toBe(
      '0',
    );
  }, 120_000);

  it('SIGINT in the middle of the restore into a new database: dropped, exit 130, journal says interrupted', async () => {
    const sessionDir = join(tempDir('restore-e2e-sigint-'), 'restore-e2e-sigint');
    const child = startCli(restoreArgs(database), { env, sessionDir });
    let output = '';
    let sent = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!sent && /restoring into new database/.test(output)) {
        sent = true;
        // The fast tables are in by now; the slow one is being copied (4 s).
        setTimeout(() => child.kill('SIGINT'), 1500);
      }
    });
    const result = await child;
    expect(sent, output).toBe(true);
    expect(result.exitCode, `${output}\n${String(result.stderr)}`).toBe(130);
    expect(await fingerprint()).toEqual(damaged);
    // The scratch database the script restored into is gone too.
    expect(await psql("SELECT count(*) FROM pg_database WHERE datname LIKE '%_restore_%'", 'postgres')).toBe(
      '0',
    );
    const events = journalEvents(sessionDir);
    expect(events.find((e) => e.type === 'result' && e.step === 'restore-postgres.load')).toMatchObject({
      status: 'failed',
      summary: 'interrupted',
    });
    expect(events.at(-1)).toMatchObject({ type: 'session-end', outcome: 'interrupted', exitCode: 130 });
    expect(events.some((e) => e.type === 'mark' && e.name === 'restore-done')).toBe(false);
  }, 120_000);

  it('restores the backup: every table’s row count and md5 equal the seed', async () => {
    const run = await runCli(restoreArgs(database), { env });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(await fingerprint()).toEqual(seed);
    expect(run.stdout).toMatch(/✓ rows in public\.orders +1000 \(backup: 1000\)/);
    expect(run.stdout).toMatch(/✓ backup_validation marker rows +1 row\(s\); newest #1: .*restore-e2e/);

    const events = journalEvents(run.sessionDir);
    const marks = events.filter((e) => e.type === 'mark').map((e) => e.name);
    expect(marks).toEqual([
      'incident-declared',
      'restore-started',
      'download-done',
      'temporary-created',
      'restore-done',
      'recovery-point',
      'temporary-removed',
      'validated',
    ]);
    // the swap gate came after the restored copy's row counts, next to the database's
    expect(run.stdout).toMatch(/public\.orders: 1000 restored · ≈900 now/);
    expect(run.stdout).toMatch(/public\.inventory: 300 restored · absent now/);
    const point = events.find((e) => e.type === 'mark' && e.name === 'recovery-point') as {
      data: Record<string, unknown>;
    };
    expect(point.data).toMatchObject({
      uri: backupUri,
      verified: true,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(point.data.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    const restored = events.find((e) => e.type === 'result' && e.step === 'restore-postgres.restore') as {
      data: { backup: Record<string, unknown> };
    };
    expect(restored.data.backup).toMatchObject({ uri: backupUri, verified: true });
    const validation = events.find((e) => e.type === 'result' && e.step === 'restore-postgres.validate') as {
      data: { validation: { ok: boolean }[] };
    };
    expect(validation.data.validation.length).toBeGreaterThanOrEqual(6);
    expect(validation.data.validation.every((entry) => entry.ok)).toBe(true);

    // The safety backup of the damaged database is in S3 with its sidecar.
    const safety = events.find((e) => e.type === 'result' && e.step === 'restore-postgres.safety-backup') as {
      data: { uri: string };
    };
    expect(safety.data.uri).toMatch(/\/postgres\/pre-restore\/[^/]+\.sql\.gz$/);
    expect(await aws(['s3', 'cp', `${safety.data.uri}.sha256`, '-'])).toMatch(
      /^[0-9a-f]{64} {2}\S+\.sql\.gz/,
    );

    // No secret anywhere in the journal: passwords and keys went through the child environment only.
    const journal = journalText(run.sessionDir);
    expect(journal).not.toContain(sandbox.postgres.password);
    expect(journal).not.toContain(sandbox.values.AWS_SECRET_ACCESS_KEY);
  }, 120_000);
  it('restores as a Kubernetes Job made from the backup CronJob (restoreMode: job in the values file)', async () => {
    const deploy = await runCli(['run', 'configure', 'deploy', '--yes'], { env });
    expect(deploy.exitCode, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    await psql('DELETE FROM orders WHERE id > 10; DELETE FROM slow_rows');
    expect(await fingerprint()).not.toEqual(seed);
    const valuesFile = join(tempDir('restore-e2e-values-'), 'restore-e2e-values.yaml');
    writeFileSync(valuesFile, 'restoreMode: job\n');
    const run = await runCli([...restoreArgs(database), '--values', valuesFile], { env });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(await fingerprint()).toEqual(seed);
    expect(run.stdout).toMatch(
      /created Job postgres-restore-\d{14} in data from CronJob postgres-daily-backup/,
    );
    expect(run.stdout).toMatch(/restored app .* \(Job postgres-restore-\d{14} in data\)/);
    const gate = steps(run.sessionDir, 'gate').find((g) => g.step === 'restore-postgres.restore');
    expect(gate).toMatchObject({ kind: 'typed', answer: 'accepted' });
    const created = steps(run.sessionDir, 'api').find(
      (a) => a.service === 'kubernetes' && a.method === 'POST' && String(a.path).includes('/jobs'),
    );
    expect(created, JSON.stringify(steps(run.sessionDir, 'api').slice(-8))).toMatchObject({
      object: expect.stringMatching(/^postgres-restore-\d{14}$/),
    });
    expect(journalText(run.sessionDir)).not.toContain(sandbox.postgres.password);
  }, 120_000);
});

/**
 * Waits for the paused test hook of a script the CLI runs (DB_RUNBOOK_TEST_HOOK_SIGNAL=pause); fails at once
 * with the CLI's output when the CLI ended first.
 */
async function hookReached(dir: string, phase: string, cli: Promise<unknown>): Promise<string> {
  const flag = join(dir, `${phase}.reached`);
  let ended: unknown;
  void cli.then((result) => (ended = result ?? 'ended'));
  const deadline = Date.now() + 90_000;
  while (!existsSync(flag)) {
    if (ended !== undefined)
      throw new Error(`the CLI ended before ${phase}: ${JSON.stringify(ended).slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`the script never reached ${phase}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return flag;
}

/** The databases of the target's family now (app, app_restore_…, app_pre_restore_…). */
async function family(): Promise<string[]> {
  const names = await psql(
    `SELECT coalesce(string_agg(datname, ' ' ORDER BY datname), '') FROM pg_database WHERE datname = '${database}' OR datname LIKE '${database}\\_%'`,
    'postgres',
  );
  return names.split(' ').filter(Boolean);
}

/** Drops what an interrupted restore kept by name, after the test looked at it. */
async function dropKept(names: readonly string[]): Promise<void> {
  for (const name of names)
    if (name !== database) await psql(`DROP DATABASE "${name}" WITH (FORCE)`, 'postgres');
}

describe('restore-postgres: what the operator is told is what the server holds', () => {
  // each test starts from the target alone: what an earlier one kept by name is dropped
  beforeEach(async () => dropKept(await family()));

  it('Ctrl+C during the swap: exit 130, and the output says the database IS the restored one (read from the server)', async () => {
    await psql("UPDATE customers SET name = 'before ctrl-c' WHERE id = 1");
    const before = await fingerprint();
    const hookDir = tempDir('restore-e2e-hook-');
    const sessionDir = tempDir('restore-e2e-swap-sigint-');
    const child = startCli(restoreArgs(database), {
      env: {
        ...env,
        DB_RUNBOOK_TEST_HOOK_PHASE: 'swap-during',
        DB_RUNBOOK_TEST_HOOK_SIGNAL: 'pause',
        DB_RUNBOOK_TEST_HOOK_DIR: hookDir,
      },
      sessionDir,
    });
    const flag = await hookReached(hookDir, 'swap-during', child);
    // the transaction of renames is open, the target already renamed: Ctrl+C now
    child.kill('SIGINT');
    const result = await child;
    rmSync(flag, { force: true });
    const output = `${String(result.stdout)}\n${String(result.stderr)}`;
    expect(result.exitCode, output).toBe(130);
    expect(await fingerprint()).toEqual(seed);
    const previous = /the previous app is kept as (app_pre_restore_\d{14})/.exec(output)?.[1];
    expect(previous, output).toBeDefined();
    expect(output).toMatch(
      /interrupted after .*: app IS the restored database \(oid \d+, read from the server\)/,
    );
    expect(output).not.toContain('rolled back');
    expect(await family()).toEqual([database, previous]);
    const events = journalEvents(sessionDir);
    expect(events.find((e) => e.type === 'result' && e.step === 'restore-postgres.restore')).toMatchObject({
      summary: 'interrupted',
    });
    expect(events.some((e) => e.type === 'mark' && e.name === 'restore-done')).toBe(true);
    // the previous database is whole, under the name given
    await psql(`ALTER DATABASE "${previous}" RENAME TO app_check_previous`, 'postgres');
    const saved = database;
    database = 'app_check_previous';
    try {
      expect(await fingerprint()).toEqual(before);
    } finally {
      database = saved;
    }
    await dropKept(['app_check_previous']);
  }, 180_000);

  it('SIGTERM to the restore script alone during the swap: the step says restored, not FAILED', async () => {
    await psql("UPDATE customers SET name = 'before sigterm' WHERE id = 1");
    const run = await runCli(restoreArgs(database), {
      env: { ...env, DB_RUNBOOK_TEST_HOOK_PHASE: 'swap-during', DB_RUNBOOK_TEST_HOOK_SIGNAL: 'TERM' },
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(await fingerprint()).toEqual(seed);
    expect(output).toMatch(
      /restored app from \S+ \(this host\), but postgres-restore\.sh exited 143 after the swap: app IS the restored database/,
    );
    expect(output).not.toMatch(/restore FAILED/);
    expect(run.exitCode, output).toBe(0);
    // kept by name as the undo until validation passed; dropped once writes resumed
    const previous = /the previous app is kept as (app_pre_restore_\d{14})/.exec(output)?.[1];
    expect(previous, output).toBeDefined();
    expect(output).toMatch(new RegExp(`previous database ${previous} +dropped: validation passed`));
    expect(await family()).toEqual([database]);
  }, 180_000);

  it('an object replaced between the integrity check and the restore is refused (exit 5): the database is as it was', async () => {
    const uri = backupUri.replace(/([^/]+)\.sql\.gz$/, 'pinned-$1.sql.gz');
    await aws(['s3', 'cp', backupUri, uri, '--only-show-errors']);
    await aws(['s3', 'cp', `${backupUri}.sha256`, `${uri}.sha256`, '--only-show-errors']);
    await psql("UPDATE customers SET name = 'before the swap of objects' WHERE id = 1");
    const before = await fingerprint();
    const hookDir = tempDir('restore-e2e-hook-');
    // the restore into a new database pauses as it starts reading: the integrity check is done by then
    const running = runCli(restoreArgs(database, uri), {
      env: {
        ...env,
        DB_RUNBOOK_TEST_HOOK_PHASE: 'download',
        DB_RUNBOOK_TEST_HOOK_SIGNAL: 'pause',
        DB_RUNBOOK_TEST_HOOK_DIR: hookDir,
      },
    });
    const flag = await hookReached(hookDir, 'download', running);
    // another object with a matching sidecar, as an attacker with write access to the bucket would leave it
    const file = join(hookDir, 'other.sql.gz');
    const other = gzipSync(
      Buffer.from(`CREATE TABLE public.planted (id int);\n--\n-- PostgreSQL database dump complete\n--\n`),
    );
    writeFileSync(file, other);
    await aws(['s3', 'cp', file, uri, '--only-show-errors']);
    writeFileSync(file, `${createHash('sha256').update(other).digest('hex')}  ${uri.split('/').at(-1)}\n`);
    await aws(['s3', 'cp', file, `${uri}.sha256`, '--only-show-errors']);
    rmSync(flag);
    const run = await running;
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.exitCode, output).toBe(1);
    expect(output).toContain('is not the object that was verified');
    expect(output).toMatch(/restore into a new database FAILED \(exit 5: integrity check failed/);
    expect(output).toContain('app was not touched');
    expect(await fingerprint()).toEqual(before);
    expect(await psql("SELECT to_regclass('public.planted') IS NULL")).toBe('t');
    expect(await family()).toEqual([database]);
  }, 180_000);

  it('a failed validation keeps the database as it was before the swap, by name, with the command that drops it', async () => {
    const valuesFile = join(tempDir('restore-e2e-values-'), 'failing-validation.yaml');
    writeFileSync(
      valuesFile,
      'validationQueries:\n  - { name: customers, sql: "SELECT count(*) FROM public.customers", expect: "0" }\n',
    );
    const run = await runCli([...restoreArgs(database), '--values', valuesFile], { env });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.exitCode, output).toBe(1);
    expect(output).toMatch(/✗ customers/);
    const kept = (await family()).filter((name) => name !== database);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^app_pre_restore_\d{14}$/);
    expect(output).toContain(`the previous app is kept as ${kept[0]}: drop it when satisfied`);
    // resume-writes, which drops it once validation passed, did not run
    expect(steps(run.sessionDir, 'result').map((r) => r.step)).not.toContain(
      'restore-postgres.resume-writes',
    );
  }, 180_000);

  it('validation queries cannot write: a multi-statement query is refused unrun, a writing CTE fails read-only', async () => {
    const valuesFile = join(tempDir('restore-e2e-values-'), 'validation.yaml');
    writeFileSync(
      valuesFile,
      [
        'validationQueries:',
        `  - { name: sneaky commit, sql: "SELECT 1; COMMIT; CREATE TABLE public.pwned (id int)" }`,
        `  - { name: writing cte, sql: "WITH w AS (INSERT INTO public.backup_validation(note) VALUES ('pwned') RETURNING 1) SELECT count(*) FROM w" }`,
        `  - { name: customers, sql: "SELECT count(*) FROM public.customers", expect: ">0" }`,
      ].join('\n'),
    );
    const markers = await psql('SELECT count(*) FROM public.backup_validation');
    const run = await runCli(['run', 'restore-postgres.validate', '--yes', '--values', valuesFile], { env });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.exitCode, output).toBe(1);
    expect(output).toMatch(/✗ sneaky commit +refused, not run: it holds 3 statements/);
    expect(output).toMatch(/✗ writing cte .*read-only transaction/);
    expect(output).toMatch(/✓ customers/);
    expect(await psql("SELECT to_regclass('public.pwned') IS NULL")).toBe('t');
    expect(await psql('SELECT count(*) FROM public.backup_validation')).toBe(markers);
  }, 120_000);

  it('Job mode: Ctrl+C after the swap says the database IS the restored one (read from the server), not "rolled back"', async () => {
    // the Job is made from the backup CronJob (deploy is idempotent: the Job-mode test above applied it too)
    const deploy = await runCli(['run', 'configure', 'deploy', '--yes'], { env });
    expect(deploy.exitCode, `${deploy.stdout}\n${deploy.stderr}`).toBe(0);
    await psql("UPDATE customers SET name = 'before job ctrl-c' WHERE id = 1");
    const hookDir = tempDir('restore-e2e-hook-');
    const valuesFile = join(hookDir, 'values.yaml');
    writeFileSync(valuesFile, 'restoreMode: job\n');
    const sessionDir = tempDir('restore-e2e-job-sigint-');
    const child = startCli([...restoreArgs(database), '--values', valuesFile], {
      env: {
        ...env,
        DB_RUNBOOK_TEST_HOOK_PHASE: 'swap-after',
        DB_RUNBOOK_TEST_HOOK_SIGNAL: 'pause',
        DB_RUNBOOK_TEST_HOOK_DIR: hookDir,
      },
      sessionDir,
    });
    const flag = await hookReached(hookDir, 'swap-after', child);
    child.kill('SIGINT');
    const result = await child;
    rmSync(flag, { force: true });
    const output = `${String(result.stdout)}\n${String(result.stderr)}`;
    expect(result.exitCode, output).toBe(130);
    expect(await fingerprint()).toEqual(seed);
    expect(output).toMatch(
      /interrupted after .*: app IS the restored database \(oid \d+, read from the server\)/,
    );
    expect(output).not.toContain('rolls back');
    const kept = (await family()).filter((name) => name !== database);
    expect(kept).toHaveLength(1);
    expect(output).toContain(`the previous app is kept as ${kept[0]}`);
    await dropKept(kept);
  }, 180_000);
});
