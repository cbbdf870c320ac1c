// A <key>.verified.json is believed only with its own .sha256 (issue 19): a record altered after publishing, one
// whose sidecar is missing or garbage, or one that cannot be read is "verification record tampered or unreadable",
// never proven. Read through a fake bucket, as the restore list and troubleshoot read them.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkedVerificationRecord, verificationText } from '../../src/runbook/backup-catalog.js';
import { readVerification, type TextReader } from '../../src/steps/clients/verification-records.js';

const now = new Date('2026-12-05T10:00:00Z');
const key = 'postgres/2026-12-05T02-00-00.000001Z.sql.gz.verified.json';
const record = `${JSON.stringify({ result: 'pass', finishedAt: '2026-12-05T07:00:00.000Z', by: { job: 'verify-now' } })}\n`;
const sidecarOf = (text: string) =>
  `${createHash('sha256').update(text).digest('hex')}  2026-12-05T02-00-00.000001Z.sql.gz.verified.json\n`;
const bucket = (objects: Record<string, string | Error>): TextReader => ({
  getText: (name) => {
    const value = objects[name];
    return value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
  },
});

describe('a verification record checked against its own .sha256', () => {
  it('a record that matches its sidecar says what it says: proven restorable', async () => {
    const verification = await readVerification(
      bucket({ [key]: record, [`${key}.sha256`]: sidecarOf(record) }),
      key,
    );
    expect(verification).toEqual({ state: 'proven', at: '2026-12-05T07:00:00.000Z', by: 'verify-now' });
    expect(verificationText(verification, now)).toBe('proven restorable 3h ago');
  });

  it('a passing record altered after publishing is "tampered or unreadable", never proven', async () => {
    const forged = record.replace('verify-now', 'verify-later');
    const verification = await readVerification(
      bucket({ [key]: forged, [`${key}.sha256`]: sidecarOf(record) }),
      key,
    );
    expect(verification.state).toBe('unverified');
    expect(verification.tampered).toBe(true);
    expect(verification.detail).toMatch(
      /^verification record tampered or unreadable: its SHA-256 [0-9a-f]{12}… does not match/,
    );
    expect(verificationText(verification, now)).toMatch(
      /^not proven \(verification record tampered or unreadable/,
    );
  });

  it('a failed record turned into "pass" without its sidecar, a garbage sidecar, or a read error are not proven either', async () => {
    expect(checkedVerificationRecord(record, undefined)).toMatchObject({
      state: 'unverified',
      tampered: true,
      detail: 'verification record tampered or unreadable: its .verified.json.sha256 is missing',
    });
    expect(checkedVerificationRecord(record, 'not a checksum\n')).toMatchObject({
      state: 'unverified',
      tampered: true,
    });
    expect(checkedVerificationRecord(undefined, sidecarOf(record)).detail).toContain(
      'the record cannot be read',
    );
    const unreadable = await readVerification(
      bucket({ [key]: new Error('AccessDenied'), [`${key}.sha256`]: sidecarOf(record) }),
      key,
    );
    expect(unreadable).toMatchObject({ state: 'unverified', tampered: true });
    // a truncated record (what a 1 MiB read of a larger one gives) does not match either
    expect(checkedVerificationRecord(record.slice(0, 20), sidecarOf(record)).state).toBe('unverified');
  });

  it('neo4j-verify.sh\'s "unverified" record (Enterprise backup, Community neo4j-admin) says why it is not proven', () => {
    const text = JSON.stringify({
      result: 'unverified',
      finishedAt: '2026-12-05T08:00:00.000Z',
      reason: "an Enterprise online backup (.backup artifact) needs Enterprise's neo4j-admin to be restored",
    });
    const verification = checkedVerificationRecord(text, sidecarOf(text));
    expect(verification.state).toBe('unverified');
    expect(verification.tampered).toBeUndefined();
    expect(verificationText(verification, now)).toBe(
      "not proven (an Enterprise online backup (.backup artifact) needs Enterprise's neo4j-admin to be restored)",
    );
  });
});
