/**
 * The drill's Neo4j step: Enterprise restores the newest backup into a new scratch database on this host's
 * server (neo4j-restore.sh, then CREATE DATABASE) and smoke-tests it; Community goes into an isolated
 * instance instead (neo4j-instance.ts). The serving database is never touched.
 */
import { dirname, join } from 'node:path';
import {
  type Backup,
  buildCatalog,
  defaultBackup,
  formatDuration,
  withMetadata,
} from '../../runbook/backup-catalog.js';
import { neo4jDrillName, scratchProblem } from '../../runbook/drill-names.js';
import { UsageError } from '../../runbook/errors.js';
import { MARK, type TemporaryData } from '../../runbook/marks.js';
import { formatS3Uri } from '../../runbook/s3-uri.js';
import type { Check, Gate, Preview, StepResult } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import type { ValidationEntry } from '../restore-kit/validation.js';
import { cypher, neo4jAddress, neo4jHome, neo4jServerInfo, quoteNeo4jName } from '../clients/cypher.js';
import { lastLines } from '../clients/psql.js';
import { scriptLocation, scriptOutput } from '../clients/restore-scripts.js';
import { drillIntoInstance } from './neo4j-instance.js';
import { runNeo4jRestore } from './neo4j-restore.js';
import {
  type Ctx,
  DRILL_IDS,
  type DrillNeo4jData,
  explicitName,
  type Neo4jPreview,
  SECTION,
} from './spec.js';

function neo4jPreviewData(preview: Preview | undefined): Neo4jPreview | undefined {
  return preview?.data as Neo4jPreview | undefined;
}

