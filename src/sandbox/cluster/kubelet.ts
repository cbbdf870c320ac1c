/**
 * A process kubelet for the sandbox's real control plane: it registers a Ready Node, runs the pods bound
 * to it as local process groups (the first container; there are no images here, the command runs on this
 * machine with the tools it has), reports phase, container states and exit codes through the pod status
 * API, finishes deletions, posts events, and serves container logs over HTTPS so that
 * `readNamespacedPodLog` and `kubectl logs` go through the apiserver.
 *
 * Per pod, under <workDir>/pods/<namespace>_<pod>/: volumes/<name>/ (configMap and secret files with their
 * modes, emptyDir), home/, tmp/ and container.log. persistentVolumeClaim volumes live in
 * <workDir>/pvc/<namespace>/<claim>/ and outlast the pod. The process gets the container's env plus PATH
 * (jobPath first, where the sandbox's apt-get shim sits), HOME, TMPDIR and options.jobEnv, with mount paths
 * in command, args, env values and workingDir rewritten to the local directories.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';

import { asArray, dig, isPlainObject, type JsonObject, type KubeObject } from './json.js';
import { serveContainerLogs, type LogServer } from './log-server.js';
import {
  containerEnv,
  ContainerConfigError,
  expandVars,
  pathRewriter,
  type Mount,
  type SourceLookup,
} from './pod-env.js';
import { PodLog } from './pod-log.js';

export interface KubeletOptions {
  kubeconfig: KubeConfig;
  nodeName: string;
  workDir: string;
  /** Directories put first on each pod's PATH. */
  jobPath: string[];
  /** Extra environment for every pod (applied last). */
  jobEnv: Record<string, string>;
  /** TLS pair for the log endpoint the apiserver calls. */
  tls: { cert: string; key: string };
  /** Bind unscheduled pods to this node (when no scheduler runs). */
  bindPods: boolean;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

class MountError extends Error {}

/** A time as the typed client serialises it (seconds, as the kubelet reports them). */
const now = (): Date => new Date(Math.floor(Date.now() / 1000) * 1000);

export class ProcessKubelet {
  private readonly running = new Map<string, Running>();
  private readonly started = new Set<string>();
  private readonly finishing = new Set<string>();
  private readonly bound = new Set<string>();
  private readonly logs = new Map<string, PodLog>();
  private readonly statusQueue = new Map<string, Promise<unknown>>();
  private readonly work = new Set<Promise<unknown>>();
  private stopped = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private abortWatch: (() => void) | undefined;
  private logServer: LogServer | undefined;
  private core!: CoreV1Api;

  constructor(private readonly options: KubeletOptions) {}

  async start(): Promise<void> {
    const { CoreV1Api } = await import('@kubernetes/client-node');
    this.core = this.options.kubeconfig.makeApiClient(CoreV1Api);
    this.logServer = await serveContainerLogs(this.options.tls, (namespace, pod) =>
      this.logs.get(`${namespace}/${pod}`),
    );
    await this.registerNode(this.logServer.port);
    await this.renewLease();
    // The node-lifecycle controller taints a node whose lease is older than 40 s: renew it every 10 s.
    this.heartbeat = setInterval(() => this.track(this.renewLease()), 10_000);
    this.heartbeat.unref();
    // If this process ends without stop() (a crash, process.exit), the pods' process groups go with it.
    process.on('exit', this.killAllNow);
    await this.watchPods();
  }

  private readonly killAllNow = (): void => {
    for (const { child } of this.running.values()) signalGroup(child, 'SIGKILL');
  };

