/**
 * The runbook's "PostgreSQL Restore", behind confirmation gates that name their target: incident →
 * choose the backup → integrity (sidecar, globals) → roles → restore into a new database (the backup
 * read once, hashed and checked as it streams; the database untouched) → stop writes (typed, with the
 * sessions connected now) → safety backup of the current database → swap the restored copy in (typed
 * "drop <database>", after its row counts) → validate → resume writes. Writes stop only for the swap.
 */
import { type RunbookStep } from '../define.js';
import { rolesStep } from '../restore-kit/roles-preflight.js';
import { integrityStep } from '../restore-kit/integrity.js';
import { overrideStep } from '../restore-kit/override.js';
import { chooseBackupStep } from '../restore-kit/choose-backup.js';
import { incidentStep } from '../restore-kit/incident.js';
import { IDS, SPEC } from './ids.js';
import { stopWrites } from './stop-writes.js';
import { safetyBackup } from './safety-backup.js';
import { load } from './load.js';
import { restore } from './restore.js';
import { validate } from './validate.js';
import { resumeWrites } from './resume-writes.js';

export const restorePostgresSteps: readonly RunbookStep[] = [
  incidentStep(SPEC),
  chooseBackupStep(SPEC),
  integrityStep(SPEC),
  overrideStep(SPEC),
  rolesStep(SPEC),
  load,
  stopWrites,
  safetyBackup,
  restore,
  validate,
  resumeWrites,
];

export { IDS as RESTORE_POSTGRES_IDS };
