/**
 * The sync of the simulator (docs/PROTOCOL.md 8): node A pulls from peer B
 * the events B knows that A lacks, parents first; the network may duplicate
 * and reorder them; the forker shows each half of the network one branch.
 */
import { keyOf } from '../bytes.js';
import type { SimEvent } from './events.js';
import { pruneHeld, receive, retryHeld } from './inbox.js';
import { type NodeState, type SimWorld, silentNow } from './world.js';

/** Compact known-list prefixes once this many entries were offered to every peer. */
const COMPACT_KNOWN = 4096;

/** The forker shows branch `groupOf(peer)` to that peer; honest nodes' groups are fixed halves. */
export const groupOf = (i: number): 0 | 1 => (i % 2) as 0 | 1;

/** The forker's tip for half g (both halves share one chain until its first fork). */
export const forkTip = (f: NodeState, g: 0 | 1): SimEvent | null => f.tips[g];

/** Has `node` got (or buffered, or held) the event? */
function holds(node: NodeState, x: SimEvent): boolean {
  const k = keyOf(x.hash);
  return node.cons!.has(x.hash) || node.buffer.has(k) || node.held.has(k);
}

/** Whether own event x of the forker is `tip` or a self-ancestor of it. */
function onChain(f: NodeState, tip: SimEvent | null, x: SimEvent): boolean {
  let cur = tip;
  while (cur && cur.seq > x.seq)
    cur = cur.selfParent ? (f.own.get(keyOf(cur.selfParent)) ?? null) : null;
  return cur !== null && keyOf(cur.hash) === keyOf(x.hash);
}

/**
 * The events B knows that A lacks, parents first (B's insertion order is
 * topological). The forker withholds its events that are not on the branch
 * it shows A's half of the network, and everything built on them; if that
 * would withhold the very tip it shows, it gives up hiding for this sync.
 * Its cursor stays at the first withheld event, so later syncs offer again
 * everything after it that A lacks, including events A has since forgotten
 * (expired): a replay of old, validly signed events, which a Byzantine peer
 * can always send and the engine must tolerate.
 */
export function offer(w: SimWorld, b: NodeState, a: NodeState): SimEvent[] {
  const ai = a.view.index;
  const start = Math.max(b.cursor[ai]!, b.knownBase);
  const end = b.knownBase + b.known.length;
  const out: SimEvent[] = [];
  let next = end;
  if (b.view.forker) next = offerHiding(b, a, start, end, out);
  else lacking(b, a, start, end, out);
  b.cursor[ai] = next;
  compactKnown(w, b);
  return out;
}

/** Appends to `out` the events of `b.known[start, end)` that A lacks. */
function lacking(b: NodeState, a: NodeState, start: number, end: number, out: SimEvent[]): void {
  for (let i = start; i < end; i++) {
    const x = b.known[i - b.knownBase]!;
    if (!holds(a, x)) out.push(x);
  }
}

/** `offer` for the forker: fills `out`; returns where A's cursor goes next. */
function offerHiding(
  b: NodeState,
  a: NodeState,
  start: number,
  end: number,
  out: SimEvent[],
): number {
  const tip = forkTip(b, groupOf(a.view.index));
  const skipped = new Set<string>();
  let next = end;
  for (let i = start; i < end; i++) {
    const x = b.known[i - b.knownBase]!;
    if (holds(a, x)) continue;
    const hidden =
      (x.creator === b.view.index && !onChain(b, tip, x)) ||
      (x.selfParent !== null && skipped.has(keyOf(x.selfParent))) ||
      (x.otherParent !== null && skipped.has(keyOf(x.otherParent)));
    if (hidden) {
      skipped.add(keyOf(x.hash));
      if (next === end) next = i; // offer it again next time
    } else out.push(x);
  }
  if (tip && skipped.has(keyOf(tip.hash))) {
    out.length = 0;
    lacking(b, a, start, end, out);
    next = end;
  }
  return next;
}

/** Drops the prefix of `known` that every node that pulls has been offered. */
function compactKnown(w: SimWorld, b: NodeState): void {
  let min = b.knownBase + b.known.length;
  for (const i of w.active) {
    if (i !== b.view.index && b.cursor[i]! < min && !silentNow(w, i)) min = b.cursor[i]!;
  }
  const drop = min - b.knownBase;
  if (drop >= COMPACT_KNOWN && drop * 2 >= b.known.length) {
    b.known = b.known.slice(drop);
    b.knownBase = min;
  }
}

/** A sync answer reaches A through the network: maybe duplicated, maybe reordered. */
export function deliver(w: SimWorld, a: NodeState, batch: readonly SimEvent[]): void {
  const o = w.o;
  const list: SimEvent[] = [];
  for (const x of batch) {
    list.push(x);
    if (o.duplicateProbability > 0 && w.rng.chance(o.duplicateProbability)) {
      list.push(x);
      a.counters.duplicatesDelivered++;
    }
  }
  if (o.reorder) w.rng.shuffle(list);
  a.counters.delivered += list.length;
  // Each node decodes its own copy off the wire; the engine keeps the object it is given.
  for (const x of list) receive(w, a, { ...x });
  // What waited for a table may go in now that this sync decided more.
  if (a.held.size > 0) retryHeld(w, a);
  if (a.buffer.size > 0) {
    // A sync answer is closed under parents, so what is still buffered waits
    // on parents this node once had and has forgotten (expired): drop it.
    a.counters.dropped += a.buffer.size;
    a.buffer.clear();
    a.waiting.clear();
  }
  if (a.held.size > 0) pruneHeld(a);
}

/**
 * The latest own event B shows A: its tip, or for the forker the tip of A's
 * half. A node that creates no events (not a member, or no more) shows the
 * latest event it holds by another creator: what a syncing non-validator
 * offers as the newest thing it knows.
 */
export function shownTip(w: SimWorld, b: NodeState, ai: number): SimEvent | null {
  if (b.view.forker) return forkTip(b, groupOf(ai));
  if (b.member && b.tip) return b.tip;
  if (!w.L) return b.tip;
  for (let i = b.known.length - 1; i >= 0; i--) {
    const x = b.known[i]!;
    if (x.creator !== ai) return x;
  }
  return null;
}
