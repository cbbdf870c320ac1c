// dr-validation end to end: the built CLI (`node dist/cli.js run dr-validation --yes`) against one sandbox
// started in this process — real PostgreSQL 15, s3rver, a real Neo4j 5 Community (StatefulSet neo4j) — with
// backups taken by the real postgres-backup.sh and neo4j-backup.sh (dump: the StatefulSet scaled to 0 and
// back). The drill restores the latest PostgreSQL backup into a scratch database and the Neo4j one into a
// second, isolated Neo4j (Community has one user database), runs the smoke queries, records RTO/RPO,
// drops the scratch database, deletes the isolated instance and exports the report; the sources stay as
// they were (md5 of every table, Neo4j's node count, before and after).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { createNeo4jAdapter } from '../../src/adapters/neo4j.js';
import { journalEvents, journalText, runCli, sandboxEnv } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const TABLES = ['customers', 'orders', 'inventory', 'backup_validation'] as const;

let sandbox: Sandbox;
let env: Record<string, string>;
let database: string;
let atBackup: Record<string, string>;
let secrets: string[];
const dir = tempDir('dr-validation-e2e-');

async function psql(sql: string, db = database): Promise<string> {
  const pg = sandbox.postgres;
  const result = await execa('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-q', '-c', sql], {
    env: {
      PATH: process.env.PATH ?? '',
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: db,
    },
    extendEnv: false,
  });
  return String(result.stdout).trim();
}

function md5Sql(table: string): string {
  return `SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-') FROM public.${table} t`;
}

/** Row count and md5 of the ordered content of each table. */
async function fingerprint(db = database): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) out[table] = await psql(md5Sql(table), db);
  return out;
}

async function cypher(statement: string, db = 'neo4j'): Promise<string> {
  const result = await createNeo4jAdapter(
    {
      address: `neo4j://127.0.0.1:${sandbox.values.NEO4J_BOLT_PORT}`,
      username: sandbox.values.NEO4J_USERNAME!,
      password: sandbox.values.NEO4J_PASSWORD!,
    },
    () => undefined,
  ).run(statement, { database: db });
  return JSON.stringify(result.rows);
}

function valuesFile(name: string, extra: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(extra, null, 2)); // JSON is YAML
  return path;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  database = sandbox.postgres.database;
  env = { ...sandboxEnv(sandbox, join(sandbox.neo4jHome, 'bin')), HOME: process.env.HOME ?? '/root' };
  secrets = ['AWS_SECRET_ACCESS_KEY', 'POSTGRES_PASSWORD', 'NEO4J_PASSWORD']
    .map((name) => sandbox.values[name])
    .filter((value): value is string => typeof value === 'string' && value !== '');
  await psql(
    "CREATE TABLE backup_validation(id SERIAL PRIMARY KEY, note TEXT); INSERT INTO backup_validation(note) VALUES ('2026-01-01T00:00:00Z synthetic check drill-e2e');",
  );
  atBackup = await fingerprint();
  const scripts = { PATH: env.PATH ?? '', HOME: env.HOME ?? '/root', ...sandbox.values };
  // Neo4j Community: neo4j-backup.sh stops the StatefulSet for a dump of its store (as its CronJob does).
  const neo4jDump = {
    NEO4J_BACKUP_METHOD: 'dump',
    NEO4J_NAMESPACE: sandbox.namespace,
    NEO4J_DATA_DIR: sandbox.neo4j.storeDir,
    KUBECONFIG: sandbox.kubeconfigPath,
  };
  const backup = (name: string) =>
    execa('bash', [`ops/db/backup-jobs/scripts/${name}`], {
      env: { ...scripts, ...(name.startsWith('neo4j') ? neo4jDump : {}) },
      extendEnv: false,
      reject: false,
    });
  // The two backups are independent: take them side by side.
  const [pgBackup, neoBackup] = await Promise.all([
    backup('postgres-backup.sh'),
    (async () => {
      await cypher('UNWIND range(1, 30) AS i CREATE (:Person {id: i})');
      await cypher("MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime()");
      return backup('neo4j-backup.sh');
    })(),
  ]);
  expect(pgBackup.exitCode, String(pgBackup.stderr)).toBe(0);
  expect(neoBackup.exitCode, String(neoBackup.stderr)).toBe(0);
  // Life goes on after the backup: the drill must restore the backup, not copy the live database.
  await psql("INSERT INTO backup_validation(note) VALUES ('written after the backup');");
});

afterAll(async () => {
  await sandbox?.stop();
});

