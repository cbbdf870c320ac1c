import { RunbookError } from '../runbook/errors.js';
import type { KubeTarget } from './types.js';

interface StatusBody {
  kind?: string;
  reason?: string;
  message?: string;
  code?: number;
  details?: { name?: string; kind?: string; group?: string; causes?: { field?: string; message?: string }[] };
}

export function parseStatusBody(body: unknown): StatusBody | undefined {
  if (typeof body === 'string') {
    try {
      return JSON.parse(body) as StatusBody;
    } catch {
      return undefined;
    }
  }
  return body && typeof body === 'object' ? (body as StatusBody) : undefined;
}

/** The Kubernetes reason of an ApiException-like error (Forbidden, NotFound, AlreadyExists, Conflict, Invalid…). */
export function kubeReason(error: unknown): string | undefined {
  const candidate = error as { code?: number; body?: unknown };
  return parseStatusBody(candidate?.body)?.reason;
}

export function isNotFound(error: unknown): boolean {
  return (error as { code?: number })?.code === 404;
}

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Turns what @kubernetes/client-node throws into an error that says what to do:
 * Forbidden names the verb/resource and the RBAC rule; Invalid the field; connection failures the server.
 */
export function toKubeError(
  error: unknown,
  target: KubeTarget,
  action: { verb: string; resource: string; name?: string },
): RunbookError {
  const status = parseStatusBody((error as { body?: unknown })?.body);
  const httpCode = (error as { code?: unknown })?.code;
  const where = `namespace "${target.namespace}"`;
  if (typeof httpCode === 'number' && status) {
    const reason = status.reason ?? String(httpCode);
    switch (reason) {
      case 'Forbidden': {
        const group = action.resource.includes('/') ? action.resource.split('/')[0] : '';
        const resource = action.resource.split('/').pop() ?? action.resource;
        return new RunbookError(
          `Forbidden: cannot ${action.verb} ${resource} in ${where} (${status.message ?? ''})`,
          {
            code: 'Forbidden',
            next: `Grant it with an RBAC Role rule: apiGroups: ["${group}"], resources: ["${resource}"], verbs: ["${action.verb}"] — check with: kubectl auth can-i ${action.verb} ${action.resource} -n ${target.namespace}`,
          },
        );
      }
      case 'Invalid': {
        const fields = (status.details?.causes ?? []).map(
          (cause) => `${cause.field ?? '?'}: ${cause.message ?? ''}`,
        );
        return new RunbookError(
          `Invalid ${action.resource} ${action.name ?? ''}: ${fields.join('; ') || status.message}`,
          {
            code: 'Invalid',
            next: 'Correct the field named above and run the step again.',
          },
        );
      }
      case 'Unauthorized':
        return new RunbookError(
          `Unauthorized by the API server ${target.server} (context ${target.context})`,
          {
            code: 'Unauthorized',
            next: 'Refresh your credentials (e.g. log in to the cluster again), then check with: kubectl get ns',
          },
        );
      default:
        return new RunbookError(`${reason}: ${status.message ?? `HTTP ${httpCode}`}`, { code: reason });
    }
  }
  const net = networkCode(error);
  if (net && /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN/.test(net)) {
    return new RunbookError(
      `cannot reach the Kubernetes API server ${target.server} (context ${target.context}): ${net}`,
      {
        code: 'Unreachable',
        next: 'Check the context (kubectl config current-context, or --context) and your network/VPN.',
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RunbookError(`Kubernetes request failed (${action.verb} ${action.resource}): ${message}`);
}
