// postgres-backup.sh / postgres-restore.sh against a real PostgreSQL 15 server and s3rver, checked with the
// real aws CLI. The scripts run exactly as the Job runs them: `bash <script>` with only the Job's environment.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, listKeys, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { basePath, run, runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let seeded: Record<string, string>;
let backupKey: string;

beforeAll(async () => {
  env = await startBackupEnv('pg-roundtrip');
  seeded = await fingerprint(env);
});

afterAll(async () => {
  await env?.stop();
});

describe('PostgreSQL backup and restore jobs', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('a backup run with only the Job environment publishes <prefix><UTC time to the µs>.sql.gz that the runbook check can read', async () => {
    const result = await runScript('postgres-backup.sh', { env: env.jobEnv() });
    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    const summary = Object.fromEntries(
      result.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    expect(summary.object).toMatch(
      /^s3:\/\/db-backups\/postgres\/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{6}Z\.sql\.gz$/,
    );

    // aws s3 ls s3://<bucket>/postgres/ — the backup, its globals object and their sidecars, nothing else (no
    // temporary object left)
    const keys = await listKeys(env, 'postgres/');
    backupKey = keys.find((k) => k.endsWith('.sql.gz') && !k.endsWith('.globals.sql.gz'))!;
    const globalsKey = backupKey.replace(/\.sql\.gz$/, '.globals.sql.gz');
    expect(keys).toEqual([globalsKey, `${globalsKey}.sha256`, backupKey, `${backupKey}.sha256`]);
    expect(summary.globals).toBe(`s3://db-backups/${globalsKey}`);
    expect(`s3://db-backups/${backupKey}`).toBe(summary.object);

    // the runbook's own check: aws s3 cp s3://<bucket>/postgres/<latest>.sql.gz - | gunzip | grep backup_validation
    const check = await run(
      'bash',
      [
        '-c',
        `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "s3://$S3_BUCKET/${backupKey}" - | gunzip | grep backup_validation`,
      ],
      { env: env.jobEnv() },
    );
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('CREATE TABLE public.backup_validation');
    expect(check.stdout).toContain('COPY public.backup_validation (id, note) FROM stdin;');
  });

  it('the .sha256 sidecar matches the object, in sha256sum format', async () => {
    const dir = join(env.dir, 'verify');
    const name = backupKey.split('/').at(-1)!;
    await run('mkdir', ['-p', dir], { env: { PATH: basePath() } });
    expect((await env.aws(['s3', 'cp', `s3://db-backups/${backupKey}`, join(dir, name)])).code).toBe(0);
    const sidecar = await env.aws(['s3', 'cp', `s3://db-backups/${backupKey}.sha256`, '-']);
    expect(sidecar.stdout).toMatch(new RegExp(`^[0-9a-f]{64}  ${name.replace(/\./g, '\\.')}\\n$`));
    await writeFile(join(dir, 'SHA256SUMS'), sidecar.stdout);
    const check = await run('sha256sum', ['-c', 'SHA256SUMS'], { env: { PATH: basePath() }, cwd: dir });
    expect(check.stdout).toBe(`${name}: OK\n`);
    expect((await readFile(join(dir, name))).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
  });

  it('the object carries the recovery point, pg_dump and server versions as metadata', async () => {
    const head = await env.aws(['s3api', 'head-object', '--bucket', 'db-backups', '--key', backupKey]);
    const metadata = (JSON.parse(head.stdout) as { Metadata: Record<string, string> }).Metadata;
    const stamp = backupKey.match(/(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})\.(\d{6})Z/)!;
    expect(metadata['recovery-point']).toBe(`${stamp[1]}T${stamp[2]}:${stamp[3]}:${stamp[4]}.${stamp[5]}Z`);
    expect(metadata['backup-run-id']).toMatch(/-\d+-[0-9a-f]{12}$/);
    expect(metadata['pg-dump-version']).toMatch(/^15\.\d+$/);
    expect(metadata['server-version']).toMatch(/^15\.\d+$/);
  });

  it('CLEAN_TARGET=true restores every table to the seeded row counts and content after data was changed and dropped', async () => {
    await env.psql(`UPDATE customers SET name = 'changed' WHERE id <= 100; DELETE FROM orders WHERE id % 3 = 0;
      DROP TABLE backup_validation; CREATE TABLE stray (id int);`);
    expect(await fingerprint(env).catch(() => undefined)).toBeUndefined();
    const result = await runScript('postgres-restore.sh', {
      env: env.jobEnv({ RESTORE_S3_URI: `s3://db-backups/${backupKey}`, CLEAN_TARGET: 'true' }),
    });
    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('verified=true');
    expect(await fingerprint(env)).toEqual(seeded);
    // the stray table is gone: the database was replaced, not merged
    expect(await env.psql(`SELECT count(*) FROM pg_tables WHERE tablename = 'stray'`)).toBe('0');
    // no scratch database left behind, statistics are fresh
    expect(
      await env.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%_restore_%'`, 'postgres'),
    ).toBe('0');
    expect(
      Number(await env.psql(`SELECT count(*) FROM pg_stats WHERE tablename = 'orders'`)),
    ).toBeGreaterThan(0);
  });

  it('CLEAN_TARGET=false restores over the existing database in one transaction', async () => {
    await env.psql(`DELETE FROM orders WHERE id > 4000; UPDATE backup_validation SET note = 'tampered';`);
    const result = await runScript('postgres-restore.sh', {
      env: env.jobEnv({ RESTORE_S3_URI: `s3://db-backups/${backupKey}`, CLEAN_TARGET: 'false' }),
    });
    expect(result.code).toBe(0);
    expect(await fingerprint(env)).toEqual(seeded);
  });
});
