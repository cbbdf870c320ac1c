/**
 * Resource requests: resolve the resource, authorize, and run the verb against the registry
 * (plus SelfSubjectAccessReview, watches and pod logs). Answers are written by the caller.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';

import { reviewAccess } from './access.js';
import type { AccessPolicy, RequestAttributes } from './access.js';
import type { Kubelet } from './kubelet.js';
import { formatLine } from '../cluster/pod-log.js';
import type { LogQuery } from '../cluster/pod-log.js';
import type { DeleteOptions, Registry } from './registry.js';
import { findResource } from './resources.js';
import type { ResourceDef } from './resources.js';
import { decodeObject, decodePatch, defaultFieldManager, mediaType, readBody, verbOf } from './request.js';
import type { RequestInfo } from './request.js';
import { badRequest, methodNotAllowed, resourceNotFound } from './status.js';
import { toTable, wantsTable } from './table.js';
import { asArray, dig, isPlainObject } from './types.js';
import type { KubeObject } from './types.js';
import { serveWatch } from './watch.js';

export interface HandlerContext {
  registry: Registry;
  policy: AccessPolicy;
  kubelet: Kubelet;
  /** Ends long-running responses (watches, followed logs) at stop(). */
  streams: Set<() => void>;
}

/** What the handler answered: a JSON body with a status, or `streaming` when it writes itself. */
export type Answer = { status: number; body: unknown } | { streaming: true };

function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw badRequest(`invalid ${name}: ${raw}`);
  return value;
}

function dryRunOf(query: URLSearchParams): boolean {
  const values = query.getAll('dryRun').filter((v) => v !== '');
  if (values.some((v) => v !== 'All')) {
    throw badRequest(
      `dryRun: Unsupported value: "${values.find((v) => v !== 'All') ?? ''}": supported values: "All"`,
    );
  }
  return values.length > 0;
}

function resolve(info: RequestInfo, verb: string): ResourceDef {
  const def = findResource(info.group, info.version, info.resource);
  if (!def) throw resourceNotFound();
  if (!def.namespaced && info.namespace && def.plural !== 'namespaces') throw resourceNotFound();
  if (def.namespaced && !info.namespace && verb !== 'list' && verb !== 'watch') throw resourceNotFound();
  if (info.subresource) {
    const verbs = def.subresources[info.subresource];
    if (!verbs) throw resourceNotFound();
    if (!verbs.includes(verb)) throw methodNotAllowed();
  } else if (!def.verbs.includes(verb)) {
    throw methodNotAllowed();
  }
  return def;
}

export async function handleResource(
  ctx: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  info: RequestInfo,
  query: URLSearchParams,
): Promise<Answer> {
  const method = req.method ?? 'GET';
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  const verb = verbOf(method, info, watch);
  if (method === 'POST' && info.name) throw methodNotAllowed();
  const def = resolve(info, verb);
  const namespace = def.plural === 'namespaces' ? '' : info.namespace;
  const attrs: RequestAttributes = {
    verb,
    group: def.group,
    resource: def.plural,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
  };
  const denied = ctx.policy.check(attrs);
  if (denied) throw denied;

  const fieldManager = query.get('fieldManager') ?? defaultFieldManager(req.headers['user-agent']);
  const table = wantsTable(req.headers.accept);
  const listOptions = {
    labelSelector: query.get('labelSelector') ?? undefined,
    fieldSelector: query.get('fieldSelector') ?? undefined,
  };

  switch (verb) {
    case 'get': {
      if (info.subresource === 'log') return serveLog(ctx, res, def, namespace, info.name, query);
      const obj = ctx.registry.get(def, namespace, info.name);
      return {
        status: 200,
        body: table ? toTable(def.plural, [obj], obj.metadata.resourceVersion ?? '') : obj,
      };
    }
    case 'list': {
      const list = ctx.registry.list(def, namespace, listOptions);
      const body = table
        ? toTable(def.plural, list.items as KubeObject[], String(list.metadata.resourceVersion))
        : list;
      return { status: 200, body };
    }
    case 'watch': {
      const end = serveWatch(res, ctx.registry.store, def, {
        namespace,
        ...listOptions,
        resourceVersion: query.get('resourceVersion') ?? undefined,
        timeoutSeconds: intParam(query, 'timeoutSeconds'),
      });
      ctx.streams.add(end);
      res.on('close', () => ctx.streams.delete(end));
      return { streaming: true };
    }
    case 'create': {
      const body = decodeObject(await readBody(req), req.headers['content-type']);
      if (def.plural === 'selfsubjectaccessreviews') {
        if (!isPlainObject(body)) throw badRequest('the object provided is unrecognized');
        const review = { ...body, metadata: isPlainObject(body.metadata) ? body.metadata : {} } as KubeObject;
        return { status: 201, body: reviewAccess(review, ctx.policy) };
      }
      const result = ctx.registry.create(def, namespace, body, { dryRun: dryRunOf(query), fieldManager });
      return { status: 201, body: result.object };
    }
    case 'update': {
      const body = decodeObject(await readBody(req), req.headers['content-type']);
      const result = ctx.registry.update(def, namespace, info.name, body, {
        dryRun: dryRunOf(query),
        fieldManager,
        subresource: info.subresource || undefined,
      });
      return { status: result.created ? 201 : 200, body: result.object };
    }
    case 'patch': {
      const patchType = mediaType(req.headers['content-type']);
      const body = decodePatch(await readBody(req), patchType);
      const force = query.get('force');
      const result = ctx.registry.patch(def, namespace, info.name, patchType, body, {
        dryRun: dryRunOf(query),
        fieldManager:
          query.get('fieldManager') ?? (patchType.startsWith('application/apply-patch') ? '' : fieldManager),
        force: force === null ? undefined : force === 'true',
        subresource: info.subresource || undefined,
        authorizeCreate: () => {
          const refused = ctx.policy.check({ ...attrs, verb: 'create' });
          if (refused) throw refused;
        },
      });
      return { status: result.created ? 201 : 200, body: result.object };
    }
    case 'delete':
    case 'deletecollection': {
      const options = await deleteOptions(req, query);
      if (verb === 'delete')
        return { status: 200, body: ctx.registry.delete(def, namespace, info.name, options) };
      return {
        status: 200,
        body: ctx.registry.deleteCollection(def, namespace, { ...options, ...listOptions }),
      };
    }
    default:
      throw methodNotAllowed();
  }
}

