/**
 * The end of the drill: drop the scratch databases this session created (PostgreSQL and Neo4j), after a
 * confirmation that names them; the source databases are refused.
 */
import { drillDatabaseName, RESERVED_PG, scratchProblem } from '../../runbook/drill-names.js';
import { RunbookError } from '../../runbook/errors.js';
import { MARK, type TemporaryData } from '../../runbook/marks.js';
import { quoteIdent } from '../../runbook/pg-queries.js';
import type { Check, Gate } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { cypher, quoteNeo4jName } from '../clients/cypher.js';
import { MAINTENANCE_DATABASE } from '../clients/psql.js';
import { psqlStatement } from '../clients/psql-run.js';
import type { From } from '../restore-kit/spec.js';
import { neo4j } from './neo4j.js';
import { restoredScratch } from './restore.js';
import { existingLike } from './scratch.js';
import { DRILL_IDS, drillValues, onDrillServer, SECTION } from './spec.js';

/** The scratch databases this session created. */
interface Scratches {
  postgres?: string;
  neo4j?: string;
}

function scratches(from: From): Scratches {
  const pg = restoredScratch(from);
  const neo = from(neo4j)?.scratch;
  return {
    ...(pg ? { postgres: pg } : {}),
    ...(neo !== undefined ? { neo4j: neo } : {}),
  };
}

export const drop = defineStep({
  id: DRILL_IDS.drop,
  section: SECTION,
  title: 'Drop the scratch databases',
  description:
    'At the end of the drill, the scratch databases this session created are dropped (PostgreSQL: DROP DATABASE … WITH (FORCE) from the maintenance database; Neo4j: DROP DATABASE … IF EXISTS), after a confirmation that names them. The source databases are refused.',
  inputs: [],
  plan: (values) => ({
    actions: [
      {
        summary: `drop ${drillDatabaseName(values.get('POSTGRES_DATABASE') ?? '<database>', new Date())} (the scratch database this session created)`,
        command: `PGPASSWORD=<password> psql -h ${values.get('POSTGRES_HOST') ?? '<host>'} -d postgres -c 'DROP DATABASE IF EXISTS "<scratch>" WITH (FORCE)'`,
        destructive: true,
      },
    ],
    notes: ['Only databases this session created; confirm gate names them.'],
  }),
  async preview(ctx) {
    const found = scratches(ctx.from);
    return {
      lines:
        found.postgres || found.neo4j
          ? [
              ...(found.postgres
                ? [`drop PostgreSQL database ${found.postgres} (created by this drill)`]
                : []),
              ...(found.neo4j ? [`drop Neo4j database ${found.neo4j} (created by this drill)`] : []),
            ]
          : ['no scratch database was created in this session: nothing to drop'],
      data: { ...found },
    };
  },
  gate(given, ctx): Gate | undefined {
    const values = drillValues(given);
    // Without a preview (db-runbook plan) the gate is shown with the default name.
    const found: Scratches = ctx.preview
      ? (ctx.preview.data as Scratches)
      : { postgres: drillDatabaseName(values.get('POSTGRES_DATABASE') ?? '<database>', new Date()) };
    if (!found.postgres && !found.neo4j) return undefined;
    return {
      kind: 'confirm',
      prompt: `Drop the drill's scratch database${found.postgres && found.neo4j ? 's' : ''} ${[found.postgres, found.neo4j].filter(Boolean).join(' and ')}?`,
      target: {
        ...(found.postgres
          ? {
              'postgres host': `${values.get('POSTGRES_HOST')}:${values.get('POSTGRES_PORT')}`,
              'drop (postgres)': found.postgres,
            }
          : {}),
        ...(found.neo4j
          ? { 'neo4j host': values.get('NEO4J_HOST') ?? '?', 'drop (neo4j)': found.neo4j }
          : {}),
        'kept (sources)': [values.get('POSTGRES_DATABASE'), values.get('NEO4J_DATABASE')]
          .filter(Boolean)
          .join(', '),
      },
    };
  },
  async run(raw) {
    const ctx = onDrillServer(raw);
    const found = (ctx.preview?.data as Scratches | undefined) ?? scratches(ctx.from);
    const checks: Check[] = [];
    if (!found.postgres && !found.neo4j)
      return {
        summary: 'nothing to drop: no scratch database was created in this session',
        checks: [
          { id: 'none', label: 'scratch databases', status: 'skip', detail: 'none created in this session' },
        ],
      };
    if (found.postgres) {
      const source = ctx.values.get('POSTGRES_DATABASE') ?? '';
      const problem = scratchProblem(found.postgres, source, RESERVED_PG);
      if (problem) throw new RunbookError(`refused to drop ${found.postgres}: ${problem}`);
      const dropped = await psqlStatement(
        ctx,
        `DROP DATABASE IF EXISTS ${quoteIdent(found.postgres)} WITH (FORCE);`,
        MAINTENANCE_DATABASE,
      );
      const left = dropped.ok ? await existingLike(ctx, found.postgres) : [found.postgres];
      const gone = dropped.ok && !left.includes(found.postgres);
      if (gone)
        ctx.mark(MARK.temporaryRemoved, { kind: 'database', name: found.postgres } satisfies TemporaryData);
      checks.push({
        id: 'postgres',
        label: `DROP DATABASE ${found.postgres}`,
        status: gone ? 'ok' : 'fail',
        detail: gone ? `gone; ${source} kept` : dropped.error,
        ...(gone ? {} : { next: `Drop it by hand: DROP DATABASE "${found.postgres}" WITH (FORCE);` }),
      });
    }
    if (found.neo4j) {
      const source = ctx.values.get('NEO4J_DATABASE') ?? 'neo4j';
      if (scratchProblem(found.neo4j, source, new Set(['system'])))
        throw new RunbookError(`refused to drop ${found.neo4j}: it is not a scratch database`);
      const dropped = await cypher(ctx, `DROP DATABASE ${quoteNeo4jName(found.neo4j)} IF EXISTS`, 'system');
      if (dropped.ok)
        ctx.mark(MARK.temporaryRemoved, { kind: 'database', name: found.neo4j } satisfies TemporaryData);
      checks.push({
        id: 'neo4j',
        label: `DROP DATABASE ${found.neo4j}`,
        status: dropped.ok ? 'ok' : 'warn',
        detail: dropped.ok ? `gone; ${source} kept` : dropped.error,
        ...(dropped.ok
          ? {}
          : { next: `Drop it by hand: cypher-shell -d system "DROP DATABASE \`${found.neo4j}\` IF EXISTS"` }),
      });
    }
    const failed = checks.filter((check) => check.status !== 'ok');
    return {
      summary: failed.length
        ? `not everything was dropped: ${failed.map((c) => c.label).join(', ')}`
        : `dropped ${checks.map((c) => c.label.replace('DROP DATABASE ', '')).join(', ')}`,
      checks,
      data: { dropped: checks.filter((c) => c.status === 'ok').map((c) => c.id) },
    };
  },
});
