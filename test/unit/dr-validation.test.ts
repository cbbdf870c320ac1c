import { describe, expect, it } from 'vitest';
import { drillDatabaseName, neo4jDrillName, scratchProblem } from '../../src/runbook/drill-names.js';

const NOW = new Date('2026-03-10T12:00:00Z');

describe('drill scratch databases', () => {
  it('names them <db>_drill_<yyyymmdd> (PostgreSQL) and <db>-drill-<yyyymmdd> (Neo4j), within 63 bytes', () => {
    expect(drillDatabaseName('app', NOW)).toBe('app_drill_20260310');
    expect(drillDatabaseName('x'.repeat(80), NOW)).toHaveLength(63);
    expect(neo4jDrillName('neo4j', NOW)).toBe('neo4j-drill-20260310');
    expect(neo4jDrillName('My_Graph', NOW)).toBe('my-graph-drill-20260310');
  });

  it('refuses the source database (any case), system databases and over-long names', () => {
    const reserved = new Set(['postgres', 'template0', 'template1']);
    expect(scratchProblem('app', 'app', reserved)).toMatch(/is the source database/);
    expect(scratchProblem('APP', 'app', reserved)).toMatch(/is the source database/);
    expect(scratchProblem('template1', 'app', reserved)).toMatch(/system database/);
    expect(scratchProblem('y'.repeat(64), 'app', reserved)).toMatch(/longer than 63 bytes/);
    expect(scratchProblem('app_drill_20260310', 'app', reserved)).toBeUndefined();
  });
});