  /** The kubelet's heartbeat: its Lease in kube-node-lease. */
  private async renewLease(): Promise<void> {
    const { CoordinationV1Api, V1MicroTime } = await import('@kubernetes/client-node');
    const leases = this.options.kubeconfig.makeApiClient(CoordinationV1Api);
    const name = this.options.nodeName;
    const namespace = 'kube-node-lease';
    const renewTime = new V1MicroTime();
    const current = await leases.readNamespacedLease({ name, namespace }).catch(() => undefined);
    if (!current) {
      await leases.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
        },
      });
      return;
    }
    current.spec = { ...current.spec, holderIdentity: name, leaseDurationSeconds: 40, renewTime };
    await leases.replaceNamespacedLease({ name, namespace, body: current });
  }

  /** Kills every pod's processes and stops watching. */
  async stop(): Promise<void> {
    this.stopped = true;
    process.removeListener('exit', this.killAllNow);
    clearInterval(this.heartbeat);
    this.abortWatch?.();
    await Promise.allSettled([...this.running.keys()].map((uid) => this.kill(uid, 'SIGKILL')));
    await Promise.allSettled([...this.work]);
    for (const log of this.logs.values()) log.close();
    await this.logServer?.close();
  }

  private track<T>(promise: Promise<T>): void {
    const settled = promise.catch(() => undefined);
    this.work.add(settled);
    void settled.finally(() => this.work.delete(settled));
  }

  private async registerNode(port: number): Promise<void> {
    const name = this.options.nodeName;
    const capacity = { cpu: '2', memory: '24Gi', pods: '110', 'ephemeral-storage': '100Gi' };
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': 'amd64',
        },
      },
    };
    await this.core.createNode({ body: node }).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 409) throw error;
    });
    const at = now();
    // The controllers write to a new Node too: read, change, write, again on a conflict.
    for (let attempt = 0; ; attempt++) {
      const current = await this.core.readNodeStatus({ name });
      current.status = {
        capacity,
        allocatable: capacity,
        addresses: [
          { type: 'InternalIP', address: '127.0.0.1' },
          { type: 'Hostname', address: name },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'process kubelet is posting ready status',
            lastHeartbeatTime: at,
            lastTransitionTime: at,
          },
        ],
        nodeInfo: {
          architecture: 'amd64',
          bootID: '',
          containerRuntimeVersion: 'process://sandbox',
          kernelVersion: '',
          kubeProxyVersion: '',
          kubeletVersion: 'sandbox-process-kubelet',
          machineID: '',
          operatingSystem: 'linux',
          osImage: 'this machine',
          systemUUID: '',
        },
      };
      try {
        await this.core.replaceNodeStatus({ name, body: current });
        return;
      } catch (error) {
        if ((error as { code?: number }).code !== 409 || attempt >= 10) throw error;
      }
    }
  }

  private async watchPods(): Promise<void> {
    const { Watch } = await import('@kubernetes/client-node');
    const watch = new Watch(this.options.kubeconfig);
    const list = await this.core.listPodForAllNamespaces({});
    for (const pod of list.items) this.onPod('ADDED', pod);
    let resourceVersion = list.metadata?.resourceVersion;
    const connect = async (): Promise<void> => {
      if (this.stopped) return;
      const request = await watch.watch(
        '/api/v1/pods',
        { allowWatchBookmarks: true, ...(resourceVersion ? { resourceVersion } : {}) },
        (type: string, pod: V1Pod) => {
          if (pod.metadata?.resourceVersion) resourceVersion = pod.metadata.resourceVersion;
          if (type !== 'BOOKMARK') this.onPod(type, pod);
        },
        (error: unknown) => {
          if (this.stopped) return;
          // 410 Gone: start over from a fresh list.
          if ((error as { code?: number } | undefined)?.code === 410) resourceVersion = undefined;
          setTimeout(() => void connect().catch(() => undefined), 200);
        },
      );
      this.abortWatch = () => request.abort();
    };
    await connect();
  }

  private onPod(type: string, pod: V1Pod): void {
    if (this.stopped) return;
    const uid = pod.metadata?.uid ?? '';
    if (type === 'DELETED') {
      this.track(this.kill(uid, 'SIGKILL'));
      return;
    }
    if (pod.metadata?.deletionTimestamp) {
      if (!this.finishing.has(uid)) {
        this.finishing.add(uid);
        this.track(this.finishDeletion(pod));
      }
      return;
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) {
      if (this.options.bindPods && !this.bound.has(uid)) {
        this.bound.add(uid);
        this.track(
          this.core.createNamespacedBinding({
            namespace: pod.metadata?.namespace ?? '',
            body: {
              apiVersion: 'v1',
              kind: 'Binding',
              metadata: { name: pod.metadata?.name ?? '', uid },
              target: { apiVersion: 'v1', kind: 'Node', name: this.options.nodeName },
            },
          }),
        );
      }
      return;
    }
    if (nodeName !== this.options.nodeName || this.started.has(uid)) return;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
    this.started.add(uid);
    this.track(this.run(pod as unknown as KubeObject));
  }

  /** The kubelet's part of a graceful delete: stop the containers, then remove the pod for good. */
  private async finishDeletion(pod: V1Pod): Promise<void> {
    const uid = pod.metadata?.uid ?? '';
    // A StatefulSet's server gets its grace period (up to 120 s) to shut down cleanly, as a database must
    // before its volume is used by another pod; everything else is cut short after 2 s here.
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    const statefulSet = (pod.metadata?.ownerReferences ?? []).some((owner) => owner.kind === 'StatefulSet');
    await this.kill(uid, 'SIGTERM', statefulSet ? Math.min(grace, 120) : Math.min(grace, 2));
    await this.statusQueue.get(uid);
    await this.core
      .deleteNamespacedPod({
        name: pod.metadata?.name ?? '',
        namespace: pod.metadata?.namespace ?? '',
        gracePeriodSeconds: 0,
        // The apiserver reads DeleteOptions from the body when there is one: the grace period goes there too,
        // or the delete is only "pending graceful" and the pod stays until its deletionTimestamp is long past.
        body: { gracePeriodSeconds: 0, preconditions: { uid } },
      })
      .catch(() => undefined);
    const podDir = this.podDir(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    await rm(podDir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Signals the pod's process group; escalates to SIGKILL after the grace period (at most 2 s here). */
  private async kill(uid: string, signal: NodeJS.Signals, graceSeconds = 30): Promise<void> {
    const proc = this.running.get(uid);
    if (!proc) return;
    signalGroup(proc.child, signal);
    if (signal === 'SIGKILL') return proc.exited;
    const timer = setTimeout(() => signalGroup(proc.child, 'SIGKILL'), graceSeconds * 1000);
    await proc.exited;
    clearTimeout(timer);
  }

  private podDir(namespace: string, name: string): string {
    return join(this.options.workDir, 'pods', `${namespace}_${name}`);
  }

  /** Read-modify-write of the pod's status, one at a time per pod, retried on conflicts. */
  private setStatus(pod: KubeObject, mutate: (status: JsonObject) => void): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    const previous = this.statusQueue.get(uid) ?? Promise.resolve();
    const next = previous.then(async () => {
      for (let attempt = 0; attempt < 8 && !this.stopped; attempt++) {
        let current: V1Pod;
        try {
          current = await this.core.readNamespacedPodStatus({
            name: pod.metadata.name ?? '',
            namespace: pod.metadata.namespace ?? '',
          });
        } catch {
          return;
        }
        if (current.metadata?.uid !== uid) return;
        const status = (current.status ?? {}) as unknown as JsonObject;
        mutate(status);
        current.status = status as V1Pod['status'];
        try {
          await this.core.replaceNamespacedPodStatus({
            name: pod.metadata.name ?? '',
            namespace: pod.metadata.namespace ?? '',
            body: current,
          });
          return;
        } catch (error) {
          if ((error as { code?: number }).code !== 409) return;
        }
      }
    });
    const settled = next.catch(() => undefined);
    this.statusQueue.set(uid, settled);
    return settled;
  }

  private event(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const now = new Date();
    const namespace = pod.metadata.namespace ?? '';
    this.track(
      this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { name: `${pod.metadata.name}.${randomBytes(8).toString('hex')}`, namespace },
          involvedObject: {
            apiVersion: 'v1',
            kind: 'Pod',
            name: pod.metadata.name,
            namespace,
            uid: pod.metadata.uid,
          },
          type,
          reason,
          message,
          source: { component: 'kubelet', host: this.options.nodeName },
          reportingComponent: 'kubelet',
          reportingInstance: this.options.nodeName,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      }),
    );
  }

  /** Reads the Secrets and ConfigMaps the pod names, so the environment can be computed in one pass. */
  private async sources(pod: KubeObject, container: unknown): Promise<SourceLookup> {
    const namespace = pod.metadata.namespace ?? '';
    const secretNames = new Set<string>();
    const configMapNames = new Set<string>();
    for (const source of asArray(dig(container, 'envFrom'))) {
      const secret = dig(source, 'secretRef', 'name');
      const configMap = dig(source, 'configMapRef', 'name');
      if (typeof secret === 'string') secretNames.add(secret);
      if (typeof configMap === 'string') configMapNames.add(configMap);
    }
    for (const entry of asArray(dig(container, 'env'))) {
      const secret = dig(entry, 'valueFrom', 'secretKeyRef', 'name');
      const configMap = dig(entry, 'valueFrom', 'configMapKeyRef', 'name');
      if (typeof secret === 'string') secretNames.add(secret);
      if (typeof configMap === 'string') configMapNames.add(configMap);
    }
    for (const volume of asArray(dig(pod, 'spec', 'volumes'))) {
      const secret = dig(volume, 'secret', 'secretName');
      const configMap = dig(volume, 'configMap', 'name');
      if (typeof secret === 'string') secretNames.add(secret);
      if (typeof configMap === 'string') configMapNames.add(configMap);
    }
    const secrets = new Map<string, Record<string, string>>();
    const configMaps = new Map<string, Record<string, string>>();
    await Promise.all([
      ...[...secretNames].map(async (name) => {
        const secret = await this.core.readNamespacedSecret({ name, namespace }).catch(() => undefined);
        if (!secret) return;
        const values: Record<string, string> = {};
        for (const [key, value] of Object.entries(secret.data ?? {}))
          values[key] = Buffer.from(value, 'base64').toString('utf8');
        secrets.set(name, values);
      }),
      ...[...configMapNames].map(async (name) => {
        const configMap = await this.core.readNamespacedConfigMap({ name, namespace }).catch(() => undefined);
        if (!configMap) return;
        const values: Record<string, string> = { ...(configMap.data ?? {}) };
        for (const [key, value] of Object.entries(configMap.binaryData ?? {}))
          values[key] = Buffer.from(value, 'base64').toString('utf8');
        configMaps.set(name, values);
      }),
    ]);
    return { secret: (name) => secrets.get(name), configMap: (name) => configMaps.get(name) };
  }

  private async run(pod: KubeObject): Promise<void> {
    const namespace = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const uid = pod.metadata.uid ?? '';
    const container = asArray(dig(pod, 'spec', 'containers'))[0];
    const containerName = String(dig(container, 'name') ?? '');
    const image = String(dig(container, 'image') ?? '');
    const podDir = this.podDir(namespace, name);
    const scheduledAt = now();

    const failBeforeStart = (reason: string, message: string): Promise<void> =>
      this.setStatus(pod, (s) => {
        s.phase = 'Failed';
        s.startTime = scheduledAt;
        s.hostIP = '127.0.0.1';
        s.containerStatuses = [
          {
            name: containerName,
            image,
            imageID: '',
            ready: false,
            restartCount: 0,
            started: false,
            state: { waiting: { reason, message } },
          },
        ];
      });

    let mounts: Mount[];
    let env: Map<string, string>;
    try {
      await mkdir(join(podDir, 'home'), { recursive: true });
      await mkdir(join(podDir, 'tmp'), { recursive: true });
      const lookup = await this.sources(pod, container);
      mounts = await this.materializeVolumes(pod, container, podDir, lookup);
      env = containerEnv(pod, container, lookup);
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof MountError) {
        this.event(pod, 'Warning', 'FailedMount', message);
        await failBeforeStart('ContainerCreating', message);
      } else if (err instanceof ContainerConfigError) {
        this.event(pod, 'Warning', 'Failed', `Error: ${message}`);
        await failBeforeStart('CreateContainerConfigError', message);
      } else {
        await failBeforeStart('CreateContainerError', message);
      }
      return;
    }
    if (this.stopped) return;

    const rewrite = pathRewriter(mounts);
    const expand = (text: unknown): string => rewrite(expandVars(String(text), (ref) => env.get(ref)));
    const command = asArray(dig(container, 'command')).map(expand);
    const args = asArray(dig(container, 'args')).map(expand);
    // No image entrypoint here: without a command, the args are the command line.
    const argv = command.length > 0 ? [...command, ...args] : args;
    const processEnv: Record<string, string> = {};
    for (const [key, value] of env) processEnv[key] = rewrite(value);
    const hostPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
    processEnv.PATH = [...this.options.jobPath, ...(env.has('PATH') ? [processEnv.PATH ?? ''] : []), hostPath]
      .filter(Boolean)
      .join(':');
    processEnv.HOME ??= join(podDir, 'home');
    processEnv.TMPDIR ??= join(podDir, 'tmp');
    Object.assign(processEnv, this.options.jobEnv);
    // The pod's ServiceAccount token, as a kubeconfig (a process cannot see the in-cluster mount at
    // /var/run/secrets/kubernetes.io/serviceaccount): kubectl in the pod acts as that ServiceAccount.
    if (dig(pod, 'spec', 'automountServiceAccountToken') !== false) {
      const kubeconfig = await this.serviceAccountKubeconfig(pod, podDir).catch((err: Error) => {
        this.event(pod, 'Warning', 'FailedMount', `service account token: ${err.message}`);
        return undefined;
      });
      if (kubeconfig) processEnv.KUBECONFIG = kubeconfig;
    }
    const cwd = await workingDir(dig(container, 'workingDir'), rewrite, podDir);

    const log = new PodLog(join(podDir, 'container.log'));
    this.logs.get(`${namespace}/${name}`)?.close();
    this.logs.set(`${namespace}/${name}`, log);
    this.event(
      pod,
      'Normal',
      'Pulled',
      `Container image "${image}" already present on machine (the command runs on this machine)`,
    );
    this.event(pod, 'Normal', 'Created', `Created container: ${containerName}`);
    const startedAt = now();
    const [file, ...rest] = argv;
    if (!file) {
      log.close();
      await this.finish(
        pod,
        { exitCode: 128, reason: 'StartError', message: 'no command specified', startedAt },
        containerName,
        image,
      );
      return;
    }
    const child = spawn(file, rest, {
      cwd,
      env: processEnv,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => log.write('stdout', chunk));
    child.stderr?.on('data', (chunk: Buffer) => log.write('stderr', chunk));
    let settled = false;
    const exited = new Promise<void>((resolve) => {
      const settle = (term: { exitCode: number; reason: string; message?: string }): void => {
        if (settled) return;
        settled = true;
        this.running.delete(uid);
        log.close();
        this.track(this.finish(pod, { ...term, startedAt }, containerName, image));
        resolve();
      };
      child.on('error', (err) => {
        if (child.pid !== undefined) return;
        const message = `exec: "${file}": ${err.message}`;
        this.event(pod, 'Warning', 'Failed', `Error: ${message}`);
        settle({ exitCode: 128, reason: 'StartError', message });
      });
      // The container ends with its main process: whatever it left behind goes with it.
      child.on('exit', () => signalGroup(child, 'SIGKILL'));
      child.on('close', (code, signal) => {
        const exitCode = code ?? 128 + signalNumber(signal);
        settle({ exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' });
      });
    });
    this.running.set(uid, { child, exited });
    if (child.pid === undefined) return;
    await this.setStatus(pod, (s) => {
      if (settled) return;
      s.phase = 'Running';
      s.hostIP = '127.0.0.1';
      s.hostIPs = [{ ip: '127.0.0.1' }];
      s.podIP = '127.0.0.1';
      s.podIPs = [{ ip: '127.0.0.1' }];
      s.startTime = scheduledAt;
      s.conditions = podConditions(true, scheduledAt, startedAt);
      s.containerStatuses = [
        {
          name: containerName,
          image,
          imageID: '',
          containerID: `process://${child.pid}`,
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt } },
        },
      ];
    });
    this.event(pod, 'Normal', 'Started', `Started container ${containerName}`);
  }

  private finish(
    pod: KubeObject,
    term: { exitCode: number; reason: string; message?: string; startedAt: Date },
    containerName: string,
    image: string,
  ): Promise<void> {
    const finishedAt = now();
    return this.setStatus(pod, (s) => {
      s.phase = term.exitCode === 0 ? 'Succeeded' : 'Failed';
      s.startTime ??= term.startedAt;
      s.conditions = podConditions(
        false,
        s.startTime as Date,
        finishedAt,
        term.exitCode === 0 ? 'PodCompleted' : 'PodFailed',
      );
      const previous = asArray(s.containerStatuses)[0];
      const containerID = dig(previous, 'containerID');
      const terminated: JsonObject = {
        exitCode: term.exitCode,
        reason: term.reason,
        startedAt: term.startedAt,
        finishedAt,
        ...(term.message ? { message: term.message } : {}),
        ...(containerID ? { containerID } : {}),
      };
      s.containerStatuses = [
        {
          name: containerName,
          image,
          imageID: '',
          ...(containerID ? { containerID } : {}),
          ready: false,
          restartCount: 0,
          started: false,
          state: { terminated },
        },
      ];
    });
  }

  /** A TokenRequest for the pod's ServiceAccount, bound to the pod, written as <podDir>/serviceaccount/kubeconfig. */
  private async serviceAccountKubeconfig(pod: KubeObject, podDir: string): Promise<string> {
    const namespace = pod.metadata.namespace ?? '';
    const account = String(dig(pod, 'spec', 'serviceAccountName') ?? 'default');
    const token = await this.core.createNamespacedServiceAccountToken({
      name: account,
      namespace,
      body: {
        spec: {
          audiences: [],
          expirationSeconds: 3600,
          boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid },
        },
      },
    });
    const cluster = this.options.kubeconfig.getCurrentCluster();
    const dir = join(podDir, 'serviceaccount');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, 'kubeconfig');
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'in-cluster',
          cluster: {
            server: cluster?.server ?? '',
            ...(cluster?.caData ? { 'certificate-authority-data': cluster.caData } : {}),
            ...(cluster?.caFile ? { 'certificate-authority': cluster.caFile } : {}),
          },
        },
      ],
      users: [{ name: account, user: { token: token.status?.token ?? '' } }],
      contexts: [{ name: 'in-cluster', context: { cluster: 'in-cluster', user: account, namespace } }],
      'current-context': 'in-cluster',
    };
    await writeFile(file, JSON.stringify(config), { mode: 0o600 });
    return file;
  }

  /** Writes configMap/secret volumes, creates emptyDir and PVC dirs; returns the container's mounts. */
  private async materializeVolumes(
    pod: KubeObject,
    container: unknown,
    podDir: string,
    lookup: SourceLookup,
  ): Promise<Mount[]> {
    const namespace = pod.metadata.namespace ?? '';
    const volumeDirs = new Map<string, string>();
    for (const volume of asArray(dig(pod, 'spec', 'volumes'))) {
      const name = String(dig(volume, 'name') ?? '');
      let dir = join(podDir, 'volumes', name);
      const claim = dig(volume, 'persistentVolumeClaim', 'claimName');
      if (typeof claim === 'string') dir = join(this.options.workDir, 'pvc', namespace, claim);
      await mkdir(dir, { recursive: true });
      volumeDirs.set(name, dir);
      const sources = [
        { spec: dig(volume, 'configMap'), nameField: 'name', kind: 'configmap', find: lookup.configMap },
        { spec: dig(volume, 'secret'), nameField: 'secretName', kind: 'secret', find: lookup.secret },
      ] as const;
      for (const source of sources) {
        if (!isPlainObject(source.spec)) continue;
        const sourceName = String(source.spec[source.nameField] ?? '');
        await writeSource(dir, name, source.spec, source.find(sourceName), source.kind, sourceName);
      }
    }
    const mounts: Mount[] = [];
    for (const mount of asArray(dig(container, 'volumeMounts'))) {
      const dir = volumeDirs.get(String(dig(mount, 'name') ?? ''));
      const mountPath = dig(mount, 'mountPath');
      if (!dir || typeof mountPath !== 'string') continue;
      const subPath = dig(mount, 'subPath');
      const localPath = typeof subPath === 'string' && subPath ? join(dir, subPath) : dir;
      if (typeof subPath === 'string' && subPath && !existsSync(localPath))
        await mkdir(localPath, { recursive: true });
      mounts.push({ mountPath, localPath });
    }
    return mounts;
  }
}

