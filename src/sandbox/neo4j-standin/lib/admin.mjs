// neo4j-admin stand-in. Simulated: `database backup` (incl. --inspect-path), `database restore`,
// `database load`, `database dump`, `server start|stop|restart|status`, `version`, `help`.
// Options are checked against Neo4j 5's documented syntax (Operations Manual: online-backup,
// restore-backup, restore-dump, offline-backup); other real commands answer "not simulated".
import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import {
  CommandError,
  EXIT,
  NEO4J_VERSION,
  UsageError,
  handshake,
  info,
  isServerRunning,
  logCall,
  logError,
  parseHostPort,
  parseOptions,
  paths,
  readDbms,
  readStore,
  readTxLog,
  replaceTxLog,
  requireHome,
  writeDbms,
  writeStore,
} from './common.mjs';
import {
  artifactName,
  dumpBuffer,
  findChain,
  listArtifacts,
  readArtifact,
  readArtifactMetadata,
  readDump,
  storeFromChain,
  writeArtifact,
} from './store.mjs';
import { serverCommand } from './server.mjs';

export const ADMIN_USAGE = `Usage: neo4j-admin [-hV] [--expand-commands] [--verbose] [COMMAND]
Neo4j database administration tool.
Options:
      --expand-commands   Allow command expansion in config value evaluation.
  -h, --help              Show this help message and exit.
  -V, --version           Print version information and exit.
      --verbose           Prints additional information.
Commands:
  dbms      DBMS administration tasks
  server    Server administration tasks
  database  Database administration tasks
  backup    Backup administration tasks
  help      Display help information about the specified command.
  version   Print version information and exit.
(db-runbook stand-in: simulates database backup|restore|load|dump and server start|stop|restart|status)`;

const DATABASE_COMMANDS = [
  'aggregate-backup',
  'backup',
  'check',
  'copy',
  'dump',
  'import',
  'info',
  'load',
  'migrate',
  'restore',
  'upload',
];

const COMMON = {
  '--help': { kind: 'flag' },
  '--expand-commands': { kind: 'flag' },
  '--verbose': { kind: 'flag' },
  '--additional-config': { kind: 'path', label: '<file>' },
};
const ALIASES = { '-h': '--help' };

