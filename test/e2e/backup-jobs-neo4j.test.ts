// neo4j-backup.sh (NEO4J_BACKUP_METHOD=dump) and neo4j-restore.sh on this host against a real Neo4j 5
// Community server (Maven Central), s3rver and the real aws CLI: the server is stopped for the dump and
// started again, the archive round-trips with every label's count and the marker node equal, a restore is
// refused while the server is up, and a corrupt archive is refused before the store is touched.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNeo4jAdapter } from '../../src/adapters/neo4j.js';
import { createLocalNeo4j, type LocalNeo4j } from '../../src/sandbox/neo4j.js';
import { startSandboxS3, type SandboxS3 } from '../../src/sandbox/s3.js';
import {
  basePath,
  run,
  runScript,
  tempDir,
  type RunResult,
  SCRIPT_TIMEOUT_MS,
} from '../support/backup-jobs-run.js';

let dir: string;
let s3: SandboxS3;
let neo4j: LocalNeo4j;
let path: string;
let published = '';
let before: Record<string, number> = {};
let marker = '';

function jobEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...s3.env,
    NEO4J_BACKUP_METHOD: 'dump',
    NEO4J_HOME: neo4j.home,
    NEO4J_HOST: '127.0.0.1',
    NEO4J_BOLT_PORT: String(neo4j.boltPort),
    NEO4J_DATABASE: 'neo4j',
    NEO4J_S3_PREFIX: 'neo4j/',
    BACKUP_WORK_DIR: join(dir, 'work'),
    PATH: path,
    ...extra,
  };
}
function restoreEnv(uri: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...s3.env,
    RESTORE_S3_URI: uri,
    NEO4J_DATABASE: 'neo4j',
    NEO4J_HOME: neo4j.home,
    NEO4J_ADDRESS: neo4j.address,
    NEO4J_USERNAME: neo4j.username,
    NEO4J_PASSWORD: neo4j.password,
    BACKUP_WORK_DIR: join(dir, 'work'),
    PATH: path,
    ...extra,
  };
}
const cypher = async (statement: string, params: Record<string, unknown> = {}) =>
  (
    await createNeo4jAdapter(
      { address: neo4j.address, username: neo4j.username, password: neo4j.password },
      () => undefined,
    ).run(statement, { database: 'neo4j', params })
  ).rows;
const labelCounts = async (): Promise<Record<string, number>> =>
  Object.fromEntries(
    (await cypher('MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) ORDER BY label')) as [
      string,
      number,
    ][],
  );
const aws = (args: string[], input?: string | Buffer) =>
  run('aws', ['--endpoint-url', s3.endpoint, ...args], { env: { ...s3.env, PATH: path }, input });
const summary = (result: RunResult) =>
  Object.fromEntries(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  ) as Record<string, string>;

beforeAll(async () => {
  dir = await tempDir('backup-jobs-neo4j');
  await mkdir(join(dir, 'work'));
  [s3, neo4j] = await Promise.all([
    startSandboxS3({ directory: join(dir, 's3') }),
    createLocalNeo4j({ directory: join(dir, 'neo4j-home') }),
  ]);
  path = basePath(neo4j.binDir);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([neo4j?.stop(), s3?.stop()]);
}, 120_000);

