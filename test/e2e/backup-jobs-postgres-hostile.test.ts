// postgres-backup.sh / postgres-restore.sh against what an adversarial run tried (issue "Nothing lost, whatever
// happens"): dumps cut short, dumps carrying psql meta-commands or a COMMIT, objects that are not gzip or not
// the object a caller verified, backups started together, a key taken by another run, object storage going
// away while publishing, and aws calls left running. Real PostgreSQL 15, s3rver and the aws CLI; every case
// checks that the database survives whole and that the message says what happened.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxS3 } from '../../src/sandbox/s3.js';
import { fingerprint, listKeys, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { run, runScript, SCRIPT_TIMEOUT_MS, type RunResult } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let backupKey: string;
let dump: string;

/** A dump's key (not its sidecar, not the globals object beside it). */
const isDump = (key: string) => key.endsWith('.sql.gz') && !key.endsWith('.globals.sql.gz');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const restore = (extra: Record<string, string>) =>
  runScript('postgres-restore.sh', { env: env.jobEnv(extra) });
const family = () =>
  env.psql(
    `SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database WHERE datname = 'app' OR datname LIKE 'app\\_%'`,
    'postgres',
  );
/** The constraints of the seeded schema: a restore that half-ran would have lost some. */
const constraints = () =>
  env.psql(
    `SELECT string_agg(conname, ' ' ORDER BY conname) FROM pg_constraint WHERE connamespace = 'public'::regnamespace`,
  );

/** Uploads gzip(sql) at key with a matching sidecar, as if postgres-backup.sh had written it. */
async function upload(key: string, body: Buffer): Promise<void> {
  expect((await env.aws(['s3', 'cp', '-', `s3://db-backups/${key}`], body)).code).toBe(0);
  const sidecar = `${sha256(body)}  ${key.split('/').at(-1)}\n`;
  expect((await env.aws(['s3', 'cp', '-', `s3://db-backups/${key}.sha256`], sidecar)).code).toBe(0);
}

/** Waits for a paused test hook of a script (DB_RUNBOOK_TEST_HOOK_SIGNAL=pause) to reach its phase. */
async function reached(phase: string): Promise<string> {
  const flag = join(env.dir, `${phase}.reached`);
  const deadline = Date.now() + 60_000;
  while (!existsSync(flag)) {
    if (Date.now() > deadline) throw new Error(`the script never reached ${phase}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return flag;
}
const pause = (phase: string) => ({
  DB_RUNBOOK_TEST_HOOK_PHASE: phase,
  DB_RUNBOOK_TEST_HOOK_SIGNAL: 'pause',
  DB_RUNBOOK_TEST_HOOK_DIR: env.dir,
});

function expectUntouched(result: RunResult, before: Record<string, string>, code: number): Promise<void> {
  expect(result.code, result.stderr).toBe(code);
  return (async () => {
    expect(await fingerprint(env)).toEqual(before);
    expect(await family()).toBe('app');
  })();
}

beforeAll(async () => {
  env = await startBackupEnv('pg-hostile');
  const backup = await runScript('postgres-backup.sh', { env: env.jobEnv() });
  expect(backup.code, backup.stderr).toBe(0);
  backupKey = new URL(/^object=(.*)$/m.exec(backup.stdout)![1]!).pathname.slice(1);
  const got = await env.aws(['s3', 'cp', `s3://db-backups/${backupKey}`, join(env.dir, 'backup.sql.gz')]);
  expect(got.code).toBe(0);
  dump = gunzipSync(await readFile(join(env.dir, 'backup.sql.gz'))).toString('utf8');
  expect(dump).toMatch(/^\\restrict \S+$/m);
}, SCRIPT_TIMEOUT_MS);

afterAll(async () => {
  await env?.stop();
});

describe(
  'restore refuses what a pg_dump did not write, before anything runs',
  { timeout: SCRIPT_TIMEOUT_MS },
  () => {
    for (const clean of ['true', 'false']) {
      it(`a dump cut short (gunzip | head | gzip, its sidecar recomputed) is refused with exit 5 (CLEAN_TARGET=${clean})`, async () => {
        const lines = dump.split('\n');
        const cut = lines.slice(0, Math.floor(lines.length * 0.6)).join('\n') + '\n';
        const key = `hostile/truncated-${clean}.sql.gz`;
        await upload(key, gzipSync(cut));
        const before = await fingerprint(env);
        const result = await restore({ RESTORE_S3_URI: `s3://db-backups/${key}`, CLEAN_TARGET: clean });
        await expectUntouched(result, before, 5);
        expect(result.stderr).toContain(
          "the dump has no '-- PostgreSQL database dump complete' line: it was cut short",
        );
        expect(result.stderr).toContain('the database was not touched');
      });

      it(`a psql meta-command before the dump's own \\restrict never runs: refused with exit 5 (CLEAN_TARGET=${clean})`, async () => {
        const marker = join(env.dir, `PWNED-${clean}`);
        const key = `hostile/meta-${clean}.sql.gz`;
        await upload(key, gzipSync(`\\! touch ${marker}\n${dump}`));
        const before = await fingerprint(env);
        const result = await restore({ RESTORE_S3_URI: `s3://db-backups/${key}`, CLEAN_TARGET: clean });
        await expectUntouched(result, before, 5);
        expect(result.stderr).toContain(
          `the dump holds a psql meta-command outside pg_dump's own \\restrict (line 1: \\! touch ${marker})`,
        );
        expect(existsSync(marker)).toBe(false);
      });
    }

    it('a meta-command in the middle of a line after the \\restrict is refused by psql itself (the script sends its own \\restrict first)', async () => {
      const marker = join(env.dir, 'PWNED-midline');
      const key = 'hostile/midline.sql.gz';
      const hostile = dump.replace(
        /^SET row_security = off;$/m,
        `SET row_security = off; \\! touch ${marker}`,
      );
      expect(hostile).not.toBe(dump);
      await upload(key, gzipSync(hostile));
      const before = await fingerprint(env);
      const result = await restore({ RESTORE_S3_URI: `s3://db-backups/${key}`, CLEAN_TARGET: 'true' });
      await expectUntouched(result, before, 5);
      expect(result.stderr).toContain('backslash commands are restricted');
      expect(result.stderr).toContain(
        'the dump holds a psql meta-command (refused by \\restrict: nothing of it ran)',
      );
      expect(existsSync(marker)).toBe(false);
    });

    it('a COMMIT inside the dump cannot break the restore into the target: CLEAN_TARGET=false goes through a copy, a later error leaves every table and constraint', async () => {
      const key = 'hostile/commit.sql.gz';
      const hostile = dump
        .replace(/^SET row_security = off;$/m, 'SET row_security = off;\nCOMMIT;')
        .replace(
          /^-- PostgreSQL database dump complete$/m,
          'SELECT 1 / 0;\n-- PostgreSQL database dump complete',
        );
      await upload(key, gzipSync(hostile));
      const before = await fingerprint(env);
      const keys = await constraints();
      expect(keys).toContain('orders_customer_id_fkey');
      const result = await restore({ RESTORE_S3_URI: `s3://db-backups/${key}`, CLEAN_TARGET: 'false' });
      await expectUntouched(result, before, 6);
      expect(await constraints()).toBe(keys);
      expect(result.stderr).toContain('division by zero');
      expect(result.stderr).toMatch(
        /the SQL restore into the new database app_restore_\d{14} failed \(it is dropped\); app was not touched/,
      );
      expect(result.stderr).not.toContain('rolled back; app is as it was');
    });

    it('an object that is not gzip at all is refused with exit 5, not "download failed"', async () => {
      const key = 'hostile/not-gzip.sql.gz';
      await upload(key, Buffer.from(dump.slice(0, 5000)));
      const before = await fingerprint(env);
      const result = await restore({ RESTORE_S3_URI: `s3://db-backups/${key}`, CLEAN_TARGET: 'true' });
      await expectUntouched(result, before, 5);
      expect(result.stderr).toContain(
        'is not a valid gzip stream (not gzip, truncated or corrupt); the database was not touched',
      );
      expect(result.stderr).not.toContain('download of');
    });
  },
);

describe('restore takes only the object that was verified', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('an object replaced (with its sidecar) after it was verified is refused with exit 5: EXPECTED_SHA256 and EXPECTED_ETAG pin it', async () => {
    const key = 'pinned/2026-01-01T00-00-00.000000Z.sql.gz';
    const original = gzipSync(dump);
    await upload(key, original);
    const head = JSON.parse(
      (await env.aws(['s3api', 'head-object', '--bucket', 'db-backups', '--key', key])).stdout,
    ) as {
      ETag: string;
    };
    const verified = { EXPECTED_SHA256: sha256(original), EXPECTED_ETAG: head.ETag };
    // replaced by a consistent pair: a different dump whose sidecar matches it
    await upload(
      key,
      gzipSync(
        dump.replace(/^COPY public\.orders .*$/m, (line) => `${line}\n999999\t1\t1.00\t\\N\t\\N\t\\N`),
      ),
    );
    const before = await fingerprint(env);
    const byEtag = await restore({
      RESTORE_S3_URI: `s3://db-backups/${key}`,
      CLEAN_TARGET: 'true',
      ...verified,
    });
    await expectUntouched(byEtag, before, 5);
    expect(byEtag.stderr).toContain(`is not the object that was verified: its ETag is`);
    const byHash = await restore({
      RESTORE_S3_URI: `s3://db-backups/${key}`,
      CLEAN_TARGET: 'true',
      EXPECTED_SHA256: verified.EXPECTED_SHA256,
    });
    await expectUntouched(byHash, before, 5);
    expect(byHash.stderr).toContain(`is not the object that was verified: it hashes to`);
    expect(byHash.stderr).toContain(
      `expected ${verified.EXPECTED_SHA256} (EXPECTED_SHA256; replaced since?)`,
    );
  });
});

describe('backup keys never collide', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('two backups started together publish two keys, each object with its own sidecar', async () => {
    const both = await Promise.all(
      [0, 1].map(() =>
        runScript('postgres-backup.sh', { env: env.jobEnv({ POSTGRES_S3_PREFIX: 'together/' }) }),
      ),
    );
    for (const result of both) expect(result.code, result.stderr).toBe(0);
    const keys = (await listKeys(env, 'together/')).filter((key) => isDump(key));
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      const file = join(env.dir, 'check.gz');
      expect((await env.aws(['s3', 'cp', `s3://db-backups/${key}`, file])).code).toBe(0);
      const sidecar = await env.aws(['s3', 'cp', `s3://db-backups/${key}.sha256`, '-']);
      expect(sidecar.stdout.split(' ')[0]).toBe(sha256(await readFile(file)));
    }
    expect(await listKeys(env, 'together/.partial/')).toEqual([]);
  });

  it('a key another run published first is a collision: exit 6, named, and the other run’s object left as it was', async () => {
    const job = runScript('postgres-backup.sh', {
      env: env.jobEnv({ POSTGRES_S3_PREFIX: 'taken/', ...pause('publish') }),
    });
    const flag = await reached('publish');
    const temp = (await listKeys(env, 'taken/.partial/'))[0]!;
    const finalKey = `taken/${temp
      .split('/')
      .at(-1)!
      .replace(/(\.sql\.gz)\..*$/, '$1')}`;
    await upload(finalKey, Buffer.from('the other run'));
    await rm(flag);
    const result = await job;
    expect(result.code, result.stderr).toBe(6);
    expect(result.stderr).toContain(
      `key collision: s3://db-backups/${finalKey} already exists before this run published it`,
    );
    expect((await env.aws(['s3', 'cp', `s3://db-backups/${finalKey}`, '-'])).stdout).toBe('the other run');
    expect(await listKeys(env, 'taken/')).toEqual([finalKey, `${finalKey}.sha256`]);
  });

  it('an object overwritten by another run while this one publishes is a collision: exit 6, never silent', async () => {
    const job = runScript('postgres-backup.sh', {
      env: env.jobEnv({ POSTGRES_S3_PREFIX: 'raced/', ...pause('published') }),
    });
    const flag = await reached('published');
    const finalKey = (await listKeys(env, 'raced/')).find((key) => isDump(key))!;
    const copy = await env.aws([
      's3api',
      'copy-object',
      '--bucket',
      'db-backups',
      '--key',
      finalKey,
      '--copy-source',
      `db-backups/${backupKey}`,
      '--metadata-directive',
      'REPLACE',
      '--metadata',
      'backup-run-id=other-run',
    ]);
    expect(copy.code).toBe(0);
    await rm(flag);
    const result = await job;
    expect(result.code, result.stderr).toBe(6);
    expect(result.stderr).toMatch(
      new RegExp(
        `key collision: s3://db-backups/${finalKey.replace(/\./g, '\\.')} was overwritten by another backup run \\(other-run\\)`,
      ),
    );
    // the other run's object is not deleted by this run's cleanup
    const head = await env.aws(['s3api', 'head-object', '--bucket', 'db-backups', '--key', finalKey]);
    expect(head.code).toBe(0);
    expect(head.stdout).toContain('other-run');
  });
});

