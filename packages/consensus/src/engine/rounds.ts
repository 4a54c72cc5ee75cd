/**
 * Rounds and witnesses (docs/PROTOCOL.md 5.3): x, whose parents' highest
 * round is r, is in round r + 1 iff it strongly sees round-r witnesses of a
 * supermajority of `T_r`'s stake. The shortcuts, all exact: start from the
 * parents' strongly-seen sets when the fork sets are equal, refuse early when
 * the creators reaching round r hold no supermajority, stop as soon as the
 * answer is known either way.
 */
import type { ConsensusEventInput } from '../types.js';
import { stronglySees } from './ancestry.js';
import type { EngineState, Ev, RoundInfo, Table } from './types.js';

/** The union of the parents' masks of round `info.round` (valid when fork sets are equal). */
export function inheritMask<E extends ConsensusEventInput>(
  info: RoundInfo<E>,
  forkCount: number,
  sp: Ev<E> | null,
  op: Ev<E> | null,
): Uint32Array {
  const mask = new Uint32Array((info.witnesses.length + 31) >>> 5);
  for (const p of [sp, op]) {
    if (!p || p.round !== info.round || !p.ssMask || p.forkCount !== forkCount) continue;
    const m = p.ssMask;
    for (let i = 0; i < m.length && i < mask.length; i++) mask[i]! |= m[i]!;
  }
  return mask;
}

/**
 * Whether x strongly sees round-r witnesses of a supermajority of creators
 * (docs/PROTOCOL.md 5.3), updating `mask` with what it checks. Witnesses
 * already in the mask are not checked again; the loop stops as soon as the
 * answer is known either way, so most events check only a few witnesses.
 */
export function advances<E extends ConsensusEventInput>(
  st: EngineState<E>,
  la: (Ev<E> | null)[],
  laSeq: Int32Array,
  self: number,
  info: RoundInfo<E>,
  mask: Uint32Array,
): boolean {
  const t = info.table;
  if (!t.safe) {
    // Totals above 2^51: exact bigint arithmetic, without the shortcuts.
    return supermajorityOf(stronglySeenWitnesses(st, la, laSeq, self, info), t);
  }
  if (!reachesRound(st, la, laSeq, self, info.round, t)) return false;
  const stamp = nextStamp(st);
  const twoS = 2 * t.total;
  const seen = stakeOfMasked(st, info.witnesses, mask, stamp, t.w);
  if (3 * seen > twoS) return true;
  const possible = addStakeOfOthers(st, info.witnesses, stamp, t.w, seen);
  if (3 * possible <= twoS) return false;
  return checkWitnesses(st, la, laSeq, self, info, mask, stamp, seen, possible);
}

/**
 * Cheap necessary condition: a strongly seen round-r witness needs a
 * supermajority of creators whose latest ancestor (which x sees) is in round
 * r, since only round-r events descend from round-r witnesses.
 */
function reachesRound<E extends ConsensusEventInput>(
  st: EngineState<E>,
  la: (Ev<E> | null)[],
  laSeq: Int32Array,
  self: number,
  round: number,
  t: Table,
): boolean {
  const stakes = t.w;
  const n = st.n;
  let reach = 0;
  for (let c = 0; c < n; c++) {
    if (laSeq[c]! < 0) continue;
    const l = la[c];
    if (c === self || (l && l.round >= round)) reach += stakes[c]!;
  }
  return 3 * reach > 2 * t.total;
}

/** A fresh marker stamp for `seenStamp` / `possibleStamp`. */
function nextStamp<E extends ConsensusEventInput>(st: EngineState<E>): number {
  if (st.stampCounter === 0x7fffffff) {
    // The markers are Int32: start over rather than wrap (after 2^31 calls).
    st.stampCounter = 0;
    st.seenStamp.fill(0);
    st.possibleStamp.fill(0);
  }
  return ++st.stampCounter;
}

