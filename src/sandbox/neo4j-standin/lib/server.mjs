// `neo4j` (and `neo4j-admin server …`) stand-in: start | stop | restart | status | version | console.
// "Running" means run/neo4j.pid names the live process that holds the stand-in's TCP listeners
// (opened by startNeo4jStandIn); stop removes the pid file and the listeners then refuse every client.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  CommandError,
  EXIT,
  NEO4J_VERSION,
  UsageError,
  logCall,
  parseOptions,
  paths,
  processAlive,
  requireHome,
  serverPid,
  isServerRunning,
} from './common.mjs';

export const NEO4J_USAGE = `Usage: neo4j [-hV] [--expand-commands] [--verbose] [COMMAND]
A partial alias for 'neo4j-admin server'. Commands for working with DBMS process from 'neo4j-admin server' category can be invoked using this command.
Options:
      --expand-commands   Allow command expansion in config value evaluation.
  -h, --help              Show this help message and exit.
  -V, --version           Print version information and exit.
      --verbose           Prints additional information.
Commands:
  version  Print version information and exit.
  help     Display help information about the specified command.
  console  Start server in console.
  restart  Restart the server daemon.
  start    Start server as a daemon.
  status   Get the status of the neo4j server process.
  stop     Stop the server daemon.
(db-runbook stand-in: 'console' and 'windows-service' are not simulated)`;

const COMMON = {
  '--help': { kind: 'flag' },
  '--expand-commands': { kind: 'flag' },
  '--verbose': { kind: 'flag' },
  '--additional-config': { kind: 'path', label: '<file>' },
};

function commandSpec(name) {
  const options = { ...COMMON };
  if (name === 'start' || name === 'console' || name === 'restart') options['--dry-run'] = { kind: 'flag' };
  if (name === 'stop' || name === 'restart')
    options['--shutdown-timeout'] = { kind: 'string', label: '<seconds>' };
  return { options, aliases: { '-h': '--help' }, positionals: { max: 0 } };
}

function listenerPid(home) {
  const file = paths(home).listener;
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')).pid;
}

function start(home, dryRun) {
  const running = serverPid(home);
  if (running !== undefined && processAlive(running)) {
    process.stdout.write(`Neo4j is already running (pid:${running}).\n`);
    return EXIT.OK;
  }
  const pid = listenerPid(home);
  if (dryRun) {
    process.stdout.write(
      `(dry run) the stand-in would mark the server started; there is no JVM command line\n`,
    );
    return EXIT.OK;
  }
  if (pid === undefined || !processAlive(pid)) {
    throw new CommandError(
      'Unable to start. The db-runbook Neo4j stand-in has no server process behind this NEO4J_HOME any more ' +
        '(the process that called startNeo4jStandIn() has exited); start it again from the sandbox.',
      EXIT.FAILED,
    );
  }
  writeFileSync(paths(home).pid, `${pid}\n`);
  process.stdout.write(
    `Directories in use:\n  home:         ${home}\n  config:       ${home}/conf\n  logs:         ${home}/logs\n` +
      `  data:         ${home}/data\n  run:          ${home}/run\nStarting Neo4j.\n` +
      `Started neo4j (pid:${pid}). It is available at http://localhost:7474\n` +
      'There may be a short delay until the server is ready.\n',
  );
  return EXIT.OK;
}

function stop(home) {
  if (!isServerRunning(home)) {
    rmSync(paths(home).pid, { force: true });
    process.stdout.write('Neo4j is not running.\n');
    return EXIT.OK;
  }
  rmSync(paths(home).pid, { force: true });
  process.stdout.write('Stopping Neo4j... stopped.\n');
  return EXIT.OK;
}

function status(home) {
  const pid = serverPid(home);
  if (pid !== undefined && processAlive(pid)) {
    process.stdout.write(`Neo4j is running at pid ${pid}\n`);
    return EXIT.OK;
  }
  process.stdout.write('Neo4j is not running.\n');
  return EXIT.NOT_RUNNING;
}

/** Runs a server command; `prefix` is 'neo4j' or 'neo4j-admin server' for messages. */
export function serverCommand(argv, prefix = 'neo4j') {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('Missing required subcommand');
  if (command === 'version') {
    process.stdout.write(`${NEO4J_VERSION}\n`);
    return EXIT.OK;
  }
  if (command === 'help') {
    process.stdout.write(`${NEO4J_USAGE}\n`);
    return EXIT.OK;
  }
  if (!['start', 'stop', 'restart', 'status', 'console', 'windows-service'].includes(command)) {
    const index = prefix === 'neo4j' ? 0 : 1;
    throw new UsageError(`Unmatched argument at index ${index}: '${command}'`);
  }
  const { opts, help } = parseOptions(rest, commandSpec(command));
  if (help) {
    process.stdout.write(`Usage: ${prefix} ${command} [-h] [--expand-commands] [--verbose]\n`);
    return EXIT.OK;
  }
  if (command === 'console' || command === 'windows-service') {
    throw new CommandError(
      `${prefix} ${command}: not simulated by the db-runbook Neo4j stand-in`,
      EXIT.FAILED,
    );
  }
  const home = requireHome();
  logCall(home, { command: `${prefix} ${command}`, argv });
  if (command === 'start') return start(home, opts['--dry-run']);
  if (command === 'stop') return stop(home);
  if (command === 'status') return status(home);
  stop(home);
  return start(home, false);
}
