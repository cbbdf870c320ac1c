/**
 * The local control plane: one process (sandbox/control-plane, built from the upstream Kubernetes and
 * etcd Go modules by the setup step) running etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler on 127.0.0.1. It announces itself with one JSON line on stdout once it is ready, and
 * exits when its stdin closes, so a killed sandbox never leaves it behind.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

import { SandboxSetupError } from '../postgres.js';
import { runSetup } from '../setup-step.js';

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

/** The control plane program's last stdout line once it serves. */
type ReadyLine = { ready: true } & Omit<ControlPlane, 'kubectl' | 'stop'>;

/** The folder holding control-plane and kubectl, built once by the setup step. */
export async function controlPlaneBinaries(): Promise<string> {
  const { controlPlaneDir } = await runSetup();
  if (!controlPlaneDir) {
    throw new SandboxSetupError(
      'the sandbox needs its Kubernetes control plane: run `node scripts/setup.mjs` and follow what it says',
    );
  }
  return controlPlaneDir;
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
