/** The troubleshoot section's step ids that other steps name, and the Neo4j backup CronJob it inspects. */
export const TROUBLESHOOT_IDS = {
  aws: 'troubleshoot.aws-cli',
  failedJobs: 'troubleshoot.failed-jobs',
  slowBackups: 'troubleshoot.slow-backups',
  incremental: 'troubleshoot.neo4j-incremental',
} as const;

/** The Neo4j backup CronJob deploy applies. */
export const NEO4J_CRONJOB = 'neo4j-daily-backup';
