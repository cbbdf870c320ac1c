/**
 * neo4j-restore.sh run from this host for the drill (into a scratch database, or into the isolated
 * instance): the storage env and the target's, the output in the log, and the restore marks.
 */
import type { ProcResult } from '../../adapters/types.js';
import { InterruptedError } from '../../runbook/errors.js';
import { MARK } from '../../runbook/marks.js';
import { scriptLocation, storageEnv, undetachable } from '../clients/restore-scripts.js';
import type { Ctx } from './spec.js';

/**
 * Restores `uri` with neo4j-restore.sh (`env`: NEO4J_DATABASE, NEO4J_HOME, NEO4J_ADDRESS, …); `database`
 * names the target in the restore-started and download-done marks. Throws InterruptedError on Ctrl-C.
 */
export async function runNeo4jRestore(
  ctx: Ctx,
  uri: string,
  database: string,
  env: Record<string, string>,
): Promise<ProcResult> {
  ctx.mark(MARK.restoreStarted, { uri, database, drill: true });
  const result = await ctx.adapters.proc.run(
    'bash',
    [scriptLocation(ctx.settings, 'neo4j-restore.sh').path],
    {
      env: { ...storageEnv(ctx.values).env, RESTORE_S3_URI: uri, ...env },
      secrets: ctx.values.secretValues(),
      signal: undetachable(ctx),
      processGroup: true,
      onLine: (line, stream) => {
        if (stream === 'stderr') ctx.log(line);
        if (/downloaded and verified/.test(line)) ctx.mark(MARK.downloadDone, { uri, database });
      },
    },
  );
  if (ctx.signal.aborted && ctx.signal.reason !== 'detach') throw new InterruptedError();
  return result;
}
