// A corrupt gzip whose sidecar matches (the bytes were stored as they are: a bad compressor, not a bad upload):
// the restore-postgres section reads it once, into a new database, and says the gzip stream is broken, not a
// checksum mismatch or a transport failure; the new database is dropped and the target never touched.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/sandbox/index.js';
import { journalEvents, runCli } from '../support/cli.js';
import { psqlScript } from '../support/psql.js';
import { startSyntheticEnv, type SyntheticEnv } from '../support/synthetic.js';
import { tempDir } from '../support/temp.js';

let lab: SyntheticEnv;
let sandbox: Sandbox;
let env: Record<string, string>;
let database: string;
let corruptUri: string;

async function aws(args: string[]): Promise<string> {
  const result = await execa('aws', ['--endpoint-url', sandbox.values.AWS_ENDPOINT_URL!, ...args], {
    env: { ...process.env, ...sandbox.values },
  });
  return String(result.stdout);
}

/** Tables in the target: what "touches nothing" is checked against. */
const rowCount = () =>
  psqlScript(sandbox.postgres, database, "SELECT count(*) FROM pg_class WHERE relkind = 'r'");

beforeAll(async () => {
  lab = await startSyntheticEnv();
  sandbox = lab.sandbox;
  database = sandbox.postgres.database;
  env = lab.env();
  const backup = await execa('bash', ['ops/db/backup-jobs/scripts/postgres-backup.sh'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...sandbox.values },
    extendEnv: false,
    reject: false,
  });
  expect(backup.exitCode, String(backup.stderr)).toBe(0);
  const backupUri = /^object=(\S+)$/m.exec(String(backup.stdout))?.[1] ?? '';
  // a flipped byte near the end (the CRC32 of the last member), and a sidecar that matches these bytes
  const file = join(tempDir('integrity-inflater-'), 'corrupt.sql.gz');
  await aws(['s3', 'cp', backupUri, file, '--only-show-errors']);
  const bytes = readFileSync(file);
  bytes[bytes.length - 6] = bytes[bytes.length - 6]! ^ 0xff;
  writeFileSync(file, bytes);
  const sidecar = join(tempDir('integrity-inflater-'), 'corrupt.sql.gz.sha256');
  writeFileSync(sidecar, `${createHash('sha256').update(bytes).digest('hex')}  corrupt.sql.gz\n`);
  corruptUri = backupUri.replace(/([^/]+)\.sql\.gz$/, 'crc-$1.sql.gz');
  await aws(['s3', 'cp', file, corruptUri, '--only-show-errors']);
  await aws(['s3', 'cp', sidecar, `${corruptUri}.sha256`, '--only-show-errors']);
});

afterAll(async () => {
  await lab?.stop();
});

describe('restore-postgres with a corrupt gzip whose sidecar matches', () => {
  it('says the gzip stream is broken, keeps nothing and touches nothing', async () => {
    const before = await rowCount();
    const run = await runCli(
      [
        'run',
        'restore-postgres',
        '--yes',
        '--confirm',
        database,
        '--confirm',
        `drop ${database}`,
        '--restore-uri',
        corruptUri,
      ],
      { env },
    );
    expect(run.exitCode, run.stderr).toBe(1);
    const results = journalEvents(run.sessionDir).filter((e) => e.type === 'result');
    expect(results.find((r) => r.step === 'restore-postgres.integrity')?.status).toBe('done');
    expect(results.find((r) => r.step === 'restore-postgres.load')?.status).toBe('failed');
    expect(run.stdout).toMatch(
      /is not a valid gzip stream \(not gzip, truncated or corrupt\); the database was not touched/,
    );
    expect(run.stdout).not.toMatch(/checksum mismatch for|download of \S+ failed/);
    // nothing ran after the refusal: no writes-stopped gate, no swap
    expect(results.map((r) => r.step)).not.toContain('restore-postgres.stop-writes');
    expect(await rowCount()).toBe(before);
  }, 180_000);
});
