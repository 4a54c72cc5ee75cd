/**
 * Contracts of the level event store (docs/PROTOCOL.md 9.1): the database it
 * needs, its options and the store it returns. The layout, write ordering
 * and fsync rule are stated in the module comment of `../event-store.ts`.
 */
import type { EventStore, KnownEntry, WireEvent } from '@pos/gossip';
import type { HashFn } from '@pos/merkle';

/** One write of a batch, in the `view` encodings. */
export type EventDbOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array };

/**
 * The part of a classic-level 3 database (or a sublevel of it) this store uses,
 * opened with `{ keyEncoding: 'view', valueEncoding: 'view' }`.
 */
export interface EventDb {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getSync(key: Uint8Array): Uint8Array | undefined;
  batch(ops: EventDbOp[], options?: { sync?: boolean }): Promise<void>;
  iterator(opts: {
    gte?: Uint8Array;
    lt?: Uint8Array;
    reverse?: boolean;
    limit?: number;
  }): AsyncIterable<[Uint8Array, Uint8Array]> & { close(): Promise<void> };
}

/** Options of {@link openLevelEventStore}. */
export interface LevelEventStoreOpts {
  /** An opened database with `view` key and value encodings. */
  db: EventDb;
  /** Namespace prepended to every key, so that the store can share a database. */
  prefix?: Uint8Array;
  /** Hash used to decode stored events (the event hash, docs/PROTOCOL.md 2). */
  hash?: HashFn;
  /** Size of the recent-hash cache that spares `has` a disk read. Default 65 536. */
  recentHashes?: number;
  /**
   * Decoded events kept in memory (most recently stored or read), so that
   * serving a sync page does not re-read and re-hash the DAG's tip from disk
   * on every pull. Default 8192.
   */
  cachedEvents?: number;
  /**
   * Insertion indices (and per creator, seqs) kept in memory, so that `since`
   * for a peer near the tip reads no LevelDB iterator: each awaited iterator
   * step costs a thread hand-off (~100 µs here). Default 16 384.
   */
  recentIndex?: number;
}

/**
 * Defaults of the sizes in {@link LevelEventStoreOpts} (docs/PROTOCOL.md 9.1
 * and 9.3 state the last two). A size of 0 or less turns that memory off.
 */
export const defaultLevelEventStoreOpts: Readonly<
  Required<Pick<LevelEventStoreOpts, 'recentHashes' | 'cachedEvents' | 'recentIndex'>>
> = Object.freeze({ recentHashes: 65_536, cachedEvents: 8192, recentIndex: 16_384 });

/** The node's disk-backed {@link EventStore}. */
export interface LevelEventStore extends EventStore {
  /**
   * The memory store's `since` (same events, same insertion order), read from
   * disk after waiting for queued writes. Cost: per creator one seek into its
   * `c` range for the lowest insertion index it may need (the whole range
   * above that seq once anything was pruned); per reported hash we hold, a
   * self-parent walk down to the creator's fork floor only (so a creator that
   * never forked costs no walk); then one scan of `s` from the lowest such
   * index, reading every event there, including ones the peer already has
   * (O(events inserted since the peer's oldest gap)). A lying summary (a
   * hash of another creator, or a seq that is not its hash's) can only make
   * it send more than the memory store, never less.
   */
  since(known: readonly KnownEntry[]): AsyncIterable<WireEvent>;
  /**
   * `add` the node's own event, then resolve once the batch holding it is
   * written with `sync: true` (docs/PROTOCOL.md 9.1: a node persists its own
   * event before gossiping it).
   */
  addOwn(ev: WireEvent): Promise<void>;
  /** Resolves when every queued write has landed (rejects with `WRITE_FAILED` if one failed). */
  flush(): Promise<void>;
  /** The insertion index the next new event gets (the count of events ever added). */
  readonly nextIndex: number;
  /** Lowest insertion index still stored (what {@link LevelEventStore.pruneBelow} left). */
  readonly pruneFloor: number;
  /**
   * Deletes every event whose insertion index is below `index` (all three of
   * its records), bounding the disk. Returns how many were deleted. Pruned
   * tips leave `heads`; a creator whose every event was pruned disappears from
   * it. After a restart `heads` is recomputed from what is left, which may
   * list an older childless branch that the live cache had already dropped.
   */
  pruneBelow(index: number): Promise<number>;
  /** Waits for queued writes and refuses further use; the caller closes the database. */
  close(): Promise<void>;
}
