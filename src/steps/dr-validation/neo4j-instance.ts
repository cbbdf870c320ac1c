/**
 * The Neo4j drill on Community Edition: the backup into a second, isolated Neo4j on this machine, smoke
 * queries over Bolt, then the instance stopped and deleted.
 */
import { randomBytes } from 'node:crypto';
import { formatDuration } from '../../runbook/backup-catalog.js';
import { MARK, type TemporaryData } from '../../runbook/marks.js';
import type { Check, StepResult } from '../../runbook/step.js';
import { lastLines } from '../clients/psql.js';
import { scriptOutput } from '../clients/restore-scripts.js';
import { sleep } from '../define.js';
import type { ValidationEntry } from '../restore-kit/validation.js';
import type { Ctx, DrillNeo4jData, Neo4jPreview } from './spec.js';
import { runNeo4jRestore } from './neo4j-restore.js';

/**
 * Community: one user database per server, so the drill restores into a second, isolated Neo4j on this
 * machine (its own NEO4J_HOME in a temp folder, its own Bolt port on 127.0.0.1), started with the local
 * distribution, smoke-tested over Bolt, then stopped and deleted. The serving Neo4j is never touched.
 */
export async function drillIntoInstance(ctx: Ctx, data: Neo4jPreview): Promise<StepResult<DrillNeo4jData>> {
  const uri = data.uri ?? '';
  const instance = await ctx.adapters.scratchNeo4j({ binDir: data.binDir ?? '', libDir: data.libDir ?? '' });
  const where = `isolated Neo4j ${instance.address} (NEO4J_HOME ${instance.home})`;
  ctx.mark(MARK.temporaryCreated, {
    kind: 'instance',
    name: instance.home,
    where: 'Neo4j',
  } satisfies TemporaryData);
  const checks: Check[] = [];
  const validation: ValidationEntry[] = [];
  let removed = false;
  const remove = async () => {
    if (removed) return;
    removed = true;
    await instance.remove();
    ctx.mark(MARK.temporaryRemoved, { kind: 'instance', name: instance.home } satisfies TemporaryData);
  };
  try {
    const started = Date.now();
    const result = await runNeo4jRestore(ctx, uri, 'neo4j', {
      NEO4J_DATABASE: ctx.values.get('NEO4J_DATABASE') ?? 'neo4j',
      NEO4J_HOME: instance.home,
      NEO4J_ADDRESS: instance.address,
      PATH: `${data.binDir ?? ''}:${process.env.PATH ?? ''}`,
    });
    if (result.exitCode !== 0)
      return {
        summary: `Neo4j restore into the ${where} FAILED (neo4j-restore.sh exit ${result.exitCode})`,
        checks: [
          {
            id: 'restore',
            label: 'neo4j-restore.sh into the isolated instance',
            status: 'fail',
            detail: lastLines(result.stderr, 4) || `exit ${result.exitCode}`,
          },
        ],
        data: { drilled: false, instance: instance.address, exitCode: result.exitCode },
      };
    const out = scriptOutput(result.stdout);
    ctx.mark(MARK.restoreDone, { uri, database: 'neo4j' });
    if (data.recoveryPoint) ctx.mark(MARK.recoveryPoint, { at: data.recoveryPoint, uri, verified: true });
    checks.push({
      id: 'restore',
      label: 'neo4j-restore.sh into the isolated instance',
      status: 'ok',
      detail: `${out.type ?? '?'} ${out.artifact ?? ''} in ${formatDuration(Date.now() - started)}: ${where}`,
    });
    await instance.start();
    // A fresh instance has the initial neo4j/neo4j: it gets a password of its own (a parameter, never argv).
    const password = randomBytes(18).toString('base64url');
    const initial = ctx.adapters.neo4j({ address: instance.address, username: 'neo4j', password: 'neo4j' });
    const scratch = ctx.adapters.neo4j({ address: instance.address, username: 'neo4j', password });
    const deadline = Date.now() + 300_000;
    let status = 'not answering';
    for (;;) {
      try {
        await initial.run('ALTER CURRENT USER SET PASSWORD FROM $old TO $new', {
          database: 'system',
          params: { old: 'neo4j', new: password },
          connectTimeoutMs: 2000,
        });
      } catch {
        // not up yet, or already changed
      }
      try {
        const shown = await scratch.run('SHOW DEFAULT DATABASE YIELD currentStatus', {
          database: 'system',
          connectTimeoutMs: 2000,
        });
        status = String(shown.rows[0]?.[0] ?? 'missing');
        if (status === 'online') break;
      } catch (error) {
        status = (error as Error).message;
      }
      if (Date.now() > deadline) break;
      await sleep(1000, ctx.signal);
    }
    checks.push({
      id: 'online',
      label: 'isolated instance online',
      status: status === 'online' ? 'ok' : 'fail',
      detail: status,
    });
    validation.push({ query: 'isolated instance online', ok: status === 'online', detail: status });
    const database = ctx.values.get('NEO4J_DATABASE') ?? 'neo4j';
    const ask = async (statement: string) =>
      scratch.run(statement, { database }).then(
        (answer) => ({ ok: true as const, rows: answer.rows }),
        (error: unknown) => ({ ok: false as const, error: (error as Error).message }),
      );
    const count = await ask('MATCH (n) RETURN count(n)');
    const nodes = count.ok ? Number(count.rows[0]?.[0]) : Number.NaN;
    checks.push({
      id: 'nodes',
      label: 'MATCH (n) RETURN count(n)',
      status: count.ok ? 'ok' : 'fail',
      detail: count.ok ? `${nodes} node(s)` : count.error,
    });
    validation.push({
      query: 'MATCH (n) RETURN count(n)',
      ok: count.ok,
      detail: count.ok ? `${nodes}` : count.error,
    });
    const labels = await ask('MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) ORDER BY label');
    if (labels.ok)
      checks.push({
        id: 'labels',
        label: 'nodes per label',
        status: 'ok',
        detail:
          labels.rows.map((row) => `${String(row[0])} ${String(row[1])}`).join(', ') || 'no labelled nodes',
      });
    const markers = await ask('MATCH (n:BackupValidation) RETURN count(n)');
    checks.push({
      id: 'marker',
      label: 'BackupValidation markers',
      status: markers.ok ? (Number(markers.rows[0]?.[0] ?? 0) > 0 ? 'ok' : 'skip') : 'fail',
      detail: markers.ok ? `${String(markers.rows[0]?.[0] ?? 0)} node(s)` : markers.error,
    });
    const failed = validation.filter((entry) => !entry.ok);
    if (failed.length === 0) ctx.mark(MARK.validated, { database, drill: true });
    await remove();
    checks.push({
      id: 'removed',
      label: 'isolated instance stopped and deleted',
      status: 'ok',
      detail: instance.home,
    });
    return {
      summary:
        failed.length === 0
          ? `Neo4j restored into an isolated instance and smoke-tested (${nodes} nodes); the instance is deleted`
          : `Neo4j drill FAILED on the isolated instance: ${failed.map((entry) => entry.query).join(', ')}`,
      checks,
      data: {
        drilled: true,
        instance: instance.address,
        backup: { uri, verified: true },
        validation,
        recoveryPoint: data.recoveryPoint ?? null,
        ...(failed.length === 0 ? { validatedAt: new Date().toISOString() } : {}),
      },
    };
  } finally {
    await remove().catch(() => undefined);
  }
}
