// restore-neo4j end to end: the built CLI against s3rver and the Neo4j stand-in (no Neo4j server can be
// installed here: neo4j-admin, cypher-shell and neo4j are the stand-in's executables, which check their
// arguments against Neo4j 5's CLI and keep the store under NEO4J_HOME). The backup is taken with the real
// neo4j-backup.sh and restored by the CLI through the real neo4j-restore.sh.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NEO4J_STANDIN_BIN_DIR,
  startNeo4jStandIn,
  type Neo4jStandIn,
} from '../../src/sandbox/neo4j-standin/index.js';
import { startSandboxS3, type SandboxS3 } from '../../src/sandbox/s3.js';
import { journalEvents, journalText, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

let dir: string;
let s3: SandboxS3;
let neo4j: Neo4jStandIn;
let env: Record<string, string>;
let backupUri: string;

async function cypher(statement: string, database = 'neo4j'): Promise<string> {
  const result = await execa(
    'cypher-shell',
    ['-d', database, '--format', 'plain', '--non-interactive', statement],
    {
      env,
      extendEnv: false,
    },
  );
  return String(result.stdout);
}

async function nodeCount(): Promise<string> {
  return (await cypher('MATCH (n) RETURN count(n) AS nodes')).split('\n')[1] ?? '';
}

function args(confirm: string): string[] {
  // Each typed gate takes its own phrase: the database name (member stopped), then "overwrite <name>".
  return [
    'run',
    'restore-neo4j',
    '--yes',
    '--confirm',
    confirm,
    '--confirm',
    `overwrite ${confirm}`,
    '--restore-uri',
    backupUri,
  ];
}

beforeAll(async () => {
  dir = tempDir('restore-neo4j-e2e-');
  [s3, neo4j] = await Promise.all([
    startSandboxS3({ directory: join(dir, 's3') }),
    startNeo4jStandIn({ directory: join(dir, 'neo4j') }),
  ]);
  env = {
    ...s3.env,
    ...neo4j.env,
    NEO4J_S3_PREFIX: 'neo4j/',
    DATABASES: 'neo4j',
    PATH: `${NEO4J_STANDIN_BIN_DIR}:${process.env.PATH ?? ''}`,
    HOME: process.env.HOME ?? '/root',
  };
  await cypher('UNWIND range(1, 50) AS i CREATE (:Person {id: i})');
  await cypher("MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime()");
  expect(await nodeCount()).toBe('51');
  const backup = await execa('bash', ['ops/db/backup-jobs/scripts/neo4j-backup.sh'], {
    env,
    extendEnv: false,
    reject: false,
  });
  expect(backup.exitCode, String(backup.stderr)).toBe(0);
  backupUri = /^object=(\S+)$/m.exec(String(backup.stdout))?.[1] ?? '';
  expect(backupUri).toMatch(/^s3:\/\/.+\.backup\.tar\.gz$/);
  await cypher('MATCH (n:Person) DETACH DELETE n');
  expect(await nodeCount()).toBe('1');
});

afterAll(async () => {
  await Promise.all([s3?.stop(), neo4j?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('restore-neo4j (built CLI, real scripts, Neo4j stand-in)', () => {
  it('refuses the wrong --confirm with exit 3: nothing touched', async () => {
    const run = await runCli(args('wrong'), { env });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(3);
    expect(await nodeCount()).toBe('1');
    expect(journalText(run.sessionDir)).not.toContain('neo4j-restore.sh');
  }, 120_000);

  it('will not restore while the database is online, and says how to stop it', async () => {
    const run = await runCli(args('neo4j'), { env });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(run.stdout).toMatch(/database neo4j is online/);
    expect(run.stdout).toMatch(/STOP DATABASE `neo4j` WAIT.*neo4j stop/s);
    expect(await nodeCount()).toBe('1');
    expect(journalText(run.sessionDir)).not.toContain('neo4j-restore.sh');
  }, 120_000);

  it('restores a stopped database, starts it and verifies it (stand-in, and says so)', async () => {
    await cypher('STOP DATABASE `neo4j` WAIT', 'system');
    const run = await runCli(args('neo4j'), { env });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/stand-in/);
    expect(run.stdout).toMatch(/✓ MATCH \(n\) RETURN count\(n\) +51 node\(s\)/);
    expect(run.stdout).toMatch(/✓ MATCH \(n:BackupValidation\) +synthetic/);
    expect(await nodeCount()).toBe('51');
    const calls = await neo4j.calls();
    expect(calls.some((call) => call.command.includes('database load'))).toBe(true);
    const events = journalEvents(run.sessionDir);
    expect(events.filter((e) => e.type === 'mark').map((e) => e.name)).toEqual([
      'incident-declared',
      'restore-started',
      'download-done',
      'restore-done',
      'recovery-point',
      'validated',
    ]);
    expect(journalText(run.sessionDir)).not.toContain(neo4j.env.NEO4J_PASSWORD);
  }, 120_000);
});
