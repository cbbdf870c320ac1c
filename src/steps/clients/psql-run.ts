/**
 * psql run from this host by the restore and drill steps: one statement (`-c`) or a script on stdin, with
 * libpq's environment (the password never in argv), two minutes at most.
 */
import type { Adapters, ProcResult } from '../../adapters/types.js';
import { RunbookError } from '../../runbook/errors.js';
import { PSQL_QUERY_FLAGS } from '../../runbook/pg-queries.js';
import type { StepContext } from '../../runbook/step.js';
import { libpqEnv, psqlTarget } from './psql.js';

type PsqlCtx = Pick<StepContext<Adapters>, 'values' | 'adapters' | 'signal'>;

export interface PsqlRunOptions {
  /** A script fed on stdin (`-f -`) instead of the statement. */
  input?: string;
  /** The session's PGOPTIONS, e.g. `-c search_path=`. */
  pgOptions?: string;
}

/** psql `-c sql` (or the script `input`) against `database`: the process's result as it is. */
export function runPsql(
  ctx: PsqlCtx,
  sql: string,
  database: string,
  options: PsqlRunOptions = {},
): Promise<ProcResult> {
  const { env, secrets } = libpqEnv(ctx.values, database);
  const { input, pgOptions } = options;
  return ctx.adapters.proc.run(
    'psql',
    [...PSQL_QUERY_FLAGS, ...psqlTarget(ctx.values, database), ...(input ? ['-f', '-'] : ['-c', sql])],
    {
      env: pgOptions ? { ...env, PGOPTIONS: pgOptions } : env,
      secrets,
      signal: ctx.signal,
      timeoutMs: 120_000,
      ...(input ? { input } : {}),
    },
  );
}

/** One statement: whether psql succeeded, its stdout, and what it said on failure (its last lines). */
export async function psqlStatement(
  ctx: PsqlCtx,
  sql: string,
  database: string,
): Promise<{ ok: boolean; stdout: string; error: string }> {
  const result = await runPsql(ctx, sql, database);
  const error = result.stderr.trim().split('\n').slice(-3).join(' ').trim() || `psql exit ${result.exitCode}`;
  return { ok: result.exitCode === 0, stdout: result.stdout, error };
}

/** One statement's stdout; throws where psql failed and what to check. */
export async function psqlOrThrow(ctx: PsqlCtx, sql: string, database: string): Promise<string> {
  const result = await psqlStatement(ctx, sql, database);
  if (!result.ok)
    throw new RunbookError(
      `psql (${ctx.values.get('POSTGRES_HOST')}:${ctx.values.get('POSTGRES_PORT')}/${database}) failed: ${result.error}`,
      { next: 'Check POSTGRES_HOST/PORT/USER/PASSWORD and that psql is installed (prerequisites).' },
    );
  return result.stdout;
}
