// dr-validation into an isolated target: the drill restores into a scratch database on ANOTHER, empty
// PostgreSQL server (DRILL_POSTGRES_HOST/PORT/USER/PASSWORD), whose roles come from the backup's globals
// object first; the validation proves owners, privileges and reads, and the report says which roles were
// created. The built CLI, two real PostgreSQL 15 servers, s3rver and the real scripts.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxPostgres, type SandboxPostgres } from '../../src/sandbox/postgres.js';
import { startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';
import { runCli } from '../support/cli.js';
import { psqlScript } from '../support/psql.js';

const CLUSTER_SQL = `
CREATE ROLE shop_owner LOGIN PASSWORD 'owner-secret';
CREATE ROLE shop_ro LOGIN PASSWORD 'ro-secret';
CREATE DATABASE shop OWNER shop_owner;
REVOKE CONNECT ON DATABASE shop FROM PUBLIC;
GRANT CONNECT ON DATABASE shop TO shop_ro;
ALTER DATABASE shop SET statement_timeout = '45s';
`;
const SHOP_SQL = `
SET ROLE shop_owner;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, name text NOT NULL);
GRANT USAGE ON SCHEMA shop TO shop_ro;
GRANT SELECT ON shop.customers TO shop_ro;
INSERT INTO shop.customers SELECT i, 'customer ' || i FROM generate_series(1, 30) i;
RESET ROLE;
`;

let env: BackupEnv;
let drill: SandboxPostgres;

const psql = psqlScript;

beforeAll(async () => {
  env = await startBackupEnv('drill-isolated', { seed: false });
  drill = await startSandboxPostgres({
    directory: join(env.dir, 'drill'),
    password: 'drill-secret',
    database: 'drills',
  });
  await psql(env.pg, 'postgres', CLUSTER_SQL);
  await psql(env.pg, 'shop', SHOP_SQL);
  const backup = await runScript('postgres-backup.sh', { env: env.jobEnv({ POSTGRES_DATABASE: 'shop' }) });
  expect(backup.code, backup.stderr).toBe(0);
}, SCRIPT_TIMEOUT_MS);

afterAll(async () => {
  await drill?.stop();
  await env?.stop();
});

describe('dr-validation into an isolated PostgreSQL server', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('creates the roles from the globals first, proves access on the drill server, leaves the source alone, and the report names the roles', async () => {
    const job = env.jobEnv({ POSTGRES_DATABASE: 'shop', DATABASES: 'postgres' });
    const cliEnv: Record<string, string> = {
      ...Object.fromEntries(
        Object.entries(job).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ),
      DRILL_POSTGRES_HOST: drill.host,
      DRILL_POSTGRES_PORT: String(drill.port),
      DRILL_POSTGRES_USER: drill.user,
      DRILL_POSTGRES_PASSWORD: drill.password,
    };
    const sourceBefore = await psql(
      env.pg,
      'postgres',
      "SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database",
    );
    const result = await runCli(['run', 'dr-validation', '--yes'], { env: cliEnv });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.exitCode, output).toBe(0);
    expect(output).toMatch(/shop_ro +grantee +MISSING/);
    expect(output).toContain("will create shop_owner, shop_ro from the backup's globals (no password)");
    expect(output).toMatch(
      /! roles on 127\.0\.0\.1:\d+ +created from the backup's globals, WITHOUT passwords: shop_owner, shop_ro/,
    );
    expect(output).toMatch(/✓ privileges per role as in the backup +\d+ fact\(s\) equal/);
    expect(output).toMatch(/✓ database owner, privileges and settings as in the backup/);
    expect(output).toMatch(/✓ SET ROLE shop_ro; SELECT … LIMIT 1 on 1 table\(s\) +reads all 1/);
    // the source server is as it was: no scratch database there
    expect(
      await psql(env.pg, 'postgres', "SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database"),
    ).toBe(sourceBefore);
    // on the drill server: the roles, without passwords; the scratch database was dropped at the end
    expect(
      await psql(
        drill,
        'postgres',
        "SELECT string_agg(rolname || ':' || (rolpassword IS NULL), ' ' ORDER BY rolname) FROM pg_authid WHERE rolname LIKE 'shop\\_%'",
      ),
    ).toBe('shop_owner:true shop_ro:true');
    expect(await psql(drill, 'postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop%'")).toBe(
      '0',
    );
    const report = await runCli(['report', '--format', 'markdown'], {
      env: cliEnv,
      sessionDir: result.sessionDir,
    });
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/roles created from the backup's globals: shop_owner, shop_ro/);
  });
});
