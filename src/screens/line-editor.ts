/**
 * A one-line editor, as a shell's: printable keys insert at the cursor, Backspace/DEL erase before it,
 * Delete after it, ←/→/Home/End (Ctrl-A/E) move, Ctrl-U clears, Ctrl-W erases a word. Control
 * characters are never inserted. Pure: the gate, the values form and the filter share it.
 */
import type { KeyPress } from './input.js';
import { seg, type Line, type Seg } from './text.js';

export interface LineState {
  value: string;
  /** Cursor position, in code points. */
  cursor: number;
}

export type LineEdit = { state: LineState; submit?: string; cancel?: boolean };

export function lineOf(value = ''): LineState {
  return { value, cursor: [...value].length };
}

export function editLine(state: LineState, pressed: KeyPress): LineEdit {
  const chars = [...state.value];
  const at = Math.max(0, Math.min(state.cursor, chars.length));
  const set = (next: string[], cursor: number): LineEdit => ({
    state: { value: next.join(''), cursor },
  });
  if (pressed.name === 'return') return { state, submit: state.value };
  if (pressed.name === 'escape') return { state, cancel: true };
  if (pressed.name === 'backspace') {
    if (pressed.meta) return killWord(chars, at);
    return at === 0 ? { state } : set([...chars.slice(0, at - 1), ...chars.slice(at)], at - 1);
  }
  if (pressed.name === 'delete')
    return at >= chars.length ? { state } : set([...chars.slice(0, at), ...chars.slice(at + 1)], at);
  if (pressed.name === 'left') return { state: { ...state, cursor: Math.max(0, at - 1) } };
  if (pressed.name === 'right') return { state: { ...state, cursor: Math.min(chars.length, at + 1) } };
  if (pressed.name === 'home') return { state: { ...state, cursor: 0 } };
  if (pressed.name === 'end') return { state: { ...state, cursor: chars.length } };
  if (pressed.name !== 'char') return { state };
  if (pressed.ctrl) {
    switch (pressed.text) {
      case 'a':
        return { state: { ...state, cursor: 0 } };
      case 'e':
        return { state: { ...state, cursor: chars.length } };
      case 'b':
        return { state: { ...state, cursor: Math.max(0, at - 1) } };
      case 'f':
        return { state: { ...state, cursor: Math.min(chars.length, at + 1) } };
      case 'u':
        return set(chars.slice(at), 0);
      case 'k':
        return set(chars.slice(0, at), at);
      case 'w':
        return killWord(chars, at);
      case 'h':
        return at === 0 ? { state } : set([...chars.slice(0, at - 1), ...chars.slice(at)], at - 1);
      default:
        return { state };
    }
  }
  if (pressed.meta) return { state };
  return set([...chars.slice(0, at), pressed.text, ...chars.slice(at)], at + 1);
}

function killWord(chars: string[], at: number): LineEdit {
  let start = at;
  while (start > 0 && chars[start - 1] === ' ') start--;
  while (start > 0 && chars[start - 1] !== ' ') start--;
  return { state: { value: [...chars.slice(0, start), ...chars.slice(at)].join(''), cursor: start } };
}

/**
 * The editor as segments: the text (or `*` per character for a secret) with the cursor shown inverse;
 * the placeholder, dimmed, when empty.
 */
export function editorSegments(
  state: LineState,
  options: { secret?: boolean; placeholder?: string; focused?: boolean } = {},
): Seg[] {
  const chars = [...state.value].map((char) => (options.secret ? '*' : char));
  const focused = options.focused !== false;
  if (chars.length === 0) {
    const placeholder = options.placeholder ?? '';
    if (!focused) return [seg(placeholder, { dim: true })];
    return placeholder
      ? [seg(placeholder.slice(0, 1), { inverse: true, dim: true }), seg(placeholder.slice(1), { dim: true })]
      : [seg(' ', { inverse: true })];
  }
  if (!focused) return [seg(chars.join(''))];
  const at = Math.min(state.cursor, chars.length);
  const out: Seg[] = [];
  if (at > 0) out.push(seg(chars.slice(0, at).join('')));
  out.push(seg(chars[at] ?? ' ', { inverse: true }));
  if (at + 1 < chars.length) out.push(seg(chars.slice(at + 1).join('')));
  return out;
}

/** `label value▌` as a line. */
export function editorLine(
  label: Seg[],
  state: LineState,
  options: Parameters<typeof editorSegments>[1] = {},
): Line {
  return [...label, ...editorSegments(state, options)];
}
