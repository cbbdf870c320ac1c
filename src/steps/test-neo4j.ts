/**
 * Synthetic-data test, Neo4j (runbook: "Synthetic Data Test Plan / Neo4j"): merge the runbook's
 * BackupValidation node (stamped with this session's marker) through cypher-shell, run the backup Job
 * now, wait for it, then read the archive it uploaded as a stream — its tar entries, the way
 * `tar -tzf … | head` lists them, and its sha256 against the sidecar — and delete the ad-hoc Job.
 *
 * Connection: `cypher-shell -a neo4j+s://HOST:BOLT_PORT` as the runbook writes it (TLS on Bolt). In
 * the sandbox the scheme is `neo4j://`: the stand-in's Bolt listener speaks no TLS, as a local
 * Neo4j without certificates would not. The `neo4jUriScheme` setting of the --values file overrides
 * it (e.g. `bolt` for a single in-cluster server without TLS). Credentials go to cypher-shell through
 * NEO4J_USERNAME/NEO4J_PASSWORD in its environment, never -u/-p.
 */
import { scanTarGzStream } from '../runbook/dump-scan.js';
import { shellQuote } from '../runbook/plan.js';
import type { Check, StepContext } from '../runbook/step.js';
import type { Values } from '../runbook/values.js';
import type { Adapters } from '../adapters/types.js';
import { defineStep, type RunbookStep } from './define.js';
import {
  cleanupStep,
  findTriggeredBackup,
  formatBytes,
  newestObjectCheck,
  prefixOf,
  scanProgressReporter,
  sidecarCheck,
  standInNote,
  stepId,
  throughput,
  triggerStep,
  verifiedObjectData,
  verifyPlan,
  waitStep,
  type SyntheticTarget,
} from './synthetic-shared.js';
import { syntheticMarker } from './test-postgres.js';

export const NEO4J_TARGET: SyntheticTarget = {
  database: 'neo4j',
  section: 'test-neo4j',
  cronJob: 'neo4j-daily-backup',
  jobName: 'neo4j-backup-test',
  prefixValue: 'NEO4J_S3_PREFIX',
  defaultPrefix: 'neo4j/',
  artifact: '.backup.tar.gz archive',
};

const SCHEMES = ['neo4j', 'neo4j+s', 'neo4j+ssc', 'bolt', 'bolt+s', 'bolt+ssc'];
const SHOWN_ENTRIES = 10;

/** neo4j+s (the runbook), neo4j in the sandbox (no TLS there), or the `neo4jUriScheme` setting. */
export function boltScheme(sandbox: boolean, settings: Record<string, unknown>): string {
  const configured = settings.neo4jUriScheme;
  if (typeof configured === 'string' && SCHEMES.includes(configured)) return configured;
  return sandbox ? 'neo4j' : 'neo4j+s';
}

function isSandboxValues(values: Values): boolean {
  return values.source('NEO4J_HOST') === 'sandbox';
}

/** The runbook's statement, plus the session marker on the node so the report can name it. */
export function seedCypher(marker: string): string {
  return `MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime(), n.marker = '${marker.replace(/['\\]/g, '')}' RETURN n.id AS id, n.checkedAt AS checkedAt, n.marker AS marker`;
}

function cypherArgs(address: string, database: string | undefined, statement: string): string[] {
  return ['-a', address, '--format', 'plain', ...(database ? ['-d', database] : []), statement];
}

function standInPreview(ctx: StepContext<Adapters>): Promise<{ lines: string[] }> {
  const note = standInNote(ctx, 'neo4j');
  return Promise.resolve({ lines: note ? [note] : [] });
}

function withStandIn(ctx: StepContext<Adapters>, summary: string): string {
  return ctx.target.sandbox ? `${summary} (SANDBOX: Neo4j stand-in)` : summary;
}

