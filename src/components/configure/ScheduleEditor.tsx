import { TextInput } from '@inkjs/ui';
import { Box, Text, useInput } from 'ink';
import { useState } from 'react';
import { cronProblem, describeCron, nextRun } from '../../runbook/cron.js';
import { valueSpec } from '../../runbook/values.js';
import { BACKUP_CRONJOBS } from '../../steps/deploy.js';

export interface ScheduleField {
  /** Value name, e.g. POSTGRES_BACKUP_SCHEDULE. */
  name: string;
  /** What it schedules, e.g. postgres-daily-backup. */
  cronJob: string;
  /** The current value (the session's), shown as the starting text. */
  value: string;
}

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

function when(expression: string, timeZone: string, now: Date): string {
  const next = nextRun(expression, now, timeZone);
  const at = next ? `, next run ${next.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
  return `${describeCron(expression, timeZone)}${at}`;
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
  const [index, setIndex] = useState(0);
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [draft, setDraft] = useState(fields[0]?.value ?? '');
  // The value Enter refused and why: shown while the text is still that value.
  const [rejected, setRejected] = useState<{ value: string; message: string } | undefined>();
  useInput((_input, key) => {
    if (key.escape) onCancel();
  });
  const field = fields[index];
  if (!field) return null;
  const spec = valueSpec(field.name);
  const problem = cronProblem(draft);
  const error = rejected && rejected.value === draft ? rejected.message : undefined;
  const submit = (value: string) => {
    const invalid = cronProblem(value);
    if (invalid) {
      setRejected({ value, message: `${field.name} ${invalid}` });
      return;
    }
    setRejected(undefined);
    const next = { ...answers, [field.name]: value.trim().split(/\s+/).join(' ') };
    setAnswers(next);
    const following = fields[index + 1];
    if (!following) onSubmit(next);
    else {
      setIndex(index + 1);
      setDraft(following.value);
    }
  };
  return (
    <Box flexDirection="column" borderStyle="single" paddingX={1}>
      <Text bold>
        Backup schedules ({index + 1}/{fields.length}) <Text dimColor>— time zone {timeZone}</Text>
      </Text>
      {fields.map((other, position) =>
        position < index ? (
          <Text key={other.name} dimColor>
            ✓ {other.cronJob}: {answers[other.name]} ({when(answers[other.name] ?? '', timeZone, now())})
          </Text>
        ) : null,
      )}
      <Box gap={1}>
        <Text>
          {field.cronJob} <Text dimColor>({field.name})</Text>:
        </Text>
        <TextInput
          key={field.name}
          defaultValue={field.value}
          placeholder={spec.default ?? '0 2 * * *'}
          onChange={setDraft}
          onSubmit={submit}
        />
      </Box>
      {error ? (
        <Text color="red">✗ {error}</Text>
      ) : problem ? (
        <Text color="yellow">… {problem}</Text>
      ) : (
        <Text color="green">= {when(draft, timeZone, now())}</Text>
      )}
      <Text dimColor>minute hour day-of-month month day-of-week · Enter to accept · Esc to cancel</Text>
    </Box>
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
