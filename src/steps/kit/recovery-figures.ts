/**
 * RTO and RPO as a step prints them: read from the session's report, so what a step shows is what the
 * report screen and every export show (one computation, `collectRecoveries`, behind all of them).
 */
import type { Adapters } from '../../adapters/types.js';
import type { RecoveryMetric } from '../../runbook/metrics.js';
import type { ReportRecovery } from '../../runbook/report/index.js';
import type { Check, StepContext } from '../../runbook/step.js';

type Ctx = StepContext<Adapters>;

/** `3m 22s (target 24h: PASS)`, `unknown — not recorded: validated`. */
export function metricLine(metric: RecoveryMetric): string {
  const target =
    metric.verdict === 'recording error'
      ? ''
      : metric.target
        ? ` (target ${metric.target}: ${metric.verdict})`
        : metric.verdict === 'no target'
          ? ' (no target set)'
          : '';
  return `${metric.achieved}${target}${metric.reason ? ` — ${metric.reason}` : ''}`;
}

export function metricStatus(metric: RecoveryMetric): Check['status'] {
  if (metric.verdict === 'FAIL' || metric.verdict === 'recording error') return 'fail';
  return metric.verdict === 'unknown' ? 'warn' : 'ok';
}

/** The latest recovery of this section (and database) in the session's report, as it stands now. */
export function currentRecovery(
  ctx: Ctx,
  section: string,
  engine: 'postgres' | 'neo4j',
): ReportRecovery | undefined {
  try {
    const model = ctx.adapters.reports.build(ctx.sessionId, {
      settings: ctx.settings,
      secrets: ctx.values.secretValues(),
      live: true,
    });
    return model.recoveries
      .filter((recovery) => recovery.section === section && recovery.engine === engine)
      .at(-1);
  } catch {
    return undefined;
  }
}

/**
 * Informational RTO/RPO lines for a restore's validation step. A target missed is shown, not failed:
 * the restore itself succeeded; the report judges the figures.
 */
export function recoveryFigureChecks(ctx: Ctx, section: string, engine: 'postgres' | 'neo4j'): Check[] {
  const recovery = currentRecovery(ctx, section, engine);
  if (!recovery) return [];
  const status = (metric: RecoveryMetric): Check['status'] => (metricStatus(metric) === 'ok' ? 'ok' : 'warn');
  return [
    {
      id: 'rto',
      label: 'RTO (incident → validated)',
      status: status(recovery.rto),
      detail: metricLine(recovery.rto),
    },
    {
      id: 'rpo',
      label: 'RPO (incident − recovery point)',
      status: status(recovery.rpo),
      detail: metricLine(recovery.rpo),
    },
  ];
}
