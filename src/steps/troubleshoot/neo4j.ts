/**
 * "Neo4j backup failures – verify that the backup role is enabled on the target server and that the
 * configured port is reachable": TCP to NEO4J_HOST:NEO4J_BACKUP_PORT from this host and from inside
 * the cluster (a short-lived probe Job running `bash -c '</dev/tcp/HOST/PORT'`, deleted afterwards),
 * and the server's own `server.backup.*` settings over Bolt (the driver) when credentials are set.
 * A Community server has no backup port (no online backup): the step says so and probes nothing.
 */
import type { Adapters, KubeAdapter, KubeObject } from '../../adapters/types.js';
import {
  assessBackupSettings,
  backupPortCause,
  type BackupSettingsAssessment,
  isLoopback,
  NEO4J_BACKUP_DEFAULT_LISTEN,
} from '../../runbook/diagnose.js';
import { byCreation, type JobSummary, likelyCause, summarizeJob } from '../../runbook/job-status.js';
import type { Check, StepContext } from '../../runbook/step.js';
import { planNamespace } from '../kit/apply.js';
import { defineStep, sleep } from '../define.js';
import { NEO4J_CRONJOB } from './ids.js';
import { backupContainer, cronJobRef, jobRef, podSpecOf } from '../kit/backup-cronjobs.js';
import { cypher, cypherShellCommand, neo4jServerInfo } from '../clients/cypher.js';

type Ctx = StepContext<Adapters>;

export const BACKUP_PORT_STEP_ID = 'troubleshoot.neo4j-backup-port';

/** The probe gives up after this (a filtered port never answers a SYN). */
export const PROBE_DEADLINE_SECONDS = 20;

const DEFAULT_PROBE_IMAGE = 'neo4j:5-enterprise';

const SETTINGS_QUERY = "SHOW SETTINGS YIELD name, value WHERE name STARTS WITH 'server.backup'";

/**
 * The probe Job: the Neo4j CronJob's image, labels and service account (so NetworkPolicies treat
 * it like a backup pod), one bash line that opens a TCP connection, a small deadline, no retries.
 * Host and port are arguments of the script, never spliced into it.
 */
export function probeJob(options: {
  name: string;
  namespace: string;
  host: string;
  port: number;
  cronJob?: KubeObject;
}): KubeObject {
  const template = (
    options.cronJob?.spec as
      | { jobTemplate?: { spec?: { template?: { metadata?: { labels?: Record<string, string> } } } } }
      | undefined
  )?.jobTemplate?.spec?.template;
  const podSpec = podSpecOf(options.cronJob) ?? {};
  const labels = {
    ...(template?.metadata?.labels ?? {}),
    'app.kubernetes.io/managed-by': 'db-runbook',
    'db-runbook/probe': 'neo4j-backup-port',
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: options.name, namespace: options.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: PROBE_DEADLINE_SECONDS,
      ttlSecondsAfterFinished: 300,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...(typeof podSpec.serviceAccountName === 'string'
            ? { serviceAccountName: podSpec.serviceAccountName }
            : {}),
          ...(podSpec.securityContext ? { securityContext: podSpec.securityContext } : {}),
          containers: [
            {
              name: 'probe',
              image: backupContainer(options.cronJob)?.image ?? DEFAULT_PROBE_IMAGE,
              command: [
                'bash',
                '-c',
                'if </dev/tcp/"$1"/"$2"; then echo "connected to $1:$2"; else echo "cannot connect to $1:$2" >&2; exit 1; fi',
                'probe',
                options.host,
                String(options.port),
              ],
              resources: {
                requests: { cpu: '10m', memory: '16Mi' },
                limits: { cpu: '100m', memory: '64Mi' },
              },
            },
          ],
        },
      },
    },
  };
}

interface ProbeOutcome {
  ok: boolean;
  refused: boolean;
  /** One line: connected / the refusal / why the probe could not run. */
  detail: string;
  job: string;
  exitCode?: number;
  ran: boolean;
}

