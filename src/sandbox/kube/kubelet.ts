/**
 * The node: runs every Pod that is created (the first container, as a local process), reports its
 * status and events as the kubelet does, keeps its log, and kills it when the Pod is deleted.
 *
 * Per pod, under <workDir>/pods/<namespace>_<pod>/: volumes/<name>/ (configMap and secret files with
 * their modes, emptyDir), home/, tmp/ and container.log. persistentVolumeClaim volumes live in
 * <workDir>/pvc/<namespace>/<claim>/ and outlast the pod. The process gets only the container's env
 * plus PATH (jobPath, then the host PATH), HOME, TMPDIR and options.jobEnv, with mount paths in
 * command, args, env values and workingDir rewritten to the local directories.
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';

import type { EventRecorder } from './events.js';
import { containerEnv, ContainerConfigError, expandVars, pathRewriter } from '../cluster/pod-env.js';
import type { Mount, SourceLookup } from '../cluster/pod-env.js';
import { PodLog } from '../cluster/pod-log.js';
import type { Registry } from './registry.js';
import { mustResource } from './resources.js';
import type { Change } from './store.js';
import { asArray, dig, isPlainObject, nowIso } from './types.js';
import type { JsonObject, KubeObject } from './types.js';

export interface KubeletOptions {
  workDir: string;
  jobPath: string[];
  jobEnv: Record<string, string>;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

const PODS = mustResource('', 'pods');
const SECRETS = mustResource('', 'secrets');
const CONFIGMAPS = mustResource('', 'configmaps');
const MANAGER = 'kubelet';

class MountError extends Error {}

export class Kubelet {
  private readonly running = new Map<string, Running>();
  private readonly logs = new Map<string, PodLog>();
  private readonly deleted = new Set<string>();
  private readonly starts = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly registry: Registry,
    private readonly events: EventRecorder,
    private readonly options: KubeletOptions,
  ) {}

  /** Reacts to the store: runs new pods, kills deleted ones. */
  handle(change: Change): void {
    if (change.resource !== PODS || this.stopped) return;
    const uid = change.object.metadata.uid ?? '';
    if (change.type === 'ADDED') {
      const start = this.run(change.object).catch(() => undefined);
      this.starts.add(start);
      void start.finally(() => this.starts.delete(start));
    } else if (change.type === 'DELETED') {
      this.deleted.add(uid);
      void this.kill(uid, 'SIGTERM', graceSeconds(change.object));
    }
  }

  /** The log of a pod (by uid), when its container has started. */
  log(uid: string): PodLog | undefined {
    return this.logs.get(uid);
  }

  /** Signals the pod's process group; escalates to SIGKILL after the grace period (at most 2 s here). */
  async kill(uid: string, signal: NodeJS.Signals, graceSeconds = 30): Promise<void> {
    const proc = this.running.get(uid);
    if (!proc) return;
    signalGroup(proc.child, signal);
    if (signal !== 'SIGKILL') {
      const timer = setTimeout(() => signalGroup(proc.child, 'SIGKILL'), Math.min(graceSeconds, 2) * 1000);
      await proc.exited;
      clearTimeout(timer);
    } else {
      await proc.exited;
    }
  }

  /** Kills every process and waits for them to go. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.starts]);
    await Promise.all([...this.running.keys()].map((uid) => this.kill(uid, 'SIGKILL')));
    for (const log of this.logs.values()) log.close();
  }

  private setStatus(pod: KubeObject, mutate: (status: JsonObject) => void): KubeObject | undefined {
    if (this.deleted.has(pod.metadata.uid ?? '')) return undefined;
    return this.registry.updateStatus(
      PODS,
      pod.metadata.namespace ?? '',
      pod.metadata.name ?? '',
      (obj) => {
        if (obj.metadata.uid !== pod.metadata.uid) return;
        const status = isPlainObject(obj.status) ? obj.status : (obj.status = {});
        mutate(status);
      },
      MANAGER,
    );
  }

  private lookup(namespace: string): SourceLookup {
    const read = (def: typeof SECRETS, name: string, decode: boolean): Record<string, string> | undefined => {
      const obj = this.registry.store.get(def, namespace, name);
      if (!obj) return undefined;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(isPlainObject(obj.data) ? obj.data : {})) {
        out[k] = decode ? Buffer.from(String(v), 'base64').toString('utf8') : String(v);
      }
      if (!decode) {
        for (const [k, v] of Object.entries(isPlainObject(obj.binaryData) ? obj.binaryData : {})) {
          out[k] = Buffer.from(String(v), 'base64').toString('utf8');
        }
      }
      return out;
    };
    return {
      secret: (name) => read(SECRETS, name, true),
      configMap: (name) => read(CONFIGMAPS, name, false),
    };
  }

  private async run(pod: KubeObject): Promise<void> {
    const namespace = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const container = asArray(dig(pod, 'spec', 'containers'))[0];
    const containerName = String(dig(container, 'name') ?? '');
    const image = String(dig(container, 'image') ?? '');
    const podDir = join(this.options.workDir, 'pods', `${namespace}_${name}`);
    const scheduledAt = nowIso();
    this.setStatus(pod, (s) => {
      s.conditions = [
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: scheduledAt },
      ];
    });
    this.events.record(
      pod,
      'Normal',
      'Scheduled',
      `Successfully assigned ${namespace}/${name} to sandbox`,
      'default-scheduler',
    );

    const failBeforeStart = (reason: string, message: string): void => {
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
    };

    let mounts: Mount[];
    let env: Map<string, string>;
    try {
      await mkdir(join(podDir, 'home'), { recursive: true });
      await mkdir(join(podDir, 'tmp'), { recursive: true });
      mounts = await this.materializeVolumes(pod, container, podDir);
      env = containerEnv(pod, container, this.lookup(namespace));
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof MountError) {
        this.events.record(pod, 'Warning', 'FailedMount', message, MANAGER);
        failBeforeStart('ContainerCreating', message);
      } else if (err instanceof ContainerConfigError) {
        this.events.record(pod, 'Warning', 'Failed', `Error: ${message}`, MANAGER);
        failBeforeStart('CreateContainerConfigError', message);
      } else {
        failBeforeStart('CreateContainerError', message);
      }
      return;
    }
    if (this.stopped || this.deleted.has(pod.metadata.uid ?? '')) return;

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
    const cwd = await this.workingDir(dig(container, 'workingDir'), rewrite, podDir);

    const log = new PodLog(join(podDir, 'container.log'));
    this.logs.set(pod.metadata.uid ?? '', log);
    this.events.record(
      pod,
      'Normal',
      'Pulled',
      `Container image "${image}" already present on machine`,
      MANAGER,
    );
    this.events.record(pod, 'Normal', 'Created', `Created container: ${containerName}`, MANAGER);
    const startedAt = nowIso();
    const [file, ...rest] = argv;
    if (!file) {
      this.finish(
        pod,
        log,
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
    const exited = new Promise<void>((resolve) => {
      let done = false;
      const settle = (term: { exitCode: number; reason: string; message?: string }): void => {
        if (done) return;
        done = true;
        this.running.delete(pod.metadata.uid ?? '');
        this.finish(pod, log, { ...term, startedAt }, containerName, image);
        resolve();
      };
      child.on('error', (err) => {
        if (child.pid !== undefined) return;
        const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: exec: "${file}": ${err.message}`;
        this.events.record(pod, 'Warning', 'Failed', `Error: ${message}`, MANAGER);
        settle({ exitCode: 128, reason: 'StartError', message });
      });
      // The container ends with its main process: whatever it left behind goes with it.
      child.on('exit', () => signalGroup(child, 'SIGKILL'));
      child.on('close', (code, signal) => {
        const exitCode = code ?? 128 + signalNumber(signal);
        settle({ exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' });
      });
    });
    this.running.set(pod.metadata.uid ?? '', { child, exited });
    if (child.pid !== undefined) {
      this.setStatus(pod, (s) => {
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
            containerID: `sandbox://${child.pid}`,
            ready: true,
            restartCount: 0,
            started: true,
            state: { running: { startedAt } },
          },
        ];
      });
      this.events.record(pod, 'Normal', 'Started', `Started container ${containerName}`, MANAGER);
    }
  }

  private finish(
    pod: KubeObject,
    log: PodLog,
    term: { exitCode: number; reason: string; message?: string; startedAt: string },
    containerName: string,
    image: string,
  ): void {
    log.close();
    const finishedAt = nowIso();
    this.setStatus(pod, (s) => {
      s.phase = term.exitCode === 0 ? 'Succeeded' : 'Failed';
      s.conditions = podConditions(
        false,
        String(s.startTime ?? term.startedAt),
        finishedAt,
        term.exitCode === 0 ? 'PodCompleted' : 'PodFailed',
      );
      const previous = asArray(s.containerStatuses)[0];
      const terminated: JsonObject = {
        exitCode: term.exitCode,
        reason: term.reason,
        startedAt: term.startedAt,
        finishedAt,
      };
      if (term.message) terminated.message = term.message;
      const containerID = dig(previous, 'containerID');
      if (containerID) terminated.containerID = containerID;
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

  private async workingDir(
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

  /** Writes configMap/secret volumes, creates emptyDir and PVC dirs; returns the container's mounts. */
  private async materializeVolumes(pod: KubeObject, container: unknown, podDir: string): Promise<Mount[]> {
    const namespace = pod.metadata.namespace ?? '';
    const volumeDirs = new Map<string, string>();
    for (const volume of asArray(dig(pod, 'spec', 'volumes'))) {
      const name = String(dig(volume, 'name') ?? '');
      let dir = join(podDir, 'volumes', name);
      const claim = dig(volume, 'persistentVolumeClaim', 'claimName');
      if (typeof claim === 'string') dir = join(this.options.workDir, 'pvc', namespace, claim);
      await mkdir(dir, { recursive: true });
      volumeDirs.set(name, dir);
      const cm = dig(volume, 'configMap');
      const secret = dig(volume, 'secret');
      if (isPlainObject(cm))
        await this.writeSource(dir, name, cm, String(cm.name ?? ''), 'configmap', namespace);
      if (isPlainObject(secret))
        await this.writeSource(dir, name, secret, String(secret.secretName ?? ''), 'secret', namespace);
    }
    const mounts: Mount[] = [];
    for (const m of asArray(dig(container, 'volumeMounts'))) {
      const dir = volumeDirs.get(String(dig(m, 'name') ?? ''));
      const mountPath = dig(m, 'mountPath');
      if (!dir || typeof mountPath !== 'string') continue;
      const subPath = dig(m, 'subPath');
      const localPath = typeof subPath === 'string' && subPath ? join(dir, subPath) : dir;
      if (typeof subPath === 'string' && subPath && !existsSync(localPath))
        await mkdir(localPath, { recursive: true });
      mounts.push({ mountPath, localPath });
    }
    return mounts;
  }

  private async writeSource(
    dir: string,
    volumeName: string,
    source: JsonObject,
    objectName: string,
    kind: 'configmap' | 'secret',
    namespace: string,
  ): Promise<void> {
    const lookup = this.lookup(namespace);
    const values = kind === 'secret' ? lookup.secret(objectName) : lookup.configMap(objectName);
    if (!values) {
      if (source.optional === true) return;
      throw new MountError(
        `MountVolume.SetUp failed for volume "${volumeName}" : ${kind} "${objectName}" not found`,
      );
    }
    const defaultMode = typeof source.defaultMode === 'number' ? source.defaultMode : 0o644;
    const items = asArray(source.items);
    const files: { key: string; path: string; mode: number }[] =
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
          `MountVolume.SetUp failed for volume "${volumeName}" : configmap references non-existent config key: ${file.key}`,
        );
      }
      const target = join(dir, normalize(file.path));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, kind === 'secret' ? Buffer.from(value, 'utf8') : value);
      await chmod(target, file.mode & 0o777);
    }
  }
}

function podConditions(ready: boolean, scheduledAt: string, at: string, reason?: string): JsonObject[] {
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

function graceSeconds(pod: KubeObject): number {
  const value = dig(pod, 'spec', 'terminationGracePeriodSeconds');
  return typeof value === 'number' ? value : 30;
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
