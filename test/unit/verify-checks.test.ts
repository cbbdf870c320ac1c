// `db-runbook verify`: the checks either verify script logs, as the session shows them.
import { describe, expect, it } from 'vitest';
import { checksOf, verifyBackupStep } from '../../src/steps/verify/index.js';

describe('db-runbook verify reads the verify scripts’ checks', () => {
  it('a smoke query keeps its whole name (the name holds a colon), for PostgreSQL and Neo4j alike', () => {
    const checks = checksOf(
      [
        'postgres-verify: ✓ integrity: sha256 matches the sidecar',
        'postgres-verify: ✗ smoke query: customers exist: got 0, expected >= 1',
        'neo4j-verify: ✓ consistency check: no inconsistencies',
        'neo4j-verify: ✓ smoke query: people: 42',
        'neo4j-verify: restoring s3://b/neo4j/x.backup.tar.gz',
      ].join('\n'),
    );
    expect(checks.map((check) => [check.label, check.status, check.detail])).toEqual([
      ['integrity', 'ok', 'sha256 matches the sidecar'],
      ['smoke query: customers exist', 'fail', 'got 0, expected >= 1'],
      ['consistency check', 'ok', 'no inconsistencies'],
      ['smoke query: people', 'ok', '42'],
    ]);
  });

  it('a Neo4j verification needs no Neo4j credentials and says it never touches the serving Neo4j', () => {
    const step = verifyBackupStep(undefined, 'neo4j');
    expect(step.id).toBe('verify.neo4j');
    expect(step.inputs.filter((name) => name.startsWith('NEO4J_'))).toEqual([]);
    const { values } = { values: { get: () => undefined } } as never;
    const plan = step.plan(values, {});
    expect(plan.actions[0]?.command).toContain('neo4j-verify.sh');
    expect(plan.notes?.join(' ')).toContain('Never connects to the serving Neo4j');
  });
});
