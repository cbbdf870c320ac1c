#!/usr/bin/env node
// One idempotent setup step for what the project needs beyond `npm ci`: the machine's tools (apt, as root),
// the sandbox's local Kubernetes control plane, built once from the Go module proxy, and Neo4j Community
// from Maven Central, each cached by version outside the work tree. `npm test` runs it first; `db-runbook --sandbox` runs it with --no-apt.
// A second run only checks and takes a few milliseconds.
//
//   node scripts/setup.mjs [--no-apt] [--quiet]
//
// Exit codes: 0 ready · 2 something is missing that this step may not or cannot install (one line says what to do)
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = new Set(process.argv.slice(2));
const allowApt = !args.has('--no-apt');
const quiet = args.has('--quiet');
const say = (line) => {
  if (!quiet) process.stderr.write(`setup: ${line}\n`);
};

/** Commands the sandbox, the backup Jobs and the tests run, and the Debian package that brings each. */
const TOOLS = [
  { command: 'psql', pkg: 'postgresql-client-15', needed: 'restores and checks' },
  { command: 'pg_dump', pkg: 'postgresql-client-15', needed: 'backups' },
  { command: 'aws', pkg: 'awscli', needed: 'the backup and restore scripts' },
  { command: 'shellcheck', pkg: 'shellcheck', needed: 'the shell-script tests' },
  { command: 'tmux', pkg: 'tmux', needed: 'the terminal UI tests' },
  { command: 'pigz', pkg: 'pigz', needed: 'parallel gzip in the backup scripts' },
  { command: 'igzip', pkg: 'isal', needed: 'fast gzip in the backup scripts' },
  { command: 'chromium', pkg: 'chromium', needed: 'the HTML report test' },
];

const CONTROL_PLANE_SOURCE = join(root, 'sandbox', 'control-plane');
const NEO4J_POM = join(root, 'sandbox', 'neo4j', 'pom.xml');

function onPath(command) {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}

