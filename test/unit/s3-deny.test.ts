import { describe, expect, it } from 'vitest';
import { s3Operation } from '../../src/sandbox/s3-deny.js';

describe('s3Operation (the sandbox fault s3-deny)', () => {
  it('maps path-style requests to the S3 operation and the IAM actions it needs', () => {
    const op = (method: string, url: string, headers: Record<string, string> = {}) =>
      s3Operation(method, url, headers);
    expect(op('GET', '/b?list-type=2&prefix=postgres%2F')).toEqual({
      operation: 'ListObjectsV2',
      actions: ['s3:ListBucket'],
    });
    expect(op('HEAD', '/b')).toEqual({ operation: 'HeadBucket', actions: ['s3:ListBucket'] });
    expect(op('HEAD', '/b/postgres/x.sql.gz')).toEqual({
      operation: 'HeadObject',
      actions: ['s3:GetObject'],
    });
    expect(op('GET', '/b/postgres/x.sql.gz')).toEqual({ operation: 'GetObject', actions: ['s3:GetObject'] });
    expect(op('PUT', '/b/postgres/x.sql.gz')).toEqual({ operation: 'PutObject', actions: ['s3:PutObject'] });
    expect(op('PUT', '/b/k', { 'x-amz-copy-source': '/b/.partial/k' }).actions).toEqual([
      's3:GetObject',
      's3:PutObject',
    ]);
    expect(op('POST', '/b/k?uploads')).toEqual({
      operation: 'CreateMultipartUpload',
      actions: ['s3:PutObject'],
    });
    expect(op('PUT', '/b/k?partNumber=1&uploadId=u').operation).toBe('UploadPart');
    expect(op('POST', '/b/k?uploadId=u').operation).toBe('CompleteMultipartUpload');
    expect(op('DELETE', '/b/k')).toEqual({ operation: 'DeleteObject', actions: ['s3:DeleteObject'] });
    expect(op('DELETE', '/b/k?uploadId=u').actions).toEqual(['s3:AbortMultipartUpload']);
  });
});
