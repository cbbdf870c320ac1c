import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../../src/sandbox/cluster/index.js';
import { journalEvents, journalText, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

/**
 * The built CLI against the sandbox's real Kubernetes control plane, started once here so that several
 * runs see the same cluster (as a real one would). Objects are read back through the API and
 * compared with what kubectl itself produces for the same inputs.
 */

const ROOT = new URL('../../', import.meta.url).pathname;
const SHIPPED = join(ROOT, 'ops/db/backup-jobs');
const FIXTURE = join(ROOT, 'test/fixtures/configure/backup-jobs');

const SECRETS = {
  AWS_ACCESS_KEY_ID: 'AKIAE2ETESTKEY0001',
  AWS_SECRET_ACCESS_KEY: 'e2e/Secret+Key=with $pecial "chars"',
  POSTGRES_PASSWORD: "pg-e2e-pässword-'quoted'",
  NEO4J_PASSWORD: 'neo4j-e2e-password-77',
};

const VALUES = {
  S3_BUCKET: 'acme-db-backups',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_ENDPOINT_URL: 'http://minio.storage.svc:9000',
  POSTGRES_HOST: 'postgres.data.svc.cluster.local',
  POSTGRES_PORT: '5432',
  POSTGRES_DATABASE: 'app',
  POSTGRES_USER: 'backup',
  NEO4J_HOST: 'neo4j.data.svc.cluster.local',
  NEO4J_BOLT_PORT: '7687',
  NEO4J_BACKUP_PORT: '6362',
  NEO4J_DATABASE: 'neo4j',
  NEO4J_STATEFULSET: 'neo4j',
  NEO4J_USERNAME: 'neo4j',
  ...SECRETS,
};

let standIn: Cluster;
let kubeconfig: string;
let jobsDir: string;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...VALUES,
    KUBECONFIG: kubeconfig,
    DB_RUNBOOK_BACKUP_JOBS_DIR: jobsDir,
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...extra,
  };
}

type ApiObject = Record<string, unknown> & { metadata: Record<string, unknown> };

