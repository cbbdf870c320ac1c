/**
 * CronJob schedule checks as the API server makes them (robfig/cron ParseStandard: five fields or a
 * descriptor), with robfig's error texts; and the timeZone check (an IANA name, not "Local").
 */

const DESCRIPTORS = new Set([
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
]);

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};
const DAYS: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

const FIELDS: Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS },
  { min: 0, max: 6, names: DAYS },
];

function parseInt10(text: string): number {
  if (!/^[+-]?\d+$/.test(text)) {
    throw new Error(
      `failed to parse int from ${text}: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`,
    );
  }
  return Number(text);
}

function parseValue(text: string, bounds: Bounds): number {
  const named = bounds.names?.[text.toLowerCase()];
  return named ?? parseInt10(text);
}

function checkRange(expr: string, bounds: Bounds): void {
  const slashes = expr.split('/');
  if (slashes.length > 2) throw new Error(`too many slashes: ${expr}`);
  const [rangePart = '', stepPart] = slashes;
  const hyphens = rangePart.split('-');
  let start: number;
  let end: number;
  if (rangePart === '*' || rangePart === '?') {
    start = bounds.min;
    end = bounds.max;
  } else {
    if (hyphens.length > 2) throw new Error(`too many hyphens: ${expr}`);
    start = parseValue(hyphens[0] ?? '', bounds);
    end = hyphens.length === 2 ? parseValue(hyphens[1] ?? '', bounds) : start;
  }
  if (stepPart !== undefined) {
    const step = parseInt10(stepPart);
    if (step <= 0) throw new Error(`step of range should be a positive number: ${expr}`);
  }
  if (start < bounds.min)
    throw new Error(`beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
  if (end > bounds.max) throw new Error(`end of range (${end}) above maximum (${bounds.max}): ${expr}`);
  if (start > end) throw new Error(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
}

/** Returns robfig/cron's error text for an unparseable schedule, or undefined when it parses. */
export function scheduleError(schedule: string): string | undefined {
  const spec = schedule.trim();
  if (spec.length === 0) return 'empty spec string';
  if (spec.startsWith('@')) {
    if (DESCRIPTORS.has(spec)) return undefined;
    if (spec.startsWith('@every ')) {
      return /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(spec.slice(7).trim())
        ? undefined
        : `failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(spec.slice(7).trim())}`;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/);
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  try {
    fields.forEach((field, i) => {
      for (const part of field.split(',')) checkRange(part, FIELDS[i] as Bounds);
    });
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** True when the schedule carries a TZ= or CRON_TZ= prefix (forbidden in batch/v1). */
export function scheduleHasTimeZone(schedule: string): boolean {
  return /^\s*(CRON_)?TZ=/.test(schedule);
}

/** Returns the API server's detail text for an unusable time zone, or undefined when it is valid. */
export function timeZoneError(timeZone: string): string | undefined {
  if (timeZone === '' || timeZone === 'Local' || /\s/.test(timeZone)) {
    return 'unknown time zone ' + timeZone;
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return undefined;
  } catch {
    return `unknown time zone ${timeZone}`;
  }
}
