/**
 * Request bodies in `application/vnd.kubernetes.protobuf`: kubectl's typed clients (auth can-i,
 * create job/secret/configmap/namespace/cronjob) send them. Decodes the `k8s\0` envelope
 * (runtime.Unknown) and the message into the JSON an API server would have received, using a field
 * table taken from k8s.io/api generated.proto for the types those commands send. A field outside the
 * table is refused (415) rather than silently dropped.
 *
 * go-to-protobuf writes non-pointer scalars even when empty; JSON omits them (omitempty), so zero
 * values are dropped except for pointer fields (`p`), where zero is a real value (backoffLimit: 0).
 */

import { StatusError } from './status.js';
import type { JsonObject } from './types.js';

type Scalar = 'string' | 'bytes' | 'bool' | 'int32' | 'int64';
type ValueType = Scalar | `msg:${string}` | 'skip';

interface Field {
  name: string;
  type: ValueType | `map:${ValueType}`;
  /** repeated */
  r?: boolean;
  /** pointer in Go: zero values are real values */
  p?: boolean;
  /** embedded struct whose fields JSON inlines (LocalObjectReference, VolumeSource) */
  inline?: boolean;
}

/** Status and server-owned fields the server resets anyway: read past them. */
const SKIP: Field = { name: '', type: 'skip' };

const f = (name: string, type: Field['type'], extra: Partial<Field> = {}): Field => ({
  name,
  type,
  ...extra,
});

