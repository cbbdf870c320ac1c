/**
 * The troubleshoot section's reasoning, kept pure: from what a failed backup Job left behind (its
 * status, the pod's exit code, the log tail, the events) to a likely cause and a fix, each one
 * sentence; from an S3 probe's error to the IAM action that is missing; from `SHOW SETTINGS` to why
 * remote backups are refused; from Job status to backup durations. Inputs come from GETs, logs and
 * probes made by the steps; nothing here does I/O.
 */
import { IAM_ACTION } from './iam.js';
import type { KubeObject } from './kube-object.js';
import { isoOf, likelyCause, type JobSummary } from './job-status.js';

// ---------------------------------------------------------------- failed Jobs

export interface EventSummary {
  type: string;
  reason: string;
  message: string;
  /** `Pod/name` or `Job/name`. */
  object: string;
  count?: number;
  time?: string;
}

export interface JobEvidence {
  job: JobSummary;
  /** The last lines of the (newest) pod's log. */
  logTail: readonly string[];
  events?: readonly EventSummary[];
  /**
   * Whether the CronJob's container command installs awscli when the image lacks it (the manifest's
   * apt-get line); undefined when the CronJob could not be read.
   */
  installsAwsCli?: boolean;
  bucket?: string;
}

export type DiagnosisKind =
  | 'aws-missing'
  | 'apt-get-failed'
  | 'command-missing'
  | 's3-access-denied'
  | 's3-credentials'
  | 's3-bucket'
  | 's3-unreachable'
  | 's3-server-error'
  | 'neo4j-backup-port'
  | 'config-missing'
  | 'job-state'
  | 'unknown';

export interface Diagnosis {
  kind: DiagnosisKind;
  /** One sentence: what went wrong. */
  cause: string;
  /** One sentence: what to do about it. */
  fix: string;
  /** The log line, exit code or event that points there. */
  evidence?: string;
  /** S3 permission problems: the IAM action the credentials lack. */
  iamAction?: string;
}

/**
 * The IAM action each S3 API call needs, including the calls the aws CLI makes on its own
 * (multipart uploads for `aws s3 cp -`, CopyObject for the scripts' server-side publish).
 */
export const S3_OPERATION_ACTION: Readonly<Record<string, string>> = {
  ...IAM_ACTION,
  ListObjects: 's3:ListBucket',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  CopyObject: 's3:GetObject and s3:PutObject',
  UploadPartCopy: 's3:GetObject and s3:PutObject',
};

export function iamActionFor(operation: string): string {
  return S3_OPERATION_ACTION[operation] ?? `s3:${operation}`;
}

/** The resource an IAM action is granted on: the bucket for ListBucket, its objects otherwise. */
export function iamResource(action: string, bucket: string | undefined): string {
  const name = bucket ?? 'BUCKET';
  return action === 's3:ListBucket' ? `arn:aws:s3:::${name}` : `arn:aws:s3:::${name}/*`;
}

const AWS_CLI_ERROR = /An error occurred \(([\w.]+)\) when calling the (\w+) operation(?::\s*(.*))?/;
const COMMAND_NOT_FOUND =
  /(?:^|[\s:])([\w./-]+): (?:command )?not found|exec: "?([\w./-]+)"?: executable file not found/;
const APT_FAILURE =
  /^E: |Temporary failure resolving|Could not resolve|Unable to locate package|apt-get is disabled|Failed to fetch/;
const BACKUP_PORT_REFUSED =
  /(?:refused|unreachable|timed out|unable to connect|could not be reached|no backup server)[^\n]*(?::6362\b|backup)|(?::6362\b|backup port)[^\n]*(?:refused|unreachable|timed out)/i;

function last<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) {
    const item = items[i] as T;
    if (test(item)) return item;
  }
  return undefined;
}

function trimLine(line: string): string {
  const text = line.trim();
  return text.length > 240 ? `${text.slice(0, 237)}…` : text;
}

