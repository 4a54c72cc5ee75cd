/**
 * `openLevelEventStore`: opens the parts of the store over one database
 * (docs/PROTOCOL.md 9.1 and 9.3; the module comment of `../event-store.ts`
 * states the layout, write ordering and fsync rule) and binds them into a
 * {@link LevelEventStore}.
 */
import { sha256Noble } from '@pos/merkle';
import type { StoreContext } from './context.js';
import { type Creators, headsOf } from './creators.js';
import { insertEvent } from './insert.js';
import { createEventKeys, encodeMeta } from './keys.js';
import { createEventMemory } from './memory.js';
import { pruneBelow } from './prune.js';
import { createEventReader } from './reads.js';
import { loadMeta, rebuildCreators } from './rebuild.js';
import { createRecentIndex } from './recent-index.js';
import { since } from './since.js';
import type { StoreState } from './state.js';
import {
  defaultLevelEventStoreOpts,
  type LevelEventStore,
  type LevelEventStoreOpts,
} from './types.js';
import { createWriteQueue } from './write-queue.js';

/**
 * Opens the event store over `db` and rebuilds its caches (docs/PROTOCOL.md
 * 9.3: a restarted node resumes from disk). Cost of the rebuild: per
 * creator, the top of its `c` range down to its 4 best childless events (one
 * event read per entry visited); a creator with many dead fork branches costs
 * more.
 */
export async function openLevelEventStore(opts: LevelEventStoreOpts): Promise<LevelEventStore> {
  return bindStore(await openContext(opts));
}

/** Creates the parts, then loads the counters and creator states from disk. */
async function openContext(opts: LevelEventStoreOpts): Promise<StoreContext> {
  const { db } = opts;
  const d = defaultLevelEventStoreOpts;
  const keys = createEventKeys(opts.prefix ?? new Uint8Array(0));
  const state: StoreState = { nextIndex: 0, pruneFloor: 0, closed: false };
  const memory = createEventMemory({
    cachedEvents: opts.cachedEvents ?? d.cachedEvents,
    recentHashes: opts.recentHashes ?? d.recentHashes,
  });
  const reader = createEventReader({ db, keys, memory, state, hash: opts.hash ?? sha256Noble });
  const queue = createWriteQueue({
    db,
    metaKey: keys.meta,
    metaValue: () => encodeMeta(state.nextIndex, state.pruneFloor),
    landed: (hexes) => memory.landed(hexes),
  });
  const creators: Creators = new Map();
  await loadMeta({ db, keys, reader }, state);
  await rebuildCreators({ db, keys, reader }, creators);
  // The recent index holds insertions from the open on (none from before).
  const ring = createRecentIndex(opts.recentIndex ?? d.recentIndex, state.nextIndex);
  return { db, keys, state, memory, reader, queue, creators, ring };
}

/** The store's methods over its parts. */
function bindStore(ctx: StoreContext): LevelEventStore {
  const { state, reader, queue } = ctx;
  return {
    has: (h) => reader.has(h),
    get: (h) => reader.get(h),
    add(ev) {
      void insertEvent(ctx, ev, false);
    },
    addOwn(ev) {
      try {
        return insertEvent(ctx, ev, true);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    heads: () => headsOf(ctx.creators),
    since: (known) => since(ctx, known),
    flush: () => queue.flush(),
    get nextIndex() {
      return state.nextIndex;
    },
    get pruneFloor() {
      return state.pruneFloor;
    },
    pruneBelow: (index) => pruneBelow(ctx, index),
    async close() {
      if (state.closed) return;
      try {
        await queue.flush();
      } finally {
        state.closed = true;
      }
    },
  };
}
