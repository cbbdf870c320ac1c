/**
 * Keyboard input read as a stream. A terminal delivers keys in chunks: over a laggy link, a paste, or
 * fast typing, `apo⌫p⏎` arrives as one string. Ink hands such a chunk over as one "key"; here it is
 * split back into the keys it holds, in order, so nothing is lost, Backspace (DEL, 0x7f, or ^H) erases,
 * and Enter inside a burst submits. Escape sequences (arrows, PgUp…) stay whole.
 */
import { useStdin } from 'ink';
import { useEffect, useEffectEvent } from 'react';

export type KeyName =
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'pageup'
  | 'pagedown'
  | 'home'
  | 'end'
  | 'return'
  | 'escape'
  | 'tab'
  | 'backtab'
  | 'backspace'
  | 'delete'
  | 'char';

export interface KeyPress {
  name: KeyName;
  /** The character typed, for `char` (a letter, a digit, a space, …); '' otherwise. */
  text: string;
  ctrl: boolean;
  meta: boolean;
}

const key = (name: KeyName, extra: Partial<KeyPress> = {}): KeyPress => ({
  name,
  text: '',
  ctrl: false,
  meta: false,
  ...extra,
});

/** CSI/SS3 final parts → key names (xterm, VT220, rxvt and tmux spellings). */
const SEQUENCES: Record<string, KeyName> = {
  '[A': 'up',
  '[B': 'down',
  '[C': 'right',
  '[D': 'left',
  OA: 'up',
  OB: 'down',
  OC: 'right',
  OD: 'left',
  '[5~': 'pageup',
  '[6~': 'pagedown',
  '[[5~': 'pageup',
  '[[6~': 'pagedown',
  '[H': 'home',
  '[F': 'end',
  OH: 'home',
  OF: 'end',
  '[1~': 'home',
  '[4~': 'end',
  '[7~': 'home',
  '[8~': 'end',
  '[3~': 'delete',
  '[Z': 'backtab',
};

function escapeKey(sequence: string): KeyPress | undefined {
  const body = sequence.slice(1);
  if (body === '') return key('escape');
  if (body === '\u001b') return key('escape', { meta: true });
  const named = SEQUENCES[body];
  if (named) return key(named);
  // Modified keys: ESC [ 1 ; 5 A (Ctrl-Up) and the like.
  const modified = /^\[1;(\d)([A-DHF])$/.exec(body);
  if (modified) {
    const name = SEQUENCES[`[${modified[2]}`];
    const mods = Number(modified[1]) - 1;
    if (name) return key(name, { ctrl: (mods & 4) !== 0, meta: (mods & 2) !== 0 });
  }
  if (body === '\u007f' || body === '\b') return key('backspace', { meta: true });
  if (body.length === 1 && body >= ' ') return key('char', { text: body, meta: true });
  // Bracketed-paste markers and anything unknown: not a key.
  return undefined;
}

/** Splits one chunk of terminal input into the keys it holds. */
export function splitKeys(chunk: string): KeyPress[] {
  const keys: KeyPress[] = [];
  let index = 0;
  while (index < chunk.length) {
    const char = chunk[index]!;
    if (char === '\u001b') {
      // An escape sequence: ESC [ params final | ESC O x | ESC x | ESC alone.
      let end = index + 1;
      const next = chunk[end];
      if (next === '[') {
        end++;
        if (chunk[end] === '[') end++;
        while (end < chunk.length && /[0-9;?]/.test(chunk[end]!)) end++;
        end++;
      } else if (next === 'O') end += 2;
      else if (next !== undefined) end++;
      const parsed = escapeKey(chunk.slice(index, Math.min(end, chunk.length)));
      if (parsed) keys.push(parsed);
      index = Math.min(end, chunk.length);
      continue;
    }
    const code = char.codePointAt(0) ?? 0;
    const symbol = String.fromCodePoint(code);
    index += symbol.length;
    if (char === '\r' || char === '\n') {
      // A CR LF pair is one Enter.
      if (char === '\r' && chunk[index] === '\n') index++;
      keys.push(key('return'));
    } else if (char === '\t') keys.push(key('tab'));
    else if (code === 0x7f || code === 0x08) keys.push(key('backspace'));
    else if (code < 0x20) keys.push(key('char', { text: String.fromCharCode(code + 96), ctrl: true }));
    else if (code >= 0x80 && code < 0xa0) continue;
    else keys.push(key('char', { text: symbol }));
  }
  return keys;
}

export const isCtrl = (pressed: KeyPress, letter: string) =>
  pressed.name === 'char' && pressed.ctrl && pressed.text === letter;

/**
 * Calls `handler` for each key, in order, while `isActive`. The handler should read and change state
 * through a store (not a render's closure), so the second key of a burst sees what the first did.
 */
export function useKeys(handler: (pressed: KeyPress) => void, options: { isActive?: boolean } = {}): void {
  const { internal_eventEmitter: events, setRawMode } = useStdin();
  const active = options.isActive !== false;
  const onKey = useEffectEvent(handler);
  useEffect(() => {
    if (!active) return;
    setRawMode(true);
    return () => setRawMode(false);
  }, [active, setRawMode]);
  useEffect(() => {
    if (!active) return;
    const onInput = (chunk: string) => {
      for (const pressed of splitKeys(chunk)) onKey(pressed);
    };
    events.on('input', onInput);
    return () => {
      events.removeListener('input', onInput);
    };
  }, [active, events]);
}
