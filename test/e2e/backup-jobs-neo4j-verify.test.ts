// neo4j-verify.sh (issue 19): a Neo4j backup proven restorable in an ISOLATED scratch Neo4j. Real Neo4j 5.26
// Community (the test's "production" server, dumped by neo4j-backup.sh), s3rver and the aws CLI; the script runs
// as the neo4j-restore-verify Job runs it (`bash <script>` with only the Job's environment). Every case checks that
// no scratch Neo4j process and no scratch home are left, and that the production server was not touched.
import { createHash } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNeo4jAdapter } from '../../src/adapters/neo4j.js';
import {
  createLocalNeo4j,
  enterpriseStandInDir,
  startBackupPortStandIn,
  type LocalNeo4j,
} from '../../src/sandbox/neo4j.js';
import { type SandboxS3, startSandboxS3 } from '../../src/sandbox/s3.js';
import { basePath, run, type RunResult, runScript, tempDir } from '../support/backup-jobs-run.js';
import { journalText, runCli } from '../support/cli.js';

let dir: string;
let s3: SandboxS3;
let neo4j: LocalNeo4j;
let path: string;
let backupKey = '';

interface VerificationRecord {
  format: string;
  engine: string;
  result: 'pass' | 'fail' | 'unverified';
  backup: string;
  sha256: string;
  backupType: string | null;
  failedCheck: string | null;
  checks: { name: string; ok: boolean; detail: string }[];
  counts: {
    recorded: boolean;
    reason: string;
    restored: { nodes?: number; relationships?: number; labels: { label: string; nodes: number }[] };
  };
  scratch: { server: string; removed: boolean };
  by: { pod: string; job: string };
}

const work = () => join(dir, 'work');
const jobEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  ...s3.env,
  // what the Job's pod also gets from neo4j-backup-credentials: the production server, which must never be used
  NEO4J_HOST: '127.0.0.1',
  NEO4J_BOLT_PORT: String(neo4j.boltPort),
  NEO4J_ADDRESS: neo4j.address,
  NEO4J_USERNAME: neo4j.username,
  NEO4J_PASSWORD: neo4j.password,
  NEO4J_DATABASE: 'neo4j',
  NEO4J_S3_PREFIX: 'neo4j/',
  BACKUP_WORK_DIR: work(),
  VERIFY_NEO4J_HEAP: '256m',
  VERIFY_NEO4J_PAGECACHE: '32m',
  HEAP_SIZE: '256m',
  PATH: path,
  ...extra,
});
const cypher = async (statement: string) =>
  (
    await createNeo4jAdapter(
      { address: neo4j.address, username: neo4j.username, password: neo4j.password },
      () => undefined,
    ).run(statement, { database: 'neo4j' })
  ).rows;
const aws = (args: string[], input?: string | Buffer) =>
  run('aws', ['--endpoint-url', s3.endpoint, ...args], { env: { ...s3.env, PATH: path }, input });
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

async function readRecord(key: string): Promise<VerificationRecord> {
  const body = (await aws(['s3', 'cp', `s3://${s3.bucket}/${key}.verified.json`, '-'])).stdout;
  const sidecar = (await aws(['s3', 'cp', `s3://${s3.bucket}/${key}.verified.json.sha256`, '-'])).stdout;
  expect(sidecar).toBe(`${sha256(body)}  ${key.split('/').at(-1)}.verified.json\n`);
  return JSON.parse(body) as VerificationRecord;
}

/** Processes whose command line names this test's work folder (the scratch server's JVMs would). */
async function scratchProcesses(): Promise<string> {
  const result = await run('pgrep', ['-af', work()], { env: { PATH: path } });
  return result.stdout.trim();
}
/** Nothing of a scratch instance left: no process, no work directory of the script. */
async function expectNothingLeft(): Promise<void> {
  expect(await scratchProcesses()).toBe('');
  expect((await readdir(work())).filter((name) => name.startsWith('neo4j-verify'))).toEqual([]);
}

const verify = (extra: Record<string, string> = {}, onSpawn?: (pid: number) => void): Promise<RunResult> =>
  runScript('neo4j-verify.sh', { env: jobEnv(extra), timeoutMs: 300_000, onSpawn });

beforeAll(async () => {
  dir = await tempDir('backup-jobs-neo4j-verify');
  await mkdir(work());
  [s3, neo4j] = await Promise.all([
    startSandboxS3({ directory: join(dir, 's3') }),
    createLocalNeo4j({ directory: join(dir, 'neo4j-home') }),
  ]);
  path = basePath(neo4j.binDir);
  await cypher('UNWIND range(1, 30) AS i CREATE (:Person {id: i})');
  await cypher('UNWIND range(1, 12) AS i CREATE (:Item {id: i})-[:OF]->(:Order {id: i})');
  const backup = await runScript('neo4j-backup.sh', {
    env: {
      ...s3.env,
      NEO4J_BACKUP_METHOD: 'dump',
      NEO4J_HOME: neo4j.home,
      NEO4J_HOST: '127.0.0.1',
      NEO4J_BOLT_PORT: String(neo4j.boltPort),
      BACKUP_WORK_DIR: work(),
      PATH: path,
    },
    timeoutMs: 300_000,
  });
  expect(backup.code, backup.stderr).toBe(0);
  backupKey = /^object=s3:\/\/[^/]+\/(\S+)$/m.exec(backup.stdout)![1]!;
  // the production server is serving again; from here on it must stay untouched
  expect(await neo4j.running()).toBe(true);
}, 400_000);

