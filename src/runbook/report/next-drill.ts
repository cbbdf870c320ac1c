/** The runbook: "Restore to an isolated environment quarterly". */
export const DRILL_INTERVAL_MONTHS = 3;

/**
 * The date (UTC, `YYYY-MM-DD`) `months` calendar months after `from`; the 31st becomes the last day
 * of a shorter month (Nov 30 + 3 months → Feb 28/29).
 */
export function addMonthsUtc(from: Date, months: number): string {
  const year = from.getUTCFullYear();
  const month = from.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const day = Math.min(from.getUTCDate(), lastDay);
  return new Date(Date.UTC(year, month, day)).toISOString().slice(0, 10);
}

export function nextDrillDate(lastDrill: Date): string {
  return addMonthsUtc(lastDrill, DRILL_INTERVAL_MONTHS);
}
