// neo4j-backup.sh / neo4j-restore.sh with the Neo4j stand-in (neo4j-admin, cypher-shell, neo4j checked against
// Neo4j 5's CLI, real TCP ports) and s3rver, read back with the real aws CLI.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeo4jStandIn, type Neo4jStandIn } from '../../src/sandbox/neo4j-standin/index.js';
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
let neo4j: Neo4jStandIn;
let path: string;
const archives: { full?: string; diff1?: string; diff2?: string } = {};
const artifacts: string[] = [];

/** The backup Job's environment: the storage and neo4j Secrets, the settings ConfigMap, the manifest's env. */
function jobEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...s3.env,
    NEO4J_HOST: neo4j.host,
    NEO4J_BOLT_PORT: String(neo4j.boltPort),
    NEO4J_BACKUP_PORT: String(neo4j.backupPort),
    NEO4J_DATABASE: 'neo4j',
    NEO4J_USERNAME: neo4j.env.NEO4J_USERNAME!,
    NEO4J_PASSWORD: neo4j.env.NEO4J_PASSWORD!,
    POSTGRES_S3_PREFIX: 'postgres/',
    NEO4J_S3_PREFIX: 'neo4j/',
    NEO4J_BACKUP_MODE: 'full',
    BACKUP_WORK_DIR: join(dir, 'work'),
    PATH: path,
    ...extra,
  };
}
/** The runbook's restore invocation, plus the Bolt address and credentials used to check the database is stopped. */
function restoreEnv(uri: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...s3.env,
    RESTORE_S3_URI: uri,
    NEO4J_DATABASE: 'neo4j',
    NEO4J_HOME: neo4j.home,
    NEO4J_ADDRESS: neo4j.env.NEO4J_ADDRESS!,
    NEO4J_USERNAME: neo4j.env.NEO4J_USERNAME!,
    NEO4J_PASSWORD: neo4j.env.NEO4J_PASSWORD!,
    BACKUP_WORK_DIR: join(dir, 'work'),
    PATH: path,
    ...extra,
  };
}
const cypher = (statement: string, database = 'neo4j') =>
  run(
    'cypher-shell',
    ['-a', `neo4j+s://${neo4j.host}:${neo4j.boltPort}`, '-d', database, '--format', 'plain', statement],
    {
      env: { ...neo4j.env, PATH: path },
    },
  );
const aws = (args: string[]) =>
  run('aws', ['--endpoint-url', s3.endpoint, ...args], { env: { ...s3.env, PATH: path } });
const summary = (result: RunResult) =>
  Object.fromEntries(
    result.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/=(.*)/s).slice(0, 2)),
  ) as Record<string, string>;
const keyOf = (uri: string) => uri.replace('s3://db-backups/', '');
async function nodeCounts(): Promise<string> {
  return (await cypher('MATCH (n) RETURN count(n) AS nodes')).stdout;
}

beforeAll(async () => {
  dir = await tempDir('backup-jobs-neo4j');
  await mkdir(join(dir, 'work'));
  [s3, neo4j] = await Promise.all([
    startSandboxS3({ directory: join(dir, 's3') }),
    startNeo4jStandIn({ directory: join(dir, 'neo4j') }),
  ]);
  path = basePath(neo4j.binDir);
});

