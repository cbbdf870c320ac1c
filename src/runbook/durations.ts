/** Durations as people write them in a values file (`90m`, `4h`, `1d`, `1h30m`) and as a report shows them. */
const UNIT_MS = {
  w: 7 * 24 * 3_600_000,
  d: 24 * 3_600_000,
  h: 3_600_000,
  m: 60_000,
  s: 1000,
} as const;

export type DurationParse = { ok: true; ms: number } | { ok: false; message: string };

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;

/** Units largest first, each at most once, optional spaces between: `1d`, `1h30m`, `1h 30m`, `1.5h`. */
const DURATION = new RegExp(
  `^(?:${NUMBER}w)?\\s*(?:${NUMBER}d)?\\s*(?:${NUMBER}h)?\\s*(?:${NUMBER}m)?\\s*(?:${NUMBER}s)?$`,
);
const UNITS_IN_ORDER = ['w', 'd', 'h', 'm', 's'] as const;

/**
 * Parses `90m`, `4h`, `1d`, `1h30m`, `1h 30m`, `2w`, `45s` into milliseconds.
 * A bare number is refused: `24` could mean hours or minutes.
 */
export function parseDuration(text: string): DurationParse {
  const source = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(source))
    return { ok: false, message: `"${text}" has no unit; write e.g. ${source}h or ${source}m` };
  const match = source === '' ? null : DURATION.exec(source);
  if (!match) return { ok: false, message: `"${text}" is not a duration; write e.g. 90m, 4h, 1d or 1h30m` };
  let ms = 0;
  UNITS_IN_ORDER.forEach((unit, index) => {
    const amount = match[index + 1];
    if (amount !== undefined) ms += Number(amount) * UNIT_MS[unit];
  });
  return { ok: true, ms: Math.round(ms) };
}

/**
 * `1d 2h 3m 4s`, `4m 12s`, `850ms`, `0s`: every non-zero unit down to seconds (below a second: ms).
 * Negative durations keep their sign.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'unknown';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (Math.round(ms) === 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.floor(ms / 1000) * 1000;
  const parts: string[] = [];
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const count = Math.floor(rest / UNIT_MS[unit]);
    rest -= count * UNIT_MS[unit];
    if (count > 0) parts.push(`${count}${unit}`);
  }
  return parts.join(' ');
}
