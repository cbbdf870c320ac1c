/**
 * `db-runbook verify [--latest|URI]`: prove one PostgreSQL backup restorable now, from this host, as the
 * postgres-restore-verify CronJob does (postgres-verify.sh), in a journaled session. Exit 0 proven, 1 not.
 */
import { printProblem } from './print-error.js';
import { parseS3Uri } from '../runbook/s3-uri.js';
import { verifyBackupStep } from '../steps/verify/index.js';
import { describeTarget, openSession } from './context.js';
import { type RunOptions, withSession } from './run.js';

export async function verifyCommand(
  uri: string | undefined,
  options: RunOptions & { latest?: boolean },
): Promise<number> {
  if (uri !== undefined && options.latest) {
    process.stderr.write('error: give either --latest or a backup URI, not both\n');
    return 2;
  }
  if (uri !== undefined) {
    const parsed = parseS3Uri(uri);
    const problem = !parsed.ok
      ? parsed.problem
      : /\.sql\.gz$/.test(uri)
        ? undefined
        : 'is not a PostgreSQL backup';
    if (problem) {
      printProblem({
        message: `${uri} ${problem}`,
        next: 'Give s3://BUCKET/PREFIX<time>.sql.gz, or --latest for the newest backup.',
      });
      return 2;
    }
  }
  return withSession(
    { ...options, yes: true },
    [verifyBackupStep(uri)],
    async ({ resolution, sandbox, listener }) => {
      const target = await describeTarget(options, resolution, sandbox);
      return openSession(options, resolution, target, sandbox, 'run', undefined, listener);
    },
  );
}
