/**
 * Synthetic-data test, Neo4j (runbook: "Synthetic Data Test Plan / Neo4j"): merge the runbook's
 * BackupValidation node (stamped with this session's marker) over Bolt with the official driver, run
 * the backup Job now, wait for it, then read the archive it uploaded as a stream — its tar entries, the
 * way `tar -tzf … | head` lists them, and its sha256 against the sidecar — and delete the ad-hoc Job.
 *
 * Connection: `neo4j+s://HOST:BOLT_PORT` as the runbook writes it (TLS on Bolt); `neo4j://` in the
 * sandbox (a local server without certificates). The `neo4jUriScheme` setting of the --values file
 * overrides it (e.g. `bolt` for a single in-cluster server without TLS). The plan shows the equivalent
 * cypher-shell command; the password goes to the driver's auth token, never to a command line.
 *
 * Neo4j Community has no online backup: its CronJob (cronjob-neo4j-community.yaml) stops the server for
 * the dump. The trigger says so before its gate, with the downtime of the last backup, and the verify
 * step shows this backup's downtime (the object's downtime-seconds metadata).
 */
import { scanTarGzStream } from '../../runbook/dump-scan.js';
import type { Check, StepContext } from '../../runbook/step.js';
import type { Values } from '../../runbook/values.js';
import type { Adapters, KubeObject } from '../../adapters/types.js';
import { defineStep, type RunbookStep } from '../define.js';
import { prefixOf, standInNote, stepId, syntheticMarker, type SyntheticTarget } from '../synthetic/target.js';
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
import { cypher, cypherShellCommand } from '../clients/cypher.js';

/** The env value a CronJob's first container sets for NAME. */
function containerEnv(cronJob: KubeObject, name: string): string | undefined {
  const spec = cronJob.spec as
    | {
        jobTemplate?: {
          spec?: { template?: { spec?: { containers?: { env?: { name: string; value?: string }[] }[] } } };
        };
      }
    | undefined;
  return spec?.jobTemplate?.spec?.template?.spec?.containers?.[0]?.env?.find((entry) => entry.name === name)
    ?.value;
}

/** Community's backup stops the server: the downtime of the newest backup (its metadata), if any. */
async function neo4jDowntime(
  ctx: StepContext<Adapters>,
  cronJob: KubeObject,
): Promise<{ lines: string[]; prompt: string } | undefined> {
  if (containerEnv(cronJob, 'NEO4J_BACKUP_METHOD') !== 'dump') return undefined;
  const statefulSet = containerEnv(cronJob, 'NEO4J_STATEFULSET') ?? 'the Neo4j StatefulSet';
  let last: string | undefined;
  try {
    const s3 = await ctx.adapters.s3();
    const objects = (await s3.list(prefixOf(ctx.values, NEO4J_TARGET)))
      .filter((object) => object.key.endsWith('.backup.tar.gz'))
      .sort((a, b) => a.key.localeCompare(b.key));
    const newest = objects.at(-1);
    const seconds = newest ? (await s3.head(newest.key))?.metadata['downtime-seconds'] : undefined;
    if (newest && seconds) last = `${seconds} s for ${newest.key.slice(newest.key.lastIndexOf('/') + 1)}`;
  } catch {
    last = undefined;
  }
  const expected = last
    ? `about as long as last time (${last})`
    : 'the time to stop, dump and start it (no earlier dump backup to go by)';
  return {
    lines: [
      `Neo4j Community: this backup STOPS Neo4j (StatefulSet ${statefulSet} scaled to 0, dumped, scaled back); it is down for ${expected}`,
    ],
    prompt: `Neo4j (StatefulSet ${statefulSet}) will be DOWN while it is dumped: ${expected}. Run the backup now?`,
  };
}

