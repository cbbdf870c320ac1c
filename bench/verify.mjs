// Verification of a backup dump held in S3: db-runbook's streaming scan (scanGzipStream: GetObject →
// sha256 in Node + inflate and marker search) against the runbook's shell pipeline
// `aws s3 cp s3://… - | gunzip | grep -c MARKER`, on the same generated .sql.gz in s3rver.
// Variants: product (default: igzip + a perl reader outside Node when both are installed), productNodeScan
// (DB_RUNBOOK_MARKER_SCAN=node: the igzip child's output searched in Node), productZlib (zlib in Node), and
// floor (the same process: GetObject + sha256 only, nothing inflated — the bound no inflater goes below).
// Each round runs every variant once, in rotating order; ratios pair them round by round. Prints medians with min/max and load, CPU seconds per GB
// (the command's processes + s3rver) and the verification's peak RSS (measured in its own process).
//
//   npm run bench -- verify [--quick]             # 100 MB and 1000 MB objects; --quick: 40 MB
//   BENCH_VERIFY_MB=200 BENCH_RUNS=5 node bench/verify.mjs
//
// Goal (issue 17): ≤ 0.3× the pipeline's time, peak RSS < 150 MB and flat between sizes.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { describe, emit, interleave, pairedRatio, quick, round, runCount, summary, timed } from './_lib.mjs';

const MiB = 1024 * 1024;
const MARKER = '2026-01-24T02:00:00Z synthetic check 20260124T015930Z-bnch';

if (process.argv[2] === '--child') await child();
else await main();

/** The verification alone, in its own process so its peak RSS is its own. */
async function child() {
  const { createS3Adapter } = await import('../dist/adapters/s3.js');
  const { scanGzipStream } = await import('../dist/runbook/dump-scan.js');
  const { createInflaterFactory } = await import('../dist/adapters/inflate.js');
  const inflate = createInflaterFactory();
  const env = process.env;
  const s3 = await createS3Adapter({
    bucket: env.S3_BUCKET,
    region: env.AWS_DEFAULT_REGION,
    endpoint: env.AWS_ENDPOINT_URL,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    record: () => undefined,
  });
  const started = performance.now();
  const { body } = await s3.getStream(env.BENCH_KEY);
  const result =
    env.BENCH_VERIFY_FLOOR === '1'
      ? await hashOnly(body)
      : await scanGzipStream(body, { markers: ['backup_validation', MARKER], inflate });
  const ms = performance.now() - started;
  process.stdout.write(
    JSON.stringify({
      ms,
      maxRssKiB: process.resourceUsage().maxRSS,
      found: result.found,
      gzipOk: result.gzipOk,
      compressedBytes: result.compressedBytes,
      bytes: result.bytes,
      sha256: result.sha256,
    }),
  );
}

/** The floor: the same process, GetObject and sha256, nothing inflated (what no inflater can go below). */
async function hashOnly(body) {
  const { createHash } = await import('node:crypto');
  const hash = createHash('sha256');
  let compressedBytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    compressedBytes += chunk.length;
  }
  return { found: {}, gzipOk: true, compressedBytes, bytes: NaN, sha256: hash.digest('hex') };
}

/**
 * 8 MiB of pg_dump COPY lines shaped like an orders table (sequential ids, repeated domains, amounts,
 * timestamps): they compress about 5:1 with gzip -1, like real dumps. Deflate's 32 KiB window cannot
 * see that the pool repeats.
 */
function linePool() {
  const names = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
  const notes = ['\\N', 'plain', 'gift wrap', 'deliver after 5pm', 'ünïcødé ✓', "it's fine"];
  const parts = [];
  let size = 0;
  let id = 1;
  while (size < 8 * MiB) {
    const name = names[id % names.length];
    const cents = (id * 7919) % 100000;
    const day = String(1 + (id % 28)).padStart(2, '0');
    const hour = String(id % 24).padStart(2, '0');
    const note = notes[Math.floor(Math.random() * notes.length)];
    const line = `${id}\t${1 + (id % 2000)}\t${name}.${id % 977}@example.test\t${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}\t2026-01-${day} ${hour}:00:00+00\t${note}\t{t${id % 3},x}\n`;
    parts.push(line);
    size += line.length;
    id += 1;
  }
  return Buffer.from(parts.join(''));
}

