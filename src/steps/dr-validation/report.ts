/**
 * The drill's report step: RTO and RPO of each database drilled against the targets, then the session's
 * report exported as Markdown, HTML and JSON next to its journal.
 */
import type { ReportModel, ReportPaths } from '../../runbook/report/index.js';
import type { Check } from '../../runbook/step.js';
import { defineStep } from '../define.js';
import { metricLine, metricStatus } from '../kit/recovery-figures.js';
import { neo4j } from './neo4j.js';
import { DRILL_IDS, SECTION } from './spec.js';

export const report = defineStep({
  id: DRILL_IDS.report,
  section: SECTION,
  title: 'Export the DR report',
  description:
    'RTO (simulated incident → validated) and RPO (incident − recovery point of the restored backup) of each database drilled, against rtoTarget/rpoTarget, then the session’s report as Markdown, HTML and JSON next to its journal (mode 0600): the same files and figures as x in the report screen and db-runbook report --export.',
  inputs: [],
  plan: () => ({
    actions: [
      {
        summary: 'write the drill report as Markdown, HTML and JSON next to the session journal',
        command: 'db-runbook report <session> --export',
        writes: true,
      },
    ],
  }),
  async run(ctx) {
    let written: (ReportPaths & { model: ReportModel }) | undefined;
    let exportProblem: string | undefined;
    try {
      // The figures printed here are the report's own (one computation for the screen and every export).
      written = ctx.adapters.reports.write(ctx.sessionId, {
        settings: ctx.settings,
        secrets: ctx.values.secretValues(),
        live: true,
      });
    } catch (error) {
      exportProblem = error instanceof Error ? error.message : String(error);
    }
    const drills = written?.model.recoveries.filter((recovery) => recovery.scenario === 'drill') ?? [];
    const latest = new Map(drills.map((recovery) => [recovery.engine, recovery]));
    const neo = ctx.from(neo4j);
    const checks: Check[] = [...latest.values()].flatMap((recovery): Check[] => [
      {
        id: `rto:${recovery.engine}`,
        label: `${recovery.label}: RTO achieved (incident → validated)`,
        status: metricStatus(recovery.rto),
        detail: metricLine(recovery.rto),
      },
      {
        id: `rpo:${recovery.engine}`,
        label: `${recovery.label}: RPO achieved (incident − recovery point)`,
        status: metricStatus(recovery.rpo),
        detail: metricLine(recovery.rpo),
      },
    ]);
    if (written && latest.size === 0)
      checks.push({
        id: 'rto',
        label: 'RTO / RPO',
        status: 'warn',
        detail: 'no drill restore was recorded in this session: nothing to measure',
      });
    checks.push(
      {
        id: 'neo4j',
        label: 'Neo4j',
        status: neo?.drilled === true ? 'ok' : 'skip',
        detail:
          neo?.drilled === true
            ? neo.scratch
              ? `restored into ${neo.scratch}`
              : `restored into an isolated instance${neo.instance ? ` (${neo.instance}, deleted)` : ''}`
            : `not drilled${typeof neo?.why === 'string' ? `: ${neo.why}` : ''}`,
      },
      {
        id: 'report',
        label: 'DR report exported',
        status: written ? 'ok' : 'fail',
        detail: written
          ? `${written.markdown}, ${written.html} and ${written.json} (0600), in progress at this step; export again after the session for the final record`
          : `the report could not be written: ${exportProblem ?? 'unknown error'}`,
        next: `After the session ends, the complete report: db-runbook report ${ctx.sessionId} --export`,
      },
    );
    const figures = [...latest.values()].map(
      (recovery) =>
        `${latest.size > 1 ? `${recovery.engine === 'neo4j' ? 'Neo4j' : 'PostgreSQL'} ` : ''}RTO ${recovery.rto.achieved}, RPO ${recovery.rpo.achieved}`,
    );
    return {
      summary: `${figures.length > 0 ? figures.join('; ') : 'no drill restore measured'}; report ${written ? `written to ${written.markdown}` : 'NOT written'}`,
      checks,
      data: {
        markdown: written?.markdown ?? null,
        html: written?.html ?? null,
        json: written?.json ?? null,
        recoveries: [...latest.values()].map((recovery) => ({
          id: recovery.id,
          rto: recovery.rto.achievedSeconds,
          rpo: recovery.rpo.achievedSeconds,
          rtoText: recovery.rto.achieved,
          rpoText: recovery.rpo.achieved,
          rtoVerdict: recovery.rto.verdict,
          rpoVerdict: recovery.rpo.verdict,
        })),
      },
    };
  },
});
