import type { Readable } from 'node:stream';
import { toS3Error } from './s3-errors.js';
import type { Recorder, S3Adapter, S3ObjectInfo, S3Target } from './types.js';

export interface S3AdapterOptions {
  bucket: string;
  region: string;
  endpoint?: string;
  /** When not given, the AWS default credential chain is used. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  record: Recorder;
}

/** Builds the S3 adapter. The AWS SDK is imported here, on first use. */
export async function createS3Adapter(options: S3AdapterOptions): Promise<S3Adapter> {
  // The SDK warns on stderr that future releases need Node 22; this release supports Node 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const target: S3Target = { bucket: options.bucket, region: options.region, endpoint: options.endpoint };
  const client = new sdk.S3Client({
    region: options.region,
    credentials: options.credentials,
    maxAttempts: 2,
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          forcePathStyle: true,
          // S3-compatible stores (s3rver, R2, OVH, older MinIO) break on the default aws-chunked checksums.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
  const bucket = options.bucket;

  async function call<T>(
    operation: string,
    method: string,
    key: string | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    const path = `/${bucket}${key !== undefined ? `/${key}` : ''}`;
    try {
      const result = await fn();
      options.record({
        type: 'api',
        service: 's3',
        method: `${method} ${operation}`,
        path,
        status: 'ok',
        ms: Date.now() - started,
      });
      return result;
    } catch (error) {
      const code = (error as { name?: string }).name ?? 'error';
      options.record({
        type: 'api',
        service: 's3',
        method: `${method} ${operation}`,
        path,
        status: code,
        ms: Date.now() - started,
      });
      throw toS3Error(error, target, operation, key);
    }
  }

  return {
    target,
    async headBucket() {
      await call('HeadBucket', 'HEAD', undefined, () =>
        client.send(new sdk.HeadBucketCommand({ Bucket: bucket })),
      );
    },
    async list(prefix, listOptions = {}) {
      const found: S3ObjectInfo[] = [];
      let token: string | undefined;
      do {
        const page = await call('ListObjectsV2', 'GET', `?prefix=${prefix}`, () =>
          client.send(
            new sdk.ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              ContinuationToken: token,
              MaxKeys: listOptions.maxKeys,
            }),
          ),
        );
        for (const item of page.Contents ?? []) {
          if (item.Key === undefined) continue;
          found.push({
            key: item.Key,
            size: item.Size ?? 0,
            lastModified: item.LastModified,
            etag: item.ETag,
          });
        }
        token =
          page.IsTruncated && listOptions.maxKeys === undefined ? page.NextContinuationToken : undefined;
      } while (token);
      return found;
    },
    async head(key) {
      try {
        const head = await call('HeadObject', 'HEAD', key, () =>
          client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key: key })),
        );
        return {
          key,
          size: head.ContentLength ?? 0,
          lastModified: head.LastModified,
          metadata: head.Metadata ?? {},
          contentType: head.ContentType,
          ...(head.ETag ? { etag: head.ETag.replaceAll('"', '') } : {}),
          ...(head.VersionId ? { versionId: head.VersionId } : {}),
        };
      } catch (error) {
        if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async put(key, body, putOptions = {}) {
      await call('PutObject', 'PUT', key, () =>
        client.send(
          new sdk.PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            Metadata: putOptions.metadata,
            ContentType: putOptions.contentType,
          }),
        ),
      );
    },
    async upload(key, body: Readable, uploadOptions = {}) {
      const { Upload } = await import('@aws-sdk/lib-storage');
      await call('Upload', 'PUT', key, async () => {
        const upload = new Upload({
          client,
          params: { Bucket: bucket, Key: key, Body: body, Metadata: uploadOptions.metadata },
          queueSize: 2,
          partSize: 16 * 1024 * 1024,
        });
        uploadOptions.signal?.addEventListener('abort', () => void upload.abort(), { once: true });
        await upload.done();
      });
    },
    async getStream(key, signal) {
      const response = await call('GetObject', 'GET', key, () =>
        client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal }),
      );
      return {
        body: response.Body as Readable,
        size: response.ContentLength,
        metadata: response.Metadata ?? {},
        ...(response.ETag ? { etag: response.ETag.replaceAll('"', '') } : {}),
        ...(response.VersionId ? { versionId: response.VersionId } : {}),
      };
    },
    async getText(key, maxBytes = 1024 * 1024) {
      try {
        const response = await call('GetObject', 'GET', key, () =>
          client.send(
            new sdk.GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${maxBytes - 1}` }),
          ),
        );
        return await response.Body?.transformToString('utf8');
      } catch (error) {
        if ((error as { code?: string }).code === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async delete(key) {
      await call('DeleteObject', 'DELETE', key, () =>
        client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: key })),
      );
    },
  };
}
