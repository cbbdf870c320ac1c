/**
 * A front for s3rver that answers 403 AccessDenied — the XML S3 sends — for the IAM actions it is told
 * to deny, as an S3 bucket policy would (s3rver itself has no policies). Every other request is passed
 * through unchanged, Host header included, so SigV4 signatures made for the front's address still verify.
 * Used by the sandbox fault `s3-deny=s3:PutObject` and by tests that flip actions at run time.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface S3DenyProxy {
  /** http://127.0.0.1:PORT — use it as AWS_ENDPOINT_URL. */
  endpoint: string;
  deny(action: string): void;
  allow(action: string): void;
  /** The operations refused so far, e.g. `PutObject (s3:PutObject)`. */
  refused: readonly string[];
  stop(): Promise<void>;
}

/** The S3 operation of a path-style request and the IAM actions it needs. */
export function s3Operation(
  method: string,
  url: string,
  headers: IncomingMessage['headers'],
): { operation: string; actions: string[] } {
  const parsed = new URL(url, 'http://s3.local');
  const [, , ...rest] = parsed.pathname.split('/');
  const hasKey = rest.join('/') !== '';
  const query = parsed.searchParams;
  switch (method) {
    case 'GET':
      return hasKey
        ? { operation: 'GetObject', actions: ['s3:GetObject'] }
        : {
            operation: query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects',
            actions: ['s3:ListBucket'],
          };
    case 'HEAD':
      return hasKey
        ? { operation: 'HeadObject', actions: ['s3:GetObject'] }
        : { operation: 'HeadBucket', actions: ['s3:ListBucket'] };
    case 'PUT':
      if (!hasKey) return { operation: 'CreateBucket', actions: ['s3:CreateBucket'] };
      if (headers['x-amz-copy-source'])
        return { operation: 'CopyObject', actions: ['s3:GetObject', 's3:PutObject'] };
      if (query.has('uploadId')) return { operation: 'UploadPart', actions: ['s3:PutObject'] };
      return { operation: 'PutObject', actions: ['s3:PutObject'] };
    case 'POST':
      if (query.has('uploads')) return { operation: 'CreateMultipartUpload', actions: ['s3:PutObject'] };
      if (query.has('uploadId')) return { operation: 'CompleteMultipartUpload', actions: ['s3:PutObject'] };
      if (query.has('delete')) return { operation: 'DeleteObjects', actions: ['s3:DeleteObject'] };
      return { operation: 'PostObject', actions: ['s3:PutObject'] };
    case 'DELETE':
      if (!hasKey) return { operation: 'DeleteBucket', actions: ['s3:DeleteBucket'] };
      if (query.has('uploadId'))
        return { operation: 'AbortMultipartUpload', actions: ['s3:AbortMultipartUpload'] };
      return { operation: 'DeleteObject', actions: ['s3:DeleteObject'] };
    default:
      return { operation: method, actions: [] };
  }
}

function accessDenied(res: ServerResponse, method: string): void {
  const id = randomBytes(8).toString('hex').toUpperCase();
  const body =
    method === 'HEAD'
      ? ''
      : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>${id}</RequestId></Error>`;
  res.writeHead(403, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': id,
  });
  res.end(body);
}

export async function startS3DenyProxy(options: {
  upstream: string;
  denied?: Iterable<string>;
}): Promise<S3DenyProxy> {
  const upstream = new URL(options.upstream);
  const denied = new Set(options.denied ?? []);
  const refused: string[] = [];
  const server = createServer((req, res) => {
    const { operation, actions } = s3Operation(req.method ?? 'GET', req.url ?? '/', req.headers);
    const blocked = actions.filter((action) => denied.has(action));
    if (blocked.length > 0) {
      refused.push(`${operation} (${blocked.join(', ')})`);
      req.resume();
      req.once('end', () => accessDenied(res, req.method ?? 'GET'));
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    deny: (action) => void denied.add(action),
    allow: (action) => void denied.delete(action),
    refused,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