afterAll(async () => {
  await Promise.allSettled([neo4j?.stop(), s3?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Neo4j backup and restore jobs', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('a full backup publishes <prefix><UTC time>.backup.tar.gz; tar -tzf lists the backup artifact as the runbook expects', async () => {
    const merge = await cypher("MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime()");
    expect(merge.code).toBe(0);
    await cypher('UNWIND range(1, 20) AS i CREATE (:Item {id: i})');
    const result = await runScript('neo4j-backup.sh', { env: jobEnv() });
    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    const out = summary(result);
    expect(out.type).toBe('FULL');
    expect(out.object).toMatch(
      /^s3:\/\/db-backups\/neo4j\/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{6}Z\.backup\.tar\.gz$/,
    );
    archives.full = out.object;
    artifacts.push(out.artifact!);

    // the runbook: aws s3 ls s3://<bucket>/neo4j/ ; aws s3 cp s3://<bucket>/neo4j/<latest>.backup.tar.gz - | tar -tzf - | head
    const ls = await aws(['s3', 'ls', 's3://db-backups/neo4j/']);
    expect(ls.stdout).toContain(keyOf(out.object!).replace('neo4j/', ''));
    const listing = await run(
      'bash',
      ['-c', `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "${out.object}" - | tar -tzf - | head`],
      { env: jobEnv() },
    );
    expect(listing.code).toBe(0);
    expect(listing.stdout.trim().split('\n')).toEqual([out.artifact, 'backup-manifest.txt']);
    expect(out.artifact).toMatch(/^neo4j-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.backup$/);

    const body = await run(
      'bash',
      ['-c', `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "${out.object}" - | sha256sum`],
      {
        env: jobEnv(),
      },
    );
    const sidecar = await aws(['s3', 'cp', `${out.object}.sha256`, '-']);
    expect(sidecar.stdout).toBe(`${body.stdout.split(' ')[0]}  ${out.object!.split('/').at(-1)}\n`);
    const calls = await neo4j.calls();
    const backup = calls.find((c) => c.command === 'database backup');
    expect(backup?.argv).toEqual(
      expect.arrayContaining([`--from=${neo4j.host}:${neo4j.backupPort}`, '--type=FULL', 'neo4j']),
    );
  });

  it('NEO4J_BACKUP_MODE=incremental really yields differentials on top of the chain kept under the prefix', async () => {
    await cypher('UNWIND range(21, 30) AS i CREATE (:Item {id: i})');
    const first = await runScript('neo4j-backup.sh', { env: jobEnv({ NEO4J_BACKUP_MODE: 'incremental' }) });
    expect(first.stderr).not.toContain('error:');
    expect(first.code).toBe(0);
    expect(summary(first)).toMatchObject({ type: 'DIFF', chain_length: '2' });
    archives.diff1 = summary(first).object;
    artifacts.push(summary(first).artifact!);

    await cypher('MATCH (n:Item {id: 1}) DETACH DELETE n');
    await cypher("MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime()");
    const second = await runScript('neo4j-backup.sh', { env: jobEnv({ NEO4J_BACKUP_MODE: 'incremental' }) });
    expect(second.code).toBe(0);
    expect(summary(second)).toMatchObject({ type: 'DIFF', chain_length: '3' });
    archives.diff2 = summary(second).object;
    artifacts.push(summary(second).artifact!);

    const manifest = await run(
      'bash',
      [
        '-c',
        `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "${archives.diff2}" - | tar -xzOf - backup-manifest.txt`,
      ],
      { env: jobEnv() },
    );
    const chain = manifest.stdout.split('\n').filter((l) => l.startsWith('chain='));
    expect(chain.map((l) => l.split(' ')[0])).toEqual([
      `chain=${archives.full!.split('/').at(-1)}`,
      `chain=${archives.diff1!.split('/').at(-1)}`,
    ]);
    expect(manifest.stdout).toContain('type=DIFF');
    // each DIFF archive carries only its own artifact (the chain is fetched at restore time)
    const listing = await run(
      'bash',
      ['-c', `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "${archives.diff2}" - | tar -tzf -`],
      {
        env: jobEnv(),
      },
    );
    expect(listing.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('the restore refuses while the database is online and says how to stop it', async () => {
    const before = (await neo4j.calls()).length;
    const result = await runScript('neo4j-restore.sh', { env: restoreEnv(archives.diff2!) });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("database 'neo4j' is online");
    expect(result.stderr).toContain('STOP DATABASE `neo4j` WAIT');
    expect(result.stderr).toContain("'neo4j stop'");
    const after = await neo4j.calls();
    expect(after.slice(before).some((c) => c.command.startsWith('database'))).toBe(false);
  });

  it('restoring the latest differential runs `neo4j-admin database restore` with the whole chain and brings its data back', async () => {
    const expected = await nodeCounts();
    const validation = (await cypher("MATCH (n:BackupValidation {id: 'synthetic'}) RETURN n.checkedAt"))
      .stdout;
    await cypher('MATCH (n) DETACH DELETE n');
    expect(await nodeCounts()).toBe('nodes\n0\n');
    expect((await cypher('STOP DATABASE neo4j WAIT', 'system')).code).toBe(0);

    const result = await runScript('neo4j-restore.sh', {
      env: restoreEnv(archives.diff2!, { NEO4J_START_AFTER_RESTORE: 'true' }),
    });
    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    expect(summary(result)).toMatchObject({ type: 'DIFF' });

    const restore = (await neo4j.calls()).filter((c) => c.command === 'database restore').at(-1)!;
    const artifactNames = artifacts;
    expect(restore.chain).toEqual(artifactNames);
    expect(restore.types).toEqual(['FULL', 'DIFF', 'DIFF']);
    expect(restore.argv).toEqual([
      `--from-path=${restore.argv![0]!.slice('--from-path='.length)}`,
      '--overwrite-destination=true',
      'neo4j',
    ]);
    expect(restore.argv![0]).toMatch(new RegExp(`/chain/${artifactNames[2]!.replace(/\./g, '\\.')}$`));

    expect(await nodeCounts()).toBe(expected);
    expect((await cypher("MATCH (n:BackupValidation {id: 'synthetic'}) RETURN n.checkedAt")).stdout).toBe(
      validation,
    );
  });

  it('restoring a full backup uses `neo4j-admin database load`', async () => {
    await cypher('STOP DATABASE neo4j WAIT', 'system');
    const result = await runScript('neo4j-restore.sh', { env: restoreEnv(archives.full!) });
    expect(result.code).toBe(0);
    const load = (await neo4j.calls()).filter((c) => c.command === 'database load').at(-1)!;
    expect(load.source).toBe('neo4j.backup');
    expect(load.argv).toEqual(expect.arrayContaining(['--overwrite-destination=true', 'neo4j']));
    await cypher('START DATABASE neo4j WAIT', 'system');
    expect(await nodeCounts()).toBe('nodes\n21\n');
  });

  it('a corrupted chain element is refused (exit 5) before anything is restored', async () => {
    const saved = join(dir, 'full.tar.gz');
    expect((await aws(['s3', 'cp', archives.full!, saved])).code).toBe(0);
    const tampered = await run(
      'bash',
      ['-c', `printf 'not a backup' | aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp - "${archives.full}"`],
      {
        env: jobEnv(),
      },
    );
    expect(tampered.code).toBe(0);
    await cypher('STOP DATABASE neo4j WAIT', 'system');
    const before = (await neo4j.calls()).length;
    const result = await runScript('neo4j-restore.sh', { env: restoreEnv(archives.diff2!) });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(`checksum mismatch for ${archives.full}`);
    expect((await neo4j.calls()).slice(before).some((c) => c.command.startsWith('database'))).toBe(false);
    await aws(['s3', 'cp', saved, archives.full!]);
    await cypher('START DATABASE neo4j WAIT', 'system');
  });

  it('a closed backup port (6362) fails the backup with exit 3 and publishes nothing', async () => {
    const before = await aws(['s3', 'ls', '--recursive', 's3://db-backups/neo4j/']);
    await neo4j.closeBackupPort();
    const result = await runScript('neo4j-backup.sh', { env: jobEnv() });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      `the Neo4j backup port ${neo4j.host}:${neo4j.backupPort} is not reachable`,
    );
    expect(result.stderr).toContain('server.backup.listen_address');
    const after = await aws(['s3', 'ls', '--recursive', 's3://db-backups/neo4j/']);
    expect(after.stdout).toBe(before.stdout);
  });
});
