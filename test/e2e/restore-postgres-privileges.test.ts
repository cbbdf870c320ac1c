// restore-postgres (the built CLI, host mode) on a database whose application roles matter: the roles
// preflight before anything is touched, --role-map, the typed override and what the report records, and a
// validation that proves access (owners, privileges, settings, SET ROLE reads), not just rows. Real
// PostgreSQL 15 and s3rver; the real postgres-backup.sh / postgres-restore.sh.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listKeys, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { basePath, run, runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';
import { journalEvents, runCli, startCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const CLUSTER_SQL = `
CREATE ROLE shop_owner LOGIN;
CREATE ROLE shop_app LOGIN;
CREATE ROLE shop_ro LOGIN;
CREATE DATABASE shop OWNER shop_owner;
REVOKE CONNECT ON DATABASE shop FROM PUBLIC;
GRANT CONNECT ON DATABASE shop TO shop_app, shop_ro;
ALTER DATABASE shop SET statement_timeout = '45s';
`;
const SHOP_SQL = `
SET ROLE shop_owner;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int REFERENCES shop.customers, total numeric(10,2));
GRANT USAGE ON SCHEMA shop TO shop_app, shop_ro;
GRANT SELECT, INSERT, UPDATE ON shop.customers, shop.orders TO shop_app;
GRANT SELECT ON shop.customers, shop.orders TO shop_ro;
ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO shop_ro;
INSERT INTO shop.customers SELECT i, 'customer ' || i FROM generate_series(1, 20) i;
INSERT INTO shop.orders SELECT i, 1 + i % 20, i * 2.5 FROM generate_series(1, 60) i;
RESET ROLE;
`;

let env: BackupEnv;
let backupUri: string;
let cliEnv: Record<string, string>;

async function psql(database: string, sql: string): Promise<string> {
  const result = await run(
    'psql',
    [
      '-X',
      '-A',
      '-t',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      env.pg.host,
      '-p',
      String(env.pg.port),
      '-U',
      env.pg.user,
      '-d',
      database,
    ],
    { env: { PGPASSWORD: env.pg.password, PATH: basePath() }, input: sql },
  );
  if (result.code !== 0) throw new Error(`psql failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** Rows, owners and grants of the shop tables: what "nothing changed" means here. */
const state = () =>
  psql(
    'shop',
    `SELECT string_agg(c.relname || ':' || pg_get_userbyid(c.relowner) || ':' || coalesce(c.relacl::text, '-') || ':' ||
       (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM shop.%I', c.relname), false, true, '')))[1]::text, ' ' ORDER BY c.relname)
     FROM pg_class c WHERE c.relnamespace = 'shop'::regnamespace AND c.relkind = 'r'`,
  );

const restoreArgs = (...extra: string[]) => [
  'run',
  'restore-postgres',
  '--yes',
  '--confirm',
  'shop',
  '--confirm',
  'drop shop',
  '--restore-uri',
  backupUri,
  ...extra,
];

beforeAll(async () => {
  env = await startBackupEnv('cli-privileges', { seed: false });
  await psql('postgres', CLUSTER_SQL);
  await psql('shop', SHOP_SQL);
  const backup = await runScript('postgres-backup.sh', { env: env.jobEnv({ POSTGRES_DATABASE: 'shop' }) });
  expect(backup.code, backup.stderr).toBe(0);
  backupUri = /^object=(.*)$/m.exec(backup.stdout)![1]!;
  expect(await listKeys(env, 'postgres/')).toContain(
    new URL(backupUri).pathname.slice(1).replace(/\.sql\.gz$/, '.globals.sql.gz'),
  );
  const job = env.jobEnv({ POSTGRES_DATABASE: 'shop' });
  cliEnv = Object.fromEntries(
    Object.entries(job).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}, SCRIPT_TIMEOUT_MS);

afterAll(async () => {
  await env?.stop();
});

describe('restore-postgres: roles and privileges', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('a role missing on the target: the roles preflight names it in a table and nothing is touched', async () => {
    await psql(
      'shop',
      'REVOKE ALL ON ALL TABLES IN SCHEMA shop FROM shop_ro; REVOKE USAGE ON SCHEMA shop FROM shop_ro;',
    );
    await psql(
      'shop',
      'ALTER DEFAULT PRIVILEGES FOR ROLE shop_owner IN SCHEMA shop REVOKE SELECT ON TABLES FROM shop_ro;',
    );
    await psql('postgres', 'REVOKE CONNECT ON DATABASE shop FROM shop_ro; DROP ROLE shop_ro;');
    const before = await state();
    const result = await runCli(restoreArgs(), { env: cliEnv });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.exitCode, output).toBe(1);
    expect(output).toMatch(/role +in the backup as +on the target +app may act for it/);
    expect(output).toMatch(/shop_ro +grantee +MISSING/);
    expect(output).toMatch(/STOPPED before anything was touched: role shop_ro does not exist on the target/);
    expect(output).toContain('--create-roles');
    expect(output).toContain('--role-map old=new');
    expect(await state()).toBe(before);
    const commands = journalEvents(result.sessionDir)
      .filter((event) => event.type === 'command')
      .map((event) => String(event.command));
    expect(
      commands.some(
        (command) => command.includes('postgres-restore.sh') || command.includes('postgres-backup.sh'),
      ),
    ).toBe(false);
    await psql('postgres', 'CREATE ROLE shop_ro LOGIN;');
  });

  it('validation proves access: a grant lost during the restore is a failed check naming the role and the table', async () => {
    const hookDir = tempDir('privileges-hook-');
    const child = startCli(restoreArgs(), {
      env: {
        ...cliEnv,
        DB_RUNBOOK_TEST_HOOK_PHASE: 'swap-after',
        DB_RUNBOOK_TEST_HOOK_SIGNAL: 'pause',
        DB_RUNBOOK_TEST_HOOK_DIR: hookDir,
      },
      sessionDir: tempDir('privileges-sessions-'),
    });
    const flag = join(hookDir, 'swap-after.reached');
    const deadline = Date.now() + 120_000;
    while (!existsSync(flag) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(flag)).toBe(true);
    // the restored database is in place: someone revokes a grant before the validation runs
    await psql('shop', 'REVOKE SELECT ON shop.orders FROM shop_ro;');
    rmSync(flag);
    const result = await child;
    const output = `${String(result.stdout)}\n${String(result.stderr)}`;
    expect(result.exitCode, output).toBe(1);
    expect(output).toMatch(
      /✓ owners of tables, sequences, views, functions and schemas as in the backup +\d+ fact\(s\) equal/,
    );
    expect(output).toMatch(
      /✗ privileges per role as in the backup +1 differ: privileges of shop_ro on table shop\.orders: SELECT in the backup, missing now/,
    );
    expect(output).toMatch(/✓ database owner, privileges and settings as in the backup/);
    expect(output).toMatch(
      /✗ SET ROLE shop_ro; SELECT … LIMIT 1 on 2 table\(s\) +shop\.orders: permission denied for table orders/,
    );
    expect(output).toMatch(/✓ SET ROLE shop_app; SELECT … LIMIT 1 on 2 table\(s\) +reads all 2/);
  });

  it('--role-map: the backup’s roles restored as existing roles; validation compares through the map', async () => {
    await psql('postgres', 'CREATE ROLE other_ro LOGIN;');
    const result = await runCli(restoreArgs('--role-map', 'shop_ro=other_ro'), { env: cliEnv });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.exitCode, output).toBe(0);
    expect(output).toMatch(/other_ro ← shop_ro +grantee +exists/);
    expect(output).toContain('roles mapped: shop_ro=other_ro');
    expect(await psql('shop', "SELECT has_table_privilege('other_ro', 'shop.orders', 'SELECT')")).toBe('t');
    expect(await psql('shop', "SELECT has_table_privilege('shop_ro', 'shop.orders', 'SELECT')")).toBe('f');
    expect(output).toMatch(
      /✓ privileges per role as in the backup +\d+ fact\(s\) equal \(roles mapped: shop_ro=other_ro\)/,
    );
  });

  it('the typed override restores without owners and privileges; the report records what was dropped', async () => {
    await psql('shop', 'DROP OWNED BY other_ro;');
    await psql('postgres', 'DROP OWNED BY other_ro; DROP ROLE other_ro;');
    await psql(
      'shop',
      'REVOKE ALL ON ALL TABLES IN SCHEMA shop FROM shop_ro; REVOKE USAGE ON SCHEMA shop FROM shop_ro;',
    );
    await psql(
      'shop',
      'ALTER DEFAULT PRIVILEGES FOR ROLE shop_owner IN SCHEMA shop REVOKE SELECT ON TABLES FROM shop_ro;',
    );
    await psql('postgres', 'REVOKE CONNECT ON DATABASE shop FROM shop_ro; DROP ROLE shop_ro;');
    const refused = await runCli(restoreArgs('--without-privileges'), { env: cliEnv });
    expect(refused.exitCode, refused.stderr).toBe(3);
    const result = await runCli(
      restoreArgs('--without-privileges', '--confirm', 'restore without owners and privileges'),
      { env: cliEnv },
    );
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.exitCode, output).toBe(0);
    expect(
      await psql(
        'shop',
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'shop.orders'::regclass",
      ),
    ).toBe('app');
    const report = await runCli(['report', '--format', 'markdown'], {
      env: cliEnv,
      sessionDir: result.sessionDir,
    });
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout).toMatch(
      /restore WITHOUT owners and privileges: \d+ ownership\(s\) \(owners shop_owner\)/,
    );
    expect(report.stdout).toMatch(/grantees shop_app, shop_ro/);
  });

  it('--create-roles: a role missing on the target is created from the backup’s globals, without a password, and reads its tables again', async () => {
    // the override above left shop_ro dropped
    expect(await psql('postgres', "SELECT count(*) FROM pg_roles WHERE rolname = 'shop_ro'")).toBe('0');
    const result = await runCli(restoreArgs('--create-roles'), { env: cliEnv });
    const output = `${result.stdout}\n${result.stderr}`;
    expect(result.exitCode, output).toBe(0);
    expect(output).toContain("will create shop_ro from the backup's globals (no password)");
    expect(output).toMatch(/roles created from the backup's globals, WITHOUT passwords: shop_ro/);
    expect(output).toMatch(/Set their passwords: ALTER ROLE … PASSWORD '…' \(shop_ro\)/);
    expect(
      await psql('postgres', "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'shop_ro'"),
    ).toBe('t');
    expect(output).toMatch(/✓ SET ROLE shop_ro; SELECT … LIMIT 1 on 2 table\(s\) +reads all 2/);
    expect(output).toMatch(/✓ privileges per role as in the backup/);
  });
});
