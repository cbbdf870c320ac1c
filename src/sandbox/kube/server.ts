/**
 * The HTTP side: node:http on 127.0.0.1, bearer-token authentication, the audit log, discovery and
 * OpenAPI documents, and routing of resource paths to the handlers; errors become Status bodies.
 */

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

import { handleResource } from './handlers.js';
import type { HandlerContext } from './handlers.js';
import { openApiDocument } from './openapi.js';
import { parseResourcePath } from './request.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './resources.js';
import { internalError, resourceNotFound, StatusError, unauthorized } from './status.js';
import type { TlsMaterial } from './tls.js';

export interface AuditEntry {
  method: string;
  path: string;
  contentType?: string;
  fieldManager?: string;
  status: number;
}

export interface ApiServerOptions extends HandlerContext {
  token: string;
  audit: AuditEntry[];
  /** Serve HTTPS with this key and certificate; plain HTTP without. */
  tls?: TlsMaterial;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: StatusError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, err.code, err.toBody());
}

export class ApiServer {
  private readonly server: Server;
  private address = '';

  constructor(private readonly options: ApiServerOptions) {
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      this.audit(req, res);
      this.handle(req, res).catch((err: unknown) => {
        sendError(res, err instanceof StatusError ? err : internalError(err));
      });
    };
    this.server = options.tls
      ? createTlsServer({ key: options.tls.key, cert: options.tls.cert }, listener)
      : createServer(listener);
    this.server.keepAliveTimeout = 5000;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.address = `127.0.0.1:${port}`;
    return `${this.options.tls ? 'https' : 'http'}://${this.address}`;
  }

  async close(): Promise<void> {
    for (const end of [...this.options.streams]) end();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private audit(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry: AuditEntry = { method: req.method ?? 'GET', path: url.pathname, status: 0 };
    const contentType = req.headers['content-type'];
    if (contentType) entry.contentType = contentType;
    const fieldManager = url.searchParams.get('fieldManager');
    if (fieldManager) entry.fieldManager = fieldManager;
    let recorded = false;
    const record = (): void => {
      if (recorded) return;
      recorded = true;
      entry.status = res.statusCode;
      this.options.audit.push(entry);
    };
    res.on('finish', record);
    res.on('close', record);
  }

  private authenticated(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    return header === `Bearer ${this.options.token}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.authenticated(req)) throw unauthorized();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const discovery = this.discovery(path, req.method ?? 'GET');
    if (discovery !== undefined) {
      sendJson(res, 200, discovery);
      return;
    }
    if (['/healthz', '/livez', '/readyz'].includes(path)) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    const info = parseResourcePath(path);
    if (!info) {
      if (path.startsWith('/api')) throw resourceNotFound();
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('404 page not found\n');
      return;
    }
    const answer = await handleResource(this.options, req, res, info, url.searchParams);
    if ('status' in answer) sendJson(res, answer.status, answer.body);
  }

  /** The discovery and OpenAPI documents (GET only), undefined for other paths. */
  private discovery(path: string, method: string): unknown {
    if (method !== 'GET') return undefined;
    if (path === '/version') return versionInfo();
    if (path === '/api') return apiVersions(this.address);
    if (path === '/apis') return apiGroupList();
    if (path.startsWith('/openapi/')) return openApiDocument(path);
    const parts = path.split('/').filter(Boolean);
    if (parts[0] === 'api' && parts.length === 2) return apiResourceList('', parts[1] ?? '');
    if (parts[0] === 'apis' && parts.length === 2) return apiGroup(parts[1] ?? '');
    if (parts[0] === 'apis' && parts.length === 3) return apiResourceList(parts[1] ?? '', parts[2] ?? '');
    return undefined;
  }
}
