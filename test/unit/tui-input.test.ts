// Keys read as a stream: a chunk from the terminal (a burst, a paste, a laggy link) is split into the
// keys it holds; Backspace/DEL erase like a line editor and never insert an invisible character.
import { describe, expect, it } from 'vitest';
import { splitKeys } from '../../src/screens/input.js';
import { editLine, lineOf, type LineState } from '../../src/screens/line-editor.js';

function typeInto(state: LineState, chunk: string): { state: LineState; submitted?: string } {
  let current = state;
  for (const key of splitKeys(chunk)) {
    const edit = editLine(current, key);
    if (edit.submit !== undefined) return { state: edit.state, submitted: edit.submit };
    current = edit.state;
  }
  return { state: current };
}

describe('keys in a burst', () => {
  it('splits a burst into its keys, arrows and Enter included', () => {
    expect(splitKeys('jj\u001b[B\r').map((key) => key.name + key.text)).toEqual([
      'charj',
      'charj',
      'down',
      'return',
    ]);
    expect(splitKeys('\u001b[5~\u001b[6~\u001b[H\u001b[F\u001b[Z').map((key) => key.name)).toEqual([
      'pageup',
      'pagedown',
      'home',
      'end',
      'backtab',
    ]);
    expect(splitKeys('\u0003')).toEqual([{ name: 'char', text: 'c', ctrl: true, meta: false }]);
    expect(splitKeys('\u001b')).toEqual([{ name: 'escape', text: '', ctrl: false, meta: false }]);
  });

  it('a p o Backspace p in one burst is "app", with no DEL character inserted (0x7f and ^H alike)', () => {
    expect(typeInto(lineOf(), 'apo\u007fp').state.value).toBe('app');
    expect(typeInto(lineOf(), 'apo\bp').state.value).toBe('app');
    // eslint-disable-next-line no-control-regex
    expect(typeInto(lineOf(), 'apo\u007fp').state.value).not.toMatch(/[\u0000-\u001f\u007f]/);
  });

  it('a pasted phrase followed by Enter submits it, as typed slowly would', () => {
    expect(typeInto(lineOf(), 'drop app\r').submitted).toBe('drop app');
    expect(typeInto(lineOf(), 'drop app\r\n').submitted).toBe('drop app');
  });

  it('edits like a shell line: ←/→, Home/End, Delete, Ctrl-U, Ctrl-W', () => {
    expect(typeInto(lineOf(), 'ap\u001b[Dp').state.value).toBe('app');
    expect(typeInto(lineOf(), 'pp\u001b[Ha').state.value).toBe('app');
    expect(typeInto(lineOf(), 'axpp\u001b[H\u001b[C\u001b[3~').state.value).toBe('app');
    expect(typeInto(lineOf(), 'wrong\u0015app').state.value).toBe('app');
    expect(typeInto(lineOf(), 'drop wrong\u0017app').state.value).toBe('drop app');
  });

  it('ignores other control characters instead of inserting them', () => {
    expect(typeInto(lineOf(), 'a\u0007p\u001b[200~p\u001b[201~').state.value).toBe('app');
  });
});
