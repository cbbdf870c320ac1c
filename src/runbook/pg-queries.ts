/**
 * The SQL the restore section runs (as text, with identifiers and literals quoted properly), the
 * parsing of what psql prints for it, and the per-table row counts a plain pg_dump records in its
 * COPY blocks. Pure: no I/O.
 */

// ---------------------------------------------------------------- quoting

/** A PostgreSQL identifier, always double-quoted (`"Order ""Items"""`): safe for any name. */
export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new Error('an identifier cannot contain a NUL character');
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"`. */
export function qualifiedName(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/**
 * A string literal for standard_conforming_strings = on (the default since 9.1): quotes doubled,
 * backslashes literal. With a backslash in it, the E'' form is used so the meaning never depends
 * on the setting.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new Error('a string literal cannot contain a NUL character');
  const doubled = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${doubled.replaceAll('\\', '\\\\')}'` : `'${doubled}'`;
}

// ---------------------------------------------------------------- queries

/** psql flags for machine-readable output: no psqlrc, stop on error, unaligned, tuples only, quiet. */
export const PSQL_QUERY_FLAGS = ['-X', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-q'] as const;

/** Sessions connected to `database` now (not this one): one JSON array. */
export function sessionsSql(database: string): string {
  return [
    'SELECT coalesce(json_agg(json_build_object(',
    "  'pid', pid, 'user', usename, 'application', application_name,",
    "  'client', CASE WHEN client_addr IS NOT NULL THEN host(client_addr) || ':' || client_port",
    "                 WHEN client_port = -1 THEN 'local socket' ELSE NULL END,",
    "  'state', state, 'since', to_char(backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
    ") ORDER BY backend_start), '[]'::json)",
    'FROM pg_stat_activity',
    `WHERE datname = ${quoteLiteral(database)} AND pid <> pg_backend_pid()`,
    "  AND backend_type = 'client backend';",
  ].join('\n');
}

/**
 * Row counts of every ordinary table outside the system schemas, in one statement: the count query
 * for each table is built server-side with format('%I.%I') and run through query_to_xml.
 */
export const ROW_COUNTS_SQL = [
  "SELECT coalesce(json_agg(json_build_array(s, t, n) ORDER BY s, t), '[]'::json) FROM (",
  '  SELECT n.nspname AS s, c.relname AS t,',
  "    (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint AS n",
  '  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace',
  "  WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
  "    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'",
  ') counts;',
].join('\n');

/**
 * Live rows per table as the statistics collector estimates them (n_live_tup): instant, where ROW_COUNTS_SQL
 * scans every table. For what a gate shows of the database about to be replaced ("≈"), not for validation.
 */
export const ESTIMATED_ROW_COUNTS_SQL = [
  "SELECT coalesce(json_agg(json_build_array(schemaname, relname, n_live_tup) ORDER BY schemaname, relname), '[]'::json)",
  '  FROM pg_stat_user_tables;',
].join('\n');

/** A LIKE pattern matching `text` literally at the start (backslash is LIKE's default escape). */
export function likePrefix(text: string): string {
  return `${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** How much of the target's name postgres-restore.sh keeps in the names of its databases (63 bytes at most). */
export const RESTORE_NAME_BASE = 34;

/**
 * Databases an interrupted postgres-restore.sh run (kill -9) can leave: the new database it restores
 * into (`<first 34 chars of the target>_restore_<time>`) and the previous target after a swap
 * (`…_pre_restore_<time>`). One JSON array of names.
 */
export function scratchDatabasesSql(database: string): string {
  const base = database.slice(0, RESTORE_NAME_BASE);
  return `SELECT coalesce(json_agg(datname ORDER BY datname), '[]'::json) FROM pg_database WHERE datname LIKE ${quoteLiteral(likePrefix(`${base}_restore_`))} OR datname LIKE ${quoteLiteral(likePrefix(`${base}_pre_restore_`))};`;
}

export function parseNames(stdout: string): string[] {
  const parsed = lastJsonLine(stdout);
  return Array.isArray(parsed) ? parsed.filter((item): item is string => typeof item === 'string') : [];
}

export const MARKER_TABLE = { schema: 'public', table: 'backup_validation' } as const;

/** Whether the marker table exists: prints t or f. */
export const MARKER_TABLE_EXISTS_SQL = `SELECT to_regclass(${quoteLiteral(`${quoteIdent(MARKER_TABLE.schema)}.${quoteIdent(MARKER_TABLE.table)}`)}) IS NOT NULL;`;

/** The newest marker rows (the synthetic-data test writes them): count and the last few notes, as JSON. */
export function markerRowsSql(limit = 5): string {
  const table = qualifiedName(MARKER_TABLE.schema, MARKER_TABLE.table);
  return [
    `SELECT json_build_object('count', (SELECT count(*) FROM ${table}), 'latest',`,
    `  (SELECT coalesce(json_agg(json_build_object('id', id, 'note', note) ORDER BY id DESC), '[]'::json)`,
    `   FROM (SELECT id, note FROM ${table} ORDER BY id DESC LIMIT ${Math.max(1, Math.floor(limit))}) m));`,
  ].join('\n');
}

/** What {@link splitStatements} found in a piece of SQL text. */
export interface SqlStatements {
  /** The statements, trimmed, without their `;` (comments kept; empty ones dropped). */
  statements: string[];
  /** A backslash outside quotes and comments: psql would run it as a meta-command (`\\!`, `\\i`, …). */
  metaCommand?: string;
  /** A quote, dollar quote or comment left open at the end. */
  unterminated?: string;
}

/**
 * Splits SQL text on the `;` that end statements, the way psql's lexer sees them: '…' ('' inside),
 * E'…' (backslash escapes), "…", $tag$…$tag$, -- comments and nested C-style comments are skipped.
 */
export function splitStatements(sql: string): SqlStatements {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  let meaningful = false;
  const result: SqlStatements = { statements };
  const push = (end: number) => {
    const text = sql.slice(start, end).trim();
    if (meaningful && text !== '') statements.push(text);
    meaningful = false;
  };
  while (i < sql.length) {
    const char = sql[i] as string;
    const next = sql[i + 1];
    if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
      continue;
    }
    if (char === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < sql.length && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) result.unterminated = 'a /* comment';
      continue;
    }
    if (char === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1] as string) && !/[A-Za-z0-9_]/.test(sql[i - 2] ?? ' ');
      meaningful = true;
      i++;
      let closed = false;
      while (i < sql.length) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") {
          closed = true;
          i++;
          break;
        } else i++;
      }
      if (!closed) result.unterminated = 'a string literal';
      continue;
    }
    if (char === '"') {
      meaningful = true;
      const end = sql.indexOf('"', i + 1);
      i = end === -1 ? sql.length : end + 1;
      if (end === -1) result.unterminated = 'a quoted identifier';
      continue;
    }
    if (char === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      const previous = sql[i - 1] ?? ' ';
      if (tag && !/[A-Za-z0-9_$]/.test(previous)) {
        meaningful = true;
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? sql.length : end + tag[0].length;
        if (end === -1) result.unterminated = `a ${tag[0]} quote`;
        continue;
      }
    }
    if (char === '\\') {
      result.metaCommand ??= sql.slice(i, i + 20).split('\n')[0];
      i++;
      continue;
    }
    if (char === ';') {
      push(i);
      start = i + 1;
      i++;
      continue;
    }
    if (!/\s/.test(char)) meaningful = true;
    i++;
  }
  push(sql.length);
  return result;
}

/** Statements a read-only check must not start with: they end or change the transaction, or run programs (COPY … PROGRAM). */
const NOT_IN_A_CHECK =
  /^(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE|SET|RESET|DISCARD|COPY|LOCK)\b/i;

/** Why an operator's validation query cannot run as one read-only statement, or undefined. */
export function validationQueryProblem(sql: string): string | undefined {
  const split = splitStatements(sql);
  if (split.metaCommand)
    return `it holds a psql meta-command (${split.metaCommand.trim()}): a check is one SQL statement`;
  if (split.unterminated) return `it ends inside ${split.unterminated}`;
  if (split.statements.length === 0) return 'it holds no statement';
  if (split.statements.length > 1)
    return `it holds ${split.statements.length} statements: a check is one read-only statement (split it into several checks)`;
  const first = (split.statements[0] as string).replace(/^(\s|--[^\n]*\n?|\/\*[\s\S]*?\*\/|\()+/, '').trim();
  const keyword = NOT_IN_A_CHECK.exec(first)?.[1];
  if (keyword)
    return `it starts with ${keyword.toUpperCase()}: a check runs inside a read-only transaction of its own`;
  return undefined;
}

/**
 * An operator's own validation query, run read-only: one statement (see validationQueryProblem) in a
 * READ ONLY transaction whose snapshot is taken first (so nothing can switch it to read-write), then
 * rolled back. The caller also sets default_transaction_read_only for the session.
 */
export function readOnlyScript(sql: string): string {
  const problem = validationQueryProblem(sql);
  if (problem) throw new Error(`refused: ${problem}`);
  const body = (splitStatements(sql).statements[0] as string).trim();
  return `BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY;\nSELECT 1 AS db_runbook_snapshot \\gset\n${body};\nROLLBACK;\n`;
}

// ---------------------------------------------------------------- parsing psql output

export interface PgSession {
  pid: number;
  user: string | null;
  application: string | null;
  client: string | null;
  state: string | null;
  since: string | null;
}

function lastJsonLine(stdout: string): unknown {
  const line = stdout
    .split('\n')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .at(-1);
  if (line === undefined) throw new Error('psql printed nothing');
  try {
    return JSON.parse(line) as unknown;
  } catch {
    throw new Error(`psql printed something that is not JSON: ${line.slice(0, 80)}`);
  }
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function parseSessions(stdout: string): PgSession[] {
  const parsed = lastJsonLine(stdout);
  if (!Array.isArray(parsed)) throw new Error('expected a JSON array of sessions');
  return parsed.map((item: unknown) => {
    const row = (item ?? {}) as Record<string, unknown>;
    return {
      pid: typeof row.pid === 'number' ? row.pid : 0,
      user: str(row.user),
      application: str(row.application),
      client: str(row.client),
      state: str(row.state),
      since: str(row.since),
    };
  });
}

/** `app · psql · 10.0.0.5:51234 · active`. */
export function describeSession(session: PgSession): string {
  return [
    session.user ?? '?',
    session.application || '(no application_name)',
    session.client ?? '?',
    session.state ?? '?',
  ].join(' · ');
}

/** Table key for comparisons: `schema.table` as written (unquoted). */
export function tableKey(schema: string, table: string): string {
  return `${schema}.${table}`;
}

export function parseRowCounts(stdout: string): Map<string, number> {
  const parsed = lastJsonLine(stdout);
  if (!Array.isArray(parsed)) throw new Error('expected a JSON array of row counts');
  const counts = new Map<string, number>();
  for (const item of parsed) {
    if (!Array.isArray(item)) continue;
    const [schema, table, rows] = item as unknown[];
    if (typeof schema === 'string' && typeof table === 'string' && typeof rows === 'number')
      counts.set(tableKey(schema, table), rows);
  }
  return counts;
}

export interface MarkerRows {
  count: number;
  latest: { id: number; note: string | null }[];
}

export function parseMarkerRows(stdout: string): MarkerRows {
  const parsed = lastJsonLine(stdout) as { count?: unknown; latest?: unknown } | null;
  const latest = Array.isArray(parsed?.latest) ? (parsed.latest as Record<string, unknown>[]) : [];
  return {
    count: typeof parsed?.count === 'number' ? parsed.count : 0,
    latest: latest.map((row) => ({ id: typeof row.id === 'number' ? row.id : 0, note: str(row.note) })),
  };
}

// ---------------------------------------------------------------- the operator's validation queries

export interface ValidationQuery {
  name: string;
  sql: string;
  /**
   * What the first column of the first row must be. A number or string compares as text; a
   * string starting with an operator compares numerically: `>0`, `>= 100`, `<5`, `!=0`.
   * Booleans compare with psql's t/f. Absent: the query must only run without error.
   */
  expect?: string | number | boolean;
}

/** Reads `validationQueries` from the values file settings; problems are reported, not thrown. */
export function parseValidationQueries(setting: unknown): { queries: ValidationQuery[]; problems: string[] } {
  if (setting === undefined || setting === null) return { queries: [], problems: [] };
  if (!Array.isArray(setting))
    return { queries: [], problems: ['validationQueries must be a list of {name, sql, expect?}'] };
  const queries: ValidationQuery[] = [];
  const problems: string[] = [];
  setting.forEach((item: unknown, index) => {
    const entry = (item ?? {}) as Record<string, unknown>;
    const name = typeof entry.name === 'string' && entry.name.trim() !== '' ? entry.name.trim() : undefined;
    const sql = typeof entry.sql === 'string' && entry.sql.trim() !== '' ? entry.sql : undefined;
    if (!sql) {
      problems.push(`validationQueries[${index}]${name ? ` (${name})` : ''} has no sql`);
      return;
    }
    const expect = entry.expect;
    if (
      expect !== undefined &&
      expect !== null &&
      typeof expect !== 'string' &&
      typeof expect !== 'number' &&
      typeof expect !== 'boolean'
    ) {
      problems.push(`validationQueries[${index}] expect must be a string, number or boolean`);
      return;
    }
    queries.push({
      name: name ?? `query ${index + 1}`,
      sql,
      ...(expect === undefined || expect === null ? {} : { expect }),
    });
  });
  return { queries, problems };
}

const COMPARISON = /^\s*(>=|<=|!=|<>|>|<|=)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** Compares psql's first value with `expect`; returns ok and a line for the screen. */
export function checkExpectation(
  actual: string | undefined,
  expect: ValidationQuery['expect'],
): { ok: boolean; detail: string } {
  const shown = actual === undefined ? '(no rows)' : JSON.stringify(actual);
  if (expect === undefined) return { ok: true, detail: `ran; first value ${shown}` };
  if (actual === undefined) return { ok: false, detail: `no rows (expected ${String(expect)})` };
  if (typeof expect === 'boolean') {
    const want = expect ? 't' : 'f';
    return { ok: actual === want, detail: `${shown}, expected ${want}` };
  }
  const comparison = typeof expect === 'string' ? COMPARISON.exec(expect) : null;
  if (comparison?.[1] && comparison[2] !== undefined) {
    const value = Number(actual);
    const bound = Number(comparison[2]);
    if (actual.trim() === '' || !Number.isFinite(value))
      return { ok: false, detail: `${shown} is not a number (expected ${expect})` };
    const op = comparison[1];
    const ok =
      op === '>'
        ? value > bound
        : op === '>='
          ? value >= bound
          : op === '<'
            ? value < bound
            : op === '<='
              ? value <= bound
              : op === '='
                ? value === bound
                : value !== bound;
    return { ok, detail: `${shown}, expected ${String(expect).trim()}` };
  }
  const want = String(expect);
  return { ok: actual === want, detail: `${shown}, expected ${JSON.stringify(want)}` };
}

/** The first column of the first row of psql -A -t output. */
export function firstValue(stdout: string): string | undefined {
  const line = stdout.split('\n').find((part) => part !== '');
  if (line === undefined) return undefined;
  return line.split('|')[0];
}

// ---------------------------------------------------------------- row counts recorded in a dump

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[^\s."(]+)`;
const COPY_HEADER = new RegExp(String.raw`^COPY (${IDENT})\.(${IDENT})(?: \(.*\))? FROM stdin;$`);

function unquote(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replaceAll('""', '"') : ident;
}

/** `COPY public."Order Items" (id, …) FROM stdin;` → {schema: 'public', table: 'Order Items'}. */
export function parseCopyHeader(line: string): { schema: string; table: string } | undefined {
  const match = COPY_HEADER.exec(line);
  if (!match?.[1] || !match[2]) return undefined;
  return { schema: unquote(match[1]), table: unquote(match[2]) };
}

/**
 * The `copy=<rows> <COPY line>` lines postgres-restore.sh prints (the rows each table's COPY block held in
 * the dump it streamed) as `schema.table` → rows.
 */
export function parseCopyRows(stdout: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    const match = /^copy=(\d+) (COPY .*)$/.exec(line.trimEnd());
    const header = match?.[2] ? parseCopyHeader(match[2]) : undefined;
    if (!match?.[1] || !header) continue;
    const key = tableKey(header.schema, header.table);
    counts[key] = (counts[key] ?? 0) + Number(match[1]);
  }
  return counts;
}
