// cypher-shell stand-in: options checked against Neo4j 5's documented CLI (Operations Manual, "Cypher Shell"),
// connection over TCP to the stand-in's Bolt listener (address, credentials and database from options or
// NEO4J_ADDRESS/NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD, NEO4J_DATABASE), then a small Cypher subset.
import { existsSync, readFileSync } from 'node:fs';
import {
  NEO4J_VERSION,
  appendTx,
  handshake,
  logCall,
  readConf,
  readDbms,
  readStore,
  writeDbms,
  writeStore,
  emptyStore,
  replaceTxLog,
  newDatabaseId,
} from './common.mjs';
import { CypherError, execute, formatPlain, formatVerbose, parse, splitStatements } from './cypher.mjs';

const USAGE = `usage: cypher-shell [-h] [-a ADDRESS] [-u USERNAME] [--impersonate IMPERSONATE] [-p PASSWORD]
                    [--encryption {true,false,default}] [-d DATABASE] [--access-mode {read,write}]
                    [--enable-autocompletions] [--format {auto,verbose,plain}] [-P PARAM]
                    [--non-interactive] [--sample-rows SAMPLE-ROWS] [--wrap {true,false}] [-v]
                    [--driver-version] [-f FILE] [--change-password] [--log [LOG-FILE]]
                    [--history HISTORY-BEHAVIOUR] [--notifications] [--idle-timeout IDLE-TIMEOUT]
                    [--error-format {gql,legacy,stacktrace}]
                    [--transaction-timeout TRANSACTION-TIMEOUT] [--fail-fast | --fail-at-end]
                    [cypher]`;

// name -> { dest, kind: 'value'|'flag'|'optional', choices }
const OPTIONS = {
  '-h': { dest: 'help', kind: 'flag' },
  '--help': { dest: 'help', kind: 'flag' },
  '-a': { dest: 'address', kind: 'value' },
  '--address': { dest: 'address', kind: 'value' },
  '--uri': { dest: 'address', kind: 'value' },
  '-u': { dest: 'username', kind: 'value' },
  '--username': { dest: 'username', kind: 'value' },
  '--impersonate': { dest: 'impersonate', kind: 'value' },
  '-p': { dest: 'password', kind: 'value' },
  '--password': { dest: 'password', kind: 'value' },
  '--encryption': { dest: 'encryption', kind: 'value', choices: ['true', 'false', 'default'] },
  '-d': { dest: 'database', kind: 'value' },
  '--database': { dest: 'database', kind: 'value' },
  '--access-mode': { dest: 'accessMode', kind: 'value', choices: ['read', 'write'] },
  '--enable-autocompletions': { dest: 'autocompletions', kind: 'flag' },
  '--format': { dest: 'format', kind: 'value', choices: ['auto', 'verbose', 'plain'] },
  '-P': { dest: 'param', kind: 'value', repeat: true },
  '--param': { dest: 'param', kind: 'value', repeat: true },
  '--non-interactive': { dest: 'nonInteractive', kind: 'flag' },
  '--sample-rows': { dest: 'sampleRows', kind: 'value', integer: true },
  '--wrap': { dest: 'wrap', kind: 'value', choices: ['true', 'false'] },
  '-v': { dest: 'version', kind: 'flag' },
  '--version': { dest: 'version', kind: 'flag' },
  '--driver-version': { dest: 'driverVersion', kind: 'flag' },
  '-f': { dest: 'file', kind: 'value' },
  '--file': { dest: 'file', kind: 'value' },
  '--change-password': { dest: 'changePassword', kind: 'flag' },
  '--log': { dest: 'log', kind: 'optional' },
  '--debug': { dest: 'log', kind: 'optional' },
  '--history': { dest: 'history', kind: 'value' },
  '--notifications': { dest: 'notifications', kind: 'flag' },
  '--idle-timeout': { dest: 'idleTimeout', kind: 'value', duration: true },
  '--error-format': { dest: 'errorFormat', kind: 'value', choices: ['gql', 'legacy', 'stacktrace'] },
  '--transaction-timeout': { dest: 'transactionTimeout', kind: 'value', duration: true },
  '--fail-fast': { dest: 'failFast', kind: 'flag' },
  '--fail-at-end': { dest: 'failAtEnd', kind: 'flag' },
};

