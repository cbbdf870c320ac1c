/**
 * "Last proven restorable": the `<key>.verified.json` records the restore-verify Jobs (and `db-runbook verify`)
 * publish beside each backup, each checked against its own `.sha256` before it is believed.
 */
import type { Adapters, S3Adapter } from '../../adapters/types.js';
import {
  type Backup,
  buildCatalog,
  checkedVerificationRecord,
  type Verification,
  withVerification,
} from '../../runbook/backup-catalog.js';
import { proofLine, type ProofLine } from '../../runbook/restorability.js';
import type { Values } from '../../runbook/values.js';
import { prefixesInScope } from '../kit/backup-cronjobs.js';

/**
 * Reads the records of the newest `limit` backups; a backup without one is marked never verified. A record
 * that cannot be read, or fails its sha256, counts as not proven.
 */
export async function readVerifications(s3: S3Adapter, catalog: Backup[], limit = 20): Promise<void> {
  await Promise.all(
    catalog.slice(0, limit).map(async (backup, index) => {
      catalog[index] = withVerification(
        backup,
        backup.verifiedKey ? await readVerification(s3, backup.verifiedKey) : { state: 'unverified' },
      );
    }),
  );
}

/** "Last proven restorable" per database in scope, read from the bucket (the checklist header). */
export async function lastProvenRestorable(
  adapters: Adapters,
  values: Values,
  now = new Date(),
): Promise<ProofLine[]> {
  const s3 = await adapters.s3();
  return Promise.all(
    prefixesInScope(values).map(async ({ database, prefix, kind }) => {
      const catalog = buildCatalog(await s3.list(prefix), { kind, prefix });
      await readVerifications(s3, catalog, 5);
      return proofLine(database, catalog, now);
    }),
  );
}

/** What `readVerification` needs of the S3 adapter. */
export interface TextReader {
  getText(key: string, maxBytes?: number): Promise<string | undefined>;
}

/**
 * Reads `<key>.verified.json` and its `.sha256` and checks one against the other (checkedVerificationRecord).
 * A read error counts as unreadable: never proven.
 */
export async function readVerification(s3: TextReader, verifiedKey: string): Promise<Verification> {
  const [text, sidecar] = await Promise.all([
    s3.getText(verifiedKey, 1 << 20).catch(() => undefined),
    s3.getText(`${verifiedKey}.sha256`, 4096).catch(() => undefined),
  ]);
  return checkedVerificationRecord(text, sidecar);
}