describe(
  'Community dump backup and restore with the real neo4j-admin',
  { timeout: SCRIPT_TIMEOUT_MS },
  () => {
    it('stops the server for neo4j-admin database dump, starts it again, publishes <time>.backup.tar.gz with its .sha256 and says how long Neo4j was down', async () => {
      await cypher('UNWIND range(1, 50) AS i CREATE (:Person {id: i})');
      await cypher('UNWIND range(1, 20) AS i CREATE (:Item {id: i})-[:OF]->(:Order {id: i})');
      marker = `backup-jobs ${new Date().toISOString()}`;
      await cypher(
        "MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime(), n.marker = $marker",
        {
          marker,
        },
      );
      before = await labelCounts();
      expect(before).toEqual({ BackupValidation: 1, Item: 20, Order: 20, Person: 50 });

      const result = await runScript('neo4j-backup.sh', { env: jobEnv() });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('stopping Neo4j:');
      expect(result.stderr).toContain('neo4j-admin database dump');
      expect(result.stderr).toMatch(/Neo4j was down for \d+(\.\d)?s \(stop, dump, start\)/);
      const out = summary(result);
      expect(out.type).toBe('DUMP');
      expect(out.artifact).toBe('neo4j.dump');
      expect(out.downtime_seconds).toMatch(/^\d+(\.\d)?$/);
      expect(out.object).toMatch(
        /^s3:\/\/[^/]+\/neo4j\/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{6}Z\.backup\.tar\.gz$/,
      );
      published = out.object!;

      // The server is serving again, with the same graph.
      expect(await neo4j.running()).toBe(true);
      expect(await labelCounts()).toEqual(before);

      const local = join(dir, 'fetched.tar.gz');
      expect((await aws(['s3', 'cp', published, local])).code).toBe(0);
      const listing = await run('tar', ['-tzf', local], { env: { PATH: path } });
      expect(listing.stdout.trim().split('\n').sort()).toEqual(['backup-manifest.txt', 'neo4j.dump']);
      const sha = await run('sha256sum', [local], { env: { PATH: path } });
      const sidecar = await aws(['s3', 'cp', `${published}.sha256`, '-']);
      expect(sidecar.stdout.split(/\s+/)[0]).toBe(sha.stdout.split(/\s+/)[0]);
      const head = await aws([
        's3api',
        'head-object',
        '--bucket',
        s3.bucket,
        '--key',
        published.replace(/^s3:\/\/[^/]+\//, ''),
      ]);
      expect(head.stdout).toContain('"downtime-seconds"');
      expect(head.stdout).toContain('"backup-type": "DUMP"');
    });

    it('refuses to restore while the server is up, and the store is not touched', async () => {
      await cypher('CREATE (:AfterBackup {id: 1})');
      const result = await runScript('neo4j-restore.sh', { env: restoreEnv(published) });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain("database 'neo4j' is online; stop it first");
      expect((await labelCounts()).AfterBackup).toBe(1);
    });

    it('restores the dump with neo4j-admin database load after neo4j stop: every label count and the marker node are as backed up', async () => {
      await cypher('MATCH (n:Person) WHERE n.id > 10 DETACH DELETE n');
      await neo4j.stop();
      expect(await neo4j.running()).toBe(false);
      const result = await runScript('neo4j-restore.sh', {
        env: restoreEnv(published, { NEO4J_START_AFTER_RESTORE: 'true' }),
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('database load');
      expect(summary(result).type).toBe('DUMP');
      await neo4j.start();
      expect(await labelCounts()).toEqual(before);
      expect(await cypher("MATCH (n:BackupValidation {id: 'synthetic'}) RETURN n.marker")).toEqual([
        [marker],
      ]);
    }, 240_000);

    it('refuses a corrupt archive whose checksum matches before the store is touched', async () => {
      const garbage = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(4096, 7)]);
      const key = 'neo4j/2020-01-01T00-00-00.000000Z.backup.tar.gz';
      expect((await aws(['s3', 'cp', '-', `s3://${s3.bucket}/${key}`], garbage)).code).toBe(0);
      const sha = (await run('sha256sum', ['-'], { env: { PATH: path }, input: garbage })).stdout.split(
        /\s+/,
      )[0];
      expect(
        (await aws(['s3', 'cp', '-', `s3://${s3.bucket}/${key}.sha256`], `${sha}  ${key.split('/')[1]}\n`))
          .code,
      ).toBe(0);
      await cypher('CREATE (:AfterRestore {id: 1})');
      await neo4j.stop();
      const result = await runScript('neo4j-restore.sh', { env: restoreEnv(`s3://${s3.bucket}/${key}`) });
      expect(result.code).toBe(5);
      expect(result.stderr).toContain('is not a valid gzip archive; nothing was restored');
      expect(result.stderr).not.toContain('database load');
      await neo4j.start();
      expect((await labelCounts()).AfterRestore).toBe(1);
    }, 240_000);
  },
);
