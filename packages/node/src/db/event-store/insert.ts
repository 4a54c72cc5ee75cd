/**
 * Inserting an event (docs/PROTOCOL.md 9.1): synchronous, as
 * `EventStore.add` must be. It takes the next insertion index, updates the
 * in-memory state and queues the event's records (`e`, `s`, `c`, and `f`
 * when it lowers the creator's fork floor) as one group for the writer;
 * until that batch lands the event is served from memory.
 */
import type { WireEvent } from '@pos/gossip';
import { toHex, u64be } from '@pos/merkle';
import { assertLive, type StoreContext } from './context.js';
import { newCreatorState, recordEvent } from './creators.js';
import type { EventDbOp } from './types.js';

/**
 * Adds `ev` (its parents are present: the caller checks); returns the promise
 * of its batch, written with `sync: true` when `sync` (an own event). A
 * duplicate queues nothing but, with `sync`, a synced write of the `m` record.
 */
export function insertEvent(ctx: StoreContext, ev: WireEvent, sync: boolean): Promise<void> {
  assertLive(ctx);
  const { keys, state, creators, queue } = ctx;
  if (ctx.reader.has(ev.hash)) return sync ? queue.enqueue([], true, true) : Promise.resolve();
  const index = state.nextIndex++;
  const c = toHex(ev.creator);
  const ops: EventDbOp[] = [
    { type: 'put', key: keys.event(ev.hash), value: ev.bytes },
    { type: 'put', key: keys.order(index), value: ev.hash },
    { type: 'put', key: keys.creatorEntry(ev.creator, ev.seq, ev.hash), value: u64be(index) },
  ];
  let st = creators.get(c);
  if (st === undefined) {
    // Unknown at open, so every event of this creator is added from now on.
    st = newCreatorState();
    creators.set(c, st);
  }
  ctx.ring.record(index, ev.hash);
  if (recordEvent(st, ev, index, ctx.ring.size)) {
    ops.push({ type: 'put', key: keys.forkFloor(ev.creator), value: u64be(ev.seq) });
  }
  const hex = toHex(ev.hash);
  ctx.memory.pending.set(hex, ev);
  return queue.enqueue(ops, sync, sync, hex);
}
