/**
 * Expiry (docs/PROTOCOL.md 5.7): once round d is decided, block rounds are
 * > d, and a block of round b never orders an event of round < b - K. So live
 * events of rounds < d - K will never be ordered or voted on: they become
 * compact (no vectors, votes or parent links). Compact events stay findable
 * by hash for `forgetRounds` more rounds (default 10K), so that late children
 * still find their parents, then are forgotten, raising their creator's
 * forgotten horizon.
 */
import type { ConsensusEventInput } from '../types.js';
import { type EngineState, type Ev, FORKED } from './types.js';

/** Compacts and forgets what the last decided round puts out of reach. */
export function expire<E extends ConsensusEventInput>(st: EngineState<E>): void {
  const below = st.lastDecided - st.expireRounds;
  for (let q = st.expiredBelow; q < below; q++) {
    const info = st.rounds.get(q);
    if (info) {
      for (const e of info.events) compact(st, e);
      st.compactByRound.set(q, info.events);
      st.rounds.delete(q);
    }
    forgetRound(st, q - st.forgetRounds);
  }
  if (below > st.expiredBelow) st.expiredBelow = below;
}

/** Forgets the compact events of round q (kept `forgetRounds` rounds after compaction). */
function forgetRound<E extends ConsensusEventInput>(st: EngineState<E>, q: number): void {
  const old = st.compactByRound.get(q);
  if (!old) return;
  for (const e of old) {
    st.events.delete(e.key);
    if (e.seq > st.forgottenSeq[e.creator]!) st.forgottenSeq[e.creator] = e.seq;
    e.input = null;
    e.firstSelfChild = null;
    st.compactCount--;
  }
  st.compactByRound.delete(q);
}

/** Drops a live event's vectors, votes, masks and parent links, keeping its fork list. */
export function compact<E extends ConsensusEventInput>(st: EngineState<E>, e: Ev<E>): void {
  if (!e.live) return;
  const mask: number[] = [];
  const ls = e.laSeq!;
  const n = st.n;
  for (let c = 0; c < n; c++) if (ls[c] === FORKED) mask.push(c);
  e.forkMask = mask.length > 0 ? mask : null;
  e.la = null;
  e.laSeq = null;
  e.fd = null;
  e.votes = null;
  e.ssPrev = null;
  e.ssMask = null;
  e.selfParent = null;
  e.otherParent = null;
  e.live = false;
  st.liveCount--;
  st.compactCount++;
}
