/** The runbook's sections, in the order the runbook gives them. Ids are a stable command-line contract. */
export const SECTION_IDS = [
  'prerequisites',
  'configure',
  'deploy',
  'test-postgres',
  'test-neo4j',
  'restore-postgres',
  'restore-neo4j',
  'dr-validation',
  'troubleshoot',
] as const;

export type SectionId = (typeof SECTION_IDS)[number];

export interface SectionInfo {
  id: SectionId;
  title: string;
  /** The runbook heading this section automates. */
  runbookHeading: string;
  summary: string;
}

export const SECTIONS: readonly SectionInfo[] = [
  {
    id: 'prerequisites',
    title: 'Prerequisites',
    runbookHeading: 'Prerequisites',
    summary:
      'Tools on this workstation, cluster access and permissions, the S3 bucket, database reachability.',
  },
  {
    id: 'configure',
    title: 'Configure',
    runbookHeading: 'Configuration',
    summary: 'Secrets, ConfigMaps and the ServiceAccount the backup jobs read.',
  },
  {
    id: 'deploy',
    title: 'Deploy CronJobs',
    runbookHeading: 'Deploying the CronJobs',
    summary: 'Apply the PostgreSQL and Neo4j backup CronJobs and read them back.',
  },
  {
    id: 'test-postgres',
    title: 'Synthetic test: PostgreSQL',
    runbookHeading: 'Synthetic Data Test Plan / PostgreSQL',
    summary: 'Seed a marker row, run the backup job now, prove the dump in S3 contains it.',
  },
  {
    id: 'test-neo4j',
    title: 'Synthetic test: Neo4j',
    runbookHeading: 'Synthetic Data Test Plan / Neo4j',
    summary: 'Merge a marker node, run the backup job now, prove the archive in S3.',
  },
  {
    id: 'restore-postgres',
    title: 'Restore PostgreSQL',
    runbookHeading: 'Restore Procedures / PostgreSQL Restore',
    summary: 'Pick a backup, prove its integrity, pass the gates, restore, validate.',
  },
  {
    id: 'restore-neo4j',
    title: 'Restore Neo4j',
    runbookHeading: 'Restore Procedures / Neo4j Restore',
    summary: 'Pick a backup, prove its integrity, stop the member, restore, start, verify.',
  },
  {
    id: 'dr-validation',
    title: 'DR drill',
    runbookHeading: 'Disaster Recovery Validation',
    summary: 'Restore into an isolated target, smoke-test, record RTO/RPO, export the report.',
  },
  {
    id: 'troubleshoot',
    title: 'Troubleshoot',
    runbookHeading: 'Troubleshooting',
    summary: 'Diagnose the runbook’s known problems and offer the fix.',
  },
];

export function isSectionId(value: string): value is SectionId {
  return (SECTION_IDS as readonly string[]).includes(value);
}

export function sectionInfo(id: SectionId): SectionInfo {
  const info = SECTIONS.find((section) => section.id === id);
  if (!info) throw new Error(`unknown section ${id}`);
  return info;
}
