/**
 * Applying Kubernetes objects the way configure and deploy do: a live preview (create / update / unchanged,
 * other field managers), the gate that names them, server-side apply, and errors explained.
 */
import {
  describeConflicts,
  describeDiff,
  diffObject,
  MANAGED_BY_LABEL,
  managersInConflictMessage,
  type ObjectDiff,
  RUNBOOK_MANAGER,
} from '../../runbook/k8s-objects.js';
import { isSecret, MASK, type Values } from '../../runbook/values.js';
import { shellQuote } from '../../runbook/plan.js';
import type { Adapters, KubeAdapter } from '../../adapters/types.js';
import type { KubeObject } from '../../runbook/kube-object.js';
import type { Check, Gate, Preview, StepContext } from '../../runbook/step.js';
import { RunbookError } from '../../runbook/errors.js';

/** The namespace plans show: the one given on the command line when the CLI passes it. */
export function planNamespace(options: { readonly namespace?: string }): string {
  const namespace = options.namespace;
  return typeof namespace === 'string' && namespace !== '' ? namespace : '"$NAMESPACE"';
}

export const LABEL_STAGE = `kubectl label --local -f - -o yaml ${MANAGED_BY_LABEL}=${RUNBOOK_MANAGER}`;

export const APPLY_STAGE = `kubectl apply --server-side --field-manager=${RUNBOOK_MANAGER} -f -`;

/** `kubectl create … --dry-run=client -o yaml | kubectl label … | kubectl apply --server-side …`, one flag a line. */
export function createApplyCommand(create: string[], flags: string[]): string {
  return [
    `${create.join(' ')} \\`,
    ...flags.map((flag) => `  ${flag} \\`),
    '  --dry-run=client -o yaml \\',
    `  | ${LABEL_STAGE} \\`,
    `  | ${APPLY_STAGE}`,
  ].join('\n');
}

/** `--from-literal=NAME=value`, secrets masked, unset values as "$NAME". */
export function literalFlag(name: string, values: Values): string {
  if (isSecret(name)) return `--from-literal=${name}=${MASK}`;
  const value = values.get(name);
  if (value === undefined) return `--from-literal=${name}="$${name}"`;
  return shellQuote(`--from-literal=${name}=${value}`);
}

/** A summary of one object's preview, kept in Preview.data: names and key names only, never values. */
export interface ObjectPreview {
  kind: string;
  name: string;
  action: ObjectDiff['action'];
  line: string;
  changedKeys: string[];
  removedKeys: string[];
  otherManagers: string[];
  conflicts: ObjectDiff['conflicts'];
}

export function summarize(diff: ObjectDiff): ObjectPreview {
  return {
    kind: diff.kind,
    name: diff.name,
    action: diff.action,
    line: describeDiff(diff),
    changedKeys: diff.changedKeys,
    removedKeys: diff.removedKeys,
    otherManagers: diff.otherManagers,
    conflicts: diff.conflicts,
  };
}

/** Reads each object and compares it with what would be applied. Reads only. */
export async function inspectObjects(
  kube: KubeAdapter,
  desired: readonly KubeObject[],
): Promise<ObjectPreview[]> {
  return Promise.all(
    desired.map(async (object) => {
      const live = await kube.get({
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
      });
      return summarize(diffObject(object, live));
    }),
  );
}

/** Preview lines: `Secret database-backup-storage: create (keys …)`, plus who else manages it. */
export function previewLinesFor(objects: readonly ObjectPreview[], namespace: string): string[] {
  const lines: string[] = [];
  for (const object of objects) {
    lines.push(`${object.kind} ${namespace}/${object.name}: ${object.line}`);
    const conflicts = describeConflicts({ conflicts: object.conflicts } as ObjectDiff);
    if (conflicts) {
      lines.push(
        `  managed by someone else: ${conflicts} — applying takes ownership of those fields (force, needs a typed confirmation)`,
      );
    } else if (object.otherManagers.length > 0 && object.action !== 'create') {
      lines.push(
        `  also managed by ${object.otherManagers.join(', ')} (no conflicting fields; ownership is shared)`,
      );
    }
  }
  return lines;
}

export function objectsFromPreview(preview: Preview | undefined): ObjectPreview[] | undefined {
  const objects = preview?.data?.objects;
  return Array.isArray(objects) ? (objects as ObjectPreview[]) : undefined;
}

/**
 * The gate: nothing to write → none; another manager owns fields this apply changes → typed (the
 * object names), since applying takes them over; otherwise a confirmation naming namespace and objects.
 */
export function applyGate(
  refs: readonly { kind: string; name: string }[],
  ctx: {
    target: { context: string; namespace: string };
    options: { readonly namespace?: string };
  },
  preview: Preview | undefined,
): Gate | undefined {
  const namespace = ctx.target.namespace || planNamespace(ctx.options);
  const objects = objectsFromPreview(preview);
  const target = {
    namespace,
    ...(ctx.target.context ? { context: ctx.target.context } : {}),
    objects: refs.map((ref) => `${ref.kind}/${ref.name}`).join(', '),
  };
  if (!objects) {
    return {
      kind: 'confirm',
      prompt: `Apply ${refs.map((ref) => `${ref.kind} ${ref.name}`).join(', ')} in namespace ${namespace} (server-side apply, field manager ${RUNBOOK_MANAGER})`,
      target,
    };
  }
  const writing = objects.filter((object) => object.action !== 'unchanged');
  if (writing.length === 0) return undefined;
  const conflicted = writing.filter((object) => object.conflicts.length > 0);
  const where = `in namespace ${namespace}${ctx.target.context ? ` (context ${ctx.target.context})` : ''}`;
  if (conflicted.length > 0) {
    const phrase = conflicted.map((object) => object.name).join(',');
    const owners = conflicted
      .map(
        (object) =>
          `${object.kind} ${object.name}: ${describeConflicts({ conflicts: object.conflicts } as ObjectDiff)}`,
      )
      .join('; ');
    return {
      kind: 'typed',
      prompt: `Take ownership ${where}: ${owners}. Applying with force overwrites those fields. Type "${phrase}" to continue`,
      phrase,
      target,
    };
  }
  return {
    kind: 'confirm',
    prompt: `Apply ${writing.map((object) => `${object.kind} ${object.name} (${object.action})`).join(', ')} ${where}`,
    target,
  };
}

