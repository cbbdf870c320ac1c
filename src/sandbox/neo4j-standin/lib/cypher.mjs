// The small Cypher subset the stand-in's cypher-shell executes (see ../README.md for the list).
// Anything else is rejected with "not supported by the stand-in", never silently accepted.
import { CommandError, EDITION, NEO4J_VERSION, readConf } from './common.mjs';
import { datetime, isDatetime, valuesEqual } from './store.mjs';

export class CypherError extends CommandError {
  constructor(code, message) {
    super(message);
    this.neo4jCode = code;
  }
}

export const SUPPORTED = [
  "MERGE (n:Label {key: 'value'}) [SET n.prop = <expr>, ...] [RETURN ...]",
  "CREATE (n:Label {key: 'value', ...}) [RETURN ...]",
  'UNWIND range(a, b) AS i CREATE (:Label {id: i, ...})',
  "MATCH (n[:Label] [{key: 'value'}]) [WHERE n.prop = <literal> [AND ...]] RETURN count(n) | n | n.prop [AS alias], ... [ORDER BY n.prop [DESC]] [LIMIT k]",
  'MATCH (...) [WHERE ...] SET n.prop = <expr>, ... | [DETACH] DELETE n',
  'SHOW DATABASES | SHOW DATABASE name | SHOW DEFAULT DATABASE [YIELD col, ... | *] [WHERE col = <literal>]',
  "SHOW SETTINGS ['name', ...] [YIELD ...] [WHERE name STARTS WITH 'prefix']",
  'STOP DATABASE name [WAIT [n [SECONDS]] | NOWAIT], START DATABASE name [WAIT ...]',
  'CREATE DATABASE name [IF NOT EXISTS] [WAIT], CALL dbms.components(), RETURN <literal> [AS alias]',
];

