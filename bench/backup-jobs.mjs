// Benchmark of ops/db/backup-jobs: backup and restore of a generated PostgreSQL database (default ~1 GB,
// BENCH_PG_MB to change it) against s3rver, compared in the same run with the raw pipelines
//   backup:  pg_dump | gzip > /dev/null                 goal: postgres-backup.sh <= 0.6x
//   restore: aws s3 cp s3://… - | gunzip | psql         goal: postgres-restore.sh <= 1.05x
// Needs the build (npm run build) for the sandbox servers; drives the scripts exactly as the Job does.
// Run: npm run bench -- backup-jobs     or     BENCH_PG_MB=200 [BENCH_RUNS=2] node bench/backup-jobs.mjs
// Besides wall times it reports CPU seconds (the command's processes + the PostgreSQL server + s3rver), which
// stay meaningful when other work shares the host.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scripts = join(root, 'ops', 'db', 'backup-jobs', 'scripts');
const targetMb = Number(process.env.BENCH_PG_MB ?? 1000);
const runs = Number(process.env.BENCH_RUNS ?? 1);

let sandbox;
try {
  sandbox = {
    postgres: await import(join(root, 'dist', 'sandbox', 'postgres.js')),
    s3: await import(join(root, 'dist', 'sandbox', 's3.js')),
  };
} catch (error) {
  console.error(`backup-jobs bench: build first (npm run build): ${error.message}`);
  process.exit(2);
}

/** pyenv's aws shim adds ~0.4 s per call; a Job image has the CLI directly on PATH. */
function awsDir() {
  try {
    const which = execFileSync('pyenv', ['which', 'aws'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return [dirname(which.trim())];
  } catch {
    return [];
  }
}
const PATH = [...awsDir(), process.env.PATH].join(':');

// ------------------------------------------------------------------------------------------ CPU accounting
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
let postmasterPid;

function procStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/** postmaster + exited backends (reaped) + live backends, in seconds. */
function serverCpu() {
  if (!postmasterPid) return 0;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (!stat) continue;
    if (Number(entry) === postmasterPid) ticks += stat.own + stat.reaped;
    else if (stat.ppid === postmasterPid) ticks += stat.own;
  }
  return ticks / TICKS;
}

/** This process: s3rver runs here (the bench itself only waits). */
function selfCpu() {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

function findPostmaster(port) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const p = argv.indexOf('-p');
      if (argv[0]?.endsWith('postgres') && p > 0 && argv[p + 1] === String(port)) return Number(entry);
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/** Runs a bash pipeline (pipefail), returning wall seconds and CPU seconds. */
function sh(command, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const server0 = serverCpu();
    const self0 = selfCpu();
    const timeFile = join(dir, `rusage-${process.hrtime.bigint()}`);
    const child = spawn(
      '/usr/bin/time',
      ['-q', '-f', '%U %S', '-o', timeFile, 'bash', '-c', `set -euo pipefail\n${command}`],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      let client = 0;
      try {
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1);
        client = last.split(' ').reduce((sum, x) => sum + Number(x), 0);
      } catch {
        // no rusage file
      }
      const cpu = { client, server: serverCpu() - server0, s3: selfCpu() - self0 };
      cpu.total = cpu.client + cpu.server + cpu.s3;
      if (code === 0) resolve({ seconds, cpu, stdout, stderr });
      else reject(new Error(`exit ${code}: ${command}\n${stderr.slice(-2000)}`));
    });
  });
}

// ------------------------------------------------------------------------------------------ servers
const dir = await mkdtemp(join(tmpdir(), 'bench-backup-jobs-'));
const work = join(dir, 'work');
await mkdir(work);
const pg = await sandbox.postgres.startSandboxPostgres({
  directory: join(dir, 'pg'),
  password: 'bench-password',
});
const s3 = await sandbox.s3.startSandboxS3({ directory: join(dir, 's3') });
postmasterPid = findPostmaster(pg.port);
// BACKUP_* / RESTORE_* settings given to the bench (e.g. BACKUP_COMPRESSION_LEVEL=6) reach the scripts
const passthrough = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => /^(BACKUP|RESTORE)_/.test(k)),
);
const env = {
  ...s3.env,
  ...pg.env,
  POSTGRES_S3_PREFIX: 'postgres/',
  PATH,
  HOME: dir,
  ...passthrough,
  BACKUP_WORK_DIR: work,
};
const pgEnv = { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password, PATH };
const psql = (sql, db = pg.database) =>
  sh(`psql -X -A -t -q -v ON_ERROR_STOP=1 -d ${db} <<'SQL'\n${sql}\nSQL`, pgEnv);
