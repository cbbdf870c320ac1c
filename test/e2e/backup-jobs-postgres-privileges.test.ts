// A restored database serves the application again: postgres-backup.sh keeps owners, privileges, default
// privileges and the database's own settings (in the dump and its globals object), postgres-restore.sh brings
// them back, on the same server and on an empty one. Real PostgreSQL 15 servers, s3rver, the real scripts.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalogFactsSql } from '../../src/adapters/backup-jobs-files.js';
import { compareFacts, describeDifference, parseFactLines, type Fact } from '../../src/runbook/privileges.js';
import { startSandboxPostgres, type SandboxPostgres } from '../../src/sandbox/postgres.js';
import { listKeys, startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { psqlScript } from '../support/psql.js';
import { BACKUP_JOBS_DIR, run, runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

/** The application's database: an owner role, an app role with grants on some tables, a read-only role. */
const CLUSTER_SQL = `
CREATE ROLE shop_owner LOGIN PASSWORD 'owner-secret';
CREATE ROLE shop_app LOGIN PASSWORD 'app-secret';
CREATE ROLE shop_ro LOGIN PASSWORD 'ro-secret';
CREATE DATABASE shop OWNER shop_owner;
REVOKE CONNECT ON DATABASE shop FROM PUBLIC;
GRANT CONNECT ON DATABASE shop TO shop_app, shop_ro;
ALTER DATABASE shop SET statement_timeout = '45s';
ALTER ROLE shop_ro IN DATABASE shop SET default_transaction_read_only = on;
`;
const SHOP_SQL = `
SET ROLE shop_owner;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE shop.orders (id int PRIMARY KEY, customer_id int REFERENCES shop.customers, total numeric(10,2));
CREATE TABLE shop.audit (id int, note text);
CREATE SEQUENCE shop.order_no;
CREATE VIEW shop.order_totals AS SELECT customer_id, sum(total) AS total FROM shop.orders GROUP BY customer_id;
GRANT USAGE ON SCHEMA shop TO shop_app, shop_ro;
GRANT SELECT, INSERT, UPDATE ON shop.customers, shop.orders TO shop_app;
GRANT USAGE ON SEQUENCE shop.order_no TO shop_app;
GRANT SELECT ON shop.customers, shop.orders, shop.order_totals TO shop_ro;
ALTER DEFAULT PRIVILEGES IN SCHEMA shop GRANT SELECT ON TABLES TO shop_ro;
INSERT INTO shop.customers SELECT i, 'customer ' || i FROM generate_series(1, 50) i;
INSERT INTO shop.orders SELECT i, 1 + i % 50, i * 1.5 FROM generate_series(1, 200) i;
RESET ROLE;
GRANT CREATE ON SCHEMA shop TO shop_app;
SET ROLE shop_app;
CREATE FUNCTION shop.customer_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM shop.customers $$;
RESET ROLE;
`;
/** What each application role could read before: it must read the same after every restore. */
const READS: Record<string, string[]> = {
  shop_app: ['shop.customers', 'shop.orders'],
  shop_ro: ['shop.customers', 'shop.orders', 'shop.order_totals'],
};

let env: BackupEnv;
let second: SandboxPostgres;
let backupUri: string;
let facts: Fact[];

interface Server {
  host: string;
  port: number;
  user: string;
  password: string;
}
const first = (): Server => ({
  host: env.pg.host,
  port: env.pg.port,
  user: env.pg.user,
  password: env.pg.password,
});
const other = (): Server => ({
  host: second.host,
  port: second.port,
  user: second.user,
  password: second.password,
});

const psql = psqlScript;

/** Owners, privileges, default privileges and settings of the shop database, as the validation reads them. */
async function factsOf(server: Server): Promise<Fact[]> {
  return parseFactLines(
    await psql(server, 'shop', readCatalogFactsSql(BACKUP_JOBS_DIR), { PGOPTIONS: '-c search_path=' }),
  );
}

/** Each role reads each table it could read before (SET ROLE, as the application connects). */
async function readsAs(server: Server, map: Record<string, string> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [role, tables] of Object.entries(READS))
    for (const table of tables)
      out[`${map[role] ?? role} ${table}`] = await psql(
        server,
        'shop',
        `SET ROLE "${map[role] ?? role}"; SELECT count(*) FROM ${table};`,
      ).catch((error: Error) => error.message.split('\n')[0] ?? 'error');
  return out;
}

const restore = (server: Server, extra: Record<string, string>) =>
  runScript('postgres-restore.sh', {
    env: env.jobEnv({
      POSTGRES_HOST: server.host,
      POSTGRES_PORT: String(server.port),
      POSTGRES_USER: server.user,
      POSTGRES_PASSWORD: server.password,
      POSTGRES_DATABASE: 'shop',
      RESTORE_S3_URI: backupUri,
      CLEAN_TARGET: 'true',
      ...extra,
    }),
  });

/** The second server back to empty: no shop database, no shop roles, a restoring user that is not superuser. */
async function resetSecond(): Promise<Server> {
  await psql(
    other(),
    'postgres',
    `DROP DATABASE IF EXISTS shop WITH (FORCE);
     DO $$ DECLARE r text; BEGIN
       FOR r IN SELECT rolname FROM pg_roles WHERE rolname ~ '^(shop_|mapped_|restorer$)' LOOP
         EXECUTE format('DROP OWNED BY %I', r); EXECUTE format('DROP ROLE %I', r);
       END LOOP; END $$;
     CREATE ROLE restorer LOGIN CREATEDB CREATEROLE PASSWORD 'restorer-secret';`,
  );
  return { ...other(), user: 'restorer', password: 'restorer-secret' };
}

beforeAll(async () => {
  env = await startBackupEnv('pg-privileges', { seed: false });
  second = await startSandboxPostgres({
    directory: join(env.dir, 'second'),
    password: 'second-secret',
    database: 'other',
  });
  await psql(first(), 'postgres', CLUSTER_SQL);
  await psql(first(), 'shop', SHOP_SQL);
  facts = await factsOf(first());
  const backup = await runScript('postgres-backup.sh', { env: env.jobEnv({ POSTGRES_DATABASE: 'shop' }) });
  expect(backup.code, backup.stderr).toBe(0);
  backupUri = /^object=(.*)$/m.exec(backup.stdout)![1]!;
}, SCRIPT_TIMEOUT_MS);

afterAll(async () => {
  await second?.stop();
  await env?.stop();
});

describe('owners, privileges, roles and database settings come back', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('the backup keeps them: owners and grants in the dump, roles without passwords in the globals object', async () => {
    const globalsKey = new URL(backupUri).pathname.slice(1).replace(/\.sql\.gz$/, '.globals.sql.gz');
    expect(await listKeys(env, 'postgres/')).toContain(globalsKey);
    const globals = await run(
      'bash',
      ['-c', `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "s3://$S3_BUCKET/${globalsKey}" - | gunzip`],
      {
        env: env.jobEnv(),
      },
    );
    expect(globals.stdout).toContain('CREATE ROLE shop_ro;');
    expect(globals.stdout).toContain('ALTER DATABASE __DB_RUNBOOK_DATABASE__ SET statement_timeout TO');
    expect(globals.stdout).not.toMatch(/PASSWORD|SCRAM-SHA-256|owner-secret|ro-secret/);
    const dump = await run(
      'bash',
      ['-c', `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "${backupUri}" - | gunzip`],
      {
        env: env.jobEnv(),
      },
    );
    expect(dump.stdout).toContain('ALTER TABLE shop.orders OWNER TO shop_owner;');
    expect(dump.stdout).toContain('GRANT SELECT ON TABLE shop.order_totals TO shop_ro;');
  });

  it('CLEAN restore on the same server: every owner, grant, default privilege and setting is as before, and each role reads its tables', async () => {
    // damage what a restore must bring back: an owner, a grant, the database's setting and its ACL
    await psql(
      first(),
      'shop',
      'ALTER TABLE shop.orders OWNER TO app; REVOKE SELECT ON shop.customers FROM shop_ro;',
    );
    await psql(
      first(),
      'postgres',
      'ALTER DATABASE shop RESET statement_timeout; GRANT CONNECT ON DATABASE shop TO PUBLIC;',
    );
    expect(compareFacts(facts, await factsOf(first()))).not.toEqual([]);
    const result = await restore(first(), {});
    expect(result.code, result.stderr).toBe(0);
    expect(compareFacts(facts, await factsOf(first())).map(describeDifference)).toEqual([]);
    expect(Object.values(await readsAs(first())).every((count) => /^\d+$/.test(count))).toBe(true);
    expect(result.stdout).toContain('privileges=kept');
  });

  it('into a second, empty server: the roles are created from the globals object without passwords, then everything is equal', async () => {
    await resetSecond();
    // as its superuser: giving a role objects needs that role to have CREATE on the schema at that point of the
    // dump (PostgreSQL's rule for ALTER … OWNER TO), which only a superuser is exempt from
    const result = await restore(other(), { CREATE_MISSING_ROLES: 'true' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('roles_created=shop_app,shop_owner,shop_ro');
    expect(result.stderr).toContain('WITHOUT passwords');
    expect(compareFacts(facts, await factsOf(other())).map(describeDifference)).toEqual([]);
    expect(await readsAs(other())).toEqual(await readsAs(first()));
    expect(
      await psql(
        other(),
        'postgres',
        "SELECT string_agg(rolname || ':' || (rolpassword IS NULL), ' ' ORDER BY rolname) FROM pg_authid WHERE rolname LIKE 'shop\\_%'",
      ),
    ).toBe('shop_app:true shop_owner:true shop_ro:true');
  });

  it('a role missing on the target: the preflight names each one and nothing is changed (exit 3)', async () => {
    const restorer = await resetSecond();
    const result = await restore(restorer, {});
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain('role(s) missing on');
    expect(result.stderr).toMatch(/shop_app +grantee,owner +missing +MISSING/);
    expect(result.stderr).toMatch(/shop_ro +grantee +missing +MISSING/);
    expect(result.stderr).toMatch(/shop_owner +grantee,owner +missing +MISSING/);
    expect(result.stderr).toContain('CREATE_MISSING_ROLES=true');
    expect(result.stderr).toContain('ROLE_MAP=old=new');
    expect(result.stderr).toContain('RESTORE_WITHOUT_PRIVILEGES=true');
    expect(
      await psql(other(), 'postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop%'"),
    ).toBe('0');
    expect(
      await psql(other(), 'postgres', "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'shop\\_%'"),
    ).toBe('0');
  });

  it('ROLE_MAP: the backup’s roles restored as existing roles, with their owners, grants and settings', async () => {
    const restorer = await resetSecond();
    await psql(
      other(),
      'postgres',
      'CREATE ROLE mapped_owner; CREATE ROLE mapped_app; CREATE ROLE mapped_ro; GRANT mapped_owner TO restorer;',
    );
    const map = { shop_owner: 'mapped_owner', shop_app: 'mapped_app', shop_ro: 'mapped_ro' };
    // the preflight: restorer may not act for mapped_app (it owns the function): named, nothing touched
    const refused = await restore(restorer, {
      ROLE_MAP: Object.entries(map)
        .map(([a, b]) => `${a}=${b}`)
        .join(','),
    });
    expect(refused.code, refused.stderr).toBe(3);
    expect(refused.stderr).toContain('restorer cannot act for the owner role(s) mapped_app');
    expect(
      await psql(other(), 'postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop%'"),
    ).toBe('0');
    const result = await restore(other(), {
      ROLE_MAP: Object.entries(map)
        .map(([a, b]) => `${a}=${b}`)
        .join(','),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('privileges=mapped');
    expect(compareFacts(facts, await factsOf(other()), map).map(describeDifference)).toEqual([]);
    expect(Object.values(await readsAs(other(), map)).every((count) => /^\d+$/.test(count))).toBe(true);
  });

  it('the override restores without owners and privileges, and says what was left out', async () => {
    const restorer = await resetSecond();
    const result = await restore(restorer, { RESTORE_WITHOUT_PRIVILEGES: 'true' });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('privileges=dropped');
    expect(result.stderr).toMatch(
      /restoring WITHOUT owners and privileges: 7 ownership\(s\), \d+ GRANT\/REVOKE\(s\) and 1 default privilege\(s\) of the dump are left out, and the database's owner, privileges and per-role settings; restorer owns everything/,
    );
    expect(
      await psql(
        other(),
        'shop',
        "SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class WHERE relnamespace = 'shop'::regnamespace",
      ),
    ).toBe('restorer');
    // the database's own setting is not a privilege: it comes back
    expect(await psql(other(), 'shop', 'SHOW statement_timeout')).toBe('45s');
  });
});
