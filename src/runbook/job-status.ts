import type { KubeObject } from './kube-object.js';

/**
 * What a Job and its pods say, in a few words an operator reads while waiting: phase, conditions,
 * the container's exit code and reason, and for a failure the likely cause. Pure: the objects come
 * from GETs; the log tail from the pod log.
 */
export type JobPhase = 'pending' | 'running' | 'succeeded' | 'failed';

export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface PodSummary {
  name: string;
  /** Pending | Running | Succeeded | Failed | Unknown */
  phase: string;
  /** A waiting container's reason (ContainerCreating, ImagePullBackOff, CreateContainerConfigError, …). */
  waitingReason?: string;
  waitingMessage?: string;
  exitCode?: number;
  /** A terminated container's reason (Completed, Error, OOMKilled, DeadlineExceeded, …). */
  terminatedReason?: string;
  terminatedMessage?: string;
  startedAt?: string;
  finishedAt?: string;
  createdAt?: string;
}

export interface JobSummary {
  name: string;
  phase: JobPhase;
  /** Complete or Failed is True: nothing more will happen. */
  finished: boolean;
  active: number;
  succeeded: number;
  failed: number;
  conditions: JobCondition[];
  startTime?: string;
  completionTime?: string;
  /** The newest pod of the Job (the attempt that matters). */
  pod?: PodSummary;
  podCount: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
}

interface JobStatusFields {
  active?: number;
  succeeded?: number;
  failed?: number;
  startTime?: string | Date;
  completionTime?: string | Date;
  conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
}

interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: {
    exitCode?: number;
    reason?: string;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
  };
}

interface PodStatusFields {
  phase?: string;
  containerStatuses?: { name?: string; state?: ContainerState; lastState?: ContainerState }[];
  initContainerStatuses?: { name?: string; state?: ContainerState }[];
}

/**
 * A timestamp as an ISO string: the API sends strings, but @kubernetes/client-node deserializes
 * typed objects and hands out Date instances for the same fields.
 */
