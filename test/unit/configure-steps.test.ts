import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Adapters } from '../../src/adapters/types.js';
import type { GateAnswer, Session } from '../../src/engine/session.js';
import { secretFromLiterals } from '../../src/runbook/k8s-objects.js';
import { renderPlanText } from '../../src/runbook/plan.js';
import type { Gate } from '../../src/runbook/step.js';
import { resolveValues } from '../../src/runbook/values.js';
import { planSections } from '../../src/commands/plan.js';
import { configureSteps } from '../../src/steps/configure/index.js';
import { selectSteps } from '../../src/steps/index.js';
import { FakeKube } from '../fixtures/configure/fake-kube.js';
import { testSession } from '../support/session.js';
import { tempDir } from '../support/temp.js';

const FIXTURE = new URL('../fixtures/configure/backup-jobs', import.meta.url).pathname;

const ENV = {
  S3_BUCKET: 'acme-db-backups',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEY123',
  AWS_SECRET_ACCESS_KEY: 'sup3r/secret+key=value',
  POSTGRES_HOST: 'pg.data.svc.cluster.local',
  POSTGRES_DATABASE: 'app',
  POSTGRES_USER: 'backup',
  POSTGRES_PASSWORD: 'pg-pass-Ω-42',
  NEO4J_HOST: 'neo4j.data.svc.cluster.local',
  NEO4J_PASSWORD: 'neo-pass-99',
};
const SECRETS = ['AKIAEXAMPLEKEY123', 'sup3r/secret+key=value', 'pg-pass-Ω-42', 'neo-pass-99'];

let jobsDir: string;
beforeEach(() => {
  jobsDir = tempDir('configure-jobs-');
  cpSync(FIXTURE, jobsDir, { recursive: true });
  process.env.DB_RUNBOOK_BACKUP_JOBS_DIR = jobsDir;
});
afterEach(() => {
  delete process.env.DB_RUNBOOK_BACKUP_JOBS_DIR;
});

function sessionWith(
  kube: FakeKube,
  env: Record<string, string> = ENV,
): { session: Session; journalDir: string } {
  return testSession({
    env,
    adapters: (real: Adapters) => ({ ...real, kube: async () => kube }),
  });
}

function journal(dir: string): string {
  return readdirSync(dir)
    .map((name) => readFileSync(join(dir, name), 'utf8'))
    .join('');
}

function expectNoSecrets(text: string): void {
  for (const secret of SECRETS) {
    expect(text).not.toContain(secret);
    expect(text).not.toContain(Buffer.from(secret).toString('base64'));
  }
}

async function runAll(session: Session, answer: (gate: Gate) => GateAnswer = () => 'accepted') {
  const gates: Gate[] = [];
  const outcomes = [];
  for (const step of selectSteps(['configure'])) {
    outcomes.push({
      id: step.id,
      ...(await session.run(step, {
        confirm: async (gate) => {
          gates.push(gate);
          return answer(gate);
        },
      })),
    });
  }
  return { gates, outcomes };
}