describe('dr-validation (built CLI, real scripts, real PostgreSQL, S3 and Neo4j Community)', () => {
  it('refuses a drillDatabase equal to the source database (exit 2), creating nothing', async () => {
    const before = await fingerprint();
    const run = await runCli(
      [
        'run',
        'dr-validation',
        '--yes',
        '--values',
        valuesFile('same.yaml', { drillDatabase: database, DATABASES: 'postgres' }),
      ],
      { env },
    );
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(2);
    expect(run.stderr).toContain(`refused: the drill's target ${database} is the source database`);
    expect(await fingerprint()).toEqual(before);
    expect(journalText(run.sessionDir)).not.toContain('postgres-restore.sh');
    expect(await psql("SELECT count(*) FROM pg_database WHERE datname LIKE '%drill%'", 'postgres')).toBe('0');
  });

  it('restores the latest backups into scratch databases, smoke queries pass, sources unchanged, report exported', async () => {
    const before = await fingerprint();
    const neo4jBefore = await cypher('MATCH (n) RETURN count(n)');
    const values = valuesFile('drill.yaml', {
      rtoTarget: '1h',
      rpoTarget: '1d',
      smokeQueries: [
        { name: 'customers', sql: 'SELECT count(*) FROM customers', expect: 200 },
        {
          name: 'orders have a customer',
          sql: 'SELECT count(*) FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL',
          expect: 0,
        },
        { name: 'open orders', sql: 'SELECT count(*) FROM orders WHERE total_cents >= 0', expect: '>= 1000' },
        // The scratch database holds the backup, byte for byte: the md5 taken when it was made.
        {
          name: 'backup_validation as backed up',
          sql: md5Sql('backup_validation'),
          expect: atBackup.backup_validation,
        },
        { name: 'orders as backed up', sql: md5Sql('orders'), expect: atBackup.orders },
      ],
    });
    const run = await runCli(['run', 'dr-validation', '--yes', '--values', values], { env });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    const stamp = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const scratch = `${database}_drill_${stamp}`;

    expect(run.stdout).toContain(`restored s3://db-backups/postgres/`);
    expect(run.stdout).toContain(`into ${scratch}`);
    for (const name of [
      'customers',
      'orders have a customer',
      'open orders',
      'backup_validation as backed up',
      'orders as backed up',
    ])
      expect(run.stdout).toMatch(new RegExp(`✓ ${name} `));
    expect(run.stdout).toMatch(/✓ row counts of \d+ table\(s\) +all equal to the backup/);
    expect(run.stdout).toMatch(new RegExp(`smoke tests passed on ${scratch}`));
    // Neo4j Community: one user database per server, so a second, isolated instance, deleted afterwards.
    expect(run.stdout).toMatch(
      /Neo4j restored into an isolated instance and smoke-tested \(31 nodes\); the instance is deleted/,
    );
    expect(run.stdout).toMatch(/✓ nodes per label +BackupValidation 1, Person 30/);
    expect(run.stdout).toMatch(/✓ isolated instance stopped and deleted/);
    expect(run.stdout).toMatch(
      /✓ DR drill · PostgreSQL \S+: RTO achieved \(incident → validated\) +\S+.* \(target 1h: PASS\)/,
    );
    expect(run.stdout).toMatch(
      /✓ DR drill · PostgreSQL \S+: RPO achieved \(incident − recovery point\) +\S+.* \(target 1d: PASS\)/,
    );

    // The sources are as they were; the scratch PostgreSQL database is gone again.
    expect(await fingerprint()).toEqual(before);
    expect(before.backup_validation).not.toEqual(atBackup.backup_validation);
    expect(await cypher('MATCH (n) RETURN count(n)')).toBe(neo4jBefore);
    expect(await psql("SELECT count(*) FROM pg_database WHERE datname LIKE '%drill%'", 'postgres')).toBe('0');
    expect(run.stdout).toMatch(new RegExp(`✓ DROP DATABASE ${scratch} +gone; ${database} kept`));

    // Marks for RTO/RPO, in order, and the report next to the journal (0600).
    const events = journalEvents(run.sessionDir);
    const allMarks = events
      .filter((e) => e.type === 'mark')
      .map((e) => `${String(e.step)}:${String(e.name)}`);
    // The scratch databases are recorded as made for the drill, and as removed again.
    expect(allMarks).toContain('dr-validation.restore:temporary-created');
    expect(allMarks).toContain('dr-validation.drop-scratch:temporary-removed');
    const marks = allMarks.filter((mark) => !/:temporary-/.test(mark));
    expect(marks.slice(0, 6)).toEqual([
      'dr-validation.incident:incident-declared',
      'dr-validation.restore:restore-started',
      'dr-validation.restore:download-done',
      'dr-validation.restore:restore-done',
      'dr-validation.restore:recovery-point',
      'dr-validation.smoke:validated',
    ]);
    expect(marks).toContain('dr-validation.neo4j:validated');
    const gates = events.filter((e) => e.type === 'gate').map((e) => String(e.step));
    expect(gates).toEqual(['dr-validation.restore', 'dr-validation.neo4j', 'dr-validation.drop-scratch']);
    const exported = events.find((e) => e.type === 'result' && e.step === 'dr-validation.report') as {
      summary: string;
      data: {
        markdown: string;
        html: string;
        json: string;
        recoveries: { id: string; rtoText: string; rpoText: string; rtoVerdict: string }[];
      };
    };
    expect(exported.data.recoveries.map((r) => [r.id, r.rtoVerdict])).toEqual([
      ['drill/postgres', 'PASS'],
      ['drill/neo4j', 'PASS'],
    ]);
    for (const file of [exported.data.markdown, exported.data.html, exported.data.json])
      expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(exported.data.markdown).toBe(join(run.sessionDir, `${String(events[0]?.session)}-dr-report.md`));
    const markdown = readFileSync(exported.data.markdown, 'utf8');
    expect(markdown).toContain('DR drill');
    expect(markdown).toContain('> **In progress at');
    expect(markdown).toContain('s3://db-backups/postgres/');
    const json = JSON.parse(readFileSync(exported.data.json, 'utf8')) as {
      scenario?: { id?: string };
      recoveries: { id: string; rto: { achieved: string }; rpo: { achieved: string } }[];
    };
    expect(json.scenario?.id).toBe('drill');
    // The figures the step printed are the report's own.
    for (const recovery of json.recoveries) {
      const printed = exported.data.recoveries.find((r) => r.id === recovery.id);
      expect([printed?.rtoText, printed?.rpoText]).toEqual([recovery.rto.achieved, recovery.rpo.achieved]);
    }
    expect(readFileSync(exported.data.html, 'utf8')).toContain('<svg class="timeline"');
    for (const secret of secrets) {
      expect(run.stdout + run.stderr + journalText(run.sessionDir) + markdown).not.toContain(secret);
    }
  });
});
