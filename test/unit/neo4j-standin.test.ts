// The Neo4j stand-in (src/sandbox/neo4j-standin): its executables check arguments against Neo4j 5's
// documented CLI, keep server state under NEO4J_HOME and talk to real TCP listeners.
import { accessSync, constants } from 'node:fs';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NEO4J_STANDIN_BIN_DIR,
  startNeo4jStandIn,
  type Neo4jStandIn,
} from '../../src/sandbox/neo4j-standin/index.js';
import { basePath, run, tempDir } from '../support/backup-jobs-run.js';

let dir: string;
let neo4j: Neo4jStandIn;
let env: Record<string, string>;

const shell = (args: string[], extra: Record<string, string> = {}, input?: string) =>
  run('cypher-shell', args, { env: { ...env, ...extra }, input });
const admin = (args: string[], extra: Record<string, string> = {}) =>
  run('neo4j-admin', args, { env: { ...env, ...extra } });
const server = (args: string[]) => run('neo4j', args, { env });

beforeAll(async () => {
  dir = await tempDir('neo4j-standin-unit');
  neo4j = await startNeo4jStandIn({ directory: dir });
  env = { ...neo4j.env, PATH: basePath(neo4j.binDir) };
});

afterAll(async () => {
  await neo4j?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the Neo4j stand-in', () => {
  it('ships executable neo4j-admin, cypher-shell and neo4j in NEO4J_STANDIN_BIN_DIR', () => {
    for (const name of ['neo4j-admin', 'cypher-shell', 'neo4j']) {
      expect(() => accessSync(join(NEO4J_STANDIN_BIN_DIR, name), constants.X_OK)).not.toThrow();
    }
    expect(neo4j.binDir).toBe(NEO4J_STANDIN_BIN_DIR);
  });

  it("cypher-shell runs the runbook's MERGE with credentials from the environment and reads the node back", async () => {
    const merge = await shell([
      '-a',
      `neo4j+s://127.0.0.1:${neo4j.boltPort}`,
      "MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime()",
    ]);
    expect(merge.stderr).toBe('');
    expect(merge.code).toBe(0);
    const read = await shell([
      '--format',
      'plain',
      "MATCH (n:BackupValidation {id: 'synthetic'}) RETURN n.id, n.checkedAt",
    ]);
    expect(read.code).toBe(0);
    const [header, row] = read.stdout.trim().split('\n');
    expect(header).toBe('n.id, n.checkedAt');
    expect(row).toMatch(/^"synthetic", \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const count = await shell(['--format', 'plain'], {}, 'MATCH (n) RETURN count(n);\n');
    expect(count.stdout).toBe('count(n)\n1\n');
  });

  it('cypher-shell refuses a wrong password and an unreachable address like Neo4j', async () => {
    const denied = await shell(['RETURN 1'], { NEO4J_PASSWORD: 'wrong' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('The client is unauthorized due to authentication failure.');
    const refused = await shell(['-a', 'neo4j://127.0.0.1:1', 'RETURN 1']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Unable to connect to 127.0.0.1:1');
    const wrongPort = await shell(['-a', `bolt://127.0.0.1:${neo4j.backupPort}`, 'RETURN 1']);
    expect(wrongPort.code).toBe(1);
    expect(wrongPort.stderr).toContain('Connection to the database terminated');
  });

  it("cypher-shell rejects unknown options with its usage and says 'not supported by the stand-in' for other Cypher", async () => {
    const badOption = await shell(['--bogus', 'RETURN 1']);
    expect(badOption.code).toBe(1);
    expect(badOption.stderr).toContain("cypher-shell: error: unrecognized arguments: '--bogus'");
    const badChoice = await shell(['--format', 'json', 'RETURN 1']);
    expect(badChoice.stderr).toContain("invalid choice: 'json'");
    const unsupported = await shell(['MATCH (a)-[r]->(b) RETURN r']);
    expect(unsupported.code).toBe(1);
    expect(unsupported.stderr).toContain('not supported by the db-runbook Neo4j stand-in');
  });

  it('SHOW DATABASES reflects STOP DATABASE … WAIT and START DATABASE … WAIT, and graph queries need an online database', async () => {
    const status = async () =>
      (await shell(['--format', 'plain', '-d', 'system', 'SHOW DATABASE neo4j YIELD name, currentStatus']))
        .stdout;
    expect(await status()).toBe('name, currentStatus\n"neo4j", "online"\n');
    expect((await shell(['-d', 'system', 'STOP DATABASE neo4j WAIT'])).code).toBe(0);
    expect(await status()).toBe('name, currentStatus\n"neo4j", "offline"\n');
    const unavailable = await shell(['MATCH (n) RETURN count(n)']);
    expect(unavailable.code).toBe(1);
    expect(unavailable.stderr).toContain("Database 'neo4j' is unavailable.");
    expect((await shell(['-d', 'system', 'START DATABASE neo4j WAIT'])).code).toBe(0);
    expect(await status()).toBe('name, currentStatus\n"neo4j", "online"\n');
    const all = await shell(['--format', 'plain', 'SHOW DATABASES']);
    expect(all.stdout.split('\n')[0]).toBe(
      'name, type, aliases, access, address, role, writer, requestedStatus, currentStatus, statusMessage, default, home, constituents',
    );
  });

  it('SHOW SETTINGS shows the backup listen address; a name with * matches nothing, as in Neo4j', async () => {
    const exact = await shell([
      '--format',
      'plain',
      "SHOW SETTINGS 'server.backup.listen_address' YIELD name, value",
    ]);
    expect(exact.stdout).toBe(
      `name, value\n"server.backup.listen_address", "127.0.0.1:${neo4j.backupPort}"\n`,
    );
    const prefix = await shell([
      '--format',
      'plain',
      "SHOW SETTINGS YIELD name, value WHERE name STARTS WITH 'server.backup.'",
    ]);
    expect(prefix.stdout).toContain('"server.backup.enabled", "true"');
    const glob = await shell(['--format', 'plain', "SHOW SETTINGS 'server.backup*'"]);
    expect(glob.code).toBe(0);
    expect(glob.stdout).toBe('name, value, isDynamic, defaultValue, description\n');
  });

  it('neo4j-admin rejects unknown options, invalid --type values and a missing --to-path with exit 64 and the usage', async () => {
    const unknown = await admin(['database', 'backup', '--bogus', '--to-path=/tmp', 'neo4j']);
    expect(unknown.code).toBe(64);
    expect(unknown.stderr).toContain("Unknown option: '--bogus'");
    expect(unknown.stderr).toContain('Usage: neo4j-admin database backup');
    const badType = await admin(['database', 'backup', '--type=INCREMENTAL', '--to-path=/tmp', 'neo4j']);
    expect(badType.code).toBe(64);
    expect(badType.stderr).toContain(
      "Invalid value for option '--type': expected one of [FULL, DIFF, AUTO] (case-insensitive) but was 'INCREMENTAL'",
    );
    const noPath = await admin(['database', 'backup', 'neo4j']);
    expect(noPath.code).toBe(64);
    expect(noPath.stderr).toContain("Missing required option: '--to-path=<path>'");
    const noFrom = await admin(['database', 'restore', 'neo4j']);
    expect(noFrom.code).toBe(64);
    expect(noFrom.stderr).toContain("Missing required option: '--from-path=<path>[,<path>...]'");
    const notSimulated = await admin(['database', 'check', 'neo4j']);
    expect(notSimulated.code).toBe(1);
    expect(notSimulated.stderr).toContain('does not simulate');
    const unknownCommand = await admin(['database', 'bakup']);
    expect(unknownCommand.code).toBe(64);
    expect(unknownCommand.stderr).toContain("Unmatched argument at index 1: 'bakup'");
  });

  it('neo4j-admin database backup writes a FULL then a DIFF artifact with contiguous transaction ranges', async () => {
    const backups = join(dir, 'backups');
    await mkdir(backups, { recursive: true });
    const from = `--from=127.0.0.1:${neo4j.backupPort}`;
    const full = await admin(['database', 'backup', from, `--to-path=${backups}`, '--type=FULL', 'neo4j']);
    expect(full.stderr).toBe('');
    expect(full.code).toBe(0);
    await shell(['UNWIND range(1, 5) AS i CREATE (:Item {id: i})']);
    const diff = await admin(['database', 'backup', from, `--to-path=${backups}`, '--type=DIFF', 'neo4j']);
    expect(diff.code).toBe(0);
    const files = (await readdir(backups)).sort();
    expect(files).toHaveLength(2);
    for (const f of files) expect(f).toMatch(/^neo4j-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.backup$/);
    const inspect = await admin(['database', 'backup', `--inspect-path=${backups}`]);
    const rows = inspect.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('|').map((c) => c.trim()));
    expect(rows.map((r) => r[5])).toEqual(['true', 'false']);
    const [fullRow, diffRow] = rows;
    expect(Number(diffRow![7])).toBe(Number(fullRow![8]) + 1);
  });

  it('neo4j-admin database backup fails like Neo4j when nothing listens on the backup port', async () => {
    const result = await admin(['database', 'backup', '--from=127.0.0.1:1', `--to-path=${dir}`, 'neo4j']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Unable to connect to 127.0.0.1:1: Connection refused');
    expect(result.stderr).toContain('server.backup.listen_address');
  });

  it('database restore of a differential replays its whole chain; load refuses differentials and online databases', async () => {
    const backups = join(dir, 'backups');
    const files = (await readdir(backups)).sort();
    const last = join(backups, files.at(-1)!);
    const online = await admin([
      'database',
      'restore',
      `--from-path=${last}`,
      '--overwrite-destination=true',
      'neo4j',
    ]);
    expect(online.code).toBe(1);
    expect(online.stderr).toContain("The database 'neo4j' is in use");
    await shell(['-d', 'system', 'STOP DATABASE neo4j WAIT']);
    const restored = await admin([
      'database',
      'restore',
      `--from-path=${last}`,
      '--overwrite-destination=true',
      'neo4j',
    ]);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const calls = await neo4j.calls();
    const restoreCall = calls.filter((c) => c.command === 'database restore').at(-1);
    expect(restoreCall?.chain).toEqual(files);
    expect(restoreCall?.types).toEqual(['FULL', 'DIFF']);

    const onlyDiff = join(dir, 'only-diff');
    await mkdir(onlyDiff);
    await copyFile(last, join(onlyDiff, files.at(-1)!));
    const broken = await admin([
      'database',
      'restore',
      `--from-path=${join(onlyDiff, files.at(-1)!)}`,
      '--overwrite-destination',
      'neo4j',
    ]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('Unable to find a complete backup chain');

    await copyFile(last, join(onlyDiff, 'neo4j.backup'));
    const loadDiff = await admin([
      'database',
      'load',
      `--from-path=${onlyDiff}`,
      '--overwrite-destination=true',
      'neo4j',
    ]);
    expect(loadDiff.code).toBe(1);
    expect(loadDiff.stderr).toContain('is a differential backup artifact');

    await shell(['-d', 'system', 'START DATABASE neo4j WAIT']);
    const count = await shell(['--format', 'plain', 'MATCH (n:Item) RETURN count(n) AS items']);
    expect(count.stdout).toBe('items\n5\n');
    const fullDir = join(dir, 'full');
    await mkdir(fullDir);
    await copyFile(join(backups, files[0]!), join(fullDir, 'neo4j.backup'));
    const loadOnline = await admin([
      'database',
      'load',
      `--from-path=${fullDir}`,
      '--overwrite-destination=true',
      'neo4j',
    ]);
    expect(loadOnline.code).toBe(1);
    expect(loadOnline.stderr).toContain('The database is in use');
  });

  it('neo4j status/stop/start: a stopped server refuses clients and its backup port', async () => {
    expect((await server(['status'])).code).toBe(0);
    expect((await server(['stop'])).stdout).toContain('stopped');
    const status = await server(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toBe('Neo4j is not running.\n');
    expect((await shell(['RETURN 1'])).stderr).toContain('Unable to connect');
    expect(
      (await admin(['database', 'backup', `--from=127.0.0.1:${neo4j.backupPort}`, `--to-path=${dir}`])).code,
    ).toBe(1);
    expect((await server(['start'])).stdout).toContain('Started neo4j');
    expect((await server(['status'])).code).toBe(0);
    expect((await server(['bogus'])).code).toBe(64);
  });
});
