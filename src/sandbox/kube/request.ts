/**
 * Request decoding: the API path into RequestInfo (as k8s.io/apiserver's RequestInfoFactory does),
 * the verb, and bodies (JSON, YAML, the patch types) with the API server's 400/413/415 answers.
 */

import type { IncomingMessage } from 'node:http';

import { parse as parseYaml } from 'yaml';

import { decodeProtobufObject, isProtobuf } from './protobuf.js';
import { PATCH_TYPES } from './registry.js';
import { badRequest, StatusError } from './status.js';

export interface RequestInfo {
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
}

/** Parses /api/v1/... and /apis/<group>/<version>/...; undefined for anything else or a bare group/version. */
export function parseResourcePath(pathname: string): RequestInfo | undefined {
  const parts = pathname
    .split('/')
    .filter((p) => p.length > 0)
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1] ?? '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] ?? '';
    version = parts[2] ?? '';
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] ?? '';
    if (rest.length > 2 && rest[2] !== 'status' && rest[2] !== 'finalize') rest = rest.slice(2);
  }
  if (rest.length > 3) return undefined;
  return {
    group,
    version,
    namespace,
    resource: rest[0] ?? '',
    name: rest[1] ?? '',
    subresource: rest[2] ?? '',
  };
}

export function verbOf(method: string, info: RequestInfo, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return info.name ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return info.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

const MAX_BODY = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw new StatusError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

function parseYamlBody(text: string): unknown {
  try {
    return parseYaml(text) as unknown;
  } catch (err) {
    throw badRequest(`error decoding YAML: ${(err as Error).message}`);
  }
}

/** Decodes a POST/PUT body (JSON, YAML or Kubernetes protobuf). */
export function decodeObject(body: Buffer, contentType: string | undefined): unknown {
  const type = mediaType(contentType);
  if (isProtobuf(type)) return decodeProtobufObject(body);
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the body of the request was empty');
  if (type === '' || type === 'application/json' || type === '*/*') return parseJson(text);
  if (type === 'application/yaml' || type === 'application/x-yaml') return parseYamlBody(text);
  throw new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`,
  );
}

/** Decodes a PATCH body according to its patch type. */
export function decodePatch(body: Buffer, patchType: string): unknown {
  const text = body.toString('utf8');
  if (patchType === PATCH_TYPES.apply) return parseYamlBody(text);
  if (Object.values(PATCH_TYPES).includes(patchType as never)) return parseJson(text);
  throw new StatusError(
    415,
    'UnsupportedMediaType',
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json',
  );
}

/** The manager of a non-apply write without ?fieldManager: the User-Agent's first token, as the API server does. */
export function defaultFieldManager(userAgent: string | undefined): string {
  const prefix = (userAgent ?? '').split('/')[0]?.trim() ?? '';
  return prefix.length > 0 ? prefix.slice(0, 128) : 'unknown';
}