describe(
  'nothing is left behind, or it is named with the command that removes it',
  { timeout: SCRIPT_TIMEOUT_MS },
  () => {
    it('object storage gone while publishing: exit 6, the temporary .partial/ object named with its aws s3 rm command', async () => {
      const s3 = await startSandboxS3({ directory: join(env.dir, 's3-outage') });
      const port = new URL(s3.endpoint).port;
      const job = runScript('postgres-backup.sh', {
        env: env.jobEnv({
          ...s3.env,
          AWS_MAX_ATTEMPTS: '1',
          POSTGRES_S3_PREFIX: 'outage/',
          ...pause('publish'),
        }),
      });
      const flag = await reached('publish');
      await s3.stop();
      await rm(flag);
      const result = await job;
      expect(result.code, result.stderr).toBe(6);
      const named =
        /the temporary object (s3:\/\/db-backups\/outage\/\.partial\/\S+) is left \(object storage unreachable\?\); delete it: (aws s3 rm \S+ --endpoint-url \S+)/.exec(
          result.stderr,
        );
      expect(named, result.stderr).not.toBeNull();
      expect(result.stderr).toContain('backup FAILED (exit 6); nothing was published');
      // back up again: the object is where the message said, and its command removes it
      const again = await startSandboxS3({ directory: join(env.dir, 's3-outage'), port: Number(port) });
      try {
        const awsEnv = { ...again.env, PATH: env.jobEnv().PATH, HOME: env.dir };
        const key = new URL(named![1]!).pathname.slice(1);
        expect(
          (
            await run('aws', ['--endpoint-url', again.endpoint, 's3', 'ls', `s3://db-backups/${key}`], {
              env: awsEnv,
            })
          ).code,
        ).toBe(0);
        expect((await run('bash', ['-c', named![2]!], { env: awsEnv })).code).toBe(0);
        const left = await run(
          'aws',
          ['--endpoint-url', again.endpoint, 's3', 'ls', '--recursive', 's3://db-backups/outage/'],
          { env: awsEnv },
        );
        expect(left.stdout.trim()).toBe('');
      } finally {
        await again.stop();
      }
    });

    it('a restore stopped while it downloads leaves no aws process and no work directory behind', async () => {
      const job = runScript('postgres-restore.sh', {
        env: env.jobEnv({
          RESTORE_S3_URI: `s3://db-backups/${backupKey}`,
          CLEAN_TARGET: 'true',
          ...pause('download'),
        }),
        detached: true,
      });
      const flag = await reached('download');
      // the background aws calls are running now; stop the script alone (not its group)
      const pid = await scriptPid('postgres-restore.sh');
      process.kill(pid, 'SIGTERM');
      await rm(flag);
      const result = await job;
      expect(result.code, result.stderr).toBe(143);
      expect(result.stderr).toContain('restore INTERRUPTED by SIGTERM (exit 143); app was not touched');
      await new Promise((r) => setTimeout(r, 1500));
      expect(await awsProcessesIn(env.work)).toEqual([]);
      expect(await readdir(env.work)).toEqual([]);
    });
  },
);

/** The pid of the bash running `script` with this test's work dir. */
async function scriptPid(script: string): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (cmdline[0] !== 'bash' || !cmdline[1]?.endsWith(script)) continue;
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (environ.split('\0').includes(`BACKUP_WORK_DIR=${env.work}`)) return Number(entry);
    } catch {
      // gone
    }
  }
  throw new Error(`no ${script} running`);
}

/** aws processes still running with this work dir in their environment. */
async function awsProcessesIn(work: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      if (!cmdline.includes('aws')) continue;
      const environ = await readFile(`/proc/${entry}/environ`, 'utf8');
      if (environ.split('\0').includes(`BACKUP_WORK_DIR=${work}`)) {
        await stat(`/proc/${entry}`);
        found.push(Number(entry));
      }
    } catch {
      // gone
    }
  }
  return found;
}
