// Benchmark of the restore-postgres section: a generated PostgreSQL database (default ~1 GB, BENCH_RESTORE_MB
// to change it) backed up with the real postgres-backup.sh to s3rver, then restored
//   raw:  aws s3 cp s3://… - | gunzip | psql --single-transaction     (what an operator would type)
//   tool: the restore-postgres steps through the session engine, in their own Node process — incident, choose,
//         integrity (sidecar, size and ETag, globals), roles, load (postgres-restore.sh RESTORE_PHASE=load: the
//         backup read once into a new database, hashed and checked on the way), stop-writes, restore (the swap,
//         RESTORE_PHASE=swap) and validate (the per-table counts); the safety backup is skipped (typed phrase), as
//         it dumps the current database and has no counterpart in the raw pipe. The database as it was before the
//         swap is kept through validation (the undo) and dropped by resume-writes, which is not run: the bench drops
//         it outside the timing, as raw drops its own database outside the timing.
// Each round runs raw and tool once, in rotating order (BENCH_RUNS rounds, at least 3); figures are medians
// with min/max and the load average, and the ratio pairs tool with raw round by round.
// Goal: tool ≤ 1.05× raw. Also prints the tool process's peak RSS (it streams: flat for any size).
// Needs the build (npm run build). Run: npm run bench -- restore [--quick]  or  BENCH_RESTORE_MB=100 node bench/restore.mjs
// BENCH_TRACE=1 prints the tool's log lines with the seconds since it started.
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, emit, interleave, pairedRatio, quick, round, runCount, stats, summary } from './_lib.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => join(root, 'dist', path);

// ------------------------------------------------------------------------------------------- tool mode
// `node bench/restore.mjs --tool URI`: runs the restore-postgres steps in this process and prints one JSON line.
if (process.argv[2] === '--tool') {
  const uri = process.argv[3];
  const { resolveValues } = await import(dist('runbook/values.js'));
  const { createAdapters } = await import(dist('adapters/index.js'));
  const { newSessionId, openJournal } = await import(dist('adapters/journal-store.js'));
  const { Session } = await import(dist('engine/session.js'));
  const { stepsOf } = await import(dist('steps/index.js'));
  const { values, settings } = resolveValues({ env: process.env });
  const journal = openJournal(process.env.BENCH_JOURNAL_DIR, newSessionId(), values.secretValues());
  const session = new Session({
    journal,
    values,
    settings,
    target: { context: 'bench', namespace: 'data', sandbox: false },
    adapters: (self) =>
      createAdapters({
        namespace: 'data',
        values: () => self.values,
        record: (event) => self.record(event),
        currentStep: () => self.currentStep,
      }),
  });
  const logs = [];
  const t0 = performance.now();
  session.subscribe((event) => {
    if (event.kind === 'journal' && event.event.type === 'log') {
      logs.push(`${event.event.step}: ${event.event.line}`);
      // BENCH_TRACE=1: every log line with the seconds since the tool started, to see where the time goes
      if (process.env.BENCH_TRACE)
        console.error(
          `${((performance.now() - t0) / 1000).toFixed(2)} ${event.event.step}: ${event.event.line}`,
        );
    }
  });
  const steps = stepsOf('restore-postgres').filter((step) => !step.id.endsWith('.resume-writes'));
  const timings = {};
  let failed;
  for (const step of steps) {
    const started = performance.now();
    const outcome = await session.run(step, {
      confirm: async () => 'accepted',
      options: { 'restore-uri': uri, 'skip-safety-backup': true },
    });
    timings[step.id.replace('restore-postgres.', '')] = Number(
      ((performance.now() - started) / 1000).toFixed(2),
    );
    if (outcome.status !== 'done') {
      failed = `${step.id}: ${outcome.error?.message ?? outcome.result?.summary ?? outcome.status}`;
      break;
    }
  }
  session.close(failed ? 'failed' : 'done', failed ? 1 : 0);
  if (failed) console.error(logs.slice(-30).join('\n'));
  console.log(
    JSON.stringify({ timings, failed, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) }),
  );
  process.exit(failed ? 1 : 0);
}

// ------------------------------------------------------------------------------------------- bench
const targetMb = Number(process.env.BENCH_RESTORE_MB ?? (quick ? 30 : 1024));
const runs = runCount(3);

let sandbox;
try {
  sandbox = { postgres: await import(dist('sandbox/postgres.js')), s3: await import(dist('sandbox/s3.js')) };
} catch (error) {
  console.error(`restore bench: build first (npm run build): ${error.message}`);
  process.exit(2);
}

/** pyenv's aws shim adds ~0.4 s per call; a workstation or Job image has the CLI directly on PATH. */
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

