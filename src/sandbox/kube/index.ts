/**
 * A Kubernetes API stand-in for tests and `--sandbox`: a local HTTP server that
 * @kubernetes/client-node and kubectl talk to through a generated kubeconfig, with a job runner that
 * executes Jobs as local processes. Each stand-in is self-contained: no global state.
 */

import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

import { AccessPolicy, SANDBOX_USER } from './access.js';
import type { AccessRule } from './access.js';
import { EventRecorder } from './events.js';
import { jobOutcome, JobController } from './job-runner.js';
import type { JobOutcome } from './job-runner.js';
import { writeKubeconfig } from './kubeconfig.js';
import { Kubelet } from './kubelet.js';
import { Registry } from './registry.js';
import { mustResource } from './resources.js';
import { ApiServer } from './server.js';
import type { AuditEntry } from './server.js';
import { Store } from './store.js';
import type { Change } from './store.js';
import { selfSignedCertificate } from './tls.js';

export type { AccessRule } from './access.js';
export type { AuditEntry } from './server.js';

export interface KubeStandInOptions {
  /** Temp dir: kubeconfig, job run dirs. */
  workDir: string;
  /** Created at start; default ['default', 'data', 'kube-system']. */
  namespaces?: string[];
  /** SSAR answers allowed:false AND matching real requests get 403 Forbidden. */
  denials?: AccessRule[];
  /** Directories prepended to PATH for job processes. */
  jobPath?: string[];
  /** Extra env for job processes (applied last). */
  jobEnv?: Record<string, string>;
  /**
   * Serve HTTPS with a self-signed certificate carried in the kubeconfig (default true). kubectl only
   * sends its bearer token over TLS; with `tls: false` the stand-in speaks plain HTTP, which
   * @kubernetes/client-node accepts but kubectl cannot authenticate to.
   */
  tls?: boolean;
}

export interface KubeStandIn {
  /** https://127.0.0.1:PORT (http:// with tls: false) */
  url: string;
  /** Written in workDir: context 'sandbox', namespace 'data', bearer token auth. */
  kubeconfigPath: string;
  contextName: string;
  deny(rule: AccessRule): void;
  allow(rule: AccessRule): void;
  /** Audit log: one entry per finished request. */
  requests: ReadonlyArray<AuditEntry>;
  waitForJob(namespace: string, name: string, timeoutMs?: number): Promise<JobOutcome>;
  /** Kills running job processes, closes the server. */
  stop(): Promise<void>;
}

const CONTEXT = 'sandbox';
const NAMESPACES = mustResource('', 'namespaces');
const JOBS = mustResource('batch', 'jobs');

const SERVICE_ACCOUNTS = mustResource('', 'serviceaccounts');

/** The service account controller: every namespace gets a `default` ServiceAccount. */
function ensureDefaultServiceAccount(registry: Registry, change: Change): void {
  if (change.resource !== NAMESPACES || change.type !== 'ADDED') return;
  const namespace = change.object.metadata.name ?? '';
  if (registry.store.get(SERVICE_ACCOUNTS, namespace, 'default')) return;
  registry.createAs(
    SERVICE_ACCOUNTS,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace } },
    'kube-controller-manager',
  );
}

export async function startKubeStandIn(options: KubeStandInOptions): Promise<KubeStandIn> {
  const workDir = resolve(options.workDir);
  await mkdir(workDir, { recursive: true });
  const store = new Store();
  const registry = new Registry(store);
  const policy = new AccessPolicy(options.denials ?? []);
  const events = new EventRecorder(registry);
  const kubelet = new Kubelet(registry, events, {
    workDir,
    jobPath: options.jobPath ?? [],
    jobEnv: options.jobEnv ?? {},
  });
  const jobs = new JobController(registry, kubelet, events);

  // Controllers see changes after the write that caused them, in order, never re-entrantly.
  const pending: Change[] = [];
  let draining = false;
  let stopped = false;
  const drain = (): void => {
    draining = false;
    while (pending.length > 0 && !stopped) {
      const change = pending.shift() as Change;
      ensureDefaultServiceAccount(registry, change);
      kubelet.handle(change);
      jobs.handle(change);
    }
  };
  const unsubscribe = store.onChange((change) => {
    pending.push(change);
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
  });

  for (const name of options.namespaces ?? ['default', 'data', 'kube-system']) {
    registry.createAs(
      NAMESPACES,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
      'kube-apiserver',
    );
  }

  const audit: AuditEntry[] = [];
  const token = randomBytes(24).toString('hex');
  const tls = options.tls === false ? undefined : await selfSignedCertificate(workDir);
  const server = new ApiServer({ registry, policy, kubelet, streams: new Set(), token, audit, tls });
  const url = await server.listen();
  const kubeconfigPath = join(workDir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, {
    server: url,
    token,
    contextName: CONTEXT,
    namespace: 'data',
    user: SANDBOX_USER,
    caCertificate: tls?.cert,
  });

  const waitForJob = (namespace: string, name: string, timeoutMs = 60_000): Promise<JobOutcome> =>
    new Promise((resolvePromise, reject) => {
      const check = (): JobOutcome | undefined => {
        const job = store.get(JOBS, namespace, name);
        return job ? jobOutcome(job) : undefined;
      };
      const done = check();
      if (done) {
        resolvePromise(done);
        return;
      }
      const timer = setTimeout(() => {
        off();
        reject(new Error(`job ${namespace}/${name} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = store.onChange((change) => {
        if (change.resource !== JOBS || change.object.metadata.name !== name) return;
        const outcome = check();
        if (!outcome) return;
        clearTimeout(timer);
        off();
        resolvePromise(outcome);
      });
    });

  return {
    url,
    kubeconfigPath,
    contextName: CONTEXT,
    deny: (rule) => policy.deny(rule),
    allow: (rule) => policy.allow(rule),
    requests: audit,
    waitForJob,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      unsubscribe();
      jobs.stop();
      await kubelet.stop();
      await server.close();
    },
  };
}
