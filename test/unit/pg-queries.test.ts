import { describe, expect, it } from 'vitest';
import {
  checkExpectation,
  firstValue,
  markerRowsSql,
  MARKER_TABLE_EXISTS_SQL,
  parseCopyHeader,
  parseMarkerRows,
  parseRowCounts,
  parseSessions,
  parseValidationQueries,
  qualifiedName,
  quoteIdent,
  quoteLiteral,
  readOnlyScript,
  splitStatements,
  validationQueryProblem,
  ROW_COUNTS_SQL,
  sessionsSql,
  describeSession,
  likePrefix,
  parseNames,
  scratchDatabasesSql,
} from '../../src/runbook/pg-queries.js';

describe('quoting', () => {
  it('always double-quotes identifiers and doubles embedded quotes', () => {
    expect(quoteIdent('orders')).toBe('"orders"');
    expect(quoteIdent('Order "Items"')).toBe('"Order ""Items"""');
    expect(qualifiedName('public', 'a"b')).toBe('"public"."a""b"');
    expect(() => quoteIdent('a\u0000b')).toThrow(/NUL/);
  });

  it('quotes literals so a name cannot end the string', () => {
    expect(quoteLiteral("app'; DROP DATABASE app; --")).toBe("'app''; DROP DATABASE app; --'");
    expect(quoteLiteral('a\\b')).toBe("E'a\\\\b'");
  });

  it('puts the database name into pg_stat_activity as a literal', () => {
    const sql = sessionsSql("shop'x");
    expect(sql).toContain("WHERE datname = 'shop''x' AND pid <> pg_backend_pid()");
    expect(sql).toContain("backend_type = 'client backend'");
  });

  it('builds per-table counts server-side with %I and marker queries on the quoted table', () => {
    expect(ROW_COUNTS_SQL).toContain("format('SELECT count(*) AS n FROM ONLY %I.%I', n.nspname, c.relname)");
    expect(ROW_COUNTS_SQL).toContain("c.relkind = 'r'");
    expect(MARKER_TABLE_EXISTS_SQL).toBe(`SELECT to_regclass('"public"."backup_validation"') IS NOT NULL;`);
    expect(markerRowsSql(3)).toContain('FROM "public"."backup_validation" ORDER BY id DESC LIMIT 3');
  });

  it('finds the new and the previous databases an interrupted restore left, with a literal LIKE prefix', () => {
    expect(likePrefix('a_b%c\\d')).toBe('a\\_b\\%c\\\\d%');
    // E'' form: the backslashes reach LIKE as its escape character, whatever standard_conforming_strings says.
    expect(scratchDatabasesSql('shop_eu')).toContain("WHERE datname LIKE E'shop\\\\_eu\\\\_restore\\\\_%'");
    expect(scratchDatabasesSql('shop_eu')).toContain(
      "OR datname LIKE E'shop\\\\_eu\\\\_pre\\\\_restore\\\\_%'",
    );
    // postgres-restore.sh keeps the first 34 characters of the target's name
    expect(scratchDatabasesSql('x'.repeat(50))).toContain(`LIKE E'${'x'.repeat(34)}\\\\_restore\\\\_%'`);
    expect(parseNames('["shop_restore_12"]')).toEqual(['shop_restore_12']);
  });

  it('runs an operator query read-only and rolled back, its snapshot taken before it', () => {
    expect(readOnlyScript('SELECT count(*) FROM orders;  ')).toBe(
      'BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT 1 AS db_runbook_snapshot \\gset\nSELECT count(*) FROM orders;\nROLLBACK;\n',
    );
  });

  it('refuses a validation query that is not one read-only statement, and says why', () => {
    expect(validationQueryProblem('SELECT 1; COMMIT; CREATE TABLE pwned (id int)')).toBe(
      'it holds 3 statements: a check is one read-only statement (split it into several checks)',
    );
    expect(validationQueryProblem('COMMIT')).toMatch(/^it starts with COMMIT/);
    expect(validationQueryProblem('set transaction read write')).toMatch(/^it starts with SET/);
    expect(validationQueryProblem("COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'")).toMatch(
      /^it starts with COPY/,
    );
    expect(validationQueryProblem('SELECT 1 \\! touch /tmp/x')).toMatch(/psql meta-command \(\\! touch/);
    expect(validationQueryProblem('SELECT 1;')).toBeUndefined();
    expect(() => readOnlyScript('SELECT 1; DROP TABLE orders')).toThrow(/refused: it holds 2 statements/);
  });

  it('sees statements the way psql does: semicolons and backslashes inside quotes and comments do not count', () => {
    const sql = `-- a comment; with \\ and ;\nSELECT 'a;b''c\\', E'x\\'y;', "we;ird", $$ ; \\! $$, $t$ ;$$; $t$ /* c; /* nested; */ ; */ FROM t WHERE a = $1;`;
    expect(splitStatements(sql)).toEqual({ statements: [sql.slice(0, -1).trim()] });
    expect(validationQueryProblem(sql)).toBeUndefined();
    expect(splitStatements("SELECT 'open").unterminated).toBe('a string literal');
    expect(splitStatements('  ;; -- only comments\n').statements).toEqual([]);
  });
});

describe('parsing psql output', () => {
  it('reads sessions', () => {
    const sessions = parseSessions(
      '[{"pid" : 42, "user" : "app", "application" : "checkout", "client" : "10.0.0.5:5123", "state" : "idle in transaction", "since" : "2026-01-01T00:00:00Z"}]\n',
    );
    expect(sessions).toEqual([
      {
        pid: 42,
        user: 'app',
        application: 'checkout',
        client: '10.0.0.5:5123',
        state: 'idle in transaction',
        since: '2026-01-01T00:00:00Z',
      },
    ]);
    expect(describeSession(sessions[0]!)).toBe('app · checkout · 10.0.0.5:5123 · idle in transaction');
    expect(
      describeSession({ pid: 1, user: null, application: '', client: null, state: null, since: null }),
    ).toBe('? · (no application_name) · ? · ?');
    expect(parseSessions('[]')).toEqual([]);
    expect(() => parseSessions('')).toThrow(/nothing/);
    expect(() => parseSessions('ERROR')).toThrow(/not JSON/);
  });

  it('reads row counts and marker rows', () => {
    const counts = parseRowCounts('[["public","customers",200], ["sales","Order Items",3]]');
    expect([...counts]).toEqual([
      ['public.customers', 200],
      ['sales.Order Items', 3],
    ]);
    expect(parseMarkerRows('{"count" : 2, "latest" : [{"id" : 2, "note" : "x"}]}')).toEqual({
      count: 2,
      latest: [{ id: 2, note: 'x' }],
    });
    expect(firstValue('42|x\n7|y\n')).toBe('42');
    expect(firstValue('')).toBeUndefined();
  });
});

describe('validation queries from the values file', () => {
  it('reads {name, sql, expect?} and reports bad entries', () => {
    const parsed = parseValidationQueries([
      { name: 'orders', sql: 'SELECT count(*) FROM orders', expect: '>= 1000' },
      { sql: 'SELECT 1' },
      { name: 'broken' },
      { name: 'bad expect', sql: 'SELECT 1', expect: { min: 1 } },
    ]);
    expect(parsed.queries).toEqual([
      { name: 'orders', sql: 'SELECT count(*) FROM orders', expect: '>= 1000' },
      { name: 'query 2', sql: 'SELECT 1' },
    ]);
    expect(parsed.problems).toEqual([
      'validationQueries[2] (broken) has no sql',
      'validationQueries[3] expect must be a string, number or boolean',
    ]);
    expect(parseValidationQueries(undefined)).toEqual({ queries: [], problems: [] });
    expect(parseValidationQueries('SELECT 1').problems[0]).toMatch(/must be a list/);
  });

  it.each([
    ['1000', '>= 1000', true],
    ['999', '>= 1000', false],
    ['3', '>0', true],
    ['0', '!=0', false],
    ['abc', '>0', false],
    ['200', 200, true],
    ['t', true, true],
    ['f', true, false],
    ['ok', 'ok', true],
    [undefined, 1, false],
    [undefined, undefined, true],
  ] as const)('%j against %j → %s', (actual, expectValue, ok) => {
    expect(checkExpectation(actual, expectValue).ok).toBe(ok);
  });
});

describe('COPY headers of a plain pg_dump', () => {
  it('parses COPY headers with quoted identifiers', () => {
    expect(parseCopyHeader('COPY public.customers (id, name) FROM stdin;')).toEqual({
      schema: 'public',
      table: 'customers',
    });
    expect(parseCopyHeader('COPY sales."Order ""Items""" (id) FROM stdin;')).toEqual({
      schema: 'sales',
      table: 'Order "Items"',
    });
    expect(parseCopyHeader('COPY public.t FROM stdin;')).toEqual({ schema: 'public', table: 't' });
    expect(parseCopyHeader('-- COPY public.t FROM stdin;')).toBeUndefined();
  });
});
