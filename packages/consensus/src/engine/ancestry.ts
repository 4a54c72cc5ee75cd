/**
 * Ancestry (docs/PROTOCOL.md 5.2): answered from two per-event vectors
 * indexed by creator, never by walking sets.
 *
 * - `la[c]` / `laSeq[c]`: the latest ancestor by creator c (or FORKED when the
 *   event's ancestry holds a fork by c, which is absorbing: `sees` of docs/PROTOCOL.md 5.2);
 * - `fd[c]`: the lowest seq of creator c's events that descend from this one,
 *   filled in as descendants arrive (each (event, creator) pair is set once).
 *
 * With them `x sees y` is one comparison and `x strongly sees y` is one pass
 * over the creators. Forkers (rare, Byzantine) fall back to an exact check
 * through the branch tree of their events.
 */
import type { ConsensusEventInput } from '../types.js';
import { type EngineState, type Ev, FORKED, INF, NONE, type Table } from './types.js';

/** Whether (aSeq, aBranch) is a self-ancestor of, or equal to, (bSeq, bBranch) of creator c. */
export function selfAnc<E extends ConsensusEventInput>(
  st: EngineState<E>,
  c: number,
  aSeq: number,
  aBr: number,
  bSeq: number,
  bBr: number,
): boolean {
  const branches = st.creators[c]!.branches;
  let br = bBr;
  let limit = bSeq;
  while (br !== aBr) {
    const b = branches[br]!;
    if (b.parent < 0) return false;
    if (b.firstSeq - 1 < limit) limit = b.firstSeq - 1;
    br = b.parent;
  }
  return aSeq <= limit;
}

/** Whether y is an ancestor of x, given x's latest-ancestor vectors. */
export function isAncestor<E extends ConsensusEventInput>(
  st: EngineState<E>,
  xLa: (Ev<E> | null)[],
  xLaSeq: Int32Array,
  y: Ev<E>,
): boolean {
  const c = y.creator;
  const s = xLaSeq[c]!;
  if (s < 0) return false;
  if (!st.creators[c]!.forked && c !== st.pendingFork) return s >= y.seq;
  const l = xLa[c];
  // Null only for the own entry of an event being inserted without a
  // self-parent: it has no ancestor by its own creator.
  if (!l) return false;
  return selfAnc(st, c, y.seq, y.branch, l.seq, l.branch);
}

/** The brief's `sees` (docs/PROTOCOL.md 5.2): y is an ancestor of x and x has no fork by y's creator. */
export function sees<E extends ConsensusEventInput>(
  st: EngineState<E>,
  x: Ev<E>,
  y: Ev<E>,
): boolean {
  return isAncestor(st, x.la!, x.laSeq!, y);
}

/**
 * Docs/PROTOCOL.md 5.2: x strongly sees witness y of round q iff x sees y and
 * the creators of the events z with (x sees z, z sees y) hold a
 * supermajority of `T_q`. Given x sees y, z sees y reduces to "y is an
 * ancestor of z", and for a creator c without forks the z exists iff x's
 * latest c-ancestor is at or above y's first c-descendant. `self` is x's
 * creator: x itself is such a z for its own creator (x may not be inserted
 * yet, so its `fd` is unused).
 */
export function stronglySees<E extends ConsensusEventInput>(
  st: EngineState<E>,
  xLa: (Ev<E> | null)[],
  xLaSeq: Int32Array,
  self: number,
  y: Ev<E>,
  t: Table,
): boolean {
  if (!isAncestor(st, xLa, xLaSeq, y)) return false;
  const fd = y.fd;
  if (!fd) return false; // compacted: below every live round
  const n = st.n;
  if (t.safe) {
    let w = 0;
    let rest = t.total;
    for (let c = 0; c < n; c++) {
      const s = t.w[c]!;
      if (s === 0) continue;
      rest -= s;
      if (countsFor(st, xLa, xLaSeq, self, y, fd, c)) {
        w += s;
        if (3 * w > 2 * t.total) return true;
      } else if (3 * (w + rest) <= 2 * t.total) return false;
    }
    return false;
  }
  let wb = 0n;
  for (let c = 0; c < n; c++) {
    const s = t.big[c]!;
    if (s === 0n) continue;
    if (countsFor(st, xLa, xLaSeq, self, y, fd, c)) wb += s;
  }
  return 3n * wb > 2n * t.totalBig;
}

