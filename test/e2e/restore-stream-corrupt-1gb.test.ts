// A byte flipped 200 bytes before the end of a 1 GB backup object: postgres-restore.sh has streamed nearly all of
// it (1.4 GB of SQL) into a new database before the hash can be known, and must still refuse it (exit 5), drop the
// new database and leave the target exactly as it was. The object is a synthetic plain dump of random base64 rows
// (it hardly compresses), built with igzip, so no 5 GB database has to be made first.
// Runs only with DB_RUNBOOK_LARGE_TESTS=1 (about 30 s on 2 cores, 3 GB of disk); npm test runs the 15 MB version
// (restore-stream-corrupt.test.ts).
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { basePath, run, runScript } from '../support/backup-jobs-run.js';

const large = process.env.DB_RUNBOOK_LARGE_TESTS === '1';
const TIMEOUT_MS = 900_000;
let env: BackupEnv;

describe.runIf(large)('a 1 GB backup corrupted near its end (DB_RUNBOOK_LARGE_TESTS=1)', () => {
  let uri = '';

  beforeAll(async () => {
    env = await startBackupEnv('pg-stream-corrupt-1gb');
    const file = join(env.dir, 'large.sql.gz');
    // a plain dump: one table, ~1.36 GB of COPY rows, the completion line; then the sidecar of these bytes, and
    // one byte flipped 200 bytes before the end (the sidecar stays the original's, as after a bad upload)
    const build = await run(
      'bash',
      [
        '-c',
        `set -euo pipefail
        { printf '%s\\n' '--' '-- PostgreSQL database dump' '--' 'CREATE TABLE public.blob (line text);' 'COPY public.blob (line) FROM stdin;'
          head -c 1020000000 /dev/urandom | base64 -w 76
          printf '%s\\n' '\\.' '' '--' '-- PostgreSQL database dump complete' '--'
        } | igzip -1 > "$1"
        sha256sum "$1" | sed 's#  .*#  large.sql.gz#' > "$1.sha256"
        size=$(stat -c %s "$1")
        byte=$(dd if="$1" bs=1 skip=$((size - 200)) count=1 status=none | od -An -tu1 | tr -d ' ')
        printf "$(printf '\\\\%03o' $(((byte + 1) % 256)))" | dd of="$1" bs=1 seek=$((size - 200)) conv=notrunc status=none`,
        'build',
        file,
      ],
      { env: { PATH: basePath() } },
    );
    expect(build.code, build.stderr).toBe(0);
    expect((await stat(file)).size).toBeGreaterThan(1_000_000_000);
    expect((await env.aws(['s3', 'cp', file, 's3://db-backups/postgres/large.sql.gz'])).code).toBe(0);
    expect(
      (await env.aws(['s3', 'cp', `${file}.sha256`, 's3://db-backups/postgres/large.sql.gz.sha256'])).code,
    ).toBe(0);
    await run('rm', ['-f', file, `${file}.sha256`], { env: { PATH: basePath() } });
    uri = 's3://db-backups/postgres/large.sql.gz';
  }, TIMEOUT_MS);

  afterAll(async () => {
    await env?.stop();
  });

  it(
    'is refused after streaming (exit 5, checksum mismatch): the target as it was, no new database, an empty work directory',
    async () => {
      const before = await fingerprint(env);
      const result = await runScript('postgres-restore.sh', {
        env: env.jobEnv({ RESTORE_S3_URI: uri, CLEAN_TARGET: 'true' }),
      });
      expect(result.code, result.stderr).toBe(5);
      expect(result.stderr).toContain(`checksum mismatch for ${uri}`);
      expect(result.stderr).toMatch(/restoring into new database app_restore_\d{14}/);
      expect(result.stderr).toMatch(
        /before the swap: app is as it was; the new database app_restore_\d{14} was dropped/,
      );
      expect(await fingerprint(env)).toEqual(before);
      expect(
        await env.psql(`SELECT count(*) FROM pg_database WHERE datname LIKE '%\\_restore\\_%'`, 'postgres'),
      ).toBe('0');
      expect(await readdir(env.work)).toEqual([]);
    },
    TIMEOUT_MS,
  );
});
