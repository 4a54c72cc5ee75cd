/**
 * Leaders and blocks (docs/PROTOCOL.md 5.5, 5.6): when round r is decided and
 * every round before it has been processed, draw the leader among its
 * candidates, then the block: the leader's unordered, non-stale ancestors by
 * (generation, hash), their transactions deduplicated, a stake-weighted
 * median timestamp.
 */
import { compareBytes } from '@pos/merkle';
import { keyOf } from '../bytes.js';
import { drawLeader, leaderSeed } from '../leader.js';
import type { ConsensusEventInput, DecidedBlock } from '../types.js';
import { expire } from './expiry.js';
import type { EngineState, Ev, RoundInfo, Table } from './types.js';

/**
 * Decides every round that can be, in order: a round is decided when all its
 * witnesses' fame is (docs/PROTOCOL.md 5.4), and each decision may expire
 * old rounds (5.7). Appends the blocks to `out`.
 */
export function decideRounds<E extends ConsensusEventInput>(
  st: EngineState<E>,
  out: DecidedBlock<E>[],
): void {
  for (;;) {
    const r = st.lastDecided + 1;
    const info = st.rounds.get(r);
    if (!info || info.witnesses.length === 0 || info.undecided > 0) return;
    const block = decideRound(st, info);
    st.lastDecided = r;
    if (block) out.push(block);
    expire(st);
  }
}

/** The block of a decided round, or null when it has none (no candidate: the seed carries over). */
function decideRound<E extends ConsensusEventInput>(
  st: EngineState<E>,
  info: RoundInfo<E>,
): DecidedBlock<E> | null {
  const r = info.round;
  const candidates = leaderCandidates(info);
  if (candidates.length === 0) return null;
  const t = info.table;
  const seed = leaderSeed(r, st.seedPrev, st.hash);
  const k = drawLeader(
    seed,
    candidates.map((w) => ({ validatorId: st.validators[w.creator]!, stake: t.big[w.creator]! })),
  );
  if (k === null) return null;
  const leader = candidates[k]!;
  st.seedPrev = leader.hash;
  const picked = blockEvents(st, leader, r);
  const txs = blockTransactions(st, picked, r);
  const timestamp = blockTimestamp(st, candidates, t);
  st.blocksTotal++;
  st.orderedTotal += picked.length;
  return {
    round: r,
    leader: leader.input!,
    events: picked.map((e) => e.input!),
    transactions: txs,
    timestamp,
    seed,
  };
}

/** Docs/PROTOCOL.md 5.5: the famous witnesses whose creator has exactly one famous witness. */
function leaderCandidates<E>(info: RoundInfo<E>): Ev<E>[] {
  const famousBy = new Map<number, number>();
  for (const w of info.witnesses) {
    if (w.famous) famousBy.set(w.creator, (famousBy.get(w.creator) ?? 0) + 1);
  }
  return info.witnesses.filter((w) => w.famous && famousBy.get(w.creator) === 1);
}

/**
 * Docs/PROTOCOL.md 5.6: the leader's ancestors in no earlier block and not
 * stale (round < r - K), marked ordered in round r, by (generation, hash).
 */
function blockEvents<E extends ConsensusEventInput>(
  st: EngineState<E>,
  leader: Ev<E>,
  r: number,
): Ev<E>[] {
  const staleBelow = r - st.expireRounds;
  const picked: Ev<E>[] = [];
  const stack: Ev<E>[] = [leader];
  leader.ordered = r;
  while (stack.length > 0) {
    const e = stack.pop()!;
    picked.push(e);
    for (const p of [e.selfParent, e.otherParent]) {
      if (p?.live && p.ordered < 0 && p.round >= staleBelow) {
        p.ordered = r;
        stack.push(p);
      }
    }
  }
  picked.sort((a, b) => a.gen - b.gen || compareBytes(a.hash, b.hash));
  return picked;
}

/**
 * Docs/PROTOCOL.md 5.6: the events' transactions in order, skipping one whose
 * hash a block of round >= r - K ordered; then drops older hashes from the
 * dedup window.
 */
function blockTransactions<E extends ConsensusEventInput>(
  st: EngineState<E>,
  picked: readonly Ev<E>[],
  r: number,
): Uint8Array[] {
  const orderedTx = st.orderedTx;
  const txs: Uint8Array[] = [];
  for (const e of picked) {
    for (const tx of e.input!.transactions ?? []) {
      const h = keyOf(st.txHash(tx));
      if (orderedTx.has(h)) continue;
      orderedTx.set(h, r);
      txs.push(tx);
    }
  }
  // Transaction dedup window: the same rounds as staleness (insertion order
  // of the map is round order, so the oldest are at the front).
  const staleBelow = r - st.expireRounds;
  for (const [h, round] of orderedTx) {
    if (round >= staleBelow) break;
    orderedTx.delete(h);
  }
  return txs;
}

/**
 * Docs/PROTOCOL.md 5.6: the stake-weighted lower median of the candidates'
 * timestamps (the first whose cumulative stake c has 2c >= total), raised to
 * the previous block's + 1 when not above it.
 */
function blockTimestamp<E extends ConsensusEventInput>(
  st: EngineState<E>,
  candidates: readonly Ev<E>[],
  t: Table,
): number {
  const byTs = candidates
    .map((w) => ({ ts: w.timestamp, s: t.big[w.creator]! }))
    .sort((a, b) => a.ts - b.ts);
  let total = 0n;
  for (const c of byTs) total += c.s;
  let cum = 0n;
  let median = byTs[byTs.length - 1]!.ts;
  for (const c of byTs) {
    cum += c.s;
    if (2n * cum >= total) {
      median = c.ts;
      break;
    }
  }
  const timestamp = median > st.prevBlockTs ? median : st.prevBlockTs + 1;
  st.prevBlockTs = timestamp;
  return timestamp;
}
