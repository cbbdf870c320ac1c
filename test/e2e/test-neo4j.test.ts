import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createNeo4jAdapter } from '../../src/adapters/neo4j.js';
import { createLocalNeo4j } from '../../src/sandbox/neo4j.js';
import { run } from '../support/backup-jobs-run.js';
import { journalEvents, journalText, runCli } from '../support/cli.js';
import { startSyntheticEnv, type SyntheticEnv } from '../support/synthetic.js';
import { tempDir } from '../support/temp.js';

/**
 * `db-runbook run configure deploy test-neo4j --sandbox` against the sandbox's real Neo4j 5 Community
 * (StatefulSet neo4j): the marker is merged over Bolt with the driver, the Community backup Job stops
 * the server (scales the StatefulSet to 0), dumps it with the real neo4j-admin and starts it again, and
 * the archive it published holds this session's marker (loaded into a second Neo4j here and read back).
 */

const SANDBOX_SECRETS = ['sandbox-pg-password', 'S3RVER', 'sandbox-neo4j-password'];

let lab: SyntheticEnv;
let valuesFile: string;

beforeAll(async () => {
  lab = await startSyntheticEnv();
  valuesFile = join(tempDir('test-neo4j-values-'), 'values.yaml');
  // The sandbox Neo4j listens without TLS (the runbook's default scheme is neo4j+s).
  await writeFile(valuesFile, 'neo4jUriScheme: neo4j\n');
}, 300_000);

afterAll(async () => {
  await lab?.stop();
}, 120_000);

