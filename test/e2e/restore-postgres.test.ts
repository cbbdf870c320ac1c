// restore-postgres end to end: the built CLI (`node dist/cli.js run restore-postgres …`) against a real
// PostgreSQL 15, s3rver and the real postgres-backup.sh / postgres-restore.sh. One sandbox is started in
// this process and every CLI run is pointed at it through the environment (S3_BUCKET, AWS_*, POSTGRES_*,
// KUBECONFIG), as it would be at a real cluster: `--sandbox` would give each run a fresh, empty database,
// and the scenario needs "back up → damage → restore" across runs.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

function restoreArgs(confirm: string, uri = backupUri): string[] {
  return ['run', 'restore-postgres', '--yes', '--confirm', confirm, '--restore-uri', uri];
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
  it('refuses a corrupted object before touching the database (exit 1, override refused)', async () => {
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
    expect(run.stdout).toMatch(/REFUSED: SHA-256 mismatch/);
    expect(await fingerprint()).toEqual(damaged);
    const results = steps(run.sessionDir, 'result');
    expect(results.find((r) => r.step === 'restore-postgres.integrity')?.status).toBe('failed');
    const gate = steps(run.sessionDir, 'gate').find((g) => g.step === 'restore-postgres.integrity-override');
    expect(gate).toMatchObject({ kind: 'typed', answer: 'refused' });
    // Nothing after the refusal ran: no session query, no safety backup, no restore script.
    const commands = steps(run.sessionDir, 'command').map((c) => String(c.command));
    expect(commands).toEqual([]);
    expect(steps(run.sessionDir, 'mark').map((m) => m.name)).toEqual(['incident-declared']);
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
    expect(journalText(run.sessionDir)).not.toContain('postgres-restore.sh');
  }, 120_000);

  it('SIGINT in the middle of the restore: rolled back, exit 130, journal says interrupted', async () => {
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
    expect(events.find((e) => e.type === 'result' && e.step === 'restore-postgres.restore')).toMatchObject({
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
      'restore-done',
      'recovery-point',
      'validated',
    ]);
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