class ArgError extends Error {}

export function parseShellArgs(argv) {
  const opts = { param: [] };
  const positionals = [];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    let value;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    } else if (!arg.startsWith('--') && arg.length > 2 && OPTIONS[arg.slice(0, 2)]?.kind === 'value') {
      value = arg.slice(2); // -uneo4j style
      arg = arg.slice(0, 2);
    }
    const def = OPTIONS[arg];
    if (!def) throw new ArgError(`unrecognized arguments: '${argv[i]}'`);
    if (def.kind === 'flag') {
      if (value !== undefined) throw new ArgError(`argument ${arg}: ignored explicit argument '${value}'`);
      opts[def.dest] = true;
      continue;
    }
    if (def.kind === 'optional') {
      if (value === undefined && argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) value = argv[++i];
      opts[def.dest] = value ?? true;
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new ArgError(`argument ${arg}: expected one argument`);
      value = argv[++i];
    }
    if (def.choices && !def.choices.includes(value)) {
      throw new ArgError(
        `argument ${arg}: invalid choice: '${value}' (choose from ${def.choices.map((c) => `'${c}'`).join(', ')})`,
      );
    }
    if (def.integer && !/^\d+$/.test(value))
      throw new ArgError(`argument ${arg}: could not convert '${value}' to Integer`);
    if (def.duration && value !== 'disable' && !/^(\d+h)?(\d+m)?(\d+s)?$/.test(value)) {
      throw new ArgError(`argument ${arg}: failed to parse duration '${value}' (use e.g. 1h30m or 45s)`);
    }
    if (def.repeat) opts[def.dest].push(value);
    else opts[def.dest] = value;
  }
  if (opts.failFast && opts.failAtEnd) {
    throw new ArgError('argument --fail-at-end: not allowed with argument --fail-fast');
  }
  if (positionals.length > 1) throw new ArgError(`unrecognized arguments: '${positionals[1]}'`);
  return { opts, cypher: positionals[0] };
}

/** neo4j://host:port, neo4j+s://…, bolt://…, host:port or host. */
export function parseAddress(text) {
  const m = /^(?:([a-z0-9+]+):\/\/)?(\[[^\]]+\]|[^:/]*)(?::(\d+))?\/?$/i.exec(text);
  if (!m) throw new CypherError('Neo.ClientError.General.InvalidArgument', `Invalid address: ${text}`);
  const scheme = (m[1] ?? 'neo4j').toLowerCase();
  if (!['neo4j', 'neo4j+s', 'neo4j+ssc', 'bolt', 'bolt+s', 'bolt+ssc'].includes(scheme)) {
    throw new CypherError('Neo.ClientError.General.InvalidArgument', `Unsupported URI scheme: ${scheme}`);
  }
  const host = (m[2] || 'localhost').replace(/^\[|\]$/g, '');
  const port = m[3] ? Number(m[3]) : 7687;
  return { scheme, host, port };
}

function evaluateLiteral(expression, text) {
  try {
    const statement = parse(`RETURN ${expression} AS v`);
    return execute(statement, { params: {}, now: new Date(), store: { nodes: [] } }).rows[0][0];
  } catch {
    throw new ArgError(`argument -P: invalid parameter '${text}' (use '{a: 1}' or 'a => 1')`);
  }
}