/** Stake of the creators of the witnesses in `mask` (each once), marked in `seenStamp`. */
function stakeOfMasked<E extends ConsensusEventInput>(
  st: EngineState<E>,
  ws: readonly Ev<E>[],
  mask: Uint32Array,
  stamp: number,
  stakes: Float64Array,
): number {
  const seenStamp = st.seenStamp;
  let seen = 0;
  for (let i = 0; i < ws.length; i++) {
    if ((mask[i >>> 5]! >>> (i & 31)) & 1) {
      const c = ws[i]!.creator;
      if (seenStamp[c] !== stamp) {
        seenStamp[c] = stamp;
        seen += stakes[c]!;
      }
    }
  }
  return seen;
}

/**
 * `seen` plus the stake of the other witnesses' creators (each once, not seen
 * yet), marked in `possibleStamp`.
 */
function addStakeOfOthers<E extends ConsensusEventInput>(
  st: EngineState<E>,
  ws: readonly Ev<E>[],
  stamp: number,
  stakes: Float64Array,
  seen: number,
): number {
  const seenStamp = st.seenStamp;
  const possibleStamp = st.possibleStamp;
  let possible = seen;
  for (let i = 0; i < ws.length; i++) {
    const c = ws[i]!.creator;
    if (seenStamp[c] !== stamp && possibleStamp[c] !== stamp) {
      possibleStamp[c] = stamp;
      possible += stakes[c]!;
    }
  }
  return possible;
}

/**
 * Checks the witnesses not in `mask` one by one. `seen`: stake of creators
 * with a strongly seen witness (marked in seenStamp); `possible`: that plus
 * creators with a witness not refused yet.
 */
function checkWitnesses<E extends ConsensusEventInput>(
  st: EngineState<E>,
  la: (Ev<E> | null)[],
  laSeq: Int32Array,
  self: number,
  info: RoundInfo<E>,
  mask: Uint32Array,
  stamp: number,
  seen: number,
  possible: number,
): boolean {
  const ws = info.witnesses;
  const t = info.table;
  const stakes = t.w;
  const twoS = 2 * t.total;
  const seenStamp = st.seenStamp;
  for (let i = 0; i < ws.length; i++) {
    if ((mask[i >>> 5]! >>> (i & 31)) & 1) continue;
    const w = ws[i]!;
    const c = w.creator;
    if (seenStamp[c] === stamp) continue;
    if (stronglySees(st, la, laSeq, self, w, t)) {
      mask[i >>> 5]! |= 1 << (i & 31);
      seenStamp[c] = stamp;
      seen += stakes[c]!;
      if (3 * seen > twoS) return true;
    } else if (!hasOtherWitness(st, ws, i, c)) {
      possible -= stakes[c]!;
      if (3 * possible <= twoS) return false;
    }
  }
  return false;
}

/** Whether creator c (a forker) has another witness after index i in the list. */
function hasOtherWitness<E extends ConsensusEventInput>(
  st: EngineState<E>,
  ws: readonly Ev<E>[],
  i: number,
  c: number,
): boolean {
  if (!st.creators[c]!.forked) return false;
  for (let j = i + 1; j < ws.length; j++) if (ws[j]!.creator === c) return true;
  return false;
}

/** The witnesses of `info`'s round that x (given by its vectors) strongly sees. */
export function stronglySeenWitnesses<E extends ConsensusEventInput>(
  st: EngineState<E>,
  la: (Ev<E> | null)[],
  laSeq: Int32Array,
  self: number,
  info: RoundInfo<E>,
): Ev<E>[] {
  const out: Ev<E>[] = [];
  for (const w of info.witnesses) {
    if (stronglySees(st, la, laSeq, self, w, info.table)) out.push(w);
  }
  return out;
}

/** Whether the creators of `ws` hold a supermajority of `t` (each creator once). */
function supermajorityOf<E>(ws: readonly Ev<E>[], t: Table): boolean {
  // A creator cannot have two strongly seen witnesses in one round (seeing
  // both would be seeing its fork), but count each once regardless.
  const seen = new Set<number>();
  let w = 0n;
  for (const e of ws) {
    if (seen.has(e.creator)) continue;
    seen.add(e.creator);
    w += t.big[e.creator]!;
  }
  return 3n * w > 2n * t.totalBig;
}
