/**
 * The sandbox's Kubernetes: the real control plane, a process kubelet, and an operator whose rights are a
 * real RBAC role. The product gets the operator's kubeconfig (context `sandbox`, namespace `data`).
 */

import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';

import { startControlPlane, type ControlPlane } from './control-plane.js';
import { ProcessKubelet } from './kubelet.js';
import { OperatorAccess, type AccessRule } from './operator-access.js';

export type { AccessRule } from './operator-access.js';
export type JobOutcome = 'Complete' | 'Failed';

export const SANDBOX_NODE = 'sandbox-node';
export const SANDBOX_CONTEXT = 'sandbox';

export interface ClusterOptions {
  workDir: string;
  /** Created at start (default ['default', 'data']); the operator may act in each. */
  namespaces?: string[];
  /** Verbs the operator's role lacks from the start. */
  denials?: AccessRule[];
  /** Directories first on each pod's PATH. */
  jobPath?: string[];
  /** Extra environment for every pod. */
  jobEnv?: Record<string, string>;
}

export interface Cluster {
  /** https://127.0.0.1:PORT */
  url: string;
  version: string;
  /** The operator's kubeconfig: what the product uses. */
  kubeconfigPath: string;
  /** system:masters, for tests and the facilitator's own checks. */
  adminKubeconfigPath: string;
  contextName: string;
  /** kubectl built at the server's version. */
  kubectl: string;
  admin: KubeConfig;
  deny(rule: AccessRule): Promise<void>;
  allow(rule: AccessRule): Promise<void>;
  waitForJob(namespace: string, name: string, timeoutMs?: number): Promise<JobOutcome>;
  startupMs: number;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const started = Date.now();
  const workDir = resolve(options.workDir);
  await mkdir(workDir, { recursive: true, mode: 0o700 });
  const namespaces = options.namespaces ?? ['default', 'data'];
  const controlPlane: ControlPlane = await startControlPlane({
    dataDir: join(workDir, 'control-plane'),
    namespaces: namespaces.filter((name) => name !== 'default' && name !== 'kube-system'),
  });
  const stoppers: (() => Promise<void>)[] = [controlPlane.stop];
  const stop = async (): Promise<void> => {
    for (const stopOne of stoppers.reverse()) await stopOne().catch(() => undefined);
    stoppers.length = 0;
  };
  try {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const admin = new KubeConfig();
    admin.loadFromFile(controlPlane.adminKubeconfig);
    const access = new OperatorAccess(
      admin,
      namespaces.filter((name) => name !== 'kube-system'),
      options.denials ?? [],
    );
    await access.install();

    const kubeconfigPath = join(workDir, 'kubeconfig');
    await writeOperatorKubeconfig(controlPlane.operatorKubeconfig, kubeconfigPath);
    const adminKubeconfigPath = join(workDir, 'admin.kubeconfig');
    await writeOperatorKubeconfig(controlPlane.adminKubeconfig, adminKubeconfigPath);

    const { readFile } = await import('node:fs/promises');
    const kubelet = new ProcessKubelet({
      kubeconfig: admin,
      nodeName: SANDBOX_NODE,
      workDir: join(workDir, 'node'),
      jobPath: options.jobPath ?? [],
      jobEnv: options.jobEnv ?? {},
      tls: {
        cert: await readFile(controlPlane.kubeletCert, 'utf8'),
        key: await readFile(controlPlane.kubeletKey, 'utf8'),
      },
      bindPods: false,
    });
    stoppers.push(() => kubelet.stop());
    await kubelet.start();

    return {
      url: controlPlane.server,
      version: controlPlane.version,
      kubeconfigPath,
      adminKubeconfigPath,
      contextName: SANDBOX_CONTEXT,
      kubectl: controlPlane.kubectl,
      admin,
      deny: (rule) => access.deny(rule),
      allow: (rule) => access.allow(rule),
      waitForJob: (namespace, name, timeoutMs) => waitForJob(admin, namespace, name, timeoutMs),
      startupMs: Date.now() - started,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Copies a kubeconfig with the context renamed to `sandbox` and namespace `data` (0600: it holds a key). */
async function writeOperatorKubeconfig(source: string, target: string): Promise<void> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  config.loadFromFile(source);
  const current = config.getCurrentContext();
  const contexts = config
    .getContexts()
    .map((context) =>
      context.name === current ? { ...context, name: SANDBOX_CONTEXT, namespace: 'data' } : context,
    );
  config.loadFromOptions({
    clusters: config.getClusters(),
    users: config.getUsers(),
    contexts,
    currentContext: SANDBOX_CONTEXT,
  });
  await writeFile(target, config.exportConfig(), { mode: 0o600 });
  await chmod(target, 0o600);
}

async function waitForJob(
  admin: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs = 60_000,
): Promise<JobOutcome> {
  const { BatchV1Api } = await import('@kubernetes/client-node');
  const batch = admin.makeApiClient(BatchV1Api);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = await batch.readNamespacedJob({ name, namespace }).catch(() => undefined);
    for (const condition of job?.status?.conditions ?? []) {
      if (condition.status !== 'True') continue;
      if (condition.type === 'Complete' || condition.type === 'Failed') return condition.type;
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
  }
  throw new Error(`job ${namespace}/${name} did not finish within ${timeoutMs} ms`);
}
