// No secret on a command line: `ps` (i.e. /proc/<pid>/cmdline) is readable by every user on the host or node.
// While the four scripts run, a sampler reads every process's cmdline and must never see a password or the key.
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeo4jStandIn, type Neo4jStandIn } from '../../src/sandbox/neo4j-standin/index.js';
import { startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { basePath, run, runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let neo4j: Neo4jStandIn;

class CmdlineSampler {
  readonly seen = new Set<string>();
  samples = 0;
  private running = false;
  private loop: Promise<void> = Promise.resolve();

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const pids = (await readdir('/proc')).filter((e) => /^\d+$/.test(e));
        const lines = await Promise.all(
          pids.map((pid) => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')),
        );
        for (const line of lines) if (line) this.seen.add(line.replaceAll('\0', ' ').trim());
        this.samples += 1;
        // a short pause: every tool that handles a secret lives far longer than one sweep plus this
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  saw(program: string): boolean {
    return [...this.seen].some((l) => l.split(' ').some((word) => word.split('/').at(-1) === program));
  }
}

beforeAll(async () => {
  env = await startBackupEnv('secrets');
  neo4j = await startNeo4jStandIn({
    directory: join(env.dir, 'neo4j'),
    password: `neo4j-pass-${Date.now()}`,
  });
  await mkdir(join(env.dir, 'work'), { recursive: true });
});

afterAll(async () => {
  await neo4j?.stop();
  await env?.stop();
});

describe('secrets stay off command lines', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('a /proc/*/cmdline sampler never sees the PostgreSQL password, the Neo4j password or the S3 secret key', async () => {
    const path = basePath(neo4j.binDir);
    const neo4jJob = {
      NEO4J_HOST: neo4j.host,
      NEO4J_BOLT_PORT: String(neo4j.boltPort),
      NEO4J_BACKUP_PORT: String(neo4j.backupPort),
      NEO4J_DATABASE: 'neo4j',
      NEO4J_USERNAME: neo4j.env.NEO4J_USERNAME!,
      NEO4J_PASSWORD: neo4j.env.NEO4J_PASSWORD!,
      PATH: path,
    };
    const sampler = new CmdlineSampler();
    sampler.start();
    try {
      const pgBackup = await runScript('postgres-backup.sh', { env: env.jobEnv() });
      expect(pgBackup.code).toBe(0);
      const uri = /^object=(.*)$/m.exec(pgBackup.stdout)![1]!;
      const pgRestore = await runScript('postgres-restore.sh', {
        env: env.jobEnv({ RESTORE_S3_URI: uri, CLEAN_TARGET: 'true' }),
      });
      expect(pgRestore.code).toBe(0);

      const neoBackup = await runScript('neo4j-backup.sh', { env: env.jobEnv(neo4jJob) });
      expect(neoBackup.code).toBe(0);
      const archive = /^object=(.*)$/m.exec(neoBackup.stdout)![1]!;
      const stop = await run(
        'cypher-shell',
        ['-a', neo4j.env.NEO4J_ADDRESS!, '-d', 'system', 'STOP DATABASE neo4j WAIT'],
        {
          env: { ...neo4j.env, PATH: path },
        },
      );
      expect(stop.code).toBe(0);
      const neoRestore = await runScript('neo4j-restore.sh', {
        env: env.jobEnv({
          ...neo4jJob,
          RESTORE_S3_URI: archive,
          NEO4J_HOME: neo4j.home,
          NEO4J_START_AFTER_RESTORE: 'true',
        }),
      });
      expect(neoRestore.stderr).not.toContain('error:');
      expect(neoRestore.code).toBe(0);
    } finally {
      await sampler.stop();
    }

    // the sampler really watched the tools that handle the secrets
    expect(sampler.samples).toBeGreaterThan(50);
    for (const program of ['pg_dump', 'psql', 'neo4j-admin', 'cypher-shell'])
      expect(sampler.saw(program), program).toBe(true);
    expect([...sampler.seen].some((l) => l.includes(' s3 cp '))).toBe(true);

    const secrets = [env.pg.password, env.secretKey, neo4j.env.NEO4J_PASSWORD!];
    const leaks = [...sampler.seen].filter((line) => secrets.some((secret) => line.includes(secret)));
    expect(leaks).toEqual([]);
  });
});