/** An aws CLI error line → the S3 problem it names. */
export function diagnoseAwsCliError(line: string, bucket?: string): Diagnosis | undefined {
  const match = AWS_CLI_ERROR.exec(line);
  if (!match?.[1] || !match[2]) return undefined;
  const code = match[1];
  const operation = match[2];
  // The CLI names the object it worked on (`upload failed: - to s3://bucket/key …`): the job's own bucket.
  bucket = /s3:\/\/([^/\s]+)/.exec(line)?.[1] ?? bucket;
  const where = bucket ? ` on bucket ${bucket}` : '';
  if (/^(AccessDenied|Forbidden|403|AllAccessDisabled)$/.test(code)) {
    const action = iamActionFor(operation);
    return {
      kind: 's3-access-denied',
      cause: `S3 denied ${operation}${where}: the job's credentials lack ${action}.`,
      fix: `Grant ${action} on ${iamResource(action, bucket)} to the access key in Secret database-backup-storage.`,
      evidence: trimLine(line),
      iamAction: action,
    };
  }
  if (/^(InvalidAccessKeyId|SignatureDoesNotMatch|InvalidToken|ExpiredToken)$/.test(code)) {
    return {
      kind: 's3-credentials',
      cause: `S3 rejected the job's credentials (${code}) when calling ${operation}, so ${iamActionFor(operation)} was never evaluated.`,
      fix: 'Correct AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in Secret database-backup-storage (configure section), then run the job again.',
      evidence: trimLine(line),
      iamAction: iamActionFor(operation),
    };
  }
  if (code === 'NoSuchBucket') {
    return {
      kind: 's3-bucket',
      cause: `the bucket${bucket ? ` ${bucket}` : ''} does not exist at the job's endpoint (${operation}).`,
      fix: 'Check S3_BUCKET and AWS_ENDPOINT_URL in Secret database-backup-storage.',
      evidence: trimLine(line),
    };
  }
  return undefined;
}

/** `aws`, `pg_dump`… from "bash: line 3: aws: command not found" / "sh: 1: aws: not found". */
export function missingCommand(lines: readonly string[]): { command: string; line: string } | undefined {
  const line = last(lines, (candidate) => COMMAND_NOT_FOUND.test(candidate));
  if (!line) return undefined;
  const match = COMMAND_NOT_FOUND.exec(line);
  const command = (match?.[1] ?? match?.[2] ?? '').split('/').pop() ?? '';
  return command ? { command, line: trimLine(line) } : undefined;
}

function awsFix(installsAwsCli: boolean | undefined): string {
  if (installsAwsCli === false)
    return "The CronJob's command does not install awscli: re-apply ops/db/backup-jobs/cronjobs.yaml (db-runbook run deploy), whose apt-get line installs it when the image lacks it, or use an image that ships the aws CLI.";
  if (installsAwsCli === true)
    return "The manifest's apt-get install of awscli did not put aws on PATH: read the apt-get lines above, or use an image that ships the aws CLI.";
  return 'Install awscli in the job image (ops/db/backup-jobs/cronjobs.yaml does it with apt-get when missing), or use an image that ships the aws CLI.';
}

const CLIENT_FIX: Readonly<Record<string, string>> = {
  pg_dump:
    'Use an image with the PostgreSQL client tools (postgres:<server major>, as in cronjobs.yaml) for the job.',
  psql: 'Use an image with the PostgreSQL client tools (postgres:<server major>, as in cronjobs.yaml) for the job.',
  'neo4j-admin': 'Use the neo4j:5-enterprise image (as in cronjobs.yaml): online backup needs Enterprise.',
  pigz: 'pigz is optional (the scripts fall back to gzip): install it with apt-get or ignore this line.',
};

/**
 * The likely cause of a failed backup Job and its fix, from the most specific evidence to the most
 * general: a missing aws CLI (exit 127 or the script's own check), a failed apt-get install, S3
 * errors with the IAM action, the Neo4j backup port, missing Secrets/ConfigMaps in the events, and
 * finally what the Job and pod state say (deadline, OOM, image pull…, see job-status.ts).
 */