function parseParams(list) {
  const params = {};
  for (const text of list) {
    const arrow = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=>\s*(.+)$/s.exec(text);
    if (arrow) {
      params[arrow[1]] = evaluateLiteral(arrow[2], text);
      continue;
    }
    const map = /^\s*\{(.*)\}\s*$/s.exec(text);
    if (!map) throw new ArgError(`argument -P: invalid parameter '${text}' (use '{a: 1}' or 'a => 1')`);
    for (const pair of splitTopLevel(map[1])) {
      const kv = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+)$/s.exec(pair);
      if (!kv) throw new ArgError(`argument -P: invalid parameter '${text}'`);
      params[kv[1]] = evaluateLiteral(kv[2], text);
    }
  }
  return params;
}

function splitTopLevel(text) {
  const parts = [];
  let depth = 0;
  let quote = null;
  let current = '';
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  if (current.trim()) parts.push(current);
  return parts;
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function fail(message) {
  process.stderr.write(`${message}\n`);
  return 1;
}

export async function main(argv) {
  let parsed;
  try {
    parsed = parseShellArgs(argv);
  } catch (error) {
    if (error instanceof ArgError) {
      process.stderr.write(`${USAGE}\ncypher-shell: error: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const { opts, cypher } = parsed;
  if (opts.help) {
    process.stdout.write(
      `${USAGE}\n\nA command line shell where you can execute Cypher against an instance of Neo4j.\n` +
        'This is the db-runbook stand-in: see src/sandbox/neo4j-standin/README.md.\n',
    );
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`Cypher-Shell ${NEO4J_VERSION}\n`);
    return 0;
  }
  if (opts.driverVersion) {
    process.stdout.write(`Neo4j Driver ${NEO4J_VERSION}\n`);
    return 0;
  }
  if (opts.changePassword)
    return fail('cypher-shell stand-in: --change-password is not supported by the stand-in');
  if (opts.impersonate) return fail('cypher-shell stand-in: --impersonate is not supported by the stand-in');

  let address;
  try {
    address = parseAddress(
      opts.address ?? process.env.NEO4J_ADDRESS ?? process.env.NEO4J_URI ?? 'neo4j://localhost:7687',
    );
  } catch (error) {
    return fail(error.message);
  }
  const username = opts.username ?? process.env.NEO4J_USERNAME ?? '';
  const password = opts.password ?? process.env.NEO4J_PASSWORD ?? '';

  let script;
  if (cypher !== undefined) script = cypher;
  else if (opts.file) {
    if (!existsSync(opts.file)) return fail(`File not found: ${opts.file}`);
    script = readFileSync(opts.file, 'utf8');
  } else if (process.stdin.isTTY && !opts.nonInteractive) {
    return fail(
      'cypher-shell stand-in: the interactive shell is not supported by the stand-in; pass a Cypher statement, ' +
        '-f FILE, or pipe statements on stdin',
    );
  } else script = await readStdin();

  let params;
  try {
    params = parseParams(opts.param);
  } catch (error) {
    if (error instanceof ArgError) {
      process.stderr.write(`${USAGE}\ncypher-shell: error: ${error.message}\n`);
      return 1;
    }
    return fail(error.message);
  }

  const connection = await handshake({
    host: address.host,
    port: address.port,
    request: { channel: 'bolt', client: 'cypher-shell', user: username, password },
  });
  if (!connection.ok) {
    return fail(
      `Unable to connect to ${address.host}:${address.port}, ensure the database is running and that there is a ` +
        `working network connection to it.`,
    );
  }
  const reply = connection.reply;
  if (!reply.ok) {
    if (reply.code === 'Protocol') {
      return fail(
        'Connection to the database terminated. Please ensure that your database is listening on the correct host ' +
          'and port and that you have compatible encryption settings both on Neo4j server and driver. ' +
          `(${address.host}:${address.port} is ${reply.message})`,
      );
    }
    return fail(reply.message);
  }
  const home = reply.home;
  const format =
    opts.format === 'verbose' || (opts.format !== 'plain' && process.stdout.isTTY) ? 'verbose' : 'plain';
  const statements = splitStatements(script).filter((s) => s !== ':exit');
  logCall(home, { command: 'cypher-shell', argv, user: username, statements });

  let dbms = readDbms(home);
  const database = opts.database ?? process.env.NEO4J_DATABASE ?? dbms.defaultDatabase;
  if (!dbms.databases[database]) return fail(`Database does not exist. Database name: '${database}'.`);

  let failures = 0;
  for (const text of statements) {
    const started = Date.now();
    try {
      if (text.startsWith(':'))
        throw new CypherError(
          'Neo.ClientError.Statement.SyntaxError',
          `cypher-shell stand-in: the command '${text.split(/\s/)[0]}' is not supported by the stand-in`,
        );
      dbms = readDbms(home);
      const statement = parse(text);
      const needsGraph = [
        'merge',
        'create',
        'unwindCreate',
        'matchReturn',
        'matchSet',
        'matchDelete',
      ].includes(statement.kind);
      const info = dbms.databases[database];
      if (needsGraph && (!info || info.requestedStatus !== 'online')) {
        throw new CypherError(
          'Neo.TransientError.General.DatabaseUnavailable',
          `Database '${database}' is unavailable.`,
        );
      }
      const store = needsGraph ? readStore(home, database) : emptyStore('');
      if (needsGraph && !store) {
        throw new CypherError(
          'Neo.TransientError.General.DatabaseUnavailable',
          `Database '${database}' is unavailable.`,
        );
      }
      const result = execute(statement, {
        home,
        dbms,
        store,
        database,
        params,
        now: new Date(),
        accessMode: opts.accessMode ?? 'write',
        settings: readConf(home),
        currentStatus: (name) => {
          const db = dbms.databases[name];
          if (!db) return 'unknown';
          if (db.requestedStatus !== 'online') return 'offline';
          return readStore(home, name) ? 'online' : 'offline';
        },
        lastTxId: (name) => readStore(home, name)?.lastTxId ?? 0,
      });
      if (result.ops.length) {
        store.lastTxId += 1;
        appendTx(home, database, { txId: store.lastTxId, time: new Date().toISOString(), ops: result.ops });
        writeStore(home, database, store);
      }
      if (result.admin) applyAdmin(home, dbms, result.admin);
      process.stdout.write(
        format === 'verbose' ? formatVerbose(result, Date.now() - started) : formatPlain(result),
      );
    } catch (error) {
      if (!(error instanceof CypherError)) throw error;
      process.stderr.write(`${error.message}\n`);
      failures += 1;
      if (!opts.failAtEnd) return 1;
    }
  }
  return failures ? 1 : 0;
}

function applyAdmin(home, dbms, admin) {
  const { kind, name } = admin;
  const db = dbms.databases[name];
  if (kind === 'createDatabase') {
    if (db) {
      if (admin.ifNotExists) return;
      throw new CypherError(
        'Neo.ClientError.Database.ExistingDatabaseFound',
        `Failed to create the specified database '${name}': Database already exists.`,
      );
    }
    if (!/^[A-Za-z][A-Za-z0-9.-]{2,62}$/.test(name)) {
      throw new CypherError('Neo.ClientError.Statement.ArgumentError', `Invalid database name '${name}'.`);
    }
    let store = readStore(home, name);
    if (!store) {
      store = emptyStore(newDatabaseId());
      writeStore(home, name, store);
      replaceTxLog(home, name, []);
    }
    dbms.databases[name] = { id: store.databaseId, type: 'standard', requestedStatus: 'online' };
    writeDbms(home, dbms);
    return;
  }
  if (!db) {
    throw new CypherError(
      'Neo.ClientError.Database.DatabaseNotFound',
      `Failed to ${kind === 'stopDatabase' ? 'stop' : 'start'} the specified database '${name}': Database does not exist.`,
    );
  }
  if (kind === 'stopDatabase' && db.type === 'system') {
    throw new CypherError('Neo.ClientError.Statement.NotAllowed', 'Not allowed to stop system database.');
  }
  db.requestedStatus = kind === 'stopDatabase' ? 'offline' : 'online';
  writeDbms(home, dbms);
}