const seed = defineStep({
  id: stepId(NEO4J_TARGET, 'seed'),
  section: 'test-neo4j',
  database: 'neo4j',
  title: 'Merge the marker node',
  description:
    "MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime() through cypher-shell, stamped with this session's marker. Username and password reach cypher-shell through its environment (NEO4J_USERNAME, NEO4J_PASSWORD), never -u/-p.",
  inputs: ['NEO4J_HOST', 'NEO4J_USERNAME', 'NEO4J_PASSWORD'],
  optionalInputs: ['NEO4J_BOLT_PORT', 'NEO4J_DATABASE'],
  plan: (values) => {
    const scheme = boltScheme(isSandboxValues(values), {});
    const host = values.get('NEO4J_HOST') ?? '${NEO4J_HOST}';
    const database = values.get('NEO4J_DATABASE');
    const statement = seedCypher('$MARKER');
    return {
      actions: [
        {
          summary: 'merge the BackupValidation node with this session’s marker',
          command: `NEO4J_USERNAME="$NEO4J_USERNAME" NEO4J_PASSWORD="$NEO4J_PASSWORD" \\\n  cypher-shell -a "${scheme}://${host}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}" --format plain${database ? ` -d ${shellQuote(database)}` : ''} \\\n  "${statement}"`,
          writes: true,
        },
      ],
      notes: [
        'The runbook connects with neo4j+s:// (TLS). The sandbox stand-in speaks plain Bolt, so there it is neo4j://; set neo4jUriScheme in the --values file for a server without TLS.',
      ],
    };
  },
  preview: standInPreview,
  async run(ctx) {
    const values = ctx.values;
    const password = values.require('NEO4J_PASSWORD');
    const host = values.require('NEO4J_HOST');
    const port = values.get('NEO4J_BOLT_PORT') ?? '7687';
    const address = `${boltScheme(ctx.target.sandbox, ctx.settings)}://${host}:${port}`;
    const marker = syntheticMarker(new Date(), ctx.sessionId);
    const result = await ctx.adapters.proc.run(
      'cypher-shell',
      cypherArgs(address, values.get('NEO4J_DATABASE'), seedCypher(marker)),
      {
        env: { NEO4J_USERNAME: values.require('NEO4J_USERNAME'), NEO4J_PASSWORD: password },
        signal: ctx.signal,
        timeoutMs: 60_000,
        secrets: [password],
      },
    );
    const note = standInNote(ctx, 'neo4j');
    if (result.exitCode !== 0) {
      const why =
        result.stderr.trim().split('\n').filter(Boolean)[0] ?? `cypher-shell exited with ${result.exitCode}`;
      return {
        summary: withStandIn(ctx, `could not merge the marker node: ${why}`),
        checks: [
          {
            id: 'seed',
            label: 'merge (n:BackupValidation {id: "synthetic"})',
            status: 'fail',
            detail: why,
            next: /unauthorized|authentication/i.test(why)
              ? 'Check NEO4J_USERNAME and NEO4J_PASSWORD.'
              : /encryption|terminated|TLS|SSL/i.test(why)
                ? `Bolt TLS does not match: set neo4jUriScheme (neo4j, neo4j+s, bolt…) in the --values file (now ${address.split(':')[0]}).`
                : `Check that ${address} accepts Bolt connections from this machine (prerequisites.network).`,
          },
        ],
      };
    }
    const rows = result.stdout.trim().split('\n');
    ctx.log(`cypher-shell ${address}: ${rows.join(' | ')}`);
    return {
      summary: withStandIn(ctx, `BackupValidation {id: 'synthetic'} stamped "${marker}"`),
      checks: [
        {
          id: 'seed',
          label: "node (:BackupValidation {id: 'synthetic'}) merged",
          status: 'ok',
          detail: `checkedAt = datetime(), marker "${marker}" via ${address}`,
        },
        ...(note ? [{ id: 'stand-in', label: note, status: 'skip' as const }] : []),
      ],
      data: {
        marker,
        node: "BackupValidation {id: 'synthetic'}",
        address,
        ...(note ? { standIn: true } : {}),
      },
    };
  },
});

