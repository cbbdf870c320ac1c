/** What the globals object beside a PostgreSQL dump held, verified against its own sidecar. */

import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { S3Adapter } from '../../adapters/types.js';
import { formatBytes, globalsKeyOf, parseSidecar, SIDECAR_SUFFIX } from '../../runbook/backup-catalog.js';
import { formatS3Uri } from '../../runbook/s3-uri.js';
import type { ChosenBackup } from './spec.js';

export interface GlobalsObject {
  uri: string;
  key: string;
  /** Absent: the backup has none (written before globals existed, or by another tool). */
  missing: boolean;
  sha256?: string;
  verified: boolean;
  problem?: string;
  text?: string;
}

export const MAX_GLOBALS_BYTES = 64 * 1024 * 1024;

/** Downloads and inflates `<time>.globals.sql.gz` (small), checking it against `<…>.sha256`. */
export async function fetchGlobals(
  s3: S3Adapter,
  bucket: string,
  dumpKey: string,
  signal?: AbortSignal,
): Promise<GlobalsObject> {
  const key = globalsKeyOf(dumpKey);
  const uri = formatS3Uri(bucket, key);
  const head = await s3.head(key);
  if (!head) return { uri, key, missing: true, verified: false };
  if (head.size > MAX_GLOBALS_BYTES)
    return {
      uri,
      key,
      missing: false,
      verified: false,
      problem: `${uri} is ${formatBytes(head.size)}: too large for a globals object`,
    };
  const { body } = await s3.getStream(key, signal);
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const sidecar = await s3.getText(`${key}${SIDECAR_SUFFIX}`, 4096);
  const parsed = sidecar === undefined ? undefined : parseSidecar(sidecar);
  let problem: string | undefined;
  if (!parsed) problem = `the sidecar ${uri}${SIDECAR_SUFFIX} is missing`;
  else if (!parsed.ok) problem = `the sidecar ${key}${SIDECAR_SUFFIX}: ${parsed.problem}`;
  else if (parsed.sha256 !== sha256)
    problem = `SHA-256 mismatch for ${uri}: the sidecar says ${parsed.sha256}, the object is ${sha256}`;
  let text: string | undefined;
  try {
    text = gunzipSync(bytes, { maxOutputLength: MAX_GLOBALS_BYTES * 8 }).toString('utf8');
  } catch (error) {
    problem ??= `${uri} is not a valid gzip stream: ${(error as Error).message}`;
  }
  return {
    uri,
    key,
    missing: false,
    sha256,
    verified: problem === undefined,
    ...(problem ? { problem } : {}),
    ...(text !== undefined ? { text } : {}),
  };
}

export async function readSidecar(
  s3: S3Adapter,
  chosen: ChosenBackup,
): Promise<{ sha256?: string; problem?: string }> {
  const key = chosen.sidecarKey ?? `${chosen.key}${SIDECAR_SUFFIX}`;
  const text = await s3.getText(key, 4096);
  if (text === undefined) return { problem: `the sidecar s3://${chosen.bucket}/${key} is missing` };
  const parsed = parseSidecar(text);
  return parsed.ok ? { sha256: parsed.sha256 } : { problem: `the sidecar ${key}: ${parsed.problem}` };
}
