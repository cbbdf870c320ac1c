import { describe, expect, it } from 'vitest';
import {
  classifyPrivilegeLine,
  compareFacts,
  describeDifference,
  parseFactLines,
  parseGlobals,
  parseReadNotices,
  parseRoleMap,
  readableTables,
  readAsRoleSql,
  roleMapEnv,
  type Fact,
} from '../../src/runbook/privileges.js';

describe('statements of a dump that name roles', () => {
  it.each([
    ['ALTER TABLE shop.orders OWNER TO app_owner;', 'owner', [['app_owner', 'owner']]],
    ['ALTER FUNCTION shop.f(i integer) OWNER TO "Weird ""Role""";', 'owner', [['Weird "Role"', 'owner']]],
    ['GRANT SELECT ON TABLE shop.orders TO app_ro;', 'grant', [['app_ro', 'grantee']]],
    [
      'GRANT SELECT,INSERT ON TABLE public."x TO y" TO "Weird Role" WITH GRANT OPTION;',
      'grant',
      [['Weird Role', 'grantee']],
    ],
    ['REVOKE ALL ON SCHEMA public FROM PUBLIC;', 'grant', []],
    [
      'ALTER DEFAULT PRIVILEGES FOR ROLE app_owner IN SCHEMA shop GRANT SELECT ON TABLES  TO app_ro;',
      'defaults',
      [
        ['app_owner', 'owner'],
        ['app_ro', 'grantee'],
      ],
    ],
  ])('%s', (line, kind, roles) => {
    const found = classifyPrivilegeLine(line);
    expect(found?.kind).toBe(kind);
    expect(found?.roles.map((role) => [role.name, role.use])).toEqual(roles);
  });

  it('ignores statements that name no role', () => {
    expect(
      classifyPrivilegeLine('ALTER TABLE ONLY shop.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (id);'),
    ).toBeUndefined();
    expect(classifyPrivilegeLine('SELECT 1;')).toBeUndefined();
  });
});

describe('--role-map', () => {
  it('reads old=new pairs, repeated or comma-separated, and names a bad one', () => {
    expect(parseRoleMap(['app_owner=new_owner', 'app_ro=ro,Weird Role=w'])).toEqual({
      map: { app_owner: 'new_owner', app_ro: 'ro', 'Weird Role': 'w' },
      problems: [],
    });
    expect(parseRoleMap('oops').problems).toEqual(['--role-map oops: use old=new']);
    expect(roleMapEnv({ a: 'b', c: 'd' })).toBe('a=b,c=d');
  });
});

const GLOBALS = `-- db-runbook globals of database shopdb on h:5432, recovery point x (format 1)
-- section: roles (pg_dumpall --globals-only --no-role-passwords: roles and memberships, never passwords)
CREATE ROLE "Weird Role";
ALTER ROLE "Weird Role" WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB NOLOGIN NOREPLICATION NOBYPASSRLS;
CREATE ROLE app_owner;
-- section: database (statements for the restored database; __DB_RUNBOOK_DATABASE__ is its name)
ALTER DATABASE __DB_RUNBOOK_DATABASE__ OWNER TO app_owner;
ALTER DATABASE __DB_RUNBOOK_DATABASE__ SET statement_timeout TO '30s';
-- section: facts (owners, privileges, default privileges and settings, compared after a restore)
-- fact {"fact" : "owner", "kind" : "table", "object" : "shop.orders", "role" : "app_owner"}
-- fact {"fact" : "privileges", "kind" : "table", "object" : "shop.orders", "role" : "app_ro", "privileges" : "SELECT"}
-- fact {"fact" : "database setting", "role" : "", "setting" : "statement_timeout=30s"}
-- end of db-runbook globals
`;

describe('the globals object', () => {
  it('gives the roles it can create, the database statements and the facts', () => {
    const globals = parseGlobals(GLOBALS);
    expect(globals.roles).toEqual(['Weird Role', 'app_owner']);
    expect(globals.databaseStatements).toHaveLength(2);
    expect(globals.facts.map((fact) => fact.fact)).toEqual(['owner', 'privileges', 'database setting']);
    expect(globals.problems).toEqual([]);
  });
});

describe('comparing the backup with the restored database', () => {
  const backup = parseGlobals(GLOBALS).facts;

  it('equal facts: nothing differs', () => {
    expect(compareFacts(backup, [...backup].reverse())).toEqual([]);
  });

  it('names the role and the object of each difference: an owner changed, a grant lost, a setting gone', () => {
    const restored = parseFactLines(
      '{"fact" : "owner", "kind" : "table", "object" : "shop.orders", "role" : "postgres"}\n',
    );
    expect(compareFacts(backup, restored).map(describeDifference)).toEqual([
      'owner of table shop.orders: app_owner in the backup, postgres now',
      'privileges of app_ro on table shop.orders: SELECT in the backup, missing now',
      'setting statement_timeout of the database: 30s in the backup, missing now',
    ]);
  });

  it('with --role-map the backup’s roles are expected under their new names', () => {
    const restored: Fact[] = [
      { fact: 'owner', kind: 'table', object: 'shop.orders', role: 'new_owner' },
      { fact: 'privileges', kind: 'table', object: 'shop.orders', role: 'ro', privileges: 'SELECT' },
      { fact: 'database setting', role: '', setting: 'statement_timeout=30s' },
    ];
    expect(compareFacts(backup, restored, { app_owner: 'new_owner', app_ro: 'ro' })).toEqual([]);
  });
});

describe('reading as the application', () => {
  it('lists per role the tables and views it could SELECT in the backup', () => {
    const facts: Fact[] = [
      { fact: 'privileges', kind: 'table', object: 'shop.orders', role: 'app_ro', privileges: 'SELECT' },
      { fact: 'privileges', kind: 'view', object: 'shop.v', role: 'app_ro', privileges: 'SELECT*' },
      { fact: 'privileges', kind: 'table', object: 'shop.secret', role: 'app_rw', privileges: 'INSERT' },
      { fact: 'privileges', kind: 'sequence', object: 'shop.s', role: 'app_ro', privileges: 'SELECT,USAGE' },
      { fact: 'privileges', kind: 'table', object: 'shop.orders', role: 'PUBLIC', privileges: 'SELECT' },
    ];
    expect([...readableTables(facts)]).toEqual([['app_ro', ['shop.orders', 'shop.v']]]);
  });

  it('tries each table in a read-only transaction as the role, and reads the answers', () => {
    const sql = readAsRoleSql('app "ro"', ['shop.orders', `shop."it's"`]);
    expect(sql).toContain('BEGIN TRANSACTION READ ONLY;');
    expect(sql).toContain('SET LOCAL ROLE "app ""ro""";');
    expect(sql).toContain(`ARRAY['shop.orders', 'shop."it''s"']::text[]`);
    const notices = [
      'psql:<stdin>:15: NOTICE:  db-runbook-read ok shop.orders',
      `psql:<stdin>:15: NOTICE:  db-runbook-read denied shop."it's" permission denied for schema shop`,
    ].join('\n');
    expect(parseReadNotices(notices, ['shop.orders', `shop."it's"`])).toEqual({
      ok: ['shop.orders'],
      denied: [{ table: `shop."it's"`, error: 'permission denied for schema shop' }],
    });
  });
});
