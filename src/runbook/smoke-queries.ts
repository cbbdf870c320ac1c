/**
 * The values file's smoke queries as the restore-verify Jobs read them: ConfigMap `db-runbook-smoke-queries`
 * with `postgres.sql` (smokeQueries) and `neo4j.cypher` (neo4jSmokeQueries), one block per query:
 * `-- name: …`, an optional `-- expect: …`, then ONE statement (lib-verify.sh's format).
 */
import { configMapFrom } from './k8s-objects.js';
import type { KubeObject } from './kube-object.js';

export const SMOKE_QUERIES_CONFIGMAP = 'db-runbook-smoke-queries';

export interface SmokeQuery {
  name: string;
  statement: string;
  expect?: string | number | boolean;
}

/** The blocks the scripts parse; a header line inside a query would split it, and `;` is refused by them. */
export function smokeQueryProblems(queries: readonly SmokeQuery[], setting: string): string[] {
  const problems: string[] = [];
  queries.forEach((query, index) => {
    const where = `${setting}[${index}] (${query.name})`;
    const statement = statementOf(query);
    if (/^\s*--\s*(name|expect):/m.test(statement) || /[\r\n]/.test(query.name))
      problems.push(`${where}: a line starting with "-- name:" or "-- expect:" cannot be inside a query`);
    if (statement.includes(';') || statement.includes('\\'))
      problems.push(`${where}: one statement without ";" or "\\" (the verify Job refuses them)`);
  });
  return problems;
}

/**
 * The queries the Job can run, and why each other one is left out. dr-validation runs queries the Job refuses
 * (a backslash in E'\\n', say), so deploy leaves those out and says so rather than refusing the deploy.
 */
export function runnableByJob(
  queries: readonly SmokeQuery[],
  setting: string,
): { runnable: SmokeQuery[]; leftOut: string[] } {
  const runnable: SmokeQuery[] = [];
  const leftOut: string[] = [];
  queries.forEach((query, index) => {
    const problems = smokeQueryProblems([query], setting).map((problem) =>
      problem.replace(`${setting}[0]`, `${setting}[${index}]`),
    );
    if (problems.length === 0) runnable.push(query);
    else leftOut.push(...problems);
  });
  return { runnable, leftOut };
}

/** The statement as the Job runs it: one trailing `;` is dropped. */
function statementOf(query: SmokeQuery): string {
  return query.statement.trim().replace(/;\s*$/, '').trimEnd();
}

export function smokeQueriesText(queries: readonly SmokeQuery[]): string {
  return queries
    .map(
      (query) =>
        `-- name: ${query.name}\n${query.expect === undefined ? '' : `-- expect: ${String(query.expect)}\n`}${statementOf(query)}\n`,
    )
    .join('\n');
}

/** Always applied with the verify CronJobs: an empty key means no smoke query, so a removed query goes too. */
export function smokeQueriesConfigMap(
  namespace: string,
  postgres: readonly SmokeQuery[],
  neo4j: readonly SmokeQuery[],
): KubeObject {
  return configMapFrom(SMOKE_QUERIES_CONFIGMAP, namespace, {
    literals: [
      ['postgres.sql', smokeQueriesText(postgres)],
      ['neo4j.cypher', smokeQueriesText(neo4j)],
    ],
  });
}

/** `neo4jSmokeQueries`: a list of {name, cypher, expect?}. */
export function parseNeo4jSmokeQueries(setting: unknown): { queries: SmokeQuery[]; problems: string[] } {
  if (setting === undefined || setting === null) return { queries: [], problems: [] };
  if (!Array.isArray(setting))
    return { queries: [], problems: ['neo4jSmokeQueries must be a list of {name, cypher, expect?}'] };
  const queries: SmokeQuery[] = [];
  const problems: string[] = [];
  setting.forEach((item: unknown, index) => {
    const entry = (item ?? {}) as Record<string, unknown>;
    const name =
      typeof entry.name === 'string' && entry.name.trim() !== '' ? entry.name.trim() : `query ${index + 1}`;
    const cypher = typeof entry.cypher === 'string' && entry.cypher.trim() !== '' ? entry.cypher : undefined;
    const expect = entry.expect;
    if (!cypher) problems.push(`neo4jSmokeQueries[${index}] (${name}) has no cypher`);
    else if (expect !== undefined && !['string', 'number', 'boolean'].includes(typeof expect))
      problems.push(`neo4jSmokeQueries[${index}] expect must be a string, number or boolean`);
    else
      queries.push({
        name,
        statement: cypher,
        ...(expect === undefined ? {} : { expect: expect as SmokeQuery['expect'] }),
      });
  });
  const shellCommands = queries
    .filter((query) => /^\s*:/m.test(query.statement))
    .map(
      (query) =>
        `neo4jSmokeQueries (${query.name}): a line starting with ":" is a cypher-shell command, not Cypher`,
    );
  return {
    queries,
    problems: [...problems, ...smokeQueryProblems(queries, 'neo4jSmokeQueries'), ...shellCommands],
  };
}
