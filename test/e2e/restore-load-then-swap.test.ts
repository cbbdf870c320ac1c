// postgres-restore.sh in two calls, as the restore section runs it: RESTORE_PHASE=load streams the backup once
// into a new database and stops (the target untouched), RESTORE_PHASE=swap swaps exactly that database in.
// Real PostgreSQL and s3rver; the scripts run with only the Job's environment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let seeded: Record<string, string>;
let uri: string;

function output(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
}

beforeAll(async () => {
  env = await startBackupEnv('pg-load-swap');
  seeded = await fingerprint(env);
  const backup = await runScript('postgres-backup.sh', { env: env.jobEnv() });
  expect(backup.code).toBe(0);
  uri = output(backup.stdout).object!;
});

afterAll(async () => {
  await env?.stop();
});

const restoreDatabases = () =>
  env.psql(
    `SELECT coalesce(string_agg(datname, ',' ORDER BY datname), '') FROM pg_database WHERE datname LIKE '%restore%'`,
    'postgres',
  );

describe('restore in two calls: load, then swap', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  let scratch = '';
  let oid = '';

  it('load restores into a new database, prints its name and the rows per table of the dump, and leaves the target as it was', async () => {
    await env.psql(
      `UPDATE customers SET name = 'changed' WHERE id <= 100; DELETE FROM orders WHERE id % 3 = 0;`,
    );
    const changed = await fingerprint(env).catch(() => undefined);
    const result = await runScript('postgres-restore.sh', {
      env: env.jobEnv({ RESTORE_S3_URI: uri, CLEAN_TARGET: 'true', RESTORE_PHASE: 'load' }),
    });
    expect(result.stderr).toContain('was not touched. Swap it in: RESTORE_PHASE=swap');
    expect(result.code).toBe(0);
    const out = output(result.stdout);
    scratch = out.scratch!;
    oid = out.restored_oid!;
    expect(scratch).toMatch(/_restore_\d{14}$/);
    expect(out.verified).toBe('true');
    // the dump's COPY rows, one line per table
    const orders = await env.psql('SELECT count(*) FROM orders', scratch);
    expect(result.stdout).toMatch(
      new RegExp(`^copy=${orders} COPY public\\.orders \\(.*\\) FROM stdin;$`, 'm'),
    );
    expect(await restoreDatabases()).toBe(scratch);
    expect(await fingerprint(env).catch(() => undefined)).toEqual(changed);
  });

  it('swap refuses a database whose oid is not the one load made, and touches nothing', async () => {
    const result = await runScript('postgres-restore.sh', {
      env: env.jobEnv({
        RESTORE_PHASE: 'swap',
        RESTORE_SCRATCH: scratch,
        RESTORE_SCRATCH_OID: String(Number(oid) + 1),
      }),
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('it is not the database that was restored and checked');
    expect(await restoreDatabases()).toBe(scratch);
  });

  it('swap puts exactly that database in place of the target and drops the previous one', async () => {
    const result = await runScript('postgres-restore.sh', {
      env: env.jobEnv({ RESTORE_PHASE: 'swap', RESTORE_SCRATCH: scratch, RESTORE_SCRATCH_OID: oid }),
    });
    expect(result.stderr).toContain('swap committed');
    expect(result.code).toBe(0);
    expect(output(result.stdout).restored_oid).toBe(oid);
    expect(await env.psql(`SELECT oid FROM pg_database WHERE datname = current_database()`)).toBe(oid);
    expect(await fingerprint(env)).toEqual(seeded);
    expect(await restoreDatabases()).toBe('');
  });

  it('swap of a database that is gone says so and changes nothing', async () => {
    const result = await runScript('postgres-restore.sh', {
      env: env.jobEnv({ RESTORE_PHASE: 'swap', RESTORE_SCRATCH: scratch, RESTORE_SCRATCH_OID: oid }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('does not exist (dropped since?)');
    expect(await fingerprint(env)).toEqual(seeded);
  });

  it('load with CLEAN_TARGET=false is refused before anything is written', async () => {
    const result = await runScript('postgres-restore.sh', {
      env: env.jobEnv({ RESTORE_S3_URI: uri, CLEAN_TARGET: 'false', RESTORE_PHASE: 'load' }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('RESTORE_PHASE=load needs CLEAN_TARGET=true');
    expect(await restoreDatabases()).toBe('');
  });
});