/** Which verbs SSA needs that are denied: an apply that creates needs create, one that updates needs patch. */
export async function deniedVerbs(
  kube: KubeAdapter,
  object: KubeObject,
  namespace: string,
): Promise<string[]> {
  const group = object.apiVersion.includes('/') ? (object.apiVersion.split('/')[0] ?? '') : '';
  const resource = `${object.kind.toLowerCase()}s`;
  const denied: string[] = [];
  for (const verb of ['create', 'patch']) {
    const answer = await kube.canI({ verb, resource, group, namespace }).catch(() => ({ allowed: true }));
    if (!answer.allowed) denied.push(verb);
  }
  return denied;
}

export function resourceLabel(object: KubeObject): { resource: string; group: string } {
  const group = object.apiVersion.includes('/') ? (object.apiVersion.split('/')[0] ?? '') : '';
  return { resource: `${object.kind.toLowerCase()}s`, group };
}

/** Turns an apply failure into one that says what was denied / who owns what, and what to do. */
export async function explainApplyError(
  error: unknown,
  kube: KubeAdapter,
  object: KubeObject,
  namespace: string,
): Promise<unknown> {
  const code = (error as { code?: unknown }).code;
  const { resource, group } = resourceLabel(object);
  const qualified = group ? `${resource}.${group}` : resource;
  if (code === 'Forbidden') {
    // Server-side apply is a PATCH, but on an object that does not exist yet the API server also
    // requires create: say which verb was actually denied.
    const fromMessage = /cannot (\w+) resource "([^"]+)"/.exec((error as Error).message);
    let verbs = await deniedVerbs(kube, object, namespace);
    if (verbs.length === 0 && fromMessage?.[1]) verbs = [fromMessage[1]];
    if (verbs.length === 0) return error;
    return new RunbookError(
      `Forbidden: cannot ${verbs.join(' and ')} ${resource} in namespace "${namespace}" — ${object.kind} ${object.metadata.name} is applied server-side, which needs create and patch on ${qualified}`,
      {
        code: 'Forbidden',
        next: `Grant it with an RBAC Role rule in ${namespace}: apiGroups: ["${group}"], resources: ["${resource}"], verbs: ["create", "patch"] — check with: kubectl auth can-i ${verbs[0]} ${qualified} -n ${namespace}`,
      },
    );
  }
  if (code === 'Conflict') {
    const managers = managersInConflictMessage((error as Error).message);
    return new RunbookError(
      `${object.kind} ${object.metadata.name} has fields managed by ${managers.join(', ') || 'another field manager'}: ${(error as Error).message}`,
      {
        code: 'Conflict',
        next: `Run the step again: its preview names the owner and asks you to confirm taking ownership (typed).`,
      },
    );
  }
  return error;
}

/**
 * Applies what the preview said changes (force only where it named conflicts, which the typed gate
 * accepted), then compares what the server returned with what was sent.
 */
export async function applyObjects(
  ctx: StepContext<Adapters>,
  desired: readonly KubeObject[],
): Promise<{ checks: Check[]; objects: ObjectPreview[] }> {
  const kube = await ctx.adapters.kube();
  const namespace = kube.target.namespace;
  const previewed = objectsFromPreview(ctx.preview) ?? (await inspectObjects(kube, desired));
  const checks: Check[] = [];
  for (const object of desired) {
    const seen = previewed.find((item) => item.kind === object.kind && item.name === object.metadata.name);
    const label = `${object.kind} ${object.metadata.name}`;
    if (seen && seen.action === 'unchanged') {
      checks.push({ id: `${object.kind}/${object.metadata.name}`, label, status: 'ok', detail: 'unchanged' });
      continue;
    }
    const force = (seen?.conflicts.length ?? 0) > 0;
    let returned: KubeObject;
    try {
      returned = await kube.apply(object, { force });
    } catch (error) {
      throw await explainApplyError(error, kube, object, namespace);
    }
    const after = diffObject(object, returned);
    const verb = seen?.action === 'create' ? 'created' : 'updated';
    const what = seen ? seen.line.replace(/^(create|update:?)\s*/, '') : '';
    checks.push(
      after.action === 'unchanged'
        ? {
            id: `${object.kind}/${object.metadata.name}`,
            label,
            status: 'ok',
            detail: `${verb}${what ? ` ${what}` : ''}${force ? ' (took ownership with force)' : ''}`,
          }
        : {
            id: `${object.kind}/${object.metadata.name}`,
            label,
            status: 'fail',
            detail: `the API server returned a different object: ${describeDiff(after)}`,
            next: 'Another controller may be rewriting it (a webhook or an operator); inspect it with kubectl get -o yaml.',
          },
    );
  }
  return { checks, objects: previewed };
}
