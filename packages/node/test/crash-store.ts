// A store for crash tests of the chain (docs/PROTOCOL.md 9.2): its batches
// throw while the test says so, as if the process died at that write.
import type { BatchOp, KVStore } from '@pos/merkle';

/** `store` whose `batch` throws `simulated crash` (writing nothing) while `crash(ops)` holds. */
export function crashing(store: KVStore, crash: (ops: readonly BatchOp[]) => boolean): KVStore {
  return {
    get: (k) => store.get(k),
    entries: (r) => store.entries(r),
    batch: async (ops) => {
      if (crash(ops)) throw new Error('simulated crash');
      await store.batch(ops);
    },
  };
}
