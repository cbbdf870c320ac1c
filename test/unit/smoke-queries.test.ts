// The restore-verify Jobs' smoke queries: what deploy writes into ConfigMap db-runbook-smoke-queries.
import { describe, expect, it } from 'vitest';
import { resolveValues } from '../../src/runbook/values.js';
import {
  parseNeo4jSmokeQueries,
  smokeQueriesConfigMap,
  smokeQueryProblems,
} from '../../src/runbook/smoke-queries.js';
import { readManifest } from '../../src/steps/deploy/index.js';
import { renderManifest } from '../../src/runbook/cronjob-manifest.js';
import { BACKUP_JOBS_RELATIVE, packageRoot } from '../../src/adapters/backup-jobs-files.js';
import { join } from 'node:path';

describe('smoke queries for the restore-verify Jobs', () => {
  it('are written one block per query, as the verify scripts read them (a trailing ; dropped)', () => {
    const map = smokeQueriesConfigMap(
      'data',
      [{ name: 'customers', statement: 'SELECT count(*) FROM customers;', expect: '>0' }],
      [{ name: 'people', statement: 'MATCH (p:Person) RETURN count(p)' }],
    );
    expect(map.metadata).toMatchObject({ name: 'db-runbook-smoke-queries', namespace: 'data' });
    expect((map as unknown as { data: Record<string, string> }).data).toEqual({
      'postgres.sql': '-- name: customers\n-- expect: >0\nSELECT count(*) FROM customers\n',
      'neo4j.cypher': '-- name: people\nMATCH (p:Person) RETURN count(p)\n',
    });
  });

  it('a query the Job would refuse is named before anything is written', () => {
    expect(smokeQueryProblems([{ name: 'two', statement: 'SELECT 1; SELECT 2' }], 'smokeQueries')).toEqual([
      'smokeQueries[0] (two): one statement without ";" or "\\" (the verify Job refuses them)',
    ]);
    expect(
      smokeQueryProblems(
        [{ name: 'hidden', statement: 'SELECT 1\n-- name: other\nSELECT 2' }],
        'smokeQueries',
      )[0],
    ).toMatch(/cannot be inside a query/);
  });

  it('neo4jSmokeQueries is checked in the values file like every setting', () => {
    expect(parseNeo4jSmokeQueries([{ name: 'n', cypher: 'RETURN 1', expect: 1 }]).problems).toEqual([]);
    expect(parseNeo4jSmokeQueries([{ name: 'n' }]).problems).toEqual([
      'neo4jSmokeQueries[0] (n) has no cypher',
    ]);
    const { problems } = resolveValuesProblems({ neo4jSmokeQueries: 'MATCH (n) RETURN n' });
    expect(problems.join('\n')).toMatch(/neo4jSmokeQueries must be a list of \{name, cypher, expect\?\}/);
  });

  it('the verify CronJobs mount the ConfigMap the deploy writes', () => {
    const objects = renderManifest(
      readManifest(join(packageRoot(), BACKUP_JOBS_RELATIVE)),
      resolveValues({ env: {} }).values,
      'data',
    );
    for (const name of ['postgres-restore-verify', 'neo4j-restore-verify']) {
      const cronJob = JSON.stringify(objects.find((object) => object.metadata.name === name));
      expect(cronJob).toContain('"name":"db-runbook-smoke-queries"');
    }
  });
});

function resolveValuesProblems(settings: Record<string, unknown>): { problems: string[] } {
  return {
    problems: resolveValues({ env: {}, valuesFile: settings }).problems.map((problem) =>
      JSON.stringify(problem),
    ),
  };
}