const SCHEMA: Record<string, Record<number, Field>> = {
  Unknown: {
    1: f('typeMeta', 'msg:TypeMeta'),
    2: f('raw', 'bytes'),
    3: f('contentEncoding', 'string'),
    4: f('contentType', 'string'),
  },
  TypeMeta: { 1: f('apiVersion', 'string'), 2: f('kind', 'string') },
  ObjectMeta: {
    1: f('name', 'string'),
    2: f('generateName', 'string'),
    3: f('namespace', 'string'),
    4: f('selfLink', 'string'),
    5: f('uid', 'string'),
    6: f('resourceVersion', 'string'),
    7: f('generation', 'int64'),
    8: f('creationTimestamp', 'msg:Time'),
    9: f('deletionTimestamp', 'msg:Time', { p: true }),
    10: f('deletionGracePeriodSeconds', 'int64', { p: true }),
    11: f('labels', 'map:string'),
    12: f('annotations', 'map:string'),
    13: f('ownerReferences', 'msg:OwnerReference', { r: true }),
    14: f('finalizers', 'string', { r: true }),
    17: SKIP,
  },
  OwnerReference: {
    1: f('kind', 'string'),
    3: f('name', 'string'),
    4: f('uid', 'string'),
    5: f('apiVersion', 'string'),
    6: f('controller', 'bool', { p: true }),
    7: f('blockOwnerDeletion', 'bool', { p: true }),
  },
  LabelSelector: {
    1: f('matchLabels', 'map:string'),
    2: f('matchExpressions', 'msg:LabelSelectorRequirement', { r: true }),
  },
  LabelSelectorRequirement: {
    1: f('key', 'string'),
    2: f('operator', 'string'),
    3: f('values', 'string', { r: true }),
  },
  // authorization.k8s.io/v1
  SelfSubjectAccessReview: {
    1: f('metadata', 'msg:ObjectMeta'),
    2: f('spec', 'msg:SelfSubjectAccessReviewSpec'),
    3: SKIP,
  },
  SelfSubjectAccessReviewSpec: {
    1: f('resourceAttributes', 'msg:ResourceAttributes', { p: true }),
    2: f('nonResourceAttributes', 'msg:NonResourceAttributes', { p: true }),
  },
  ResourceAttributes: {
    1: f('namespace', 'string'),
    2: f('verb', 'string'),
    3: f('group', 'string'),
    4: f('version', 'string'),
    5: f('resource', 'string'),
    6: f('subresource', 'string'),
    7: f('name', 'string'),
  },
  NonResourceAttributes: { 1: f('path', 'string'), 2: f('verb', 'string') },
  // core/v1
  Namespace: { 1: f('metadata', 'msg:ObjectMeta'), 2: f('spec', 'msg:NamespaceSpec'), 3: SKIP },
  NamespaceSpec: { 1: f('finalizers', 'string', { r: true }) },
  Secret: {
    1: f('metadata', 'msg:ObjectMeta'),
    2: f('data', 'map:bytes'),
    3: f('type', 'string'),
    4: f('stringData', 'map:string'),
    5: f('immutable', 'bool', { p: true }),
  },
  ConfigMap: {
    1: f('metadata', 'msg:ObjectMeta'),
    2: f('data', 'map:string'),
    3: f('binaryData', 'map:bytes'),
    4: f('immutable', 'bool', { p: true }),
  },
  ServiceAccount: {
    1: f('metadata', 'msg:ObjectMeta'),
    2: SKIP,
    3: f('imagePullSecrets', 'msg:LocalObjectReference', { r: true }),
    4: f('automountServiceAccountToken', 'bool', { p: true }),
  },
  PodTemplateSpec: { 1: f('metadata', 'msg:ObjectMeta'), 2: f('spec', 'msg:PodSpec') },
  PodSpec: {
    1: f('volumes', 'msg:Volume', { r: true }),
    2: f('containers', 'msg:Container', { r: true }),
    3: f('restartPolicy', 'string'),
    4: f('terminationGracePeriodSeconds', 'int64', { p: true }),
    5: f('activeDeadlineSeconds', 'int64', { p: true }),
    6: f('dnsPolicy', 'string'),
    7: f('nodeSelector', 'map:string'),
    8: f('serviceAccountName', 'string'),
    9: f('serviceAccount', 'string'),
    10: f('nodeName', 'string'),
    11: f('hostNetwork', 'bool'),
    12: f('hostPID', 'bool'),
    13: f('hostIPC', 'bool'),
    14: f('securityContext', 'msg:PodSecurityContext', { p: true }),
    15: f('imagePullSecrets', 'msg:LocalObjectReference', { r: true }),
    16: f('hostname', 'string'),
    17: f('subdomain', 'string'),
    19: f('schedulerName', 'string'),
    20: f('initContainers', 'msg:Container', { r: true }),
    21: f('automountServiceAccountToken', 'bool', { p: true }),
    22: f('tolerations', 'msg:Toleration', { r: true }),
    24: f('priorityClassName', 'string'),
    25: f('priority', 'int32', { p: true }),
    27: f('shareProcessNamespace', 'bool', { p: true }),
    29: f('runtimeClassName', 'string', { p: true }),
    30: f('enableServiceLinks', 'bool', { p: true }),
    31: f('preemptionPolicy', 'string', { p: true }),
    35: f('setHostnameAsFQDN', 'bool', { p: true }),
    37: f('hostUsers', 'bool', { p: true }),
  },
  PodSecurityContext: {
    2: f('runAsUser', 'int64', { p: true }),
    3: f('runAsNonRoot', 'bool', { p: true }),
    4: f('supplementalGroups', 'int64', { r: true }),
    5: f('fsGroup', 'int64', { p: true }),
    6: f('runAsGroup', 'int64', { p: true }),
    9: f('fsGroupChangePolicy', 'string', { p: true }),
    10: f('seccompProfile', 'msg:SeccompProfile', { p: true }),
  },
  SecurityContext: {
    1: f('capabilities', 'msg:Capabilities', { p: true }),
    2: f('privileged', 'bool', { p: true }),
    4: f('runAsUser', 'int64', { p: true }),
    5: f('runAsNonRoot', 'bool', { p: true }),
    6: f('readOnlyRootFilesystem', 'bool', { p: true }),
    7: f('allowPrivilegeEscalation', 'bool', { p: true }),
    8: f('runAsGroup', 'int64', { p: true }),
    9: f('procMount', 'string', { p: true }),
    11: f('seccompProfile', 'msg:SeccompProfile', { p: true }),
  },
  SeccompProfile: { 1: f('type', 'string'), 2: f('localhostProfile', 'string', { p: true }) },
  Capabilities: { 1: f('add', 'string', { r: true }), 2: f('drop', 'string', { r: true }) },
  Toleration: {
    1: f('key', 'string'),
    2: f('operator', 'string'),
    3: f('value', 'string'),
    4: f('effect', 'string'),
    5: f('tolerationSeconds', 'int64', { p: true }),
  },
  Container: {
    1: f('name', 'string'),
    2: f('image', 'string'),
    3: f('command', 'string', { r: true }),
    4: f('args', 'string', { r: true }),
    5: f('workingDir', 'string'),
    6: f('ports', 'msg:ContainerPort', { r: true }),
    7: f('env', 'msg:EnvVar', { r: true }),
    8: f('resources', 'msg:ResourceRequirements'),
    9: f('volumeMounts', 'msg:VolumeMount', { r: true }),
    13: f('terminationMessagePath', 'string'),
    14: f('imagePullPolicy', 'string'),
    15: f('securityContext', 'msg:SecurityContext', { p: true }),
    16: f('stdin', 'bool'),
    17: f('stdinOnce', 'bool'),
    18: f('tty', 'bool'),
    19: f('envFrom', 'msg:EnvFromSource', { r: true }),
    20: f('terminationMessagePolicy', 'string'),
  },
  ContainerPort: {
    1: f('name', 'string'),
    2: f('hostPort', 'int32'),
    3: f('containerPort', 'int32'),
    4: f('protocol', 'string'),
    5: f('hostIP', 'string'),
  },
  ResourceRequirements: { 1: f('limits', 'map:msg:Quantity'), 2: f('requests', 'map:msg:Quantity') },
  EnvVar: {
    1: f('name', 'string'),
    2: f('value', 'string'),
    3: f('valueFrom', 'msg:EnvVarSource', { p: true }),
  },
  EnvVarSource: {
    1: f('fieldRef', 'msg:ObjectFieldSelector', { p: true }),
    2: f('resourceFieldRef', 'msg:ResourceFieldSelector', { p: true }),
    3: f('configMapKeyRef', 'msg:ConfigMapKeySelector', { p: true }),
    4: f('secretKeyRef', 'msg:SecretKeySelector', { p: true }),
  },
  ObjectFieldSelector: { 1: f('apiVersion', 'string'), 2: f('fieldPath', 'string') },
  ResourceFieldSelector: {
    1: f('containerName', 'string'),
    2: f('resource', 'string'),
    3: f('divisor', 'msg:Quantity'),
  },
  ConfigMapKeySelector: {
    1: f('localObjectReference', 'msg:LocalObjectReference', { inline: true }),
    2: f('key', 'string'),
    3: f('optional', 'bool', { p: true }),
  },
  SecretKeySelector: {
    1: f('localObjectReference', 'msg:LocalObjectReference', { inline: true }),
    2: f('key', 'string'),
    3: f('optional', 'bool', { p: true }),
  },
  EnvFromSource: {
    1: f('prefix', 'string'),
    2: f('configMapRef', 'msg:ConfigMapEnvSource', { p: true }),
    3: f('secretRef', 'msg:SecretEnvSource', { p: true }),
  },
  ConfigMapEnvSource: {
    1: f('localObjectReference', 'msg:LocalObjectReference', { inline: true }),
    2: f('optional', 'bool', { p: true }),
  },
  SecretEnvSource: {
    1: f('localObjectReference', 'msg:LocalObjectReference', { inline: true }),
    2: f('optional', 'bool', { p: true }),
  },
  LocalObjectReference: { 1: f('name', 'string') },
  VolumeMount: {
    1: f('name', 'string'),
    2: f('readOnly', 'bool'),
    3: f('mountPath', 'string'),
    4: f('subPath', 'string'),
    5: f('mountPropagation', 'string', { p: true }),
    6: f('subPathExpr', 'string'),
  },
  Volume: { 1: f('name', 'string'), 2: f('volumeSource', 'msg:VolumeSource', { inline: true }) },
  VolumeSource: {
    1: f('hostPath', 'msg:HostPathVolumeSource', { p: true }),
    2: f('emptyDir', 'msg:EmptyDirVolumeSource', { p: true }),
    6: f('secret', 'msg:SecretVolumeSource', { p: true }),
    10: f('persistentVolumeClaim', 'msg:PersistentVolumeClaimVolumeSource', { p: true }),
    19: f('configMap', 'msg:ConfigMapVolumeSource', { p: true }),
  },
  HostPathVolumeSource: { 1: f('path', 'string'), 2: f('type', 'string', { p: true }) },
  EmptyDirVolumeSource: { 1: f('medium', 'string'), 2: f('sizeLimit', 'msg:Quantity', { p: true }) },
  SecretVolumeSource: {
    1: f('secretName', 'string'),
    2: f('items', 'msg:KeyToPath', { r: true }),
    3: f('defaultMode', 'int32', { p: true }),
    4: f('optional', 'bool', { p: true }),
  },
  ConfigMapVolumeSource: {
    1: f('localObjectReference', 'msg:LocalObjectReference', { inline: true }),
    2: f('items', 'msg:KeyToPath', { r: true }),
    3: f('defaultMode', 'int32', { p: true }),
    4: f('optional', 'bool', { p: true }),
  },
  KeyToPath: { 1: f('key', 'string'), 2: f('path', 'string'), 3: f('mode', 'int32', { p: true }) },
  PersistentVolumeClaimVolumeSource: { 1: f('claimName', 'string'), 2: f('readOnly', 'bool') },
  // batch/v1
  Job: { 1: f('metadata', 'msg:ObjectMeta'), 2: f('spec', 'msg:JobSpec'), 3: SKIP },
  JobSpec: {
    1: f('parallelism', 'int32', { p: true }),
    2: f('completions', 'int32', { p: true }),
    3: f('activeDeadlineSeconds', 'int64', { p: true }),
    4: f('selector', 'msg:LabelSelector', { p: true }),
    5: f('manualSelector', 'bool', { p: true }),
    6: f('template', 'msg:PodTemplateSpec'),
    7: f('backoffLimit', 'int32', { p: true }),
    8: f('ttlSecondsAfterFinished', 'int32', { p: true }),
    9: f('completionMode', 'string', { p: true }),
    10: f('suspend', 'bool', { p: true }),
    12: f('backoffLimitPerIndex', 'int32', { p: true }),
    13: f('maxFailedIndexes', 'int32', { p: true }),
    14: f('podReplacementPolicy', 'string', { p: true }),
    15: f('managedBy', 'string', { p: true }),
  },
  CronJob: { 1: f('metadata', 'msg:ObjectMeta'), 2: f('spec', 'msg:CronJobSpec'), 3: SKIP },
  CronJobSpec: {
    1: f('schedule', 'string'),
    2: f('startingDeadlineSeconds', 'int64', { p: true }),
    3: f('concurrencyPolicy', 'string'),
    4: f('suspend', 'bool', { p: true }),
    5: f('jobTemplate', 'msg:JobTemplateSpec'),
    6: f('successfulJobsHistoryLimit', 'int32', { p: true }),
    7: f('failedJobsHistoryLimit', 'int32', { p: true }),
    8: f('timeZone', 'string', { p: true }),
  },
  JobTemplateSpec: { 1: f('metadata', 'msg:ObjectMeta'), 2: f('spec', 'msg:JobSpec') },
};

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function unsupported(message: string): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the Kubernetes stand-in cannot decode this protobuf body (${message}); send JSON instead`,
  );
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw unsupported('truncated varint');
      const byte = this.buf[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }

  bytes(): Buffer {
    const length = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.bytes();
    else if (wireType === 5) this.pos += 4;
    else throw unsupported(`wire type ${wireType}`);
  }
}

function signed(value: bigint, bits: 32 | 64): number {
  return Number(BigInt.asIntN(bits, value));
}

function scalar(type: Scalar, reader: Reader, wireType: number): unknown {
  switch (type) {
    case 'string':
      return reader.bytes().toString('utf8');
    case 'bytes':
      return reader.bytes().toString('base64');
    case 'bool':
      return reader.varint() !== 0n;
    case 'int32':
      if (wireType !== 0) throw unsupported('int32 not varint');
      return signed(reader.varint(), 32);
    case 'int64':
      if (wireType !== 0) throw unsupported('int64 not varint');
      return signed(reader.varint(), 64);
  }
}

function isZero(value: unknown): boolean {
  return value === '' || value === 0 || value === false || value === null;
}

/** Decodes one value of `type` at the reader (a message is length-delimited). */
function value(type: ValueType, reader: Reader, wireType: number): unknown {
  if (type === 'skip') return reader.skip(wireType);
  if (!type.startsWith('msg:')) return scalar(type as Scalar, reader, wireType);
  const name = type.slice(4);
  const body = reader.bytes();
  if (name === 'Time') {
    const time = message('TimeRaw', body);
    const seconds = Number(time.seconds ?? 0);
    return seconds === 0 ? null : new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  if (name === 'Quantity') return message('QuantityRaw', body).string ?? '';
  return message(name, body);
}

SCHEMA.TimeRaw = { 1: f('seconds', 'int64'), 2: f('nanos', 'int32') };
SCHEMA.QuantityRaw = { 1: f('string', 'string') };

function message(name: string, buf: Buffer): JsonObject {
  const fields = SCHEMA[name];
  if (!fields) throw unsupported(`message ${name}`);
  const out: JsonObject = {};
  const reader = new Reader(buf);
  while (!reader.done) {
    const key = Number(reader.varint());
    const number = key >>> 3;
    const wireType = key & 7;
    const field = fields[number];
    if (!field) throw unsupported(`field ${number} of ${name}`);
    if (field.type === 'skip') {
      reader.skip(wireType);
      continue;
    }
    if (field.type.startsWith('map:')) {
      const entry = new Reader(reader.bytes());
      let k = '';
      let v: unknown = '';
      while (!entry.done) {
        const entryKey = Number(entry.varint());
        if (entryKey >>> 3 === 1) k = entry.bytes().toString('utf8');
        else v = value(field.type.slice(4) as ValueType, entry, entryKey & 7);
      }
      const map = (out[field.name] ??= {}) as JsonObject;
      map[k] = v;
      continue;
    }
    const type = field.type as ValueType;
    if (field.r && wireType === 2 && (type === 'int32' || type === 'int64' || type === 'bool')) {
      const packed = new Reader(reader.bytes());
      const list = (out[field.name] ??= []) as unknown[];
      while (!packed.done) list.push(scalar(type, packed, 0));
      continue;
    }
    const decoded = value(type, reader, wireType);
    if (field.inline && typeof decoded === 'object' && decoded !== null) {
      Object.assign(out, decoded);
    } else if (field.r) {
      ((out[field.name] ??= []) as unknown[]).push(decoded);
    } else if (field.p || !isZero(decoded)) {
      out[field.name] = decoded;
    }
  }
  return out;
}

export function isProtobuf(contentType: string): boolean {
  return contentType === 'application/vnd.kubernetes.protobuf';
}

/** Decodes a `k8s\0`-framed protobuf object into its JSON form (with apiVersion and kind). */
export function decodeProtobufObject(body: Buffer): JsonObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw unsupported('missing k8s envelope');
  const envelope = message('Unknown', body.subarray(4));
  const typeMeta = (envelope.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const kind = typeMeta.kind ?? '';
  const raw = Buffer.from(String(envelope.raw ?? ''), 'base64');
  const obj = message(kind, raw);
  return { apiVersion: typeMeta.apiVersion, kind, ...obj };
}
