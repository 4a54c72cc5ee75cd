/**
 * The node's event store on classic-level (docs/PROTOCOL.md 9.1; 9.3: the
 * `0x03` part of the node's database, and a restarted node resumes from
 * disk). It implements @pos/gossip's `EventStore` (docs/PROTOCOL.md 8) with
 * the same observable behaviour as `createMemoryEventStore` (same heads, same
 * `since` output and order). The code lives in `event-store/`; this module is
 * its entry.
 *
 * Layout (every key behind the optional `prefix`; integers big-endian u64;
 * `event-store/keys.ts`):
 *
 * ```
 * e ‖ hash(32)                       → event bytes (WireEvent.bytes)
 * s ‖ index(8)                       → hash          insertion order = topological order
 * c ‖ creator(32) ‖ seq(8) ‖ hash(32) → index(8)      per-creator index
 * f ‖ creator(32)                    → seq(8)        lowest seq this creator forked at
 * m                                  → nextIndex(8) ‖ pruneFloor(8)
 * ```
 *
 * Deviations from the first sketch of this layout, both deliberate: the `c`
 * value is the event's insertion index rather than empty (so `since` finds
 * where to start scanning `s` without a reverse lookup), and the `f` record
 * keeps the fork floor across restarts (below it a creator's chain is linear,
 * so `since` needs no ancestry walk there).
 *
 * Writes: `add` is synchronous (the interface requires it): it assigns the
 * next insertion index, updates the in-memory caches and queues the event's
 * records (`event-store/insert.ts`); a single writer drains the queue in
 * order, each drained group being one atomic `batch` (`event-store/write-queue.ts`:
 * all records of an event land together, and batches land in insertion
 * order, so the disk always holds a prefix of the insertion log: parents
 * before children). Until its batch resolves an event is served from
 * memory. {@link LevelEventStore.addOwn} awaits that batch, written with
 * classic-level's `sync: true` (fsync), before the caller may gossip it
 * (docs/PROTOCOL.md 9.1: a node persists its own event before gossiping it).
 *
 * Reads: `has` and `get` are synchronous through classic-level 3's `getSync`;
 * a bounded set of recently seen hashes spares `has` most disk reads
 * (`event-store/reads.ts`, `event-store/memory.ts`). `heads` is an in-memory
 * cache rebuilt on open from the top of each creator's `c` range
 * (`event-store/creators.ts`, `event-store/rebuild.ts`). `since` is
 * `event-store/since.ts`, near the tip answered from the recent index
 * (`event-store/recent-index.ts`); pruning is `event-store/prune.ts`.
 */

export { EventStoreError, type EventStoreErrorCode } from './event-store/errors.js';
export { openLevelEventStore } from './event-store/store.js';
export {
  defaultLevelEventStoreOpts,
  type EventDb,
  type EventDbOp,
  type LevelEventStore,
  type LevelEventStoreOpts,
} from './event-store/types.js';
