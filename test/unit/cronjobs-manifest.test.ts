// ops/db/backup-jobs/cronjobs.yaml: valid against the Kubernetes OpenAPI schema, and what the runbook needs.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { unknownCronJobFields } from '../support/backup-jobs-k8s-fields.js';
import { BACKUP_JOBS_DIR, SCRIPTS_DIR, run, tempDir } from '../support/backup-jobs-run.js';

/** The first `tool` on this machine's PATH. */
function which(tool: string): string {
  const found = (process.env.PATH ?? '/usr/bin:/bin')
    .split(delimiter)
    .map((dir) => join(dir, tool))
    .find((path) => existsSync(path));
  if (!found) throw new Error(`${tool} is not on PATH`);
  return found;
}

interface Container {
  name: string;
  image: string;
  command: string[];
  args?: string[];
  envFrom: { secretRef?: { name: string }; configMapRef?: { name: string } }[];
  env: { name: string; value: string }[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: { allowPrivilegeEscalation: boolean; privileged?: boolean };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: {
    schedule: string;
    timeZone: string;
    concurrencyPolicy: string;
    startingDeadlineSeconds: number;
    successfulJobsHistoryLimit: number;
    failedJobsHistoryLimit: number;
    jobTemplate: {
      spec: {
        backoffLimit: number;
        activeDeadlineSeconds: number;
        template: {
          spec: {
            serviceAccountName: string;
            restartPolicy: string;
            containers: Container[];
            volumes: {
              name: string;
              configMap?: { name: string; defaultMode: number };
              emptyDir?: { sizeLimit?: string };
            }[];
          };
        };
      };
    };
  };
}

let manifests: Manifest[];
let dir: string;
const byName = (name: string) => manifests.find((m) => m.metadata.name === name)!;
const podOf = (m: Manifest) => m.spec.jobTemplate.spec.template.spec;
const containerOf = (m: Manifest) => podOf(m).containers[0]!;

beforeAll(async () => {
  const text = await readFile(join(BACKUP_JOBS_DIR, 'cronjobs.yaml'), 'utf8');
  const docs = parseAllDocuments(text);
  for (const doc of docs) expect(doc.errors).toEqual([]);
  manifests = docs.map((d) => d.toJS() as Manifest);
  dir = await tempDir('cronjobs-manifest');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('cronjobs.yaml', () => {
  it('holds the two backup CronJobs and the two restore-verify ones, valid against the Kubernetes OpenAPI schema, with no unknown fields', () => {
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'CronJob/postgres-daily-backup',
      'CronJob/neo4j-daily-backup',
      'CronJob/postgres-restore-verify',
      'CronJob/neo4j-restore-verify',
    ]);
    for (const m of manifests) {
      expect(m.apiVersion).toBe('batch/v1');
      expect(() =>
        new CronJob(m as unknown as ConstructorParameters<typeof CronJob>[0]).validate(),
      ).not.toThrow();
      expect(unknownCronJobFields(m)).toEqual([]);
    }
  });

  it('the schema check catches a wrong type and a misspelt field (the validators are live)', () => {
    const broken = structuredClone(byName('postgres-daily-backup'));
    (broken.spec as unknown as Record<string, unknown>).concurrencyPolicy = 'Never';
    (broken.spec.jobTemplate.spec as unknown as Record<string, unknown>).backofLimit = 1;
    (containerOf(broken).volumeMounts[0] as unknown as Record<string, unknown>).readonly = true;
    expect(() =>
      new CronJob(broken as unknown as ConstructorParameters<typeof CronJob>[0]).validate(),
    ).toThrow(/concurrencyPolicy must be equal to one of the allowed values/);
    expect(unknownCronJobFields(broken).sort()).toEqual([
      'spec.jobTemplate.spec.backofLimit: unknown field',
      'spec.jobTemplate.spec.template.spec.containers[0].volumeMounts[0].readonly: unknown field',
    ]);
  });

  it('runs postgres at 02:00 and neo4j at 02:30 UTC in namespace data, never overlapping, with deadlines and limits', () => {
    expect(byName('postgres-daily-backup').spec.schedule).toBe('0 2 * * *');
    expect(byName('neo4j-daily-backup').spec.schedule).toBe('30 2 * * *');
    for (const m of manifests) {
      expect(m.metadata.namespace).toBe('data');
      expect(m.spec.timeZone).toBe('Etc/UTC');
      expect(m.spec.concurrencyPolicy).toBe('Forbid');
      expect(m.spec.startingDeadlineSeconds).toBeGreaterThan(0);
      expect(m.spec.successfulJobsHistoryLimit).toBeGreaterThan(0);
      expect(m.spec.failedJobsHistoryLimit).toBeGreaterThan(0);
      expect(m.spec.jobTemplate.spec.backoffLimit).toBeLessThanOrEqual(2);
      expect(m.spec.jobTemplate.spec.activeDeadlineSeconds).toBeGreaterThan(0);
      expect(podOf(m).restartPolicy).toBe('Never');
    }
  });

  it("uses the database-backup ServiceAccount and env from the runbook's Secrets and ConfigMap", () => {
    const names = (c: Container) =>
      c.envFrom.map((e) => e.secretRef?.name ?? `configmap:${e.configMapRef?.name}`);
    expect(names(containerOf(byName('postgres-daily-backup')))).toEqual([
      'database-backup-storage',
      'postgres-backup-credentials',
      'configmap:database-backup-settings',
    ]);
    expect(names(containerOf(byName('neo4j-daily-backup')))).toEqual([
      'database-backup-storage',
      'neo4j-backup-credentials',
      'configmap:database-backup-settings',
    ]);
    for (const m of manifests) expect(podOf(m).serviceAccountName).toBe('database-backup');
  });

  it('pins the PostgreSQL major in one image tag and uses Neo4j 5 Enterprise with its license and backup mode', () => {
    expect(containerOf(byName('postgres-daily-backup')).image).toMatch(/^postgres:\d+$/);
    const neo4j = containerOf(byName('neo4j-daily-backup'));
    expect(neo4j.image).toBe('neo4j:5-enterprise');
    const env = Object.fromEntries(neo4j.env.map((e) => [e.name, e.value]));
    expect(env.NEO4J_BACKUP_MODE).toBe('full');
    expect(['yes', 'eval']).toContain(env.NEO4J_ACCEPT_LICENSE_AGREEMENT);
  });

  it('mounts the scripts ConfigMap executable at /scripts and an emptyDir work dir named by BACKUP_WORK_DIR', () => {
    for (const m of manifests) {
      const pod = podOf(m);
      const container = containerOf(m);
      const scripts = pod.volumes.find((v) => v.configMap?.name === 'database-backup-scripts')!;
      expect(scripts.configMap!.defaultMode).toBe(0o555);
      const work = pod.volumes.find((v) => v.emptyDir)!;
      const mounts = Object.fromEntries(container.volumeMounts.map((v) => [v.name, v]));
      expect(mounts[scripts.name]).toMatchObject({ mountPath: '/scripts', readOnly: true });
      const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
      expect(env.BACKUP_WORK_DIR).toBe(mounts[work.name]!.mountPath);
    }
  });

  it('sets resource requests and limits and forbids privilege escalation', () => {
    for (const m of manifests) {
      const c = containerOf(m);
      for (const key of ['cpu', 'memory', 'ephemeral-storage']) {
        expect(c.resources.requests[key]).toBeTruthy();
        expect(c.resources.limits[key]).toBeTruthy();
      }
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(c.securityContext.privileged).not.toBe(true);
    }
  });

  it('the container command installs awscli with apt-get only when missing, then execs the mounted script', async () => {
    for (const m of manifests) {
      const { command } = containerOf(m);
      expect(command.slice(0, 2)).toEqual(['/bin/bash', '-c']);
      const script = /exec bash \/scripts\/([\w-]+\.sh)/.exec(command[2]!)![1]!;
      expect(existsSync(join(SCRIPTS_DIR, script))).toBe(true);

      // run the command the way the sandbox's job runner does: /scripts rewritten to a local ConfigMap copy
      const mounted = join(dir, m.metadata.name, 'scripts');
      const bin = join(dir, m.metadata.name, 'bin');
      const log = join(dir, m.metadata.name, 'apt.log');
      await mkdir(mounted, { recursive: true });
      await mkdir(bin, { recursive: true });
      await writeFile(join(mounted, script), `echo "ran ${script}"\n`);
      // a stand-in apt-get that records its arguments and "installs" what it is asked for; the PATH holds
      // only bash and chmod besides it, so the result does not depend on what this machine has installed
      await writeFile(
        join(bin, 'apt-get'),
        [
          '#!/bin/bash',
          `echo "apt-get $*" >> ${log}`,
          `stub() { printf '#!/bin/sh\\n' > ${bin}/$1; chmod +x ${bin}/$1; }`,
          'for package in "$@"; do',
          '  case "$package" in awscli) stub aws ;; pigz) stub pigz ;; isal) stub igzip ;; esac',
          'done',
          '',
        ].join('\n'),
      );
      await chmod(join(bin, 'apt-get'), 0o755);
      const system = join(dir, m.metadata.name, 'system');
      await mkdir(system, { recursive: true });
      for (const tool of ['bash', 'chmod']) await symlink(which(tool), join(system, tool));
      const rewritten = command[2]!.replaceAll('/scripts/', `${mounted}/`);
      const env = { PATH: `${bin}:${system}` };

      const first = await run('/bin/bash', ['-c', rewritten], { env });
      expect(first.code).toBe(0);
      expect(first.stdout).toBe(`ran ${script}\n`);
      const apt = await readFile(log, 'utf8');
      expect(apt).toContain('apt-get update -qq');
      expect(apt).toMatch(/apt-get install -y -qq --no-install-recommends ca-certificates awscli/);

      await rm(log);
      const second = await run('/bin/bash', ['-c', rewritten], { env });
      expect(second.stdout).toBe(`ran ${script}\n`);
      expect(existsSync(log)).toBe(false);
    }
  });
});
