import { valueSpec } from '../../../runbook/values.js';
import { reduceSchedule, type ScheduleField, scheduleLines, scheduleState } from '../../prompts.js';
import { BACKUP_CRONJOBS } from '../../../runbook/cronjob-manifest.js';
import { useAnsweredPrompt } from '../prompt-host.js';

export type { ScheduleField };

interface Props {
  fields: readonly ScheduleField[];
  /** The CronJobs' spec.timeZone. */
  timeZone?: string;
  /** Called with every field's value once each is valid and accepted with Enter. */
  onSubmit(values: Record<string, string>): void;
  onCancel(): void;
  /** The clock for "next run" (tests pass a fixed one). */
  now?: () => Date;
}

/**
 * Edits the backup CronJob schedules one at a time: a 5-field cron, validated as typed and shown in
 * words ("daily at 02:00 UTC") with the next run; Enter on an invalid one keeps the field and says why.
 */
export function ScheduleEditor({
  fields,
  timeZone = 'Etc/UTC',
  onSubmit,
  onCancel,
  now = () => new Date(),
}: Props) {
  return useAnsweredPrompt(
    () => scheduleState(fields, timeZone),
    reduceSchedule,
    (state, width) => scheduleLines(state, width, now()),
    { onSubmit, onCancel },
  );
}

/** The schedule fields for the CronJobs in scope, with the session's current values. */
export function scheduleFields(values: {
  get(name: string): string | undefined;
  inScope(database: 'postgres' | 'neo4j'): boolean;
}): ScheduleField[] {
  return BACKUP_CRONJOBS.filter((job) => values.inScope(job.database)).map((job) => ({
    name: job.schedule,
    cronJob: job.name,
    value: values.get(job.schedule) ?? valueSpec(job.schedule).default ?? '',
  }));
}
