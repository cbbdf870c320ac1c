import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepsOf } from '../../src/steps/index.js';
import { journalEvents, journalText, runCli } from '../support/cli.js';
import { testSession } from '../support/session.js';
import { startSyntheticEnv, type SyntheticEnv } from '../support/synthetic.js';
import { CLOCK_SKEW_MS } from '../../src/steps/synthetic/target.js';

/**
 * `db-runbook run … test-postgres` against one sandbox shared by every run (real PostgreSQL 15, s3rver,
 * the real Kubernetes control plane whose process kubelet runs the real ops/db/backup-jobs/scripts/postgres-backup.sh).
 */

let lab: SyntheticEnv;

/** psql against the sandbox (async: s3rver and the kubelet live in this process, a sync child would block them). */
async function psql(sql: string): Promise<string> {
  const pg = lab.sandbox.postgres;
  const result = await execa(
    'psql',
    [
      '-X',
      '-v',
      'ON_ERROR_STOP=1',
      '-q',
      '-A',
      '-t',
      '-h',
      pg.host,
      '-p',
      String(pg.port),
      '-U',
      pg.user,
      '-d',
      pg.database,
    ],
    { input: sql, env: { PGPASSWORD: pg.password } },
  );
  return result.stdout.trim();
}

function expectNoSecrets(text: string, extra: string[] = []): void {
  for (const secret of [...lab.secrets, ...extra]) expect(text).not.toContain(secret);
}

function markerOf(sessionDir: string): string {
  const seeded = journalEvents(sessionDir).find(
    (event) => event.type === 'result' && event.step === 'test-postgres.seed',
  ) as { data?: { marker?: string } } | undefined;
  const marker = seeded?.data?.marker;
  if (!marker) throw new Error('no seed result in the journal');
  return marker;
}

beforeAll(async () => {
  lab = await startSyntheticEnv();
});

afterAll(async () => {
  await lab?.stop();
});