const SPECS = {
  backup: {
    usage: `Usage: neo4j-admin database backup [-h] [--expand-commands] [--prefer-diff-as-parent] [--verbose]
                                   [--compress[=true|false]] [--keep-failed[=true|false]]
                                   [--parallel-recovery[=true|false]] [--remote-address-resolution[=true|false]]
                                   [--additional-config=<file>] [--include-metadata=none|all|users|roles]
                                   [--inspect-path=<path>] [--pagecache=<size>] [--temp-path=<path>]
                                   [--to-path=<path>] [--type=<type>] [--from=<host:port>[,<host:port>...]]...
                                   [<database>...]
Perform an online backup from a running Neo4j enterprise server. Neo4j's backup service must have been
configured on the server beforehand.`,
    options: {
      ...COMMON,
      '--compress': { kind: 'bool' },
      '--keep-failed': { kind: 'bool' },
      '--parallel-recovery': { kind: 'bool' },
      '--prefer-diff-as-parent': { kind: 'bool' },
      '--remote-address-resolution': { kind: 'bool' },
      '--include-metadata': { kind: 'enum', values: ['none', 'all', 'users', 'roles'] },
      '--inspect-path': { kind: 'path', label: '<path>' },
      '--pagecache': { kind: 'size', label: '<size>' },
      '--temp-path': { kind: 'path', label: '<path>' },
      '--to-path': { kind: 'path', label: '<path>' },
      '--type': { kind: 'enum', values: ['FULL', 'DIFF', 'AUTO'], label: '<type>' },
      '--from': { kind: 'string', label: '<host:port>[,<host:port>...]', repeatable: true },
    },
    aliases: ALIASES,
    positionals: { min: 0, max: Infinity, label: '<database>' },
  },
  restore: {
    usage: `Usage: neo4j-admin database restore [-h] [--expand-commands] [--verbose] [--overwrite-destination
                                    [=true|false]] [--source-database[=source-database-name]]
                                    [--additional-config=<file>] --from-path=<path>[,<path>...]
                                    [--restore-until=<recovery-criteria>] [--temp-path=<path>]
                                    [--to-path-data=<path>] [--to-path-txn=<path>] [<database>]
Restore a backed up database.`,
    options: {
      ...COMMON,
      '--overwrite-destination': { kind: 'bool' },
      '--source-database': { kind: 'string', label: '<source-database-name>' },
      '--from-path': { kind: 'string', label: '<path>[,<path>...]', required: true },
      '--restore-until': { kind: 'string', label: '<recovery-criteria>' },
      '--temp-path': { kind: 'path', label: '<path>' },
      '--to-path-data': { kind: 'path', label: '<path>' },
      '--to-path-txn': { kind: 'path', label: '<path>' },
    },
    aliases: ALIASES,
    positionals: { min: 0, max: 1, label: '<database>' },
  },
  load: {
    usage: `Usage: neo4j-admin database load [-h] [--expand-commands] [--info] [--verbose]
                                 [--overwrite-destination[=true|false]] [--additional-config=<file>]
                                 [--from-path=<path> | --from-stdin] <database>
Load a database from an archive. <archive-path> must be a directory containing an archive(s).
Archive can be a database dump created with the dump command, or can be a full backup artifact
created by the backup command from Neo4j Enterprise.`,
    options: {
      ...COMMON,
      '--info': { kind: 'flag' },
      '--overwrite-destination': { kind: 'bool' },
      '--from-path': { kind: 'path', label: '<path>' },
      '--from-stdin': { kind: 'flag' },
    },
    aliases: ALIASES,
    positionals: { min: 1, max: 1, label: '<database>' },
  },
  dump: {
    usage: `Usage: neo4j-admin database dump [-h] [--expand-commands] [--verbose]
                                 [--overwrite-destination[=true|false]] [--additional-config=<file>]
                                 [--to-path=<path> | --to-stdout] <database>
Dump a database into a single-file archive.`,
    options: {
      ...COMMON,
      '--overwrite-destination': { kind: 'bool' },
      '--to-path': { kind: 'path', label: '<path>' },
      '--to-stdout': { kind: 'flag' },
    },
    aliases: ALIASES,
    positionals: { min: 1, max: 1, label: '<database>' },
  },
};

/** parseOptions with repeatable --from collected. */
function parse(argv, spec) {
  const froms = [];
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (spec.options['--from'] && (arg === '--from' || arg.startsWith('--from='))) {
      const value = arg === '--from' ? argv[++i] : arg.slice('--from='.length);
      if (value === undefined)
        throw new UsageError(`Missing required parameter for option '--from' (<host:port>[,<host:port>...])`);
      froms.push(...value.split(',').filter(Boolean));
    } else rest.push(arg);
  }
  const parsed = parseOptions(rest, spec);
  if (froms.length) parsed.opts['--from'] = froms;
  return parsed;
}

function checkAdditionalConfig(opts) {
  const file = opts['--additional-config'];
  if (file && !existsSync(file)) throw new CommandError(`File '${file}' does not exist`, EXIT.FAILED);
}

