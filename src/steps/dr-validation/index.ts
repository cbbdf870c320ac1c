/**
 * The runbook's "Disaster Recovery Validation": restore the latest backups into an isolated target
 * quarterly, run the smoke tests (the critical application queries of the values file), record RTO
 * and RPO, and export the report. PostgreSQL goes into a scratch database on the same server
 * (`<db>_drill_<yyyymmdd>`, never the source); Neo4j into a scratch database where the edition allows
 * it (Enterprise: neo4j-restore.sh into the new name, then CREATE DATABASE), else the step says why
 * not. The backup choice and the integrity check are restore-postgres's own steps; the restore is the
 * real postgres-restore.sh (env only) into the scratch database.
 */
import type { RunbookStep } from '../define.js';
import { chooseBackupStep } from '../restore-kit/choose-backup.js';
import { integrityStep } from '../restore-kit/integrity.js';
import { overrideStep } from '../restore-kit/override.js';
import { rolesStep } from '../restore-kit/roles-preflight.js';
import { drop } from './drop.js';
import { neo4j } from './neo4j.js';
import { report } from './report.js';
import { restore } from './restore.js';
import { smoke } from './smoke.js';
import { DRILL_SPEC, drillValues, isolatedDrill } from './spec.js';
import { start } from './start.js';

/** The section's steps in the runbook's order; each one's file says what it does. */
export const drValidationSteps: readonly RunbookStep[] = [
  start,
  chooseBackupStep(DRILL_SPEC),
  integrityStep(DRILL_SPEC),
  overrideStep(DRILL_SPEC),
  rolesStep(DRILL_SPEC, { values: drillValues, createByDefault: isolatedDrill }),
  restore,
  smoke,
  neo4j,
  drop,
  report,
];
