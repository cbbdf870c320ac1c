// Cold start to first frame: db-runbook's TUI vs a minimal Ink app, each in a real pseudo-terminal (script(1)).
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const work = mkdtempSync(join(tmpdir(), 'db-runbook-bench-'));
const kubeconfig = join(work, 'kubeconfig');
writeFileSync(
  kubeconfig,
  'apiVersion: v1\nkind: Config\ncurrent-context: bench\ncontexts: [{name: bench, context: {cluster: bench, user: bench}}]\nclusters: [{name: bench, cluster: {server: "https://127.0.0.1:9"}}]\nusers: [{name: bench, user: {token: x}}]\n',
);

/** Milliseconds from spawn until the terminal shows `marker`. */
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
        resolve(Number(process.hrtime.bigint() - started) / 1e6);
        child.stdin.write('q');
        setTimeout(() => child.kill('SIGKILL'), 2000).unref();
      }
    });
    child.on('exit', () => {
      if (!done) reject(new Error(`${command}: exited before showing "${marker}":\n${seen.slice(-500)}`));
    });
  });
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function measure(label, command, marker) {
  const times = [];
  await timeToText(command, marker); // warm the file cache once
  for (let i = 0; i < RUNS; i++) times.push(await timeToText(command, marker));
  const m = median(times);
  console.log(
    `${label.padEnd(44)} median ${m.toFixed(0)} ms  (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}, ${RUNS} runs)`,
  );
  return m;
}

// The same minimal app bundled like db-runbook is (esbuild), so the comparison is like for like.
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
  banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  logLevel: 'error',
});
const unbundled = await measure(
  'minimal Ink app (unbundled): first frame',
  `node bench/_minimal-ink.mjs`,
  'Runbook sections',
);
const floor = await measure(
  'minimal Ink app (bundled): first frame',
  `node ${bundledMinimal}`,
  'Runbook sections',
);
const first = await measure('db-runbook: first frame', `node dist/cli.js`, 'db-runbook');
const checklist = await measure('db-runbook: checklist with target', `node dist/cli.js`, 'Runbook sections');
console.log(`ratio first frame / bundled Ink floor:   ${(first / floor).toFixed(2)}x (goal ≤ 1.3x)`);
console.log(`ratio checklist / bundled Ink floor:     ${(checklist / floor).toFixed(2)}x`);
console.log(`ratio first frame / unbundled Ink app:   ${(first / unbundled).toFixed(2)}x`);
