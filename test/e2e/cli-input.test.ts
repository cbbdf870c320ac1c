// Bad input is caught before the first write: options, values and the values file are checked up
// front, every problem named at once (exit 2); a typed phrase that is known and not given is refused
// before any step runs (exit 3); a resume does not trust what a vanished sandbox did.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { journalEvents, runCli } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const NO_CLUSTER = { KUBECONFIG: '/nonexistent/kubeconfig', HOME: '/nonexistent-home' };

describe('input checked before anything is done', () => {
  it('verify --neo4j with a PostgreSQL backup URI exits 2 and says which kinds it takes', async () => {
    const run = await runCli(['verify', '--neo4j', 's3://db-backups/postgres/2026-12-05T02-00-00Z.sql.gz']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('is not a Neo4j backup');
    expect(run.stderr).toContain('.backup.tar.gz (Neo4j)');
    expect(readdirSync(run.sessionDir)).toEqual([]);
  });

  it('run configure deploy test-postgres --yes --job-timeout banana exits 2 before applying anything', async () => {
    const run = await runCli(
      ['run', 'configure', 'deploy', 'test-postgres', '--yes', '--job-timeout', 'banana'],
      {
        env: { ...NO_CLUSTER, S3_BUCKET: 'acme-db-backups' },
      },
    );
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/--job-timeout "banana" is not a duration/);
    // Nothing started: no journal at all.
    expect(readdirSync(run.sessionDir)).toEqual([]);
  });

  it('names every problem at once: values-file typos with "did you mean", a bad setting and a bad option', async () => {
    const dir = tempDir('db-runbook-values-');
    const file = join(dir, 'values.yaml');
    writeFileSync(file, 'POSTGRES_HSOT: db.internal\nrtoTarget: soon\nS3_BUCKET: acme-db-backups\n');
    const run = await runCli(
      ['run', 'prerequisites', '--yes', '--values', file, '--incident-time', 'yesterday'],
      {
        env: NO_CLUSTER,
      },
    );
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/3 problems in the input \(nothing was done\)/);
    expect(run.stderr).toContain(
      'POSTGRES_HSOT in the values file is not a value or setting db-runbook knows (did you mean POSTGRES_HOST?)',
    );
    expect(run.stderr).toMatch(/rtoTarget "soon" is not a duration/);
    expect(run.stderr).toMatch(/--incident-time "yesterday" is not a UTC time/);
    expect(readdirSync(run.sessionDir)).toEqual([]);
  });

  it('run prerequisites names every value it is missing, not only S3_BUCKET', async () => {
    const run = await runCli(['run', 'prerequisites', '--yes'], { env: NO_CLUSTER });
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /missing value: S3_BUCKET; also not set \(the checks that use them would be skipped\): .*POSTGRES_HOST.*NEO4J_HOST/,
    );
  });

  it('a wrong --confirm is refused before any step runs, when the phrase is known from the values', async () => {
    const run = await runCli(
      [
        'run',
        'restore-postgres',
        '--yes',
        '--confirm',
        'app',
        '--restore-uri',
        's3://acme-db-backups/postgres/x.sql.gz',
      ],
      {
        env: {
          ...NO_CLUSTER,
          S3_BUCKET: 'acme-db-backups',
          POSTGRES_HOST: '127.0.0.1',
          POSTGRES_PORT: '9',
          POSTGRES_DATABASE: 'app',
          POSTGRES_USER: 'backup',
          POSTGRES_PASSWORD: 'pw-never-shown',
        },
      },
    );
    expect(run.exitCode, run.stderr).toBe(3);
    expect(run.stderr).toMatch(
      /gate refused before anything ran: restore-postgres\.restore asks for the typed phrase "drop app"/,
    );
    const events = journalEvents(run.sessionDir);
    // No step ran: no state change, no API call, no command.
    expect(events.filter((e) => ['step-state', 'api', 'command'].includes(String(e.type)))).toEqual([]);
    expect(events.find((e) => e.type === 'gate')).toMatchObject({
      step: 'restore-postgres.restore',
      answer: 'refused',
      via: 'flag',
    });
    expect(events.at(-1)).toMatchObject({ type: 'session-end', outcome: 'refused', exitCode: 3 });
  });

  it('resume refuses a session whose sandbox no longer exists, instead of trusting its done steps', async () => {
    const sessionDir = tempDir('db-runbook-resume-');
    const id = '20261205T010203Z-abcd';
    writeSandboxJournal(sessionDir, id);
    const run = await runCli(['resume', id, '--yes'], { env: NO_CLUSTER, sessionDir });
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /cannot be resumed: it ran against a sandbox \(https:\/\/127\.0\.0\.1:1\), and this run has none/,
    );
    expect(existsSync(join(sessionDir, `${id}.jsonl`))).toBe(true);
  });

  it('--sandbox resume refuses a session of a sandbox that no longer exists (a new sandbox is another one)', async () => {
    const sessionDir = tempDir('db-runbook-resume-sandbox-');
    const id = '20261205T010203Z-efgh';
    writeSandboxJournal(sessionDir, id);
    const run = await runCli(['resume', id, '--yes', '--sandbox'], { sessionDir, timeoutMs: 180_000 });
    expect(run.exitCode, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      /cannot be resumed: it ran against a sandbox that no longer exists \(API https:\/\/127\.0\.0\.1:1; this one is https:/,
    );
    // Nothing of the old session ran again: no integrity check, no gate.
    const events = journalEvents(sessionDir);
    expect(events.filter((e) => e.type === 'gate' || e.type === 'api')).toEqual([]);
  }, 200_000);
});

/** A journal of a run against a sandbox (server https://127.0.0.1:1, long gone) whose integrity step is done. */
function writeSandboxJournal(sessionDir: string, id: string): void {
  const base = { session: id, ts: '2026-12-05T01:02:03.000Z' };
  const lines = [
    {
      ...base,
      seq: 1,
      type: 'session-start',
      version: 1,
      tool: 'db-runbook',
      toolVersion: '0.1.0',
      operator: 'op',
      argv: ['run', 'restore-postgres', '--sandbox'],
      target: { context: 'SANDBOX', server: 'https://127.0.0.1:1', namespace: 'data', sandbox: true },
      mode: 'run',
    },
    {
      ...base,
      seq: 2,
      type: 'step-state',
      step: 'restore-postgres.integrity',
      section: 'restore-postgres',
      from: 'pending',
      to: 'running',
    },
    {
      ...base,
      seq: 3,
      type: 'step-state',
      step: 'restore-postgres.integrity',
      section: 'restore-postgres',
      from: 'running',
      to: 'verifying',
    },
    {
      ...base,
      seq: 4,
      type: 'step-state',
      step: 'restore-postgres.integrity',
      section: 'restore-postgres',
      from: 'verifying',
      to: 'done',
    },
  ];
  writeFileSync(
    join(sessionDir, `${id}.jsonl`),
    lines.map((line) => JSON.stringify(line)).join('\n') + '\n',
    { mode: 0o600 },
  );
}