function globToRegExp(glob) {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

function rejectCloud(path, option) {
  if (/^(s3|gs|azb):\/\//.test(path)) {
    throw new CommandError(
      `${option}=${path}: cloud storage paths are not simulated by the db-runbook Neo4j stand-in`,
      EXIT.FAILED,
    );
  }
}

function inUse(home, dbms, db) {
  return isServerRunning(home) && dbms.databases[db]?.requestedStatus === 'online';
}

// ---------------------------------------------------------------------------------------------
// database backup
// ---------------------------------------------------------------------------------------------
async function backup(argv) {
  const { opts, positionals } = parse(argv, SPECS.backup);
  checkAdditionalConfig(opts);
  if (opts['--inspect-path']) return inspect(opts['--inspect-path']);
  if (!opts['--to-path']) {
    throw new UsageError(
      "Missing required option: '--to-path=<path>' (required unless --inspect-path is used)",
    );
  }
  const toPath = resolve(opts['--to-path']);
  rejectCloud(opts['--to-path'], '--to-path');
  if (!existsSync(toPath) || !statSync(toPath).isDirectory()) {
    throw new CommandError(`Path '${toPath}' does not exist or is not a directory.`, EXIT.FAILED);
  }
  const tempPath = opts['--temp-path'] ? resolve(opts['--temp-path']) : undefined;
  if (tempPath && (!existsSync(tempPath) || readdirSync(tempPath).length > 0)) {
    throw new CommandError(`--temp-path '${tempPath}' must be an existing empty directory.`, EXIT.FAILED);
  }
  const servers = (opts['--from'] ?? ['localhost:6362']).map((text) => {
    const parsed = parseHostPort(text, 6362);
    if (!parsed)
      throw new UsageError(`Invalid value for option '--from': '${text}' is not a valid <host:port>`);
    return parsed;
  });
  const patterns = positionals.length ? positionals : ['neo4j'];
  const requested = patterns.join("', '");
  info(
    'c.n.b.v.b.BackupOutputMonitor',
    `Starting backup of database '${requested}' from servers: [${servers.map((s) => `${s.host}:${s.port}`).join(', ')}]`,
  );

  let home;
  for (const server of servers) {
    const result = await handshake({
      host: server.host,
      port: server.port,
      request: { channel: 'backup', client: 'neo4j-admin' },
    });
    if (result.ok && result.reply.ok) {
      home = result.reply.home;
      info('c.n.b.v.b.BackupOutputMonitor', `Using remote server ${server.host}:${server.port} for backup.`);
      break;
    }
    const why = result.ok
      ? `${result.reply.message}`
      : result.reason === 'refused'
        ? 'Connection refused'
        : result.reason === 'timeout'
          ? `Connection timed out`
          : result.detail;
    logError('c.n.b.v.b.BackupOutputMonitor', `Unable to connect to ${server.host}:${server.port}: ${why}`);
  }
  logCall(home ?? process.env.NEO4J_HOME, { command: 'database backup', argv, reached: Boolean(home) });
  if (!home) {
    throw new CommandError(
      `Backup command failed to execute for database(s) '${requested}': no backup server could be reached at ` +
        `[${servers.map((s) => `${s.host}:${s.port}`).join(', ')}]. Check that server.backup.enabled=true and that ` +
        `server.backup.listen_address (default 127.0.0.1:6362) listens on an address reachable from this client.`,
      EXIT.FAILED,
    );
  }

  const dbms = readDbms(home);
  const names = new Set();
  for (const pattern of patterns) {
    const matched = Object.keys(dbms.databases).filter((name) => globToRegExp(pattern).test(name));
    if (!matched.length) {
      throw new CommandError(
        `Backup failed for database '${pattern}': Database '${pattern}' does not exist.`,
        EXIT.FAILED,
      );
    }
    matched.forEach((n) => names.add(n));
  }
  const failures = [];
  for (const db of names) {
    try {
      await backupOne({
        home,
        dbms,
        db,
        toPath,
        tempPath,
        type: opts['--type'] ?? 'AUTO',
        compress: opts['--compress'] ?? true,
      });
    } catch (error) {
      if (!(error instanceof CommandError)) throw error;
      logError('c.n.b.v.b.BackupOutputMonitor', error.message);
      failures.push(db);
    }
  }
  if (failures.length)
    throw new CommandError(`Backup failed for databases: '${failures.join("', '")}'`, EXIT.FAILED);
  return EXIT.OK;
}

async function backupOne({ home, dbms, db, toPath, tempPath, type, compress }) {
  const info_ = dbms.databases[db];
  if (info_.requestedStatus !== 'online' || !isServerRunning(home)) {
    throw new CommandError(`Database '${db}' is not online; an online backup needs a started database.`);
  }
  const store = readStore(home, db);
  if (!store) throw new CommandError(`Database '${db}' is not online; its store is missing.`);
  const previous = listArtifacts(toPath).filter((a) => a.metadata.database === db);
  const sameDb = previous.filter((a) => a.metadata.databaseId === store.databaseId);
  const parent = sameDb.sort((a, b) => a.metadata.highestTx - b.metadata.highestTx).at(-1);

  let full;
  let reason;
  if (type === 'FULL') full = true;
  else {
    reason = !parent
      ? previous.length
        ? `the backups in ${toPath} belong to a different database id than '${db}' (${store.databaseId})`
        : `no previous backup of '${db}' found in ${toPath}`
      : parent.metadata.highestTx > store.lastTxId
        ? `the backup chain in ${toPath} is ahead of the database (highest tx ${parent.metadata.highestTx} > ${store.lastTxId})`
        : undefined;
    if (!reason && parent.metadata.highestTx < store.lastTxId) {
      const available = readTxLog(home, db).map((tx) => tx.txId);
      if (!available.includes(parent.metadata.highestTx + 1)) {
        reason = `the transactions after ${parent.metadata.highestTx} are no longer in the transaction log`;
      }
    }
    if (type === 'DIFF' && reason) {
      throw new CommandError(
        `Unable to perform a differential backup of database '${db}': ${reason}. Use --type=FULL.`,
      );
    }
    full = Boolean(reason);
    if (type === 'AUTO' && reason) info('c.n.b.v.b.BackupOutputMonitor', `Full backup required: ${reason}.`);
  }

  let date = new Date();
  let name = artifactName(db, date);
  while (existsSync(join(toPath, name))) {
    // artifact names have one-second resolution: never overwrite an immutable artifact
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    date = new Date();
    name = artifactName(db, date);
  }
  const metadata = {
    database: db,
    databaseId: store.databaseId,
    time: date.toISOString().slice(0, 19),
    full,
    compressed: compress,
    lowestTx: full ? 1 : parent.metadata.highestTx + 1,
    highestTx: store.lastTxId,
    neo4jVersion: NEO4J_VERSION,
  };
  info(
    'c.n.b.v.b.BackupOutputMonitor',
    `Start ${full ? 'full' : 'differential'} backup of database '${db}'.`,
  );
  const payload = full
    ? { store, transactions: [] }
    : {
        transactions: readTxLog(home, db).filter(
          (tx) => tx.txId >= metadata.lowestTx && tx.txId <= metadata.highestTx,
        ),
      };
  const staging = join(tempPath ?? toPath, `.${name}.${process.pid}.tmp`);
  writeArtifact(staging, metadata, payload);
  renameSync(staging, join(toPath, name));
  logCall(home, {
    command: 'database backup (artifact)',
    database: db,
    artifact: name,
    full,
    lowestTx: metadata.lowestTx,
    highestTx: metadata.highestTx,
  });
  info(
    'c.n.b.v.b.BackupOutputMonitor',
    `Finished ${full ? 'full' : 'differential'} backup of database '${db}': ${join(toPath, name)} (transactions ${metadata.lowestTx}..${metadata.highestTx}).`,
  );
}

function inspect(path) {
  const target = resolve(path);
  if (!existsSync(target)) throw new CommandError(`Path '${target}' does not exist.`, EXIT.FAILED);
  const files = statSync(target).isDirectory()
    ? listArtifacts(target)
    : [{ file: target, metadata: readArtifactMetadata(target) }].filter((a) => a.metadata);
  const header = ['FILE', 'DATABASE', 'DATABASE ID', 'TIME', 'FULL', 'COMPRESSED', 'LOWEST TX', 'HIGHEST TX'];
  const rows = files.map((a) => [
    `file://${a.file}`,
    a.metadata.database,
    a.metadata.databaseId,
    a.metadata.time,
    String(a.metadata.full),
    String(a.metadata.compressed),
    String(a.metadata.lowestTx),
    String(a.metadata.highestTx),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => `| ${cells.map((c, i) => c.padStart(widths[i])).join(' | ')} |`;
  process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
  return EXIT.OK;
}

// ---------------------------------------------------------------------------------------------
// database restore
// ---------------------------------------------------------------------------------------------
function parseRestoreUntil(text) {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return { tx: Number(text) };
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(text.trim());
  if (!m) {
    throw new UsageError(
      `Invalid value for option '--restore-until': '${text}' is neither a transaction id nor a 'yyyy-mm-dd hh:mm:ss' UTC date`,
    );
  }
  return { time: new Date(`${m[1]}T${m[2]}Z`) };
}

function restore(argv) {
  const { opts, positionals } = parse(argv, SPECS.restore);
  checkAdditionalConfig(opts);
  const home = requireHome();
  const fromPaths = opts['--from-path']
    .split(',')
    .filter(Boolean)
    .map((p) => {
      rejectCloud(p, '--from-path');
      return resolve(p);
    });
  for (const p of fromPaths)
    if (!existsSync(p)) throw new CommandError(`Path '${p}' does not exist.`, EXIT.FAILED);
  const target = positionals[0];
  const single = fromPaths.length === 1 && statSync(fromPaths[0]).isFile();
  if (target !== undefined && !single) {
    throw new UsageError(
      'The <database> parameter is only allowed if --from-path points to a single backup artifact',
    );
  }
  if (opts['--to-path-data'] || opts['--to-path-txn']) {
    throw new CommandError(
      '--to-path-data/--to-path-txn are not simulated by the db-runbook Neo4j stand-in',
      EXIT.FAILED,
    );
  }
  const until = parseRestoreUntil(opts['--restore-until']);

  // What to restore: each file is the last element of a chain; a folder contributes its latest artifact per database.
  const lasts = [];
  for (const p of fromPaths) {
    if (statSync(p).isFile()) {
      if (!readArtifactMetadata(p))
        throw new CommandError(`${p} is not a Neo4j backup artifact`, EXIT.FAILED);
      lasts.push(p);
    } else {
      const latest = new Map();
      for (const a of listArtifacts(p)) {
        if (opts['--source-database'] && a.metadata.database !== opts['--source-database']) continue;
        const current = latest.get(a.metadata.database);
        if (!current || a.metadata.highestTx > current.metadata.highestTx) latest.set(a.metadata.database, a);
      }
      if (!latest.size) throw new CommandError(`No backup artifacts found in ${p}`, EXIT.FAILED);
      lasts.push(...[...latest.values()].map((a) => a.file));
    }
  }

  const dbms = readDbms(home);
  for (const last of lasts) {
    const chain = findChain(dirname(last), last);
    const db = target ?? chain[0].metadata.database;
    const registered = dbms.databases[db];
    if (registered && readStore(home, db) && !opts['--overwrite-destination']) {
      throw new CommandError(
        `Database with name [${db}] already exists at ${paths(home).storeDir(db)}. Use --overwrite-destination=true to replace it.`,
        EXIT.FAILED,
      );
    }
    if (inUse(home, dbms, db)) {
      throw new CommandError(
        `The database '${db}' is in use. Stop database '${db}' (STOP DATABASE ${db} WAIT) and try again.`,
        EXIT.FAILED,
      );
    }
    let untilTx = until?.tx;
    if (until?.time) {
      // the first transaction committed at or after the timestamp is not restored
      untilTx = storeFromChain(chain).replayed.find((tx) => new Date(tx.time) >= until.time)?.txId;
    }
    const { store, replayed } = storeFromChain(chain, untilTx);
    writeStore(home, db, store);
    replaceTxLog(home, db, replayed);
    if (registered) {
      registered.id = store.databaseId;
      writeDbms(home, dbms);
    }
    logCall(home, {
      command: 'database restore',
      argv,
      database: db,
      chain: chain.map((a) => basename(a.file)),
      types: chain.map((a) => (a.metadata.full ? 'FULL' : 'DIFF')),
      lastTxId: store.lastTxId,
    });
    info(
      'c.n.b.b.RestoreDatabaseCli',
      `Restoring database '${db}' from chain [${chain.map((a) => basename(a.file)).join(', ')}]`,
    );
    info(
      'c.n.b.b.RestoreDatabaseCli',
      `Restore of database '${db}' completed successfully (last transaction ${store.lastTxId}).`,
    );
    if (!registered) {
      process.stdout.write(
        `Database '${db}' was restored; create it with CREATE DATABASE ${db} (against the system database).\n`,
      );
    }
  }
  return EXIT.OK;
}

// ---------------------------------------------------------------------------------------------
// database load / dump
// ---------------------------------------------------------------------------------------------
async function load(argv) {
  const { opts, positionals } = parse(argv, SPECS.load);
  checkAdditionalConfig(opts);
  if (opts['--from-path'] && opts['--from-stdin']) {
    throw new UsageError('Error: --from-path=<path>, --from-stdin are mutually exclusive (specify only one)');
  }
  const home = requireHome();
  const db = positionals[0];
  let buffer;
  let source;
  if (opts['--from-stdin']) {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    buffer = Buffer.concat(chunks);
    source = '<stdin>';
  } else {
    rejectCloud(opts['--from-path'] ?? '', '--from-path');
    const dir = resolve(opts['--from-path'] ?? paths(home).dumps);
    const candidates = [join(dir, `${db}.dump`), join(dir, `${db}.backup`)];
    source = candidates.find((f) => existsSync(f));
    if (!source) {
      throw new CommandError(
        `Failed to load database '${db}': Archive does not exist: ${candidates[0]}\nLoad failed for databases: '${db}'`,
        EXIT.FAILED,
      );
    }
    buffer = readFileSync(source);
  }
  let store;
  const dump = readDump(buffer, source);
  let format;
  if (dump) {
    store = dump.store;
    format = 'Neo4j dump (stand-in)';
  } else {
    const tmp = source === '<stdin>' ? undefined : source;
    const metadata = tmp ? readArtifactMetadata(tmp) : undefined;
    if (!metadata)
      throw new CommandError(
        `Failed to load database '${db}': ${source} is not a dump or a backup artifact\nLoad failed for databases: '${db}'`,
        EXIT.FAILED,
      );
    if (!metadata.full) {
      throw new CommandError(
        `Failed to load database '${db}': ${source} is a differential backup artifact; 'load' accepts only dumps and ` +
          `full backups. Restore a differential with 'neo4j-admin database restore' and its whole backup chain.\n` +
          `Load failed for databases: '${db}'`,
        EXIT.FAILED,
      );
    }
    store = readArtifact(tmp).payload.store;
    format = 'Neo4j full backup artifact';
  }
  if (opts['--info']) {
    process.stdout.write(`Database: ${db}\nFormat: ${format}\nFiles: 1\nBytes: ${buffer.length}\n`);
    return EXIT.OK;
  }
  const dbms = readDbms(home);
  if (dbms.databases[db] && readStore(home, db) && !opts['--overwrite-destination']) {
    throw new CommandError(
      `Failed to load database '${db}': Database already exists. Use --overwrite-destination=true to replace it.\nLoad failed for databases: '${db}'`,
      EXIT.FAILED,
    );
  }
  if (inUse(home, dbms, db)) {
    throw new CommandError(
      `Failed to load database '${db}': The database is in use. Stop database '${db}' and try again.\nLoad failed for databases: '${db}'`,
      EXIT.FAILED,
    );
  }
  writeStore(home, db, store);
  replaceTxLog(home, db, []);
  if (dbms.databases[db]) {
    dbms.databases[db].id = store.databaseId;
    writeDbms(home, dbms);
  }
  logCall(home, {
    command: 'database load',
    argv,
    database: db,
    source: source === '<stdin>' ? source : basename(source),
    format,
    lastTxId: store.lastTxId,
  });
  process.stdout.write(`Done: 1 files, ${buffer.length} B processed.\n`);
  return EXIT.OK;
}

function dump(argv) {
  const { opts, positionals } = parse(argv, SPECS.dump);
  checkAdditionalConfig(opts);
  if (opts['--to-path'] && opts['--to-stdout']) {
    throw new UsageError('Error: --to-path=<path>, --to-stdout are mutually exclusive (specify only one)');
  }
  const home = requireHome();
  const db = positionals[0];
  const dbms = readDbms(home);
  const store = readStore(home, db);
  if (!dbms.databases[db] || !store)
    throw new CommandError(`Failed to dump database '${db}': Database does not exist.`, EXIT.FAILED);
  if (inUse(home, dbms, db)) {
    throw new CommandError(
      `Failed to dump database '${db}': The database is in use. Stop database '${db}' and try again.`,
      EXIT.FAILED,
    );
  }
  const buffer = dumpBuffer(db, store);
  logCall(home, { command: 'database dump', argv, database: db });
  if (opts['--to-stdout']) {
    process.stdout.write(buffer);
    return EXIT.OK;
  }
  rejectCloud(opts['--to-path'] ?? '', '--to-path');
  const dir = resolve(opts['--to-path'] ?? paths(home).dumps);
  if (!existsSync(dir))
    throw new CommandError(
      `Failed to dump database '${db}': Directory '${dir}' does not exist.`,
      EXIT.FAILED,
    );
  const file = join(dir, `${db}.dump`);
  if (existsSync(file) && !opts['--overwrite-destination']) {
    throw new CommandError(`Failed to dump database '${db}': Archive already exists: ${file}`, EXIT.FAILED);
  }
  writeFileSync(file, buffer);
  process.stdout.write(`Done: 1 files, ${buffer.length} B processed.\n`);
  return EXIT.OK;
}

// ---------------------------------------------------------------------------------------------
// entry point
// ---------------------------------------------------------------------------------------------
export async function adminMain(argv) {
  const [category, command, ...rest] = argv;
  if (category === undefined) throw new UsageError('Missing required subcommand');
  if (category === '-V' || category === '--version' || category === 'version') {
    process.stdout.write(`${NEO4J_VERSION}\n`);
    return EXIT.OK;
  }
  if (category === '-h' || category === '--help' || category === 'help') {
    process.stdout.write(`${ADMIN_USAGE}\n`);
    return EXIT.OK;
  }
  if (category === 'server') return serverCommand(argv.slice(1), 'neo4j-admin server');
  if (category === 'database') {
    if (command === undefined) throw new UsageError('Missing required subcommand');
    if (!DATABASE_COMMANDS.includes(command))
      throw new UsageError(`Unmatched argument at index 1: '${command}'`);
    const spec = SPECS[command];
    if (!spec) {
      throw new CommandError(
        `neo4j-admin database ${command}: a real Neo4j command that the db-runbook stand-in does not simulate`,
        EXIT.FAILED,
      );
    }
    if (rest.includes('-h') || rest.includes('--help')) {
      process.stdout.write(`${spec.usage}\n`);
      return EXIT.OK;
    }
    try {
      if (command === 'backup') return await backup(rest);
      if (command === 'restore') return restore(rest);
      if (command === 'load') return await load(rest);
      return dump(rest);
    } catch (error) {
      if (error instanceof UsageError) error.usage = spec.usage;
      throw error;
    }
  }
  if (category === 'dbms' || category === 'backup') {
    throw new CommandError(
      `neo4j-admin ${category} ${command ?? ''}: not simulated by the db-runbook Neo4j stand-in`.trim(),
      EXIT.FAILED,
    );
  }
  throw new UsageError(`Unmatched argument at index 0: '${category}'`);
}
