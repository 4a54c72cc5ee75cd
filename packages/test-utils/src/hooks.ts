// uvu 0.5 swallows an error thrown by a `before` hook: its runner returns
// from a `finally` block, so the suite prints "(0 / N)", no error, and exits
// 0. Every `test.before` goes through `loud`, which prints the error and
// fails the process; scripts/test-all.mjs also counts tests that never ran.

/** Wraps a uvu hook so that its failure is printed and fails the run. */
export function loud(fn: () => unknown): () => Promise<void> {
  return async () => {
    try {
      await fn();
    } catch (e) {
      process.stderr.write(`a test.before hook failed: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
      throw e;
    }
  };
}
