/**
 * The runbook's "Troubleshooting", one diagnostic per step, each independent (a failing one does not
 * stop the next): `aws` command not found, permission denied (S3 per IAM action, Kubernetes RBAC per
 * rule), Neo4j backup failures (the backup port from here and from the cluster, the server's
 * settings), slow backups (durations, and the offer to switch to incremental), failed Jobs, and
 * backup freshness per prefix.
 */
import type { RunbookStep } from '../define.js';
import { awsCli } from './aws-cli.js';
import { failedJobs } from './failed-jobs.js';
import { freshness } from './freshness.js';
import { incremental } from './incremental.js';
import { neo4jBackupPort } from './neo4j.js';
import { rbac } from './rbac.js';
import { s3Permissions } from './s3-permissions.js';
import { slowBackups } from './slow-backups.js';

/** In the order the runbook lists its problems; the offer that changes something comes last. */
export const troubleshootSteps: readonly RunbookStep[] = [
  awsCli,
  s3Permissions,
  rbac,
  neo4jBackupPort,
  slowBackups,
  failedJobs,
  freshness,
  incremental,
];
