/**
 * The runbook's "Neo4j Restore": incident → choose the backup → integrity → the member is stopped
 * (checked, with how to stop it; typed gate) → neo4j-restore.sh (typed "overwrite <database>":
 * --overwrite-destination) → start and verify over Bolt (the database online, node count, every
 * label's count, the BackupValidation node).
 *
 * Where it runs follows from the server (CALL dbms.components()) and NEO4J_STATEFULSET:
 *   Community on Kubernetes: scale StatefulSet NEO4J_STATEFULSET to 0 and wait until its pod is gone,
 *     run neo4j-restore.sh as a Job made from CronJob neo4j-daily-backup (the Community one mounts the
 *     claim data-<name>-0 at /data), scale it back and wait for Bolt. Neo4j's own Helm chart backs up
 *     but leaves restore by hand (neo4j/helm-charts#4).
 *   Community on a host: `neo4j stop`, neo4j-restore.sh on this host with NEO4J_HOME, `neo4j start`.
 *   Enterprise: STOP DATABASE x WAIT, neo4j-restore.sh on this host, START DATABASE x WAIT.
 */
import type { RunbookStep } from '../define.js';
import { integrityStep } from '../restore-kit/integrity.js';
import { overrideStep } from '../restore-kit/override.js';
import { chooseBackupStep } from '../restore-kit/choose-backup.js';
import { incidentStep } from '../restore-kit/incident.js';
import { IDS, SPEC } from './ids.js';
import { memberStopped } from './member-stopped.js';
import { restore } from './restore.js';
import { startVerify } from './start-verify.js';

export const restoreNeo4jSteps: readonly RunbookStep[] = [
  incidentStep(SPEC),
  chooseBackupStep(SPEC),
  integrityStep(SPEC),
  overrideStep(SPEC),
  memberStopped,
  restore,
  startVerify,
];

export { IDS as RESTORE_NEO4J_IDS };