/** One request to the API server as its admin (client certificate from the admin kubeconfig): status and parsed body. */
async function request(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: ApiObject }> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const options: RequestOptions = {
    method,
    headers: text ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } : {},
  };
  await standIn.admin.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${standIn.url}${path}`, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ApiObject,
        }),
      );
    });
    req.on('error', reject);
    req.end(text);
  });
}

async function api(path: string): Promise<ApiObject> {
  const response = await request('GET', path);
  expect(response.status, path).toBe(200);
  return response.body;
}

/**
 * kubectl's own output for the same inputs (kubectl built at the server's version).
 */
async function kubectl(args: string[]): Promise<ApiObject> {
  const { stdout } = await promisify(execFile)(standIn.kubectl, [...args, '--dry-run=client', '-o', 'json'], {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: kubeconfig },
  });
  return JSON.parse(stdout) as ApiObject;
}

function literals(names: string[]): string[] {
  return names.map((name) => `--from-literal=${name}=${VALUES[name as keyof typeof VALUES]}`);
}

/** The object as the API returns it, minus what the server adds: comparable with kubectl's dry-run output. */
function comparable(object: Record<string, unknown> & { metadata: Record<string, unknown> }) {
  const { name, namespace, labels } = object.metadata;
  return { kind: object.kind, apiVersion: object.apiVersion, name, namespace, labels, data: object.data };
}

function expectNoSecrets(text: string): void {
  for (const secret of Object.values(SECRETS)) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(secret).toString('base64'));
  }
}

/** The write requests a CLI run sent to the API server, as its journal records them. */
function writes(run: { sessionDir: string }): string[] {
  return journalEvents(run.sessionDir)
    .filter((event) => event.type === 'api' && event.service === 'kubernetes')
    .filter((event) => event.method !== 'GET' && !String(event.path).includes('selfsubjectaccessreviews'))
    .map((event) => `${String(event.method)} ${String(event.path).split('?')[0]}`);
}

const OBJECTS = [
  '/api/v1/namespaces/data/secrets/database-backup-storage',
  '/api/v1/namespaces/data/secrets/postgres-backup-credentials',
  '/api/v1/namespaces/data/secrets/neo4j-backup-credentials',
  '/api/v1/namespaces/data/configmaps/database-backup-settings',
  '/api/v1/namespaces/data/configmaps/database-backup-scripts',
  '/api/v1/namespaces/data/serviceaccounts/database-backup',
  '/apis/batch/v1/namespaces/data/cronjobs/postgres-daily-backup',
  '/apis/batch/v1/namespaces/data/cronjobs/neo4j-daily-backup',
];

/** The API server's resourceVersion of each object the runbook writes: any write changes one. */
async function resourceVersions(): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const path of OBJECTS) {
    const object = await api(path).catch(() => undefined);
    versions[path] = String(
      (object?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion ?? 'absent',
    );
  }
  return versions;
}

beforeAll(async () => {
  const work = tempDir('db-runbook-e2e-configure-');
  standIn = await startCluster({ workDir: join(work, 'kube') });
  kubeconfig = standIn.kubeconfigPath;
  jobsDir = join(work, 'backup-jobs');
  cpSync(existsSync(join(SHIPPED, 'cronjobs.yaml')) ? SHIPPED : FIXTURE, jobsDir, { recursive: true });
});

afterAll(async () => {
  await standIn?.stop();
});

describe('db-runbook run configure deploy (real kube-apiserver)', () => {
  it('creates the objects exactly as kubectl create … --dry-run=client would, plus the managed-by label', async () => {
    const run = await runCli(['run', 'configure', 'deploy', '--yes'], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain(
      'Secret data/database-backup-storage: create (keys S3_BUCKET, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL)',
    );
    expect(run.stdout).toMatch(
      /✓ CronJob postgres-daily-backup\s+0 2 \* \* \* \(daily at 02:00 UTC\) · next run \d{4}-\d\d-\d\d 02:00 UTC/,
    );
    expect(run.stdout).toMatch(/✓ CronJob neo4j-daily-backup\s+30 2 \* \* \* \(daily at 02:30 UTC\)/);
    expect(run.stdout).toContain('last scheduled never');
    expect(run.stdout).toMatch(/8 step\(s\): 8 done, 0 failed/);
    expectNoSecrets(run.stdout);
    expectNoSecrets(journalText(run.sessionDir));

    const label = { 'app.kubernetes.io/managed-by': 'db-runbook' };
    const withLabel = (object: ReturnType<typeof comparable>) => ({ ...object, labels: label });
    const secrets: [string, string[]][] = [
      [
        'database-backup-storage',
        ['S3_BUCKET', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL'],
      ],
      [
        'postgres-backup-credentials',
        ['POSTGRES_HOST', 'POSTGRES_PORT', 'POSTGRES_DATABASE', 'POSTGRES_USER', 'POSTGRES_PASSWORD'],
      ],
      [
        'neo4j-backup-credentials',
        [
          'NEO4J_HOST',
          'NEO4J_BOLT_PORT',
          'NEO4J_DATABASE',
          'NEO4J_USERNAME',
          'NEO4J_PASSWORD',
          'NEO4J_BACKUP_PORT',
        ],
      ],
    ];
    for (const [name, keys] of secrets) {
      const live = await api(`/api/v1/namespaces/data/secrets/${name}`);
      const expected = await kubectl([
        'create',
        'secret',
        'generic',
        name,
        '--namespace',
        'data',
        ...literals(keys),
      ]);
      expect(comparable(live)).toEqual(withLabel(comparable(expected)));
      expect(live.type).toBe('Opaque');
    }
    const settings = await api('/api/v1/namespaces/data/configmaps/database-backup-settings');
    expect(comparable(settings)).toEqual(
      withLabel(
        comparable(
          await kubectl([
            'create',
            'configmap',
            'database-backup-settings',
            '--namespace',
            'data',
            '--from-literal=POSTGRES_S3_PREFIX=postgres/',
            '--from-literal=NEO4J_S3_PREFIX=neo4j/',
          ]),
        ),
      ),
    );
    const scripts = readdirSync(join(jobsDir, 'scripts')).filter((file) => file.endsWith('.sh'));
    expect(scripts.length).toBeGreaterThanOrEqual(2);
    const scriptsLive = await api('/api/v1/namespaces/data/configmaps/database-backup-scripts');
    const scriptsKubectl = await kubectl([
      'create',
      'configmap',
      'database-backup-scripts',
      '--namespace',
      'data',
      ...scripts.map((file) => `--from-file=${file}=${join(jobsDir, 'scripts', file)}`),
    ]);
    expect(comparable(scriptsLive)).toEqual(withLabel(comparable(scriptsKubectl)));
    expect(scriptsLive.binaryData).toEqual(scriptsKubectl.binaryData);
    const account = await api('/api/v1/namespaces/data/serviceaccounts/database-backup');
    expect(comparable(account)).toEqual(
      withLabel(
        comparable(await kubectl(['create', 'serviceaccount', 'database-backup', '--namespace', 'data'])),
      ),
    );

    // CronJobs: the manifest's settings kept, schedules from the values, in the namespace.
    const manifest = parseAllDocuments(readFileSync(join(jobsDir, 'cronjobs.yaml'), 'utf8'))
      .map(
        (document) =>
          document.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
      )
      .filter((object) => object?.kind === 'CronJob');
    for (const cronjob of manifest) {
      const live = await api(`/apis/batch/v1/namespaces/data/cronjobs/${cronjob.metadata.name}`);
      const spec = live.spec as Record<string, unknown>;
      expect(spec).toMatchObject(cronjob.spec);
      expect(spec.timeZone).toBe('Etc/UTC');
      expect(spec.concurrencyPolicy).toBe('Forbid');
    }
    const postgres = await api('/apis/batch/v1/namespaces/data/cronjobs/postgres-daily-backup');
    expect((postgres.spec as { schedule: string }).schedule).toBe('0 2 * * *');
    const neo4j = await api('/apis/batch/v1/namespaces/data/cronjobs/neo4j-daily-backup');
    expect((neo4j.spec as { schedule: string }).schedule).toBe('30 2 * * *');
  });

  it('changes nothing on a second run: every object unchanged, no write request, no gate', async () => {
    const before = await resourceVersions();
    const run = await runCli(['run', 'configure', 'deploy', '--yes', '--json'], { env: env() });
    expect(run.exitCode).toBe(0);
    expect(writes(run)).toEqual([]);
    expect(await resourceVersions()).toEqual(before);
    const events = run.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { type: string; lines?: string[]; method?: string });
    const previews = events.filter((event) => event.type === 'preview').flatMap((event) => event.lines ?? []);
    const objectLines = previews.filter((line) => /^(Secret|ConfigMap|ServiceAccount|CronJob) /.test(line));
    // 6 configure objects; the 2 backup CronJobs, the 2 restore-verify CronJobs and their smoke-queries ConfigMap
    expect(objectLines).toHaveLength(11);
    for (const line of objectLines) expect(line).toMatch(/: unchanged$/);
    expect(events.filter((event) => event.type === 'gate')).toEqual([]);
    expect(events.filter((event) => event.type === 'api' && event.method === 'PATCH')).toEqual([]);
    expectNoSecrets(run.stdout);
  });

  it('re-applies only the scripts ConfigMap after one script changes, naming the changed key', async () => {
    const file = readdirSync(join(jobsDir, 'scripts'))
      .filter((name) => name.endsWith('.sh'))
      .sort()[0]!;
    writeFileSync(
      join(jobsDir, 'scripts', file),
      `${readFileSync(join(jobsDir, 'scripts', file), 'utf8')}\n# changed by the e2e test\n`,
    );
    const run = await runCli(['run', 'configure', 'deploy', '--yes'], { env: env() });
    expect(run.exitCode).toBe(0);
    expect(writes(run)).toEqual(['PATCH /api/v1/namespaces/data/configmaps/database-backup-scripts']);
    expect(run.stdout).toContain(`ConfigMap data/database-backup-scripts: update: keys ${file}`);
    const live = await api('/api/v1/namespaces/data/configmaps/database-backup-scripts');
    expect((live.data as Record<string, string>)[file]).toContain('# changed by the e2e test');
  });

  it('applies edited schedules and keeps the manifest’s other settings', async () => {
    const run = await runCli(['run', 'deploy', '--yes'], {
      env: env({ POSTGRES_BACKUP_SCHEDULE: '15 3 * * 0' }),
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('CronJob data/postgres-daily-backup: update: fields spec.schedule');
    expect(run.stdout).toContain('CronJob data/neo4j-daily-backup: unchanged');
    expect(run.stdout).toContain('15 3 * * 0 (every Sunday at 03:15 UTC)');
    expect(writes(run)).toEqual(['PATCH /apis/batch/v1/namespaces/data/cronjobs/postgres-daily-backup']);
    const live = await api('/apis/batch/v1/namespaces/data/cronjobs/postgres-daily-backup');
    expect(live.spec).toMatchObject({
      schedule: '15 3 * * 0',
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
    });
  });

  it('fails with exit 1 naming "create secrets" and the RBAC rule when the cluster denies it', async () => {
    await standIn.deny({ verb: 'create', resource: 'secrets' });
    try {
      const run = await runCli(['run', 'configure.storage-secret', '--yes', '-n', 'default'], { env: env() });
      expect(run.exitCode).toBe(1);
      const output = run.stdout + run.stderr;
      expect(output).toContain('cannot create secrets in namespace "default"');
      expect(output).toContain('resources: ["secrets"], verbs: ["create", "patch"]');
      expectNoSecrets(output);
      expectNoSecrets(journalText(run.sessionDir));
    } finally {
      await standIn.allow({ verb: 'create', resource: 'secrets' });
    }
  });

  it('asks for a typed confirmation before taking over an object someone else manages', async () => {
    const response = await request(
      'POST',
      '/api/v1/namespaces/default/configmaps?fieldManager=kubectl-create',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'database-backup-settings', namespace: 'default' },
        data: { POSTGRES_S3_PREFIX: 'pg-old/', NEO4J_S3_PREFIX: 'neo4j/' },
      },
    );
    expect(response.status).toBe(201);
    const refused = await runCli(['run', 'configure.settings', '--yes', '-n', 'default'], { env: env() });
    expect(refused.exitCode).toBe(3);
    expect(refused.stdout).toContain(
      'managed by someone else: kubectl-create (Update) owns data.POSTGRES_S3_PREFIX',
    );
    expect(refused.stdout + refused.stderr).toContain('database-backup-settings');
    const accepted = await runCli(
      ['run', 'configure.settings', '--yes', '--confirm', 'database-backup-settings', '-n', 'default'],
      { env: env() },
    );
    expect(accepted.exitCode).toBe(0);
    expect(accepted.stdout).toContain('took ownership with force');
    const live = await api('/api/v1/namespaces/default/configmaps/database-backup-settings');
    expect(live.data).toEqual({ POSTGRES_S3_PREFIX: 'postgres/', NEO4J_S3_PREFIX: 'neo4j/' });
  });

  it('exits 2 on a bad port and names every missing value at once, before any request', async () => {
    const before = await resourceVersions();
    const badPort = await runCli(['run', 'configure', 'deploy', '--yes'], {
      env: env({ POSTGRES_PORT: '70000' }),
    });
    expect(badPort.exitCode).toBe(2);
    expect(badPort.stderr).toContain('POSTGRES_PORT must be a port number from 1 to 65535');

    const missingEnv = env();
    delete (missingEnv as Record<string, string | undefined>).POSTGRES_PASSWORD;
    delete (missingEnv as Record<string, string | undefined>).NEO4J_HOST;
    delete (missingEnv as Record<string, string | undefined>).S3_BUCKET;
    const missing = await runCli(['run', 'configure', 'deploy', '--yes'], { env: missingEnv });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/missing values: S3_BUCKET, POSTGRES_PASSWORD, NEO4J_HOST/);
    expect(writes(badPort)).toEqual([]);
    expect(writes(missing)).toEqual([]);
    expect(await resourceVersions()).toEqual(before);
  });

  it('applies the CronJobs exactly as `kubectl apply --server-side` (built at the server version) does: same objects, same managed fields', async () => {
    const deployed = await runCli(['run', 'configure', 'deploy', '--yes', '-n', 'default'], { env: env() });
    expect(deployed.exitCode).toBe(0);
    const created = await request('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'kubectl-compare' },
    });
    expect(created.status).toBe(201);
    const manifest = join(tempDir('kubectl-compare-'), 'cronjobs.yaml');
    writeFileSync(
      manifest,
      readFileSync(join(jobsDir, 'cronjobs.yaml'), 'utf8').replaceAll(
        'namespace: data',
        'namespace: kubectl-compare',
      ),
    );
    await promisify(execFile)(standIn.kubectl, [
      '--kubeconfig',
      standIn.adminKubeconfigPath,
      'apply',
      '--server-side',
      '--field-manager=db-runbook',
      '-f',
      manifest,
    ]);
    const applied = (fields: ApiObject) =>
      (
        (fields.metadata.managedFields ?? []) as {
          manager: string;
          operation: string;
          apiVersion: string;
          fieldsV1: unknown;
        }[]
      )
        .filter((entry) => entry.manager === 'db-runbook' && entry.operation === 'Apply')
        .map(({ apiVersion, fieldsV1 }) => ({ apiVersion, fieldsV1 }));
    for (const name of ['postgres-daily-backup', 'neo4j-daily-backup']) {
      const product = await api(`/apis/batch/v1/namespaces/default/cronjobs/${name}`);
      const kubectlMade = await api(`/apis/batch/v1/namespaces/kubectl-compare/cronjobs/${name}`);
      expect(product.spec, name).toEqual(kubectlMade.spec);
      expect(product.metadata.labels, name).toEqual(kubectlMade.metadata.labels);
      expect(applied(product), name).toEqual(applied(kubectlMade));
      expect(applied(product)).toHaveLength(1);
    }
  });

  it('journals API calls by method, path and object name only', async () => {
    const run = await runCli(['run', 'configure.storage-secret', '--yes'], { env: env() });
    expect(run.exitCode).toBe(0);
    const api = journalEvents(run.sessionDir).filter((event) => event.type === 'api');
    expect(api).toContainEqual(
      expect.objectContaining({
        method: 'GET',
        path: '/api/v1/namespaces/data/secrets/database-backup-storage',
        object: 'database-backup-storage',
        step: 'configure.storage-secret',
      }),
    );
    expectNoSecrets(journalText(run.sessionDir));
  });
});