afterAll(async () => {
  await Promise.allSettled([neo4j?.stop(), s3?.stop()]);
}, 120_000);

describe(
  'neo4j-verify.sh: a Neo4j backup proven restorable in a scratch instance',
  { timeout: 400_000 },
  () => {
    it('a good dump gets a passing .verified.json: consistency check, the restored counts, the smoke queries; the scratch Neo4j is stopped and deleted and the serving Neo4j is untouched', async () => {
      const result = await verify({
        VERIFY_SMOKE_QUERIES: [
          '-- name: people exist',
          '-- expect: >= 30',
          'MATCH (p:Person) RETURN count(p)',
          '-- name: every item has its order',
          '-- expect: 0',
          'MATCH (i:Item) WHERE NOT (i)-[:OF]->(:Order) RETURN count(i);',
        ].join('\n'),
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain('result=pass');
      expect(result.stderr).toContain('PROVEN RESTORABLE');
      const record = await readRecord(backupKey);
      expect(record).toMatchObject({
        format: 'db-runbook-verification/1',
        engine: 'neo4j',
        result: 'pass',
        backup: `s3://${s3.bucket}/${backupKey}`,
        backupType: 'DUMP',
        failedCheck: null,
        scratch: { removed: true },
      });
      expect(record.checks.map((c) => [c.name, c.ok])).toEqual([
        ['integrity', true],
        ['restore', true],
        ['consistency check', true],
        ['scratch server started', true],
        ['counts', true],
        ['smoke query: people exist', true],
        ['smoke query: every item has its order', true],
        ['scratch instance stopped and deleted', true],
      ]);
      // the scratch server was its own instance, never the serving one
      expect(record.scratch.server).not.toBe(`127.0.0.1:${neo4j.boltPort}`);
      expect(record.counts.recorded).toBe(false);
      expect(record.counts.reason).toContain('server stopped');
      expect(record.counts.restored).toEqual({
        nodes: 54,
        relationships: 12,
        labels: [
          { label: 'Item', nodes: 12 },
          { label: 'Order', nodes: 12 },
          { label: 'Person', nodes: 30 },
        ],
      });
      expect(record.by.pod).not.toBe('');
      await expectNothingLeft();
      expect(await neo4j.running()).toBe(true);
      expect(await cypher('MATCH (n) RETURN count(n)')).toEqual([[54]]);
    });

    it('a smoke query whose answer is wrong gives a failing record naming the query', async () => {
      const result = await verify({
        VERIFY_SMOKE_QUERIES: [
          '-- name: at least a million people',
          '-- expect: >= 1000000',
          'MATCH (p:Person) RETURN count(p)',
          '-- name: a shell command',
          'MATCH (p:Person) RETURN count(p)',
          ':source /etc/passwd',
        ].join('\n'),
      });
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr).toContain('NOT RESTORABLE: smoke query: at least a million people failed');
      const record = await readRecord(backupKey);
      expect(record.result).toBe('fail');
      expect(record.failedCheck).toBe('smoke query: at least a million people');
      expect(record.checks.find((c) => c.name === record.failedCheck)?.detail).toBe(
        '"30", expected >= 1000000',
      );
      expect(record.checks.find((c) => c.name === 'smoke query: a shell command')).toMatchObject({
        ok: false,
        detail: expect.stringContaining('refused, not run') as unknown,
      });
      expect(record.checks.at(-1)).toMatchObject({ name: 'scratch instance stopped and deleted', ok: true });
      await expectNothingLeft();
    });

    it('an archive altered after publishing gets a failing record that names the integrity check; no scratch server was started', async () => {
      const altered = backupKey.replace(/\.backup\.tar\.gz$/, '').replace(/\d{2}\.\d+Z$/, '59.000001Z');
      const key = `${altered}.backup.tar.gz`;
      const file = join(dir, 'archive.tar.gz');
      expect((await aws(['s3', 'cp', `s3://${s3.bucket}/${backupKey}`, file])).code).toBe(0);
      expect(
        (await aws(['s3', 'cp', `s3://${s3.bucket}/${backupKey}.sha256`, `s3://${s3.bucket}/${key}.sha256`]))
          .code,
      ).toBe(0);
      // same sidecar, other bytes: the object was replaced after publishing
      expect(
        (await aws(['s3', 'cp', '-', `s3://${s3.bucket}/${key}`], Buffer.from('not the backup'))).code,
      ).toBe(0);
      const result = await verify({ VERIFY_S3_URI: `s3://${s3.bucket}/${key}` });
      expect(result.code, result.stderr).toBe(1);
      const record = await readRecord(key);
      expect(record.result).toBe('fail');
      expect(record.failedCheck).toBe('integrity');
      expect(record.checks[0]?.detail).toContain('checksum mismatch');
      expect(record.checks.map((c) => c.name)).not.toContain('scratch server started');
      await expectNothingLeft();
    });

    it('SIGTERM while the scratch Neo4j runs: it is stopped and deleted, no JVM is left, no record is published (exit 143)', async () => {
      const key = `${backupKey.replace(/\.backup\.tar\.gz$/, '').replace(/\d{2}\.\d+Z$/, '58.000001Z')}.backup.tar.gz`;
      expect(
        (await aws(['s3', 'cp', `s3://${s3.bucket}/${backupKey}`, `s3://${s3.bucket}/${key}`])).code,
      ).toBe(0);
      expect(
        (await aws(['s3', 'cp', `s3://${s3.bucket}/${backupKey}.sha256`, `s3://${s3.bucket}/${key}.sha256`]))
          .code,
      ).toBe(0);
      const result = await verify({
        VERIFY_S3_URI: `s3://${s3.bucket}/${key}`,
        DB_RUNBOOK_TEST_HOOK_PHASE: 'scratch-started',
        DB_RUNBOOK_TEST_HOOK_SIGNAL: 'TERM',
      });
      expect(result.code, result.stderr).toBe(143);
      expect(result.stderr).toContain('the scratch Neo4j was stopped and deleted; no record published');
      expect((await aws(['s3', 'ls', `s3://${s3.bucket}/${key}.verified.json`])).stdout).toBe('');
      await expectNothingLeft();
      expect(await neo4j.running()).toBe(true);
    });

    it('an Enterprise online backup verified with Community\'s neo4j-admin: integrity checked, the record says "unverified" and why (exit 3), nothing left', async () => {
      // the online backup by the Enterprise stand-in (a real dump inside a .backup artifact), under its own prefix
      const port = await startBackupPortStandIn();
      let key = '';
      try {
        const backup = await runScript('neo4j-backup.sh', {
          env: {
            ...s3.env,
            NEO4J_HOST: '127.0.0.1',
            NEO4J_BACKUP_PORT: String(port.port),
            NEO4J_STANDIN_STORE: join(neo4j.home, 'data'),
            NEO4J_S3_PREFIX: 'neo4j-enterprise/',
            BACKUP_WORK_DIR: work(),
            PATH: basePath(enterpriseStandInDir(), neo4j.binDir),
          },
          timeoutMs: 300_000,
        });
        expect(backup.code, backup.stderr).toBe(0);
        key = /^object=s3:\/\/[^/]+\/(\S+)$/m.exec(backup.stdout)![1]!;
      } finally {
        await port.close();
      }
      // the CronJob's Community image: only the real (Community) neo4j-admin on PATH
      const result = await verify({ NEO4J_S3_PREFIX: 'neo4j-enterprise/' });
      expect(result.code, result.stderr).toBe(3);
      expect(result.stdout).toContain('result=unverified');
      const record = await readRecord(key);
      expect(record.result).toBe('unverified');
      expect(record.backupType).toBe('FULL');
      expect(record.checks[0]).toMatchObject({ name: 'integrity', ok: true });
      expect((record as unknown as { reason: string }).reason).toContain("needs Enterprise's neo4j-admin");
      await expectNothingLeft();
    });
  },
);

describe('db-runbook verify --neo4j from the workstation', { timeout: 400_000 }, () => {
  it('proves the same backup with the local Neo4j distribution: PROVEN RESTORABLE, exit 0, a passing record, nothing left', async () => {
    const result = await runCli(['verify', '--neo4j', `s3://${s3.bucket}/${backupKey}`], {
      env: {
        ...s3.env,
        NEO4J_S3_PREFIX: 'neo4j/',
        NEO4J_HOME: dirname(neo4j.binDir),
        PATH: path,
        HOME: dir,
        TMPDIR: work(),
      },
      timeoutMs: 300_000,
    });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`PROVEN RESTORABLE: s3://${s3.bucket}/${backupKey}`);
    expect(result.stdout).toMatch(/✓ consistency check/);
    expect(journalText(result.sessionDir)).toContain('verify.neo4j');
    const record = await readRecord(backupKey);
    expect(record).toMatchObject({ engine: 'neo4j', result: 'pass' });
    expect(journalText(result.sessionDir) + result.stdout).not.toContain(s3.env.AWS_SECRET_ACCESS_KEY!);
    await expectNothingLeft();
  });
});
