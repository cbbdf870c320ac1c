// The restore-verify Jobs' smoke queries: what deploy writes into ConfigMap db-runbook-smoke-queries.
import { describe, expect, it } from 'vitest';
import { resolveValues } from '../../src/runbook/values.js';
import {
  parseNeo4jSmokeQueries,
  runnableByJob,
  smokeQueriesConfigMap,
  smokeQueryProblems,
} from '../../src/runbook/smoke-queries.js';
import { readManifest } from '../../src/steps/deploy/index.js';
import { renderManifest } from '../../src/runbook/cronjob-manifest.js';
import { BACKUP_JOBS_RELATIVE, packageRoot } from '../../src/adapters/backup-jobs-files.js';
import { join } from 'node:path';
import type { KubeObject } from '../../src/runbook/kube-object.js';
import { withEnterpriseVerifier } from '../../src/runbook/verify-image.js';

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

describe('neo4j-restore-verify against an Enterprise server', () => {
  const objects = renderManifest(
    readManifest(join(packageRoot(), BACKUP_JOBS_RELATIVE)),
    resolveValues({ env: {} }).values,
    'data',
  );
  const container = (list: readonly KubeObject[], name: string) =>
    (
      list.find((object) => object.metadata.name === name)!.spec as {
        jobTemplate: {
          spec: { template: { spec: { containers: { image: string; env: { name: string }[] }[] } } };
        };
      }
    ).jobTemplate.spec.template.spec.containers[0]!;

  it('ships with the Community image, and deploy gives it the backup Job’s Enterprise image and license answer', () => {
    expect(container(objects, 'neo4j-restore-verify').image).toMatch(/community/);
    const enterprise = withEnterpriseVerifier(objects);
    const verify = container(enterprise, 'neo4j-restore-verify');
    expect(verify.image).toBe(container(objects, 'neo4j-daily-backup').image);
    expect(verify.env.map((entry) => entry.name)).toContain('NEO4J_ACCEPT_LICENSE_AGREEMENT');
    expect(container(objects, 'neo4j-restore-verify').image).toMatch(/community/);
  });
});

describe('a smoke query dr-validation can run but the verify Job cannot', () => {
  it('is left out of the Job’s ConfigMap with the reason, and the others are kept', () => {
    const { runnable, leftOut } = runnableByJob(
      [
        { name: 'customers', statement: 'SELECT count(*) FROM customers' },
        { name: 'md5', statement: "SELECT md5(string_agg(t::text, E'\\n')) FROM orders t" },
      ],
      'smokeQueries',
    );
    expect(runnable.map((query) => query.name)).toEqual(['customers']);
    expect(leftOut).toEqual([
      'smokeQueries[1] (md5): one statement without ";" or "\\" (the verify Job refuses them)',
    ]);
  });
});
