// postgres-verify.sh (issue 19): every backup proven restorable. Real PostgreSQL 15, s3rver and the aws CLI; the
// script runs as the restore-verify Job runs it (`bash <script>` with only the Job's environment). Each case reads
// the published <key>.verified.json back and checks that the scratch database is gone.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listKeys, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let backupKey: string;

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}
interface Record {
  format: string;
  result: 'pass' | 'fail';
  backup: string;
  sha256: string;
  failedCheck: string | null;
  checks: Check[];
  counts: {
    recorded: boolean;
    atBackup: { table: string; rows: number }[];
    restored: { table: string; rows: number }[];
  };
  scratch: { database: string; dropped: boolean };
  by: { pod: string };
  durationSeconds: number;
  error: string | null;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const isDump = (key: string) => key.endsWith('.sql.gz') && !key.endsWith('.globals.sql.gz');
const verify = (extra: { [k: string]: string } = {}) =>
  runScript('postgres-verify.sh', { env: env.jobEnv(extra) });
/** The databases named like the scratch database (app_verify and what a restore into it may leave). */
const scratchDatabases = () =>
  env.psql(
    `SELECT coalesce(string_agg(datname, ' '), '') FROM pg_database WHERE datname LIKE 'app\\_verify%'`,
    'postgres',
  );

let downloads = 0;
/** An object's bytes (through a file: the aws CLI's stdout is read as text). */
async function get(key: string): Promise<Buffer> {
  const file = join(env.dir, `download-${++downloads}`);
  const result = await env.aws(['s3', 'cp', `s3://db-backups/${key}`, file]);
  expect(result.code, result.stderr).toBe(0);
  return readFile(file);
}
async function readRecord(key: string): Promise<Record> {
  const body = (await env.aws(['s3', 'cp', `s3://db-backups/${key}.verified.json`, '-'])).stdout;
  const sidecar = (await env.aws(['s3', 'cp', `s3://db-backups/${key}.verified.json.sha256`, '-'])).stdout;
  expect(sidecar).toBe(`${sha256(body)}  ${key.split('/').at(-1)}.verified.json\n`);
  return JSON.parse(body) as Record;
}
/** Copies an object with its sidecar to another key (sidecar's file name updated). */
async function put(key: string, body: Buffer | string): Promise<void> {
  expect((await env.aws(['s3', 'cp', '-', `s3://db-backups/${key}`], body)).code).toBe(0);
  const sidecar = `${sha256(body)}  ${key.split('/').at(-1)}\n`;
  expect((await env.aws(['s3', 'cp', '-', `s3://db-backups/${key}.sha256`], sidecar)).code).toBe(0);
}

beforeAll(async () => {
  env = await startBackupEnv('pg-verify');
  const backup = await runScript('postgres-backup.sh', { env: env.jobEnv() });
  expect(backup.code, backup.stderr).toBe(0);
  backupKey = (await listKeys(env, 'postgres/')).find(isDump)!;
});

afterAll(async () => {
  await env?.stop();
});

describe('postgres-verify.sh: a backup proven restorable', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('the backup records each table row count in its globals object, counted in the dump snapshot', async () => {
    const globals = gunzipSync(await get(backupKey.replace(/\.sql\.gz$/, '.globals.sql.gz'))).toString(
      'utf8',
    );
    const counts = globals
      .split('\n')
      .filter((l) => l.startsWith('-- count '))
      .map((l) => JSON.parse(l.slice('-- count '.length)) as { table: string; rows: number });
    expect(counts).toEqual([
      { table: 'public.backup_validation', rows: 1 },
      { table: 'public.customers', rows: 2000 },
      { table: 'public.orders', rows: 5000 },
    ]);
  });

  it('a good backup gets a passing .verified.json whose counts equal those recorded at backup time, and the scratch database is gone', async () => {
    // live rows written after the backup must not matter: the comparison is with the dump's snapshot
    await env.psql(`INSERT INTO backup_validation(note) VALUES ('after the backup')`);
    const result = await verify();
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('result=pass');
    expect(result.stderr).toContain('PROVEN RESTORABLE');
    const record = await readRecord(backupKey);
    expect(record.result).toBe('pass');
    expect(record.backup).toBe(`s3://db-backups/${backupKey}`);
    expect(record.failedCheck).toBeNull();
    expect(record.counts.recorded).toBe(true);
    expect(record.counts.restored).toEqual(record.counts.atBackup);
    expect(record.counts.atBackup).toContainEqual({ table: 'public.backup_validation', rows: 1 });
    expect(record.checks.map((c) => [c.name, c.ok])).toEqual([
      ['integrity', true],
      ['restore', true],
      ['row counts', true],
      ['owners and privileges', true],
      ['scratch database dropped', true],
    ]);
    expect(record.scratch).toMatchObject({ database: 'app_verify', dropped: true });
    expect(record.by.pod).not.toBe('');
    expect(await scratchDatabases()).toBe('');
  });

  it('an object altered after publishing gets a failing record that names the integrity check', async () => {
    const key = backupKey.replace(/\.\d{6}Z\.sql\.gz$/, '.000001Z.sql.gz').replace(/T(\d{2})/, 'T23');
    const original = await get(backupKey);
    await put(key, original);
    await put(
      key.replace(/\.sql\.gz$/, '.globals.sql.gz'),
      await get(backupKey.replace(/\.sql\.gz$/, '.globals.sql.gz')),
    );
    // someone replaces the object after it was published, keeping the old sidecar
    const altered = gzipSync(Buffer.concat([gunzipSync(original), Buffer.from('-- tampered\n')]));
    expect((await env.aws(['s3', 'cp', '-', `s3://db-backups/${key}`], altered)).code).toBe(0);
    const result = await verify({ VERIFY_S3_URI: `s3://db-backups/${key}` });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain('NOT RESTORABLE: integrity failed');
    const record = await readRecord(key);
    expect(record.result).toBe('fail');
    expect(record.failedCheck).toBe('integrity');
    expect(record.checks.find((c) => c.name === 'integrity')!.detail).toMatch(
      /checksum mismatch for \S+: sidecar says [0-9a-f]{64}, the object hashes to [0-9a-f]{64}/,
    );
    expect(await scratchDatabases()).toBe('');
  });

  it("a dump that cannot be restored (a broken statement) fails with psql's error in the record", async () => {
    const key = backupKey.replace(/\.\d{6}Z\.sql\.gz$/, '.000002Z.sql.gz').replace(/T(\d{2})/, 'T22');
    const sql = gunzipSync(await get(backupKey)).toString('utf8');
    const index = 'CREATE INDEX orders_customer_idx ON public.orders ';
    expect(sql).toContain(index);
    await put(
      key,
      gzipSync(Buffer.from(sql.replace(index, 'CREATE INDEX orders_customer_idx ON public.no_such_table '))),
    );
    await put(
      key.replace(/\.sql\.gz$/, '.globals.sql.gz'),
      await get(backupKey.replace(/\.sql\.gz$/, '.globals.sql.gz')),
    );
    const result = await verify({ VERIFY_S3_URI: `s3://db-backups/${key}` });
    expect(result.code, result.stderr).toBe(1);
    const record = await readRecord(key);
    expect(record.result).toBe('fail');
    expect(record.failedCheck, JSON.stringify(record.checks)).toBe('restore');
    expect(record.error).toMatch(/ERROR: {2}relation "public.no_such_table" does not exist/);
    expect(record.scratch.dropped).toBe(true);
    expect(await scratchDatabases()).toBe('');
  });

  it('--latest picks the newest backup under the prefix', async () => {
    // the two keys above are later in the day than the real backup: the newest is the broken one (22:… < 23:…)
    const keys = (await listKeys(env, 'postgres/')).filter(isDump).sort();
    const result = await verify();
    expect(result.stdout).toContain(`backup=s3://db-backups/${keys.at(-1)}`);
    expect(result.code).toBe(1);
  });

  it('a database of the scratch name that it did not create is left alone (exit 2)', async () => {
    await env.psql('CREATE DATABASE app_verify', 'postgres');
    await env.psql('CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)', 'app_verify');
    const result = await verify({ VERIFY_S3_URI: `s3://db-backups/${backupKey}` });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('was not created by postgres-verify: it is left alone');
    expect(await env.psql('SELECT count(*) FROM precious', 'app_verify')).toBe('1');
    await env.psql('DROP DATABASE app_verify', 'postgres');
  });

  it('a run stopped by SIGTERM mid-restore drops its scratch database and publishes no record', async () => {
    const key = backupKey.replace(/\.\d{6}Z\.sql\.gz$/, '.000003Z.sql.gz').replace(/T(\d{2})/, 'T21');
    await put(key, await get(backupKey));
    await put(
      key.replace(/\.sql\.gz$/, '.globals.sql.gz'),
      await get(backupKey.replace(/\.sql\.gz$/, '.globals.sql.gz')),
    );
    const result = await runScript('postgres-verify.sh', {
      env: env.jobEnv({
        VERIFY_S3_URI: `s3://db-backups/${key}`,
        DB_RUNBOOK_TEST_HOOK_PHASE: 'restore',
        DB_RUNBOOK_TEST_HOOK_TARGET: 'group',
        DB_RUNBOOK_TEST_HOOK_SIGNAL: 'TERM',
      }),
      detached: true,
    });
    expect(result.code, result.stderr).toBe(143);
    expect(result.stderr).toContain('the scratch database app_verify was dropped; no record published');
    expect(await scratchDatabases()).toBe('');
    expect((await listKeys(env, key)).filter((k) => k.includes('.verified.json'))).toEqual([]);
  });

  it('a run killed with SIGKILL leaves its marked scratch database, which the next run drops before verifying', async () => {
    const key = backupKey.replace(/\.\d{6}Z\.sql\.gz$/, '.000003Z.sql.gz').replace(/T(\d{2})/, 'T21');
    const killed = await runScript('postgres-verify.sh', {
      env: env.jobEnv({
        VERIFY_S3_URI: `s3://db-backups/${key}`,
        DB_RUNBOOK_TEST_HOOK_PHASE: 'restore',
        DB_RUNBOOK_TEST_HOOK_TARGET: 'group',
        DB_RUNBOOK_TEST_HOOK_SIGNAL: 'KILL',
      }),
      detached: true,
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(await scratchDatabases()).not.toBe('');
    const next = await verify({ VERIFY_S3_URI: `s3://db-backups/${key}` });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain('left by an earlier run');
    expect(await scratchDatabases()).toBe('');
    expect((await readRecord(key)).result).toBe('pass');
  });
});