export function diagnoseJob(evidence: JobEvidence): Diagnosis {
  const lines = evidence.logTail.map((line) => line.replace(/\r$/, ''));
  const text = lines.join('\n');
  const exitCode = evidence.job.pod?.exitCode;
  const missing = missingCommand(lines);
  const scriptCheck = last(lines, (line) => /\baws is not installed\b/.test(line));

  // 1. the aws CLI is missing
  if (missing?.command === 'aws' || scriptCheck) {
    return {
      kind: 'aws-missing',
      cause: `the aws CLI is not in the job's container (${missing ? `exit ${exitCode ?? '?'}: ${missing.line}` : trimLine(scriptCheck ?? '')}).`,
      fix: awsFix(evidence.installsAwsCli),
      evidence: missing?.line ?? trimLine(scriptCheck ?? ''),
    };
  }
  // 2. the image lacks awscli and apt-get could not install it
  const installing = lines.findIndex((line) => /installing .*awscli.* with apt-get/.test(line));
  if (installing >= 0) {
    const failure = lines.slice(installing + 1).find((line) => APT_FAILURE.test(line));
    if (failure || exitCode === 100) {
      return {
        kind: 'apt-get-failed',
        cause: `the image lacks awscli and apt-get could not install it (exit ${exitCode ?? '?'}${failure ? `: ${trimLine(failure)}` : ''}).`,
        fix: 'Let the pod reach the Debian mirrors (egress, proxy) or, better, use an image that already has awscli and pigz.',
        evidence: failure ? trimLine(failure) : `exit ${exitCode}`,
      };
    }
  }
  // 3. another command missing from the image
  if (missing || exitCode === 127) {
    const command = missing?.command;
    return {
      kind: 'command-missing',
      cause: `${command ? `${command} is` : 'a command the script runs is'} not in the job's container (exit ${exitCode ?? 127}${missing ? `: ${missing.line}` : ''}).`,
      fix:
        (command && CLIENT_FIX[command]) ??
        'Use an image that has every tool the script needs (see the image lines in cronjobs.yaml).',
      ...(missing ? { evidence: missing.line } : { evidence: `exit ${exitCode}` }),
    };
  }
  // 4. S3 errors as the aws CLI prints them
  const s3Line = last(lines, (line) => AWS_CLI_ERROR.test(line));
  const s3 = s3Line ? diagnoseAwsCliError(s3Line, evidence.bucket) : undefined;
  if (s3) return s3;
  if (/Could not connect to the endpoint URL|EndpointConnectionError/i.test(text)) {
    const line = last(lines, (candidate) =>
      /Could not connect to the endpoint URL|EndpointConnectionError/i.test(candidate),
    );
    return {
      kind: 's3-unreachable',
      cause: `the pod cannot reach the S3 endpoint (${trimLine(line ?? '')}).`,
      fix: 'Check AWS_ENDPOINT_URL/AWS_DEFAULT_REGION in Secret database-backup-storage and egress from the namespace (NetworkPolicy, proxy).',
      evidence: trimLine(line ?? ''),
    };
  }
  // 5. the Neo4j backup port
  const portLine = last(lines, (line) => BACKUP_PORT_REFUSED.test(line));
  if (portLine) {
    return {
      kind: 'neo4j-backup-port',
      cause: `neo4j-admin could not connect to the Neo4j backup port (${trimLine(portLine)}).`,
      fix: 'Enable the backup role (server.backup.enabled=true) and set server.backup.listen_address=0.0.0.0:6362 — the default 127.0.0.1:6362 refuses remote backups — and allow port 6362 from the backup pod (NetworkPolicy).',
      evidence: trimLine(portLine),
    };
  }
  // 6. a missing Secret/ConfigMap, as the events say
  const config = (evidence.events ?? []).find(
    (event) =>
      event.type === 'Warning' &&
      (event.reason === 'FailedMount' || /(secret|configmap)s? "[^"]+" not found/i.test(event.message)),
  );
  if (config) {
    return {
      kind: 'config-missing',
      cause: `${config.object} could not start: ${trimLine(config.message)} (${config.reason}).`,
      fix: 'Create the Secrets and ConfigMaps the job reads: db-runbook run configure.',
      evidence: `${config.reason}: ${trimLine(config.message)}`,
    };
  }
  // 7. what the Job and pod state say
  const cause = likelyCause(evidence.job, lines);
  if (cause) {
    const split = cause.indexOf(': ');
    const fixText = split > 0 ? cause.slice(split + 2) : 'read the log tail and the events below';
    return {
      kind: 'job-state',
      cause: `${split > 0 ? cause.slice(0, split) : cause}.`,
      fix: `${fixText.charAt(0).toUpperCase()}${fixText.slice(1)}.`,
      evidence:
        exitCode !== undefined
          ? `exit ${exitCode}${evidence.job.pod?.terminatedReason ? ` (${evidence.job.pod.terminatedReason})` : ''}`
          : (evidence.job.conditions.map((c) => `${c.type}: ${c.reason ?? ''}`).join('; ') ?? ''),
    };
  }
  const warning = (evidence.events ?? []).find((event) => event.type === 'Warning');
  return {
    kind: 'unknown',
    cause: warning
      ? `no known cause in the log; the last warning was ${warning.reason}: ${trimLine(warning.message)}.`
      : 'no known cause in the log, the exit code or the events.',
    fix: 'Read the log tail below, then kubectl describe job and kubectl logs for the whole log.',
  };
}

