/**
 * Synthetic-data test, PostgreSQL (runbook: "Synthetic Data Test Plan / PostgreSQL"): seed a row whose
 * note carries this session's marker, run the backup Job now, wait for it, and prove that the newest
 * dump in S3 — streamed and inflated (igzip when installed, else zlib), never to disk — holds table backup_validation and the
 * marker, with its sha256 matching the sidecar. Then delete the ad-hoc Job.
 */
import { scanGzipStream } from '../../runbook/dump-scan.js';
import { shellQuote } from '../../runbook/plan.js';
import type { Check } from '../../runbook/step.js';
import { defineStep, type RunbookStep } from '../define.js';
import { prefixOf, stepId, syntheticMarker, type SyntheticTarget } from '../synthetic/target.js';
import {
  findTriggeredBackup,
  formatBytes,
  newestObjectCheck,
  scanProgressReporter,
  sidecarCheck,
  throughput,
  verifiedObjectData,
  verifyPlan,
} from '../synthetic/verify.js';
import { syntheticSteps } from '../synthetic/section.js';

export const POSTGRES_TARGET: SyntheticTarget = {
  database: 'postgres',
  section: 'test-postgres',
  cronJob: 'postgres-daily-backup',
  jobName: 'postgres-backup-test',
  prefixValue: 'POSTGRES_S3_PREFIX',
  defaultPrefix: 'postgres/',
  artifact: '.sql.gz dump',
};

export const VALIDATION_TABLE = 'backup_validation';

/** psql reads this on stdin; `:'marker'` is psql's quoted-literal interpolation of `-v marker=…`. */
const SEED_SQL = `SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS ${VALIDATION_TABLE}(id SERIAL PRIMARY KEY, note TEXT);
INSERT INTO ${VALIDATION_TABLE}(note) VALUES (:'marker') RETURNING id;
`;

function psqlArgs(host: string, port: string, user: string, database: string): string[] {
  return [
    '-X',
    '-v',
    'ON_ERROR_STOP=1',
    '-q',
    '-A',
    '-t',
    '-h',
    host,
    '-p',
    port,
    '-U',
    user,
    '-d',
    database,
  ];
}

/** The seed step's output: the marker the verify step looks for in the dump. */
export interface PostgresSeedData {
  marker: string;
  id: number;
  table: string;
}

const seed = defineStep<PostgresSeedData>({
  id: stepId(POSTGRES_TARGET, 'seed'),
  section: 'test-postgres',
  database: 'postgres',
  title: 'Seed a marker row',
  description: `CREATE TABLE IF NOT EXISTS ${VALIDATION_TABLE} and insert a row whose note is unique to this session (UTC time, "synthetic check", session id). The password goes to psql through PGPASSWORD, never the command line.`,
  inputs: ['POSTGRES_HOST', 'POSTGRES_DATABASE', 'POSTGRES_USER', 'POSTGRES_PASSWORD'],
  optionalInputs: ['POSTGRES_PORT'],
  plan: (values) => {
    const word = (name: string, fallback?: string) => {
      const value = values.get(name) ?? fallback;
      return value !== undefined ? shellQuote(value) : `"$${name}"`;
    };
    const psql = `PGPASSWORD="$POSTGRES_PASSWORD" psql -X -v ON_ERROR_STOP=1 -h ${word('POSTGRES_HOST')} -p ${word('POSTGRES_PORT', '5432')} -U ${word('POSTGRES_USER')} -d ${word('POSTGRES_DATABASE')}`;
    return {
      actions: [
        {
          summary: `create table ${VALIDATION_TABLE} if it does not exist`,
          command: `${psql} \\\n  --command="CREATE TABLE IF NOT EXISTS ${VALIDATION_TABLE}(id SERIAL PRIMARY KEY, note TEXT);"`,
          writes: true,
        },
        {
          summary: 'insert a row with this session’s marker',
          command: `${psql} \\\n  --command="INSERT INTO ${VALIDATION_TABLE}(note) VALUES('$(date -u +%FT%TZ) synthetic check $SESSION_ID') RETURNING id;"`,
          writes: true,
        },
      ],
    };
  },
  async run(ctx) {
    const values = ctx.values;
    const password = values.require('POSTGRES_PASSWORD');
    const host = values.require('POSTGRES_HOST');
    const port = values.get('POSTGRES_PORT') ?? '5432';
    const marker = syntheticMarker(new Date(), ctx.sessionId);
    const result = await ctx.adapters.proc.run(
      'psql',
      [
        ...psqlArgs(host, port, values.require('POSTGRES_USER'), values.require('POSTGRES_DATABASE')),
        '-v',
        `marker=${marker}`,
      ],
      {
        env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'db-runbook' },
        input: SEED_SQL,
        signal: ctx.signal,
        timeoutMs: 60_000,
        secrets: [password],
      },
    );
    const id = Number(result.stdout.trim().split('\n').pop());
    if (result.exitCode !== 0 || !Number.isInteger(id)) {
      const why =
        result.stderr.trim().split('\n').filter(Boolean).pop() ?? `psql exited with ${result.exitCode}`;
      return {
        summary: `could not seed ${VALIDATION_TABLE}: ${why}`,
        checks: [
          {
            id: 'seed',
            label: `insert the marker row into ${VALIDATION_TABLE}`,
            status: 'fail',
            detail: why,
            next: /password authentication failed/.test(why)
              ? 'Check POSTGRES_USER and POSTGRES_PASSWORD.'
              : `Check that ${host}:${port} accepts connections from this machine (prerequisites.network) and that the user may CREATE TABLE and INSERT.`,
          },
        ],
      };
    }
    ctx.log(`inserted ${VALIDATION_TABLE} row id ${id}: ${marker}`);
    return {
      summary: `row ${id} in ${VALIDATION_TABLE}: "${marker}"`,
      checks: [
        {
          id: 'seed',
          label: `marker row ${id} in ${VALIDATION_TABLE}`,
          status: 'ok',
          detail: `note "${marker}"`,
        },
      ],
      data: { marker, id, table: VALIDATION_TABLE },
    };
  },
});