export const NEO4J_TARGET: SyntheticTarget = {
  database: 'neo4j',
  section: 'test-neo4j',
  cronJob: 'neo4j-daily-backup',
  jobName: 'neo4j-backup-test',
  prefixValue: 'NEO4J_S3_PREFIX',
  defaultPrefix: 'neo4j/',
  artifact: '.backup.tar.gz archive',
  downtime: neo4jDowntime,
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

function standInPreview(ctx: StepContext<Adapters>): Promise<{ lines: string[] }> {
  const note = standInNote(ctx, 'neo4j');
  return Promise.resolve({ lines: note ? [note] : [] });
}

function withStandIn(ctx: StepContext<Adapters>, summary: string): string {
  const note = standInNote(ctx, 'neo4j');
  return note ? `${summary} (${note})` : summary;
}

/** The seed step's output: the marker node it merged, and where. */
export interface Neo4jSeedData {
  marker: string;
  node: string;
  address: string;
  standIn?: boolean;
}

const seed = defineStep<Neo4jSeedData>({
  id: stepId(NEO4J_TARGET, 'seed'),
  section: 'test-neo4j',
  database: 'neo4j',
  title: 'Merge the marker node',
  description:
    "MERGE (n:BackupValidation {id: 'synthetic'}) SET n.checkedAt = datetime() over Bolt (the official driver), stamped with this session's marker. The password goes to the driver, never to a command line; the plan shows the cypher-shell equivalent.",
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
          summary:
            'merge the BackupValidation node with this session’s marker (over Bolt, the official driver)',
          command: `NEO4J_USERNAME="$NEO4J_USERNAME" NEO4J_PASSWORD="$NEO4J_PASSWORD" \\\n  ${cypherShellCommand(`${scheme}://${host}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`, statement, database)}`,
          writes: true,
        },
      ],
      notes: [
        'The runbook connects with neo4j+s:// (TLS). The sandbox Neo4j listens without TLS on 127.0.0.1, so there it is neo4j://; set neo4jUriScheme in the --values file for a server without TLS.',
        'db-runbook sends the statement with the official neo4j-driver (no cypher-shell or Java needed here); the command above is the same statement at a shell.',
      ],
    };
  },
  preview: standInPreview,
  async run(ctx) {
    const values = ctx.values;
    values.require('NEO4J_PASSWORD');
    const host = values.require('NEO4J_HOST');
    const port = values.get('NEO4J_BOLT_PORT') ?? '7687';
    const address = `${boltScheme(ctx.target.sandbox, ctx.settings)}://${host}:${port}`;
    const marker = syntheticMarker(new Date(), ctx.sessionId);
    const result = await cypher(ctx, seedCypher(marker), values.get('NEO4J_DATABASE'), undefined, address);
    const note = standInNote(ctx, 'neo4j');
    if (!result.ok) {
      const why = result.unavailable ?? result.error;
      return {
        summary: withStandIn(ctx, `could not merge the marker node: ${why}`),
        checks: [
          {
            id: 'seed',
            label: 'merge (n:BackupValidation {id: "synthetic"})',
            status: 'fail',
            detail: why,
            next:
              result.kind === 'unavailable' && /TLS/.test(result.error)
                ? `Bolt TLS does not match: set neo4jUriScheme (neo4j, neo4j+s, bolt…) in the --values file (now ${address.split(':')[0]}).`
                : (result.next ??
                  `Check that ${address} accepts Bolt connections from this machine (prerequisites.network).`),
          },
        ],
      };
    }
    ctx.log(`Bolt ${address}: ${result.rows.map((row) => row.join(', ')).join(' | ')}`);
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
      const backups = scan.entries.filter((entry) => /\.(backup|dump)$/.test(entry.name));
      checks.push(
        backups.length > 0 || scan.entryCount > scan.entries.length
          ? {
              id: 'backup-files',
              label: 'neo4j-admin backup or dump files in the archive',
              status: backups.length > 0 ? 'ok' : 'warn',
              detail:
                backups.length > 0
                  ? backups.map((entry) => entry.name).join(', ')
                  : `none among the first ${scan.entries.length} entries`,
            }
          : {
              id: 'backup-files',
              label: 'no .backup or .dump file in the archive',
              status: 'warn',
              detail:
                'neo4j-admin database backup writes <database>-<time>.backup files, database dump <database>.dump',
              next: 'Check that the Job ran neo4j-admin database backup or dump (not a copy of the data directory).',
            },
      );
    }
    // Said plainly: the entries prove an archive, not the marker. A Neo4j store must be loaded to be
    // read, so the marker node is proved by a restore (restore-neo4j, or the drill), not here.
    const seeded = ctx.from(seed)?.marker;
    checks.push({
      id: 'marker',
      label: `marker node${typeof seeded === 'string' ? ` "${seeded}"` : ''} in the backup`,
      status: 'warn',
      detail: 'not proved by this step: the archive holds Neo4j store files, which must be loaded to be read',
      next: 'Prove it by restoring this archive: restore-neo4j into a stopped member, or the DR drill (Enterprise: a scratch database).',
    });
    const sidecar = await sidecarCheck(s3, object.key, scan.sha256);
    checks.push(sidecar.check);
    const head = await s3.head(object.key).catch(() => undefined);
    const downtime = head?.metadata['downtime-seconds'];
    const adminVersion = head?.metadata['neo4j-admin-version'] ?? '';
    const ranOnStandIn = /stand-in/.test(adminVersion);
    if (ranOnStandIn)
      checks.push({
        id: 'stand-in',
        label: 'Enterprise online backup ran against a stand-in',
        status: 'warn',
        detail: `${adminVersion}: the backup protocol and DIFF ranges are simulated; the dump inside is real`,
      });
    if (downtime)
      checks.push({
        id: 'downtime',
        label: `Neo4j was down ${downtime} s for this backup`,
        status: 'ok',
        detail: `${head?.metadata['backup-type'] ?? 'DUMP'}: the server was stopped, dumped and started again (Community has no online backup)`,
      });
    const note = standInNote(ctx, 'neo4j');
    if (note) checks.push({ id: 'stand-in', label: note, status: 'skip' });
    const failed = checks.filter((check) => check.status === 'fail');
    return {
      summary: withStandIn(
        ctx,
        failed.length
          ? `${failed[0]?.label ?? 'verification failed'}: ${failed[0]?.detail ?? ''}`
          : `${object.key}: ${scan.entryCount} entries, sha256 ${scan.sha256.slice(0, 12)}…; ${rate}${downtime ? `; Neo4j was down ${downtime} s for this backup` : ''}`,
      ),
      checks,
      data: {
        ...verifiedObjectData(backup, scan.sha256, sidecar.sidecar),
        gzipOk: scan.gzipOk,
        tarOk: scan.tarOk,
        entryCount: scan.entryCount,
        entries: scan.entries.map((entry) => entry.name),
        ms,
        ...(downtime ? { downtimeSeconds: Number(downtime), backupType: head?.metadata['backup-type'] } : {}),
        ...(ranOnStandIn
          ? { standIn: true, standInParts: ['neo4j-admin database backup (Enterprise online)'] }
          : {}),
        ...(note ? { standIn: true } : {}),
        ...(failed.length ? { next: 'run db-runbook run troubleshoot' } : {}),
      },
    };
  },
});

export const testNeo4jSteps: readonly RunbookStep[] = syntheticSteps(NEO4J_TARGET, seed, verify);
