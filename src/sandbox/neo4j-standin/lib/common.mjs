// Shared pieces of the Neo4j stand-in executables: the NEO4J_HOME layout, state files, a picocli-like
// argument parser, Neo4j-style log lines, the call log, and the client side of the TCP handshake.
// Plain Node ESM, no dependencies: these files ship as-is (no build step).
import { createHash, randomUUID } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';

export const NEO4J_VERSION = '5.26.0';
export const EDITION = 'enterprise';

/** Exit codes documented for neo4j-admin / neo4j (Operations Manual, "Neo4j Admin and Neo4j CLI"). */
export const EXIT = { OK: 0, FAILED: 1, NOT_RUNNING: 3, USAGE: 64, SOFTWARE: 70 };

export class UsageError extends Error {}
export class CommandError extends Error {
  constructor(message, code = EXIT.FAILED) {
    super(message);
    this.code = code;
  }
}

// ---------------------------------------------------------------------------------------------
// NEO4J_HOME layout (the stand-in's whole "server" state lives under it)
// ---------------------------------------------------------------------------------------------
export function paths(home) {
  return {
    home,
    conf: join(home, 'conf', 'neo4j.conf'),
    dbms: join(home, 'data', 'dbms', 'standin-dbms.json'),
    store: (db) => join(home, 'data', 'databases', db, 'standin-store.json'),
    storeDir: (db) => join(home, 'data', 'databases', db),
    txlog: (db) => join(home, 'data', 'transactions', db, 'standin-txlog.jsonl'),
    txDir: (db) => join(home, 'data', 'transactions', db),
    pid: join(home, 'run', 'neo4j.pid'),
    listener: join(home, 'run', 'standin-listener.json'),
    calls: join(home, 'logs', 'standin-calls.jsonl'),
    dumps: join(home, 'data', 'dumps'),
  };
}

export function requireHome(env = process.env) {
  const home = env.NEO4J_HOME;
  if (!home)
    throw new CommandError('NEO4J_HOME is not set: the stand-in keeps the server state under NEO4J_HOME.');
  if (!existsSync(paths(home).dbms)) {
    throw new CommandError(
      `NEO4J_HOME=${home} is not a Neo4j home created by the stand-in (no data/dbms): start it with startNeo4jStandIn().`,
    );
  }
  return home;
}

export function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Atomic write (temp file + rename) so a reader never sees half a file. */
export function writeJson(file, value) {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 1) + '\n');
  renameSync(tmp, file);
}

export function readConf(home) {
  const settings = {};
  const file = paths(home).conf;
  if (!existsSync(file)) return settings;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq > 0) settings[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return settings;
}

export function readDbms(home) {
  return readJson(paths(home).dbms);
}
export function writeDbms(home, dbms) {
  writeJson(paths(home).dbms, dbms);
}

export function emptyStore(databaseId) {
  return { databaseId, lastTxId: 1, nextNodeId: 0, nodes: [] };
}

export function readStore(home, db) {
  const file = paths(home).store(db);
  return existsSync(file) ? readJson(file) : undefined;
}
export function writeStore(home, db, store) {
  writeJson(paths(home).store(db), store);
}

export function readTxLog(home, db) {
  const file = paths(home).txlog(db);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}
export function appendTx(home, db, tx) {
  const file = paths(home).txlog(db);
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, JSON.stringify(tx) + '\n');
}
export function replaceTxLog(home, db, txs) {
  const file = paths(home).txlog(db);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, txs.map((tx) => JSON.stringify(tx) + '\n').join(''));
}
export function removeDatabaseFiles(home, db) {
  rmSync(paths(home).storeDir(db), { recursive: true, force: true });
  rmSync(paths(home).txDir(db), { recursive: true, force: true });
}

export function sha256(text) {
  return createHash('sha256').update(text).digest('hex');
}

export function newDatabaseId() {
  return randomUUID();
}