async function runProbe(ctx: Ctx, kube: KubeAdapter, host: string, port: number): Promise<ProbeOutcome> {
  const namespace = kube.target.namespace;
  const name = `db-runbook-probe-${port}-${Math.random().toString(36).slice(2, 7)}`;
  const cronJob = await kube.get(cronJobRef(NEO4J_CRONJOB, namespace)).catch(() => undefined);
  await kube.create(probeJob({ name, namespace, host, port, ...(cronJob ? { cronJob } : {}) }));
  ctx.log(`probe Job ${name}: bash -c '</dev/tcp/${host}/${port}' (deadline ${PROBE_DEADLINE_SECONDS} s)`);
  try {
    const until = Date.now() + (PROBE_DEADLINE_SECONDS + 20) * 1000;
    let summary: JobSummary | undefined;
    let pods: KubeObject[] = [];
    while (!ctx.signal.aborted) {
      const job = await kube.get(jobRef(name, namespace));
      pods = job
        ? await kube.list(
            'v1',
            'Pod',
            namespace,
            `batch.kubernetes.io/controller-uid=${job.metadata.uid ?? ''}`,
          )
        : [];
      if (job) summary = summarizeJob(job, pods);
      ctx.progress({ message: `probe Job ${name}: ${summary?.pod?.phase ?? summary?.phase ?? 'created'}` });
      if (summary?.finished || Date.now() > until) break;
      await sleep(500, ctx.signal);
    }
    const pod = byCreation(pods).at(-1);
    const log = pod
      ? (await kube.podLog(namespace, pod.metadata.name, { tailLines: 5 }).catch(() => '')).trim()
      : '';
    const lines = log.split('\n').filter(Boolean);
    // bash's own reason ("connect: Connection refused") beats the script's closing line.
    const lastLine =
      lines.find((line) => /refused|timed out|no route|not known|unreachable|resolve/i.test(line)) ??
      lines.at(-1) ??
      '';
    const refused = /refused/i.test(log);
    if (summary?.phase === 'succeeded')
      return {
        ok: true,
        refused: false,
        detail: lastLine || `connected to ${host}:${port}`,
        job: name,
        exitCode: 0,
        ran: true,
      };
    const exitCode = summary?.pod?.exitCode;
    if (exitCode !== undefined && summary?.pod?.terminatedReason !== 'DeadlineExceeded')
      return {
        ok: false,
        refused,
        detail: `${lastLine || 'no output'} (exit ${exitCode})`,
        job: name,
        exitCode,
        ran: true,
      };
    const cause = summary ? likelyCause(summary, log.split('\n')) : undefined;
    const deadline = summary?.conditions.some((c) => c.reason === 'DeadlineExceeded');
    return {
      ok: false,
      refused,
      detail: deadline
        ? `no answer within ${PROBE_DEADLINE_SECONDS} s: packets to ${host}:${port} are dropped (NetworkPolicy, firewall, or a host that does not route)${cause ? ` — ${cause}` : ''}`
        : `the probe did not run to the end (${summary?.pod?.waitingReason ?? summary?.phase ?? 'no status'})${cause ? `: ${cause}` : ''}`,
      job: name,
      ran: summary?.pod?.startedAt !== undefined || summary?.pod?.exitCode !== undefined,
    };
  } finally {
    await kube.delete(jobRef(name, namespace), { propagationPolicy: 'Background' }).catch(() => undefined);
    ctx.log(`probe Job ${name} deleted`);
  }
}

