/**
 * `db-runbook verify [--neo4j] [--latest|URI]`: prove one backup restorable now, from this host, as the
 * restore-verify CronJobs do (postgres-verify.sh, neo4j-verify.sh), in a journaled session. Exit 0 proven, 1 not.
 */
import { printProblem } from './print-error.js';
import { parseS3Uri } from '../runbook/s3-uri.js';
import { verifyBackupStep } from '../steps/verify/index.js';
import { describeTarget, openSession } from './context.js';
import { type RunOptions, withSession } from './run.js';

const POSTGRES_BACKUP = /\.sql\.gz$/;
const NEO4J_BACKUP = /\.backup\.tar\.gz$/;

export async function verifyCommand(
  uri: string | undefined,
  options: RunOptions & { latest?: boolean; neo4j?: boolean },
): Promise<number> {
  if (uri !== undefined && options.latest) {
    printProblem({ message: 'give either --latest or a backup URI, not both' });
    return 2;
  }
  const neo4j = options.neo4j === true || (uri !== undefined && NEO4J_BACKUP.test(uri));
  if (uri !== undefined) {
    const parsed = parseS3Uri(uri);
    const problem = !parsed.ok
      ? parsed.problem
      : (neo4j ? NEO4J_BACKUP : POSTGRES_BACKUP).test(uri)
        ? undefined
        : `is not a ${neo4j ? 'Neo4j' : 'PostgreSQL'} backup`;
    if (problem) {
      printProblem({
        message: `${uri} ${problem}`,
        next: 'Give s3://BUCKET/PREFIX<time>.sql.gz (PostgreSQL) or …<time>.backup.tar.gz (Neo4j), or --latest [--neo4j] for the newest backup.',
      });
      return 2;
    }
  }
  return withSession(
    { ...options, yes: true },
    [verifyBackupStep(uri, neo4j ? 'neo4j' : 'postgres')],
    async ({ resolution, sandbox, listener }) => {
      const target = await describeTarget(options, resolution, sandbox);
      return openSession(options, resolution, target, sandbox, 'run', undefined, listener);
    },
  );
}