/** Writes a .sql.gz of about `mb` MB (compressed) with the marker near its end; returns its path. */
async function generate(dir, mb) {
  const path = join(dir, `bench-${mb}mb.sql.gz`);
  const pool = linePool();
  const ratio = pool.length / gzipSync(pool, { level: 1 }).length;
  const rawTarget = mb * MiB * ratio;
  // pg_dump order: every CREATE TABLE first, then the data. The marker row goes last (worst case for
  // the search; the pipeline's grep -c reads everything anyway).
  const header = Buffer.from(
    '--\n-- PostgreSQL database dump\n--\n' +
      'CREATE TABLE public.backup_validation (id integer NOT NULL, note text);\n' +
      'CREATE TABLE public.orders (id bigint, customer_id integer, email text, amount numeric(12,2), placed_at timestamptz, note text, tags text[]);\n' +
      'COPY public.orders (id, customer_id, email, amount, placed_at, note, tags) FROM stdin;\n',
  );
  const tail = Buffer.from(
    `\\.\n\nCOPY public.backup_validation (id, note) FROM stdin;\n1\t${MARKER}\n\\.\n\n-- PostgreSQL database dump complete\n`,
  );
  const out = createWriteStream(path);
  const gzip = spawn('pigz', ['-1', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
  gzip.stdout.pipe(out);
  const closed = new Promise((resolve, reject) => {
    out.on('finish', resolve);
    gzip.on('error', reject);
  });
  const write = (buffer) =>
    gzip.stdin.write(buffer)
      ? Promise.resolve()
      : new Promise((resolve) => gzip.stdin.once('drain', resolve));
  await write(header);
  // Stop when the compressed file reaches the size (pigz lags by a few MB of buffers), or at twice the estimate.
  for (let written = 0; out.bytesWritten < mb * MiB && written < 2 * rawTarget; written += pool.length)
    await write(pool);
  await write(tail);
  gzip.stdin.end();
  await closed;
  return path;
}

async function main() {
  const sizes = (process.env.BENCH_VERIFY_MB ?? (quick ? '40' : '100,1000'))
    .split(',')
    .map((text) => Number(text.trim()))
    .filter((n) => n > 0);
  const runs = runCount(3);
  const { startSandboxS3 } = await import('../dist/sandbox/s3.js');
  const { createS3Adapter } = await import('../dist/adapters/s3.js');
  const { chooseInflater, chooseMarkerScan } = await import('../dist/adapters/inflate.js');
  const inflater = chooseMarkerScan() ? 'igzip + perl marker scan' : chooseInflater().kind;
  const work = mkdtempSync(join(tmpdir(), 'db-runbook-bench-verify-'));
  const s3 = await startSandboxS3({ directory: join(work, 's3') });
  const env = { ...process.env, ...s3.env };
  const adapter = await createS3Adapter({
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    record: () => undefined,
  });
  const self = new URL(import.meta.url).pathname;
  const rows = [];
  try {
    for (const mb of sizes) {
      process.stdout.write(`\n${mb} MB: generating… `);
      const file = await generate(work, mb);
      const size = statSync(file).size;
      const key = `postgres/bench-${mb}mb.sql.gz`;
      process.stdout.write(`${(size / MiB).toFixed(0)} MiB gzip; uploading… `);
      await adapter.upload(key, createReadStream(file));
      rmSync(file);
      process.stdout.write(`${runs} interleaved rounds… `);
      let sqlBytes = 0;
      let agreed;
      const product = (extra) => async () => {
        const node = await timed(process.execPath, [self, '--child'], {
          env: { ...env, ...extra, BENCH_KEY: key },
          tmp: work,
        });
        if (node.code !== 0) throw new Error(`verification failed: ${node.stderr}`);
        const scan = JSON.parse(node.stdout);
        if (extra.BENCH_VERIFY_FLOOR) return { ...node, rssMiB: scan.maxRssKiB / 1024 };
        if (!scan.gzipOk || !scan.found[MARKER])
          throw new Error(`scan did not find the marker: ${node.stdout}`);
        // every variant must see the same object: same hash, same inflated size
        const seen = `${scan.sha256} ${scan.bytes}`;
        if (agreed !== undefined && seen !== agreed)
          throw new Error(`variants disagree: ${agreed} vs ${seen} (${JSON.stringify(extra)})`);
        agreed = seen;
        sqlBytes = scan.bytes;
        return { ...node, scanSeconds: scan.ms / 1000, rssMiB: scan.maxRssKiB / 1024 };
      };
      const samples = await interleave(runs, [
        ['product', product({})],
        ['productNodeScan', product({ DB_RUNBOOK_MARKER_SCAN: 'node' })],
        ['productZlib', product({ DB_RUNBOOK_INFLATER: 'zlib' })],
        ['floor', product({ BENCH_VERIFY_FLOOR: '1' })],
        [
          'pipeline',
          async () => {
            const shell = await timed(
              'bash',
              [
                '-c',
                'set -o pipefail; aws s3 cp "s3://$S3_BUCKET/$BENCH_KEY" - --endpoint-url "$AWS_ENDPOINT_URL" | gunzip | grep -c -F "$BENCH_MARKER"',
              ],
              { env: { ...env, BENCH_KEY: key, BENCH_MARKER: MARKER }, tmp: work },
            );
            if (shell.code !== 0 || shell.stdout.trim() !== '1')
              throw new Error(`pipeline failed (${shell.code}): ${shell.stdout}${shell.stderr}`);
            return shell;
          },
        ],
      ]);
      await adapter.delete(key);
      const gb = size / 1024 ** 3;
      for (const list of Object.values(samples)) for (const s of list) s.cpuPerGB = (s.cpu + s.selfCpu) / gb;
      rows.push({ mb, gzipMiB: size / MiB, sqlMiB: sqlBytes / MiB, samples });
      process.stdout.write('done\n');
    }
  } finally {
    await s3.stop();
    rmSync(work, { recursive: true, force: true });
  }

  console.log(
    `\nverify a .sql.gz in s3rver: scanGzipStream (sha256 + ${inflater} + markers) vs aws s3 cp - | gunzip | grep -c`,
  );
  console.log(
    `cpus ${cpus().length}; every figure: median of ${runs} interleaved rounds (min, max; load 1-min)`,
  );
  const figures = [];
  for (const row of rows) {
    const { samples } = row;
    const ratio = pairedRatio(samples, 'product', 'pipeline');
    const zlibRatio = pairedRatio(samples, 'productZlib', 'pipeline');
    const nodeScanRatio = pairedRatio(samples, 'productNodeScan', 'pipeline');
    const nodeScanRss = samples.productNodeScan.map((s) => s.rssMiB);
    const floorRatio = pairedRatio(samples, 'floor', 'pipeline');
    const rss = samples.product.map((s) => s.rssMiB);
    console.log(`\n${row.gzipMiB.toFixed(0)} MiB gzip (${row.sqlMiB.toFixed(0)} MiB SQL)`);
    for (const name of ['product', 'productNodeScan', 'productZlib', 'floor', 'pipeline']) {
      const list = samples[name];
      const cpuPerGB = summary(list, 'cpuPerGB');
      const gb = row.gzipMiB / 1024;
      console.log(
        `  ${name.padEnd(12)} ${describe(
          list.map((s) => s.seconds),
          list.map((s) => s.load),
        )}` +
          `  CPU ${cpuPerGB.median.toFixed(1)} s/GB of gzip (command ${(summary(list, 'cpu').median / gb).toFixed(1)}` +
          ` + s3rver ${(summary(list, 'selfCpu').median / gb).toFixed(1)})`,
      );
    }
    console.log(
      `  ratio product/pipeline (paired) ${ratio.median.toFixed(2)}× (min ${ratio.min.toFixed(2)}, max ${ratio.max.toFixed(2)}); ` +
        `nodeScan/pipeline ${nodeScanRatio.median.toFixed(2)}×; zlib/pipeline ${zlibRatio.median.toFixed(2)}×; ` +
        `peak RSS ${Math.max(...rss).toFixed(0)} MiB (nodeScan ${Math.max(...nodeScanRss).toFixed(0)} MiB)`,
    );
    console.log(
      `  floor (GetObject + sha256, no inflate)/pipeline ${floorRatio.median.toFixed(2)}× (min ${floorRatio.min.toFixed(2)}, max ${floorRatio.max.toFixed(2)})`,
    );
    figures.push({
      gzipMiB: Math.round(row.gzipMiB),
      sqlMiB: Math.round(row.sqlMiB),
      ratio: round(ratio.median),
      ratioMin: round(ratio.min),
      ratioMax: round(ratio.max),
      nodeScanRatio: round(nodeScanRatio.median),
      floorRatio: round(floorRatio.median),
      zlibRatio: round(zlibRatio.median),
      peakRssMiB: Math.round(Math.max(...rss)),
      nodeScanPeakRssMiB: Math.round(Math.max(...nodeScanRss)),
      seconds: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)])),
      cpuSecondsPerGB: Object.fromEntries(
        Object.entries(samples).map(([k, v]) => [k, summary(v, 'cpuPerGB')]),
      ),
    });
  }
  const worstRatio = Math.max(...figures.map((f) => f.ratio));
  const peak = Math.max(...figures.map((f) => f.peakRssMiB));
  const spread = peak - Math.min(...figures.map((f) => f.peakRssMiB));
  console.log(`\nworst ratio ${worstRatio.toFixed(2)}× — goal ≤ 0.3× ${worstRatio <= 0.3 ? '✓' : '✗'}`);
  console.log(`peak RSS ${peak.toFixed(0)} MiB — goal < 150 MiB ${peak < 150 ? '✓' : '✗'}`);
  if (figures.length > 1)
    console.log(`RSS spread between sizes ${spread.toFixed(0)} MiB — flat ${spread < 25 ? '✓' : '✗'}`);
  emit('verify', { runs, inflater, worstRatio: round(worstRatio), peakRssMiB: peak, sizes: figures });
}