function readFileIfAny(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One build at a time: another setup (a parallel test run, a second terminal) may be making `dir` now.
 * Returns the lock's release, or null when the other setup finished it meanwhile.
 */
async function buildLock(dir, doing, ready) {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(dir), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      const holder = Number(readFileIfAny(join(lock, 'pid')));
      if (holder > 0 && !alive(holder)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      say(`waiting for another setup that is ${doing}…`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      if (ready()) return null;
    }
  }
  const release = () => rmSync(lock, { recursive: true, force: true });
  process.on('exit', release);
  return release;
}

function ensureTools() {
  const missing = TOOLS.filter((tool) => !onPath(tool.command));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => tool.pkg))];
  const line = `apt-get update && apt-get install -y ${packages.join(' ')}`;
  if (!allowApt) {
    say(`missing ${missing.map((tool) => tool.command).join(', ')}; install with: sudo ${line}`);
    if (missing.some((tool) => ['psql', 'pg_dump', 'aws'].includes(tool.command))) process.exit(2);
    return;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      `setup: missing ${missing.map((tool) => `${tool.command} (${tool.needed})`).join(', ')}\n` +
        `setup: run as root: sudo ${line}\n`,
    );
    process.exit(2);
  }
  say(`installing ${packages.join(' ')} with apt-get (first run only)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const argv of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...packages],
  ]) {
    const result = spawnSync('apt-get', argv, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (result.status !== 0) {
      process.stderr.write(
        `setup: apt-get ${argv[0]} failed (exit ${result.status}); run by hand: ${line}\n`,
      );
      process.exit(2);
    }
  }
}

/** The cache folder for built or fetched parts, by version (never inside the work tree). */
function cacheRoot() {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'db-runbook');
}

function controlPlaneVersion() {
  const goMod = readFileSync(join(CONTROL_PLANE_SOURCE, 'go.mod'), 'utf8');
  const version = /^\s*k8s\.io\/kubernetes\s+(v\S+)/m.exec(goMod)?.[1] ?? 'unknown';
  const hash = createHash('sha256');
  for (const name of readdirSync(CONTROL_PLANE_SOURCE, { recursive: true }).map(String).sort()) {
    if (!/\.(go|mod|sum|sh)$/.test(name)) continue;
    hash.update(name).update(readFileSync(join(CONTROL_PLANE_SOURCE, name)));
  }
  return { version, digest: hash.digest('hex').slice(0, 12) };
}

/** Where the control plane's binaries are, or will be once built. */
function controlPlaneDir() {
  if (process.env.DB_RUNBOOK_K8S_ASSETS) return process.env.DB_RUNBOOK_K8S_ASSETS;
  const { version, digest } = controlPlaneVersion();
  return join(cacheRoot(), `k8s-${version}-${digest}`);
}

async function ensureControlPlane() {
  if (!existsSync(join(CONTROL_PLANE_SOURCE, 'go.mod'))) return;
  const dir = controlPlaneDir();
  if (existsSync(join(dir, 'control-plane')) && existsSync(join(dir, 'kubectl'))) return;
  if (process.env.DB_RUNBOOK_K8S_ASSETS) {
    process.stderr.write(
      `setup: DB_RUNBOOK_K8S_ASSETS=${dir} must hold the control-plane and kubectl binaries\n`,
    );
    process.exit(2);
  }
  const go = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  const goVersion = /go(\d+)\.(\d+)/.exec(go.stdout ?? '');
  if (go.status !== 0 || !goVersion || Number(goVersion[1]) * 100 + Number(goVersion[2]) < 126) {
    process.stderr.write(
      'setup: the sandbox needs Go >= 1.26 to build its Kubernetes control plane once, ' +
        'or DB_RUNBOOK_K8S_ASSETS=DIR naming a folder with control-plane and kubectl built from sandbox/control-plane\n',
    );
    process.exit(2);
  }
  const release = await buildLock(
    dir,
    'building the control plane',
    () => existsSync(join(dir, 'control-plane')) && existsSync(join(dir, 'kubectl')),
  );
  if (!release) return;
  const started = Date.now();
  say(
    `building the local Kubernetes control plane (first run only: downloads Go modules, then ~10-20 min on 2 cores)…`,
  );
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const status = await new Promise((resolve) => {
    const child = spawn('bash', [join(CONTROL_PLANE_SOURCE, 'build.sh'), staging], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const tick = setInterval(
      () => say(`still building… ${Math.round((Date.now() - started) / 1000)} s`),
      60_000,
    );
    child.on('exit', (code) => {
      clearInterval(tick);
      resolve(code ?? 1);
    });
  });
  if (status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    process.stderr.write(`setup: building the control plane failed (exit ${status}); see the lines above\n`);
    process.exit(2);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  release();
  say(`control plane built in ${Math.round((Date.now() - started) / 1000)} s → ${dir}`);
}

// ---------------------------------------------------------------------------------------------- Neo4j
// Neo4j Community from Maven Central (sandbox/neo4j/pom.xml): `mvn dependency:copy-dependencies` into
// lib/ of a NEO4J_HOME cached by version and by the pom's digest, plus bin/ wrappers that run the
// official launcher classes with a bounded launcher heap. The server's own memory is set per instance
// (server.memory.* in its neo4j.conf; the sandbox writes 512 MiB heap + 64 MiB page cache);
// neo4j-admin's JVM gets HEAP_SIZE (default 256m here).

function neo4jVersion() {
  const pom = readFileSync(NEO4J_POM);
  const version = /<neo4j\.version>([^<]+)<\/neo4j\.version>/.exec(pom.toString('utf8'))?.[1] ?? 'unknown';
  return { version, digest: createHash('sha256').update(pom).digest('hex').slice(0, 12) };
}

/** Where NEO4J_HOME (lib/, bin/, conf/) is, or will be once resolved. */
function neo4jHomeDir() {
  if (process.env.DB_RUNBOOK_NEO4J_HOME) return process.env.DB_RUNBOOK_NEO4J_HOME;
  const { version, digest } = neo4jVersion();
  return join(cacheRoot(), `neo4j-${version}-${digest}`);
}

const NEO4J_LAUNCHERS = {
  neo4j: { main: 'org.neo4j.server.startup.Neo4jCommand', what: 'start|stop|console|status|version' },
  'neo4j-admin': { main: 'org.neo4j.server.startup.Neo4jAdminCommand', what: 'database dump|load|info …' },
  'cypher-shell': { main: 'org.neo4j.shell.Main', what: 'Cypher at a shell' },
};

function neo4jWrapper(name, main) {
  const admin = name === 'neo4j-admin';
  return `#!/bin/sh
# ${name}: Neo4j's own launcher class from the jars in ../lib (written by db-runbook's scripts/setup.mjs).
# NEO4J_HOME is the instance (conf/neo4j.conf, data/, logs/, run/); it defaults to this folder.
# The launcher JVM is small (-Xmx128m)${admin ? "; the admin command's JVM takes HEAP_SIZE (default 256m)" : ''}.
dist=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd) || exit 1
: "\${NEO4J_HOME:=$dist}"
export NEO4J_HOME
${admin ? ': "${HEAP_SIZE:=256m}"\nexport HEAP_SIZE\n' : ''}exec "\${JAVA_CMD:-java}" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dfile.encoding=UTF-8 -cp "$dist/lib/*" ${main} "$@"
`;
}

/** The defaults of a NEO4J_HOME used as is (an instance writes its own conf/neo4j.conf). */
function neo4jDefaultConf(dir) {
  return `# Defaults of db-runbook's cached Neo4j home (written by scripts/setup.mjs). An instance has its own