/** Whether creator c has an event z with (x sees z and y is an ancestor of z). */
function countsFor<E extends ConsensusEventInput>(
  st: EngineState<E>,
  xLa: (Ev<E> | null)[],
  xLaSeq: Int32Array,
  self: number,
  y: Ev<E>,
  fd: Int32Array,
  c: number,
): boolean {
  const s = xLaSeq[c]!;
  if (s < 0) return false;
  if (c === self) return true;
  if (!st.creators[c]!.forked) return s >= fd[c]!;
  const l = xLa[c]!;
  if (!l.la) return false; // compacted: older than any live witness
  return isAncestor(st, l.la, l.laSeq!, y);
}

/** Merges a parent's latest-ancestor vectors into x's (forks absorbing). */
export function mergeParent<E extends ConsensusEventInput>(
  st: EngineState<E>,
  la: (Ev<E> | null)[],
  laSeq: Int32Array,
  p: Ev<E> | null,
): void {
  if (!p) return;
  if (!p.laSeq) {
    // Compact parent: only itself and its recorded forks are known. Its
    // other ancestors are older than any live round (docs/PROTOCOL.md 5.7).
    mergeEntry(st, la, laSeq, p.creator, p, p.seq);
    for (const c of p.forkMask ?? []) {
      laSeq[c] = FORKED;
      la[c] = null;
    }
    return;
  }
  const pla = p.la!;
  const pls = p.laSeq;
  const n = st.n;
  for (let c = 0; c < n; c++) {
    const b = pls[c]!;
    if (b === NONE) continue;
    if (b === FORKED) {
      laSeq[c] = FORKED;
      la[c] = null;
      continue;
    }
    mergeEntry(st, la, laSeq, c, pla[c]!, b);
  }
}

/** Merges one (creator c, event e at seq s) entry: the later on one branch, FORKED across branches. */
function mergeEntry<E extends ConsensusEventInput>(
  st: EngineState<E>,
  la: (Ev<E> | null)[],
  laSeq: Int32Array,
  c: number,
  e: Ev<E>,
  s: number,
): void {
  const a = laSeq[c]!;
  if (a === FORKED) return;
  if (a === NONE) {
    laSeq[c] = s;
    la[c] = e;
    return;
  }
  const cur = la[c]!;
  if (cur === e) return;
  if (!st.creators[c]!.forked) {
    if (s > a) {
      laSeq[c] = s;
      la[c] = e;
    }
    return;
  }
  if (selfAnc(st, c, cur.seq, cur.branch, e.seq, e.branch)) {
    laSeq[c] = s;
    la[c] = e;
  } else if (!selfAnc(st, c, e.seq, e.branch, cur.seq, cur.branch)) {
    laSeq[c] = FORKED;
    la[c] = null;
  }
}

/** The entry a parent contributes for creator c (null if none or forked). */
export function ownEntry<E>(p: Ev<E>, c: number): Ev<E> | null {
  if (!p.laSeq) return p.creator === c ? p : null;
  return p.laSeq[c]! >= 0 ? p.la![c]! : null;
}

/** Number of FORKED entries of a `laSeq` vector: equal counts mean equal fork sets. */
export function countForked(laSeq: Int32Array, n: number): number {
  let forkCount = 0;
  for (let c = 0; c < n; c++) if (laSeq[c] === FORKED) forkCount++;
  return forkCount;
}

/**
 * First descendants (docs/PROTOCOL.md 5.2): for x just committed, walk each
 * creator's chain down from x's latest ancestor until an event already has
 * one by x's creator (all below it do too). Each (event, creator) pair is
 * written once: O(N) amortized per event.
 */
export function markFirstDescendants<E extends ConsensusEventInput>(
  st: EngineState<E>,
  x: Ev<E>,
): void {
  const cx = x.creator;
  const seq = x.seq;
  const la = x.la!;
  const laSeq = x.laSeq!;
  const n = st.n;
  for (let c = 0; c < n; c++) {
    if (c === cx || laSeq[c]! < 0) continue;
    let e = la[c] ?? null;
    while (e?.fd && e.fd[cx] === INF) {
      e.fd[cx] = seq;
      e = e.selfParent;
    }
  }
}
