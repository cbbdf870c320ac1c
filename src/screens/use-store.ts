import { useEffect, useState, useSyncExternalStore } from 'react';

export interface Store<S> {
  get(): S;
  set(next: S): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<S>(initial: S): Store<S> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    set(next) {
      if (next === state) return;
      state = next;
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * State that a key handler reads and writes synchronously (the second key of a burst sees what the
 * first did), rendered through useSyncExternalStore.
 */
export function useStore<S>(initial: () => S): [S, Store<S>] {
  const [store] = useState(() => createStore(initial()));
  const state = useSyncExternalStore(store.subscribe, store.get, store.get);
  return [state, store];
}

/** The terminal's size, following resizes. `rows` is undefined when the output is not a terminal. */
export function useTerminalSize(stdout: NodeJS.WriteStream): { columns: number; rows?: number } {
  const read = () => ({
    columns: Math.max(20, stdout.columns || 100),
    rows: typeof stdout.rows === 'number' && stdout.rows > 0 ? Math.max(8, stdout.rows) : undefined,
  });
  const [size, setSize] = useState(read);
  useEffect(() => {
    const onResize = () => setSize(read());
    stdout.on('resize', onResize);
    return () => {
      stdout.off('resize', onResize);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stdout]);
  return size;
}
