import { useStdout } from 'ink';
import { useRef, type ReactElement } from 'react';
import { useKeys, type KeyPress } from '../input.js';
import { Lines } from '../Lines.js';
import type { Line } from '../text.js';
import { useStore } from '../use-store.js';

/**
 * A prompt on its own (outside the App): its state in a store so a burst of keys is applied in order,
 * drawn as lines at the terminal's width. `reduce` returns the next state; `onKey` may act on it.
 */
export function usePromptHost<S>(
  initial: () => S,
  reduce: (state: S, pressed: KeyPress) => S,
  draw: (state: S, width: number) => Line[],
): ReactElement {
  const { stdout } = useStdout();
  const [state, store] = useStore(initial);
  useKeys((pressed) => store.set(reduce(store.get(), pressed)));
  return <Lines lines={draw(state, Math.max(20, stdout.columns || 100))} />;
}

/**
 * A prompt whose reducer says when it is done: `done` is the answer, `null` a cancel. Each is reported
 * once; keys after that are ignored.
 */
export function useAnsweredPrompt<S, A>(
  initial: () => S,
  reduce: (state: S, pressed: KeyPress) => { state: S; done?: A | null },
  draw: (state: S, width: number) => Line[],
  answer: { onSubmit(value: A): void; onCancel(): void },
): ReactElement {
  const done = useRef(false);
  return usePromptHost<S>(
    initial,
    (state, pressed) => {
      if (done.current) return state;
      const step = reduce(state, pressed);
      if (step.done === null) {
        done.current = true;
        answer.onCancel();
      } else if (step.done) {
        done.current = true;
        answer.onSubmit(step.done);
      }
      return step.state;
    },
    draw,
  );
}