/** A few Warning events first, as `Reason (object ×count): message`. */
export function describeEvents(events: readonly EventSummary[], max = 5): string[] {
  return [...events]
    .sort((a, b) => (a.type === b.type ? 0 : a.type === 'Warning' ? -1 : 1))
    .slice(0, max)
    .map(
      (event) =>
        `${event.type === 'Warning' ? 'Warning ' : ''}${event.reason} (${event.object}${event.count && event.count > 1 ? ` ×${event.count}` : ''}): ${trimLine(event.message)}`,
    );
}

/** core/v1 Events involving any of `names` (`Kind/name`), oldest first. */
export function eventsFor(events: readonly KubeObject[], names: ReadonlySet<string>): EventSummary[] {
  const out: (EventSummary & { sort: string })[] = [];
  for (const event of events) {
    const involved = (event.involvedObject ?? {}) as { kind?: string; name?: string };
    const object = `${involved.kind ?? '?'}/${involved.name ?? '?'}`;
    if (!names.has(object)) continue;
    const time =
      isoOf(event.lastTimestamp) ?? isoOf(event.eventTime) ?? isoOf(event.metadata.creationTimestamp) ?? '';
    out.push({
      type: String(event.type ?? 'Normal'),
      reason: String(event.reason ?? ''),
      message: String(event.message ?? ''),
      object,
      ...(typeof event.count === 'number' ? { count: event.count } : {}),
      ...(time ? { time } : {}),
      sort: time,
    });
  }
  return out.sort((a, b) => a.sort.localeCompare(b.sort)).map(({ sort: _sort, ...rest }) => rest);
}

// ---------------------------------------------------------------- S3 probes from this host

export interface S3ProbeFailure {
  /** The RunbookError code the S3 adapter put on it (AccessDenied, InvalidAccessKeyId, S3Unreachable…). */
  code?: string;
  message: string;
}

/** What a failed S3 probe (one API call for one IAM action) tells the operator. */
export function diagnoseS3Probe(
  operation: string,
  failure: S3ProbeFailure,
  bucket: string,
): Diagnosis & { blocksOthers: boolean } {
  const action = iamActionFor(operation);
  switch (failure.code) {
    case 'AccessDenied':
      return {
        kind: 's3-access-denied',
        cause: `${operation} was denied: these credentials lack ${action}.`,
        fix: `Grant ${action} on ${iamResource(action, bucket)} to the access key (and to the key in Secret database-backup-storage, which the jobs use).`,
        iamAction: action,
        blocksOthers: false,
      };
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
      return {
        kind: 's3-credentials',
        cause: `S3 rejected the credentials (${failure.code}), so ${operation} (${action}) could not be checked.`,
        fix: 'Correct AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (here, and in Secret database-backup-storage for the jobs).',
        iamAction: action,
        blocksOthers: true,
      };
    case 'NoSuchBucket':
      return {
        kind: 's3-bucket',
        cause: `bucket ${bucket} does not exist at this endpoint.`,
        fix: 'Check S3_BUCKET and AWS_ENDPOINT_URL, or create the bucket.',
        blocksOthers: true,
      };
    case 'S3Unreachable':
      return {
        kind: 's3-unreachable',
        cause: `S3 does not answer (${failure.message}).`,
        fix: 'Check AWS_ENDPOINT_URL and the network route to the object store.',
        blocksOthers: true,
      };
    default:
      // Only AccessDenied says a permission is missing: a server error (InternalError, SlowDown, 5xx)
      // or anything else is reported as what it is, and nobody is told to grant anything.
      if (failure.code && S3_SERVER_ERRORS.test(failure.code))
        return {
          kind: 's3-server-error',
          cause: `${operation} failed on the S3 side (${failure.code}): not a permission answer, so ${action} was not tested.`,
          fix: 'Run this step again; if it persists, check the object store (its status or logs) — there is nothing to grant.',
          blocksOthers: false,
        };
      return {
        kind: 'unknown',
        cause: `${operation} failed (${failure.code ?? 'error'}): ${failure.message}. S3 did not answer AccessDenied, so ${action} was not tested.`,
        fix: 'Read the error above; AWS_ENDPOINT_URL, the region and the bucket are the usual suspects. Nothing to grant unless S3 says AccessDenied.',
        blocksOthers: false,
      };
  }
}

/** S3 error codes that are the server's trouble, not the caller's permissions. */
const S3_SERVER_ERRORS =
  /^(InternalError|ServiceUnavailable|SlowDown|RequestTimeout|RequestTimeTooSkewed|5\d\d)$/;

