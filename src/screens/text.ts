/**
 * The TUI draws every screen as lines of styled segments, wrapped here to the terminal's width, so a
 * line never runs past the right edge and a viewport can show any slice of a long detail. Pure.
 */

export interface Seg {
  text: string;
  color?: string;
  backgroundColor?: string;
  bold?: boolean;
  dim?: boolean;
  underline?: boolean;
  inverse?: boolean;
}

export type Line = readonly Seg[];

export function seg(text: string, style: Omit<Seg, 'text'> = {}): Seg {
  return { text, ...style };
}

/** A line of one segment. */
export function line(text: string, style: Omit<Seg, 'text'> = {}): Line {
  return [{ text, ...style }];
}

export const EMPTY: Line = [];

/** Columns a code point takes in a terminal: 0 for combining marks, 2 for wide (CJK, emoji), else 1. */
export function charWidth(codePoint: number): number {
  if (codePoint < 32 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if ((codePoint >= 0x300 && codePoint <= 0x36f) || (codePoint >= 0x200b && codePoint <= 0x200f)) return 0;
  if (codePoint === 0xfe0f) return 0;
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  )
    return 2;
  return 1;
}

export function textWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char.codePointAt(0) ?? 0);
  return width;
}

export function lineWidth(value: Line): number {
  return value.reduce((sum, part) => sum + textWidth(part.text), 0);
}

export function plain(value: Line): string {
  return value.map((part) => part.text).join('');
}

/** Control characters would move the terminal's cursor: shown as nothing (tabs as two spaces). */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\t/g, '  ').replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, '');
}

/** Cuts a string to at most `width` columns. */
export function cut(text: string, width: number): string {
  let out = '';
  let used = 0;
  for (const char of text) {
    const w = charWidth(char.codePointAt(0) ?? 0);
    if (used + w > width) break;
    out += char;
    used += w;
  }
  return out;
}

/** A line cut to `width` columns, ending in `…` when something was cut. */
export function truncateLine(value: Line, width: number): Line {
  if (lineWidth(value) <= width) return value;
  const out: Seg[] = [];
  let left = Math.max(0, width - 1);
  for (const part of value) {
    if (left <= 0) break;
    const text = cut(part.text, left);
    if (text) out.push({ ...part, text });
    left -= textWidth(text);
  }
  out.push({ text: '…', dim: true });
  return out;
}

/**
 * Wraps a line to `width` columns at spaces where it can (a word longer than the line is cut).
 * Continuation lines start with `indent` spaces. No character is lost, none is added but the indent.
 */
export function wrapLine(value: Line, width: number, indent = 0): Line[] {
  const safeWidth = Math.max(1, width);
  const hang = Math.min(indent, Math.floor(safeWidth / 2));
  if (lineWidth(value) <= safeWidth) return [value];
  // One character at a time, each with its segment's style.
  const chars: { char: string; width: number; style: Seg }[] = [];
  for (const part of value)
    for (const char of part.text)
      chars.push({ char, width: charWidth(char.codePointAt(0) ?? 0), style: part });
  const lines: Line[] = [];
  let start = 0;
  let first = true;
  while (start < chars.length) {
    const room = first ? safeWidth : safeWidth - hang;
    let used = 0;
    let end = start;
    while (end < chars.length && used + chars[end]!.width <= room) {
      used += chars[end]!.width;
      end++;
    }
    let next = end;
    if (end < chars.length) {
      // Break at the last space on this line, if there is one past the line's first quarter. The
      // terminal drops a line's trailing spaces, so the space starts the next line (or, with a hanging
      // indent, gives way to it).
      let space = -1;
      for (let at = end; at > start; at--)
        if (chars[at]?.char === ' ') {
          space = at;
          break;
        }
      if (space > start + Math.floor(room / 4)) {
        end = space;
        next = hang > 0 ? space + 1 : space;
      }
      if (end === start) end = next = start + 1;
    }
    const out: Seg[] = first || hang === 0 ? [] : [{ text: ' '.repeat(hang) }];
    for (let at = start; at < end; at++) {
      const { char, style } = chars[at]!;
      const last = out[out.length - 1];
      if (last && sameStyle(last, style)) out[out.length - 1] = { ...last, text: last.text + char };
      else out.push({ ...style, text: char });
    }
    lines.push(out);
    start = next;
    first = false;
  }
  return lines;
}

function sameStyle(a: Seg, b: Seg): boolean {
  return (
    a.color === b.color &&
    a.backgroundColor === b.backgroundColor &&
    a.bold === b.bold &&
    a.dim === b.dim &&
    a.underline === b.underline &&
    a.inverse === b.inverse
  );
}

/** Wraps every line; `indent` is the hanging indent of continuation lines. */
export function wrapAll(lines: readonly Line[], width: number, indent = 2): Line[] {
  return lines.flatMap((value) => wrapLine(value, width, indent));
}

/** A horizontal rule with a title: `── Title ────────`. */
export function rule(title: string, width: number, style: Omit<Seg, 'text'> = {}): Line {
  const head = title ? `── ${title} ` : '';
  const text = cut(head, width);
  return [{ text: text + '─'.repeat(Math.max(0, width - textWidth(text))), ...style }];
}

/** Lines whose plain text contains `filter` (case-insensitive); all lines when it is empty. */
export function filterLines(lines: readonly Line[], filter: string): Line[] {
  const wanted = filter.trim().toLowerCase();
  if (!wanted) return [...lines];
  return lines.filter((value) => plain(value).toLowerCase().includes(wanted));
}

/** A text progress bar: `████████░░░░` of `width` columns. */
export function bar(fraction: number, width: number): string {
  const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
