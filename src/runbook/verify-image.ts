/**
 * neo4j-restore-verify ships with the Community image: it proves dumps (every backup of a Community server). An
 * Enterprise server's online backups need Enterprise's neo4j-admin, so for one deploy gives the verify Job the
 * image (and license answer) of neo4j-daily-backup. Pure.
 */
import type { KubeObject } from './kube-object.js';

interface Container {
  image?: string;
  env?: { name: string; value?: string }[];
}

const LICENSE = 'NEO4J_ACCEPT_LICENSE_AGREEMENT';

function containerOf(cronJob: KubeObject): Container | undefined {
  const spec = cronJob.spec as
    { jobTemplate?: { spec?: { template?: { spec?: { containers?: Container[] } } } } } | undefined;
  return spec?.jobTemplate?.spec?.template?.spec?.containers?.[0];
}

export function withEnterpriseVerifier(objects: readonly KubeObject[]): KubeObject[] {
  const backup = objects.find(
    (object) => object.kind === 'CronJob' && object.metadata.name === 'neo4j-daily-backup',
  );
  const source = backup && containerOf(backup);
  if (!source?.image) return [...objects];
  const license = source.env?.find((entry) => entry.name === LICENSE);
  return objects.map((object) => {
    if (object.kind !== 'CronJob' || object.metadata.name !== 'neo4j-restore-verify') return object;
    const copy = structuredClone(object);
    const container = containerOf(copy);
    if (!container) return object;
    container.image = source.image;
    if (license)
      container.env = [...(container.env ?? []).filter((entry) => entry.name !== LICENSE), license];
    return copy;
  });
}
