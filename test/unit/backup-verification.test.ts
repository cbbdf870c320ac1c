// "Last proven restorable" (issue 19): <key>.verified.json records read into the backup list, and the restore's
// default choice: the newest PROVEN backup, saying which newer ones are not proven.
import { describe, expect, it } from 'vitest';
import {
  buildCatalog,
  describeBackup,
  parseVerificationRecord,
  preferredBackup,
  verificationText,
  withVerification,
} from '../../src/runbook/backup-catalog.js';

const now = new Date('2026-12-05T10:00:00Z');
const pass = JSON.stringify({
  result: 'pass',
  finishedAt: '2026-12-05T07:00:00.000Z',
  by: { job: 'verify-now' },
});
const fail = JSON.stringify({
  result: 'fail',
  finishedAt: '2026-12-05T08:00:00.000Z',
  failedCheck: 'restore',
  checks: [{ name: 'restore', ok: false, detail: 'psql could not restore the dump' }],
  error: 'psql:<stdin>:42: ERROR:  relation "public.no_such_table" does not exist',
});
const listing = [
  { key: 'postgres/2026-12-03T02-00-00.000001Z.sql.gz', size: 10 },
  { key: 'postgres/2026-12-03T02-00-00.000001Z.sql.gz.sha256', size: 1 },
  { key: 'postgres/2026-12-03T02-00-00.000001Z.sql.gz.verified.json', size: 1 },
  { key: 'postgres/2026-12-04T02-00-00.000001Z.sql.gz', size: 10 },
  { key: 'postgres/2026-12-04T02-00-00.000001Z.sql.gz.verified.json', size: 1 },
  { key: 'postgres/2026-12-05T02-00-00.000001Z.sql.gz', size: 10 },
];

describe('last proven restorable', () => {
  it('a record is proven, failed (with the check and psql error) or unreadable', () => {
    expect(parseVerificationRecord(pass)).toEqual({
      state: 'proven',
      at: '2026-12-05T07:00:00.000Z',
      by: 'verify-now',
    });
    expect(parseVerificationRecord(fail)).toMatchObject({
      state: 'failed',
      failedCheck: 'restore',
      detail: expect.stringContaining('ERROR:  relation') as unknown,
    });
    expect(parseVerificationRecord('{').state).toBe('unverified');
    expect(verificationText(parseVerificationRecord(pass), now)).toBe('proven restorable 3h ago');
    expect(verificationText(parseVerificationRecord(fail), now)).toBe('verification FAILED (restore) 2h ago');
    expect(verificationText(undefined, now)).toBe('never verified');
  });

  it('the backup list names each state; record objects are not backups', () => {
    const catalog = buildCatalog(listing, { kind: 'postgres', prefix: 'postgres/' });
    expect(catalog.map((b) => b.key)).toEqual([
      'postgres/2026-12-05T02-00-00.000001Z.sql.gz',
      'postgres/2026-12-04T02-00-00.000001Z.sql.gz',
      'postgres/2026-12-03T02-00-00.000001Z.sql.gz',
    ]);
    expect(catalog.map((b) => b.verifiedKey !== undefined)).toEqual([false, true, true]);
    const [newest, failed, proven] = [
      withVerification(catalog[0]!, { state: 'unverified' }),
      withVerification(catalog[1]!, parseVerificationRecord(fail)),
      withVerification(catalog[2]!, parseVerificationRecord(pass)),
    ];
    expect(describeBackup(newest, now)).toContain('never verified');
    expect(describeBackup(failed, now)).toContain('verification FAILED (restore)');
    expect(describeBackup(proven, now)).toContain('proven restorable 3h ago');
  });

  it('the restore prefers the newest proven backup and says why the newer ones were passed over', () => {
    const catalog = buildCatalog(listing, { kind: 'postgres', prefix: 'postgres/' });
    const read = [
      withVerification(catalog[0]!, { state: 'unverified' }),
      withVerification(catalog[1]!, parseVerificationRecord(fail)),
      withVerification(catalog[2]!, parseVerificationRecord(pass)),
    ];
    const preferred = preferredBackup(read);
    expect(preferred.backup?.key).toBe('postgres/2026-12-03T02-00-00.000001Z.sql.gz');
    expect(preferred.reason).toContain(
      'the newest PROVEN restorable backup is preferred; 2 newer one(s) not proven',
    );
    expect(preferred.reason).toContain('2026-12-05T02-00-00.000001Z.sql.gz never verified');
    expect(preferred.reason).toContain('verification FAILED (restore)');
    // none proven: the newest, no reason
    expect(preferredBackup(read.slice(0, 2))).toEqual({ backup: read[0] });
  });
});