const phases = (result) => result.stderr.split('\n').filter((l) => / in \d+s/.test(l));

try {
  // ---------------------------------------------------------------------------------------- data
  const t0 = performance.now();
  await psql(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO accounts SELECT i, 'account ' || i, now() - i * interval '1 minute' FROM generate_series(1, 100000) i;
CREATE TABLE events (id bigserial PRIMARY KEY, account_id int NOT NULL, kind text NOT NULL, amount numeric(12,2),
  payload text, created_at timestamptz NOT NULL);
CREATE INDEX events_account_idx ON events (account_id);`);
  let sizeMb = 0;
  for (let chunk = 0; sizeMb < targetMb; chunk++) {
    // text that compresses roughly like application data (~4x with gzip -6)
    await psql(`INSERT INTO events (account_id, kind, amount, payload, created_at)
SELECT (1 + (i * 7919) % 100000)::int, (ARRAY['login','purchase','refund','update','logout'])[1 + i % 5],
       (i % 100000) / 100.0,
       'event ' || i || ' for account ' || (1 + (i * 7919) % 100000) || ' ref ' || md5(i::text) || ' '
       || repeat('lorem ipsum dolor sit amet ', (1 + i % 4)::int) || substr(md5((i * 31)::text), 1, (1 + i % 32)::int),
       timestamptz '2024-01-01' + i * interval '1 second'
FROM generate_series(${chunk * 250000 + 1}::bigint, ${(chunk + 1) * 250000}) AS i;`);
    sizeMb = Number((await psql(`SELECT pg_database_size(current_database()) / 1048576`)).stdout.trim());
  }
  await psql('VACUUM ANALYZE');
  const rows = (await psql('SELECT count(*) FROM events')).stdout.trim();
  console.log(
    `generated ${sizeMb} MB database (${rows} events) in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );
  const dumpFlags = '--format=plain --clean --if-exists --no-owner --no-privileges --no-password';
  const dumpEnv = { ...pgEnv, PGDATABASE: pg.database };
  const dumpBytes = Number((await sh(`pg_dump ${dumpFlags} | wc -c`, dumpEnv)).stdout.trim()); // also warms the cache

  const results = { pgDumpOnly: [], pgDumpGzip: [], pgDumpPigz: [], backup: [], rawRestore: [], restore: [] };
  const cpu = {};
  const keep = (name, result) => {
    results[name].push(result.seconds);
    if (result.seconds <= Math.min(...results[name])) cpu[name] = result.cpu;
    return result;
  };

  // ---------------------------------------------------------------------------------------- backup
  let object;
  for (let run = 0; run < runs; run++) {
    keep('pgDumpOnly', await sh(`pg_dump ${dumpFlags} > /dev/null`, dumpEnv));
    keep('pgDumpGzip', await sh(`pg_dump ${dumpFlags} | gzip > /dev/null`, dumpEnv));
    keep('pgDumpPigz', await sh(`pg_dump ${dumpFlags} | pigz > /dev/null`, dumpEnv));
    const backup = keep('backup', await sh(`bash ${scripts}/postgres-backup.sh`, env));
    for (const line of phases(backup)) console.log(`  ${line}`);
    object = Object.fromEntries(
      backup.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    if (run < runs - 1) await new Promise((r) => setTimeout(r, 1100)); // one backup per second-resolution key
  }

  // ---------------------------------------------------------------------------------------- restore
  for (let run = 0; run < runs; run++) {
    await psql('DROP DATABASE IF EXISTS bench_raw WITH (FORCE)', 'postgres');
    await psql('CREATE DATABASE bench_raw TEMPLATE template0', 'postgres');
    keep(
      'rawRestore',
      await sh(
        `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "${object.object}" - | gunzip | psql -X -q -d bench_raw > /dev/null`,
        { ...env, ...pgEnv },
      ),
    );
    await psql('DROP DATABASE IF EXISTS bench_raw WITH (FORCE)', 'postgres');
    const restore = keep(
      'restore',
      await sh(`bash ${scripts}/postgres-restore.sh`, {
        ...env,
        POSTGRES_DATABASE: 'bench_restored',
        RESTORE_S3_URI: object.object,
        CLEAN_TARGET: 'true',
      }),
    );
    for (const line of phases(restore)) console.log(`  ${line}`);
    const restoredRows = (await psql('SELECT count(*) FROM events', 'bench_restored')).stdout.trim();
    if (restoredRows !== rows) throw new Error(`restored ${restoredRows} events, expected ${rows}`);
    await psql('DROP DATABASE IF EXISTS bench_restored WITH (FORCE)', 'postgres');
  }

  // ---------------------------------------------------------------------------------------- report
  const best = (xs) => Math.min(...xs);
  const mb = (bytes) => bytes / 1048576;
  const b = best(results.backup);
  const raw = best(results.pgDumpGzip);
  const r = best(results.restore);
  const rawR = best(results.rawRestore);
  const lines = [
    [
      'database',
      `${sizeMb} MB (plain dump ${mb(dumpBytes).toFixed(0)} MB, backup ${mb(Number(object.bytes)).toFixed(0)} MB)`,
    ],
    [
      'cpus / load average (1, 5, 15 min)',
      `${cpus().length} / ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    ],
    ['pg_dump > /dev/null', `${best(results.pgDumpOnly).toFixed(2)} s`],
    ['pg_dump | gzip > /dev/null', `${raw.toFixed(2)} s`],
    ['pg_dump | pigz > /dev/null', `${best(results.pgDumpPigz).toFixed(2)} s`],
    ['postgres-backup.sh', `${b.toFixed(2)} s = ${(b / raw).toFixed(2)}x pg_dump|gzip (goal <= 0.60)`],
    [
      'backup throughput',
      `${(mb(dumpBytes) / b).toFixed(1)} MB/s of dump, ${(sizeMb / b).toFixed(1)} MB/s of database`,
    ],
    ['aws s3 cp - | gunzip | psql', `${rawR.toFixed(2)} s`],
    [
      'postgres-restore.sh (CLEAN_TARGET=true)',
      `${r.toFixed(2)} s = ${(r / rawR).toFixed(2)}x raw pipe (goal <= 1.05)`,
    ],
    ['restore throughput', `${(mb(dumpBytes) / r).toFixed(1)} MB/s of dump`],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
  console.log('CPU seconds = command processes + PostgreSQL server + s3rver:');
  for (const [name, c] of Object.entries(cpu)) {
    const parts = `${c.client.toFixed(1)} + ${c.server.toFixed(1)} + ${c.s3.toFixed(1)}`;
    console.log(`  ${name.padEnd(12)} ${c.total.toFixed(1).padStart(6)} = ${parts}`);
  }
  console.log(
    JSON.stringify({
      bench: 'backup-jobs',
      databaseMb: sizeMb,
      dumpMb: Math.round(mb(dumpBytes)),
      backupMb: Math.round(mb(Number(object.bytes))),
      runs,
      seconds: Object.fromEntries(
        Object.entries(results).map(([k, v]) => [k, v.map((x) => Number(x.toFixed(2)))]),
      ),
      cpuSeconds: Object.fromEntries(Object.entries(cpu).map(([k, c]) => [k, Number(c.total.toFixed(2))])),
      backupRatio: Number((b / raw).toFixed(3)),
      restoreRatio: Number((r / rawR).toFixed(3)),
      loadAverage: loadavg().map((l) => Number(l.toFixed(2))),
    }),
  );
} finally {
  await Promise.allSettled([pg.stop(), s3.stop()]);
  await rm(dir, { recursive: true, force: true });
}