describe('db-runbook run test-neo4j against the sandbox (real Neo4j Community)', () => {
  it('merges the marker over Bolt, runs the Community backup Job that stops Neo4j for a dump, shows the downtime, and the archive holds the marker', async () => {
    const result = await runCli(
      ['run', 'configure', 'deploy', 'test-neo4j', '--yes', '--values', valuesFile],
      {
        env: lab.env(),
        timeoutMs: 600_000,
      },
    );
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    // configure and deploy: the Community path, and why.
    expect(result.stdout).toContain('database-backup may get and scale statefulset/neo4j only');
    expect(result.stdout).toMatch(
      /Neo4j 5\.26\.\d+ Community: no online backup, so the backup STOPS the server for a dump \(StatefulSet neo4j scaled to 0 and back\)/,
    );
    // the seed, over Bolt
    const marker = /marker "([^"]+)" via neo4j:\/\/127\.0\.0\.1:\d+/.exec(result.stdout)?.[1];
    expect(marker).toMatch(/synthetic check/);
    // the Job's log: stop, dump, start
    expect(result.stdout).toContain('stopping Neo4j: kubectl scale statefulset/neo4j --replicas=0');
    expect(result.stdout).toContain('neo4j-admin database dump');
    expect(result.stdout).toMatch(/Neo4j was down for \d+(\.\d)?s \(stop, dump, start\)/);
    expect(result.stdout).toMatch(/✓ Job neo4j-backup-test completed/);
    // verify: the archive's entries, its checksum and the downtime
    expect(result.stdout).toMatch(/✓ neo4j-admin backup or dump files in the archive {2}neo4j\.dump/);
    expect(result.stdout).toMatch(/✓ sha256 matches the sidecar {2}[0-9a-f]{64}/);
    expect(result.stdout).toMatch(/✓ Neo4j was down \d+(\.\d)? s for this backup/);
    expect(result.stdout).not.toContain('stand-in');

    // Cypher went over Bolt (the journal's api calls), never through cypher-shell or with the password.
    const events = journalEvents(result.sessionDir);
    expect(
      events.some((event) => event.type === 'command' && String(event.command).includes('cypher-shell')),
    ).toBe(false);
    expect(
      events.some(
        (event) =>
          event.type === 'api' && event.service === 'neo4j' && String(event.object).startsWith('MERGE'),
      ),
    ).toBe(true);
    const verified = events.find(
      (event) => event.type === 'result' && event.step === 'test-neo4j.verify',
    ) as {
      data: {
        uri: string;
        sha256: string;
        sidecarSha256: string;
        downtimeSeconds: number;
        entries: string[];
      };
    };
    expect(verified.data.sha256).toBe(verified.data.sidecarSha256);
    expect(verified.data.downtimeSeconds).toBeGreaterThan(0);
    expect([...verified.data.entries].sort()).toEqual(['backup-manifest.txt', 'neo4j.dump']);
    const journal = journalText(result.sessionDir);
    for (const secret of SANDBOX_SECRETS) expect(journal).not.toContain(secret);
    // The Job's ServiceAccount may scale that one StatefulSet and nothing more (Role neo4j-backup-scaler).
    const canI = async (...args: string[]) =>
      (
        await run(
          join(lab.sandbox.kubectlDir, 'kubectl'),
          [
            '--kubeconfig',
            lab.sandbox.kube.adminKubeconfigPath,
            'auth',
            'can-i',
            ...args,
            '-n',
            'data',
            '--as=system:serviceaccount:data:database-backup',
          ],
          { env: { PATH: process.env.PATH ?? '' } },
        )
      ).stdout.trim();
    expect(await canI('patch', 'statefulsets.apps/neo4j', '--subresource=scale')).toBe('yes');
    expect(await canI('get', 'statefulsets.apps/neo4j')).toBe('yes');
    expect(await canI('patch', 'statefulsets.apps/other', '--subresource=scale')).toBe('no');
    expect(await canI('delete', 'statefulsets.apps/neo4j')).toBe('no');
    expect(await canI('patch', 'statefulsets.apps/neo4j')).toBe('no');
    expect(await canI('get', 'secrets')).toBe('no');

    // The DR report carries the downtime too (the verify step's result).
    const report = await runCli(['report', '--format', 'markdown'], {
      env: lab.env(),
      sessionDir: result.sessionDir,
    });
    expect(report.exitCode, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/Neo4j was down \d+(\.\d)? s for this backup/);

    // The archive holds this session's marker: unpack it, load the dump into a second Neo4j with the real
    // neo4j-admin, start it and read the node back.
    const dir = tempDir('test-neo4j-archive-');
    const archive = join(dir, 'archive.tar.gz');
    const env = { ...lab.sandbox.values, PATH: process.env.PATH ?? '', HOME: dir };
    const fetched = await run(
      'aws',
      ['--endpoint-url', lab.sandbox.values.AWS_ENDPOINT_URL!, 's3', 'cp', verified.data.uri, archive],
      { env },
    );
    expect(fetched.code, fetched.stderr).toBe(0);
    const unpacked = join(dir, 'load');
    await mkdir(unpacked);
    expect((await run('tar', ['-xzf', archive, '-C', unpacked], { env })).code).toBe(0);
    const second = await createLocalNeo4j({ directory: join(dir, 'second'), start: false });
    const load = await run(
      join(second.binDir, 'neo4j-admin'),
      ['database', 'load', `--from-path=${unpacked}`, '--overwrite-destination=true', 'neo4j'],
      { env: { ...env, NEO4J_HOME: second.home } },
    );
    expect(load.code, load.stderr + load.stdout).toBe(0);
    await second.start();
    try {
      const read = await createNeo4jAdapter(
        { address: second.address, username: second.username, password: second.password },
        () => undefined,
      ).run("MATCH (n:BackupValidation {id: 'synthetic'}) RETURN n.marker");
      expect(read.rows).toEqual([[marker]]);
    } finally {
      await second.stop();
    }
  }, 900_000);

  it('a wrong password, a database that does not exist and a stopped server each fail the seed with a clear message', async () => {
    const seed = (extra: Record<string, string>) =>
      runCli(['run', 'test-neo4j.seed', '--yes', '--values', valuesFile], {
        env: { ...lab.env(), ...extra },
      });
    const wrong = await seed({ NEO4J_PASSWORD: 'not-the-password' });
    expect(wrong.exitCode).toBe(1);
    expect(wrong.stdout).toMatch(
      /refused user 'neo4j': authentication failure \(wrong username or password\)/,
    );
    expect(wrong.stdout).toContain('→ Check NEO4J_USERNAME and NEO4J_PASSWORD');
    expect(wrong.stdout + journalText(wrong.sessionDir)).not.toContain('not-the-password');

    const missing = await seed({ NEO4J_DATABASE: 'nosuchdb' });
    expect(missing.exitCode).toBe(1);
    expect(missing.stdout).toMatch(
      /database 'nosuchdb' does not exist on Neo4j at neo4j:\/\/127\.0\.0\.1:\d+/,
    );
    expect(missing.stdout).toContain('SHOW DATABASES');

    const down = await seed({ NEO4J_BOLT_PORT: '1' });
    expect(down.exitCode).toBe(1);
    expect(down.stdout).toMatch(/Neo4j does not answer at neo4j:\/\/127\.0\.0\.1:1/);
    expect(down.stdout).toContain('Is the server running?');
  }, 300_000);
});
