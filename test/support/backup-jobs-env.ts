// A real PostgreSQL 15 server + s3rver for the backup-jobs tests, with the env a Job would get.
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startSandboxPostgres, type SandboxPostgres } from '../../src/sandbox/postgres.js';
import { startSandboxS3, type SandboxS3 } from '../../src/sandbox/s3.js';
import { basePath, run, tempDir, type RunResult } from './backup-jobs-run.js';

/** Known rows: customers, orders (awkward text: quotes, tabs, newlines, backslashes, unicode), backup_validation. */
export const SEED_SQL = `
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email text UNIQUE, created_at timestamptz NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id integer NOT NULL REFERENCES customers(id),
  amount numeric(12,2) NOT NULL, note text, tags text[], payload jsonb);
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE TABLE IF NOT EXISTS backup_validation(id SERIAL PRIMARY KEY, note TEXT);
CREATE VIEW customer_totals AS SELECT c.id, c.name, sum(o.amount) AS total FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;
INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.test', timestamptz '2024-01-01 00:00:00+00' + i * interval '1 hour'
  FROM generate_series(1, 2000) AS i;
INSERT INTO orders (customer_id, amount, note, tags, payload)
  SELECT 1 + (i % 2000), round((i * 7.31)::numeric % 1000, 2),
         CASE i % 4 WHEN 0 THEN E'it''s a \\\\ tricky\\tnote\\nwith lines' WHEN 1 THEN 'plain' WHEN 2 THEN 'ünïcødé ✓' ELSE NULL END,
         ARRAY['t' || (i % 3), 'x'], jsonb_build_object('i', i, 'even', i % 2 = 0)
  FROM generate_series(1, 5000) AS i;
INSERT INTO backup_validation(note) VALUES ('2024-01-01T00:00:00Z synthetic check');
`;

export const TABLES = ['customers', 'orders', 'backup_validation'] as const;

export interface BackupEnv {
  dir: string;
  work: string;
  pg: SandboxPostgres;
  s3: SandboxS3;
  /** A distinctive secret key: s3rver does not verify SigV4 secrets, so any value works and can be searched for. */
  secretKey: string;
  /** Exactly what the Job's container gets: its env (Secrets + ConfigMap + manifest env) and PATH. */
  jobEnv(extra?: Record<string, string | undefined>): Record<string, string | undefined>;
  aws(args: string[], input?: string | Buffer): Promise<RunResult>;
  psql(sql: string, database?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startBackupEnv(name: string, options: { seed?: boolean } = {}): Promise<BackupEnv> {
  const dir = await tempDir(`backup-jobs-${name}`);
  const work = join(dir, 'work');
  await mkdir(work, { recursive: true });
  const password = `pg-pass-${randomBytes(6).toString('hex')}`;
  const secretKey = `s3-secret-${randomBytes(6).toString('hex')}`;
  const [pg, s3] = await Promise.all([
    startSandboxPostgres({
      directory: join(dir, 'pg'),
      password,
      seedSql: options.seed === false ? undefined : SEED_SQL,
    }),
    startSandboxS3({ directory: join(dir, 's3') }),
  ]);
  const awsEnv = { ...s3.env, AWS_SECRET_ACCESS_KEY: secretKey, PATH: basePath(), HOME: dir };
  const env: BackupEnv = {
    dir,
    work,
    pg,
    s3,
    secretKey,
    jobEnv: (extra = {}) => ({
      ...s3.env,
      AWS_SECRET_ACCESS_KEY: secretKey,
      AWS_MAX_ATTEMPTS: '2',
      ...pg.env,
      POSTGRES_S3_PREFIX: 'postgres/',
      NEO4J_S3_PREFIX: 'neo4j/',
      BACKUP_WORK_DIR: work,
      PATH: basePath(),
      ...extra,
    }),
    aws: (args, input) => run('aws', ['--endpoint-url', s3.endpoint, ...args], { env: awsEnv, input }),
    psql: async (sql, database = pg.database) => {
      const result = await run(
        'psql',
        [
          '-X',
          '-A',
          '-t',
          '-q',
          '-v',
          'ON_ERROR_STOP=1',
          '-h',
          pg.host,
          '-p',
          String(pg.port),
          '-U',
          pg.user,
          '-d',
          database,
        ],
        { env: { PGPASSWORD: pg.password, PATH: basePath() }, input: sql },
      );
      if (result.code !== 0) throw new Error(`psql failed: ${result.stderr}`);
      return result.stdout.trim();
    },
    stop: async () => {
      await Promise.allSettled([pg.stop(), s3.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return env;
}

/** Per table: row count and the md5 of its rows in primary-key order. */
export async function fingerprint(env: BackupEnv, database?: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    out[table] = await env.psql(
      `SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t.id)), '-') FROM ${table} t;`,
      database,
    );
  }
  return out;
}

/** Object keys under a prefix, via the aws CLI (the independent reader). */
export async function listKeys(env: BackupEnv, prefix: string): Promise<string[]> {
  const result = await env.aws(['s3', 'ls', '--recursive', `s3://${env.s3.bucket}/${prefix}`]);
  if (result.code !== 0 && result.stdout.trim() !== '') throw new Error(result.stderr);
  return result.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => line.trim().split(/\s+/).slice(3).join(' '));
}