# NEO4J_HOME with its own conf/neo4j.conf; this one is read only when NEO4J_HOME is this folder.
server.directories.lib=${join(dir, 'lib')}
server.default_listen_address=127.0.0.1
server.http.enabled=false
server.https.enabled=false
server.memory.heap.initial_size=128m
server.memory.heap.max_size=512m
server.memory.pagecache.size=64m
dbms.usage_report.enabled=false
server.jvm.additional=-XX:+UseG1GC
server.jvm.additional=--add-opens=java.base/java.nio=ALL-UNNAMED
server.jvm.additional=--add-opens=java.base/java.io=ALL-UNNAMED
server.jvm.additional=--add-opens=java.base/sun.nio.ch=ALL-UNNAMED
`;
}

function neo4jReady(dir) {
  return (
    existsSync(join(dir, 'bin', 'neo4j')) &&
    existsSync(join(dir, 'bin', 'neo4j-admin')) &&
    existsSync(join(dir, 'lib')) &&
    existsSync(join(dir, 'VERSION'))
  );
}

async function ensureNeo4j() {
  if (!existsSync(NEO4J_POM)) return;
  const dir = neo4jHomeDir();
  if (neo4jReady(dir)) return;
  if (process.env.DB_RUNBOOK_NEO4J_HOME) {
    process.stderr.write(
      `setup: DB_RUNBOOK_NEO4J_HOME=${dir} must hold bin/neo4j, bin/neo4j-admin, lib/ and VERSION made by this step\n`,
    );
    process.exit(2);
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const javaMajor = Number(/version "(\d+)/.exec(java.stderr ?? '')?.[1] ?? 0);
  const mvn = spawnSync('mvn', ['-v'], { encoding: 'utf8' });
  if (java.status !== 0 || javaMajor < 17 || mvn.status !== 0) {
    process.stderr.write(
      `setup: the sandbox's Neo4j needs Java >= 17 and Maven to fetch it once from Maven Central ` +
        `(found: java ${javaMajor || 'none'}, mvn ${mvn.status === 0 ? 'yes' : 'none'}); ` +
        `install with: sudo apt-get install -y openjdk-17-jre-headless maven\n`,
    );
    process.exit(2);
  }
  const release = await buildLock(dir, 'fetching Neo4j', () => neo4jReady(dir));
  if (!release) return;
  const { version } = neo4jVersion();
  const started = Date.now();
  say(
    `fetching Neo4j Community ${version} from Maven Central with mvn (first run only: ~120 MB, a few minutes)…`,
  );
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'bin'), { recursive: true });
  mkdirSync(join(staging, 'conf'), { recursive: true });
  const status = await new Promise((resolve) => {
    const child = spawn(
      'mvn',
      [
        '-B',
        '-q',
        '-Dstyle.color=never',
        '-f',
        NEO4J_POM,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${join(staging, 'lib')}`,
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const tick = setInterval(
      () => say(`still fetching Neo4j… ${Math.round((Date.now() - started) / 1000)} s`),
      30_000,
    );
    child.on('error', () => resolve(127));
    child.on('exit', (code) => {
      clearInterval(tick);
      resolve(code ?? 1);
    });
  });
  if (status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    process.stderr.write(`setup: fetching Neo4j with mvn failed (exit ${status}); see the lines above\n`);
    process.exit(2);
  }
  for (const [name, { main }] of Object.entries(NEO4J_LAUNCHERS))
    writeFileSync(join(staging, 'bin', name), neo4jWrapper(name, main), { mode: 0o755 });
  writeFileSync(join(staging, 'conf', 'neo4j.conf'), neo4jDefaultConf(dir));
  writeFileSync(join(staging, 'VERSION'), `${version}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
  release();
  say(`Neo4j ${version} fetched in ${Math.round((Date.now() - started) / 1000)} s → ${dir}`);
}

ensureTools();
await ensureControlPlane();
await ensureNeo4j();
// The sandbox reads this line to find the binaries.
const controlPlane = existsSync(join(CONTROL_PLANE_SOURCE, 'go.mod')) ? controlPlaneDir() : null;
const neo4jHome = existsSync(NEO4J_POM) ? neo4jHomeDir() : null;
process.stdout.write(`${JSON.stringify({ controlPlaneDir: controlPlane, neo4jHome })}\n`);
