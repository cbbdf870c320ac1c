/**
 * The kubelet's log endpoint: GET /containerLogs/{namespace}/{pod}/{container} over HTTPS, with follow,
 * tailLines, timestamps, sinceSeconds, sinceTime and limitBytes, as the apiserver calls it for
 * `pods/log` (it does not verify this certificate unless --kubelet-certificate-authority is set).
 */

import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

import { formatLine, type LogQuery, type PodLog } from './pod-log.js';

export interface LogServer {
  port: number;
  close(): Promise<void>;
}

export async function serveContainerLogs(
  tls: { cert: string; key: string },
  find: (namespace: string, pod: string) => PodLog | undefined,
): Promise<LogServer> {
  const server: Server = createServer({ cert: tls.cert, key: tls.key }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://kubelet');
    const match = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
    if (request.method !== 'GET' || !match) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const log = find(decodeURIComponent(match[1]!), decodeURIComponent(match[2]!));
    if (!log) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('container not started\n');
      return;
    }
    const number = (name: string): number | undefined => {
      const value = url.searchParams.get(name);
      return value !== null && /^\d+$/.test(value) ? Number(value) : undefined;
    };
    const query: LogQuery = {
      tailLines: number('tailLines'),
      sinceSeconds: number('sinceSeconds'),
      sinceTime: url.searchParams.get('sinceTime') ?? undefined,
      limitBytes: number('limitBytes'),
    };
    const timestamps = url.searchParams.get('timestamps') === 'true';
    let budget = query.limitBytes ?? Infinity;
    response.writeHead(200, { 'content-type': 'text/plain' });
    const send = (text: string): boolean => {
      if (budget <= 0) return false;
      const bytes = Buffer.from(text);
      const piece = bytes.length > budget ? bytes.subarray(0, budget) : bytes;
      budget -= piece.length;
      response.write(piece);
      return budget > 0;
    };
    for (const line of log.select(query)) if (!send(formatLine(line, timestamps))) return void response.end();
    if (url.searchParams.get('follow') !== 'true') return void response.end();
    const unfollow = log.follow(
      (line) => {
        if (!send(formatLine(line, timestamps))) {
          unfollow();
          response.end();
        }
      },
      () => response.end(),
    );
    request.on('close', unfollow);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
