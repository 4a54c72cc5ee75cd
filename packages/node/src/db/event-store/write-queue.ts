/**
 * The store's single writer (docs/PROTOCOL.md 9.1): records are queued in
 * insertion order and drained one group at a time, each group one atomic
 * `batch` ending with the `m` record, so the disk always holds a prefix of
 * the insertion log (parents before children). A group holding an own
 * event is written with `sync: true` (fsync) before its waiters resolve.
 * After a failed batch every later write is refused (`WRITE_FAILED`).
 */
import { failpoint } from '../../failpoints.js';
import { EventStoreError } from './errors.js';
import type { EventDb, EventDbOp } from './types.js';

/** What {@link createWriteQueue} writes to and reports to. */
export interface WriteQueueDeps {
  readonly db: EventDb;
  /** Key of the `m` record, rewritten in every batch. */
  readonly metaKey: Uint8Array;
  /** The `m` record's value as of the moment a batch is taken. */
  metaValue(): Uint8Array;
  /** A batch holding these events (hex hashes) has landed. */
  landed(hexes: readonly string[]): void;
}

/** The ordered writer. */
export interface WriteQueue {
  /** The first write failure; once set, every later write is refused with it. */
  readonly failure: EventStoreError | null;
  /**
   * Queues `ops` (with `hex`, the event they store, if any) and starts the
   * writer; with `wait`, resolves when the batch holding them landed. With
   * `sync`, that batch is written with `sync: true`.
   */
  enqueue(ops: EventDbOp[], sync: boolean, wait: boolean, hex?: string): Promise<void>;
  /** Resolves when every queued write has landed; rejects with the failure if one failed. */
  flush(): Promise<void>;
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

/** The writer over `deps.db`. */
export function createWriteQueue(deps: WriteQueueDeps): WriteQueue {
  let queue: EventDbOp[] = [];
  let queueHashes: string[] = [];
  let queueSync = false;
  let queueWaiters: Waiter[] = [];
  let writer: Promise<void> | null = null;
  let failure: EventStoreError | null = null;

  const drain = async (): Promise<void> => {
    while (queue.length > 0 || queueWaiters.length > 0) {
      const ops = queue;
      const hashes = queueHashes;
      const sync = queueSync;
      const waiters = queueWaiters;
      queue = [];
      queueHashes = [];
      queueSync = false;
      queueWaiters = [];
      ops.push({ type: 'put', key: deps.metaKey, value: deps.metaValue() });
      try {
        if (failure) throw failure;
        failpoint('eventStore.write');
        await deps.db.batch(ops, { sync });
      } catch (e) {
        failure ??= new EventStoreError('WRITE_FAILED', `event batch failed: ${String(e)}`, {
          cause: e,
        });
        for (const w of waiters) w.reject(failure);
        continue;
      }
      deps.landed(hashes);
      for (const w of waiters) w.resolve();
    }
    writer = null;
  };

  const enqueue = (ops: EventDbOp[], sync: boolean, wait: boolean, hex?: string) => {
    if (hex !== undefined) queueHashes.push(hex);
    queue.push(...ops);
    if (sync) queueSync = true;
    const p = wait
      ? new Promise<void>((resolve, reject) => queueWaiters.push({ resolve, reject }))
      : Promise.resolve();
    if (writer === null) writer = drain();
    return p;
  };

  return {
    get failure() {
      return failure;
    },
    enqueue,
    async flush() {
      if (failure) throw failure;
      if (queue.length === 0 && writer === null) return;
      await enqueue([], false, true);
    },
  };
}
