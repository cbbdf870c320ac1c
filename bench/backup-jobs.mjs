// Benchmark of ops/db/backup-jobs: backup and restore of a generated PostgreSQL database (default ~1 GB,
// BENCH_PG_MB to change it; --quick: 30 MB) against s3rver, paired in every round with the raw pipelines
//   backup:  pg_dump | gzip > /dev/null                 goal: postgres-backup.sh <= 0.45x
//   restore: aws s3 cp s3://… - | gunzip | psql         goal: postgres-restore.sh <= 1.0x
// Each round runs every variant once, in rotating order (BENCH_RUNS rounds, at least 3); every figure is
// the median with min/max and the load average, and each ratio pairs the script with its anchor round by
// round. Stage variants (pg_dump alone, | igzip, | sha256, | aws s3 cp -, psql from a local file) say where
// the script's seconds go. CPU seconds (the command's processes + the PostgreSQL server + s3rver) are
// reported per GB of plain dump: they stay meaningful when other work shares the host.
// Run: npm run bench -- backup-jobs [--quick]     or     BENCH_PG_MB=200 BENCH_RUNS=3 node bench/backup-jobs.mjs
// (BENCH_SCRIPTS_DIR=<folder> benches another copy of the scripts, for before/after figures; BENCH_STAGES=1 adds the
// stage variants to --quick)
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, emit, interleave, pairedRatio, quick, round, runCount, summary } from './_lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// BENCH_SCRIPTS_DIR: another copy of the scripts to bench instead of the working tree's. BENCH_SCRIPTS_BEFORE: a
// copy of earlier scripts (e.g. `git show <commit>:…` into a folder), benched as the variants backupBefore and
// restoreBefore in the same interleaved rounds, so before and after are paired under the same load.
const scripts = process.env.BENCH_SCRIPTS_DIR ?? join(root, 'ops', 'db', 'backup-jobs', 'scripts');
const before = process.env.BENCH_SCRIPTS_BEFORE;
const targetMb = Number(process.env.BENCH_PG_MB ?? (quick ? 30 : 1000));
const runs = runCount(3);
/** BENCH_STAGES=1: the stage variants (| sha256, | aws s3 cp -) in --quick runs too */
const stages = process.env.BENCH_STAGES === '1';
/** rows per INSERT while generating: --quick makes a ~30 MB database, not 78 MB */
const chunkRows = quick ? 100000 : 250000;

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
FROM generate_series(${chunk * chunkRows + 1}::bigint, ${(chunk + 1) * chunkRows}) AS i;`);
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

  const bucketUrl = `s3://${env.S3_BUCKET}`;
  const aws = 'aws --endpoint-url "$AWS_ENDPOINT_URL" --only-show-errors';
  const gb = dumpBytes / 1024 ** 3;
  const perGb = (result) => {
    const c = result.cpu;
    return {
      ...result,
      cpuPerGB: c.total / gb,
      clientPerGB: c.client / gb,
      serverPerGB: c.server / gb,
      s3PerGB: c.s3 / gb,
    };
  };

  // ---------------------------------------------------------------------------------------- backup
  let object;
  let lastBackup = 0;
  const backupVariants = [
    ['pgDumpOnly', `pg_dump ${dumpFlags} > /dev/null`],
    ['pgDumpGzip', `pg_dump ${dumpFlags} | gzip > /dev/null`],
    ['pgDumpPigz', `pg_dump ${dumpFlags} | pigz -1 > /dev/null`],
    ['pgDumpIgzip', `pg_dump ${dumpFlags} | igzip -1 -c > /dev/null`],
    ['pgDumpIgzipSha', `pg_dump ${dumpFlags} | igzip -1 -c | tee >(sha256sum > /dev/null) > /dev/null`],
    [
      'pgDumpIgzipUpload',
      `pg_dump ${dumpFlags} | igzip -1 -c | ${aws} s3 cp - "${bucketUrl}/bench/stage.sql.gz" --expected-size 1073741824`,
    ],
  ]
    // --quick keeps the anchors and the product; the stage variants are for the full run (or BENCH_STAGES=1)
    .filter(([name]) => !quick || stages || !['pgDumpIgzipSha', 'pgDumpIgzipUpload'].includes(name))
    .map(([name, command]) => [name, async () => perGb(await sh(command, { ...env, ...dumpEnv }))]);
  const backupWith = (folder) => async () => {
    // one backup per second-resolution key
    const wait = lastBackup + 1100 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    lastBackup = performance.now();
    const backup = await sh(`bash ${folder}/postgres-backup.sh`, env);
    for (const line of phases(backup)) console.log(`  ${line}`);
    object = Object.fromEntries(
      backup.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    return perGb(backup);
  };
  backupVariants.push(['backup', backupWith(scripts)]);
  if (before) backupVariants.push(['backupBefore', backupWith(before)]);
  const progress = (name, sample, round) =>
    console.log(`  round ${round + 1} ${name}: ${sample.seconds.toFixed(2)} s (load ${sample.load})`);
  const backupSamples = await interleave(runs, backupVariants, { onSample: progress });

  // where the backup's seconds go: one traced run (bash -x with timestamps), each top-level command's time
  // until the next one, summed by command (full runs, or BENCH_TRACE=1)
  let trace;
  if (!quick || process.env.BENCH_TRACE === '1') {
    await new Promise((r) => setTimeout(r, 1100));
    // bash ignores PS4 from the environment when run as root: set it inside, then source the script
    const traced = await sh(
      `bash -c 'PS4="+ \\$EPOCHREALTIME "; set -x; . "$0"' ${scripts}/postgres-backup.sh`,
      env,
    );
    trace = traceSummary(traced.stderr, traced.seconds);
    console.log(`  traced backup ${traced.seconds.toFixed(2)} s; blocking time by command (top level):`);
    for (const [name, t] of trace.top)
      console.log(`    ${name.padEnd(28)} ${t.seconds.toFixed(2)} s ×${t.count}`);
  }

  // a local plain copy of the dump: psql reading a file is the floor of any restore pipeline
  const plainFile = join(dir, 'plain.sql');
  await sh(`${aws} s3 cp "${object.object}" - | gunzip > "${plainFile}"`, env);

  // ---------------------------------------------------------------------------------------- restore
  const fresh = async (db) => {
    await psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`, 'postgres');
    await psql(`CREATE DATABASE ${db} TEMPLATE template0`, 'postgres');
  };
  const drop = (db) => psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`, 'postgres');
  const psqlInto = (db) =>
    `PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d ${db} > /dev/null`;
  const restoreVariants = [
    [
      'rawRestore',
      async () => {
        await fresh('bench_raw');
        const result = await sh(`${aws} s3 cp "${object.object}" - | gunzip | ${psqlInto('bench_raw')}`, {
          ...env,
          ...pgEnv,
        });
        await drop('bench_raw');
        return perGb(result);
      },
    ],
    [
      'rawRestoreIgzip',
      async () => {
        await fresh('bench_rawi');
        const result = await sh(`${aws} s3 cp "${object.object}" - | igzip -dc | ${psqlInto('bench_rawi')}`, {
          ...env,
          ...pgEnv,
        });
        await drop('bench_rawi');
        return perGb(result);
      },
    ],
    [
      'psqlFromFile',
      async () => {
        await fresh('bench_file');
        const result = await sh(`${psqlInto('bench_file')} < "${plainFile}"`, { ...env, ...pgEnv });
        await drop('bench_file');
        return perGb(result);
      },
    ],
    ...[['restore', scripts], ...(before ? [['restoreBefore', before]] : [])].map(([name, folder]) => [
      name,
      async () => {
        const restore = await sh(`bash ${folder}/postgres-restore.sh`, {
          ...env,
          POSTGRES_DATABASE: 'bench_restored',
          RESTORE_S3_URI: object.object,
          CLEAN_TARGET: 'true',
        });
        for (const line of phases(restore)) console.log(`  ${line}`);
        const restoredRows = (await psql('SELECT count(*) FROM events', 'bench_restored')).stdout.trim();
        if (restoredRows !== rows) throw new Error(`restored ${restoredRows} events, expected ${rows}`);
        await drop('bench_restored');
        return perGb(restore);
      },
    ]),
  ];
  const restoreSamples = await interleave(
    runs,
    restoreVariants.filter(([name]) => !quick || name !== 'rawRestoreIgzip'),
    { onSample: progress },
  );
  await rm(plainFile, { force: true });

  // ---------------------------------------------------------------------------------------- report
  const samples = { ...backupSamples, ...restoreSamples };
  const mb = (bytes) => bytes / 1048576;
  const backupRatio = pairedRatio(samples, 'backup', 'pgDumpGzip');
  const backupVsPigz = pairedRatio(samples, 'backup', 'pgDumpPigz');
  const restoreRatio = pairedRatio(samples, 'restore', 'rawRestore');
  const copyShare = pairedRatio(samples, 'psqlFromFile', 'rawRestore');
  const beforeRatios = before
    ? {
        backupRatioBefore: pairedRatio(samples, 'backupBefore', 'pgDumpGzip'),
        restoreRatioBefore: pairedRatio(samples, 'restoreBefore', 'rawRestore'),
      }
    : {};
  console.log(
    `database ${sizeMb} MB (plain dump ${mb(dumpBytes).toFixed(0)} MB, backup ${mb(Number(object.bytes)).toFixed(0)} MB); ` +
      `cpus ${cpus().length}; ${runs} interleaved rounds; load now ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  console.log('median wall (min, max; load)  ·  CPU s per GB of plain dump = command + PostgreSQL + s3rver');
  const width = Math.max(...Object.keys(samples).map((k) => k.length));
  for (const [name, list] of Object.entries(samples)) {
    const c = (key) => summary(list, key).median.toFixed(1);
    console.log(
      `  ${name.padEnd(width)}  ${describe(
        list.map((x) => x.seconds),
        list.map((x) => x.load),
      )}  CPU ${c('cpuPerGB')} = ${c('clientPerGB')} + ${c('serverPerGB')} + ${c('s3PerGB')}`,
    );
  }
  const fmt = (r) => `${r.median.toFixed(2)}× (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)})`;
  console.log(`postgres-backup.sh / pg_dump|gzip (paired)      ${fmt(backupRatio)}  goal ≤ 0.45`);
  console.log(`postgres-backup.sh / pg_dump|pigz -1 (paired)   ${fmt(backupVsPigz)}`);
  if (samples.pgDumpIgzipUpload) {
    // the floor of any streamed backup to this object storage: the dump, compressed and uploaded, nothing else
    const upload = pairedRatio(samples, 'pgDumpIgzipUpload', 'pgDumpGzip');
    console.log(`pg_dump|igzip|aws s3 cp - / pg_dump|gzip (paired) ${fmt(upload)}  (an upload alone)`);
  }
  console.log(`postgres-restore.sh / raw pipe (paired)         ${fmt(restoreRatio)}  goal ≤ 1.0`);
  console.log(
    `psql from a local file / raw pipe (paired)      ${fmt(copyShare)}  (the bound of any restore)`,
  );
  if (before) {
    console.log(`BEFORE (${before}): backup / pg_dump|gzip ${fmt(beforeRatios.backupRatioBefore)}`);
    console.log(`BEFORE (${before}): restore / raw pipe    ${fmt(beforeRatios.restoreRatioBefore)}`);
  }
  emit('backup-jobs', {
    databaseMb: sizeMb,
    dumpMb: Math.round(mb(dumpBytes)),
    backupMb: Math.round(mb(Number(object.bytes))),
    runs,
    backupRatio: round(backupRatio.median),
    backupRatioMin: round(backupRatio.min),
    backupRatioMax: round(backupRatio.max),
    backupRatioPigz: round(backupVsPigz.median),
    restoreRatio: round(restoreRatio.median),
    restoreRatioMin: round(restoreRatio.min),
    restoreRatioMax: round(restoreRatio.max),
    psqlFromFileShare: round(copyShare.median),
    ...Object.fromEntries(Object.entries(beforeRatios).map(([k, v]) => [k, round(v.median)])),
    ...(trace
      ? { backupTrace: Object.fromEntries(trace.top.map(([k, v]) => [k, round(v.seconds, 2)])) }
      : {}),
    seconds: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)])),
    cpuSecondsPerGB: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v, 'cpuPerGB')])),
  });
} finally {
  await Promise.allSettled([pg.stop(), s3.stop()]);
  await rm(dir, { recursive: true, force: true });
}

/** Sums, per command word, the time from each top-level `+ <time> cmd` trace line to the next one. */
function traceSummary(stderr, total) {
  const lines = stderr
    .split('\n')
    // the sourced script's own lines are at depth 2 (`++`); deeper ones run inside them
    .map((line) => /^\+\+ (\d+\.\d+) (.*)$/.exec(line))
    .filter(Boolean)
    .map((m) => ({ at: Number(m[1]), text: m[2] }));
  const by = new Map();
  for (let i = 0; i < lines.length; i++) {
    const end = lines[i + 1]?.at ?? lines[0].at + total;
    const words = lines[i].text.split(/\s+/);
    let name = words[0].replace(/^[A-Za-z_]+=.*$/, 'assignment');
    if (name === 'aws_cli' || name === 'aws') {
      // the service and operation, without options and their values (--endpoint-url X)
      const rest = words.slice(1).filter((w, j, all) => !w.startsWith('-') && !all[j - 1]?.startsWith('--'));
      name = `aws ${rest.slice(0, 2).join(' ')}`;
    }
    const entry = by.get(name) ?? { seconds: 0, count: 0 };
    entry.seconds += end - lines[i].at;
    entry.count += 1;
    by.set(name, entry);
  }
  return { top: [...by.entries()].sort((a, b) => b[1].seconds - a[1].seconds).slice(0, 12) };
}
