/**
 * Start what was stopped (the StatefulSet scaled back, START DATABASE x WAIT, or neo4j start), then the
 * runbook's checks over Bolt: the database online, its node count, every label's count, the marker node.
 */
import { RunbookError } from '../../runbook/errors.js';
import { defineStep } from '../define.js';
import { concludeValidation, validationList } from '../restore-kit/validation.js';
import { quoteNeo4jName } from '../clients/cypher.js';
import { IDS, NEO4J_INPUTS, SECTION } from './ids.js';
import { cypher, memberState, neo4jServer, waitFor } from './member.js';
import { memberStopped } from './member-stopped.js';

export const startVerify = defineStep({
  id: IDS.startVerify,
  section: SECTION,
  title: 'Start Neo4j and verify',
  description:
    "Start what was stopped (scale the StatefulSet back, START DATABASE x WAIT, or neo4j start), then the runbook's checks over Bolt: the database online, its node count, every label's count, the BackupValidation node.",
  inputs: NEO4J_INPUTS,
  database: 'neo4j',
  plan: (values) => {
    const database = values.get('NEO4J_DATABASE') ?? 'neo4j';
    return {
      actions: [
        {
          summary: values.get('NEO4J_STATEFULSET')
            ? `kubectl scale statefulset/${values.get('NEO4J_STATEFULSET')} --replicas=<as before>, wait for Bolt`
            : `START DATABASE ${quoteNeo4jName(database)} WAIT (or neo4j start when the server was stopped)`,
        },
        {
          summary: 'verify over Bolt (the official driver; the same statements at a shell:)',
          command: `cypher-shell -d ${database} 'MATCH (n) RETURN count(n) AS nodes'\ncypher-shell -d ${database} 'MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) ORDER BY label'\ncypher-shell -d ${database} 'MATCH (n:BackupValidation) RETURN n.id, n.checkedAt, n.marker'`,
        },
      ],
    };
  },
  async run(ctx) {
    const database = ctx.values.require('NEO4J_DATABASE');
    const stopped = ctx.from(memberStopped);
    const how = stopped?.how;
    const list = validationList();
    const { checks, validation, add } = list;
    if (how === 'statefulset' && typeof stopped?.statefulSet === 'string') {
      const replicas = stopped.replicasBefore ?? 1;
      const kube = await ctx.adapters.kube();
      await kube.scale(
        {
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          name: stopped.statefulSet,
          namespace: kube.target.namespace,
        },
        replicas,
      );
      ctx.log(`kubectl scale statefulset/${stopped.statefulSet} --replicas=${replicas}`);
      await waitFor(
        ctx,
        600,
        `waiting for Neo4j (StatefulSet ${stopped.statefulSet}) to answer over Bolt`,
        async () => {
          const probe = await cypher(
            ctx,
            `SHOW DATABASE ${quoteNeo4jName(database)} YIELD currentStatus`,
            'system',
          );
          return probe.ok && probe.rows[0]?.[0] === 'online';
        },
      );
    }
    const before = await memberState(ctx);
    if (before.serverRunning === false || (before.status === undefined && how === 'server')) {
      const started = await neo4jServer(ctx, 'start');
      ctx.log(started.stdout.trim().split('\n').slice(-1).join(''));
      if (started.exitCode !== 0)
        throw new RunbookError(`neo4j start failed: ${started.stderr || started.stdout}`);
    }
    const middle = await memberState(ctx);
    if (middle.status !== undefined && middle.status !== 'online') {
      const started = await cypher(ctx, `START DATABASE ${quoteNeo4jName(database)} WAIT`, 'system');
      if (!started.ok) throw new RunbookError(`START DATABASE ${database} failed: ${started.error}`);
      ctx.log(`START DATABASE ${database} WAIT: done`);
    }
    const after = await memberState(ctx);
    if (after.serverRunning !== undefined)
      add('server', 'neo4j status', after.serverRunning, after.serverRunning ? 'running' : 'not running');
    add(
      'online',
      `database ${database} online`,
      after.status === 'online',
      after.detail,
      'See the Neo4j logs (debug.log) for why it did not start.',
    );
    const nodes = await cypher(ctx, 'MATCH (n) RETURN count(n) AS nodes', database);
    add(
      'nodes',
      'MATCH (n) RETURN count(n)',
      nodes.ok,
      nodes.ok ? `${nodes.rows[0]?.[0] ?? '?'} node(s)` : nodes.error,
    );
    const labels = await cypher(
      ctx,
      'MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) ORDER BY label',
      database,
    );
    add(
      'labels',
      'nodes per label',
      labels.ok,
      labels.ok
        ? labels.rows.map((row) => `${row[0]} ${row[1]}`).join(', ') || 'no labelled nodes'
        : labels.error,
    );
    const marker = await cypher(
      ctx,
      'MATCH (n:BackupValidation) RETURN n.id, n.checkedAt, n.marker',
      database,
    );
    add(
      'marker',
      'MATCH (n:BackupValidation)',
      marker.ok && marker.rows.length > 0,
      marker.ok
        ? marker.rows.length > 0
          ? marker.rows.map((row) => row.filter(Boolean).join(' ')).join('; ')
          : 'no BackupValidation node'
        : marker.error,
      'The backup has no BackupValidation node: was the synthetic test run before it?',
    );
    const failed = concludeValidation(ctx, list, { section: SECTION, engine: 'neo4j', database });
    return {
      summary: failed.length === 0 ? `verified: ${database} online` : `${failed.length} check(s) FAILED`,
      checks,
      data: {
        validation,
        labelCounts: labels.ok
          ? Object.fromEntries(labels.rows.map((row) => [row[0], Number(row[1])]))
          : undefined,
        ...(after.edition ? { edition: after.edition, version: after.version } : {}),
      },
    };
  },
});
