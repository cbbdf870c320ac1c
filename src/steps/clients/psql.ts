/**
 * The one psql driver of the steps: libpq environment (password never in argv), the connection a plan
 * shows, and read-only validation queries.
 */
import {
  checkExpectation,
  firstValue,
  PSQL_QUERY_FLAGS,
  readOnlyScript,
  type ValidationQuery,
  validationQueryProblem,
} from '../../runbook/pg-queries.js';
import type { Values } from '../../runbook/values.js';
import type { Ctx } from '../define.js';
import { type ChildEnv, put } from './child-env.js';

/** The database psql connects to for cluster-wide questions (the restore script uses the same). */
export const MAINTENANCE_DATABASE = 'postgres';

/** libpq's own variables for psql run from this host (PGPASSWORD: never on the command line). */
export function libpqEnv(values: Values, database?: string): ChildEnv {
  const env: Record<string, string> = { PGCONNECT_TIMEOUT: '10', PGAPPNAME: 'db-runbook' };
  put(env, 'PGHOST', values.get('POSTGRES_HOST'));
  put(env, 'PGPORT', values.get('POSTGRES_PORT'));
  put(env, 'PGDATABASE', database ?? values.get('POSTGRES_DATABASE'));
  put(env, 'PGUSER', values.get('POSTGRES_USER'));
  put(env, 'PGPASSWORD', values.get('POSTGRES_PASSWORD'));
  return { env, secrets: values.secretValues() };
}

/** What psqlTarget puts for a value that is not set: libpq's defaults, or placeholders in a plan's command. */
export interface PsqlTargetDefaults {
  host: string;
  user: string;
  database: string;
}

const LIBPQ_DEFAULTS: PsqlTargetDefaults = { host: 'localhost', user: 'postgres', database: 'postgres' };

/** Placeholders for what is not set yet, in the psql command a plan shows. */
export const PLAN_PLACEHOLDERS: PsqlTargetDefaults = {
  host: '<host>',
  user: '<user>',
  database: '<database>',
};

/** Connection arguments for psql (nothing secret: the password stays in PGPASSWORD), so the journal shows the target. */
export function psqlTarget(
  values: Values,
  database?: string,
  defaults: PsqlTargetDefaults = LIBPQ_DEFAULTS,
): string[] {
  return [
    '-h',
    values.get('POSTGRES_HOST') ?? defaults.host,
    '-p',
    values.get('POSTGRES_PORT') ?? '5432',
    '-U',
    values.get('POSTGRES_USER') ?? defaults.user,
    '-d',
    database ?? values.get('POSTGRES_DATABASE') ?? defaults.database,
  ];
}

/** The last `count` lines of a process's output, for a failed check's detail. */
export function lastLines(text: string, count: number): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/** Runs one of the operator's validation queries read-only through psql and says whether its answer meets `expect`. */
export async function runValidationQuery(
  ctx: Ctx,
  query: ValidationQuery,
  database?: string,
): Promise<{ ok: boolean; detail: string }> {
  const problem = validationQueryProblem(query.sql);
  if (problem) return { ok: false, detail: `refused, not run: ${problem}` };
  const { env, secrets } = libpqEnv(ctx.values, database);
  const result = await ctx.adapters.proc.run(
    'psql',
    [...PSQL_QUERY_FLAGS, ...psqlTarget(ctx.values, database), '-f', '-'],
    {
      // every transaction of the session read-only as well, and no check runs for ever
      env: { ...env, PGOPTIONS: '-c default_transaction_read_only=on -c statement_timeout=110s' },
      secrets,
      input: readOnlyScript(query.sql),
      signal: ctx.signal,
      timeoutMs: 120000,
    },
  );
  if (result.exitCode !== 0)
    return { ok: false, detail: lastLines(result.stderr, 2) || `psql exit ${result.exitCode}` };
  return checkExpectation(firstValue(result.stdout), query.expect);
}

/** The PostgreSQL connection values the restore and drill steps need. */
export const PG_INPUTS = [
  'POSTGRES_HOST',
  'POSTGRES_PORT',
  'POSTGRES_DATABASE',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
];
