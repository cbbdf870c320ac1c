import { describe, expect, it } from 'vitest';
import { journalEvents, journalText, runCli } from '../support/cli.js';

/**
 * `db-runbook run … test-neo4j --sandbox`: the Neo4j parts are the sandbox's stand-ins (cypher-shell,
 * neo4j-admin); the Job is the shipped neo4j-daily-backup CronJob running the real neo4j-backup.sh.
 */

const SANDBOX_SECRETS = ['sandbox-pg-password', 'S3RVER'];

function commands(sessionDir: string): string[] {
  return journalEvents(sessionDir)
    .filter((event) => event.type === 'command')
    .map((event) => String(event.command));
}

describe('db-runbook run test-neo4j --sandbox', () => {
  it('merges the marker node with cypher-shell (no -u/-p), runs the backup Job, lists the archive entries like tar -tzf | head, matches the sha256, and says Neo4j is a stand-in', async () => {
    const run = await runCli(['run', 'configure', 'deploy', 'test-neo4j', '--yes', '--sandbox']);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'SANDBOX: Neo4j here is the db-runbook stand-in (cypher-shell, neo4j-admin), not a Neo4j server',
    );
    expect(run.stdout).toMatch(
      /✓ node \(:BackupValidation \{id: 'synthetic'\}\) merged {2}checkedAt = datetime\(\), marker "[^"]+ synthetic check [^"]+" via neo4j:\/\/127\.0\.0\.1:\d+/,
    );
    expect(run.stdout).toContain('neo4j-admin database backup --from=127.0.0.1:');
    expect(run.stdout).toMatch(/✓ Job neo4j-backup-test completed {2}in \d+ s/);
    expect(run.stdout).toMatch(/│ tar -tzf \S+\.backup\.tar\.gz \| head -10\n {2}│ neo4j-\S+\.backup\n/);
    expect(run.stdout).toMatch(/✓ newest archive s3:\/\/db-backups\/neo4j\/\S+\.backup\.tar\.gz/);
    expect(run.stdout).toMatch(/✓ \d+ entr(y|ies), .* {2}gzip and tar intact/);
    expect(run.stdout).toMatch(/✓ neo4j-admin backup files in the archive {2}neo4j-\S+\.backup/);
    expect(run.stdout).toMatch(/✓ sha256 matches the sidecar {2}[0-9a-f]{64}/);
    expect(run.stdout).toMatch(
      /done: neo4j\/\S+: \d+ entries, sha256 [0-9a-f]{12}….*\(SANDBOX: Neo4j stand-in\)/,
    );
    expect(run.stdout).toContain('✓ Job neo4j-backup-test deleted');

    const cypher = commands(run.sessionDir).filter((command) => command.startsWith('cypher-shell'));
    expect(cypher).toHaveLength(1);
    expect(cypher[0]).toMatch(/^cypher-shell -a neo4j:\/\/127\.0\.0\.1:\d+ --format plain -d neo4j /);
    expect(cypher[0]).not.toMatch(/ -u | -p | --username | --password /);

    const verified = journalEvents(run.sessionDir).find(
      (event) => event.type === 'result' && event.step === 'test-neo4j.verify',
    ) as { data: { standIn: boolean; entryCount: number; sha256: string; sidecarSha256: string } };
    expect(verified.data).toMatchObject({ standIn: true });
    expect(verified.data.sha256).toBe(verified.data.sidecarSha256);
    const journal = journalText(run.sessionDir);
    for (const secret of [...SANDBOX_SECRETS, 'sandbox-neo4j-password'])
      expect(journal).not.toContain(secret);
  });

  it('shows the failed Job with the backup-port cause and the log tail, and exits 1, when the Neo4j backup port is closed', async () => {
    const run = await runCli(['run', 'configure', 'deploy', 'test-neo4j', '--yes', '--sandbox'], {
      env: { DB_RUNBOOK_SANDBOX_FAULTS: 'neo4j-backup-closed' },
    });
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toMatch(/✗ Job neo4j-backup-test failed {2}Failed=True \(BackoffLimitExceeded/);
    expect(run.stdout).toMatch(
      /✗ pod neo4j-backup-test-\w+ exited with code \d+ \(Error\) {2}the Neo4j backup port is not reachable/,
    );
    expect(run.stdout).toMatch(/✗ last \d+ log lines/);
    expect(run.stdout).toContain('→ run db-runbook run troubleshoot');
    expect(run.stdout).not.toContain('▶ test-neo4j.verify');
  });
});
