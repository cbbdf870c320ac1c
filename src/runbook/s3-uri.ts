/**
 * `s3://bucket/key` URIs, as an operator pastes them (RESTORE_S3_URI, --restore-uri). Pure.
 * Strict on purpose: the URI names the object a destructive restore will load.
 */
import { s3Bucket } from './validate.js';

export interface S3Uri {
  bucket: string;
  key: string;
}

export type S3UriParse = ({ ok: true } & S3Uri) | { ok: false; problem: string };

/** S3's limit on an object key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

export function parseS3Uri(input: string): S3UriParse {
  const text = input.trim();
  if (text === '') return { ok: false, problem: 'is empty: give s3://bucket/key' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text))
    return { ok: false, problem: 'contains a control character (newline, tab, …)' };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text);
  if (!scheme) return { ok: false, problem: `"${text}" is not an s3:// URI: give s3://bucket/key` };
  if (scheme[1] !== 's3')
    return { ok: false, problem: `scheme "${scheme[1]}://" is not s3:// (give s3://bucket/key, lower case)` };
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (bucket === '') return { ok: false, problem: 'has no bucket: give s3://bucket/key' };
  const bucketProblem = s3Bucket(bucket);
  if (bucketProblem) return { ok: false, problem: `bucket "${bucket}" ${bucketProblem}` };
  if (key === '') return { ok: false, problem: `names the bucket "${bucket}" but no object key` };
  if (key.endsWith('/'))
    return {
      ok: false,
      problem: `"${key}" is a prefix (ends with "/"), not an object: name the backup file`,
    };
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES)
    return { ok: false, problem: `the key is longer than ${MAX_KEY_BYTES} bytes (S3's limit)` };
  if (key.split('/').some((part) => part === '.' || part === '..'))
    return { ok: false, problem: 'the key has "." or ".." path segments' };
  return { ok: true, bucket, key };
}

export function formatS3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}

/** The last path segment of a key: `postgres/2026-01-02T03-04-05Z.sql.gz` → `2026-01-02T03-04-05Z.sql.gz`. */
export function baseName(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