/** Creates a fresh home: conf, DBMS state (users, databases), empty stores. Used by startNeo4jStandIn. */
export function initHome({ home, host, boltPort, backupPort, database, username, password }) {
  const p = paths(home);
  for (const dir of [
    'conf',
    'data/dbms',
    'data/databases',
    'data/transactions',
    'data/dumps',
    'logs',
    'run',
  ]) {
    mkdirSync(join(home, dir), { recursive: true });
  }
  writeFileSync(
    p.conf,
    [
      '# neo4j.conf written by the db-runbook Neo4j stand-in (only these settings are simulated)',
      `initial.dbms.default_database=${database}`,
      `server.default_listen_address=${host}`,
      `server.bolt.enabled=true`,
      `server.bolt.listen_address=${host}:${boltPort}`,
      `server.backup.enabled=true`,
      `server.backup.listen_address=${host}:${backupPort}`,
      `server.backup.store_copy_max_retry_time_per_request=20m`,
      '',
    ].join('\n'),
  );
  const dbms = {
    format: 'neo4j-standin-dbms/1',
    defaultDatabase: database,
    users: { [username]: { passwordSha256: sha256(password) } },
    databases: {
      system: { id: newDatabaseId(), type: 'system', requestedStatus: 'online' },
      [database]: { id: newDatabaseId(), type: 'standard', requestedStatus: 'online' },
    },
  };
  writeDbms(home, dbms);
  for (const [name, info] of Object.entries(dbms.databases)) {
    writeStore(home, name, emptyStore(info.id));
    replaceTxLog(home, name, []);
  }
  return dbms;
}

// ---------------------------------------------------------------------------------------------
// Server "running" state: run/neo4j.pid exists while the server runs (neo4j start/stop toggle it)
// ---------------------------------------------------------------------------------------------
export function serverPid(home) {
  const file = paths(home).pid;
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

export function isServerRunning(home) {
  const pid = serverPid(home);
  return pid !== undefined && processAlive(pid);
}

// ---------------------------------------------------------------------------------------------
// Call log: every invocation of a stand-in executable is appended to <home>/logs/standin-calls.jsonl
// ---------------------------------------------------------------------------------------------
export function logCall(home, entry) {
  if (!home) return;
  try {
    const file = paths(home).calls;
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(
      file,
      JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...entry }) + '\n',
    );
  } catch {
    // the call log is a test aid; never fail a command because of it
  }
}

