// The sandbox's Kubernetes, with its binaries cached: control plane start to ready, start to a Ready node
// with the process kubelet, the whole sandbox (S3, PostgreSQL, Neo4j, Kubernetes), one Job through the
// real controllers, and the control plane's peak memory. Medians of BENCH_RUNS (default 3) runs.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

const setup = spawnSync(process.execPath, [join(root, 'scripts', 'setup.mjs'), '--no-apt'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const { controlPlaneDir } = JSON.parse(setup.stdout.trim().split('\n').pop() || '{}');
if (!controlPlaneDir) {
  console.error('no control plane: run node scripts/setup.mjs');
  process.exit(1);
}

const stats = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1) };
};
const fmt = ({ median, min, max }) =>
  `${Math.round(median)} ms (min ${Math.round(min)}, max ${Math.round(max)})`;

/** Spawn to the ready line; the process's peak RSS (VmHWM) once a Job has run through it, if asked. */
async function controlPlaneReady() {
  const dir = mkdtempSync(join(tmpdir(), 'db-runbook-bench-cp-'));
  const started = performance.now();
  const child = spawn(join(controlPlaneDir, 'control-plane'), ['--data-dir', dir, '--namespaces', 'data'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.stdout.once('data', resolve);
    child.once('exit', () => reject(new Error('control plane exited')));
  });
  const ms = performance.now() - started;
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  rmSync(dir, { recursive: true, force: true });
  return { ms, peakKb };
}

const { startCluster } = await import(join(root, 'dist', 'sandbox', 'cluster', 'index.js'));
const { startSandbox } = await import(join(root, 'dist', 'sandbox', 'index.js'));

async function clusterWithJob() {
  const dir = mkdtempSync(join(tmpdir(), 'db-runbook-bench-cluster-'));
  const started = performance.now();
  const cluster = await startCluster({ workDir: join(dir, 'kube') });
  const readyMs = performance.now() - started;
  const { BatchV1Api } = await import('@kubernetes/client-node');
  const batch = cluster.admin.makeApiClient(BatchV1Api);
  const jobStarted = performance.now();
  await batch.createNamespacedJob({
    namespace: 'data',
    body: {
      metadata: { name: 'bench' },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'main', image: 'busybox', command: ['true'] }],
          },
        },
      },
    },
  });
  await cluster.waitForJob('data', 'bench', 60_000);
  const jobMs = performance.now() - jobStarted;
  const pid = Number(
    spawnSync('pgrep', ['-n', '-f', `control-plane --data-dir ${join(dir, 'kube')}`], {
      encoding: 'utf8',
    }).stdout.trim(),
  );
  let peakKb = 0;
  try {
    peakKb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    // not found
  }
  await cluster.stop();
  rmSync(dir, { recursive: true, force: true });
  return { readyMs, jobMs, peakKb };
}

async function wholeSandbox() {
  const started = performance.now();
  const sandbox = await startSandbox();
  const ms = performance.now() - started;
  await sandbox.stop();
  return ms;
}

const controlPlane = [];
const node = [];
const job = [];
const peaks = [];
const sandbox = [];
for (let run = 0; run < RUNS; run++) {
  const cp = await controlPlaneReady();
  controlPlane.push(cp.ms);
  const cluster = await clusterWithJob();
  node.push(cluster.readyMs);
  job.push(cluster.jobMs);
  peaks.push(cluster.peakKb);
  sandbox.push(await wholeSandbox());
}

const sizes = Object.fromEntries(
  ['control-plane', 'kubectl'].map((name) => [name, statSync(join(controlPlaneDir, name)).size]),
);
const result = {
  controlPlaneReady: stats(controlPlane),
  readyNode: stats(node),
  jobThroughControllers: stats(job),
  wholeSandbox: stats(sandbox),
  controlPlanePeakRssMb: Math.round(Math.max(...peaks) / 1024),
};
console.log(
  `runs ${RUNS}, load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
console.log(`control plane spawn → ready line      ${fmt(result.controlPlaneReady)}`);
console.log(`sandbox Kubernetes → Ready node        ${fmt(result.readyNode)}   (goal ≤ 8000 ms)`);
console.log(`one Job: create → Complete             ${fmt(result.jobThroughControllers)}`);
console.log(`whole sandbox (S3, PostgreSQL, Neo4j, Kubernetes) ${fmt(result.wholeSandbox)}`);
console.log(`control plane peak RSS after a Job     ${result.controlPlanePeakRssMb} MB`);
console.log(
  `binaries: control-plane ${(sizes['control-plane'] / 1e6).toFixed(0)} MB, kubectl ${(sizes.kubectl / 1e6).toFixed(0)} MB`,
);
console.log(
  JSON.stringify({
    bench: 'sandbox',
    readyNodeMs: Math.round(result.readyNode.median),
    controlPlaneReadyMs: Math.round(result.controlPlaneReady.median),
    jobMs: Math.round(result.jobThroughControllers.median),
    wholeSandboxMs: Math.round(result.wholeSandbox.median),
    peakRssMb: result.controlPlanePeakRssMb,
    load: loadavg()[0],
  }),
);