function unsupported(text) {
  return new CypherError(
    'Neo.ClientError.Statement.SyntaxError',
    `This statement is not supported by the db-runbook Neo4j stand-in: ${text.trim()}\n` +
      `The stand-in understands only:\n  ${SUPPORTED.join('\n  ')}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Tokenizer
// ---------------------------------------------------------------------------------------------
function tokenize(text) {
  const tokens = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === "'" || c === '"') {
      let value = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) {
          const next = text[i + 1];
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          i += 2;
        } else value += text[i++];
      }
      if (i >= text.length)
        throw new CypherError('Neo.ClientError.Statement.SyntaxError', `Unterminated string in: ${text}`);
      i++;
      tokens.push({ type: 'string', value });
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0)
        throw new CypherError('Neo.ClientError.Statement.SyntaxError', `Unterminated identifier in: ${text}`);
      tokens.push({ type: 'ident', value: text.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i));
      tokens.push({ type: 'number', value: Number(m[0]), float: m[0].includes('.') || /e/i.test(m[0]) });
      i += m[0].length;
    } else if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(text.slice(i));
      if (!m) throw unsupported(text);
      tokens.push({ type: 'param', value: m[1] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i));
      tokens.push({ type: 'ident', value: m[0] });
      i += m[0].length;
    } else if (c === '<' && text[i + 1] === '>') {
      tokens.push({ type: 'punct', value: '<>' });
      i += 2;
    } else if ('(){}[]:,.=*;'.includes(c)) {
      tokens.push({ type: 'punct', value: c });
      i++;
    } else {
      throw unsupported(text);
    }
  }
  return tokens;
}

/** Splits a script into statements on `;` outside strings/identifiers/comments. */
export function splitStatements(script) {
  const statements = [];
  let current = '';
  let quote = null;
  for (let i = 0; i < script.length; i++) {
    const c = script[i];
    if (quote) {
      current += c;
      if (c === '\\' && quote !== '`') current += script[++i] ?? '';
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') {
      quote = c;
      current += c;
    } else if (c === '/' && script[i + 1] === '/') {
      while (i < script.length && script[i] !== '\n') i++;
      current += '\n';
    } else if (c === ';') {
      if (current.trim()) statements.push(current.trim());
      current = '';
    } else current += c;
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------
class Parser {
  constructor(text) {
    this.text = text;
    this.tokens = tokenize(text);
    this.pos = 0;
  }
  peek(offset = 0) {
    return this.tokens[this.pos + offset];
  }
  atEnd() {
    return this.pos >= this.tokens.length;
  }
  isKeyword(word, offset = 0) {
    const t = this.peek(offset);
    return t?.type === 'ident' && !t.quoted && t.value.toUpperCase() === word;
  }
  keyword(word) {
    if (!this.isKeyword(word)) throw unsupported(this.text);
    this.pos++;
  }
  optionalKeyword(word) {
    if (this.isKeyword(word)) {
      this.pos++;
      return true;
    }
    return false;
  }
  isPunct(p) {
    const t = this.peek();
    return t?.type === 'punct' && t.value === p;
  }
  punct(p) {
    if (!this.isPunct(p)) throw unsupported(this.text);
    this.pos++;
  }
  ident() {
    const t = this.peek();
    if (t?.type !== 'ident') throw unsupported(this.text);
    this.pos++;
    return t.value;
  }
  /** A database name: identifier, possibly dotted/dashed (`my-db` needs backticks in real Cypher too). */
  databaseName() {
    const t = this.peek();
    if (t?.type === 'param') {
      this.pos++;
      return { param: t.value };
    }
    let name = this.ident();
    while (this.isPunct('.')) {
      this.pos++;
      name += '.' + this.ident();
    }
    return name;
  }
  expression() {
    const t = this.peek();
    if (!t) throw unsupported(this.text);
    if (t.type === 'string' || t.type === 'number') {
      this.pos++;
      return { kind: 'literal', value: t.value };
    }
    if (t.type === 'param') {
      this.pos++;
      return { kind: 'param', name: t.value };
    }
    if (t.type === 'ident') {
      const upper = t.value.toUpperCase();
      if (!t.quoted && ['TRUE', 'FALSE', 'NULL'].includes(upper)) {
        this.pos++;
        return { kind: 'literal', value: upper === 'NULL' ? null : upper === 'TRUE' };
      }
      if (this.peek(1)?.type === 'punct' && this.peek(1).value === '(') {
        const fn = t.value.toLowerCase();
        this.pos += 2;
        const args = [];
        while (!this.isPunct(')')) {
          args.push(this.expression());
          if (!this.isPunct(')')) this.punct(',');
        }
        this.punct(')');
        if (!['datetime', 'timestamp', 'tostring', 'range'].includes(fn)) throw unsupported(this.text);
        return { kind: 'call', fn, args };
      }
      this.pos++;
      if (this.isPunct('.')) {
        this.pos++;
        return { kind: 'property', variable: t.value, key: this.ident() };
      }
      return { kind: 'variable', name: t.value };
    }
    throw unsupported(this.text);
  }
  map() {
    const props = [];
    this.punct('{');
    while (!this.isPunct('}')) {
      const key = this.ident();
      this.punct(':');
      props.push([key, this.expression()]);
      if (!this.isPunct('}')) this.punct(',');
    }
    this.punct('}');
    return props;
  }
  nodePattern() {
    this.punct('(');
    let variable;
    const labels = [];
    if (this.peek()?.type === 'ident') variable = this.ident();
    while (this.isPunct(':')) {
      this.pos++;
      labels.push(this.ident());
    }
    const props = this.isPunct('{') ? this.map() : [];
    this.punct(')');
    if (this.isPunct('-') || this.isPunct('<')) throw unsupported(this.text);
    return { variable, labels, props };
  }
  where() {
    const conditions = [];
    do {
      const left = this.expression();
      let op;
      if (this.isPunct('=')) op = '=';
      else if (this.isPunct('<>')) op = '<>';
      else if (this.isKeyword('STARTS') && this.isKeyword('WITH', 1)) {
        this.pos++;
        op = 'STARTS WITH';
      } else if (this.isKeyword('CONTAINS')) op = 'CONTAINS';
      else throw unsupported(this.text);
      this.pos++;
      conditions.push({ left, op, right: this.expression() });
    } while (this.optionalKeyword('AND'));
    return conditions;
  }
  setItems() {
    const items = [];
    do {
      const variable = this.ident();
      this.punct('.');
      const key = this.ident();
      this.punct('=');
      items.push({ variable, key, value: this.expression() });
    } while (this.isPunct(',') && this.pos++ >= 0);
    return items;
  }
  returnItems() {
    const items = [];
    do {
      let expr;
      let text;
      if (this.isKeyword('COUNT') && this.peek(1)?.value === '(') {
        this.pos += 2;
        let arg = '*';
        if (this.isPunct('*')) this.pos++;
        else arg = this.ident();
        this.punct(')');
        expr = { kind: 'count', variable: arg };
        text = `count(${arg})`;
      } else {
        const start = this.pos;
        expr = this.expression();
        text = this.tokens
          .slice(start, this.pos)
          .map((t) =>
            t.type === 'string' ? `'${t.value}'` : t.type === 'param' ? `$${t.value}` : String(t.value),
          )
          .join('');
      }
      const alias = this.optionalKeyword('AS') ? this.ident() : undefined;
      items.push({ expr, name: alias ?? text });
    } while (this.isPunct(',') && this.pos++ >= 0);
    let orderBy;
    if (this.isKeyword('ORDER')) {
      this.pos++;
      this.keyword('BY');
      orderBy = { expr: this.expression(), desc: false };
      if (this.optionalKeyword('DESC') || this.optionalKeyword('DESCENDING')) orderBy.desc = true;
      else if (!this.optionalKeyword('ASC')) this.optionalKeyword('ASCENDING');
    }
    let limit;
    if (this.optionalKeyword('LIMIT')) {
      const t = this.peek();
      if (t?.type !== 'number') throw unsupported(this.text);
      this.pos++;
      limit = t.value;
    }
    return { items, orderBy, limit };
  }
  yieldClause() {
    if (!this.optionalKeyword('YIELD')) return undefined;
    if (this.isPunct('*')) {
      this.pos++;
      return '*';
    }
    const cols = [];
    do cols.push(this.ident());
    while (this.isPunct(',') && this.pos++ >= 0);
    return cols;
  }
  waitClause() {
    if (this.optionalKeyword('NOWAIT')) return { wait: false };
    if (this.optionalKeyword('WAIT')) {
      if (this.peek()?.type === 'number') {
        this.pos++;
        for (const unit of ['SEC', 'SECOND', 'SECONDS']) if (this.optionalKeyword(unit)) break;
      }
      return { wait: true };
    }
    return { wait: false };
  }
  end() {
    if (!this.atEnd()) throw unsupported(this.text);
  }

  statement() {
    if (this.isKeyword('MERGE')) {
      this.pos++;
      const pattern = this.nodePattern();
      const set = this.optionalKeyword('SET') ? this.setItems() : [];
      const ret = this.optionalKeyword('RETURN') ? this.returnItems() : undefined;
      this.end();
      return { kind: 'merge', pattern, set, ret };
    }
    if (this.isKeyword('CREATE') && this.isKeyword('DATABASE', 1)) {
      this.pos += 2;
      const name = this.databaseName();
      let ifNotExists = false;
      if (this.optionalKeyword('IF')) {
        this.keyword('NOT');
        this.keyword('EXISTS');
        ifNotExists = true;
      }
      this.waitClause();
      this.end();
      return { kind: 'createDatabase', name, ifNotExists };
    }
    if (this.isKeyword('CREATE')) {
      this.pos++;
      const patterns = [this.nodePattern()];
      while (this.isPunct(',')) {
        this.pos++;
        patterns.push(this.nodePattern());
      }
      const ret = this.optionalKeyword('RETURN') ? this.returnItems() : undefined;
      this.end();
      return { kind: 'create', patterns, ret };
    }
    if (this.isKeyword('UNWIND')) {
      this.pos++;
      const list = this.expression();
      if (list.kind !== 'call' || list.fn !== 'range') throw unsupported(this.text);
      this.keyword('AS');
      const variable = this.ident();
      this.keyword('CREATE');
      const pattern = this.nodePattern();
      this.end();
      return { kind: 'unwindCreate', list, variable, pattern };
    }
    if (this.isKeyword('MATCH')) {
      this.pos++;
      const pattern = this.nodePattern();
      const where = this.optionalKeyword('WHERE') ? this.where() : [];
      if (this.optionalKeyword('SET')) {
        const set = this.setItems();
        const ret = this.optionalKeyword('RETURN') ? this.returnItems() : undefined;
        this.end();
        return { kind: 'matchSet', pattern, where, set, ret };
      }
      const detach = this.optionalKeyword('DETACH');
      if (this.optionalKeyword('DELETE')) {
        const variable = this.ident();
        this.end();
        return { kind: 'matchDelete', pattern, where, variable, detach };
      }
      if (detach) throw unsupported(this.text);
      this.keyword('RETURN');
      const ret = this.returnItems();
      this.end();
      return { kind: 'matchReturn', pattern, where, ret };
    }
    if (this.isKeyword('SHOW')) {
      this.pos++;
      if (this.optionalKeyword('DATABASES')) return this.showDatabases(undefined);
      if (this.optionalKeyword('DEFAULT') || this.optionalKeyword('HOME')) {
        this.keyword('DATABASE');
        return this.showDatabases({ default: true });
      }
      if (this.optionalKeyword('DATABASE')) {
        const name = this.isKeyword('YIELD') || this.atEnd() ? undefined : this.databaseName();
        return this.showDatabases(name === undefined ? undefined : { name });
      }
      if (this.optionalKeyword('SETTINGS') || this.optionalKeyword('SETTING')) {
        const names = [];
        while (this.peek()?.type === 'string') {
          names.push(this.peek().value);
          this.pos++;
          if (this.isPunct(',')) this.pos++;
        }
        const yieldCols = this.yieldClause();
        const where = this.optionalKeyword('WHERE') ? this.where() : [];
        this.end();
        return { kind: 'showSettings', names, yieldCols, where };
      }
      throw unsupported(this.text);
    }
    if (this.isKeyword('STOP') || this.isKeyword('START')) {
      const action = this.ident().toUpperCase();
      this.keyword('DATABASE');
      const name = this.databaseName();
      const { wait } = this.waitClause();
      this.end();
      return { kind: action === 'STOP' ? 'stopDatabase' : 'startDatabase', name, wait };
    }
    if (this.isKeyword('CALL')) {
      this.pos++;
      const a = this.ident();
      this.punct('.');
      const b = this.ident();
      this.punct('(');
      this.punct(')');
      if (`${a}.${b}`.toLowerCase() !== 'dbms.components') throw unsupported(this.text);
      const yieldCols = this.yieldClause();
      this.end();
      return { kind: 'components', yieldCols };
    }
    if (this.isKeyword('RETURN')) {
      this.pos++;
      const ret = this.returnItems();
      this.end();
      return { kind: 'return', ret };
    }
    throw unsupported(this.text);
  }
  showDatabases(filter) {
    const yieldCols = this.yieldClause();
    const where = this.optionalKeyword('WHERE') ? this.where() : [];
    this.end();
    return { kind: 'showDatabases', filter, yieldCols, where };
  }
}

export function parse(text) {
  return new Parser(text).statement();
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------
function evaluate(expr, scope, ctx) {
  switch (expr.kind) {
    case 'literal':
      return expr.value;
    case 'param':
      if (!(expr.name in ctx.params)) {
        throw new CypherError(
          'Neo.ClientError.Statement.ParameterMissing',
          `Expected parameter(s): ${expr.name}`,
        );
      }
      return ctx.params[expr.name];
    case 'variable':
      if (!(expr.name in scope)) {
        throw new CypherError(
          'Neo.ClientError.Statement.SyntaxError',
          `Variable \`${expr.name}\` not defined`,
        );
      }
      return scope[expr.name];
    case 'property': {
      const target = scope[expr.variable];
      if (target === undefined) {
        throw new CypherError(
          'Neo.ClientError.Statement.SyntaxError',
          `Variable \`${expr.variable}\` not defined`,
        );
      }
      if (target && typeof target === 'object' && 'properties' in target)
        return target.properties[expr.key] ?? null;
      return target?.[expr.key] ?? null;
    }
    case 'call': {
      const args = expr.args.map((a) => evaluate(a, scope, ctx));
      if (expr.fn === 'datetime') {
        if (args.length === 0) return datetime(ctx.now.toISOString());
        const parsed = new Date(String(args[0]));
        if (Number.isNaN(parsed.getTime())) {
          throw new CypherError(
            'Neo.ClientError.Statement.ArgumentError',
            `Text cannot be parsed to a DateTime "${args[0]}"`,
          );
        }
        return datetime(parsed.toISOString());
      }
      if (expr.fn === 'timestamp') return ctx.now.getTime();
      if (expr.fn === 'tostring') return formatValue(args[0], false);
      if (expr.fn === 'range') {
        const [from, to] = args;
        const out = [];
        for (let i = from; i <= to; i++) out.push(i);
        return out;
      }
      throw new CypherError('Neo.ClientError.Statement.SyntaxError', `Unknown function '${expr.fn}'`);
    }
    default:
      throw new CypherError('Neo.ClientError.Statement.SyntaxError', 'unsupported expression');
  }
}

function conditionHolds(cond, scope, ctx) {
  const left = evaluate(cond.left, scope, ctx);
  const right = evaluate(cond.right, scope, ctx);
  switch (cond.op) {
    case '=':
      return valuesEqual(left, right);
    case '<>':
      return !valuesEqual(left, right);
    case 'STARTS WITH':
      return typeof left === 'string' && typeof right === 'string' && left.startsWith(right);
    case 'CONTAINS':
      return typeof left === 'string' && typeof right === 'string' && left.includes(right);
    default:
      return false;
  }
}

function matches(node, pattern, scope, ctx) {
  if (!pattern.labels.every((l) => node.labels.includes(l))) return false;
  return pattern.props.every(([key, expr]) => valuesEqual(node.properties[key], evaluate(expr, scope, ctx)));
}

function compare(a, b) {
  const av = isDatetime(a) ? a.$datetime : a;
  const bv = isDatetime(b) ? b.$datetime : b;
  if (av === bv) return 0;
  if (av === null || av === undefined) return 1;
  if (bv === null || bv === undefined) return -1;
  return av < bv ? -1 : 1;
}

/** Builds result rows for RETURN over bound scopes (one scope per matched node). */
function project(ret, scopes, ctx) {
  const columns = ret.items.map((i) => i.name);
  let rows;
  if (ret.items.some((i) => i.expr.kind === 'count')) {
    rows = [
      ret.items.map((i) =>
        i.expr.kind === 'count' ? scopes.length : evaluate(i.expr, scopes[0] ?? {}, ctx),
      ),
    ];
  } else {
    let ordered = scopes;
    if (ret.orderBy) {
      ordered = [...scopes].sort((x, y) => {
        const c = compare(evaluate(ret.orderBy.expr, x, ctx), evaluate(ret.orderBy.expr, y, ctx));
        return ret.orderBy.desc ? -c : c;
      });
    }
    rows = ordered.map((scope) => ret.items.map((i) => evaluate(i.expr, scope, ctx)));
  }
  if (ret.limit !== undefined) rows = rows.slice(0, ret.limit);
  return { columns, rows };
}

function buildProps(props, scope, ctx) {
  const out = {};
  for (const [key, expr] of props) {
    const value = evaluate(expr, scope, ctx);
    if (value !== null) out[key] = value;
  }
  return out;
}

/**
 * Executes one parsed statement.
 * ctx: { home, dbms, store (the session database's store, mutable), database, params, now, accessMode, settings }
 * Returns { columns, rows, ops, stats, admin } — ops are the graph writes (one transaction).
 */
export function execute(statement, ctx) {
  const ops = [];
  const stats = { nodesCreated: 0, nodesDeleted: 0, propertiesSet: 0, labelsAdded: 0 };
  const write = () => {
    if (ctx.accessMode === 'read') {
      throw new CypherError(
        'Neo.ClientError.Statement.AccessMode',
        `Writing in read access mode not allowed. Attempted write to ${ctx.database}`,
      );
    }
    if (ctx.database === 'system') {
      throw new CypherError(
        'Neo.ClientError.Statement.UnsupportedAdministrationCommand',
        'Not a recognised system command or procedure. This Cypher command can only be executed in a user database',
      );
    }
  };
  const createNode = (pattern, scope) => {
    const node = {
      id: ctx.store.nextNodeId,
      labels: [...pattern.labels],
      properties: buildProps(pattern.props, scope, ctx),
    };
    ctx.store.nextNodeId += 1;
    ctx.store.nodes.push(node);
    ops.push({ op: 'create', node: structuredClone(node) });
    stats.nodesCreated += 1;
    stats.labelsAdded += node.labels.length;
    stats.propertiesSet += Object.keys(node.properties).length;
    return node;
  };
  const applySet = (items, scope) => {
    for (const item of items) {
      const node = scope[item.variable];
      if (!node)
        throw new CypherError(
          'Neo.ClientError.Statement.SyntaxError',
          `Variable \`${item.variable}\` not defined`,
        );
      const value = evaluate(item.value, scope, ctx);
      if (value === null) delete node.properties[item.key];
      else node.properties[item.key] = value;
      ops.push({ op: 'set', id: node.id, key: item.key, value });
      stats.propertiesSet += 1;
    }
  };
  const matchScopes = (pattern, where) => {
    const variable = pattern.variable ?? '_anon';
    return ctx.store.nodes
      .filter((n) => matches(n, pattern, {}, ctx))
      .map((n) => ({ [variable]: n }))
      .filter((scope) => where.every((c) => conditionHolds(c, scope, ctx)));
  };
  const graphOnly = () => {
    if (ctx.database === 'system') {
      throw new CypherError(
        'Neo.ClientError.Statement.NotSystemDatabaseError',
        'This is an administration command and it should be executed against the system database: ' +
          'graph queries are not available on the system database',
      );
    }
  };

  switch (statement.kind) {
    case 'merge': {
      graphOnly();
      const variable = statement.pattern.variable ?? '_anon';
      let node = ctx.store.nodes.find((n) => matches(n, statement.pattern, {}, ctx));
      if (!node) {
        write();
        node = createNode(statement.pattern, {});
      }
      const scope = { [variable]: node };
      if (statement.set.length) {
        write();
        applySet(statement.set, scope);
      }
      const result = statement.ret ? project(statement.ret, [scope], ctx) : { columns: [], rows: [] };
      return { ...result, ops, stats };
    }
    case 'create': {
      graphOnly();
      write();
      const scope = {};
      for (const p of statement.patterns) {
        const node = createNode(p, scope);
        if (p.variable) scope[p.variable] = node;
      }
      const result = statement.ret ? project(statement.ret, [scope], ctx) : { columns: [], rows: [] };
      return { ...result, ops, stats };
    }
    case 'unwindCreate': {
      graphOnly();
      write();
      for (const value of evaluate(statement.list, {}, ctx))
        createNode(statement.pattern, { [statement.variable]: value });
      return { columns: [], rows: [], ops, stats };
    }
    case 'matchReturn': {
      graphOnly();
      return { ...project(statement.ret, matchScopes(statement.pattern, statement.where), ctx), ops, stats };
    }
    case 'matchSet': {
      graphOnly();
      const scopes = matchScopes(statement.pattern, statement.where);
      if (scopes.length) write();
      for (const scope of scopes) applySet(statement.set, scope);
      const result = statement.ret ? project(statement.ret, scopes, ctx) : { columns: [], rows: [] };
      return { ...result, ops, stats };
    }
    case 'matchDelete': {
      graphOnly();
      const scopes = matchScopes(statement.pattern, statement.where);
      if (scopes.length) write();
      for (const scope of scopes) {
        const node = scope[statement.variable];
        if (!node)
          throw new CypherError(
            'Neo.ClientError.Statement.SyntaxError',
            `Variable \`${statement.variable}\` not defined`,
          );
        ctx.store.nodes = ctx.store.nodes.filter((n) => n.id !== node.id);
        ops.push({ op: 'delete', id: node.id });
        stats.nodesDeleted += 1;
      }
      return { columns: [], rows: [], ops, stats };
    }
    case 'showDatabases':
      return { ...showDatabases(statement, ctx), ops, stats };
    case 'showSettings':
      return { ...showSettings(statement, ctx), ops, stats };
    case 'stopDatabase':
    case 'startDatabase':
    case 'createDatabase': {
      const name = resolveName(statement.name, ctx);
      return {
        columns: [],
        rows: [],
        ops,
        stats,
        admin: { kind: statement.kind, name, ifNotExists: statement.ifNotExists },
      };
    }
    case 'components': {
      const all = { name: 'Neo4j Kernel', versions: [NEO4J_VERSION], edition: EDITION };
      const cols =
        statement.yieldCols === undefined || statement.yieldCols === '*'
          ? Object.keys(all)
          : statement.yieldCols;
      return { columns: cols, rows: [cols.map((c) => all[c] ?? null)], ops, stats };
    }
    case 'return':
      return { ...project(statement.ret, [{}], ctx), ops, stats };
    default:
      throw unsupported(JSON.stringify(statement));
  }
}

function resolveName(name, ctx) {
  if (typeof name === 'object') return String(evaluate({ kind: 'param', name: name.param }, {}, ctx));
  return name;
}

const DATABASE_COLUMNS = [
  'name',
  'type',
  'aliases',
  'access',
  'address',
  'role',
  'writer',
  'requestedStatus',
  'currentStatus',
  'statusMessage',
  'default',
  'home',
  'constituents',
];

function selectColumns(all, defaults, yieldCols, where, ctx) {
  const filtered = all.filter((row) => where.every((c) => conditionHolds(c, row, ctx)));
  const columns =
    yieldCols === undefined ? defaults : yieldCols === '*' ? Object.keys(all[0] ?? {}) : yieldCols;
  for (const col of columns) {
    if (all[0] && !(col in all[0])) {
      throw new CypherError(
        'Neo.ClientError.Statement.SyntaxError',
        `Trying to YIELD non-existing column: \`${col}\``,
      );
    }
  }
  return { columns, rows: filtered.map((row) => columns.map((c) => row[c])) };
}

function showDatabases(statement, ctx) {
  const settings = ctx.settings;
  const address = settings['server.bolt.listen_address'] ?? 'localhost:7687';
  const rows = Object.entries(ctx.dbms.databases)
    .filter(([name]) => {
      if (!statement.filter) return true;
      if (statement.filter.default) return name === ctx.dbms.defaultDatabase;
      return name === resolveName(statement.filter.name, ctx);
    })
    .map(([name, info]) => ({
      name,
      type: info.type,
      aliases: [],
      access: 'read-write',
      address,
      role: 'primary',
      writer: true,
      requestedStatus: info.requestedStatus,
      currentStatus: ctx.currentStatus(name),
      statusMessage: '',
      default: name === ctx.dbms.defaultDatabase,
      home: name === ctx.dbms.defaultDatabase,
      constituents: [],
      databaseID: info.id,
      serverID: 'standin-server',
      lastCommittedTxn: ctx.lastTxId(name),
      replicationLag: 0,
      store: 'block-block-1.1',
    }));
  return selectColumns(rows, DATABASE_COLUMNS, statement.yieldCols, statement.where, ctx);
}

function showSettings(statement, ctx) {
  const settings = readConf(ctx.home);
  const rows = Object.entries(settings)
    .filter(([name]) => statement.names.length === 0 || statement.names.includes(name))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => ({
      name,
      value,
      isDynamic: false,
      defaultValue: DEFAULTS[name] ?? null,
      description: 'setting from conf/neo4j.conf (stand-in)',
      startupValue: value,
      isExplicitlySet: true,
      validValues: 'a string',
      isDeprecated: false,
    }));
  return selectColumns(
    rows,
    ['name', 'value', 'isDynamic', 'defaultValue', 'description'],
    statement.yieldCols,
    statement.where,
    ctx,
  );
}

const DEFAULTS = {
  'server.backup.enabled': 'true',
  'server.backup.listen_address': '127.0.0.1:6362',
  'server.bolt.listen_address': ':7687',
  'server.bolt.enabled': 'true',
  'initial.dbms.default_database': 'neo4j',
};

// ---------------------------------------------------------------------------------------------
// Output (cypher-shell --format plain / verbose)
// ---------------------------------------------------------------------------------------------
export function formatValue(value, quoteStrings = true) {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return quoteStrings ? JSON.stringify(value) : value;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') return String(value);
  if (isDatetime(value)) return value.$datetime;
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v)).join(', ')}]`;
  if (typeof value === 'object' && 'labels' in value && 'properties' in value) {
    const props = Object.keys(value.properties)
      .sort()
      .map((k) => `${k}: ${formatValue(value.properties[k])}`)
      .join(', ');
    return `(${value.labels.map((l) => `:${l}`).join('')}${props ? ` {${props}}` : ''})`;
  }
  return JSON.stringify(value);
}

export function formatPlain(result) {
  if (!result.columns.length) return '';
  return (
    [result.columns.join(', '), ...result.rows.map((row) => row.map((v) => formatValue(v)).join(', '))].join(
      '\n',
    ) + '\n'
  );
}

export function formatVerbose(result, elapsedMs) {
  let out = '';
  if (result.columns.length) {
    const cells = result.rows.map((row) => row.map((v) => formatValue(v)));
    const widths = result.columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
    const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`;
    const fmt = (values) => `| ${values.map((v, i) => v.padEnd(widths[i])).join(' | ')} |`;
    out += [line, fmt(result.columns), line, ...cells.map(fmt), line, ''].join('\n');
    out += `\n${result.rows.length} row${result.rows.length === 1 ? '' : 's'}\n`;
  } else {
    out += '0 rows\n';
  }
  out += `ready to start consuming query after ${elapsedMs} ms, results consumed after another 0 ms\n`;
  const s = result.stats ?? {};
  const parts = [];
  if (s.nodesCreated) parts.push(`Added ${s.nodesCreated} nodes`);
  if (s.nodesDeleted) parts.push(`Deleted ${s.nodesDeleted} nodes`);
  if (s.propertiesSet) parts.push(`Set ${s.propertiesSet} properties`);
  if (s.labelsAdded) parts.push(`Added ${s.labelsAdded} labels`);
  if (parts.length) out += parts.join(', ') + '\n';
  return out;
}
