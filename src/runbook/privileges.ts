/**
 * Owners, privileges and roles of a PostgreSQL backup, and the proof that a restore kept them. Pure.
 *
 * - The dump names roles in one-line statements (outside COPY data): `ALTER … OWNER TO r;`,
 *   `GRANT … TO r;`, `REVOKE … FROM r;`, `ALTER DEFAULT PRIVILEGES FOR ROLE r … TO g;`. The integrity
 *   pass collects them (PrivilegeCollector) while it streams the dump; postgres-restore.sh reads them
 *   the same way (its awk `classify`).
 * - The globals object beside the dump (`<time>.globals.sql.gz`, written by postgres-backup.sh) holds the
 *   roles (pg_dumpall --globals-only --no-role-passwords), the database's own owner/privileges/settings
 *   and the catalog facts: one JSON object per owner, privilege set, default privilege and setting.
 *   After a restore the same query (catalog_facts_sql in scripts/lib-common.sh) runs on the restored
 *   database and the two are compared (compareFacts).
 */

// ---------------------------------------------------------------- statements that name roles

const IDENT = String.raw`("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
const OWNER = new RegExp(String.raw`^ALTER .* OWNER TO ${IDENT};$`);
const GRANTEE = new RegExp(String.raw` (?:TO|FROM) ${IDENT}(?: WITH GRANT OPTION)?;$`);
const DEFAULTS_ROLE = new RegExp(String.raw`^ALTER DEFAULT PRIVILEGES FOR ROLE ${IDENT} `);

/** `"Weird ""Role"""` → `Weird "Role"`; a bare name as is. */
export function unquoteIdent(token: string): string {
  return token.startsWith('"') ? token.slice(1, -1).replaceAll('""', '"') : token;
}

export type PrivilegeStatement = 'owner' | 'grant' | 'defaults';

export interface ClassifiedLine {
  kind: PrivilegeStatement;
  roles: { name: string; use: 'owner' | 'grantee' }[];
}

/** Whether a dump line is a statement that names roles, and which (PUBLIC is not a role). */
export function classifyPrivilegeLine(line: string): ClassifiedLine | undefined {
  const roles: ClassifiedLine['roles'] = [];
  const add = (token: string | undefined, use: 'owner' | 'grantee') => {
    if (token === undefined) return;
    const name = unquoteIdent(token);
    if (name !== 'PUBLIC') roles.push({ name, use });
  };
  if (line.startsWith('ALTER DEFAULT PRIVILEGES FOR ROLE ')) {
    add(DEFAULTS_ROLE.exec(line)?.[1], 'owner');
    add(GRANTEE.exec(line)?.[1], 'grantee');
    return { kind: 'defaults', roles };
  }
  if (line.startsWith('ALTER ')) {
    const owner = OWNER.exec(line);
    if (!owner) return undefined;
    add(owner[1], 'owner');
    return { kind: 'owner', roles };
  }
  if (line.startsWith('GRANT ') || line.startsWith('REVOKE ')) {
    const grantee = GRANTEE.exec(line);
    if (!grantee) return undefined;
    add(grantee[1], 'grantee');
    return { kind: 'grant', roles };
  }
  return undefined;
}

export interface DumpPrivileges {
  /** Roles that own objects (the restoring user must be able to act for them). */
  owners: string[];
  /** Roles that hold privileges (they must exist). */
  grantees: string[];
  /** Statements of each kind: what a restore without owners and privileges leaves out. */
  counts: Record<PrivilegeStatement, number>;
}

// ---------------------------------------------------------------- --role-map

export interface RoleMap {
  map: Record<string, string>;
  problems: string[];
}

/** `old=new[,old2=new2]`, given once or several times (`--role-map a=b --role-map c=d`). */
export function parseRoleMap(given: string | readonly string[] | undefined): RoleMap {
  const map: Record<string, string> = {};
  const problems: string[] = [];
  const items = (typeof given === 'string' ? [given] : (given ?? [])).flatMap((text) => text.split(','));
  for (const item of items) {
    if (item.trim() === '') continue;
    const match = /^([^=]+)=([^=]+)$/.exec(item);
    if (!match?.[1] || !match[2]) {
      problems.push(`--role-map ${item}: use old=new`);
      continue;
    }
    map[match[1]] = match[2];
  }
  return { map, problems };
}

/** ROLE_MAP for postgres-restore.sh. */
export function roleMapEnv(map: Readonly<Record<string, string>>): string {
  return Object.entries(map)
    .map(([from, to]) => `${from}=${to}`)
    .join(',');
}

// ---------------------------------------------------------------- the globals object

export type Fact =
  | { fact: 'owner'; kind: string; object: string; role: string }
  | { fact: 'privileges'; kind: string; object: string; role: string; privileges: string }
  | {
      fact: 'default privileges';
      role: string;
      schema: string;
      on: string;
      grantee: string;
      privileges: string;
    }
  | { fact: 'database owner'; role: string }
  | { fact: 'database privileges'; role: string; privileges: string }
  | { fact: 'database connection limit'; limit: number }
  | { fact: 'database setting'; role: string; setting: string };

export interface Globals {
  /** Roles the globals can create (`CREATE ROLE` in its roles section). */
  roles: string[];
  /** Statements for the restored database (owner, privileges, settings). */
  databaseStatements: string[];
  facts: Fact[];
  problems: string[];
}

/**
 * The roles a dump names, as the backup's catalog facts record them (same snapshot as the dump): owners of
 * objects and of default privileges, and grantees. Known before the dump is read.
 */
export function privilegesFromFacts(facts: readonly Fact[]): DumpPrivileges {
  const owners = new Set<string>();
  const grantees = new Set<string>();
  const counts: Record<PrivilegeStatement, number> = { owner: 0, grant: 0, defaults: 0 };
  // pg_* roles are built in (pg_database_owner owns schema public): they always exist and are never in a dump
  const named = (role: string) => role !== '' && role !== 'PUBLIC' && !role.startsWith('pg_');
  const ownerOf = new Map<string, string>();
  for (const fact of facts) if (fact.fact === 'owner') ownerOf.set(`${fact.kind} ${fact.object}`, fact.role);
  for (const fact of facts) {
    if (fact.fact === 'owner') {
      counts.owner++;
      if (named(fact.role)) owners.add(fact.role);
    } else if (fact.fact === 'privileges') {
      // an owner's own privileges are implicit: pg_dump writes no GRANT for them
      if (ownerOf.get(`${fact.kind} ${fact.object}`) === fact.role) continue;
      counts.grant++;
      if (named(fact.role)) grantees.add(fact.role);
    } else if (fact.fact === 'default privileges') {
      counts.defaults++;
      if (named(fact.role)) owners.add(fact.role);
      if (named(fact.grantee)) grantees.add(fact.grantee);
    }
  }
  return { owners: [...owners].sort(), grantees: [...grantees].sort(), counts };
}

function isFact(value: unknown): value is Fact {
  return (
    typeof value === 'object' && value !== null && typeof (value as { fact?: unknown }).fact === 'string'
  );
}

/** Reads a globals object's text (see postgres-backup.sh). */
export function parseGlobals(text: string): Globals {
  const roles: string[] = [];
  const databaseStatements: string[] = [];
  const facts: Fact[] = [];
  const problems: string[] = [];
  let section = '';
  const createRole = new RegExp(String.raw`^CREATE ROLE ${IDENT};$`);
  text.split('\n').forEach((line, index) => {
    const marker = /^-- section: (\w+)/.exec(line);
    if (marker?.[1]) {
      section = marker[1];
      return;
    }
    if (line.startsWith('-- end of db-runbook globals')) {
      section = '';
      return;
    }
    if (section === 'roles') {
      const created = createRole.exec(line);
      if (created?.[1]) roles.push(unquoteIdent(created[1]));
    } else if (section === 'database') {
      if (line.trim() !== '') databaseStatements.push(line);
    } else if (section === 'facts' && line.startsWith('-- fact ')) {
      try {
        const parsed: unknown = JSON.parse(line.slice('-- fact '.length));
        if (isFact(parsed)) facts.push(parsed);
        else problems.push(`line ${index + 1}: not a fact`);
      } catch {
        problems.push(`line ${index + 1}: not JSON`);
      }
    }
  });
  return { roles, databaseStatements, facts, problems };
}

/** Facts parsed from psql's output of catalog_facts_sql (one JSON object per line). */
export function parseFactLines(stdout: string): Fact[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as unknown)
    .filter(isFact);
}

// ---------------------------------------------------------------- comparing

function mapRole(role: string, map: Readonly<Record<string, string>>): string {
  return map[role] ?? role;
}

/** The fact with its roles mapped (what the backup's fact becomes on a target restored with --role-map). */
export function mapFact(fact: Fact, map: Readonly<Record<string, string>>): Fact {
  switch (fact.fact) {
    case 'default privileges':
      return { ...fact, role: mapRole(fact.role, map), grantee: mapRole(fact.grantee, map) };
    case 'database connection limit':
      return fact;
    default:
      return { ...fact, role: mapRole(fact.role, map) } as Fact;
  }
}

/** What a fact is about, without its value: facts with the same subject are compared. */
export function factSubject(fact: Fact): string {
  switch (fact.fact) {
    case 'owner':
      return `owner of ${fact.kind} ${fact.object}`;
    case 'privileges':
      return `privileges of ${fact.role} on ${fact.kind} ${fact.object}`;
    case 'default privileges':
      return `default privileges of ${fact.role}${fact.schema ? ` in schema ${fact.schema}` : ''} on ${objectTypeName(fact.on)} for ${fact.grantee}`;
    case 'database owner':
      return 'owner of the database';
    case 'database privileges':
      return `privileges of ${fact.role} on the database`;
    case 'database connection limit':
      return 'connection limit of the database';
    case 'database setting':
      return `setting ${fact.setting.split('=')[0]} of the database${fact.role ? ` for ${fact.role}` : ''}`;
  }
}

/** The fact's value: `app_owner`, `SELECT,UPDATE`, `statement_timeout=30s`, `-1`. */
export function factValue(fact: Fact): string {
  switch (fact.fact) {
    case 'owner':
    case 'database owner':
      return fact.role;
    case 'privileges':
    case 'default privileges':
    case 'database privileges':
      return fact.privileges;
    case 'database connection limit':
      return String(fact.limit);
    case 'database setting':
      return fact.setting.slice(fact.setting.indexOf('=') + 1);
  }
}

function objectTypeName(code: string): string {
  return (
    ({ r: 'tables', S: 'sequences', f: 'functions', T: 'types', n: 'schemas' } as Record<string, string>)[
      code
    ] ?? code
  );
}

export type FactGroup = 'owners' | 'table privileges' | 'default privileges' | 'database';

export function factGroup(fact: Fact): FactGroup {
  if (fact.fact === 'owner') return 'owners';
  if (fact.fact === 'privileges') return 'table privileges';
  if (fact.fact === 'default privileges') return 'default privileges';
  return 'database';
}

export interface FactDifference {
  group: FactGroup;
  subject: string;
  /** In the backup (after --role-map). */
  expected?: string;
  /** On the restored database. */
  actual?: string;
}

/**
 * Compares the backup's facts (mapped through --role-map) with the restored database's. Facts about
 * roles the restore dropped on purpose are not expected (see the caller).
 */
export function compareFacts(
  backup: readonly Fact[],
  restored: readonly Fact[],
  map: Readonly<Record<string, string>> = {},
): FactDifference[] {
  const expected = new Map<string, Fact>();
  for (const fact of backup.map((item) => mapFact(item, map))) expected.set(factSubject(fact), fact);
  const actual = new Map<string, Fact>();
  for (const fact of restored) actual.set(factSubject(fact), fact);
  const differences: FactDifference[] = [];
  for (const [subject, fact] of expected) {
    const there = actual.get(subject);
    if (!there || factValue(there) !== factValue(fact))
      differences.push({
        group: factGroup(fact),
        subject,
        expected: factValue(fact),
        ...(there ? { actual: factValue(there) } : {}),
      });
  }
  for (const [subject, fact] of actual)
    if (!expected.has(subject))
      differences.push({ group: factGroup(fact), subject, actual: factValue(fact) });
  return differences;
}

/** `owner of table shop.orders: app_owner in the backup, postgres now`. */
export function describeDifference(difference: FactDifference): string {
  if (difference.expected === undefined)
    return `${difference.subject}: ${difference.actual} now, not in the backup`;
  if (difference.actual === undefined)
    return `${difference.subject}: ${difference.expected} in the backup, missing now`;
  return `${difference.subject}: ${difference.expected} in the backup, ${difference.actual} now`;
}

// ---------------------------------------------------------------- reading as the application

const READABLE_KINDS = new Set(['table', 'view', 'materialized view']);

/**
 * Per role, the tables and views it could SELECT in the backup (directly granted; PUBLIC and the
 * roles whose reads cannot be tried are left out by the caller), at most `limit` per role.
 */
export function readableTables(facts: readonly Fact[], limit = 200): Map<string, string[]> {
  const byRole = new Map<string, string[]>();
  for (const fact of facts) {
    if (fact.fact !== 'privileges' || !READABLE_KINDS.has(fact.kind) || fact.role === 'PUBLIC') continue;
    if (!fact.privileges.split(',').some((privilege) => privilege.replace('*', '') === 'SELECT')) continue;
    const tables = byRole.get(fact.role) ?? [];
    if (tables.length < limit) tables.push(fact.object);
    byRole.set(fact.role, tables);
  }
  return byRole;
}

/**
 * One read-only transaction as `role`: `SELECT 1 FROM <table> LIMIT 1` per table, each in its own
 * subtransaction, reported as NOTICE lines `db-runbook-read ok|denied <table> [<error>]` (the names are
 * the catalog's own quoted, qualified names). A DO block: nothing is created.
 */
export function readAsRoleSql(role: string, tables: readonly string[]): string {
  const list = tables.map((table) => `'${table.replaceAll("'", "''")}'`).join(', ');
  return [
    'BEGIN TRANSACTION READ ONLY;',
    `SET LOCAL ROLE "${role.replaceAll('"', '""')}";`,
    'DO $db_runbook$',
    'DECLARE t text;',
    'BEGIN',
    `  FOREACH t IN ARRAY ARRAY[${list}]::text[] LOOP`,
    '    BEGIN',
    "      EXECUTE 'SELECT 1 FROM ' || t || ' LIMIT 1';",
    "      RAISE NOTICE 'db-runbook-read ok %', t;",
    '    EXCEPTION WHEN OTHERS THEN',
    "      RAISE NOTICE 'db-runbook-read denied % %', t, SQLERRM;",
    '    END;',
    '  END LOOP;',
    'END',
    '$db_runbook$;',
    'ROLLBACK;',
    '',
  ].join('\n');
}

export interface ReadResult {
  ok: string[];
  denied: { table: string; error: string }[];
}

/** The NOTICE lines of readAsRoleSql (psql writes them on stderr). */
export function parseReadNotices(stderr: string, tables: readonly string[]): ReadResult {
  const ok: string[] = [];
  const denied: { table: string; error: string }[] = [];
  for (const line of stderr.split('\n')) {
    const notice = /db-runbook-read (ok|denied) (.*)$/.exec(line);
    if (!notice?.[2]) continue;
    const rest = notice[2];
    const table = tables.find((candidate) => rest === candidate || rest.startsWith(`${candidate} `));
    if (!table) continue;
    if (notice[1] === 'ok') ok.push(table);
    else denied.push({ table, error: rest.slice(table.length + 1) });
  }
  return { ok, denied };
}
