// prerequisites.restore-verify: the grants the daily postgres-restore-verify Job needs, asked of a real PostgreSQL
// before its first scheduled run fails on them. Read-only.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxPostgres, type SandboxPostgres } from '../../src/sandbox/postgres.js';
import { runCli } from '../support/cli.js';
import { psqlScript } from '../support/psql.js';
import { tempDir } from '../support/temp.js';

let pg: SandboxPostgres;

beforeAll(async () => {
  pg = await startSandboxPostgres({
    directory: join(tempDir('db-runbook-verify-grants-'), 'pg'),
    database: 'shop',
  });
  await psqlScript(
    pg,
    'shop',
    `CREATE ROLE shop_owner;
     CREATE ROLE backup_user LOGIN PASSWORD 'backup-secret';
     CREATE SCHEMA shop AUTHORIZATION shop_owner;
     CREATE TABLE shop.orders (id int);
     ALTER TABLE shop.orders OWNER TO shop_owner;
     GRANT SELECT ON shop.orders TO backup_user;
     GRANT USAGE ON SCHEMA shop TO backup_user;
     CREATE DATABASE shop_verify;`,
  );
}, 120_000);

afterAll(async () => {
  await pg?.stop();
});

function cliEnv(user: string, password: string): Record<string, string> {
  return {
    DATABASES: 'postgres',
    POSTGRES_HOST: pg.host,
    POSTGRES_PORT: String(pg.port),
    POSTGRES_DATABASE: 'shop',
    POSTGRES_USER: user,
    POSTGRES_PASSWORD: password,
  };
}

describe('db-runbook run prerequisites.restore-verify', () => {
  it('a user without CREATEDB, outside the owner roles, with the scratch name taken: three named failures and the fixes', async () => {
    const run = await runCli(['run', 'prerequisites.restore-verify', '--yes'], {
      env: cliEnv('backup_user', 'backup-secret'),
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/✗ may create the scratch database \(backup_user\)/);
    expect(run.stdout).toContain('ALTER ROLE backup_user CREATEDB');
    expect(run.stdout).toMatch(
      /✗ acts for the owner roles \(backup_user\)\s+not a member of app, shop_owner:/,
    );
    expect(run.stdout).toContain('GRANT app, shop_owner TO backup_user');
    expect(run.stdout).toMatch(
      /✗ shop_verify is free\s+a database shop_verify exists that the Job did not create/,
    );
    expect(run.stdout + run.stderr).not.toContain('backup-secret');
  });

  it('the server owner passes, once the scratch name is free', async () => {
    await psqlScript(pg, 'shop', 'DROP DATABASE shop_verify;');
    const run = await runCli(['run', 'prerequisites.restore-verify', '--yes'], {
      env: cliEnv(pg.user, pg.password),
    });
    expect(run.stdout).toMatch(/✓ may create the scratch database/);
    expect(run.stdout).toMatch(/✓ acts for the owner roles/);
    expect(run.stdout).toMatch(/✓ shop_verify is free\s+no such database/);
    expect(run.exitCode).toBe(0);
  });
});
