/**
 * What the kubelet computes before starting a container, minus the container runtime: the environment
 * from env/envFrom (Secrets, ConfigMaps, the downward API), `$(VAR)` expansion, and — because the
 * process runs on this machine — the rewriting of volume mount paths to the pod's local directories.
 */

import { dig, isPlainObject } from './json.js';
import type { KubeObject } from './json.js';

/** A missing Secret/ConfigMap or key: the kubelet's CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

export interface SourceLookup {
  /** Decoded values, undefined when the Secret does not exist. */
  secret(name: string): Record<string, string> | undefined;
  configMap(name: string): Record<string, string> | undefined;
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** k8s.io/kubernetes third_party/forked/golang/expansion: `$(VAR)` from `lookup`, `$$` escapes, unknowns stay. */
export function expandVars(text: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '$' || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      const value = lookup(name);
      out += value ?? `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

function fieldRefValue(pod: KubeObject, fieldPath: string): string {
  const meta = pod.metadata;
  const mapKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (mapKey) return (mapKey[1] === 'labels' ? meta.labels : meta.annotations)?.[mapKey[2] ?? ''] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return String(dig(pod, 'spec', 'nodeName') ?? '');
    case 'spec.serviceAccountName':
      return String(dig(pod, 'spec', 'serviceAccountName') ?? 'default');
    case 'status.podIP':
    case 'status.hostIP':
      return '127.0.0.1';
    default:
      return '';
  }
}

function keyRef(
  ref: unknown,
  kind: 'Secret' | 'ConfigMap',
  namespace: string,
  lookup: SourceLookup,
): string | undefined {
  const name = String(dig(ref, 'name') ?? '');
  const key = String(dig(ref, 'key') ?? '');
  const optional = dig(ref, 'optional') === true;
  const values = kind === 'Secret' ? lookup.secret(name) : lookup.configMap(name);
  if (!values) {
    if (optional) return undefined;
    throw new ContainerConfigError(`${kind === 'Secret' ? 'secret' : 'configmap'} "${name}" not found`);
  }
  if (!(key in values)) {
    if (optional) return undefined;
    throw new ContainerConfigError(`couldn't find key ${key} in ${kind} ${namespace}/${name}`);
  }
  return values[key];
}

/** The container's own environment, in order (envFrom first, then env, later entries winning). */
export function containerEnv(pod: KubeObject, container: unknown, lookup: SourceLookup): Map<string, string> {
  const env = new Map<string, string>();
  const namespace = pod.metadata.namespace ?? '';
  for (const source of Array.isArray(dig(container, 'envFrom'))
    ? (dig(container, 'envFrom') as unknown[])
    : []) {
    const prefix = String(dig(source, 'prefix') ?? '');
    const secretRef = dig(source, 'secretRef');
    const configMapRef = dig(source, 'configMapRef');
    const ref = isPlainObject(secretRef) ? secretRef : configMapRef;
    if (!isPlainObject(ref)) continue;
    const name = String(ref.name ?? '');
    const values = ref === secretRef ? lookup.secret(name) : lookup.configMap(name);
    if (!values) {
      if (ref.optional === true) continue;
      throw new ContainerConfigError(`${ref === secretRef ? 'secret' : 'configmap'} "${name}" not found`);
    }
    for (const [key, value] of Object.entries(values)) {
      if (ENV_NAME.test(prefix + key)) env.set(prefix + key, value);
    }
  }
  for (const entry of Array.isArray(dig(container, 'env')) ? (dig(container, 'env') as unknown[]) : []) {
    const name = String(dig(entry, 'name') ?? '');
    if (!name) continue;
    const from = dig(entry, 'valueFrom');
    if (isPlainObject(from)) {
      let value: string | undefined;
      if (isPlainObject(from.secretKeyRef)) value = keyRef(from.secretKeyRef, 'Secret', namespace, lookup);
      else if (isPlainObject(from.configMapKeyRef))
        value = keyRef(from.configMapKeyRef, 'ConfigMap', namespace, lookup);
      else if (isPlainObject(from.fieldRef))
        value = fieldRefValue(pod, String(from.fieldRef.fieldPath ?? ''));
      else value = '';
      if (value !== undefined) env.set(name, value);
      continue;
    }
    const raw = dig(entry, 'value');
    env.set(
      name,
      expandVars(typeof raw === 'string' ? raw : '', (ref) => env.get(ref)),
    );
  }
  return env;
}

export interface Mount {
  mountPath: string;
  localPath: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces each occurrence of a mount path used as a path (at the start of a string or after a non-path
 * character, followed by `/`, the end, or a non-path character), longest mount first, in one pass.
 */
export function pathRewriter(mounts: Mount[]): (text: string) => string {
  const usable = mounts
    .map((m) => ({ mountPath: m.mountPath.replace(/\/+$/, ''), localPath: m.localPath.replace(/\/+$/, '') }))
    .filter((m) => m.mountPath.length > 0)
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  if (usable.length === 0) return (text) => text;
  const byPath = new Map(usable.map((m) => [m.mountPath, m.localPath]));
  const pattern = new RegExp(
    `(?<![A-Za-z0-9._~/-])(${usable.map((m) => escapeRegExp(m.mountPath)).join('|')})(?![A-Za-z0-9._~-])`,
    'g',
  );
  return (text) => text.replace(pattern, (match: string) => byPath.get(match) ?? match);
}
