/** The prerequisites section's steps, in the runbook's order: each is an independent check. */
import type { RunbookStep } from '../define.js';
import { binaries } from './binaries.js';
import { cluster } from './cluster.js';
import { network } from './network.js';
import { neo4jServer } from './neo4j.js';
import { restoreVerifyGrants } from './restore-verify.js';
import { s3 } from './s3.js';

export const prerequisitesSteps: readonly RunbookStep[] = [
  binaries,
  cluster,
  s3,
  network,
  neo4jServer,
  restoreVerifyGrants,
];