const verify = defineStep({
  id: stepId(POSTGRES_TARGET, 'verify'),
  section: 'test-postgres',
  database: 'postgres',
  title: 'Prove the dump holds the marker',
  description:
    'Find the newest dump written after the trigger, stream it from S3 and inflate it on the way (igzip when installed, else zlib), never to disk, and check it holds table backup_validation and this session’s marker; its sha256 must match the .sha256 sidecar. Memory stays flat for any size.',
  inputs: ['S3_BUCKET'],
  optionalInputs: ['POSTGRES_S3_PREFIX', 'AWS_ENDPOINT_URL', 'AWS_DEFAULT_REGION'],
  plan: (values) =>
    verifyPlan(values, POSTGRES_TARGET, {
      listed: 'object',
      extension: '.sql.gz',
      readSummary: `stream it, inflate it on the way, look for ${VALIDATION_TABLE} and this session’s marker, sha256 it`,
      readPipe: 'tee >(sha256sum) | gunzip | grep -F "$MARKER"',
    }),
  async run(ctx) {
    const s3 = await ctx.adapters.s3();
    const prefix = prefixOf(ctx.values, POSTGRES_TARGET);
    const marker = ctx.from(seed)?.marker;
    const found = await findTriggeredBackup(ctx, s3, POSTGRES_TARGET, prefix);
    if ('failure' in found) return found.failure;
    const { backup } = found;
    const { object, uri } = backup;
    const checks: Check[] = [newestObjectCheck('dump', backup)];
    ctx.log(`scanning ${uri} (${formatBytes(object.size)})`);
    const started = Date.now();
    const { body } = await s3.getStream(object.key, ctx.signal);
    const markers = marker ? [VALIDATION_TABLE, marker] : [VALIDATION_TABLE];
    const scan = await scanGzipStream(body, {
      markers,
      signal: ctx.signal,
      inflate: ctx.adapters.inflate,
      onProgress: scanProgressReporter(ctx, 'scanning', object),
    });
    const ms = Date.now() - started;
    const rate = `${formatBytes(scan.compressedBytes)} compressed, ${formatBytes(scan.bytes)} SQL in ${(ms / 1000).toFixed(1)} s (${throughput(scan.compressedBytes, ms)})`;
    checks.push(
      scan.gzipOk
        ? {
            id: 'gzip',
            label: 'gzip stream intact',
            status: 'ok',
            detail: `CRC32 and length verified; ${rate}`,
          }
        : {
            id: 'gzip',
            label: 'gzip stream broken',
            status: 'fail',
            detail: `${scan.gzipError ?? 'invalid gzip'} after ${formatBytes(scan.bytes)} of SQL`,
            next: 'The object is truncated or corrupt: do not restore from it; read the Job log and run a new backup.',
          },
    );
    checks.push(
      scan.found[VALIDATION_TABLE]
        ? { id: 'table', label: `table ${VALIDATION_TABLE} in the dump`, status: 'ok' }
        : {
            id: 'table',
            label: `table ${VALIDATION_TABLE} not in the dump`,
            status: 'fail',
            detail: 'the dump never mentions it',
            next: `Was the seed written to ${ctx.values.get('POSTGRES_DATABASE') ?? 'the database'} the Job dumps (POSTGRES_DATABASE in Secret postgres-backup-credentials)?`,
          },
    );
    if (!marker) {
      checks.push({
        id: 'marker',
        label: 'this session’s marker',
        status: 'fail',
        detail: 'this session seeded no marker, so nothing proves the dump is fresh',
        next: `Run ${stepId(POSTGRES_TARGET, 'seed')} before the trigger, then trigger, wait and verify again.`,
      });
    } else if (scan.found[marker]) {
      checks.push({
        id: 'marker',
        label: 'the dump contains this session’s marker',
        status: 'ok',
        detail: marker,
      });
    } else {
      checks.push({
        id: 'marker',
        label: 'this session’s marker not in the dump',
        status: 'fail',
        detail: `the dump does not contain this session's marker (${marker})${scan.gzipOk ? '' : ' — the gzip stream broke before its end'}`,
        next: 'The Job dumped an older state or another database: check POSTGRES_HOST/POSTGRES_DATABASE in the Secret, and that the marker row was committed before the trigger.',
      });
    }
    const sidecar = await sidecarCheck(s3, object.key, scan.sha256);
    checks.push(sidecar.check);
    const failed = checks.filter((check) => check.status === 'fail');
    return {
      summary: failed.length
        ? (failed.find((check) => check.id === 'marker')?.detail ?? failed[0]?.label ?? 'verification failed')
        : `${object.key} holds ${VALIDATION_TABLE} and this session’s marker; sha256 ${scan.sha256.slice(0, 12)}…; ${rate}`,
      checks,
      data: {
        ...verifiedObjectData(backup, scan.sha256, sidecar.sidecar),
        gzipOk: scan.gzipOk,
        bytes: scan.bytes,
        compressedBytes: scan.compressedBytes,
        ms,
        tableFound: scan.found[VALIDATION_TABLE] === true,
        markerFound: marker ? scan.found[marker] === true : false,
        ...(marker ? { marker } : {}),
        ...(failed.length ? { next: 'run db-runbook run troubleshoot' } : {}),
      },
    };
  },
});

export const testPostgresSteps: readonly RunbookStep[] = syntheticSteps(POSTGRES_TARGET, seed, verify);
