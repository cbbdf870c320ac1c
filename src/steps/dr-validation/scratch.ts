/**
 * The drill's PostgreSQL scratch database: its planned name, the refusal of the source (or a system
 * database), and the names already taken on the server.
 */
import { drillDatabaseName, RESERVED_PG, scratchProblem } from '../../runbook/drill-names.js';
import { UsageError } from '../../runbook/errors.js';
import { parseNames, quoteLiteral } from '../../runbook/pg-queries.js';
import type { Values } from '../../runbook/values.js';
import { MAINTENANCE_DATABASE } from '../clients/psql.js';
import { psqlOrThrow } from '../clients/psql-run.js';
import { type Ctx, explicitName } from './spec.js';

/** Databases whose name starts with `base` (the name itself, `base_2`, …). */
export async function existingLike(ctx: Ctx, base: string): Promise<string[]> {
  const pattern = `${base.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  return parseNames(
    await psqlOrThrow(
      ctx,
      `SELECT coalesce(json_agg(datname ORDER BY datname), '[]'::json) FROM pg_database WHERE datname LIKE ${quoteLiteral(pattern)};`,
      MAINTENANCE_DATABASE,
    ),
  );
}

/** The scratch database the drill restores into: the values file's drillDatabase, else `<db>_drill_<yyyymmdd>`. */
export function plannedScratch(
  values: Values,
  settings: Record<string, unknown>,
): { name: string; explicit: boolean } {
  const explicit = explicitName(settings, 'drillDatabase');
  return explicit
    ? { name: explicit, explicit: true }
    : { name: drillDatabaseName(values.get('POSTGRES_DATABASE') ?? 'db', new Date()), explicit: false };
}

/** Throws when `scratch` is the source or a system database. */
export function refuseSource(scratch: string, source: string): void {
  const problem = scratchProblem(scratch, source, RESERVED_PG);
  if (problem)
    throw new UsageError(
      `refused: ${problem}`,
      'Set drillDatabase in the values file to a new name, or leave it out (default <db>_drill_<yyyymmdd>).',
    );
}
