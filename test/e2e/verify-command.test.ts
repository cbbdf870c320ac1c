// `db-runbook verify [--latest|URI]` (issue 19): the restore-verify CronJob's proof, on demand from the workstation,
// against the sandbox (real PostgreSQL, s3rver, the real control plane), journaled as a session.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { basePath, run, runScript } from '../support/backup-jobs-run.js';
import { journalText, runCli, sandboxEnv } from '../support/cli.js';

let sandbox: Sandbox;
let backup: string;

function env(): Record<string, string> {
  return {
    ...sandboxEnv(sandbox, join(sandbox.neo4jHome, 'bin')),
    DATABASES: 'postgres',
    HOME: process.env.HOME ?? '/tmp',
  };
}
const aws = (args: string[], input?: string) =>
  run('aws', ['--endpoint-url', sandbox.s3.endpoint, ...args], {
    env: { ...sandbox.s3.env, PATH: basePath(), HOME: sandbox.dir },
    input,
  });

beforeAll(async () => {
  sandbox = await startSandbox();
  const result = await runScript('postgres-backup.sh', {
    env: { ...sandbox.values, PATH: basePath(), BACKUP_WORK_DIR: sandbox.dir, HOME: sandbox.dir },
  });
  expect(result.code, result.stderr).toBe(0);
  backup = /^object=(\S+)$/m.exec(result.stdout)![1]!;
}, 300_000);

afterAll(async () => {
  await sandbox?.stop();
});

describe('db-runbook verify', () => {
  it('--latest proves the newest backup restorable, says so, publishes its record and journals the checks', async () => {
    const result = await runCli(['verify', '--latest'], { env: env(), timeoutMs: 240_000 });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain(`PROVEN RESTORABLE: ${backup}`);
    expect(result.stdout).toContain('row counts');
    const record = await aws(['s3', 'cp', `${backup}.verified.json`, '-']);
    expect((JSON.parse(record.stdout) as { result: string }).result).toBe('pass');
    expect(journalText(result.sessionDir)).toContain('verify.postgres');
  }, 300_000);

  it('a backup whose object was replaced after publishing is NOT RESTORABLE (exit 1), naming the failed check', async () => {
    const altered = backup.replace(/\.sql\.gz$/, '').replace(/\.\d{6}Z$/, '.999999Z') + '.sql.gz';
    expect((await aws(['s3', 'cp', backup, altered])).code).toBe(0);
    const sidecar = (await aws(['s3', 'cp', `${backup}.sha256`, '-'])).stdout;
    expect(
      (await aws(['s3', 'cp', '-', `${altered}.sha256`], sidecar.replace(/^[0-9a-f]{64}/, 'f'.repeat(64))))
        .code,
    ).toBe(0);
    const result = await runCli(['verify', altered], { env: env(), timeoutMs: 240_000 });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain('NOT RESTORABLE');
    expect(result.stdout).toContain('integrity failed');
  }, 300_000);

  it('troubleshoot explains the failed verification of the newest backup and names the last proven restorable one', async () => {
    const result = await runCli(['run', 'troubleshoot.freshness', '--yes'], { env: env() });
    expect(result.exitCode, result.stdout + result.stderr).toBe(1);
    const name = backup.slice(backup.lastIndexOf('/') + 1);
    expect(result.stdout).toMatch(
      /✗ s3:\/\/\S+\/postgres\/ proven restorable +newest \S+\.999999Z\.sql\.gz: verification FAILED \(integrity\)/,
    );
    expect(result.stdout).toContain(`last proven restorable: ${name}`);
  }, 300_000);

  it('the restore choice prefers the newest proven backup over a newer one that failed, and says so', async () => {
    const result = await runCli(['run', 'restore-postgres.choose', '--yes'], { env: env() });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const name = backup.slice(backup.lastIndexOf('/') + 1);
    expect(result.stdout).toContain(
      'the newest PROVEN restorable backup is preferred; 1 newer one(s) not proven',
    );
    expect(result.stdout).toMatch(new RegExp(`✓ proven restorable +proven restorable`));
    expect(result.stdout).toContain(name);
  }, 300_000);

  it('the DR report of the restore says the backup restored was proven restorable', async () => {
    const database = sandbox.postgres.database;
    const result = await runCli(
      ['run', 'restore-postgres', '--yes', '--confirm', database, '--confirm', `drop ${database}`],
      {
        env: env(),
        timeoutMs: 240_000,
      },
    );
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const name = backup.slice(backup.lastIndexOf('/') + 1);
    const report = await runCli(['report', '--format', 'markdown'], {
      env: env(),
      sessionDir: result.sessionDir,
    });
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout).toContain('| Proven restorable |');
    expect(report.stdout).toMatch(
      new RegExp(`${name.replace(/\./g, '\\.')}\\\` \\|[^\\n]*\\| proven restorable [^|\\n]+ ago \\|`),
    );
  }, 300_000);

  it('a URI that is not a backup is refused before anything runs (exit 2), naming the kinds it takes', async () => {
    const result = await runCli(['verify', 's3://db-backups/postgres/notes.txt'], { env: env() });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('is not a PostgreSQL backup');
    expect(result.stderr).toContain('.backup.tar.gz (Neo4j)');
    expect(journalText(result.sessionDir)).toBe('');
  });
});
