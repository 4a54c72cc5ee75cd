/**
 * Small Preact hooks: a value loaded once per key, a poll, the location
 * hash.
 *
 * @module
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** The state of an async load. */
export interface Loaded<T> {
  readonly value: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  reload(): void;
}

/** Runs `load` whenever `deps` change; the latest answer wins. */
export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ value?: T; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const run = useRef(0);
  useEffect(() => {
    const me = ++run.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (value) => me === run.current && setState({ value, loading: false }),
      (error: unknown) => me === run.current && setState({ error, loading: false }),
    );
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { value: state.value, error: state.error, loading: state.loading, reload };
}

/** Calls `fn` now and every `ms` while mounted (not again before the last call settled). */
export function usePoll(
  fn: () => Promise<void> | void,
  ms: number,
  deps: readonly unknown[],
): void {
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const step = async () => {
      try {
        await fn();
      } catch {
        // shown by the page; the poll goes on
      }
      if (!stopped) timer = setTimeout(step, ms);
    };
    void step();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}

/** The location hash, updated on navigation. */
export function useLocationHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}