// ---------------------------------------------------------------------------------------------
// Neo4j-style log lines
// ---------------------------------------------------------------------------------------------
export function logTime(date = new Date()) {
  return date.toISOString().replace('T', ' ').replace('Z', '+0000');
}
export function info(component, message) {
  process.stdout.write(`${logTime()} INFO  [${component}] ${message}\n`);
}
export function logError(component, message) {
  process.stderr.write(`${logTime()} ERROR [${component}] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// picocli-like option parsing (neo4j-admin, neo4j)
// ---------------------------------------------------------------------------------------------
/**
 * spec.options: { '--name': { kind: 'string'|'path'|'bool'|'enum'|'size'|'flag', label, values, required } }
 * spec.aliases: { '-h': '--help' }
 * spec.positionals: { label, min, max }
 */
export function parseOptions(argv, spec) {
  const opts = {};
  const positionals = [];
  const options = spec.options ?? {};
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('-') && arg !== '-') {
      let value;
      const eq = arg.indexOf('=');
      if (eq > 0) {
        value = arg.slice(eq + 1);
        arg = arg.slice(0, eq);
      }
      const name = spec.aliases?.[arg] ?? arg;
      const def = options[name];
      if (!def) throw new UsageError(`Unknown option: '${argv[i]}'`);
      if (def.kind === 'flag') {
        if (value !== undefined)
          throw new UsageError(`option '${name}' should be specified without '${value}' parameter`);
        opts[name] = true;
        continue;
      }
      if (def.kind === 'bool') {
        if (value === undefined && (argv[i + 1] === 'true' || argv[i + 1] === 'false')) value = argv[++i];
        if (value === undefined) value = 'true';
        if (value !== 'true' && value !== 'false') {
          throw new UsageError(`Invalid value for option '${name}': '${value}' is not a boolean`);
        }
        opts[name] = value === 'true';
        continue;
      }
      if (value === undefined) {
        if (i + 1 >= argv.length)
          throw new UsageError(`Missing required parameter for option '${name}' (${def.label})`);
        value = argv[++i];
      }
      if (def.kind === 'enum') {
        const match = def.values.find((v) => v.toLowerCase() === value.toLowerCase());
        if (!match) {
          throw new UsageError(
            `Invalid value for option '${name}': expected one of [${def.values.join(', ')}] (case-insensitive) but was '${value}'`,
          );
        }
        value = match;
      }
      if (def.kind === 'size' && !/^\d+(\.\d+)?[kKmMgGtT]?[bB]?$/.test(value)) {
        throw new UsageError(`Invalid value for option '${name}': '${value}' is not a valid size`);
      }
      if ((def.kind === 'path' || def.kind === 'string') && value === '') {
        throw new UsageError(`Invalid value for option '${name}': value must not be empty`);
      }
      opts[name] = value;
    } else {
      positionals.push(arg);
    }
  }
  if (opts['--help']) return { opts, positionals, help: true };
  for (const [name, def] of Object.entries(options)) {
    if (def.required && opts[name] === undefined)
      throw new UsageError(`Missing required option: '${name}=${def.label}'`);
  }
  const { min = 0, max = 0, label = '<arg>' } = spec.positionals ?? {};
  if (positionals.length > max) {
    const index = argv.indexOf(positionals[max]);
    throw new UsageError(`Unmatched argument at index ${index}: '${positionals[max]}'`);
  }
  if (positionals.length < min) throw new UsageError(`Missing required parameter: '${label}'`);
  return { opts, positionals, help: false };
}

/** Runs a CLI main: maps UsageError to 64 + usage, CommandError to its code, anything else to 70. */
export async function runMain(fn, usage) {
  try {
    const code = await fn();
    process.exitCode = code ?? EXIT.OK;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${error.usage ?? usage}\n`);
      process.exitCode = EXIT.USAGE;
    } else if (error instanceof CommandError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = error.code;
    } else {
      process.stderr.write(`${error?.stack ?? error}\n`);
      process.exitCode = EXIT.SOFTWARE;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// TCP handshake with the stand-in "server" (the listeners opened by startNeo4jStandIn)
// ---------------------------------------------------------------------------------------------
/** Parses "host:port" (IPv6 in brackets allowed); port defaults to defaultPort. */
export function parseHostPort(text, defaultPort) {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]*)(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  const host = m[1] || 'localhost';
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/**
 * Connects to HOST:PORT, sends one JSON line and reads one JSON line back.
 * Resolves { ok: true, reply } or { ok: false, reason: 'refused'|'closed'|'timeout'|'unreachable', detail }.
 */
export function handshake({ host, port, request, timeoutMs }) {
  const timeout = timeoutMs ?? Number(process.env.NEO4J_STANDIN_CONNECT_TIMEOUT_MS ?? 10000);
  return new Promise((resolve) => {
    let buffer = '';
    let settled = false;
    const socket = connect({ host, port });
    const done = (result) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeout, () =>
      done({ ok: false, reason: 'timeout', detail: `timed out after ${timeout} ms` }),
    );
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      const nl = buffer.indexOf('\n');
      if (nl >= 0) {
        try {
          done({ ok: true, reply: JSON.parse(buffer.slice(0, nl)) });
        } catch {
          done({ ok: false, reason: 'closed', detail: 'unexpected response (not a Neo4j stand-in server)' });
        }
      }
    });
    socket.on('error', (error) => {
      const reason =
        error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ECONNRESET' ? 'closed' : 'unreachable';
      done({ ok: false, reason, detail: `${error.code ?? ''} ${error.message}`.trim() });
    });
    socket.on('close', () =>
      done({ ok: false, reason: 'closed', detail: 'connection closed by the server' }),
    );
  });
}
