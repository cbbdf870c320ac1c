import { RunbookError } from '../runbook/errors.js';
import { IAM_ACTION } from '../runbook/iam.js';
import type { S3Target } from './types.js';

function where(target: S3Target): string {
  return `${target.endpoint ?? `AWS S3 (${target.region})`}, bucket ${target.bucket}`;
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const e = current as { name?: unknown; code?: unknown; Code?: unknown };
    if (typeof e.Code === 'string') return e.Code;
    if (typeof e.code === 'string') return e.code;
    if (typeof e.name === 'string' && e.name !== 'Error') return e.name;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** What an S3 SDK error means for the operator, with the endpoint/bucket and the next step. */
export function toS3Error(error: unknown, target: S3Target, operation: string, key?: string): RunbookError {
  const code = errorCode(error) ?? 'Unknown';
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const object = key ? ` (key ${key})` : '';
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|TimeoutError/.test(code)) {
    return new RunbookError(`cannot reach S3 at ${target.endpoint ?? 'AWS S3'}: ${code}`, {
      code: 'S3Unreachable',
      next: target.endpoint
        ? `Check AWS_ENDPOINT_URL (${target.endpoint}) and that the store is running and reachable from here.`
        : 'Check your network route to AWS S3 (proxy, VPC endpoint).',
    });
  }
  if (code === 'NoSuchBucket' || (operation === 'HeadBucket' && (code === 'NotFound' || status === 404))) {
    return new RunbookError(`bucket ${target.bucket} does not exist at ${target.endpoint ?? 'AWS S3'}`, {
      code: 'NoSuchBucket',
      next: 'Check S3_BUCKET, or create the bucket (aws s3 mb s3://BUCKET).',
    });
  }
  if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
    return new RunbookError(`S3 rejected the credentials (${code}) at ${where(target)}`, {
      code,
      next: 'Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and the region for AWS).',
    });
  }
  if (code === 'AccessDenied' || code === 'Forbidden' || status === 403) {
    const action = IAM_ACTION[operation] ?? `s3:${operation}`;
    return new RunbookError(`permission denied: ${operation}${object} at ${where(target)} needs ${action}`, {
      code: 'AccessDenied',
      next: `Grant ${action} on arn:aws:s3:::${target.bucket}${action === 's3:ListBucket' ? '' : '/*'} to these credentials.`,
    });
  }
  if (code === 'NoSuchKey' || code === 'NotFound' || status === 404) {
    return new RunbookError(`no object${object} in ${where(target)}`, { code: 'NoSuchKey' });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RunbookError(
    `S3 ${operation}${object} failed at ${where(target)}: ${code}${message && message !== code ? ` — ${message}` : ''}`,
    { code },
  );
}
