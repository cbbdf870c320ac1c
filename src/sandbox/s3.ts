import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** s3rver's built-in credentials: it verifies signatures made with these and rejects any other key. */
export const SANDBOX_S3_ACCESS_KEY_ID = 'S3RVER';
export const SANDBOX_S3_SECRET_ACCESS_KEY = 'S3RVER';
export const SANDBOX_S3_REGION = 'us-east-1';

export interface SandboxS3 {
  /** e.g. http://127.0.0.1:41234 */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Environment for the aws CLI and the scripts (AWS_ENDPOINT_URL included). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface StartS3Options {
  /** Where objects are stored on disk. */
  directory: string;
  bucket?: string;
  /** 0 (default) picks a free port. */
  port?: number;
}

/** Starts s3rver (the real S3 HTTP protocol) on 127.0.0.1 with the bucket created. */
export async function startSandboxS3(options: StartS3Options): Promise<SandboxS3> {
  const bucket = options.bucket ?? 'db-backups';
  await mkdir(options.directory, { recursive: true });
  const { default: S3rver } = await import('s3rver');
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: join(options.directory),
    configureBuckets: [{ name: bucket }],
  });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    accessKeyId: SANDBOX_S3_ACCESS_KEY_ID,
    secretAccessKey: SANDBOX_S3_SECRET_ACCESS_KEY,
    region: SANDBOX_S3_REGION,
    env: {
      S3_BUCKET: bucket,
      AWS_ENDPOINT_URL: endpoint,
      AWS_DEFAULT_REGION: SANDBOX_S3_REGION,
      AWS_ACCESS_KEY_ID: SANDBOX_S3_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SANDBOX_S3_SECRET_ACCESS_KEY,
    },
    stop: async () => {
      await server.close();
    },
  };
}
