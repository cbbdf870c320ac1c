// Cold start to first frame: db-runbook's TUI vs a minimal Ink app bundled the same way (esbuild), each in a
// real pseudo-terminal (script(1)). Every round starts each variant once, in rotating order, so the ratio
// pairs the product with its anchor under the same load. Goal: first frame ≤ 1.3× the bundled Ink app.
//   npm run bench -- startup [--quick]       BENCH_RUNS=N (default 9, --quick 5; at least 3)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, emit, interleave, pairedRatio, quick, runCount, summary } from './_lib.mjs';

const root = new URL('..', import.meta.url).pathname;
const RUNS = runCount(quick ? 5 : 9);
const work = mkdtempSync(join(tmpdir(), 'db-runbook-bench-'));
const kubeconfig = join(work, 'kubeconfig');
writeFileSync(
  kubeconfig,
  'apiVersion: v1\nkind: Config\ncurrent-context: bench\ncontexts: [{name: bench, context: {cluster: bench, user: bench}}]\nclusters: [{name: bench, cluster: {server: "https://127.0.0.1:9"}}]\nusers: [{name: bench, user: {token: x}}]\n',
);

/** Seconds from spawn until the terminal shows `marker`. */
function timeToText(command, marker) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: root,
      env: {
        ...process.env,
        KUBECONFIG: kubeconfig,
        XDG_STATE_HOME: work,
        TERM: 'xterm-256color',
        COLUMNS: '120',
        LINES: '40',
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let seen = '';
    let done = false;
    child.stdout.on('data', (chunk) => {
      seen += chunk.toString();
      if (!done && seen.includes(marker)) {
        done = true;
        resolve(Number(process.hrtime.bigint() - started) / 1e9);
        child.stdin.write('q');
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }
    });
    child.on('exit', () => {
      if (!done) reject(new Error(`${command}: exited before showing "${marker}":\n${seen.slice(-500)}`));
    });
  });
}

try {
  const { build } = await import('esbuild');
  const bundledMinimal = join(work, 'minimal', 'minimal-ink.js');
  await build({
    entryPoints: { 'minimal-ink': join(root, 'bench/_minimal-ink.mjs') },
    outdir: join(work, 'minimal'),
    outExtension: { '.js': '.js' },
    splitting: true,
    bundle: true,
    format: 'esm',
    platform: 'node',
    external: ['react-devtools-core'],
    banner: {
      js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);",
    },
    logLevel: 'error',
  });
  const variants = [
    ['inkBundled', () => timeToText(`node ${bundledMinimal}`, 'Runbook sections')],
    ['firstFrame', () => timeToText('node dist/cli.js', 'db-runbook')],
    ['checklist', () => timeToText('node dist/cli.js', 'Runbook sections')],
  ];
  for (const [, fn] of variants) await fn(); // warm the file cache once
  const samples = await interleave(RUNS, variants);
  const ms = (name) =>
    describe(
      samples[name].map((s) => s.seconds * 1000),
      samples[name].map((s) => s.load),
      'ms',
      0,
    );
  const ratio = pairedRatio(samples, 'firstFrame', 'inkBundled');
  const checklistRatio = pairedRatio(samples, 'checklist', 'inkBundled');
  console.log(`cpus ${cpus().length}, ${RUNS} interleaved rounds`);
  console.log(`minimal Ink app (bundled): first frame   ${ms('inkBundled')}`);
  console.log(`db-runbook: first frame                  ${ms('firstFrame')}`);
  console.log(`db-runbook: checklist with target        ${ms('checklist')}`);
  console.log(
    `ratio first frame / bundled Ink (paired)  ${ratio.median.toFixed(2)}× (min ${ratio.min.toFixed(2)}, max ${ratio.max.toFixed(2)}) — goal ≤ 1.3× ${ratio.median <= 1.3 ? '✓' : '✗'}`,
  );
  console.log(`ratio checklist / bundled Ink (paired)    ${checklistRatio.median.toFixed(2)}×`);
  emit('startup', {
    runs: RUNS,
    ratio: Number(ratio.median.toFixed(3)),
    ratioMin: Number(ratio.min.toFixed(3)),
    ratioMax: Number(ratio.max.toFixed(3)),
    checklistRatio: Number(checklistRatio.median.toFixed(3)),
    seconds: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summary(v)])),
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