async function writeSource(
  dir: string,
  volumeName: string,
  source: JsonObject,
  values: Record<string, string> | undefined,
  kind: 'configmap' | 'secret',
  objectName: string,
): Promise<void> {
  if (!values) {
    if (source.optional === true) return;
    throw new MountError(
      `MountVolume.SetUp failed for volume "${volumeName}" : ${kind} "${objectName}" not found`,
    );
  }
  const defaultMode = typeof source.defaultMode === 'number' ? source.defaultMode : 0o644;
  const items = asArray(source.items);
  const files =
    items.length > 0
      ? items.map((item) => ({
          key: String(dig(item, 'key') ?? ''),
          path: String(dig(item, 'path') ?? ''),
          mode: typeof dig(item, 'mode') === 'number' ? (dig(item, 'mode') as number) : defaultMode,
        }))
      : Object.keys(values).map((key) => ({ key, path: key, mode: defaultMode }));
  for (const file of files) {
    const value = values[file.key];
    if (value === undefined) {
      if (source.optional === true) continue;
      throw new MountError(
        `MountVolume.SetUp failed for volume "${volumeName}" : ${kind} references non-existent config key: ${file.key}`,
      );
    }
    const target = join(dir, normalize(file.path));
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, value);
    await chmod(target, file.mode & 0o777);
  }
}

async function workingDir(
  value: unknown,
  rewrite: (text: string) => string,
  podDir: string,
): Promise<string> {
  if (typeof value !== 'string' || value === '') return podDir;
  const rewritten = rewrite(value);
  if (rewritten !== value || existsSync(value)) {
    await mkdir(rewritten, { recursive: true });
    return rewritten;
  }
  const local = join(podDir, 'rootfs', normalize(value));
  await mkdir(local, { recursive: true });
  return local;
}

function podConditions(ready: boolean, scheduledAt: Date, at: Date, reason?: string): JsonObject[] {
  const readiness = ready ? { status: 'True' } : { status: 'False', ...(reason ? { reason } : {}) };
  return [
    {
      type: 'PodReadyToStartContainers',
      status: ready ? 'True' : 'False',
      lastProbeTime: null,
      lastTransitionTime: at,
    },
    { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: scheduledAt },
    { type: 'Ready', ...readiness, lastProbeTime: null, lastTransitionTime: at },
    { type: 'ContainersReady', ...readiness, lastProbeTime: null, lastTransitionTime: at },
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: scheduledAt },
  ];
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGTERM: 15,
  SIGPIPE: 13,
  SIGABRT: 6,
};

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (SIGNALS[signal] ?? 1) : 0;
}