describe('configure plan', () => {
  it('shows the kubectl pipelines with secrets masked and the namespace given', () => {
    const { values } = resolveValues({ env: ENV });
    const text = renderPlanText(
      planSections(['configure', 'deploy'], values, { namespace: 'backups' }),
      values,
    );
    expectNoSecrets(text);
    expect(text).toContain('kubectl create secret generic database-backup-storage --namespace backups');
    expect(text).toContain('--from-literal=AWS_SECRET_ACCESS_KEY=••••••');
    expect(text).toContain('--from-literal=AWS_ACCESS_KEY_ID=••••••');
    expect(text).toContain('--from-literal=S3_BUCKET=acme-db-backups');
    expect(text).not.toContain('AWS_ENDPOINT_URL=');
    expect(text).toContain('--from-literal=POSTGRES_PASSWORD=••••••');
    expect(text).toContain('--from-literal=NEO4J_BACKUP_PORT=6362');
    expect(text).toContain('--from-file=postgres-backup.sh=');
    expect(text).toContain('| kubectl label --local -f - -o yaml app.kubernetes.io/managed-by=db-runbook');
    expect(text).toContain('| kubectl apply --server-side --field-manager=db-runbook -f -');
    expect(text).toContain('kubectl create serviceaccount database-backup --namespace backups');
    expect(text).toContain('configure.service-account: ServiceAccount database-backup (optional)\n');
    expect(text).toContain('kubectl apply --server-side --field-manager=db-runbook -f');
    expect(text).toContain('postgres-daily-backup: 0 2 * * * — daily at 02:00 UTC.');
    expect(text).toContain('neo4j-daily-backup: 30 2 * * * — daily at 02:30 UTC.');
    expect(text).toMatch(/metadata\.namespace = backups/);
  });

  it('includes AWS_ENDPOINT_URL only for an S3-compatible provider', () => {
    const { values } = resolveValues({ env: { ...ENV, AWS_ENDPOINT_URL: 'http://minio.local:9000' } });
    const text = renderPlanText(
      planSections(['configure.storage-secret'], values, { namespace: 'data' }),
      values,
    );
    expect(text).toContain('--from-literal=AWS_ENDPOINT_URL=http://minio.local:9000');
  });

  it('lists every configure step in runbook order', () => {
    expect(configureSteps.map((step) => step.id)).toEqual([
      'configure.storage-secret',
      'configure.postgres-secret',
      'configure.neo4j-secret',
      'configure.settings',
      'configure.scripts',
      'configure.service-account',
      'configure.neo4j-scaler-role',
    ]);
  });
});

