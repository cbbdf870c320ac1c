/**
 * The Kubernetes Job that runs a restore script in the cluster (the runbook: "Run the restore script
 * from a bastion host or Kubernetes job"): built from the backup CronJob's jobTemplate, so it gets the
 * same image, Secrets (envFrom), settings ConfigMap and the scripts ConfigMap volume — then the
 * container runs the restore script instead of the backup script, with the restore's variables.
 * Pure: the CronJob comes from a GET; the caller creates the result.
 */
import type { KubeObject } from './kube-object.js';
import { jobFromCronJob } from './job-from-cronjob.js';
import { MANAGED_BY_LABEL, RUNBOOK_MANAGER } from './k8s-objects.js';

export interface RestoreJobOptions {
  name: string;
  namespace: string;
  /** `postgres-backup.sh` → `postgres-restore.sh`. */
  backupScript: string;
  restoreScript: string;
  /** Added to (or replacing in) the container's env: RESTORE_S3_URI, CLEAN_TARGET, ALLOW_UNVERIFIED. Never secrets. */
  env: Record<string, string>;
  /** Label value for app.kubernetes.io/name. */
  app: string;
  /**
   * The script downloads the whole compressed backup into its work directory: emptyDir size limits and
   * the container's ephemeral-storage limit are raised to hold this many bytes (plus 1 GiB of room).
   */
  workBytes?: number;
}

const GI = 1024 ** 3;
const UNITS: Record<string, number> = {
  '': 1,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: GI,
  Ti: 1024 ** 4,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
};

/** A Kubernetes quantity in bytes (`512Mi`, `2Gi`, `1G`, `1000`); undefined when it is not one. */
export function quantityBytes(quantity: unknown): number | undefined {
  const text = typeof quantity === 'number' ? String(quantity) : quantity;
  if (typeof text !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text.trim());
  if (!match?.[1]) return undefined;
  return Number(match[1]) * (UNITS[match[2] ?? ''] ?? 1);
}

function gibibytes(bytes: number): string {
  return `${Math.ceil(bytes / GI)}Gi`;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Replaces the backup script's name in a command/args list; how many words changed. */
function swapScript(words: unknown, from: string, to: string): { words: unknown; changed: number } {
  if (!Array.isArray(words)) return { words, changed: 0 };
  let changed = 0;
  const out = words.map((word: unknown) => {
    if (typeof word !== 'string' || !word.includes(from)) return word;
    changed++;
    return word.split(from).join(to);
  });
  return { words: out, changed };
}

/** A DNS-1123 label for the Job: `<prefix>-<utc yyyymmddhhmmss>`. */
export function restoreJobName(prefix: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:T]/g, '').replace(/\..*$/, '').toLowerCase();
  return `${prefix.slice(0, 40)}-${stamp}`;
}

/**
 * The restore Job. Differences from `kubectl create job --from=cronjob/…`: no ownerReference (the
 * CronJob's history limits must not delete it), backoffLimit 0 (a failed restore is looked at, never
 * retried by itself), the restore's own app label, and the restore script in the command.
 */
export function restoreJobFromCronJob(cronJob: KubeObject, options: RestoreJobOptions): KubeObject {
  const job = jobFromCronJob(cronJob, options.name, options.namespace);
  delete job.metadata.ownerReferences;
  job.metadata.labels = {
    ...(job.metadata.labels ?? {}),
    'app.kubernetes.io/name': options.app,
    [MANAGED_BY_LABEL]: RUNBOOK_MANAGER,
  };
  const spec = job.spec as Json;
  spec.backoffLimit = 0;
  const template = isObject(spec.template) ? spec.template : undefined;
  const podSpec = template && isObject(template.spec) ? template.spec : undefined;
  const containers = podSpec && Array.isArray(podSpec.containers) ? (podSpec.containers as Json[]) : [];
  if (template) {
    const metadata = isObject(template.metadata) ? template.metadata : {};
    const labels = isObject(metadata.labels) ? (metadata.labels as Record<string, string>) : {};
    template.metadata = { ...metadata, labels: { ...labels, 'app.kubernetes.io/name': options.app } };
  }
  let changed = 0;
  for (const container of containers) {
    for (const field of ['command', 'args'] as const) {
      const swapped = swapScript(container[field], options.backupScript, options.restoreScript);
      if (swapped.changed > 0) container[field] = swapped.words;
      changed += swapped.changed;
    }
  }
  const container = containers[0];
  if (!container || changed === 0)
    throw new Error(
      `CronJob ${cronJob.metadata.name} does not run ${options.backupScript}: cannot derive the restore Job from it`,
    );
  // A restore is watched by the operator: no deadline meant for a nightly backup cuts it short.
  delete spec.activeDeadlineSeconds;
  if (options.workBytes !== undefined && podSpec) {
    const needed = options.workBytes + GI;
    for (const volume of Array.isArray(podSpec.volumes) ? (podSpec.volumes as Json[]) : []) {
      const emptyDir = isObject(volume.emptyDir) ? volume.emptyDir : undefined;
      const limit = emptyDir ? quantityBytes(emptyDir.sizeLimit) : undefined;
      if (emptyDir && limit !== undefined && limit < needed) emptyDir.sizeLimit = gibibytes(needed);
    }
    for (const each of containers) {
      const resources = isObject(each.resources) ? each.resources : undefined;
      for (const kind of ['limits', 'requests'] as const) {
        const table = resources && isObject(resources[kind]) ? resources[kind] : undefined;
        const current = table ? quantityBytes(table['ephemeral-storage']) : undefined;
        const want = kind === 'limits' ? needed + GI : needed;
        if (table && current !== undefined && current < want) table['ephemeral-storage'] = gibibytes(want);
      }
    }
  }
  const env = Array.isArray(container.env) ? (container.env as Json[]) : [];
  container.env = [
    ...env.filter((entry) => !(typeof entry.name === 'string' && entry.name in options.env)),
    ...Object.entries(options.env).map(([name, value]) => ({ name, value })),
  ];
  return job;
}
