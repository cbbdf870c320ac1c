// Shared by the benches (the runner skips files starting with `_`): run counts, interleaving, medians
// with min/max and the load average beside each figure, CPU seconds of a command tree, and the last
// JSON line. Figures taken under load only hold when the product and its anchor share the same moments:
// every run measures each variant once, in rotating order, and ratios pair them run by run.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

export const quick = process.argv.includes('--quick');

/** BENCH_RUNS (at least 3), else `fallback`. */
export function runCount(fallback = 3) {
  const asked = Number(process.env.BENCH_RUNS);
  return Math.max(3, Number.isFinite(asked) && asked > 0 ? Math.floor(asked) : fallback);
}

export function load1() {
  return Number(loadavg()[0].toFixed(2));
}

export function stats(values) {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1), n: sorted.length };
}

export const round = (x, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

/** "12.34 s (min 11.9, max 13.0; load 4.1–5.2)" */
export function describe(values, loads, unit = 's', digits = 2) {
  const s = stats(values);
  const l = stats(loads ?? []);
  const loadText = l.n ? `; load ${l.min.toFixed(1)}–${l.max.toFixed(1)}` : '';
  return `${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)}, n=${s.n}${loadText})`;
}

/**
 * Runs each variant once per round, `runs` rounds, the order rotating every round so no variant always
 * goes first (warm caches) or last (a neighbour's burst). `variants` is [name, async (round) => sample];
 * a sample is a number (seconds) or an object with `seconds`. Returns { name: [{...sample, load}] }.
 */
export async function interleave(runs, variants, { onSample } = {}) {
  const samples = Object.fromEntries(variants.map(([name]) => [name, []]));
  for (let round = 0; round < runs; round++) {
    for (let i = 0; i < variants.length; i++) {
      const [name, fn] = variants[(i + round) % variants.length];
      const loadBefore = load1();
      const raw = await fn(round);
      const sample = typeof raw === 'number' ? { seconds: raw } : raw;
      sample.load = Number(((loadBefore + load1()) / 2).toFixed(2));
      samples[name].push(sample);
      onSample?.(name, sample, round);
    }
  }
  return samples;
}

/** Ratios of `product` over `anchor` paired by round, with their median/min/max. */
export function pairedRatio(samples, product, anchor, key = 'seconds') {
  const a = samples[product] ?? [];
  const b = samples[anchor] ?? [];
  const ratios = a.map((s, i) => s[key] / b[i]?.[key]).filter((r) => Number.isFinite(r));
  return { ...stats(ratios), values: ratios.map((r) => round(r)) };
}

/** { median, min, max, load } of one variant's `key`, rounded for the JSON line. */
export function summary(samples, key = 'seconds') {
  const s = stats(samples.map((x) => x[key]));
  const l = stats(samples.map((x) => x.load));
  return {
    median: round(s.median),
    min: round(s.min),
    max: round(s.max),
    n: s.n,
    loadMedian: round(l.median, 2),
  };
}

// ------------------------------------------------------------------------------------- CPU accounting
export const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The last JSON line: `{"bench":"<name>", ...}`. Printed last, on its own line. */
export function emit(name, body) {
  process.stdout.write(
    `${JSON.stringify({ bench: name, quick, ...body, loadAverage: loadavg().map((l) => round(l, 2)) })}\n`,
  );
}

/**
 * Runs `file args` under /usr/bin/time: wall seconds, and CPU seconds of the command and every process
 * it waited for (`cpu`), plus this process's own CPU meanwhile (`selfCpu`: an in-process s3rver serving it).
 */
export function timed(file, args, { env, tmp } = {}) {
  return new Promise((resolve, reject) => {
    const timeFile = join(tmp ?? tmpdir(), `bench-rusage-${process.pid}-${process.hrtime.bigint()}`);
    const self0 = process.cpuUsage();
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-q', '-f', '%U %S', '-o', timeFile, file, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const self = process.cpuUsage(self0);
      let cpu = NaN;
      try {
        const last = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1);
        cpu = last.split(' ').reduce((sum, x) => sum + Number(x), 0);
        rmSync(timeFile, { force: true });
      } catch {
        // no rusage file
      }
      resolve({ code, seconds, cpu, selfCpu: (self.user + self.system) / 1e6, stdout, stderr });
    });
  });
}
