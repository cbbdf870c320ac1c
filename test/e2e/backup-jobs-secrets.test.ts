// No secret on a command line: `ps` (i.e. /proc/<pid>/cmdline) is readable by every user on the host or node.
// While the four scripts run, a sampler reads every process's cmdline and must never see a password or the key.
import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalNeo4j, type LocalNeo4j } from '../../src/sandbox/neo4j.js';
import { startBackupEnv, type BackupEnv } from '../support/backup-jobs-env.js';
import { basePath, run, runScript, SCRIPT_TIMEOUT_MS } from '../support/backup-jobs-run.js';

let env: BackupEnv;
let neo4j: LocalNeo4j;

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

  /** A JVM running this main class (Neo4j's launchers exec java from their wrapper scripts). */
  sawClass(main: string): boolean {
    return [...this.seen].some((l) => l.split(' ').includes(main));
  }
}

beforeAll(async () => {
  env = await startBackupEnv('secrets');
  neo4j = await createLocalNeo4j({
    directory: join(env.dir, 'neo4j'),
    password: `neo4j-pass-${Date.now()}`,
  });
  await mkdir(join(env.dir, 'work'), { recursive: true });
});

afterAll(async () => {
  await neo4j?.stop();
  await env?.stop();
}, 120_000);

describe('secrets stay off command lines', { timeout: SCRIPT_TIMEOUT_MS }, () => {
  it('a /proc/*/cmdline sampler never sees the PostgreSQL password, the Neo4j password or the S3 secret key', async () => {
    const path = basePath(neo4j.binDir);
    const neo4jJob = {
      NEO4J_BACKUP_METHOD: 'dump',
      NEO4J_HOME: neo4j.home,
      NEO4J_HOST: '127.0.0.1',
      NEO4J_BOLT_PORT: String(neo4j.boltPort),
      NEO4J_DATABASE: 'neo4j',
      NEO4J_USERNAME: neo4j.username,
      NEO4J_PASSWORD: neo4j.password,
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
      // cypher-shell with the password in its environment: the database is online (so the restore is refused).
      const shell = await run('cypher-shell', ['-a', neo4j.address, '-d', 'system', 'SHOW DATABASES'], {
        env: { ...neo4j.env, PATH: path },
      });
      expect(shell.code, shell.stderr).toBe(0);
      await neo4j.stop();
      const neoRestore = await runScript('neo4j-restore.sh', {
        env: env.jobEnv({
          ...neo4jJob,
          NEO4J_ADDRESS: neo4j.address,
          RESTORE_S3_URI: archive,
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
    for (const program of ['pg_dump', 'psql']) expect(sampler.saw(program), program).toBe(true);
    for (const main of ['org.neo4j.server.startup.Neo4jAdminCommand', 'org.neo4j.shell.Main'])
      expect(sampler.sawClass(main), main).toBe(true);
    expect([...sampler.seen].some((l) => l.includes(' s3 cp '))).toBe(true);

    const secrets = [env.pg.password, env.secretKey, neo4j.password];
    const leaks = [...sampler.seen].filter((line) => secrets.some((secret) => line.includes(secret)));
    expect(leaks).toEqual([]);
  });
});
