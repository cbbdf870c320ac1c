/**
 * Which Neo4j this is (CALL dbms.components(): edition and version, over Bolt with the driver) and what
 * follows from it:
 *   Enterprise: online backups over the backup port (neo4j-daily-backup of cronjobs.yaml), STOP/START
 *     DATABASE around a restore, a scratch database on the same server for the drill.
 *   Community: no online backup and no STOP DATABASE: the backup stops the server (scales its StatefulSet
 *     to 0) for a `neo4j-admin database dump` (cronjob-neo4j-community.yaml), a restore stops the server,
 *     and the drill restores into a second, isolated instance.
 */
import { readManifestText } from '../../adapters/backup-jobs-files.js';
import type { Adapters, KubeObject } from '../../adapters/types.js';
import type { StepContext } from '../../runbook/step.js';
import { parseManifest } from '../../runbook/cronjob-manifest.js';
import { neo4jServerInfo } from './cypher.js';

export const COMMUNITY_MANIFEST = 'cronjob-neo4j-community.yaml';

export interface Neo4jVariant {
  edition?: string;
  version?: string;
  /** online: neo4j-admin database backup (Enterprise); dump: the server is stopped for a dump (Community). */
  method: 'online' | 'dump';
  statefulSet?: string;
  /** One line for the screen: what was detected and what it means. */
  line: string;
  /** The edition could not be asked (why). */
  unknown?: string;
}

type Ctx = Pick<StepContext<Adapters>, 'adapters' | 'settings' | 'values' | 'signal'>;

export async function neo4jVariant(ctx: Ctx): Promise<Neo4jVariant> {
  const statefulSet = ctx.values.get('NEO4J_STATEFULSET');
  const { info, outcome } = await neo4jServerInfo(ctx);
  if (!info) {
    const why = outcome.unavailable ?? outcome.error;
    return {
      method: 'online',
      ...(statefulSet ? { statefulSet } : {}),
      unknown: why,
      line: `Neo4j edition not detected (${why}): assuming Enterprise (online backup)`,
    };
  }
  if (info.edition === 'community')
    return {
      edition: info.edition,
      version: info.version,
      method: 'dump',
      ...(statefulSet ? { statefulSet } : {}),
      line: `Neo4j ${info.version} Community: no online backup, so the backup STOPS the server for a dump${statefulSet ? ` (StatefulSet ${statefulSet} scaled to 0 and back)` : ''}`,
    };
  return {
    edition: info.edition,
    version: info.version,
    method: 'online',
    ...(statefulSet ? { statefulSet } : {}),
    line: `Neo4j ${info.version} ${info.edition === 'enterprise' ? 'Enterprise' : info.edition}: online backup over the backup port`,
  };
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The Community CronJob from cronjob-neo4j-community.yaml for StatefulSet `statefulSet`: NEO4J_STATEFULSET
 * and the claim data-<name>-0 set to it.
 */
export function communityCronJob(dir: string, statefulSet: string): KubeObject {
  const { path, text } = readManifestText(dir, COMMUNITY_MANIFEST);
  const cronJob = parseManifest(text, path).find((object) => object.kind === 'CronJob');
  if (!cronJob) throw new Error(`${path} holds no CronJob`);
  const podSpec = ((cronJob.spec as Json).jobTemplate as { spec: { template: { spec: Json } } } | undefined)
    ?.spec.template.spec;
  for (const container of Array.isArray(podSpec?.containers) ? (podSpec.containers as Json[]) : [])
    for (const entry of Array.isArray(container.env) ? (container.env as Json[]) : [])
      if (entry.name === 'NEO4J_STATEFULSET') entry.value = statefulSet;
  for (const volume of Array.isArray(podSpec?.volumes) ? (podSpec.volumes as Json[]) : [])
    if (isObject(volume.persistentVolumeClaim))
      volume.persistentVolumeClaim.claimName = `data-${statefulSet}-0`;
  return cronJob;
}