export function isoOf(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

/** The label the Job controller puts on its pods (both spellings: `job-name` is the legacy one). */
export function podSelector(jobName: string): string {
  return `batch.kubernetes.io/job-name=${jobName}`;
}

export function summarizePod(pod: KubeObject): PodSummary {
  const status = (pod.status ?? {}) as PodStatusFields;
  const summary: PodSummary = { name: pod.metadata.name, phase: status.phase ?? 'Pending' };
  const created = isoOf(pod.metadata.creationTimestamp);
  if (created) summary.createdAt = created;
  const containers = [...(status.initContainerStatuses ?? []), ...(status.containerStatuses ?? [])];
  // The first container that failed, else the first that is waiting, else the main one.
  const terminated = containers.map((c) => c.state?.terminated).filter((t) => t !== undefined);
  const failedOne = terminated.find((t) => (t.exitCode ?? 0) !== 0);
  const ended = failedOne ?? terminated[terminated.length - 1];
  const waiting = containers.map((c) => c.state?.waiting).find((w) => w !== undefined);
  const running = containers.map((c) => c.state?.running).find((r) => r !== undefined);
  if (ended) {
    if (ended.exitCode !== undefined) summary.exitCode = ended.exitCode;
    if (ended.reason) summary.terminatedReason = ended.reason;
    if (ended.message) summary.terminatedMessage = ended.message;
    const started = isoOf(ended.startedAt);
    const finished = isoOf(ended.finishedAt);
    if (started) summary.startedAt = started;
    if (finished) summary.finishedAt = finished;
  }
  if (waiting && !failedOne) {
    if (waiting.reason) summary.waitingReason = waiting.reason;
    if (waiting.message) summary.waitingMessage = waiting.message;
  }
  const runningSince = isoOf(running?.startedAt);
  if (runningSince && !summary.startedAt) summary.startedAt = runningSince;
  return summary;
}

/**
 * Oldest first, by creation time and then by when its container started (not started yet counts as
 * newest): creation times have one-second resolution, and a retry pod is often created in the same
 * second as the attempt it replaces.
 */
export function byCreation(objects: readonly KubeObject[]): KubeObject[] {
  const key = (object: KubeObject) => {
    const pod = summarizePod(object);
    return `${isoOf(object.metadata.creationTimestamp) ?? ''}|${pod.startedAt ?? '~'}`;
  };
  return [...objects].sort((a, b) => key(a).localeCompare(key(b)));
}

function newest(pods: readonly KubeObject[]): KubeObject | undefined {
  return byCreation(pods).at(-1);
}

export function summarizeJob(job: KubeObject, pods: readonly KubeObject[] = []): JobSummary {
  const status = (job.status ?? {}) as JobStatusFields;
  const spec = (job.spec ?? {}) as { backoffLimit?: number; activeDeadlineSeconds?: number };
  const conditions: JobCondition[] = (status.conditions ?? [])
    .filter((c) => c.type)
    .map((c) => ({
      type: c.type ?? '',
      status: c.status ?? 'Unknown',
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
    }));
  const isTrue = (type: string) => conditions.some((c) => c.type === type && c.status === 'True');
  const active = status.active ?? 0;
  const succeeded = status.succeeded ?? 0;
  const failed = status.failed ?? 0;
  const latest = newest(pods);
  const pod = latest ? summarizePod(latest) : undefined;
  let phase: JobPhase;
  if (isTrue('Complete')) phase = 'succeeded';
  else if (isTrue('Failed')) phase = 'failed';
  else if (isTrue('FailureTarget')) phase = 'failed';
  else if (active > 0 || pod?.phase === 'Running') phase = pod?.phase === 'Pending' ? 'pending' : 'running';
  else phase = 'pending';
  const summary: JobSummary = {
    name: job.metadata.name,
    phase,
    finished: isTrue('Complete') || isTrue('Failed'),
    active,
    succeeded,
    failed,
    conditions,
    podCount: pods.length,
  };
  const startTime = isoOf(status.startTime);
  const completionTime = isoOf(status.completionTime);
  if (startTime) summary.startTime = startTime;
  if (completionTime) summary.completionTime = completionTime;
  if (pod) summary.pod = pod;
  if (spec.backoffLimit !== undefined) summary.backoffLimit = spec.backoffLimit;
  if (spec.activeDeadlineSeconds !== undefined) summary.activeDeadlineSeconds = spec.activeDeadlineSeconds;
  return summary;
}

/** `Failed=True (BackoffLimitExceeded: Job has reached the specified backoff limit)`. */
export function describeCondition(condition: JobCondition): string {
  const why = [condition.reason, condition.message].filter(Boolean).join(': ');
  return `${condition.type}=${condition.status}${why ? ` (${why})` : ''}`;
}

/** `pod Running · 42 s`, `pod Pending (ContainerCreating) · 3 s`, `waiting for a pod · 1 s`. */
export function statusLine(summary: JobSummary, elapsedMs: number): string {
  const pod = summary.pod;
  let what: string;
  if (!pod) what = summary.finished ? `Job ${summary.phase}` : 'waiting for a pod';
  else {
    const detail = pod.waitingReason ?? (pod.exitCode !== undefined ? `exit ${pod.exitCode}` : undefined);
    what = `pod ${pod.phase}${detail ? ` (${detail})` : ''}`;
  }
  const attempts = summary.failed > 0 && !summary.finished ? ` · attempt ${summary.failed + 1}` : '';
  return `${what}${attempts} · ${formatElapsed(elapsedMs)}`;
}

/** `42 s`, `3 min 05 s`, `1 h 02 min`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

interface CauseRule {
  test: RegExp;
  cause: string;
}

/** Log lines that name their cause (psql/pg_dump, aws CLI, neo4j-admin, the shell). */
const LOG_RULES: readonly CauseRule[] = [
  {
    test: /password authentication failed|authentication failed for user|FATAL:.*password/i,
    cause:
      'the database refused the password: check POSTGRES_USER/POSTGRES_PASSWORD in Secret postgres-backup-credentials',
  },
  {
    test: /The client is unauthorized due to authentication failure|Neo\.ClientError\.Security\.Unauthorized/i,
    cause: 'Neo4j refused the credentials: check Secret neo4j-backup-credentials',
  },
  {
    test: /(refused|unreachable|timed out|unable to connect)[^\n]*:6362|:6362[^\n]*(refused|unreachable|timed out)|backup port[^\n]*not reachable|server\.backup\.(enabled|listen_address)/i,
    cause:
      'the Neo4j backup port is not reachable: enable the backup role and set server.backup.listen_address to 0.0.0.0:6362',
  },
  {
    test: /could not translate host name|Name or service not known|nodename nor servname|getaddrinfo/i,
    cause: 'a host name does not resolve from the pod: check POSTGRES_HOST/NEO4J_HOST and the Service name',
  },
  {
    test: /Connection refused|could not connect to server|connection to server .* failed|Unable to connect to/i,
    cause:
      'the database does not accept connections from the pod: check host, port, the Service and NetworkPolicy',
  },
  {
    test: /server version mismatch|aborting because of server version mismatch/i,
    cause: "pg_dump is older than the server: use an image whose PostgreSQL client major is ≥ the server's",
  },
  {
    test: /InvalidAccessKeyId|SignatureDoesNotMatch|The AWS Access Key Id you provided does not exist/i,
    cause:
      'S3 refused the access key: check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in Secret database-backup-storage',
  },
  {
    test: /AccessDenied|Access Denied/i,
    cause: 'S3 denied the request: the key needs s3:PutObject, s3:GetObject and s3:ListBucket on the bucket',
  },
  {
    test: /NoSuchBucket|The specified bucket does not exist/i,
    cause: 'the bucket does not exist: check S3_BUCKET in Secret database-backup-storage',
  },
  {
    test: /Could not connect to the endpoint URL|EndpointConnectionError/i,
    cause: 'the pod cannot reach S3: check AWS_ENDPOINT_URL/region and egress from the namespace',
  },
  {
    test: /aws: command not found|aws: not found/i,
    cause: 'the aws CLI is missing in the job image (the runbook: install awscli in the image)',
  },
  {
    test: /pg_dump: command not found|pg_dump: not found/i,
    cause: 'pg_dump is missing in the job image',
  },
  {
    test: /neo4j-admin: command not found|neo4j-admin: not found/i,
    cause: 'neo4j-admin is missing in the job image',
  },
  {
    test: /No space left on device/i,
    cause: 'the pod ran out of disk space: give the job a larger emptyDir or volume',
  },
  {
    test: /unbound variable/i,
    cause: 'the script misses an environment variable: check the Secrets and ConfigMap it reads (envFrom)',
  },
];

/**
 * One line: the likely cause of a failed Job, from its conditions, the pod's state and the log tail.
 * Undefined when nothing points anywhere (the log tail is then the best clue).
 */
export function likelyCause(summary: JobSummary, logTail: readonly string[] = []): string | undefined {
  const pod = summary.pod;
  const condition = summary.conditions.find(
    (c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True',
  );
  if (condition?.reason === 'DeadlineExceeded' || pod?.terminatedReason === 'DeadlineExceeded') {
    return `the Job ran longer than activeDeadlineSeconds${summary.activeDeadlineSeconds !== undefined ? ` (${summary.activeDeadlineSeconds} s)` : ''}: a slow dump or a hang — raise it or find what blocks`;
  }
  if (pod?.terminatedReason === 'OOMKilled' || pod?.exitCode === 137) {
    return 'the container was killed (OOMKilled / SIGKILL): raise resources.limits.memory for the job';
  }
  switch (pod?.waitingReason) {
    case 'ErrImagePull':
    case 'ImagePullBackOff':
    case 'InvalidImageName':
      return `the image cannot be pulled (${pod.waitingReason}): check the image name and imagePullSecrets`;
    case 'CreateContainerConfigError':
      return `a Secret or ConfigMap the pod reads is missing${pod.waitingMessage ? ` (${pod.waitingMessage})` : ''}: run the configure section`;
    case 'CrashLoopBackOff':
      break;
    default:
      break;
  }
  const text = logTail.join('\n');
  for (const rule of LOG_RULES) if (rule.test.test(text)) return rule.cause;
  if (pod?.exitCode === 127) return 'a command in the script was not found in the image (exit 127)';
  if (pod?.exitCode === 126)
    return 'a file in the script is not executable (exit 126): check the ConfigMap defaultMode';
  if (condition?.reason === 'BackoffLimitExceeded' && pod?.exitCode !== undefined)
    return `the script exited with code ${pod.exitCode} on every attempt (backoffLimit ${summary.backoffLimit ?? '?'}): read the log tail`;
  if (pod?.exitCode !== undefined && pod.exitCode !== 0)
    return `the script exited with code ${pod.exitCode}: read the log tail`;
  return undefined;
}
