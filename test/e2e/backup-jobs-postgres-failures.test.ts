// Failure modes of postgres-backup.sh / postgres-restore.sh: each must exit non-zero with a clear message,
// leave nothing at the final key, and never damage the target database.
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startSandboxPostgres } from '../../src/sandbox/postgres.js';
import { fingerprint, listKeys, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let backupUri: string;

const restore = (extra: Record<string, string>) =>
  runScript('postgres-restore.sh', { env: env.jobEnv(extra) });
const scratchDatabases = () =>
  env.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%_restore_%'`, 'postgres');

/** Uploads `body` at key with a correct sidecar, as if postgres-backup.sh had written it. */
async function uploadWithSidecar(key: string, body: Buffer): Promise<void> {
  const { createHash } = await import('node:crypto');
  const sha = createHash('sha256').update(body).digest('hex');
  expect((await env.aws(['s3', 'cp', '-', `s3://db-backups/${key}`], body)).code).toBe(0);
  const sidecar = `${sha}  ${key.split('/').at(-1)}\n`;
  expect((await env.aws(['s3', 'cp', '-', `s3://db-backups/${key}.sha256`], sidecar)).code).toBe(0);
}

beforeAll(async () => {
  env = await startBackupEnv('pg-failures');
  const result = await runScript('postgres-backup.sh', { env: env.jobEnv() });
  expect(result.code).toBe(0);
  backupUri = /^object=(.*)$/m.exec(result.stdout)![1]!;
}, SCRIPT_TIMEOUT_MS);

afterAll(async () => {
  await env?.stop();
});

describe('PostgreSQL backup failures', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('a wrong password fails with exit 3 before anything is dumped or uploaded', async () => {
    const result = await runScript('postgres-backup.sh', {
      env: env.jobEnv({ POSTGRES_PASSWORD: 'not-the-password', POSTGRES_S3_PREFIX: 'wrong-password/' }),
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('password authentication failed');
    expect(result.stderr).toContain('postgres-backup: error: PostgreSQL unreachable or login refused');
    expect(await listKeys(env, 'wrong-password/')).toEqual([]);
  });

  it('unreachable object storage fails with exit 4 before anything is dumped', async () => {
    const closed = await freePort();
    const result = await runScript('postgres-backup.sh', {
      env: env.jobEnv({ AWS_ENDPOINT_URL: `http://127.0.0.1:${closed}`, AWS_MAX_ATTEMPTS: '1' }),
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('Could not connect to the endpoint URL');
    expect(result.stderr).not.toContain('dumping');
  });

  it('a missing bucket fails with exit 4', async () => {
    const result = await runScript('postgres-backup.sh', {
      env: env.jobEnv({ S3_BUCKET: 'no-such-bucket' }),
    });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('cannot use bucket no-such-bucket');
  });

  it('the server stopped in the middle of the dump fails with exit 5 and leaves nothing at the final key', async () => {
    const pg = await startSandboxPostgres({
      directory: join(env.dir, 'pg-midway'),
      password: env.pg.password,
      // ~40 MB of poorly compressible rows: the dump takes seconds, long enough to stop the server under it
      seedSql: `CREATE TABLE big (id int PRIMARY KEY, payload text);
        INSERT INTO big SELECT i, md5(i::text) || md5((i + 1)::text) || md5((i * 3)::text) || md5((i * 7)::text)
          || md5((i * 11)::text) || md5((i * 13)::text) || md5((i * 17)::text) || md5((i * 19)::text)
          FROM generate_series(1, 150000) AS i;`,
    });
    // the compressor (first on PATH) takes 8 MiB of the dump, then holds the stream until the flag is gone: the
    // dump is mid-way, blocked on its pipe, whatever the speed of the host, when the server is stopped under it
    const bin = join(env.dir, 'bin-midway');
    const hold = join(env.dir, 'midway.hold');
    await mkdir(bin, { recursive: true });
    await writeFile(hold, '');
    await writeFile(
      join(bin, 'igzip'),
      [
        '#!/bin/sh',
        `PATH='${env.jobEnv().PATH}'`,
        'z=igzip; command -v igzip >/dev/null 2>&1 || z=gzip',
        `{ head -c 8388608; while [ -e '${hold}' ]; do sleep 0.05; done; cat; } | "$z" "$@"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    try {
      const job = runScript('postgres-backup.sh', {
        env: env.jobEnv({
          ...pg.env,
          POSTGRES_S3_PREFIX: 'midway/',
          BACKUP_COMPRESS_THREADS: '1',
          PATH: `${bin}:${env.jobEnv().PATH}`,
        }),
      });
      const dumpPid = await waitForDumpOutput(pg.port, 4 * 1024 * 1024);
      expect(dumpPid).toBeGreaterThan(0);
      await pg.stop();
      await rm(hold);
      const result = await job;
      expect(result.code).toBe(5);
      expect(result.stderr).toMatch(/pg_dump exited with status [1-9]/);
      expect(result.stderr).toContain('the dump did not complete');
      expect(await listKeys(env, 'midway/')).toEqual([]);
    } finally {
      await rm(hold, { force: true });
      await pg.stop();
    }
  });
});

describe('PostgreSQL restore failures', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('a corrupted object is refused (exit 5) before the database is touched', async () => {
    const key = new URL(backupUri).pathname.slice(1);
    const original = await env.aws(['s3', 'cp', `s3://db-backups/${key}`, join(env.dir, 'original.gz')]);
    expect(original.code).toBe(0);
    const bytes = await readFile(join(env.dir, 'original.gz'));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    const corruptKey = key.replace('.sql.gz', '-corrupt.sql.gz');
    await writeFile(join(env.dir, 'corrupt.gz'), bytes);
    await env.aws(['s3', 'cp', join(env.dir, 'corrupt.gz'), `s3://db-backups/${corruptKey}`]);
    await env.aws(['s3', 'cp', `s3://db-backups/${key}.sha256`, `s3://db-backups/${corruptKey}.sha256`]);

    await env.psql(`INSERT INTO backup_validation(note) VALUES ('written after the backup')`);
    const before = await fingerprint(env);
    const result = await restore({ RESTORE_S3_URI: `s3://db-backups/${corruptKey}`, CLEAN_TARGET: 'true' });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain('checksum mismatch');
    expect(result.stderr).toContain('the database was not touched');
    expect(await fingerprint(env)).toEqual(before);
    expect(await scratchDatabases()).toBe('0');
    expect(await readdir(env.work)).toEqual([]);
  });

  it('a missing checksum sidecar is refused unless ALLOW_UNVERIFIED=true', async () => {
    const key = new URL(backupUri).pathname.slice(1).replace('.sql.gz', '-nosidecar.sql.gz');
    await env.aws(['s3', 'cp', backupUri, `s3://db-backups/${key}`]);
    const refused = await restore({ RESTORE_S3_URI: `s3://db-backups/${key}`, CLEAN_TARGET: 'true' });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toContain('no checksum sidecar');
    const allowed = await restore({
      RESTORE_S3_URI: `s3://db-backups/${key}`,
      CLEAN_TARGET: 'true',
      ALLOW_UNVERIFIED: 'true',
    });
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain('WITHOUT integrity verification');
    expect(allowed.stdout).toContain('verified=false');
  });

  it('a backup object that does not exist fails with exit 4', async () => {
    const result = await restore({ RESTORE_S3_URI: 's3://db-backups/postgres/1999-01-01T00-00-00Z.sql.gz' });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('no backup at s3://db-backups/postgres/1999-01-01T00-00-00Z.sql.gz');
  });

  it('a psql older than the pg_dump that wrote the backup is refused (\\restrict, CVE-2025-8714)', async () => {
    const key = 'postgres/2099-01-01T00-00-00Z.sql.gz';
    const copy = await env.aws([
      's3api',
      'copy-object',
      '--bucket',
      'db-backups',
      '--key',
      key,
      '--copy-source',
      `db-backups/${new URL(backupUri).pathname.slice(1)}`,
      '--metadata-directive',
      'REPLACE',
      '--metadata',
      'pg-dump-version=99.1',
    ]);
    expect(copy.code).toBe(0);
    const result = await restore({ RESTORE_S3_URI: `s3://db-backups/${key}` });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is older than the pg_dump 99.1');
    expect(result.stderr).toContain('CVE-2025-8714');
  });

  for (const clean of ['false', 'true']) {
    it(`a restore whose SQL fails leaves the database as it was (CLEAN_TARGET=${clean}, exit 6)`, async () => {
      const key = `broken/2024-01-0${clean === 'true' ? 2 : 1}T00-00-00Z.sql.gz`;
      const sql = `DROP TABLE IF EXISTS orders CASCADE;
CREATE TABLE orders (id int);
INSERT INTO orders VALUES (1);
DROP TABLE IF EXISTS customers CASCADE;
SELECT 1 / 0;
--
-- PostgreSQL database dump complete
--
`;
      await uploadWithSidecar(key, gzipSync(sql));
      const before = await fingerprint(env);
      const result = await restore({ RESTORE_S3_URI: `s3://db-backups/${key}`, CLEAN_TARGET: clean });
      expect(result.code).toBe(6);
      expect(result.stderr).toContain('division by zero');
      expect(result.stderr).toContain('the SQL restore into the new database');
      expect(result.stderr).toContain('app was not touched');
      expect(await fingerprint(env)).toEqual(before);
      expect(await scratchDatabases()).toBe('0');
    });
  }
});

/** Waits until a pg_dump talking to `port` has written `bytes` bytes; returns its pid. */
async function waitForDumpOutput(port: number, bytes: number): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
        // Debian's /usr/bin/pg_dump is pg_wrapper, which execs /usr/lib/postgresql/<major>/bin/pg_dump
        if (cmdline.split('\0')[0]?.split('/').at(-1) !== 'pg_dump') continue;
        const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
        if (!environ.split('\0').includes(`PGPORT=${port}`)) continue;
        const io = await readFile(`/proc/${entry}/io`, 'utf8');
        const written = Number(/^wchar: (\d+)$/m.exec(io)?.[1] ?? 0);
        if (written >= bytes) return Number(entry);
      } catch {
        // the process ended between readdir and read
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('pg_dump never got going');
}
