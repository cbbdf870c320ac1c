/**
 * A minimal OpenAPI v3 discovery: /openapi/v3 lists each group/version, and each group/version
 * document carries the item path of every resource with its operations, their
 * x-kubernetes-group-version-kind and query parameters. That is what kubectl reads to learn that the
 * server validates fields itself (fieldValidation), so `kubectl apply`/`create` skip client-side
 * schema validation. No schemas are served (`kubectl explain` will not work).
 */

import { groupVersion, KUBE_VERSION, RESOURCES } from './resources.js';
import type { ResourceDef } from './resources.js';

const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'pretty'];

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function param(name: string): Record<string, unknown> {
  return { name, in: 'query', schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true } };
}

function operation(def: ResourceDef, id: string, params: string[]): Record<string, unknown> {
  return {
    operationId: id,
    parameters: params.map(param),
    responses: { '200': { description: 'OK' } },
    'x-kubernetes-action': id.startsWith('patch')
      ? 'patch'
      : id.startsWith('create')
        ? 'post'
        : id.startsWith('read')
          ? 'get'
          : 'put',
    'x-kubernetes-group-version-kind': { group: def.group, version: def.version, kind: def.kind },
  };
}

function documentFor(group: string, version: string): Record<string, unknown> | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (defs.length === 0) return undefined;
  const paths: Record<string, unknown> = {};
  for (const def of defs) {
    const base = `/${gvPath(group, version)}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.plural}`;
    paths[base] = { post: operation(def, `create${def.kind}`, WRITE_PARAMS) };
    if (def.verbs.includes('get')) {
      paths[`${base}/{name}`] = {
        get: operation(def, `read${def.kind}`, ['pretty']),
        put: operation(def, `replace${def.kind}`, WRITE_PARAMS),
        patch: operation(def, `patch${def.kind}`, [...WRITE_PARAMS, 'force']),
      };
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
    paths,
    components: {},
  };
}

/** The document at an /openapi/... path, undefined when there is none (v2 is not served). */
export function openApiDocument(path: string): unknown {
  if (path === '/openapi/v3') {
    const paths: Record<string, unknown> = {};
    const gvs = new Set(RESOURCES.map((r) => groupVersion(r)));
    for (const def of RESOURCES) {
      if (!gvs.delete(groupVersion(def))) continue;
      const p = gvPath(def.group, def.version);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${KUBE_VERSION.gitVersion}` };
    }
    return { paths };
  }
  const match = /^\/openapi\/v3\/(?:api\/([^/]+)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!match) return undefined;
  return match[1] ? documentFor('', match[1]) : documentFor(match[2] ?? '', match[3] ?? '');
}
