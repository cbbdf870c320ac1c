// postgres-restore.sh reads a backup once: hashed, inflated, scanned and restored into a new database at the
// same time, with nothing staged on disk (issue 17). A byte flipped near the end of the object is only seen
// once nearly all of it has gone into the new database. These tests prove that what the operator sees is
// still a refusal (exit 5), the target exactly as it was, no new database left, and an empty work directory.
// Real PostgreSQL 15, s3rver and the aws CLI; an object of ~15 MB.
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let key: string;
let original: Buffer;

const restore = (extra: Record<string, string>) =>
  runScript('postgres-restore.sh', { env: env.jobEnv(extra) });
const newDatabases = () =>
  env.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%\\_restore\\_%'`, 'postgres');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The target's state: every seeded table's fingerprint and the big table's row count and checksum. */
async function state(): Promise<Record<string, string>> {
  return {
    ...(await fingerprint(env)),
    bulk: await env.psql(`SELECT count(*) || ' ' || md5(string_agg(payload, '' ORDER BY id)) FROM bulk`),
  };
}

/** The backup with one byte flipped `fromEnd` bytes before its end, uploaded at a new key. */
async function corrupt(name: string, fromEnd: number, sidecar: 'original' | 'matching'): Promise<string> {
  const bytes = Buffer.from(original);
  bytes[bytes.length - fromEnd]! ^= 0x5a;
  const corruptKey = key.replace('.sql.gz', `-${name}.sql.gz`);
  const file = join(env.dir, `${name}.sql.gz`);
  await writeFile(file, bytes);
  expect((await env.aws(['s3', 'cp', file, `s3://db-backups/${corruptKey}`])).code).toBe(0);
  const digest = sidecar === 'original' ? sha256(original) : sha256(bytes);
  const line = `${digest}  ${corruptKey.split('/').at(-1)}\n`;
  expect((await env.aws(['s3', 'cp', '-', `s3://db-backups/${corruptKey}.sha256`], line)).code).toBe(0);
  return `s3://db-backups/${corruptKey}`;
}

beforeAll(async () => {
  env = await startBackupEnv('pg-stream-corrupt');
  // ~30 MB of SQL that does not compress much, so the flipped byte is far from the start of the stream
  await env.psql(`CREATE TABLE bulk (id int PRIMARY KEY, payload text NOT NULL);
    INSERT INTO bulk SELECT g, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) || md5((g * 31)::text)
      FROM generate_series(1, 200000) g;`);
  const backup = await runScript('postgres-backup.sh', { env: env.jobEnv() });
  expect(backup.code, backup.stderr).toBe(0);
  key = new URL(/^object=(.*)$/m.exec(backup.stdout)![1]!).pathname.slice(1);
  const file = join(env.dir, 'original.sql.gz');
  expect((await env.aws(['s3', 'cp', `s3://db-backups/${key}`, file])).code).toBe(0);
  original = await readFile(file);
  expect(original.length).toBeGreaterThan(10_000_000);
  // what the restore must not lose: rows written after the backup
  await env.psql(`INSERT INTO backup_validation(note) VALUES ('written after the backup');
    DELETE FROM bulk WHERE id <= 10;`);
}, SCRIPT_TIMEOUT_MS);

afterAll(async () => {
  await env?.stop();
});

describe(
  'a backup corrupted near its end is refused after streaming, and nothing changes',
  { timeout: SCRIPT_TIMEOUT_MS },
  () => {
    for (const clean of ['true', 'false']) {
      it(`a byte flipped 200 bytes before the end (sidecar from the backup): exit 5 "checksum mismatch", the target as it was, no new database, an empty work directory (CLEAN_TARGET=${clean})`, async () => {
        const uri = await corrupt(`flipped-${clean}`, 200, 'original');
        const before = await state();
        const result = await restore({ RESTORE_S3_URI: uri, CLEAN_TARGET: clean });
        expect(result.code, result.stderr).toBe(5);
        expect(result.stderr).toContain(`checksum mismatch for ${uri}`);
        expect(result.stderr).toContain('the database was not touched');
        expect(result.stderr).toMatch(
          /before the swap: app is as it was; the new database app_restore_\d{14} was dropped/,
        );
        expect(await state()).toEqual(before);
        expect(await newDatabases()).toBe('0');
        expect(await readdir(env.work)).toEqual([]);
      });
    }

    it('a byte flipped in the gzip trailer whose sidecar matches the bad bytes: exit 5 "not a valid gzip stream", the target as it was', async () => {
      // 6 bytes before the end: the trailer's CRC32; the hash matches (a bad compressor, not a bad upload)
      const uri = await corrupt('bad-crc', 6, 'matching');
      const before = await state();
      const result = await restore({ RESTORE_S3_URI: uri, CLEAN_TARGET: 'true' });
      expect(result.code, result.stderr).toBe(5);
      expect(result.stderr).toContain('is not a valid gzip stream (not gzip, truncated or corrupt)');
      expect(result.stderr).not.toContain('download of');
      expect(await state()).toEqual(before);
      expect(await newDatabases()).toBe('0');
      expect(await readdir(env.work)).toEqual([]);
    });

    it('the same backup unaltered restores (the streamed one-pass restore swaps it in)', async () => {
      const result = await restore({ RESTORE_S3_URI: `s3://db-backups/${key}`, CLEAN_TARGET: 'true' });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('nothing staged on disk');
      expect(await env.psql('SELECT count(*) FROM bulk')).toBe('200000');
      expect(
        await env.psql(`SELECT count(*) FROM backup_validation WHERE note = 'written after the backup'`),
      ).toBe('0');
      expect(await newDatabases()).toBe('0');
      expect(await readdir(env.work)).toEqual([]);
    });
  },
);
