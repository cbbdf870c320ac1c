// The Enterprise online path of neo4j-backup.sh / neo4j-restore.sh (database backup --from HOST:6362, FULL and
// DIFF chains, database restore of a chain). Enterprise is not on Maven Central, so only that part runs against
// db-runbook's stand-in neo4j-admin — against a real Neo4j 5 Community server, and with a REAL dump inside every
// artifact: the restore is done by the real neo4j-admin, and the graph comes back as it was.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNeo4jAdapter } from '../../src/adapters/neo4j.js';
import {
  createLocalNeo4j,
  enterpriseStandInDir,
  startBackupPortStandIn,
  type LocalNeo4j,
} from '../../src/sandbox/neo4j.js';
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
let backupPort: { port: number; close(): Promise<void> };
let path: string;
const published: { full?: string; diff?: string } = {};
let atDiff: Record<string, number> = {};

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...s3.env,
    NEO4J_HOST: '127.0.0.1',
    NEO4J_BACKUP_PORT: String(backupPort.port),
    NEO4J_BOLT_PORT: String(neo4j.boltPort),
    NEO4J_DATABASE: 'neo4j',
    NEO4J_USERNAME: neo4j.username,
    NEO4J_PASSWORD: neo4j.password,
    NEO4J_STANDIN_STORE: join(neo4j.home, 'data'),
    NEO4J_S3_PREFIX: 'neo4j/',
    BACKUP_WORK_DIR: join(dir, 'work'),
    PATH: path,
    ...extra,
  };
}
const cypher = async (statement: string) =>
  (
    await createNeo4jAdapter(
      { address: neo4j.address, username: neo4j.username, password: neo4j.password },
      () => undefined,
    ).run(statement, { database: 'neo4j' })
  ).rows;
const labelCounts = async (): Promise<Record<string, number>> =>
  Object.fromEntries(
    (await cypher('MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) ORDER BY label')) as [
      string,
      number,
    ][],
  );
const summary = (result: RunResult) =>
  Object.fromEntries(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  ) as Record<string, string>;

beforeAll(async () => {
  dir = await tempDir('neo4j-enterprise-standin');
  await mkdir(join(dir, 'work'));
  [s3, neo4j, backupPort] = await Promise.all([
    startSandboxS3({ directory: join(dir, 's3') }),
    createLocalNeo4j({ directory: join(dir, 'neo4j-home') }),
    startBackupPortStandIn(),
  ]);
  path = basePath(enterpriseStandInDir(), neo4j.binDir);
}, 240_000);

afterAll(async () => {
  await Promise.allSettled([neo4j?.stop(), s3?.stop(), backupPort?.close()]);
}, 120_000);

describe(
  'Enterprise online backup (stand-in neo4j-admin, real dumps inside) against a real Neo4j',
  { timeout: SCRIPT_TIMEOUT_MS },
  () => {
    it('a FULL online backup over the backup port publishes an artifact whose manifest says the stand-in made it', async () => {
      await cypher('UNWIND range(1, 30) AS i CREATE (:Person {id: i})');
      const result = await runScript('neo4j-backup.sh', { env: env({ NEO4J_BACKUP_MODE: 'full' }) });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('db-runbook stand-in for Enterprise online backup');
      expect(result.stderr).toContain('a real dump inside; the backup protocol is simulated');
      const out = summary(result);
      expect(out.type).toBe('FULL');
      expect(out.artifact).toMatch(/^neo4j-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.backup$/);
      published.full = out.object;
      const local = join(dir, 'full.tar.gz');
      expect(
        (
          await run('aws', ['--endpoint-url', s3.endpoint, 's3', 'cp', published.full!, local], {
            env: { ...s3.env, PATH: path },
          })
        ).code,
      ).toBe(0);
      const manifest = await run('tar', ['-xzOf', local, 'backup-manifest.txt'], { env: { PATH: path } });
      expect(manifest.stdout).toMatch(
        /^neo4j_admin_version=5\.26\.\d+ \(db-runbook stand-in for Enterprise online backup\)$/m,
      );
    });

    it('an incremental backup continues the chain with a DIFF', async () => {
      await cypher('UNWIND range(1, 10) AS i CREATE (:Item {id: i})');
      await cypher("MERGE (n:BackupValidation {id: 'synthetic'}) SET n.marker = 'enterprise-standin'");
      atDiff = await labelCounts();
      const result = await runScript('neo4j-backup.sh', { env: env({ NEO4J_BACKUP_MODE: 'incremental' }) });
      expect(result.code, result.stderr).toBe(0);
      const out = summary(result);
      expect(out.type).toBe('DIFF');
      expect(out.chain_length).toBe('2');
      published.diff = out.object;
    });

    it('restores the DIFF with its chain: the real neo4j-admin loads it, and the graph is as at the DIFF', async () => {
      await cypher('MATCH (n:Person) DETACH DELETE n');
      await neo4j.stop();
      const result = await runScript('neo4j-restore.sh', {
        env: env({
          RESTORE_S3_URI: published.diff!,
          NEO4J_HOME: neo4j.home,
          NEO4J_ADDRESS: neo4j.address,
        }),
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('chain: 1 earlier backup(s)');
      expect(result.stderr).toMatch(
        /db-runbook stand-in for Enterprise online backup\): restored neo4j from neo4j-\S+\.backup: chain complete back to FULL neo4j-\S+\.backup \(checked by the stand-in\), the dump inside loaded by the real neo4j-admin/,
      );
      await neo4j.start();
      expect(await labelCounts()).toEqual(atDiff);
      expect(await cypher('MATCH (n:BackupValidation) RETURN n.marker')).toEqual([['enterprise-standin']]);
    }, 240_000);

    it('says the backup port is unreachable when nothing listens there (exit 3)', async () => {
      await backupPort.close();
      const result = await runScript('neo4j-backup.sh', { env: env({ NEO4J_BACKUP_MODE: 'full' }) });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(`the Neo4j backup port 127.0.0.1:${backupPort.port} is not reachable`);
      expect(result.stderr).toContain('Community has no online backup: NEO4J_BACKUP_METHOD=dump');
    });
  },
);
