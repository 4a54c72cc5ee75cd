/**
 * Per-creator state of the event store, in memory (docs/PROTOCOL.md 9.1):
 * the tips that `heads` reports, the highest seq, the fork floor (below it
 * the creator's chain is linear, so `since` needs no ancestry walk there;
 * persisted as the `f` record) and, for the recent index, the lowest
 * insertion index of each recent seq.
 */
import { MAX_TIPS_PER_CREATOR, type Tip, type WireEvent } from '@pos/gossip';
import { equalBytes } from '@pos/merkle';

/** A tip and its insertion index (ties between equal seqs go to the older). */
export interface TipIx extends Tip {
  readonly index: number;
}

/** What the store knows of one creator. */
export interface CreatorState {
  /** Tips, highest seq first then lowest insertion index, at most MAX_TIPS_PER_CREATOR. */
  tips: TipIx[];
  maxSeq: number;
  /** Lowest seq at which two of its events share a seq; Infinity if it never forked. */
  forkFloor: number;
  /** Lowest insertion index of each seq, for every seq >= `seqFloor` (added since open). */
  seqIdx: Map<number, number>;
  seqFloor: number;
}

/** Creator states by hex public key. */
export type Creators = Map<string, CreatorState>;

/** Highest seq first, then lowest insertion index. */
export const byTipOrder = (a: TipIx, b: TipIx): number => b.seq - a.seq || a.index - b.index;

/** The state of a creator first seen after open: every event of it is added from now on. */
export function newCreatorState(): CreatorState {
  return {
    tips: [],
    maxSeq: -1,
    forkFloor: Number.POSITIVE_INFINITY,
    seqIdx: new Map(),
    seqFloor: 0,
  };
}

/**
 * Records a new event of this creator at insertion `index`, with a recent
 * index of `ringSize` entries. Returns true when the event lowers the fork
 * floor, so that the caller writes the `f` record.
 */
export function recordEvent(
  st: CreatorState,
  ev: WireEvent,
  index: number,
  ringSize: number,
): boolean {
  noteSeq(st, ev.seq, index, ringSize);
  // Parents are present, so a seq at or below the max means another event holds it.
  const forked = ev.seq <= st.maxSeq && ev.seq < st.forkFloor;
  if (forked) st.forkFloor = ev.seq;
  st.maxSeq = Math.max(st.maxSeq, ev.seq);
  pushTip(st, ev, index);
  return forked;
}

/** The lowest insertion index of `seq`, kept for at most `ringSize` seqs. */
function noteSeq(st: CreatorState, seq: number, index: number, ringSize: number): void {
  if (ringSize <= 0) {
    st.seqFloor = Number.POSITIVE_INFINITY;
    return;
  }
  if (!st.seqIdx.has(seq)) st.seqIdx.set(seq, index);
  if (st.seqIdx.size > ringSize) {
    // Oldest entry out (insertion order: ascending seq but for late forks).
    const old = st.seqIdx.keys().next().value!;
    st.seqIdx.delete(old);
    st.seqFloor = Math.max(st.seqFloor, old + 1);
  }
}

/** The event becomes a tip; its self-parent stops being one. */
function pushTip(st: CreatorState, ev: WireEvent, index: number): void {
  const parent = ev.selfParent;
  const tips = st.tips.filter((t) => parent === null || !equalBytes(t.hash, parent));
  tips.push({ seq: ev.seq, hash: ev.hash, index });
  tips.sort(byTipOrder);
  st.tips = tips.slice(0, MAX_TIPS_PER_CREATOR);
}

/** `EventStore.heads`: every creator with a tip left. */
export function headsOf(creators: Creators): Map<string, Tip[]> {
  const out = new Map<string, Tip[]>();
  for (const [c, st] of creators) {
    if (st.tips.length > 0)
      out.set(
        c,
        st.tips.map((t) => ({ seq: t.seq, hash: t.hash })),
      );
  }
  return out;
}

/** Drops pruned tips; a creator whose tips were all pruned stays known (left out of heads). */
export function dropPrunedTips(creators: Creators, pruneFloor: number): void {
  for (const st of creators.values()) st.tips = st.tips.filter((t) => t.index >= pruneFloor);
}

/**
 * The lowest insertion index among this creator's events with seq ≥
 * `fromSeq`, from memory, or undefined when memory cannot tell (`fromSeq`
 * below what the recent index holds).
 */
export function minIndexFromMemory(
  st: CreatorState,
  fromSeq: number,
  pruneFloor: number,
): number | undefined {
  if (fromSeq < st.seqFloor) return undefined;
  if (fromSeq > st.maxSeq) return Number.POSITIVE_INFINITY;
  if (pruneFloor === 0) return st.seqIdx.get(fromSeq);
  let min = Number.POSITIVE_INFINITY;
  for (const [seq, i] of st.seqIdx) if (seq >= fromSeq && i < min) min = i;
  return min;
}
