/**
 * Pruning (docs/PROTOCOL.md 9.1 and 9.3, "The event store is never pruned on
 * disk yet": the node does not call it). Deletes all three records of every
 * event below an insertion index, in chunks of the `s` range, each chunk one
 * queued batch whose `m` record carries the raised prune floor.
 */
import { toHex } from '@pos/merkle';
import { assertLive, type StoreContext } from './context.js';
import { dropPrunedTips } from './creators.js';
import { EventStoreError } from './errors.js';
import type { EventDbOp } from './types.js';

/** Insertion indices per prune batch. */
const PRUNE_CHUNK = 1000;

/** `LevelEventStore.pruneBelow`: returns how many events were deleted. */
export async function pruneBelow(ctx: StoreContext, index: number): Promise<number> {
  assertLive(ctx);
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new EventStoreError('BAD_ARGUMENT', `prune index ${index}`);
  }
  const { state } = ctx;
  const to = Math.min(index, state.nextIndex);
  await ctx.queue.flush();
  let deleted = 0;
  for (let lo = state.pruneFloor; lo < to; lo += PRUNE_CHUNK) {
    const hi = Math.min(to, lo + PRUNE_CHUNK);
    const chunk = await pruneOps(ctx, lo, hi);
    deleted += chunk.deleted;
    state.pruneFloor = hi;
    await ctx.queue.enqueue(chunk.ops, false, true);
  }
  ctx.memory.forgetRecent();
  dropPrunedTips(ctx.creators, state.pruneFloor);
  return deleted;
}

/** The deletions of insertion indices [lo, hi), and how many events they remove. */
async function pruneOps(
  ctx: StoreContext,
  lo: number,
  hi: number,
): Promise<{ ops: EventDbOp[]; deleted: number }> {
  const { db, keys, reader, memory } = ctx;
  const ops: EventDbOp[] = [];
  let deleted = 0;
  const it = db.iterator({ gte: keys.order(lo), lt: keys.order(hi) });
  try {
    for await (const [k, h] of it) {
      const ev = await reader.readAsync(h);
      ops.push({ type: 'del', key: k });
      memory.cacheDelete(toHex(h));
      if (ev === undefined) continue;
      ops.push({ type: 'del', key: keys.event(h) });
      ops.push({ type: 'del', key: keys.creatorEntry(ev.creator, ev.seq, h) });
      deleted++;
    }
  } finally {
    await it.close();
  }
  return { ops, deleted };
}