export const neo4j = defineStep<DrillNeo4jData>({
  id: DRILL_IDS.neo4j,
  section: SECTION,
  database: 'neo4j',
  title: 'Neo4j into a scratch database or an isolated instance',
  description:
    'Enterprise: the latest Neo4j backup is restored with neo4j-restore.sh into a new database <db>-drill-<yyyymmdd> on this host’s server (NEO4J_HOME), created, and smoke-tested (online, node count, BackupValidation marker). Community (one user database per server): it is restored into a second, isolated Neo4j on this machine (its own NEO4J_HOME and Bolt port, from the local distribution), smoke-tested over Bolt, then stopped and deleted; the serving Neo4j is never touched.',
  inputs: [],
  optionalInputs: [
    'NEO4J_HOST',
    'NEO4J_BOLT_PORT',
    'NEO4J_DATABASE',
    'NEO4J_USERNAME',
    'NEO4J_PASSWORD',
    'NEO4J_S3_PREFIX',
    'S3_BUCKET',
  ],
  plan: (values) => {
    const source = values.get('NEO4J_DATABASE') ?? 'neo4j';
    const scratch = neo4jDrillName(source, new Date());
    const address = `neo4j://${values.get('NEO4J_HOST') ?? '<host>'}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`;
    return {
      actions: [
        {
          summary: 'the edition (Enterprise allows a scratch database)',
          command: `cypher-shell -a ${address} "CALL dbms.components()"`,
        },
        {
          summary: `restore the newest backup under ${values.get('NEO4J_S3_PREFIX') ?? 'neo4j/'} into ${scratch} (load, or restore with its chain), then create it`,
          command: [
            `RESTORE_S3_URI=s3://${values.get('S3_BUCKET') ?? '<bucket>'}/${values.get('NEO4J_S3_PREFIX') ?? 'neo4j/'}<newest>.backup.tar.gz NEO4J_DATABASE=${scratch} NEO4J_HOME=<home> \\`,
            `bash ${scriptLocation({}, 'neo4j-restore.sh').display}`,
            `cypher-shell -a ${address} -d system "CREATE DATABASE \`${scratch}\` WAIT"`,
          ].join('\n'),
          writes: true,
        },
        { summary: `smoke: ${scratch} online, MATCH (n) RETURN count(n), BackupValidation markers` },
      ],
      notes: [
        'Community Edition: no CREATE DATABASE, so the backup goes into a second, isolated Neo4j on this machine instead (NEO4J_HOME in a temp folder, Bolt on a free 127.0.0.1 port; needs neo4j-admin and neo4j of Neo4j 5 and Java 17 here), deleted after the smoke queries.',
      ],
    };
  },
  async preview(ctx) {
    const no = (why: string, extra: Partial<Neo4jPreview> = {}): Preview => ({
      lines: [`Neo4j drill not possible here: ${why}`],
      data: { possible: false, why, ...extra } satisfies Neo4jPreview,
    });
    if (!ctx.values.get('NEO4J_HOST')) return no('NEO4J_HOST is not set');
    const { info, outcome } = await neo4jServerInfo(ctx);
    if (outcome.unavailable) return no(outcome.unavailable);
    if (!info) return no(`could not ask the server over Bolt: ${outcome.error}`);
    const edition = info.edition.toLowerCase();
    if (edition === 'community') {
      const admin = await ctx.adapters.proc.which('neo4j-admin');
      const launcher = await ctx.adapters.proc.which('neo4j');
      if (!admin || !launcher)
        return no(
          `Neo4j ${info.version} Community has one user database per server, so the drill needs a second, isolated Neo4j here: put a Neo4j 5 distribution's bin/ (neo4j, neo4j-admin) on PATH`,
          { edition },
        );
      const real = (await ctx.adapters.proc.run('readlink', ['-f', admin])).stdout.trim() || admin;
      const binDir = dirname(real);
      const found = await newestNeo4jBackup(ctx);
      if ('problem' in found) return no(found.problem, { edition });
      const { newest, uri } = found;
      return {
        lines: [
          `Neo4j ${info.version} Community: one user database per server, so ${uri} is restored into a second, isolated Neo4j on this machine (its own NEO4J_HOME in a temp folder, Bolt on a free 127.0.0.1 port, ${binDir}), smoke-tested, then deleted`,
          `the serving Neo4j (${neo4jAddress(ctx)}) is not touched`,
        ],
        data: {
          possible: true,
          instance: true,
          edition,
          uri,
          binDir,
          libDir: join(dirname(binDir), 'lib'),
          ...(newest.recoveryPoint ? { recoveryPoint: newest.recoveryPoint } : {}),
        } satisfies Neo4jPreview,
      };
    }
    if (edition !== 'enterprise') return no(`Neo4j of an unknown edition (${edition})`, { edition });
    const home = neo4jHome(ctx.settings);
    const admin =
      (await ctx.adapters.proc.which(`${home}/bin/neo4j-admin`)) ??
      (await ctx.adapters.proc.which('neo4j-admin'));
    if (!admin)
      return no(
        `neo4j-admin is not on this host: the restore runs where the server's NEO4J_HOME (${home}) is`,
        { edition },
      );
    const source = ctx.values.get('NEO4J_DATABASE') ?? 'neo4j';
    const planned = explicitName(ctx.settings, 'neo4jDrillDatabase') ?? neo4jDrillName(source, new Date());
    const problem = scratchProblem(planned, source, new Set(['system']));
    if (problem)
      throw new UsageError(`refused: ${problem}`, 'Set neo4jDrillDatabase in the values file to a new name.');
    let scratch = planned;
    for (let n = 2; ; n++) {
      const shown = await cypher(ctx, `SHOW DATABASE ${quoteNeo4jName(scratch)} YIELD name`, 'system');
      if (shown.ok && shown.rows.length === 0) break;
      if (!shown.ok) return no(`SHOW DATABASE failed: ${shown.error}`, { edition });
      scratch = `${planned}-${n}`;
    }
    const found = await newestNeo4jBackup(ctx);
    if ('problem' in found) return no(found.problem, { edition });
    const { newest, uri } = found;
    return {
      lines: [
        `Neo4j ${edition}: restore ${uri} into the NEW database ${scratch} (NEO4J_HOME ${home}), then CREATE DATABASE`,
        `the database ${source} is not touched`,
      ],
      data: {
        possible: true,
        edition,
        scratch,
        uri,
        home,
        ...(newest.recoveryPoint ? { recoveryPoint: newest.recoveryPoint } : {}),
      } satisfies Neo4jPreview,
    };
  },
  gate(values, ctx): Gate | undefined {
    const data = neo4jPreviewData(ctx.preview);
    if (ctx.preview && !data?.possible) return undefined;
    if (data?.instance)
      return {
        kind: 'confirm',
        prompt: `Restore the latest Neo4j backup into a second, isolated Neo4j on this machine (started, smoke-tested, then deleted)? The serving Neo4j is not touched.`,
        target: {
          'isolated instance': `new NEO4J_HOME in a temp folder, Bolt on a free 127.0.0.1 port (${data.binDir ?? '?'})`,
          'serving neo4j (untouched)': `${values.get('NEO4J_HOST') ?? '?'}:${values.get('NEO4J_BOLT_PORT') ?? '7687'}`,
          backup: data.uri ?? '(the newest)',
        },
      };
    const scratch = data?.scratch ?? neo4jDrillName(values.get('NEO4J_DATABASE') ?? 'neo4j', new Date());
    return {
      kind: 'confirm',
      prompt: `Restore the latest Neo4j backup into a new database ${scratch} on ${values.get('NEO4J_HOST')} and create it? ${values.get('NEO4J_DATABASE') ?? 'neo4j'} is not touched.`,
      target: {
        'neo4j host': values.get('NEO4J_HOST') ?? '?',
        NEO4J_HOME: data?.home ?? '?',
        'scratch database (new)': scratch,
        'source database (untouched)': values.get('NEO4J_DATABASE') ?? 'neo4j',
        backup: data?.uri ?? '(the newest)',
      },
    };
  },
  async run(ctx): Promise<StepResult<DrillNeo4jData>> {
    const data = neo4jPreviewData(ctx.preview);
    if (data?.possible && data.instance && data.uri) return drillIntoInstance(ctx, data);
    if (!data?.possible || !data.scratch || !data.uri)
      return {
        summary: `Neo4j not drilled: ${data?.why ?? 'not possible here'}`,
        checks: [
          {
            id: 'edition',
            label: 'Neo4j scratch database',
            status: 'skip',
            detail: data?.why ?? 'not possible here',
          },
        ],
        data: { drilled: false, why: data?.why ?? null },
      };
    const scratch = data.scratch;
    const credentials: Record<string, string> = {};
    for (const name of ['NEO4J_USERNAME', 'NEO4J_PASSWORD']) {
      const value = ctx.values.get(name);
      if (value) credentials[name] = value;
    }
    const started = Date.now();
    const result = await runNeo4jRestore(ctx, data.uri, scratch, {
      ...credentials,
      NEO4J_DATABASE: scratch,
      NEO4J_HOME: data.home ?? neo4jHome(ctx.settings),
      NEO4J_ADDRESS: neo4jAddress(ctx),
    });
    if (result.exitCode !== 0)
      return {
        summary: `Neo4j restore into ${scratch} FAILED (neo4j-restore.sh exit ${result.exitCode})`,
        checks: [
          {
            id: 'restore',
            label: `neo4j-restore.sh into ${scratch}`,
            status: 'fail',
            detail: lastLines(result.stderr, 4) || `exit ${result.exitCode}`,
          },
        ],
        data: { drilled: false, scratch, exitCode: result.exitCode },
      };
    const out = scriptOutput(result.stdout);
    // The restored store is on the server from here on, whether or not CREATE DATABASE works.
    ctx.mark(MARK.temporaryCreated, {
      kind: 'database',
      name: scratch,
      where: 'Neo4j',
    } satisfies TemporaryData);
    const create = await cypher(
      ctx,
      `CREATE DATABASE ${quoteNeo4jName(scratch)} IF NOT EXISTS WAIT`,
      'system',
    );
    ctx.mark(MARK.restoreDone, { uri: data.uri, database: scratch });
    if (data.recoveryPoint)
      ctx.mark(MARK.recoveryPoint, { at: data.recoveryPoint, uri: data.uri, verified: true });
    const checks: Check[] = [
      {
        id: 'restore',
        label: `neo4j-restore.sh into ${scratch}`,
        status: 'ok',
        detail: `${out.type ?? '?'} ${out.artifact ?? ''} in ${formatDuration(Date.now() - started)}`,
      },
      {
        id: 'create',
        label: `CREATE DATABASE ${scratch}`,
        status: create.ok ? 'ok' : 'fail',
        detail: create.ok ? 'created from the restored store' : create.error,
      },
    ];
    const status = await cypher(
      ctx,
      `SHOW DATABASE ${quoteNeo4jName(scratch)} YIELD name, currentStatus`,
      'system',
    );
    const current = status.rows[0]?.[1] ?? '?';
    checks.push({
      id: 'online',
      label: `${scratch} online`,
      status: current === 'online' ? 'ok' : 'fail',
      detail: current,
    });
    const validation: ValidationEntry[] = [
      { query: `${scratch} online`, ok: current === 'online', detail: current },
    ];
    const count = await cypher(ctx, 'MATCH (n) RETURN count(n)', scratch);
    const nodes = count.ok ? Number(count.rows[0]?.[0] ?? 'NaN') : Number.NaN;
    const countOk = count.ok && Number.isFinite(nodes);
    checks.push({
      id: 'nodes',
      label: 'MATCH (n) RETURN count(n)',
      status: countOk ? 'ok' : 'fail',
      detail: count.ok ? `${nodes} node(s)` : count.error,
    });
    validation.push({
      query: 'MATCH (n) RETURN count(n)',
      ok: countOk,
      detail: count.ok ? `${nodes}` : count.error,
    });
    const markers = await cypher(ctx, 'MATCH (n:BackupValidation) RETURN count(n)', scratch);
    checks.push({
      id: 'marker',
      label: 'BackupValidation markers',
      status: markers.ok ? (Number(markers.rows[0]?.[0] ?? 0) > 0 ? 'ok' : 'skip') : 'fail',
      detail: markers.ok ? `${markers.rows[0]?.[0] ?? 0} node(s)` : markers.error,
    });
    const failed = validation.filter((entry) => !entry.ok);
    if (failed.length === 0) ctx.mark(MARK.validated, { database: scratch, drill: true });
    return {
      summary:
        failed.length === 0
          ? `Neo4j restored into ${scratch} and smoke-tested (${nodes} nodes)`
          : `Neo4j drill FAILED on ${scratch}: ${failed.map((entry) => entry.query).join(', ')}`,
      checks,
      data: {
        drilled: true,
        scratch,
        created: create.ok,
        backup: { uri: data.uri, verified: true },
        validation,
        recoveryPoint: data.recoveryPoint ?? null,
        ...(failed.length === 0 ? { validatedAt: new Date().toISOString() } : {}),
      },
    };
  },
});

/** The newest Neo4j backup under NEO4J_S3_PREFIX, with its object metadata, or why there is none. */
async function newestNeo4jBackup(ctx: Ctx): Promise<{ newest: Backup; uri: string } | { problem: string }> {
  const bucket = ctx.values.get('S3_BUCKET');
  if (!bucket) return { problem: 'S3_BUCKET is not set' };
  const prefix = ctx.values.get('NEO4J_S3_PREFIX') ?? 'neo4j/';
  const s3 = await ctx.adapters.s3();
  let newest = defaultBackup(buildCatalog(await s3.list(prefix), { kind: 'neo4j', prefix }));
  if (!newest) return { problem: `no Neo4j backup under s3://${bucket}/${prefix}` };
  const head = await s3.head(newest.key);
  if (head) newest = withMetadata(newest, head.metadata);
  return { newest, uri: formatS3Uri(bucket, newest.key) };
}