const verify = defineStep({
  id: stepId(NEO4J_TARGET, 'verify'),
  section: 'test-neo4j',
  database: 'neo4j',
  title: 'Read the archive',
  description:
    'Find the newest archive written after the trigger, stream it from S3 and read its tar entries in Node (as tar -tzf | head lists them), and check its sha256 against the .sha256 sidecar.',
  inputs: ['S3_BUCKET'],
  optionalInputs: ['NEO4J_S3_PREFIX', 'AWS_ENDPOINT_URL', 'AWS_DEFAULT_REGION'],
  plan: (values) =>
    verifyPlan(values, NEO4J_TARGET, {
      listed: 'archive',
      extension: '.backup.tar.gz',
      readSummary: 'stream it and list its entries, sha256 it',
      readPipe: 'tee >(sha256sum) | tar -tzf - | head',
    }),
  preview: standInPreview,
  async run(ctx) {
    const s3 = await ctx.adapters.s3();
    const prefix = prefixOf(ctx.values, NEO4J_TARGET);
    const found = await findTriggeredBackup(ctx, s3, NEO4J_TARGET, prefix);
    if ('failure' in found) return found.failure;
    const { backup } = found;
    const { object } = backup;
    const checks: Check[] = [newestObjectCheck('archive', backup)];
    const started = Date.now();
    const { body } = await s3.getStream(object.key, ctx.signal);
    const scan = await scanTarGzStream(body, {
      maxEntries: SHOWN_ENTRIES,
      signal: ctx.signal,
      inflate: ctx.adapters.inflate,
      onProgress: scanProgressReporter(ctx, 'reading', object),
    });
    const ms = Date.now() - started;
    ctx.log(`tar -tzf ${object.key.slice(object.key.lastIndexOf('/') + 1)} | head -${SHOWN_ENTRIES}`);
    for (const entry of scan.entries) ctx.log(entry.name);
    const rate = `${formatBytes(scan.compressedBytes)} read in ${(ms / 1000).toFixed(1)} s (${throughput(scan.compressedBytes, ms)})`;
    if (!scan.gzipOk) {
      checks.push({
        id: 'gzip',
        label: 'gzip stream broken',
        status: 'fail',
        detail: `${scan.gzipError ?? 'invalid gzip'} after ${formatBytes(scan.bytes)}`,
        next: 'The archive is truncated or corrupt: do not restore from it; read the Job log and run a new backup.',
      });
    } else if (!scan.tarOk) {
      checks.push({
        id: 'tar',
        label: 'not a readable tar archive',
        status: 'fail',
        detail: scan.tarError ?? 'invalid tar',
        next: 'The object is gzip but not tar: check what neo4j-backup.sh uploads.',
      });
    } else if (scan.entryCount === 0) {
      checks.push({
        id: 'entries',
        label: 'the archive is empty',
        status: 'fail',
        detail: 'no entries',
        next: 'neo4j-admin database backup wrote nothing: read the Job log.',
      });
    } else {
      const shown = scan.entries.map((entry) => `    ${entry.name}`).join('\n');
      const more =
        scan.entryCount > scan.entries.length ? `\n    … ${scan.entryCount - scan.entries.length} more` : '';
      checks.push({
        id: 'entries',
        label: `${scan.entryCount} entr${scan.entryCount === 1 ? 'y' : 'ies'}, ${formatBytes(scan.contentBytes)}`,
        status: 'ok',
        detail: `gzip and tar intact; ${rate}\n${shown}${more}`,
      });
      const backups = scan.entries.filter((entry) => /\.backup$/.test(entry.name));
      checks.push(
        backups.length > 0 || scan.entryCount > scan.entries.length
          ? {
              id: 'backup-files',
              label: 'neo4j-admin backup files in the archive',
              status: backups.length > 0 ? 'ok' : 'warn',
              detail:
                backups.length > 0
                  ? backups.map((entry) => entry.name).join(', ')
                  : `none among the first ${scan.entries.length} entries`,
            }
          : {
              id: 'backup-files',
              label: 'no .backup file in the archive',
              status: 'warn',
              detail: 'neo4j-admin database backup writes <database>-<time>.backup files',
              next: 'Check that the Job ran neo4j-admin database backup (not a copy of the data directory).',
            },
      );
    }
    const sidecar = await sidecarCheck(s3, object.key, scan.sha256);
    checks.push(sidecar.check);
    const note = standInNote(ctx, 'neo4j');
    if (note) checks.push({ id: 'stand-in', label: note, status: 'skip' });
    const failed = checks.filter((check) => check.status === 'fail');
    return {
      summary: withStandIn(
        ctx,
        failed.length
          ? `${failed[0]?.label ?? 'verification failed'}: ${failed[0]?.detail ?? ''}`
          : `${object.key}: ${scan.entryCount} entries, sha256 ${scan.sha256.slice(0, 12)}…; ${rate}`,
      ),
      checks,
      data: {
        ...verifiedObjectData(backup, scan.sha256, sidecar.sidecar),
        gzipOk: scan.gzipOk,
        tarOk: scan.tarOk,
        entryCount: scan.entryCount,
        entries: scan.entries.map((entry) => entry.name),
        ms,
        ...(note ? { standIn: true } : {}),
        ...(failed.length ? { next: 'run db-runbook run troubleshoot' } : {}),
      },
    };
  },
});

export const testNeo4jSteps: readonly RunbookStep[] = [
  seed,
  triggerStep(NEO4J_TARGET),
  waitStep(NEO4J_TARGET),
  verify,
  cleanupStep(NEO4J_TARGET),
];
