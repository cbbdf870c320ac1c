import type * as ClientNode from '@kubernetes/client-node';
import { closeSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Writable } from 'node:stream';
import { RunbookError } from '../runbook/errors.js';
import { MAX_KUBECONFIG_BYTES, openBounded } from './bounded-file.js';
import { isNotFound, toKubeError } from './kube-errors.js';
import type { AccessQuery, KubeAdapter, KubeObject, KubeRef, KubeTarget, Recorder } from './types.js';

export const FIELD_MANAGER = 'db-runbook';

export interface KubeAdapterOptions {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  record: Recorder;
}

/** Plural resource path for journaling: core kinds we touch, others lower-cased + s. */
function plural(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('s')) return `${lower}es`;
  return `${lower}s`;
}

function objectPath(ref: KubeRef): string {
  const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const ns = ref.namespace ? `/namespaces/${ref.namespace}` : '';
  return `${base}${ns}/${plural(ref.kind)}/${ref.name}`;
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? (apiVersion.split('/')[0] ?? '') : '';
}

/** Builds the Kubernetes adapter. @kubernetes/client-node is imported here, on first use. */
export async function createKubeAdapter(options: KubeAdapterOptions): Promise<KubeAdapter> {
  const k8s: typeof ClientNode = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  try {
    // a FIFO or /dev/zero named as the kubeconfig would block or never end: check each file first
    const files = options.kubeconfig
      ? [options.kubeconfig]
      : (process.env.KUBECONFIG?.split(delimiter).filter(Boolean) ?? []);
    for (const file of files)
      if (existsSync(file)) closeSync(openBounded(file, 'the kubeconfig', MAX_KUBECONFIG_BYTES).fd);
    // Without any kubeconfig the client falls back to http://localhost:8080 and fails much later with
    // "HTTP protocol is not allowed when skipTLSVerify is not set": say what is missing instead.
    const home = join(homedir(), '.kube', 'config');
    if (
      !options.kubeconfig &&
      !files.some((file) => existsSync(file)) &&
      (files.length > 0 || !existsSync(home)) &&
      !process.env.KUBERNETES_SERVICE_HOST
    )
      throw new RunbookError(
        `no Kubernetes cluster to talk to: ${files.length ? `KUBECONFIG (${files.join(', ')}) names no file that exists` : 'KUBECONFIG is not set and ~/.kube/config does not exist'}, and this is not a pod in a cluster`,
        {
          exitCode: 2,
          code: 'no-cluster',
          next: 'Point KUBECONFIG or --kubeconfig at a kubeconfig (and --context to pick one), or start with --sandbox.',
        },
      );
    if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    if (error instanceof RunbookError) throw error;
    throw new RunbookError(`cannot read the kubeconfig: ${(error as Error).message}`, {
      exitCode: 2,
      next: 'Point --kubeconfig or KUBECONFIG at a valid file.',
    });
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      throw new RunbookError(`the kubeconfig has no context "${options.context}"`, {
        exitCode: 2,
        next: `List them with: kubectl config get-contexts${options.kubeconfig ? ` --kubeconfig ${options.kubeconfig}` : ''}`,
      });
    }
    kc.setCurrentContext(options.context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new RunbookError('the kubeconfig has no current cluster', {
      exitCode: 2,
      next: 'Choose one with --context, or: kubectl config use-context NAME',
    });
  }
  const target: KubeTarget = {
    context: kc.getCurrentContext(),
    server: cluster.server,
    namespace: options.namespace,
    user: kc.getCurrentUser()?.name,
  };
  const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  const version = kc.makeApiClient(k8s.VersionApi);

  async function call<T>(
    method: string,
    path: string,
    action: { verb: string; resource: string; name?: string },
    fn: () => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    const recordAs = (status: string | number) =>
      options.record({
        type: 'api',
        service: 'kubernetes',
        method,
        path,
        object: action.name,
        status,
        ms: Date.now() - started,
      });
    try {
      const result = await fn();
      recordAs('ok');
      return result;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      recordAs(typeof code === 'number' || typeof code === 'string' ? code : 'error');
      throw error;
    }
  }

  function resourceOf(ref: { apiVersion: string; kind: string }): string {
    const group = groupOf(ref.apiVersion);
    return group ? `${group}/${plural(ref.kind)}` : plural(ref.kind);
  }

  return {
    target,
    async serverVersion() {
      try {
        const info = await call('GET', '/version', { verb: 'get', resource: 'version' }, () =>
          version.getCode(),
        );
        return info.gitVersion;
      } catch (error) {
        throw toKubeError(error, target, { verb: 'get', resource: 'version' });
      }
    },
    async namespaceExists(name) {
      try {
        await call('GET', `/api/v1/namespaces/${name}`, { verb: 'get', resource: 'namespaces', name }, () =>
          core.readNamespace({ name }),
        );
        return true;
      } catch (error) {
        if (isNotFound(error)) return false;
        // Not allowed to read namespaces is common for namespace-scoped users: fall back to a namespaced list.
        if ((error as { code?: number }).code === 403) {
          try {
            await call(
              'GET',
              `/api/v1/namespaces/${name}/configmaps`,
              { verb: 'list', resource: 'configmaps' },
              () => core.listNamespacedConfigMap({ namespace: name, limit: 1 }),
            );
            return true;
          } catch (inner) {
            if (isNotFound(inner)) return false;
            throw toKubeError(inner, target, { verb: 'list', resource: 'configmaps' });
          }
        }
        throw toKubeError(error, target, { verb: 'get', resource: 'namespaces', name });
      }
    },
    async canI(query: AccessQuery) {
      const resourceAttributes = {
        namespace: query.namespace ?? options.namespace,
        verb: query.verb,
        group: query.group ?? '',
        resource: query.resource,
        subresource: query.subresource,
        name: query.name,
      };
      try {
        const review = await call(
          'POST',
          '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
          { verb: 'create', resource: 'selfsubjectaccessreviews', name: `${query.verb} ${query.resource}` },
          () =>
            authz.createSelfSubjectAccessReview({
              body: {
                apiVersion: 'authorization.k8s.io/v1',
                kind: 'SelfSubjectAccessReview',
                spec: { resourceAttributes },
              },
            }),
        );
        return { allowed: review.status?.allowed === true, reason: review.status?.reason };
      } catch (error) {
        throw toKubeError(error, target, { verb: 'create', resource: 'selfsubjectaccessreviews' });
      }
    },
    async get(ref) {
      try {
        return (await call(
          'GET',
          objectPath(ref),
          { verb: 'get', resource: plural(ref.kind), name: ref.name },
          () =>
            objects.read({
              apiVersion: ref.apiVersion,
              kind: ref.kind,
              metadata: { name: ref.name, namespace: ref.namespace },
            }),
        )) as unknown as KubeObject;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw toKubeError(error, target, { verb: 'get', resource: resourceOf(ref), name: ref.name });
      }
    },
    async list(apiVersion, kind, namespace, labelSelector) {
      const path = objectPath({ apiVersion, kind, name: '', namespace }).replace(/\/$/, '');
      try {
        const result = await call('GET', path, { verb: 'list', resource: plural(kind) }, () =>
          objects.list(
            apiVersion,
            kind,
            namespace,
            undefined,
            undefined,
            undefined,
            undefined,
            labelSelector,
          ),
        );
        return result.items as unknown as KubeObject[];
      } catch (error) {
        throw toKubeError(error, target, { verb: 'list', resource: resourceOf({ apiVersion, kind }) });
      }
    },
    async apply(object, applyOptions = {}) {
      const ref = { ...object, name: object.metadata.name, namespace: object.metadata.namespace };
      const manager = applyOptions.fieldManager ?? FIELD_MANAGER;
      try {
        return (await call(
          'PATCH',
          `${objectPath(ref)}?fieldManager=${manager}${applyOptions.dryRun ? '&dryRun=All' : ''}${applyOptions.force ? '&force=true' : ''}`,
          { verb: 'patch', resource: plural(object.kind), name: object.metadata.name },
          () =>
            objects.patch(
              object as never,
              undefined,
              applyOptions.dryRun ? 'All' : undefined,
              manager,
              applyOptions.force ?? false,
              k8s.PatchStrategy.ServerSideApply,
            ),
        )) as unknown as KubeObject;
      } catch (error) {
        throw toKubeError(error, target, {
          verb: 'patch',
          resource: resourceOf(object),
          name: object.metadata.name,
        });
      }
    },
    async create(object, createOptions = {}) {
      const ref = { ...object, name: '', namespace: object.metadata.namespace };
      try {
        return (await call(
          'POST',
          objectPath(ref).replace(/\/$/, ''),
          { verb: 'create', resource: plural(object.kind), name: object.metadata.name },
          () =>
            objects.create(
              object as never,
              undefined,
              createOptions.dryRun ? 'All' : undefined,
              FIELD_MANAGER,
            ),
        )) as unknown as KubeObject;
      } catch (error) {
        throw toKubeError(error, target, {
          verb: 'create',
          resource: resourceOf(object),
          name: object.metadata.name,
        });
      }
    },
    async scale(ref, replicas) {
      const namespace = ref.namespace ?? target.namespace;
      const path = `/apis/apps/v1/namespaces/${namespace}/statefulsets/${ref.name}/scale`;
      const apps = kc.makeApiClient(k8s.AppsV1Api);
      try {
        await call('PATCH', path, { verb: 'patch', resource: 'statefulsets/scale', name: ref.name }, () =>
          apps.patchNamespacedStatefulSetScale(
            { name: ref.name, namespace, body: { spec: { replicas } } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          ),
        );
      } catch (error) {
        throw toKubeError(error, target, { verb: 'patch', resource: 'statefulsets/scale', name: ref.name });
      }
    },
    async delete(ref, deleteOptions = {}) {
      try {
        await call(
          'DELETE',
          objectPath(ref),
          { verb: 'delete', resource: plural(ref.kind), name: ref.name },
          () =>
            objects.delete(
              {
                apiVersion: ref.apiVersion,
                kind: ref.kind,
                metadata: { name: ref.name, namespace: ref.namespace },
              },
              undefined,
              undefined,
              undefined,
              undefined,
              deleteOptions.propagationPolicy,
            ),
        );
      } catch (error) {
        if (isNotFound(error)) return;
        throw toKubeError(error, target, { verb: 'delete', resource: resourceOf(ref), name: ref.name });
      }
    },
    async podLog(namespace, pod, logOptions) {
      const chunks: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          const text = chunk.toString('utf8');
          chunks.push(text);
          logOptions.onText?.(text);
          callback();
        },
      });
      const path = `/api/v1/namespaces/${namespace}/pods/${pod}/log`;
      options.record({ type: 'api', service: 'kubernetes', method: 'GET', path, object: pod });
      const log = new k8s.Log(kc);
      await new Promise<void>((resolve, reject) => {
        let controller: AbortController | undefined;
        const finish = () => {
          logOptions.signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          controller?.abort();
          finish();
        };
        logOptions.signal?.addEventListener('abort', onAbort, { once: true });
        // client-node 1.4 pipes the response into the sink and ends it; its `done` callback is not always called.
        sink.once('finish', finish);
        log
          .log(
            namespace,
            pod,
            '',
            sink,
            (error: unknown) => {
              if (error && !logOptions.signal?.aborted)
                reject(toKubeError(error, target, { verb: 'get', resource: 'pods/log', name: pod }));
              else finish();
            },
            { follow: logOptions.follow ?? false, tailLines: logOptions.tailLines },
          )
          .then((c) => {
            controller = c;
          })
          .catch((error: unknown) =>
            reject(toKubeError(error, target, { verb: 'get', resource: 'pods/log', name: pod })),
          );
      });
      return chunks.join('');
    },
  };
}