// ---------------------------------------------------------------- Neo4j backup settings

export const NEO4J_BACKUP_DEFAULT_LISTEN = '127.0.0.1:6362';

export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\./.test(bare);
}

/** `0.0.0.0:6362`, `:6362`, `[::]:6362`, `neo4j-0.example:6362` → host and port. */
export function splitListenAddress(address: string): { host: string; port?: number } {
  const text = address.trim();
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1] ?? '', ...(bracketed[2] ? { port: Number(bracketed[2]) } : {}) };
  const colon = text.lastIndexOf(':');
  if (colon < 0) return { host: text };
  const port = Number(text.slice(colon + 1));
  return { host: text.slice(0, colon), ...(Number.isInteger(port) && port > 0 ? { port } : {}) };
}

export interface BackupSettingsAssessment {
  enabled: boolean | undefined;
  listenAddress: string;
  /** The address is the default (not set in neo4j.conf). */
  defaulted: boolean;
  loopbackOnly: boolean;
  port?: number;
  /** Each one sentence; empty when the settings allow remote backups on the expected port. */
  problems: string[];
}

/**
 * `SHOW SETTINGS` rows (name → value) for `server.backup.*` → whether a backup pod can connect.
 * Without rows the server is Community (no backup settings) or the user may not see settings.
 */
export function assessBackupSettings(
  settings: Readonly<Record<string, string>>,
  expectedPort: number,
): BackupSettingsAssessment {
  const enabledText = settings['server.backup.enabled'];
  const enabled = enabledText === undefined ? undefined : enabledText.trim().toLowerCase() === 'true';
  const configured = settings['server.backup.listen_address'];
  const listenAddress =
    configured && configured.trim() !== '' ? configured.trim() : NEO4J_BACKUP_DEFAULT_LISTEN;
  const { host, port } = splitListenAddress(listenAddress);
  // An empty host means server.default_listen_address, which defaults to localhost too.
  const loopbackOnly = isLoopback(
    host === '' ? (settings['server.default_listen_address'] ?? 'localhost') : host,
  );
  const problems: string[] = [];
  if (enabled === false)
    problems.push(
      'server.backup.enabled=false: the server has no backup listener; set it to true (Enterprise only).',
    );
  if (loopbackOnly)
    problems.push(
      `server.backup.listen_address is ${listenAddress}${configured ? '' : ' (the default)'}: it accepts connections from the server's own host only, so a backup pod is refused — set server.backup.listen_address=0.0.0.0:${port ?? 6362}.`,
    );
  if (port !== undefined && port !== expectedPort)
    problems.push(
      `the server listens for backups on port ${port}, but NEO4J_BACKUP_PORT is ${expectedPort}: make them agree.`,
    );
  return {
    enabled,
    listenAddress,
    defaulted: !configured,
    loopbackOnly,
    ...(port !== undefined ? { port } : {}),
    problems,
  };
}

/** cypher-shell `--format plain` output → rows of cells (quotes removed). The first line is the header. */
export function parsePlainRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(1)
    .map((line) => line.split(', ').map((cell) => cell.trim().replace(/^"(.*)"$/, '$1')));
}

// ---------------------------------------------------------------- backup durations

export interface JobRun {
  name: string;
  startedAt?: string;
  finishedAt?: string;
  /** Seconds from start to completion/failure (or to `now` while it runs). */
  seconds?: number;
  outcome: 'succeeded' | 'failed' | 'running' | 'pending';
}

interface RunStatus {
  startTime?: unknown;
  completionTime?: unknown;
  active?: number;
  conditions?: { type?: string; status?: string; lastTransitionTime?: unknown }[];
}

/** How long one Job ran, from its status (`startTime` → `completionTime`, or the Failed condition). */
export function jobRun(job: KubeObject, now: Date): JobRun {
  const status = (job.status ?? {}) as RunStatus;
  const conditions = status.conditions ?? [];
  const condition = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const failed = condition('Failed') ?? condition('FailureTarget');
  const complete = condition('Complete');
  const startedAt = isoOf(status.startTime);
  const finishedAt = complete
    ? (isoOf(status.completionTime) ?? isoOf(complete.lastTransitionTime))
    : failed
      ? isoOf(failed.lastTransitionTime)
      : undefined;
  const outcome: JobRun['outcome'] = complete
    ? 'succeeded'
    : failed
      ? 'failed'
      : startedAt
        ? 'running'
        : 'pending';
  const end = finishedAt ? Date.parse(finishedAt) : outcome === 'running' ? now.getTime() : undefined;
  const seconds =
    startedAt && end !== undefined
      ? Math.max(0, Math.round((end - Date.parse(startedAt)) / 1000))
      : undefined;
  return {
    name: job.metadata.name,
    ...(startedAt ? { startedAt } : {}),
    ...(finishedAt ? { finishedAt } : {}),
    ...(seconds !== undefined ? { seconds } : {}),
    outcome,
  };
}