async function deleteOptions(req: IncomingMessage, query: URLSearchParams): Promise<DeleteOptions> {
  const raw = await readBody(req);
  const body = raw.toString('utf8').trim() ? decodeObject(raw, req.headers['content-type']) : {};
  const fromBody = isPlainObject(body) ? body : {};
  const policy =
    query.get('propagationPolicy') ??
    (typeof fromBody.propagationPolicy === 'string' ? fromBody.propagationPolicy : undefined);
  const orphan = query.get('orphanDependents') ?? fromBody.orphanDependents;
  const preconditions = isPlainObject(fromBody.preconditions) ? fromBody.preconditions : {};
  return {
    dryRun: dryRunOf(query) || asArray(fromBody.dryRun).includes('All'),
    propagationPolicy:
      policy ??
      (orphan === true || orphan === 'true'
        ? 'Orphan'
        : orphan === false || orphan === 'false'
          ? 'Background'
          : undefined),
    preconditions: {
      uid: typeof preconditions.uid === 'string' ? preconditions.uid : undefined,
      resourceVersion:
        typeof preconditions.resourceVersion === 'string' ? preconditions.resourceVersion : undefined,
    },
  };
}

function serveLog(
  ctx: HandlerContext,
  res: ServerResponse,
  def: ResourceDef,
  namespace: string,
  name: string,
  query: URLSearchParams,
): Answer {
  const pod = ctx.registry.get(def, namespace, name);
  const containers = asArray(dig(pod, 'spec', 'containers')).map((c) => String(dig(c, 'name') ?? ''));
  let container = query.get('container') ?? '';
  if (!container) {
    if (containers.length !== 1) {
      throw badRequest(
        `a container name must be specified for pod ${name}, choose one of: [${containers.join(' ')}]`,
      );
    }
    container = containers[0] ?? '';
  }
  if (!containers.includes(container))
    throw badRequest(`container ${container} is not valid for pod ${name}`);
  if (query.get('previous') === 'true') {
    throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
  }
  const log = container === containers[0] ? ctx.kubelet.log(pod.metadata.uid ?? '') : undefined;
  if (!log) {
    const waiting = asArray(dig(pod, 'status', 'containerStatuses'))
      .map((s) => dig(s, 'state', 'waiting', 'reason'))
      .find((r) => typeof r === 'string');
    throw badRequest(
      `container "${container}" in pod "${name}" is waiting to start: ${String(waiting ?? 'ContainerCreating')}`,
    );
  }
  const logQuery: LogQuery = {
    tailLines: intParam(query, 'tailLines'),
    timestamps: query.get('timestamps') === 'true',
    sinceSeconds: intParam(query, 'sinceSeconds'),
    sinceTime: query.get('sinceTime') ?? undefined,
    limitBytes: intParam(query, 'limitBytes'),
  };
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  res.flushHeaders();
  let budget = logQuery.limitBytes ?? Number.POSITIVE_INFINITY;
  let finished = false;
  const write = (text: string): void => {
    if (finished) return;
    const bytes = Buffer.from(text);
    if (bytes.length >= budget) {
      res.write(bytes.subarray(0, budget));
      budget = 0;
      end();
      return;
    }
    budget -= bytes.length;
    res.write(bytes);
  };
  let unfollow = (): void => undefined;
  const end = (): void => {
    if (finished) return;
    finished = true;
    unfollow();
    ctx.streams.delete(end);
    res.end();
  };
  for (const line of log.select(logQuery)) write(formatLine(line, logQuery.timestamps));
  if (query.get('follow') === 'true' && !finished) {
    ctx.streams.add(end);
    res.on('close', end);
    unfollow = log.follow((line) => write(formatLine(line, logQuery.timestamps)), end);
  } else {
    end();
  }
  return { streaming: true };
}
