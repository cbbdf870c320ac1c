/**
 * The local control plane: one process (sandbox/control-plane, built from the upstream Kubernetes and
 * etcd Go modules by the setup step) running etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler on 127.0.0.1. It announces itself with one JSON line on stdout once it is ready, and
 * exits when its stdin closes, so a killed sandbox never leaves it behind.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SandboxSetupError } from '../postgres.js';

export interface ControlPlane {
  server: string;
  version: string;
  adminKubeconfig: string;
  operatorKubeconfig: string;
  kubeletKubeconfig: string;
  caFile: string;
  kubeletCert: string;
  kubeletKey: string;
  /** The kubectl built at the server's version. */
  kubectl: string;
  startupMs: number;
  stop(): Promise<void>;
}

interface ReadyLine {
  ready: true;
  server: string;
  version: string;
  adminKubeconfig: string;
  operatorKubeconfig: string;
  kubeletKubeconfig: string;
  caFile: string;
  kubeletCert: string;
  kubeletKey: string;
  startupMs: number;
}

/** The checkout this code runs from (src/ or dist/, bundled or not). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && /"name":\s*"db-runbook"/.test(readFileSync(manifest, 'utf8'))) return dir;
    const parent = dirname(dir);
    if (parent === dir)
      throw new SandboxSetupError('cannot find the db-runbook checkout this sandbox runs from');
    dir = parent;
  }
}

/**
 * Runs the setup step without apt (it builds the control plane once, with progress on stderr) and
 * returns the folder holding control-plane and kubectl.
 */
export async function controlPlaneBinaries(): Promise<string> {
  const root = projectRoot();
  const child = spawn(process.execPath, [join(root, 'scripts', 'setup.mjs'), '--no-apt'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number>((resolve) => child.on('exit', (exit) => resolve(exit ?? 1)));
  const line = stdout.trim().split('\n').pop() ?? '';
  const dir =
    code === 0 ? (JSON.parse(line || '{}') as { controlPlaneDir?: string }).controlPlaneDir : undefined;
  if (!dir)
    throw new SandboxSetupError(
      'the sandbox needs its Kubernetes control plane: run `node scripts/setup.mjs` and follow what it says',
    );
  return dir;
}

export async function startControlPlane(options: {
  dataDir: string;
  namespaces: string[];
}): Promise<ControlPlane> {
  const bin = await controlPlaneBinaries();
  const child: ChildProcess = spawn(
    join(bin, 'control-plane'),
    ['--data-dir', options.dataDir, '--namespaces', options.namespaces.join(',')],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<ReadyLine>((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('not ready within 120 s')), 120_000);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(buffer.slice(0, newline)) as ReadyLine);
      } catch {
        reject(new Error(`unexpected output: ${buffer.slice(0, 200)}`));
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`it exited (${signal ?? `exit ${code}`})`));
    });
  }).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new SandboxSetupError(
      `the sandbox's Kubernetes control plane did not start: ${error.message}${stderr ? `\n${stderr.trim().split('\n').slice(-3).join('\n')}` : ''}\n(log: ${join(options.dataDir, 'control-plane.log')})`,
    );
  });
  return {
    ...ready,
    kubectl: join(bin, 'kubectl'),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