function run(command, args, env) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve({ seconds, stdout, stderr });
      else
        reject(
          new Error(
            `exit ${code}: ${command} ${args.join(' ')}\n${stdout.slice(-1000)}\n${stderr.slice(-2000)}`,
          ),
        );
    });
  });
}
const sh = (script, env) => run('bash', ['-c', `set -euo pipefail\n${script}`], env);

const dir = await mkdtemp(join(tmpdir(), 'bench-restore-'));
const work = join(dir, 'work');
await mkdir(work);
const pg = await sandbox.postgres.startSandboxPostgres({
  directory: join(dir, 'pg'),
  password: 'bench-password',
});
const s3 = await sandbox.s3.startSandboxS3({ directory: join(dir, 's3') });
const env = { ...s3.env, ...pg.env, POSTGRES_S3_PREFIX: 'postgres/', BACKUP_WORK_DIR: work, PATH, HOME: dir };
const pgEnv = { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password, PATH };
const psql = async (sql, db = pg.database) =>
  (await sh(`psql -X -A -t -q -v ON_ERROR_STOP=1 -d ${db} <<'SQL'\n${sql}\nSQL`, pgEnv)).stdout.trim();

try {
  // ----------------------------------------------------------------------------------------- data
  const t0 = performance.now();
  await psql(`CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL);
INSERT INTO accounts SELECT i, 'account ' || i, timestamptz '2024-01-01' - i * interval '1 minute' FROM generate_series(1, 100000) i;
CREATE TABLE events (id bigserial PRIMARY KEY, account_id int NOT NULL, kind text NOT NULL, amount numeric(12,2),
  payload text, created_at timestamptz NOT NULL);
CREATE INDEX events_account_idx ON events (account_id);
CREATE TABLE backup_validation(id SERIAL PRIMARY KEY, note TEXT);
INSERT INTO backup_validation(note) VALUES ('bench synthetic check');`);
  let sizeMb = 0;
  for (let chunk = 0; sizeMb < targetMb; chunk++) {
    const rows = quick ? 100000 : 250000; // --quick: a ~30 MB database
    await psql(`INSERT INTO events (account_id, kind, amount, payload, created_at)
SELECT (1 + (i * 7919) % 100000)::int, (ARRAY['login','purchase','refund','update','logout'])[1 + i % 5], (i % 100000) / 100.0,
       'event ' || i || ' for account ' || (1 + (i * 7919) % 100000) || ' ref ' || md5(i::text) || ' '
       || repeat('lorem ipsum dolor sit amet ', (1 + i % 4)::int) || substr(md5((i * 31)::text), 1, (1 + i % 32)::int),
       timestamptz '2024-01-01' + i * interval '1 second'
FROM generate_series(${chunk * rows + 1}::bigint, ${(chunk + 1) * rows}) AS i;`);
    sizeMb = Number(await psql('SELECT pg_database_size(current_database()) / 1048576'));
  }
  await psql('VACUUM ANALYZE');
  const events = await psql('SELECT count(*) FROM events');
  console.log(
    `generated a ${sizeMb} MB database (${events} events) in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );

  const backup = await run('bash', [join(root, 'ops/db/backup-jobs/scripts/postgres-backup.sh')], env);
  const object = Object.fromEntries(
    backup.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
  console.log(
    `backup ${object.object}: ${(Number(object.bytes) / 1048576).toFixed(0)} MB gzip in ${backup.seconds.toFixed(1)}s`,
  );

  // ----------------------------------------------------------------------------------------- rounds
  const journalDir = join(dir, 'journal');
  await mkdir(journalDir);
  const variants = [
    [
      'raw',
      async () => {
        await psql('DROP DATABASE IF EXISTS bench_raw WITH (FORCE)', 'postgres');
        await psql('CREATE DATABASE bench_raw TEMPLATE template0', 'postgres');
        const raw = await sh(
          `aws --endpoint-url "$AWS_ENDPOINT_URL" s3 cp "${object.object}" - | gunzip | ` +
            `PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d bench_raw > /dev/null`,
          { ...env, ...pgEnv },
        );
        if ((await psql('SELECT count(*) FROM events', 'bench_raw')) !== events)
          throw new Error('raw restore: wrong row count');
        await psql('DROP DATABASE IF EXISTS bench_raw WITH (FORCE)', 'postgres');
        return { seconds: raw.seconds };
      },
    ],
    [
      'tool',
      async () => {
        // the incident: rows changed and deleted
        await psql(
          "UPDATE accounts SET name = name || ' (changed)' WHERE id <= 1000; DELETE FROM events WHERE id % 10 = 0",
        );
        const tool = await run(process.execPath, [fileURLToPath(import.meta.url), '--tool', object.object], {
          ...env,
          BENCH_JOURNAL_DIR: journalDir,
          ...(process.env.BENCH_TRACE ? { BENCH_TRACE: '1' } : {}),
        });
        if (process.env.BENCH_TRACE) console.log(tool.stderr);
        const report = JSON.parse(tool.stdout.trim().split('\n').at(-1));
        if ((await psql('SELECT count(*) FROM events')) !== events)
          throw new Error('tool restore: wrong row count');
        // the database as it was before the swap, kept through validation and dropped by resume-writes (not
        // run here): dropped outside the timing, as raw drops its database outside the timing
        const kept = await psql(
          `SELECT coalesce(string_agg(format('%I', datname), ' '), '') FROM pg_database WHERE datname LIKE '%\\_pre\\_restore\\_%'`,
          'postgres',
        );
        for (const name of kept.split(' ').filter(Boolean))
          await psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, 'postgres');
        return { seconds: tool.seconds, steps: report.timings, maxRssMb: report.maxRssMb };
      },
    ],
  ];
  const samples = await interleave(runs, variants, {
    onSample: (name, sample, i) =>
      console.log(`  round ${i + 1} ${name}: ${sample.seconds.toFixed(2)} s (load ${sample.load})`),
  });

  // ----------------------------------------------------------------------------------------- report
  const ratio = pairedRatio(samples, 'tool', 'raw');
  const stepNames = Object.keys(samples.tool[0].steps);
  const step = (name) => stats(samples.tool.map((x) => x.steps[name] ?? 0)).median;
  const restoreRatio = pairedRatio(
    {
      restore: samples.tool.map((x) => ({ seconds: (x.steps.load ?? 0) + (x.steps.restore ?? 0) })),
      raw: samples.raw,
    },
    'restore',
    'raw',
  );
  const peakRss = Math.max(...samples.tool.map((x) => x.maxRssMb));
  const other = stepNames
    .filter((n) => !['integrity', 'load', 'restore', 'validate'].includes(n))
    .reduce((sum, n) => sum + step(n), 0);
  const lines = [
    [
      'database / backup',
      `${sizeMb} MB database, ${(Number(object.bytes) / 1048576).toFixed(0)} MB gzip object`,
    ],
    ['cpus / rounds', `${cpus().length} / ${runs} interleaved`],
    [
      'raw: aws s3 cp - | gunzip | psql',
      describe(
        samples.raw.map((x) => x.seconds),
        samples.raw.map((x) => x.load),
      ),
    ],
    [
      'tool: whole section (wall, incl. Node start)',
      describe(
        samples.tool.map((x) => x.seconds),
        samples.tool.map((x) => x.load),
      ),
    ],
    [
      'ratio tool / raw (paired)',
      `${ratio.median.toFixed(2)}× (min ${ratio.min.toFixed(2)}, max ${ratio.max.toFixed(2)}) — goal ≤ 1.05 ${ratio.median <= 1.05 ? '✓' : '✗'}`,
    ],
    ['  integrity (sidecar, size and ETag, globals), median', `${step('integrity').toFixed(2)} s`],
    [
      '  load (postgres-restore.sh RESTORE_PHASE=load: the one read, restore, ANALYZE; row counts), median',
      `${step('load').toFixed(2)} s`,
    ],
    ['  restore (postgres-restore.sh RESTORE_PHASE=swap), median', `${step('restore').toFixed(2)} s`],
    ['  load + swap, paired with raw', `${restoreRatio.median.toFixed(2)}×`],
    ['  validate (markers, per-table counts), median', `${step('validate').toFixed(2)} s`],
    ['  other steps (incident, choose, roles, stop-writes, …), median', `${other.toFixed(2)} s`],
    ['tool peak RSS (Node process)', `${peakRss} MB`],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) console.log(`${k.padEnd(width)}  ${v}`);
  emit('restore', {
    databaseMb: sizeMb,
    gzipMb: Math.round(Number(object.bytes) / 1048576),
    runs,
    ratio: round(ratio.median),
    ratioMin: round(ratio.min),
    ratioMax: round(ratio.max),
    restoreStepRatio: round(restoreRatio.median),
    seconds: { raw: summary(samples.raw), tool: summary(samples.tool) },
    steps: Object.fromEntries(stepNames.map((n) => [n, round(step(n), 2)])),
    toolPeakRssMb: peakRss,
  });
} finally {
  await Promise.allSettled([pg.stop(), s3.stop()]);
  await rm(dir, { recursive: true, force: true });
}
