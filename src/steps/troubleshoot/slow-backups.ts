/** troubleshoot.slow-backups: each backup CronJob's recent Job durations against its deadline, schedule and threshold. */
import { formatDuration } from '../../runbook/backup-catalog.js';
import { assessDurations, type DurationAssessment, jobRun, type JobRun } from '../../runbook/diagnose.js';
import { parseDuration } from '../../runbook/durations.js';
import { cronJobMissing } from './job-evidence.js';
import { TROUBLESHOOT_IDS } from './ids.js';
import {
  activeDeadlineOf,
  backupContainer,
  backupCronJobs,
  envValue,
  scheduleOf,
} from '../kit/backup-cronjobs.js';
import { planNamespace } from '../kit/apply.js';
import { defineStep } from '../define.js';
import type { CheckStatus } from '../../runbook/journal.js';
import type { Check } from '../../runbook/step.js';
import { scheduleInterval } from '../../runbook/freshness.js';

/** One backup CronJob's recent runs and what they say. */
interface CronDurations {
  runs: JobRun[];
  verdict: DurationAssessment['verdict'];
  mode?: string;
}

/** Per backup CronJob (by name) its durations, and whether the Neo4j incremental switch is worth offering. */
export type SlowBackupsData = { offerIncremental: boolean } & { [cronJob: string]: CronDurations | boolean };

const VERDICT_STATUS: Record<DurationAssessment['verdict'], CheckStatus> = {
  'near-deadline': 'fail',
  slow: 'warn',
  'no-runs': 'skip',
  ok: 'ok',
};

const RUNS_SHOWN = 5;

function runLine(run: JobRun): string {
  const took = run.seconds !== undefined ? formatDuration(run.seconds * 1000) : '?';
  return `${run.name}: ${took} ${run.outcome}${run.startedAt ? ` (started ${run.startedAt.replace('.000Z', 'Z')})` : ''}`;
}

function slowThreshold(settings: Record<string, unknown>): number | undefined {
  const raw = settings.slowBackupThreshold;
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  const parsed = parseDuration(String(raw));
  return parsed.ok ? parsed.ms / 1000 : undefined;
}

export const slowBackups = defineStep<SlowBackupsData>({
  id: TROUBLESHOOT_IDS.slowBackups,
  section: 'troubleshoot',
  title: 'Slow backups',
  description: `The last ${RUNS_SHOWN} Job durations of each backup CronJob from Job status (startTime → completion), against activeDeadlineSeconds, the schedule and the values file's slowBackupThreshold; the Neo4j backup mode.`,
  inputs: [],
  continueOnFailure: true,
  plan: (_values, options) => ({
    actions: [
      {
        summary: `durations of the last ${RUNS_SHOWN} Jobs of each backup CronJob`,
        command: `kubectl get jobs --namespace ${planNamespace(options)} -o custom-columns=NAME:.metadata.name,START:.status.startTime,END:.status.completionTime`,
      },
    ],
    notes: [
      `The fix the runbook names: adjust schedules (deploy section) or incremental Neo4j backups (${TROUBLESHOOT_IDS.incremental}).`,
    ],
  }),
  async run(ctx) {
    const now = new Date();
    const checks: Check[] = [];
    const data: Record<string, CronDurations> = {};
    let slowNeo4j = false;
    for (const cron of await backupCronJobs(ctx)) {
      if (!cron.object || cron.error) {
        checks.push(cronJobMissing(cron, (await ctx.adapters.kube()).target.namespace));
        continue;
      }
      const runs = cron.jobs.slice(0, RUNS_SHOWN).map((job) => jobRun(job, now));
      const deadline = activeDeadlineOf(cron.object);
      const { schedule, timeZone } = scheduleOf(cron.object, ctx.values, cron.scheduleValue);
      const interval = schedule ? scheduleInterval(schedule, now, timeZone) : undefined;
      const threshold = slowThreshold(ctx.settings);
      const assessment = assessDurations(runs, {
        ...(deadline !== undefined ? { activeDeadlineSeconds: deadline } : {}),
        ...(threshold !== undefined ? { thresholdSeconds: threshold } : {}),
        ...(interval !== undefined ? { intervalSeconds: interval / 1000 } : {}),
      });
      const mode =
        cron.database === 'neo4j'
          ? (envValue(backupContainer(cron.object), 'NEO4J_BACKUP_MODE') ?? 'full')
          : undefined;
      const slow = assessment.verdict === 'slow' || assessment.verdict === 'near-deadline';
      if (slow && cron.database === 'neo4j' && mode !== 'incremental') slowNeo4j = true;
      const next =
        cron.database === 'neo4j' && mode !== 'incremental'
          ? `Switch to incremental backups (${TROUBLESHOOT_IDS.incremental}), or move the schedule to a quieter window (deploy section, e edits schedules).`
          : 'Move the schedule to a quieter window or raise activeDeadlineSeconds (deploy section); look at the database’s load during the run.';
      checks.push({
        id: cron.name,
        label: `${cron.name} durations${mode ? ` (NEO4J_BACKUP_MODE=${mode})` : ''}`,
        status: VERDICT_STATUS[assessment.verdict],
        detail:
          runs.length > 0
            ? `${assessment.detail}\n${runs.map((run) => `    ${runLine(run)}`).join('\n')}`
            : assessment.detail,
        ...(slow ? { next } : {}),
      });
      data[cron.name] = { runs, verdict: assessment.verdict, ...(mode ? { mode } : {}) };
    }
    const slowOnes = checks.filter(
      (check) => !check.id.endsWith(':read') && (check.status === 'warn' || check.status === 'fail'),
    );
    return {
      summary: slowOnes.length
        ? `slow: ${slowOnes.map((check) => check.id).join(', ')}${slowNeo4j ? ` — offer: ${TROUBLESHOOT_IDS.incremental}` : ''}`
        : 'backup durations within limits',
      checks,
      data: { ...data, offerIncremental: slowNeo4j },
    };
  },
});
