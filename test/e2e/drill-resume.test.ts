// A drill killed with SIGKILL in the middle of the restore, resumed, then reported. One sandbox is started
// in this process and every CLI run points at it through the environment, as at a real cluster.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { SANDBOX_S3_SECRET_ACCESS_KEY } from '../../src/sandbox/s3.js';
import { CLI, journalEvents, journalText, runCli, sandboxEnv } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const TABLES = ['customers', 'orders', 'inventory', 'slow_rows'] as const;
// Rows whose CHECK sleeps 10 ms each during COPY: the restore takes ~4 s, long enough to be killed mid-way.
const SLOW_TABLE = `
CREATE FUNCTION public.slow_ok(integer) RETURNS boolean LANGUAGE sql AS
  $$ SELECT CASE WHEN current_setting('drill_e2e.fast', true) = 'on' THEN true ELSE pg_sleep(0.01) IS NOT NULL END $$;
CREATE TABLE slow_rows (id integer PRIMARY KEY CHECK (public.slow_ok(id)), label text);
SET drill_e2e.fast = 'on';
INSERT INTO slow_rows SELECT g, 'row ' || g FROM generate_series(1, 400) g;
`;

let sandbox: Sandbox;
let env: Record<string, string>;
const work = tempDir('db-runbook-drill-');
const sessionDir = join(work, 'sessions');
const valuesFile = join(work, 'values.yaml');
mkdirSync(sessionDir);

async function psql(sql: string): Promise<string> {
  const result = await execa('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-q', '-c', sql], {
    env: {
      PATH: process.env.PATH ?? '',
      PGHOST: sandbox.postgres.host,
      PGPORT: String(sandbox.postgres.port),
      PGUSER: sandbox.postgres.user,
      PGPASSWORD: sandbox.postgres.password,
      PGDATABASE: sandbox.postgres.database,
    },
    extendEnv: false,
  });
  return String(result.stdout).trim();
}

async function fingerprint(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const table of TABLES) {
    out[table] = await psql(
      `SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '-') FROM public.${table} t`,
    );
  }
  return out;
}

beforeAll(async () => {
  sandbox = await startSandbox();
  env = sandboxEnv(sandbox, join(sandbox.neo4jHome, 'bin'));
  writeFileSync(valuesFile, 'DATABASES: postgres\nrpoTarget: 24h\nrtoTarget: 4h\n');
  await psql(SLOW_TABLE);
});

afterAll(async () => {
  await sandbox?.stop();
});

describe('a DR drill killed in the middle of the restore', () => {
  it('resumes where it stopped, finishes the restore, and reports the timeline, gantt and RTO/RPO without secrets', async () => {
    const database = sandbox.postgres.database;
    // The whole drill in one session, in its own process group so SIGKILL takes its children (psql) too,
    // as a lost bastion would.
    const drill = execa(
      'node',
      [
        CLI,
        'run',
        'configure',
        'deploy',
        'test-postgres',
        'restore-postgres',
        '--yes',
        '--confirm',
        database,
        '--confirm',
        `drop ${database}`,
        '--values',
        valuesFile,
        '--session-dir',
        sessionDir,
      ],
      { env: { NO_COLOR: '1', ...env }, reject: false, detached: true, stdin: 'ignore' },
    );
    let output = '';
    drill.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const started = Date.now();
    while (
      !journalEvents(sessionDir).some(
        (e) => e.type === 'step-state' && e.step === 'restore-postgres.load' && e.to === 'running',
      )
    ) {
      if (Date.now() - started > 120_000) throw new Error(`the restore never started:\n${output}`);
      if (drill.exitCode !== undefined && drill.exitCode !== null)
        throw new Error(`the drill ended early:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    process.kill(-drill.pid!, 'SIGKILL');
    await drill;
    const beforeResume = await fingerprint();

    const sessionId = journalEvents(sessionDir)[0]?.session as string;
    expect(journalEvents(sessionDir).some((e) => e.type === 'session-end')).toBe(false);
    const listed = await runCli(['sessions'], { env, sessionDir });
    expect(listed.stdout).toMatch(/unfinished/);

    const resumed = await runCli(
      [
        'resume',
        sessionId,
        '--yes',
        '--confirm',
        database,
        '--confirm',
        `drop ${database}`,
        '--values',
        valuesFile,
      ],
      { env, sessionDir, timeoutMs: 180_000 },
    );
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain('restore-postgres.load was interrupted');
    expect(await fingerprint()).toEqual(beforeResume);
    const events = journalEvents(sessionDir);
    expect(events.at(-1)).toMatchObject({ type: 'session-end', outcome: 'done', exitCode: 0 });
    // Steps finished before the kill were not run again.
    const configureRuns = events.filter(
      (e) => e.type === 'step-state' && e.step === 'configure.storage-secret' && e.to === 'running',
    );
    expect(configureRuns).toHaveLength(1);

    const markdown = await runCli(['report', sessionId, '--format', 'markdown', '--values', valuesFile], {
      env,
      sessionDir,
    });
    expect(markdown.exitCode, markdown.stderr).toBe(0);
    expect(markdown.stdout).toContain('```mermaid');
    expect(markdown.stdout).toContain('gantt');
    // The recovery's row in the metrics table: RPO and RTO each judged against its target.
    expect(markdown.stdout).toMatch(
      /\| Recovery \| RPO achieved \| RPO target \| RPO \| RTO achieved \| RTO target \| RTO \|\n\| (?:--- \| )+---\s*\|\n\| [^\n]*\| \*\*(PASS|FAIL)\*\* \|[^\n]*\| \*\*(PASS|FAIL)\*\* \|/,
    );
    expect(markdown.stdout).toMatch(
      /\| retried-step \| restore-postgres\.load ran 2 times: 1\. interrupted; 2\. done \|/,
    );
    expect(markdown.stdout).toContain('restore-postgres.restore');

    const jsonPath = join(work, 'report.json');
    const json = await runCli(
      ['report', sessionId, '--format', 'json', '--output', jsonPath, '--values', valuesFile],
      { env, sessionDir },
    );
    expect(json.exitCode, json.stderr).toBe(0);
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    // ajv-formats is CommonJS: under NodeNext typings its default import is the module object.
    (addFormatsModule as unknown as typeof addFormatsModule.default)(ajv);
    const validate = ajv.compile(
      JSON.parse(readFileSync(new URL('../../docs/report-schema.json', import.meta.url), 'utf8')) as object,
    );
    const report = JSON.parse(readFileSync(jsonPath, 'utf8')) as unknown;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);

    const everything =
      journalText(sessionDir) + markdown.stdout + readFileSync(jsonPath, 'utf8') + output + resumed.stdout;
    for (const secret of [
      sandbox.postgres.password,
      SANDBOX_S3_SECRET_ACCESS_KEY,
      env.NEO4J_PASSWORD ?? 'unset-neo4j-password',
    ]) {
      expect(everything).not.toContain(secret);
    }
  }, 300_000);
});
