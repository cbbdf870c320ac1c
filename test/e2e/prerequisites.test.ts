import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SANDBOX_S3_SECRET_ACCESS_KEY } from '../../src/sandbox/s3.js';
import { journalEvents, journalText, runCli } from '../support/cli.js';

describe('db-runbook run prerequisites against the sandbox', () => {
  it('passes: tools found, cluster permissions granted, bucket answers, databases reachable', async () => {
    const run = await runCli(['run', 'prerequisites', '--yes', '--sandbox']);
    expect(run.stderr).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('SANDBOX');
    expect(run.stdout).toMatch(/✓ kubectl/);
    expect(run.stdout).toMatch(/✓ can create secrets/);
    expect(run.stdout).toMatch(/✓ can create jobs\.batch/);
    expect(run.stdout).toMatch(/✓ bucket db-backups/);
    expect(run.stdout).toMatch(/✓ PostgreSQL 127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/✓ Neo4j backup port 127\.0\.0\.1:\d+/);
    // The sandbox's Neo4j is a real 5.26 Community, asked over Bolt; its Role is made by configure, later.
    expect(run.stdout).toMatch(/✓ Neo4j 5\.26\.\d+ Community {2}no online backup/);
    expect(run.stdout).toMatch(/✓ StatefulSet neo4j {2}1 replica\(s\); its store is the claim data-neo4j-0/);
    expect(run.stdout).toMatch(/! Role neo4j-backup-scaler: .* the Role does not exist yet/);
    expect(run.stdout).toMatch(/✓ may create the scratch database/);
    expect(run.stdout).toMatch(/6 step\(s\): 6 done, 0 failed/);

    const [file] = readdirSync(run.sessionDir);
    expect(statSync(join(run.sessionDir, file!)).mode & 0o777).toBe(0o600);
    const events = journalEvents(run.sessionDir);
    const types = new Set(events.map((event) => event.type));
    for (const type of [
      'session-start',
      'values',
      'step-state',
      'api',
      'command',
      'check',
      'result',
      'session-end',
    ])
      expect(types).toContain(type);
    const api = events
      .filter((event) => event.type === 'api')
      .map((event) => `${event.method} ${event.path}`);
    expect(api).toContain('POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews');
    expect(api.some((line) => line.startsWith('HEAD HeadBucket /db-backups'))).toBe(true);
  });

  it('fails with exit 1 and names the missing verb and resource when the cluster denies creating secrets', async () => {
    const run = await runCli(['run', 'prerequisites', '--yes', '--sandbox'], {
      env: { DB_RUNBOOK_SANDBOX_FAULTS: 'deny=create/secrets' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/✗ can create secrets/);
    expect(run.stdout).toContain('resources: ["secrets"], verbs: ["create"]');
    expect(run.stdout).toMatch(/✓ can patch secrets/);
  });

  it('fails with exit 1 and names the S3 endpoint when the object store is down', async () => {
    const run = await runCli(['run', 'prerequisites', '--yes', '--sandbox'], {
      env: { DB_RUNBOOK_SANDBOX_FAULTS: 's3-down' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/✗ bucket db-backups\s+cannot reach S3 at http:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).toContain('Check AWS_ENDPOINT_URL');
  });

  it('keeps every secret out of the journal and the output', async () => {
    const run = await runCli(['run', 'prerequisites', '--yes', '--sandbox', '--write-canary']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/✓ write canary/);
    const everything = journalText(run.sessionDir) + run.stdout + run.stderr;
    for (const secret of [SANDBOX_S3_SECRET_ACCESS_KEY, 'sandbox-pg-password'])
      expect(everything).not.toContain(secret);
    const values = journalEvents(run.sessionDir).find((event) => event.type === 'values') as {
      values: Record<string, { secret?: boolean; value?: string }>;
    };
    expect(values.values.POSTGRES_PASSWORD).toEqual({ source: 'sandbox', secret: true });
    expect(values.values.S3_BUCKET?.value).toBe('db-backups');
  });
});

describe('db-runbook from a script', () => {
  it('plan prerequisites prints the checks and the equivalent commands, changing nothing', async () => {
    const run = await runCli(['plan', 'prerequisites'], {
      env: { S3_BUCKET: 'acme-backups', NEO4J_HOST: 'neo4j.data.svc' },
    });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toContain('kubectl auth can-i create secrets -n data');
    expect(run.stdout).toContain('aws s3api head-bucket --bucket acme-backups');
    expect(run.stdout).toContain('/dev/tcp/neo4j.data.svc/6362');
    expect(readdirSync(run.sessionDir)).toEqual([]);
  });

  it('--json prints one JSON event per line', async () => {
    const run = await runCli(['run', 'prerequisites.binaries', '--yes', '--json'], {
      env: { DATABASES: 'postgres' },
    });
    const lines = run.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(5);
    const events = lines.map((line) => JSON.parse(line) as { type: string });
    expect(events[0]?.type).toBe('session-start');
    expect(events.at(-1)?.type).toBe('session-end');
  });

  it('without a terminal the interactive command says to use plan or run, and exits 2', async () => {
    const run = await runCli([]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('needs a terminal');
    expect(run.stderr).toContain('db-runbook run SECTION --yes');
  });

  it('a bad value exits 2 and says which and why, without a stack trace', async () => {
    const run = await runCli(['run', 'prerequisites', '--yes'], { env: { POSTGRES_PORT: '70000' } });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('POSTGRES_PORT must be a port number from 1 to 65535');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown section exits 2 and lists the sections', async () => {
    const run = await runCli(['run', 'prerequisite', '--yes']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('unknown section or step "prerequisite"');
  });

  it('a missing kubeconfig context fails the cluster check with the next step, not a stack trace', async () => {
    const run = await runCli(['run', 'prerequisites.cluster', '--yes', '--context', 'nope'], {
      env: { KUBECONFIG: '/nonexistent/kubeconfig' },
    });
    expect(run.exitCode).not.toBe(0);
    expect(run.stderr + run.stdout).toMatch(/kubeconfig/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
