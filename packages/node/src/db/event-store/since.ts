/**
 * `since` on disk (docs/PROTOCOL.md 9.1, and 8 for the sync rule it
 * serves): the memory store's answer, same events in the same insertion
 * order. Per creator the peer mentions: its highest seq M, the highest seq S
 * of its reported hashes that we hold, and (at or above the fork floor F)
 * the hashes that are self-ancestors of a reported hash we hold. An event of
 * that creator is sent iff seq > M, or (seq < F and seq > S), or (seq ≥ F
 * and it is not such an ancestor): exactly the memory store's rule, since
 * below F the chain is linear. A creator the peer does not mention sends
 * everything. The scan starts at the lowest insertion index any creator may
 * send, from the recent index when it reaches that far back, else from an
 * iterator over `s`.
 */
import type { KnownEntry, WireEvent } from '@pos/gossip';
import { equalBytes, fromHex, readU64be, toHex } from '@pos/merkle';
import { assertLive, type StoreContext } from './context.js';
import { type CreatorState, minIndexFromMemory } from './creators.js';

/** What the peer's summary says of one creator, and what we hold of it. */
interface Rule {
  maxSeq: number;
  heldSeq: number;
  floor: number;
  ancestors: Set<string>;
}

/** The peer's summary of one creator. */
interface PeerCreator {
  creator: Uint8Array;
  maxSeq: number;
  hashes: Uint8Array[];
}

/** `LevelEventStore.since` over `ctx` (module comment). */
export async function* since(
  ctx: StoreContext,
  known: readonly KnownEntry[],
): AsyncGenerator<WireEvent> {
  assertLive(ctx);
  await ctx.queue.flush();
  const { rules, start } = await plan(ctx, known);
  if (start === Number.POSITIVE_INFINITY) return;
  const { db, keys, reader, state } = ctx;
  const from = Math.max(start, state.pruneFloor);
  if (from >= ctx.ring.low(state.nextIndex)) {
    // Near the tip: the insertion order is in memory, the events mostly too.
    const end = state.nextIndex;
    for (let i = Math.max(from, state.pruneFloor); i < end; i++) {
      const h = ctx.ring.hashAt(i) ?? db.getSync(keys.order(i));
      if (h === undefined) continue; // pruned meanwhile
      const ev = reader.readSync(h);
      if (ev !== undefined && wanted(rules, ev)) yield ev;
    }
    return;
  }
  const it = db.iterator({
    gte: keys.order(Math.max(start, state.pruneFloor)),
    lt: keys.order(state.nextIndex),
  });
  try {
    for await (const [, h] of it) {
      const ev = await reader.readAsync(h);
      if (ev === undefined) continue; // pruned meanwhile
      if (wanted(rules, ev)) yield ev;
    }
  } finally {
    await it.close();
  }
}

/** The summary grouped by creator (hex). */
function byCreator(known: readonly KnownEntry[]): Map<string, PeerCreator> {
  const peer = new Map<string, PeerCreator>();
  for (const k of known) {
    const c = toHex(k.creator);
    const e = peer.get(c) ?? { creator: k.creator, maxSeq: -1, hashes: [] };
    e.maxSeq = Math.max(e.maxSeq, k.seq);
    e.hashes.push(k.hash);
    peer.set(c, e);
  }
  return peer;
}

/** The rule of every creator the peer mentions, and the insertion index to scan from. */
async function plan(
  ctx: StoreContext,
  known: readonly KnownEntry[],
): Promise<{ rules: Map<string, Rule>; start: number }> {
  const peer = byCreator(known);
  const rules = new Map<string, Rule>();
  let start = Number.POSITIVE_INFINITY;
  for (const [c, st] of ctx.creators) {
    const p = peer.get(c);
    if (p === undefined) {
      const m =
        minIndexFromMemory(st, 0, ctx.state.pruneFloor) ??
        (await minIndexFrom(ctx, fromHex(c, 32), 0));
      start = Math.min(start, m);
      continue;
    }
    const rule = await ruleFor(ctx, st, p);
    rules.set(c, rule);
    // Lowest seq that may be sent: above M, above S below F, or from F on.
    const fromSeq = Math.min(p.maxSeq + 1, rule.heldSeq + 1, rule.floor);
    if (fromSeq <= st.maxSeq) {
      const m =
        minIndexFromMemory(st, fromSeq, ctx.state.pruneFloor) ??
        (await minIndexFrom(ctx, p.creator, fromSeq));
      start = Math.min(start, m);
    }
  }
  return { rules, start };
}

/** The rule for a creator the peer mentions (module comment). */
async function ruleFor(ctx: StoreContext, st: CreatorState, p: PeerCreator): Promise<Rule> {
  const rule: Rule = { maxSeq: p.maxSeq, heldSeq: -1, floor: st.forkFloor, ancestors: new Set() };
  if (st.forkFloor === Number.POSITIVE_INFINITY) {
    // One chain here: the peer at maxSeq holds all of it up to there
    // (the memory store's rule; see EventStore.since).
    rule.heldSeq = p.maxSeq;
    return rule;
  }
  for (const h of p.hashes) await addAncestors(ctx, rule, p.creator, h);
  return rule;
}

/**
 * If we hold `h` and it is `creator`'s, raises the rule's held seq and adds
 * its self-ancestors down to the fork floor (stopping at one already added).
 */
async function addAncestors(
  ctx: StoreContext,
  rule: Rule,
  creator: Uint8Array,
  h: Uint8Array,
): Promise<void> {
  let cur = await ctx.reader.readAsync(h);
  if (cur === undefined || !equalBytes(cur.creator, creator)) return;
  rule.heldSeq = Math.max(rule.heldSeq, cur.seq);
  while (cur !== undefined && cur.seq >= rule.floor) {
    const hex = toHex(cur.hash);
    if (rule.ancestors.has(hex)) break;
    rule.ancestors.add(hex);
    cur = cur.selfParent ? await ctx.reader.readAsync(cur.selfParent) : undefined;
  }
}

/** Whether the peer lacks `ev` by its creator's rule (none: it lacks everything). */
function wanted(rules: Map<string, Rule>, ev: WireEvent): boolean {
  const rule = rules.get(toHex(ev.creator));
  return (
    rule === undefined ||
    ev.seq > rule.maxSeq ||
    (ev.seq < rule.floor ? ev.seq > rule.heldSeq : !rule.ancestors.has(toHex(ev.hash)))
  );
}

/**
 * Lowest insertion index among this creator's events with seq ≥ `fromSeq`,
 * from its `c` range. Without pruning every such event descends from one at
 * the lowest such seq, so that seq group alone is read; after a prune the
 * whole range is read.
 */
async function minIndexFrom(
  ctx: StoreContext,
  creator: Uint8Array,
  fromSeq: number,
): Promise<number> {
  const { db, keys, state } = ctx;
  const it = db.iterator({
    gte: keys.creatorFrom(creator, Math.max(0, fromSeq)),
    lt: keys.creatorHigh(creator),
  });
  let min = Number.POSITIVE_INFINITY;
  let firstSeq = -1;
  try {
    for await (const [k, v] of it) {
      const seq = keys.seqOf(k);
      if (firstSeq < 0) firstSeq = seq;
      if (state.pruneFloor === 0 && seq !== firstSeq) break;
      min = Math.min(min, readU64be(v, 0));
    }
  } finally {
    await it.close();
  }
  return min;
}
