/**
 * "Last proven restorable" in one line per database, for the checklist header: the newest backup a
 * restore-verify Job proved, and whether anything newer is unproven or failed.
 */
import { backupAge, verificationText, type Backup } from './backup-catalog.js';

export interface ProofLine {
  database: 'postgres' | 'neo4j';
  /** proven: a proven backup exists and it is the newest; stale: proven, but newer ones are not. */
  state: 'proven' | 'stale' | 'failed' | 'never' | 'no-backups';
  text: string;
}

const NOUN = { postgres: 'PostgreSQL', neo4j: 'Neo4j' } as const;

/** `backups`: newest first, with their verification read (regular backups; safety backups are left out). */
export function proofLine(database: 'postgres' | 'neo4j', backups: readonly Backup[], now: Date): ProofLine {
  const regular = backups.filter((backup) => !backup.preRestore);
  const noun = NOUN[database];
  const newest = regular[0];
  if (!newest) return { database, state: 'no-backups', text: `${noun}: no backups` };
  const proven = regular.find((backup) => backup.verification?.state === 'proven');
  if (proven === newest)
    return {
      database,
      state: 'proven',
      text: `${noun}: newest backup ${verificationText(proven.verification, now)}`,
    };
  const newestState = verificationText(newest.verification, now);
  if (!proven)
    return {
      database,
      state: newest.verification?.state === 'failed' ? 'failed' : 'never',
      text: `${noun}: no backup proven restorable (newest: ${newestState})`,
    };
  const age = backupAge(proven, now);
  return {
    database,
    state: newest.verification?.state === 'failed' ? 'failed' : 'stale',
    text: `${noun}: last proven backup taken ${age ?? 'earlier'}; newest: ${newestState}`,
  };
}
