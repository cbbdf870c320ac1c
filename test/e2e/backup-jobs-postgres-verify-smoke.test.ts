// postgres-verify.sh runs the values file's smoke queries (issue 19) on the scratch database, read-only, each one a
// check of <key>.verified.json. Real PostgreSQL 15, s3rver and the aws CLI, as backup-jobs-postgres-verify.test.ts;
// the queries come as the Job gets them: a file (the ConfigMap db-runbook-smoke-queries mounted at /smoke-queries).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listKeys, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let backupKey: string;

interface VerificationRecord {
  result: 'pass' | 'fail';
  failedCheck: string | null;
  checks: { name: string; ok: boolean; detail: string }[];
}

async function verifyWith(
  queries: string,
): Promise<{ code: number | null; stderr: string; record: VerificationRecord }> {
  const file = join(env.dir, `smoke-${Date.now()}.sql`);
  await writeFile(file, queries);
  const result = await runScript('postgres-verify.sh', {
    env: env.jobEnv({ VERIFY_SMOKE_QUERIES_FILE: file }),
  });
  const body = (await env.aws(['s3', 'cp', `s3://db-backups/${backupKey}.verified.json`, '-'])).stdout;
  return { code: result.code, stderr: result.stderr, record: JSON.parse(body) as VerificationRecord };
}
const scratchDatabases = () =>
  env.psql(
    `SELECT coalesce(string_agg(datname, ' '), '') FROM pg_database WHERE datname LIKE 'app\\_verify%'`,
    'postgres',
  );

beforeAll(async () => {
  env = await startBackupEnv('pg-verify-smoke');
  const backup = await runScript('postgres-backup.sh', { env: env.jobEnv() });
  expect(backup.code, backup.stderr).toBe(0);
  backupKey = (await listKeys(env, 'postgres/')).find(
    (key) => key.endsWith('.sql.gz') && !key.endsWith('.globals.sql.gz'),
  )!;
});

afterAll(async () => {
  await env?.stop();
});

describe('postgres-verify.sh: the smoke queries of the values file', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('each smoke query is a check of the passing record, with its first value and what was expected', async () => {
    const { code, stderr, record } = await verifyWith(
      [
        '# db-runbook smoke queries (deploy writes them from the values file)',
        '-- name: customers exist',
        '-- expect: >= 2000',
        'SELECT count(*) FROM customers;',
        '-- name: orders reference customers',
        '-- expect: 0',
        'SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id',
        '  WHERE c.id IS NULL',
        '-- name: marker present',
        '-- expect: true',
        'SELECT EXISTS (SELECT 1 FROM backup_validation)',
        '-- name: it runs',
        "SELECT 'no expectation'",
        '',
      ].join('\n'),
    );
    expect(code, stderr).toBe(0);
    expect(record.result).toBe('pass');
    const smoke = record.checks.filter((c) => c.name.startsWith('smoke query: '));
    expect(smoke).toEqual([
      { name: 'smoke query: customers exist', ok: true, detail: '"2000", expected >= 2000' },
      { name: 'smoke query: orders reference customers', ok: true, detail: '"0", expected "0"' },
      { name: 'smoke query: marker present', ok: true, detail: '"t", expected true' },
      { name: 'smoke query: it runs', ok: true, detail: 'ran; first value "no expectation"' },
    ]);
    expect(record.checks.at(-1)).toMatchObject({ name: 'scratch database dropped', ok: true });
    expect(await scratchDatabases()).toBe('');
  });

  it('a smoke query that fails gives a failing record naming the query; a write is refused by the read-only transaction; the scratch database is gone', async () => {
    const before = await env.psql('SELECT count(*) FROM customers');
    const { code, stderr, record } = await verifyWith(
      [
        '-- name: customers exist',
        '-- expect: >= 1',
        'SELECT count(*) FROM customers',
        '-- name: invoices table',
        'SELECT count(*) FROM invoices',
        '-- name: sneaky write',
        'DELETE FROM customers',
        '-- name: two statements',
        'SELECT 1; SELECT 2',
      ].join('\n'),
    );
    expect(code, stderr).toBe(1);
    expect(stderr).toContain('NOT RESTORABLE: smoke query: invoices table failed');
    expect(record.result).toBe('fail');
    expect(record.failedCheck).toBe('smoke query: invoices table');
    const byName = Object.fromEntries(record.checks.map((c) => [c.name, c]));
    expect(byName['smoke query: customers exist']?.ok).toBe(true);
    expect(byName['smoke query: invoices table']).toMatchObject({ ok: false });
    expect(byName['smoke query: invoices table']?.detail).toContain('relation "invoices" does not exist');
    expect(byName['smoke query: sneaky write']).toMatchObject({ ok: false });
    expect(byName['smoke query: sneaky write']?.detail).toContain('read-only transaction');
    expect(byName['smoke query: two statements']?.detail).toContain('refused, not run');
    expect(await scratchDatabases()).toBe('');
    // the production database was never the one queried
    expect(await env.psql('SELECT count(*) FROM customers')).toBe(before);
  });
});
