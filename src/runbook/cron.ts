/**
 * CronJob schedules: validated the way a Kubernetes CronJob accepts them (5 fields: minute hour
 * day-of-month month day-of-week), described in words ("daily at 02:00 UTC"), next run computed.
 * Pure: no I/O (the clock is passed in).
 */
import { CronExpressionParser } from 'cron-parser';
import cronstrue from 'cronstrue';

const FIELD_NAMES = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;

/** Characters each field may use in the Kubernetes (robfig/cron standard) syntax. */
const FIELD_CHARS: readonly RegExp[] = [
  /^[0-9*,/-]+$/,
  /^[0-9*,/-]+$/,
  /^[0-9*,/?-]+$/,
  /^[0-9A-Za-z*,/-]+$/,
  /^[0-9A-Za-z*,/?-]+$/,
];

const EXAMPLE = 'e.g. "0 2 * * *" for daily at 02:00';

function fields(expression: string): string[] {
  return expression.trim().split(/\s+/).filter(Boolean);
}

/** The problem with a schedule, or undefined when a CronJob accepts it. Usable as a value validator. */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (trimmed === '') return `is empty; ${EXAMPLE}`;
  if (/^(CRON_)?TZ=/.test(trimmed))
    return 'must not set TZ= in the schedule; the CronJob sets spec.timeZone (Etc/UTC)';
  if (trimmed.startsWith('@'))
    return `must be a 5-field cron expression (minute hour day-of-month month day-of-week), not a macro; ${EXAMPLE}`;
  const parts = fields(trimmed);
  if (parts.length !== 5)
    return `must have 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}; ${EXAMPLE}`;
  for (const [index, part] of parts.entries()) {
    const allowed = FIELD_CHARS[index];
    if (allowed && !allowed.test(part))
      return `the ${FIELD_NAMES[index]} field "${part}" is not valid; ${EXAMPLE}`;
  }
  try {
    CronExpressionParser.parse(parts.join(' '), { tz: 'Etc/UTC' });
  } catch (error) {
    return `is not a valid schedule: ${(error as Error).message}; ${EXAMPLE}`;
  }
  return undefined;
}

export function isValidCron(expression: string): boolean {
  return cronProblem(expression) === undefined;
}

/** "UTC" for the zone names that mean it, else the zone name. */
export function zoneLabel(timeZone: string | undefined): string {
  if (!timeZone) return 'in the controller’s time zone';
  return /^(Etc\/)?(UTC|UCT|Universal|Zulu|GMT|GMT[+-]0|Greenwich)$|^UTC$/i.test(timeZone) ? 'UTC' : timeZone;
}

function pad(value: string): string {
  return value.padStart(2, '0');
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/**
 * The schedule in words: "daily at 02:00 UTC", "every Sunday at 03:15 UTC", "hourly at minute 5";
 * anything else in cronstrue's words ("every 15 minutes UTC", "at 02:00, Monday through Friday UTC").
 */
export function describeCron(expression: string, timeZone: string | undefined = 'Etc/UTC'): string {
  const zone = zoneLabel(timeZone);
  const parts = fields(expression);
  const [minute, hour, dom, month, dow] = parts;
  if (parts.length === 5 && minute && hour && /^\d{1,2}$/.test(minute) && dom === '*' && month === '*') {
    if (/^\d{1,2}$/.test(hour)) {
      const time = `${pad(hour)}:${pad(minute)}`;
      if (dow === '*' || dow === '?') return `daily at ${time} ${zone}`;
      if (dow && /^[0-6]$/.test(dow)) return `every ${DAY_NAMES[Number(dow)]} at ${time} ${zone}`;
    }
    if (hour === '*' && (dow === '*' || dow === '?')) return `hourly at minute ${Number(minute)}`;
  }
  let words: string;
  try {
    words = cronstrue.toString(parts.join(' '), { use24HourTimeFormat: true, verbose: false });
  } catch {
    return expression;
  }
  return `${words.charAt(0).toLowerCase()}${words.slice(1)} ${zone}`;
}

/** The next `count` run times after `from`, in the CronJob's time zone. Empty when the expression is invalid. */
export function nextRuns(
  expression: string,
  from: Date,
  timeZone: string | undefined = 'Etc/UTC',
  count = 1,
): Date[] {
  if (!isValidCron(expression)) return [];
  const parsed = CronExpressionParser.parse(fields(expression).join(' '), {
    currentDate: from,
    tz: timeZone ?? 'Etc/UTC',
  });
  return parsed.take(count).map((date) => date.toDate());
}

export function nextRun(expression: string, from: Date, timeZone?: string): Date | undefined {
  return nextRuns(expression, from, timeZone, 1)[0];
}
