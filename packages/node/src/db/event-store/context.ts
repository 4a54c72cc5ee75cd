/**
 * The parts of one open event store, passed explicitly to the functions that
 * insert, serve `since` and prune (docs/PROTOCOL.md 9.1).
 */
import type { Creators } from './creators.js';
import type { EventKeys } from './keys.js';
import type { EventMemory } from './memory.js';
import type { EventReader } from './reads.js';
import type { RecentIndex } from './recent-index.js';
import { assertOpen, type StoreState } from './state.js';
import type { EventDb } from './types.js';
import type { WriteQueue } from './write-queue.js';

/** One open store: its database, layout, state, memory, reads, writer and indices. */
export interface StoreContext {
  readonly db: EventDb;
  readonly keys: EventKeys;
  readonly state: StoreState;
  readonly memory: EventMemory;
  readonly reader: EventReader;
  readonly queue: WriteQueue;
  readonly creators: Creators;
  readonly ring: RecentIndex;
}

/** Throws `CLOSED` after close, or the write failure after a failed batch. */
export function assertLive(ctx: StoreContext): void {
  assertOpen(ctx.state);
  if (ctx.queue.failure) throw ctx.queue.failure;
}
