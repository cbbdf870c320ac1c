/**
 * A sandbox as the commands use it: started here, or joined — the one `db-runbook sandbox` keeps running
 * in another terminal announces itself in its own temp folder (sandbox.json, 0600), and `--sandbox` finds
 * it there instead of starting a second.
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Sandbox } from './index.js';

export interface SandboxHandle {
  dir: string;
  namespace: string;
  /** The operator's kubeconfig (a real RBAC role). */
  kubeconfigPath: string;
  adminKubeconfigPath: string;
  kubeServer: string;
  kubeVersion: string;
  /** Holds the kubectl built at the server's version. */
  kubectlDir: string;
  values: Record<string, string>;
  startupMs: number;
  /** True when this process joined a sandbox another process runs. */
  joined: boolean;
  /** Stops what this process started; a joined sandbox keeps running. */
  stop(): Promise<void>;
}

/** What a running sandbox writes for other processes to join it. */
type Announcement = { pid: number } & Omit<SandboxHandle, 'startupMs' | 'joined' | 'stop'>;

const FILE = 'sandbox.json';

export function handleOf(sandbox: Sandbox): SandboxHandle {
  return {
    dir: sandbox.dir,
    namespace: sandbox.namespace,
    kubeconfigPath: sandbox.kubeconfigPath,
    adminKubeconfigPath: sandbox.kube.adminKubeconfigPath,
    kubeServer: sandbox.kubeServer,
    kubeVersion: sandbox.kube.version,
    kubectlDir: sandbox.kubectlDir,
    values: sandbox.values,
    startupMs: sandbox.startupMs,
    joined: false,
    stop: () => sandbox.stop(),
  };
}

/** Lets `--sandbox` in other terminals join this sandbox while this process runs. */
export async function announce(handle: SandboxHandle): Promise<void> {
  const announcement: Announcement = {
    pid: process.pid,
    dir: handle.dir,
    namespace: handle.namespace,
    kubeconfigPath: handle.kubeconfigPath,
    adminKubeconfigPath: handle.adminKubeconfigPath,
    kubeServer: handle.kubeServer,
    kubeVersion: handle.kubeVersion,
    kubectlDir: handle.kubectlDir,
    values: handle.values,
  };
  await writeFile(join(handle.dir, FILE), `${JSON.stringify(announcement)}\n`, { mode: 0o600 });
}

/** The running sandbox of this user that `db-runbook sandbox` announced, if any. */
export function findRunningSandbox(): SandboxHandle | undefined {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((name) => name.startsWith('db-runbook-sandbox-'));
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    const file = join(tmpdir(), entry, FILE);
    try {
      const stat = statSync(file);
      if (!stat.isFile() || stat.uid !== process.getuid?.() || stat.size > 1_000_000) continue;
      const found = JSON.parse(readFileSync(file, 'utf8')) as Announcement;
      process.kill(found.pid, 0);
      return { ...found, startupMs: 0, joined: true, stop: async () => undefined };
    } catch {
      // not announced, not ours, or its process is gone
    }
  }
  return undefined;
}
