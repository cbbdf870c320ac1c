// Benchmark of ops/db/backup-jobs: backup and restore of a generated PostgreSQL database (default ~1 GB,
// BENCH_PG_MB to change it) against s3rver, compared in the same run with the raw pipelines
//   backup:  pg_dump | gzip > /dev/null                      goal: postgres-backup.sh <= 0.6x
//   restore: aws s3 cp s3://… - | gunzip | psql              goal: postgres-restore.sh <= 1.05x
// Needs the build (npm run build) for the sandbox servers; drives the scripts exactly as the Job does.
// Run: npm run bench -- backup-jobs     or     BENCH_PG_MB=200 node bench/backup-jobs.mjs
import { execFileSync, spawn } from 'node:child_process';
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
    return [
      dirname(
        execFileSync('pyenv', ['which', 'aws'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim(),
      ),
    ];
  } catch {
    return [];
  }
}
const PATH = [...awsDir(), process.env.PATH].join(':');

function sh(command, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('bash', ['-c', `set -euo pipefail\n${command}`], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ seconds, stdout, stderr });
      else reject(new Error(`exit ${code}: ${command}\n${stderr.slice(-2000)}`));
    });
  });
}

const dir = await mkdtemp(join(tmpdir(), 'bench-backup-jobs-'));
const work = join(dir, 'work');
await mkdir(work);
const pg = await sandbox.postgres.startSandboxPostgres({
  directory: join(dir, 'pg'),
  password: 'bench-password',
});
const s3 = await sandbox.s3.startSandboxS3({ directory: join(dir, 's3') });
const env = { ...s3.env, ...pg.env, POSTGRES_S3_PREFIX: 'postgres/', BACKUP_WORK_DIR: work, PATH, HOME: dir };
const pgEnv = { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password, PATH };
const psql = (sql, db = pg.database) =>
  sh(`psql -X -A -t -q -v ON_ERROR_STOP=1 -d ${db} <<'SQL'\n${sql}\nSQL`, pgEnv);

try {
  // ---------------------------------------------------------------------------------------- data
  const t0 = performance.now();
  await psql(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO accounts SELECT i, 'account ' || i, now() - i * interval '1 minute' FROM generate_series(1, 100000) i;
CREATE TABLE events (id bigserial PRIMARY KEY, account_id int NOT NULL, kind text NOT NULL, amount numeric(12,2),
  payload text, created_at timestamptz NOT NULL);
CREATE INDEX events_account_idx ON events (account_id);`);
  let sizeMb = 0;
  let chunk = 0;
  while (sizeMb < targetMb) {
    // text that compresses roughly like application data (~4-5x with gzip -6)
    await psql(`INSERT INTO events (account_id, kind, amount, payload, created_at)
SELECT (1 + (i * 7919) % 100000)::int, (ARRAY['login','purchase','refund','update','logout'])[1 + i % 5], (i % 100000) / 100.0,
       'event ' || i || ' for account ' || (1 + (i * 7919) % 100000) || ' ref ' || md5(i::text) || ' '
       || repeat('lorem ipsum dolor sit amet ', (1 + i % 4)::int) || substr(md5((i * 31)::text), 1, (1 + i % 32)::int),
       timestamptz '2024-01-01' + i * interval '1 second'
FROM generate_series(${chunk * 250000 + 1}::bigint, ${(chunk + 1) * 250000}) AS i;`);
    chunk += 1;
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

  // ---------------------------------------------------------------------------------------- backup
  const results = { pgDumpOnly: [], pgDumpGzip: [], pgDumpPigz: [], backup: [], rawRestore: [], restore: [] };
  let object;
  for (let run = 0; run < runs; run++) {
    results.pgDumpOnly.push((await sh(`pg_dump ${dumpFlags} > /dev/null`, dumpEnv)).seconds);
    results.pgDumpGzip.push((await sh(`pg_dump ${dumpFlags} | gzip > /dev/null`, dumpEnv)).seconds);
    results.pgDumpPigz.push((await sh(`pg_dump ${dumpFlags} | pigz > /dev/null`, dumpEnv)).seconds);
    const backup = await sh(`bash ${scripts}/postgres-backup.sh`, env);
    results.backup.push(backup.seconds);
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
    results.rawRestore.push(
      (
        await sh(
          `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "${object.object}" - | gunzip | ` +
            `PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d bench_raw > /dev/null`,
          { ...env, ...pgEnv },
        )
      ).seconds,
    );
    await psql('DROP DATABASE IF EXISTS bench_raw WITH (FORCE)', 'postgres');
    const restore = await sh(`bash ${scripts}/postgres-restore.sh`, {
      ...env,
      POSTGRES_DATABASE: 'bench_restored',
      RESTORE_S3_URI: object.object,
      CLEAN_TARGET: 'true',
    });
    results.restore.push(restore.seconds);
    const restoredRows = (await psql('SELECT count(*) FROM events', 'bench_restored')).stdout.trim();
    if (restoredRows !== rows) throw new Error(`restored ${restoredRows} events, expected ${rows}`);
    await psql('DROP DATABASE IF EXISTS bench_restored WITH (FORCE)', 'postgres');
  }

  // ---------------------------------------------------------------------------------------- report
  const best = (xs) => Math.min(...xs);
  const mb = (bytes) => bytes / 1048576;
  const compressed = Number(object.bytes);
  const b = best(results.backup);
  const raw = best(results.pgDumpGzip);
  const r = best(results.restore);
  const rawR = best(results.rawRestore);
  const lines = [
    [
      'database size',
      `${sizeMb} MB (plain dump ${mb(dumpBytes).toFixed(0)} MB, gzip ${mb(compressed).toFixed(0)} MB)`,
    ],
    [
      'cpus / load average',
      `${cpus().length} / ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    ],
    ['pg_dump > /dev/null', `${best(results.pgDumpOnly).toFixed(2)} s`],
    ['pg_dump | gzip > /dev/null', `${raw.toFixed(2)} s`],
    ['pg_dump | pigz > /dev/null', `${best(results.pgDumpPigz).toFixed(2)} s`],
    [
      'postgres-backup.sh (dump+pigz+sha256+upload+publish)',
      `${b.toFixed(2)} s  = ${(b / raw).toFixed(2)}x pg_dump|gzip (goal <= 0.60)`,
    ],
    [
      'backup throughput',
      `${(mb(dumpBytes) / b).toFixed(1)} MB/s of dump, ${(sizeMb / b).toFixed(1)} MB/s of database`,
    ],
    ['raw restore: aws s3 cp - | gunzip | psql', `${rawR.toFixed(2)} s`],
    [
      'postgres-restore.sh (download+verify, restore, ANALYZE, swap)',
      `${r.toFixed(2)} s  = ${(r / rawR).toFixed(2)}x raw pipe (goal <= 1.05)`,
    ],
    ['restore throughput', `${(mb(dumpBytes) / r).toFixed(1)} MB/s of dump`],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
  console.log(
    JSON.stringify({
      bench: 'backup-jobs',
      databaseMb: sizeMb,
      dumpMb: Math.round(mb(dumpBytes)),
      gzipMb: Math.round(mb(compressed)),
      runs,
      seconds: Object.fromEntries(
        Object.entries(results).map(([k, v]) => [k, v.map((x) => Number(x.toFixed(2)))]),
      ),
      backupRatio: Number((b / raw).toFixed(3)),
      restoreRatio: Number((r / rawR).toFixed(3)),
    }),
  );
} finally {
  await Promise.allSettled([pg.stop(), s3.stop()]);
  await rm(dir, { recursive: true, force: true });
}