export const neo4jBackupPort = defineStep({
  id: BACKUP_PORT_STEP_ID,
  section: 'troubleshoot',
  database: 'neo4j',
  title: 'Neo4j backup port',
  description: `Is NEO4J_HOST:NEO4J_BACKUP_PORT reachable from here and from inside the cluster (a probe Job, deleted afterwards)? Is the backup role enabled, and where does the server listen (SHOW SETTINGS, with credentials)? Neo4j's default ${NEO4J_BACKUP_DEFAULT_LISTEN} refuses remote backups.`,
  inputs: [],
  optionalInputs: ['NEO4J_HOST', 'NEO4J_BACKUP_PORT', 'NEO4J_BOLT_PORT', 'NEO4J_USERNAME', 'NEO4J_PASSWORD'],
  continueOnFailure: true,
  plan: (values, options) => {
    const host = values.get('NEO4J_HOST') ?? '$NEO4J_HOST';
    const port = values.get('NEO4J_BACKUP_PORT') ?? '6362';
    const namespace = planNamespace(options);
    return {
      actions: [
        {
          summary: `TCP ${host}:${port} from this host`,
          command: `timeout 3 bash -c '</dev/tcp/${host}/${port}'`,
        },
        {
          summary: `TCP ${host}:${port} from inside the cluster: a probe Job (image and labels of ${NEO4J_CRONJOB}, deadline ${PROBE_DEADLINE_SECONDS} s), deleted afterwards`,
          command: `kubectl run db-runbook-probe --rm -i --restart=Never --namespace ${namespace} --image=neo4j:5-enterprise --command -- bash -c '</dev/tcp/${host}/${port}'`,
          writes: true,
        },
        {
          summary:
            'the edition and the backup settings over Bolt (the driver), when NEO4J_USERNAME/NEO4J_PASSWORD are set; the same at a shell:',
          command: `${cypherShellCommand(`neo4j://${values.get('NEO4J_HOST') ?? '<host>'}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`, SETTINGS_QUERY)}   # NEO4J_USERNAME/NEO4J_PASSWORD in the environment`,
        },
      ],
      notes: [
        `SHOW SETTINGS 'server.backup*' matches nothing in Neo4j 5 (names are exact): the WHERE form is used.`,
      ],
    };
  },
  async run(ctx) {
    const host = ctx.values.get('NEO4J_HOST');
    const port = Number(ctx.values.get('NEO4J_BACKUP_PORT') ?? '6362');
    const checks: Check[] = [];
    if (!host) {
      return {
        summary: 'NEO4J_HOST is not set: nothing to probe',
        checks: [{ id: 'host', label: 'NEO4J_HOST', status: 'skip', detail: 'not set' }],
      };
    }
    const { info } = await neo4jServerInfo(ctx);
    if (info?.edition === 'community')
      return {
        summary: `does not apply: Neo4j ${info.version} Community has no online backup and no backup port`,
        checks: [
          {
            id: 'edition',
            label: `Neo4j ${info.version} Community`,
            status: 'skip',
            detail:
              'no backup port to probe: Community backups stop the server and dump it (NEO4J_BACKUP_METHOD=dump, cronjob-neo4j-community.yaml); check that Job with troubleshoot.jobs',
          },
        ],
        data: { applies: false, edition: info.edition, version: info.version },
      };
    const where = `${host}:${port}`;
    // From here.
    const local = await ctx.adapters.net.tcpProbe(host, port, 3000);
    const localRefused = !local.ok && /refused/i.test(local.reason);
    checks.push(
      local.ok
        ? {
            id: 'here',
            label: `${where} from this host`,
            status: 'ok',
            detail: `connected in ${local.ms} ms`,
          }
        : {
            id: 'here',
            label: `${where} from this host`,
            status: localRefused ? 'fail' : 'warn',
            detail: local.reason,
            ...(localRefused
              ? {}
              : {
                  next: 'An in-cluster name may not resolve from a workstation: the probe Job below decides.',
                }),
          },
    );
    // From the cluster.
    let cluster: ProbeOutcome | undefined;
    try {
      const kube = await ctx.adapters.kube();
      cluster = await runProbe(ctx, kube, host, port);
      checks.push({
        id: 'cluster',
        label: `${where} from inside the cluster (Job ${cluster.job})`,
        status: cluster.ok ? 'ok' : cluster.ran ? 'fail' : 'warn',
        detail: cluster.detail,
      });
    } catch (error) {
      checks.push({
        id: 'cluster',
        label: `${where} from inside the cluster`,
        status: 'warn',
        detail: `the probe Job could not be created: ${(error as Error).message}`,
        ...((error as { next?: string }).next ? { next: (error as { next?: string }).next } : {}),
      });
    }
    // The server's settings.
    const settings = await cypher(ctx, SETTINGS_QUERY);
    let assessment: BackupSettingsAssessment | undefined;
    if (settings.unavailable) {
      checks.push({
        id: 'settings',
        label: 'server.backup.* settings',
        status: 'skip',
        detail: `not read: ${settings.unavailable}`,
      });
    } else if (!settings.ok) {
      checks.push({
        id: 'settings',
        label: 'server.backup.* settings',
        status: 'warn',
        detail: `SHOW SETTINGS failed: ${settings.error}`,
        next: 'The user needs the SHOW SETTINGS privilege (admin), or read neo4j.conf on the server.',
      });
    } else {
      const rows = Object.fromEntries(settings.rows.map((row) => [row[0] ?? '', row[1] ?? '']));
      if (Object.keys(rows).length === 0) {
        checks.push({
          id: 'settings',
          label: 'server.backup.* settings',
          status: 'fail',
          detail:
            'the server has no server.backup settings: Community Edition? Online backup is Enterprise-only',
          next: 'Use Neo4j Enterprise for online backups, or dump offline (neo4j-admin database dump) instead.',
        });
      } else {
        assessment = assessBackupSettings(rows, port);
        const problems = assessment.problems;
        checks.push({
          id: 'enabled',
          label: 'server.backup.enabled',
          status: assessment.enabled === false ? 'fail' : 'ok',
          detail: rows['server.backup.enabled'] ?? '(not reported)',
          ...(assessment.enabled === false ? { next: problems[0] } : {}),
        });
        const remoteRefused = assessment.loopbackOnly && !isLoopback(host);
        const otherPort = assessment.port !== undefined && assessment.port !== port;
        checks.push({
          id: 'listen',
          label: 'server.backup.listen_address',
          status:
            remoteRefused || otherPort
              ? cluster && !cluster.ok
                ? 'fail'
                : 'warn'
              : assessment.loopbackOnly
                ? 'warn'
                : 'ok',
          // The words match the status: loopback with NEO4J_HOST on loopback too is how a single-host
          // setup (the sandbox) works, not "pods are refused"; with a remote NEO4J_HOST it is the cause.
          detail: `${assessment.listenAddress}${assessment.defaulted ? ' (the default)' : ''}${
            !assessment.loopbackOnly
              ? ''
              : !remoteRefused
                ? `: loopback only, like NEO4J_HOST ${host}: only jobs on the Neo4j host itself can connect`
                : cluster?.ok
                  ? ': loopback only — the probe pod got through only because it ran on the Neo4j host; backup pods on other hosts are refused'
                  : ': loopback only — connections from other hosts (backup pods) are refused'
          }`,
          ...(assessment.loopbackOnly || otherPort
            ? { next: problems.filter((p) => !p.startsWith('server.backup.enabled')).join(' ') }
            : {}),
        });
      }
    }
    const cause = backupPortCause({
      host,
      port,
      here: { ok: local.ok, refused: localRefused },
      ...(cluster?.ran ? { cluster: { ok: cluster.ok, refused: cluster.refused } } : {}),
      ...(assessment ? { settings: assessment } : {}),
    });
    if (cause)
      checks.push({
        id: 'cause',
        label: 'likely cause',
        status: 'fail',
        detail: cause,
        next: `On the Neo4j server: server.backup.enabled=true and server.backup.listen_address=0.0.0.0:${port} in neo4j.conf, then restart it; allow TCP ${port} from the backup pods (NetworkPolicy, Service port).`,
      });
    // A loopback-only listener is never "reachable from the cluster", whatever a same-host probe saw.
    const loopbackOnly = assessment?.loopbackOnly === true && !isLoopback(host);
    return {
      summary: cause
        ? `backup port ${where} not reachable${cluster && !cluster.ok ? ' from the cluster' : ''}: ${cause}`
        : loopbackOnly
          ? `backup port ${where} answers${cluster?.ok ? ' a probe on the Neo4j host' : ' here'}, but listen_address ${assessment?.listenAddress} is loopback only: backup pods on other hosts are refused`
          : `backup port ${where} reachable${cluster?.ok ? ' from the cluster' : ' from this host'}${assessment ? ` (listen_address ${assessment.listenAddress})` : ''}`,
      checks,
      data: {
        port,
        here: local.ok,
        cluster: cluster ? cluster.ok : null,
        ...(assessment ? { listenAddress: assessment.listenAddress } : {}),
        ...(cause ? { cause } : {}),
      },
    };
  },
});