describe('db-runbook run test-postgres against the sandbox', () => {
  it('seeds a marker, runs the real postgres-backup.sh as a Job, finds the marker in the new dump with a matching sha256, and cleans up', async () => {
    const run = await runCli(
      [
        'run',
        'configure',
        'deploy',
        'test-postgres.seed',
        'test-postgres.trigger',
        'test-postgres.wait',
        'test-postgres.verify',
        '--yes',
      ],
      { env: lab.env() },
    );
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const marker = markerOf(run.sessionDir);
    expect(marker).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ synthetic check \d{8}T\d{6}Z-[a-z0-9]+$/);
    expect(await psql(`SELECT count(*) FROM backup_validation WHERE note = '${marker}'`)).toBe('1');
    // the wait step streamed the script's own log
    expect(run.stdout).toContain('postgres-backup: dumping app from 127.0.0.1');
    expect(run.stdout).toMatch(
      /✓ Job postgres-backup-test completed {2}in \d+ s \(pod postgres-backup-test-\w+, exit 0\)/,
    );
    expect(run.stdout).toMatch(
      /✓ newest dump s3:\/\/db-backups\/postgres\/\S+\.sql\.gz {2}[\d.]+ KiB, written/,
    );
    expect(run.stdout).toContain('✓ table backup_validation in the dump');
    expect(run.stdout).toContain(`✓ the dump contains this session’s marker  ${marker}`);
    expect(run.stdout).toMatch(/✓ sha256 matches the sidecar {2}[0-9a-f]{64}/);
    expect(run.stdout).toMatch(/✓ gzip stream intact .*SQL in [\d.]+ s \([\d.]+ MiB\/s\)/);

    // the Job is the one kubectl create job --from=cronjob would make
    const kube = await lab.kube();
    const job = await kube.get({
      apiVersion: 'batch/v1',
      kind: 'Job',
      name: 'postgres-backup-test',
      namespace: 'data',
    });
    const cronJob = await kube.get({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      name: 'postgres-daily-backup',
      namespace: 'data',
    });
    expect(job?.metadata.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(job?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: 'postgres-daily-backup',
        uid: cronJob?.metadata.uid,
        controller: true,
      },
    ]);

    // the object is really there, as the aws CLI sees it
    const verified = journalEvents(run.sessionDir).find(
      (event) => event.type === 'result' && event.step === 'test-postgres.verify',
    ) as { data: { key: string; sha256: string; markerFound: boolean } };
    expect(verified.data.markerFound).toBe(true);
    const { stdout: listing } = await execa(
      'aws',
      ['s3', 'ls', 's3://db-backups/postgres/', '--endpoint-url', lab.sandbox.s3.endpoint],
      { env: lab.sandbox.s3.env },
    );
    expect(listing).toContain(verified.data.key.split('/').at(-1));

    const journal = journalText(run.sessionDir);
    expectNoSecrets(journal);
    expectNoSecrets(run.stdout + run.stderr);

    const cleanup = await runCli(['run', 'test-postgres.cleanup', '--yes'], { env: lab.env() });
    expect(cleanup.exitCode).toBe(0);
    expect(cleanup.stdout).toContain('✓ Job postgres-backup-test deleted');
    expect(
      await kube.get({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: 'postgres-backup-test',
        namespace: 'data',
      }),
    ).toBeUndefined();
    expect(journalText(cleanup.sessionDir)).toMatch(
      /"method":"DELETE","path":"\/apis\/batch\/v1\/namespaces\/data\/jobs\/postgres-backup-test"/,
    );
  });

  it('fails verify with "the dump does not contain this session\'s marker" when the marker row is gone before the Job runs', async () => {
    const { session, journalDir } = testSession({
      env: lab.sandbox.values,
      kubeconfig: lab.sandbox.kubeconfigPath,
    });
    const steps = stepsOf('test-postgres');
    const byName = (name: string) => steps.find((step) => step.id === `test-postgres.${name}`)!;
    const run = (name: string) => session.run(byName(name), { confirm: async () => 'accepted', options: {} });
    const seeded = await run('seed');
    expect(seeded.status).toBe('done');
    const marker = String(seeded.result?.data?.marker);
    await psql(`DELETE FROM backup_validation WHERE note = '${marker}'`);
    expect((await run('trigger')).status).toBe('done');
    expect((await run('wait')).status).toBe('done');
    const verified = await run('verify');
    expect(verified.status).toBe('failed');
    expect(verified.exitCode).toBe(1);
    expect(verified.result?.summary).toBe(`the dump does not contain this session's marker (${marker})`);
    const table = verified.result?.checks?.find((check) => check.id === 'table');
    expect(table?.status).toBe('ok');
    expect((await run('cleanup')).status).toBe('done');
    session.close('failed', 1);
    expectNoSecrets(journalText(journalDir));
  });

  it('shows the failed Job, its exit code, the log tail and the troubleshoot pointer, and exits 1, when the Secret has a wrong password', async () => {
    const wrong = 'wrong-e2e-password-4711';
    const broken = await runCli(['run', 'configure.postgres-secret', '--yes'], {
      env: lab.env({ POSTGRES_PASSWORD: wrong }),
    });
    expect(broken.exitCode, broken.stdout).toBe(0);
    try {
      const run = await runCli(['run', 'test-postgres', '--yes', '--job-timeout', '2m'], { env: lab.env() });
      expect(run.exitCode).toBe(1);
      expect(run.stdout).toContain('password authentication failed');
      expect(run.stdout).toMatch(/✗ Job postgres-backup-test failed {2}Failed=True \(BackoffLimitExceeded/);
      expect(run.stdout).toMatch(
        /✗ pod postgres-backup-test-\w+ exited with code 3 \(Error\) {2}the database refused the password/,
      );
      expect(run.stdout).toMatch(/✗ last \d+ log lines/);
      // backoffLimit 1: a second pod ran, and its log follows the first one's
      expect(run.stdout).toMatch(/── pod postgres-backup-test-\w+ \(attempt 2\) ──/);
      expect(run.stdout).toContain('postgres-backup: error: PostgreSQL unreachable or login refused');
      expect(run.stdout).toContain('→ run db-runbook run troubleshoot');
      expect(run.stdout).not.toContain('▶ test-postgres.verify');
      expectNoSecrets(journalText(run.sessionDir) + run.stdout, [wrong]);
      expectNoSecrets(journalText(broken.sessionDir) + broken.stdout, [wrong]);
    } finally {
      const fixed = await runCli(['run', 'configure.postgres-secret', '--yes'], { env: lab.env() });
      expect(fixed.exitCode).toBe(0);
    }
  });

  it('says there is no backup object newer than the trigger when verify runs before the Job published, and cleanup deletes the running Job', async () => {
    const { session, journalDir } = testSession({
      env: lab.sandbox.values,
      kubeconfig: lab.sandbox.kubeconfigPath,
    });
    const steps = stepsOf('test-postgres');
    const byName = (name: string) => steps.find((step) => step.id === `test-postgres.${name}`)!;
    const gates: string[] = [];
    const run = (name: string) =>
      session.run(byName(name), {
        confirm: async (gate) => (gates.push(gate.prompt), 'accepted'),
        options: {},
      });
    // Verify accepts objects up to CLOCK_SKEW_MS older than the trigger: let an earlier test's dump age past that.
    await new Promise((resolve) => setTimeout(resolve, CLOCK_SKEW_MS + 1500));
    expect((await run('seed')).status).toBe('done');
    // (a Job left by an earlier test is deleted first: the non-interactive fallback, behind a gate)
    expect((await run('trigger')).status).toBe('done');
    // no wait: the Job is still dumping
    const verified = await run('verify');
    expect(verified.status).toBe('failed');
    expect(verified.result?.summary).toMatch(
      /^no backup object newer than the trigger \(\S+\) under s3:\/\/db-backups\/postgres\/$/,
    );
    expect(verified.result?.checks?.[0]?.detail).toMatch(
      /; the newest there is postgres\/\S+\.sql\.gz from /,
    );
    const cleaned = await run('cleanup');
    expect(cleaned.status).toBe('done');
    expect(gates.at(-1)).toBe(
      'Delete Job postgres-backup-test in namespace data (its pods too) — it is still running?',
    );
    const kube = await lab.kube();
    expect(
      await kube.get({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: 'postgres-backup-test',
        namespace: 'data',
      }),
    ).toBeUndefined();
    session.close('failed', 1);
    expectNoSecrets(journalText(journalDir));
  });
});