export interface DurationAssessment {
  verdict: 'ok' | 'slow' | 'near-deadline' | 'no-runs';
  /** The longest of the runs considered, in seconds. */
  longestSeconds?: number;
  /** One sentence. */
  detail: string;
}

/**
 * Slow when the longest recent run took more than half of activeDeadlineSeconds (or more than the
 * operator's threshold), near the deadline above 80 %; a run killed by the deadline counts as at it.
 */
export function assessDurations(
  runs: readonly JobRun[],
  options: { activeDeadlineSeconds?: number; thresholdSeconds?: number; intervalSeconds?: number },
): DurationAssessment {
  const timed = runs.filter((run) => run.seconds !== undefined && run.outcome !== 'pending');
  if (timed.length === 0) return { verdict: 'no-runs', detail: 'no Job has run yet' };
  const longest = Math.max(...timed.map((run) => run.seconds ?? 0));
  const deadline = options.activeDeadlineSeconds;
  const threshold = options.thresholdSeconds ?? (deadline !== undefined ? deadline / 2 : undefined);
  const parts: string[] = [];
  let verdict: DurationAssessment['verdict'] = 'ok';
  if (deadline !== undefined && longest >= deadline * 0.8) {
    verdict = 'near-deadline';
    parts.push(
      `the longest run took ${Math.round((longest / deadline) * 100)}% of activeDeadlineSeconds (${deadline} s)`,
    );
  } else if (threshold !== undefined && longest > threshold) {
    verdict = 'slow';
    parts.push(
      `the longest run took ${longest} s, over ${options.thresholdSeconds !== undefined ? 'the slowBackupThreshold' : 'half of activeDeadlineSeconds'} (${Math.round(threshold)} s)`,
    );
  } else
    parts.push(
      `the longest of the last ${timed.length} run(s) took ${longest} s${deadline !== undefined ? `, ${Math.round((longest / deadline) * 100)}% of activeDeadlineSeconds` : ''}`,
    );
  if (options.intervalSeconds !== undefined && longest > options.intervalSeconds) {
    verdict = verdict === 'ok' ? 'slow' : verdict;
    parts.push('longer than the time between scheduled runs (concurrencyPolicy Forbid skips runs)');
  }
  return { verdict, longestSeconds: longest, detail: parts.join('; ') };
}

export interface BackupPortEvidence {
  host: string;
  port: number;
  here: { ok: boolean; refused: boolean };
  /** The in-cluster probe; undefined when it could not run. */
  cluster?: { ok: boolean; refused: boolean };
  settings?: BackupSettingsAssessment;
}

/**
 * Why a backup pod cannot reach the Neo4j backup port, in one sentence; undefined when it can (the
 * in-cluster probe connected, or — without one — this host connected).
 */
export function backupPortCause(evidence: BackupPortEvidence): string | undefined {
  const { host, port, here, cluster, settings } = evidence;
  const where = `${host}:${port}`;
  const failing = cluster ? !cluster.ok : !here.ok;
  if (!failing) return undefined;
  if (settings?.enabled === false)
    return `the backup role is off on the server (server.backup.enabled=false), so nothing listens on ${where}.`;
  if (settings?.port !== undefined && settings.port !== port)
    return `the server listens for backups on port ${settings.port}, but the jobs connect to ${where} (NEO4J_BACKUP_PORT).`;
  if (settings?.loopbackOnly && !isLoopback(host))
    return `server.backup.listen_address is ${settings.listenAddress}${settings.defaulted ? ' (the default)' : ''}: only the server's own host may connect, so the backup pod is refused.`;
  if (here.refused || cluster?.refused)
    return `nothing listens on ${where} (connection refused): the Neo4j server or its backup listener is not running there${settings ? '' : `, or it is bound to the default ${NEO4J_BACKUP_DEFAULT_LISTEN}, which refuses remote backups`}.`;
  return `${where} does not answer from the cluster: packets are dropped (a NetworkPolicy, a firewall, or a Service without port ${port}).`;
}
