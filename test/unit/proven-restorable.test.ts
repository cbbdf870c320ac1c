// "Last proven restorable" in the checklist header (records checked against their own sha256: verification-record-checksum.test.ts).
import { describe, expect, it } from 'vitest';
import { buildCatalog, withVerification, type Backup } from '../../src/runbook/backup-catalog.js';
import { proofLine } from '../../src/runbook/restorability.js';
import { homeLines } from '../../src/screens/views.js';
import { plain } from '../../src/screens/text.js';
import { SECTIONS } from '../../src/runbook/sections.js';

const now = new Date('2026-12-05T10:00:00Z');
const catalog = buildCatalog(
  [
    { key: 'postgres/2026-12-03T02-00-00.000001Z.sql.gz', size: 10 },
    { key: 'postgres/2026-12-04T02-00-00.000001Z.sql.gz', size: 10 },
    { key: 'postgres/2026-12-05T02-00-00.000001Z.sql.gz', size: 10 },
  ],
  { kind: 'postgres', prefix: 'postgres/' },
);
const proven = { state: 'proven', at: '2026-12-05T07:00:00.000Z' } as const;
const failed = { state: 'failed', at: '2026-12-05T08:00:00.000Z', failedCheck: 'row counts' } as const;
const marked = (states: Record<number, Backup['verification']>) =>
  catalog.map((backup, index) => (states[index] ? withVerification(backup, states[index]) : backup));

describe('the checklist says which backup was last proven restorable', () => {
  it('the newest backup proven: green, with when it was proven', () => {
    expect(proofLine('postgres', marked({ 0: proven }), now)).toMatchObject({
      state: 'proven',
      text: 'PostgreSQL: newest backup proven restorable 3h ago',
    });
  });

  it('an older backup proven and the newest failed: red, naming the failed check', () => {
    const line = proofLine('postgres', marked({ 0: failed, 1: proven }), now);
    expect(line.state).toBe('failed');
    expect(line.text).toBe(
      'PostgreSQL: last proven backup taken 1d 8h ago; newest: verification FAILED (row counts) 2h ago',
    );
  });

  it('nothing ever proven, or no backups at all, is said plainly', () => {
    expect(proofLine('neo4j', marked({}), now)).toMatchObject({
      state: 'never',
      text: 'Neo4j: no backup proven restorable (newest: never verified)',
    });
    expect(proofLine('neo4j', [], now)).toMatchObject({ state: 'no-backups', text: 'Neo4j: no backups' });
  });

  it('the lines sit under the checklist title, and a bucket that cannot be read says so', () => {
    const rows = SECTIONS.map((section) => ({ section, steps: 1, statuses: ['pending' as const] }));
    const lines = homeLines(rows, 0, 80, { lines: [proofLine('postgres', marked({ 0: proven }), now)] });
    expect(plain(lines[1]!)).toBe('Proven restorable  PostgreSQL: newest backup proven restorable 3h ago');
    const unknown = homeLines(rows, 0, 80, { problem: 'S3 ListObjectsV2 failed' });
    expect(plain(unknown[1]!)).toBe('Proven restorable: not known (S3 ListObjectsV2 failed)');
  });
});