describe('configure run', () => {
  it('creates every object, then a second run changes nothing and asks nothing', async () => {
    const kube = new FakeKube();
    const first = sessionWith(kube);
    const { gates, outcomes } = await runAll(first.session);
    expect(outcomes.map((o) => [o.id, o.status])).toEqual(configureSteps.map((step) => [step.id, 'done']));
    expect(gates.map((gate) => gate.kind)).toEqual(Array(6).fill('confirm'));
    expect(gates[0]?.prompt).toBe(
      'Apply Secret database-backup-storage (create) in namespace data (context SANDBOX)',
    );
    expect(gates[0]?.target).toMatchObject({ namespace: 'data', objects: 'Secret/database-backup-storage' });
    expect(kube.writes().map((call) => `${call.kind}/${call.name}`)).toEqual([
      'Secret/database-backup-storage',
      'Secret/postgres-backup-credentials',
      'Secret/neo4j-backup-credentials',
      'ConfigMap/database-backup-settings',
      'ConfigMap/database-backup-scripts',
      'ServiceAccount/database-backup',
    ]);
    const storage = kube.objects.get('Secret/database-backup-storage');
    expect(Object.keys(storage?.data as object)).toEqual([
      'S3_BUCKET',
      'AWS_DEFAULT_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ]);
    expect(Object.keys(kube.objects.get('Secret/neo4j-backup-credentials')?.data as object)).toContain(
      'NEO4J_BACKUP_PORT',
    );
    expect(Object.keys(kube.objects.get('ConfigMap/database-backup-scripts')?.data as object)).toEqual([
      'neo4j-backup.sh',
      'neo4j-restore.sh',
      'postgres-backup.sh',
      'postgres-restore.sh',
    ]);
    const text = journal(first.journalDir);
    expect(text).toContain(
      'Secret data/database-backup-storage: create (keys S3_BUCKET, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
    );
    expectNoSecrets(text);

    const writesBefore = kube.writes().length;
    const second = sessionWith(kube);
    const again = await runAll(second.session);
    expect(again.outcomes.every((o) => o.status === 'done')).toBe(true);
    expect(again.gates).toEqual([]);
    expect(kube.writes().length).toBe(writesBefore);
    const secondText = journal(second.journalDir);
    expect(secondText.match(/"type":"preview"[^\n]*: unchanged/g)?.length).toBe(6);
    expectNoSecrets(secondText);
  });

  it('names the changed keys only (never values) when a secret changes, and re-applies only the scripts after a script edit', async () => {
    const kube = new FakeKube();
    await runAll(sessionWith(kube).session);
    const before = kube.writes().length;
    writeFileSync(join(jobsDir, 'scripts', 'postgres-backup.sh'), '#!/usr/bin/env bash\necho changed\n');
    const rotated = sessionWith(kube, { ...ENV, AWS_SECRET_ACCESS_KEY: 'rotated-secret-value' });
    await runAll(rotated.session);
    expect(
      kube
        .writes()
        .slice(before)
        .map((call) => `${call.kind}/${call.name}`),
    ).toEqual(['Secret/database-backup-storage', 'ConfigMap/database-backup-scripts']);
    const text = journal(rotated.journalDir);
    expect(text).toContain('Secret data/database-backup-storage: update: keys AWS_SECRET_ACCESS_KEY');
    expect(text).toContain('ConfigMap data/database-backup-scripts: update: keys postgres-backup.sh');
    expect(text).not.toContain('rotated-secret-value');
    expect(text).not.toContain(Buffer.from('rotated-secret-value').toString('base64'));
  });

  it('removes AWS_ENDPOINT_URL it set earlier when the provider becomes AWS S3', async () => {
    const kube = new FakeKube();
    const step = selectSteps(['configure.storage-secret'])[0]!;
    const withEndpoint = sessionWith(kube, { ...ENV, AWS_ENDPOINT_URL: 'http://minio.local:9000' });
    await withEndpoint.session.run(step, { confirm: async () => 'accepted' });
    const plain = sessionWith(kube);
    const outcome = await plain.session.run(step, { confirm: async () => 'accepted' });
    expect(outcome.status).toBe('done');
    expect(journal(plain.journalDir)).toContain('update: removes keys AWS_ENDPOINT_URL');
  });

  it('asks for a typed confirmation before taking fields from another manager, and writes nothing when refused', async () => {
    const kube = new FakeKube();
    kube.seed(
      secretFromLiterals('database-backup-storage', 'data', [
        ['S3_BUCKET', 'someone-elses-bucket'],
        ['AWS_DEFAULT_REGION', 'eu-west-1'],
      ]),
      'helm',
    );
    const step = selectSteps(['configure.storage-secret'])[0]!;
    const refused = sessionWith(kube);
    const gates: Gate[] = [];
    const outcome = await refused.session.run(step, {
      confirm: async (gate) => {
        gates.push(gate);
        return 'refused';
      },
    });
    expect(outcome.exitCode).toBe(3);
    expect(gates[0]).toMatchObject({ kind: 'typed', phrase: 'database-backup-storage' });
    expect(gates[0]?.prompt).toContain('helm (Update) owns data.S3_BUCKET');
    expect(kube.writes()).toEqual([]);
    expect(journal(refused.journalDir)).toContain(
      'managed by someone else: helm (Update) owns data.S3_BUCKET',
    );
    expect(journal(refused.journalDir)).not.toContain('someone-elses-bucket');

    const accepted = sessionWith(kube);
    const done = await accepted.session.run(step, { confirm: async () => 'accepted' });
    expect(done.status).toBe('done');
    expect(kube.writes()).toEqual([
      { method: 'apply', kind: 'Secret', name: 'database-backup-storage', force: true },
    ]);
    expect(done.result?.checks?.[0]?.detail).toContain('took ownership with force');
  });

  it('fails with exit 1 naming "create secrets" and the RBAC rule when creating secrets is forbidden', async () => {
    const kube = new FakeKube();
    kube.deny('create', 'secrets');
    const { session, journalDir } = sessionWith(kube);
    const outcome = await session.run(selectSteps(['configure.storage-secret'])[0]!, {
      confirm: async () => 'accepted',
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.error?.message).toContain('cannot create secrets in namespace "data"');
    expect(outcome.error?.next).toContain('resources: ["secrets"], verbs: ["create", "patch"]');
    expect(outcome.error?.next).toContain('kubectl auth can-i create secrets -n data');
    expectNoSecrets(journal(journalDir));
  });

  it('explains a conflict the preview could not see', async () => {
    const kube = new FakeKube();
    kube.conflictOnApply.set('Secret/database-backup-storage', 'kubectl-edit');
    const { session } = sessionWith(kube);
    const outcome = await session.run(selectSteps(['configure.storage-secret'])[0]!, {
      confirm: async () => 'accepted',
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.error?.message).toContain('has fields managed by kubectl-edit');
  });
});
