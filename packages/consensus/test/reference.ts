/**
 * A deliberately simple, paper-literal reference of docs/PROTOCOL.md 5.2-5.6,
 * for cross-checking the engine (`src/engine.ts`). It takes the whole DAG at
 * once and computes everything from sets: ancestor sets, pairwise fork tests,
 * strongly-seeing by enumerating the intermediate events, votes by recursion.
 * Everything is memoized but nothing is clever: each definition below is the
 * rule's sentence written as code, so that a disagreement with the engine
 * points at the engine (or at an ambiguity in the rule worth writing down).
 * Quadratic and slow by design; for DAGs of a few hundred events.
 */
import { compareBytes, type HashFn, taggedHash } from '@pos/merkle';
import { hex } from '@pos/test-utils/node-hash';
import { drawLeader, isSupermajority, leaderSeed } from '../src/leader.js';
import type { ConsensusEventInput } from '../src/types.js';

/** Options, the same meaning as `ConsensusOpts` (nothing expires here). */
export interface ReferenceOpts {
  readonly validators: readonly Uint8Array[];
  /** `T_q` of docs/PROTOCOL.md 5.9: stake per creator index in round q. */
  readonly stakeTable: (round: number) => readonly bigint[];
  readonly initialSeed: Uint8Array;
  readonly hash: HashFn;
  /** Coin round frequency c; default 10. */
  readonly coinFrequency?: number;
  /** Default `hash("pos/tx" ‖ tx)`, as the engine's. */
  readonly txHash?: (tx: Uint8Array) => Uint8Array;
}

/** One block, as `DecidedBlock`. */
export interface ReferenceBlock<E extends ConsensusEventInput> {
  readonly round: number;
  readonly leader: E;
  readonly events: readonly E[];
  readonly transactions: readonly Uint8Array[];
  readonly timestamp: number;
  readonly seed: Uint8Array;
}

/** Everything the reference computes; maps are keyed by the event hash in hex. */
export interface ReferenceResult<E extends ConsensusEventInput> {
  readonly rounds: Map<string, number>;
  readonly generation: Map<string, number>;
  readonly witness: Set<string>;
  /** Witnesses only: `true`/`false` once decided, `null` while undecided. */
  readonly famous: Map<string, boolean | null>;
  /** Every round at or below this one is decided; -1 before the first. */
  readonly lastDecidedRound: number;
  readonly blocks: readonly ReferenceBlock<E>[];
  /**
   * Witnesses (hex) whose first decider in the paper's order (by round) and
   * first decider in the list order decide differently. Votes go on after a
   * decision, and with a fork they can drift (an honest witness that took
   * its round from a forker's event may strongly see too few witnesses and
   * flip its coin), so a later decider can disagree with an earlier one. An
   * engine that decides at the first decider it receives then depends on the
   * delivery order; a cross-check must not compare fame or blocks of such a
   * DAG. Rare: it needs the later decider to come first in the list.
   */
  readonly conflicts: readonly string[];
}

/**
 * docs/PROTOCOL.md 5.2-5.6 over a whole DAG given in a topological order (every parent
 * before its children). The order matters for one rule only: a witness that
 * comes after its round was decided (every witness of every round up to it
 * decided, among the events before it) is not famous.
 */
export function referenceConsensus<E extends ConsensusEventInput>(
  events: readonly E[],
  opts: ReferenceOpts,
): ReferenceResult<E> {
  const c = opts.coinFrequency ?? 10;
  const txHash = opts.txHash ?? ((tx: Uint8Array) => taggedHash('pos/tx', tx, opts.hash));
  const N = events.length;
  const index = new Map<string, number>();
  const sp: (number | null)[] = [];
  const op: (number | null)[] = [];
  events.forEach((e, i) => {
    const parent = (h: Uint8Array | null) => {
      if (h === null) return null;
      const j = index.get(hex(h));
      if (j === undefined)
        throw new Error(`reference: event ${i} has a parent not listed before it`);
      return j;
    };
    sp.push(parent(e.selfParent));
    op.push(parent(e.otherParent));
    if (index.has(hex(e.hash))) throw new Error(`reference: event ${i} is listed twice`);
    index.set(hex(e.hash), i);
  });
  const creator = (i: number) => events[i]!.creator;

  // --- stake tables -------------------------------------------------------
  const tables = new Map<number, readonly bigint[]>();
  const table = (q: number) => {
    let t = tables.get(q);
    if (!t) tables.set(q, (t = opts.stakeTable(q)));
    return t;
  };
  const stake = (q: number, who: number) => table(q)[who] ?? 0n;
  const total = (q: number) => table(q).reduce((a, b) => a + b, 0n);
  /** Stake of a set of creators in T_q: each creator once (docs/PROTOCOL.md 5.2). */
  const weight = (q: number, creators: Set<number>) => {
    let w = 0n;
    for (const k of creators) w += stake(q, k);
    return w;
  };

  // --- ancestry -----------------------------------------------------------
  // ancestors(x) includes x (docs/PROTOCOL.md 5.2).
  const anc: Set<number>[] = [];
  const selfAnc: Set<number>[] = [];
  for (let i = 0; i < N; i++) {
    const a = new Set<number>([i]);
    const s = new Set<number>([i]);
    const p = sp[i];
    const o = op[i];
    if (p != null) {
      for (const j of anc[p]!) a.add(j);
      for (const j of selfAnc[p]!) s.add(j);
    }
    if (o != null) for (const j of anc[o]!) a.add(j);
    anc.push(a);
    selfAnc.push(s);
  }

  /** docs/PROTOCOL.md 5.2: two events by one creator, neither a self-ancestor of the other. */
  const isFork = (a: number, b: number) =>
    a !== b && creator(a) === creator(b) && !selfAnc[a]!.has(b) && !selfAnc[b]!.has(a);

  const forkMemo = new Map<string, boolean>();
  /** Whether x has a fork by creator k among its ancestors. */
  const forkBy = (x: number, k: number): boolean => {
    const key = `${x},${k}`;
    let v = forkMemo.get(key);
    if (v === undefined) {
      const byK = [...anc[x]!].filter((j) => creator(j) === k);
      v = byK.some((a) => byK.some((b) => isFork(a, b)));
      forkMemo.set(key, v);
    }
    return v;
  };

  /** `x sees y`: y is an ancestor of x and x has no fork by y's creator among its ancestors. */
  const sees = (x: number, y: number) => anc[x]!.has(y) && !forkBy(x, creator(y));

  const round: number[] = [];
  const ssMemo = new Map<string, boolean>();
  /**
   * `x strongly sees y`: x sees y and the events z with (x sees z and z sees
   * y) have a supermajority of creators, in the table of y's round (section
   * 4: tests about witnesses of round q use T_q).
   */
  const stronglySees = (x: number, y: number): boolean => {
    const key = `${x},${y}`;
    let v = ssMemo.get(key);
    if (v === undefined) {
      v = false;
      if (sees(x, y)) {
        const creators = new Set<number>();
        for (const z of anc[x]!) if (sees(x, z) && sees(z, y)) creators.add(creator(z));
        const q = round[y]!;
        v = isSupermajority(weight(q, creators), total(q));
      }
      ssMemo.set(key, v);
    }
    return v;
  };

  // --- rounds and witnesses -------------------------------------------------
  const isWitness: boolean[] = [];
  const witnessesOf = (q: number, before: number) => {
    const out: number[] = [];
    for (let j = 0; j < before; j++) if (isWitness[j] && round[j] === q) out.push(j);
    return out;
  };
  for (let x = 0; x < N; x++) {
    const p = sp[x];
    const o = op[x];
    if (p == null && o == null) {
      round.push(0);
    } else {
      const r = Math.max(p == null ? 0 : round[p]!, o == null ? 0 : round[o]!);
      const creators = new Set<number>();
      for (const w of witnessesOf(r, x)) if (stronglySees(x, w)) creators.add(creator(w));
      round.push(isSupermajority(weight(r, creators), total(r)) ? r + 1 : r);
    }
    isWitness.push(p == null || round[x]! > round[p]!);
  }
  const witnesses = [...Array(N).keys()].filter((i) => isWitness[i]);

  // --- fame -----------------------------------------------------------------
  const voteMemo = new Map<string, boolean>();
  /** The W-tally of docs/PROTOCOL.md 5.4 for y (round r+d, d >= 2) about x. */
  const tally = (y: number, x: number) => {
    const q = round[y]! - 1;
    const yes = new Set<number>();
    const no = new Set<number>();
    for (const w of witnesses) {
      if (round[w] !== q || !stronglySees(y, w)) continue;
      (vote(w, x) ? yes : no).add(creator(w));
    }
    const ys = weight(q, yes);
    const ns = weight(q, no);
    const v = ys >= ns; // a tie votes true
    const t = v ? ys : ns; // = max(yes, no)
    return { v, super: 3n * t > 2n * total(q) };
  };
  /** `vote(y, x)` for witnesses x of round r and y of round r+d, d >= 1. */
  function vote(y: number, x: number): boolean {
    const key = `${y},${x}`;
    let v = voteMemo.get(key);
    if (v === undefined) {
      const d = round[y]! - round[x]!;
      if (d === 1) {
        v = sees(y, x);
      } else {
        const t = tally(y, x);
        if (d % c !== 0 || t.super) v = t.v;
        else v = (events[y]!.signature[events[y]!.signature.length >> 1]! & 1) === 1;
      }
      voteMemo.set(key, v);
    }
    return v;
  }
  /** The value y decides x's fame to, if y decides it: a normal round with a supermajority. */
  const decision = (y: number, x: number): boolean | undefined => {
    const d = round[y]! - round[x]!;
    if (d < 2 || d % c === 0) return undefined;
    const t = tally(y, x);
    return t.super ? t.v : undefined;
  };

  // Paper order: the first decider by (round, list position) fixes the value.
  // decidedAt: the list position from which x counts as decided, which is
  // needed for the late-witness rule: the later of x itself and its first
  // decider in the list (a decider may come before x when it votes no).
  const fame = new Map<number, boolean | null>();
  const decidedAt = new Map<number, number>();
  const conflicts: string[] = [];
  const byRound = [...witnesses].sort((a, b) => round[a]! - round[b]! || a - b);
  /** Every round at or below this one is decided, among the events before `pos`; -1 if none. */
  const lastDecidedBefore = (pos: number) => {
    let maxRound = -1;
    for (let j = 0; j < pos; j++) maxRound = Math.max(maxRound, round[j]!);
    let r = -1;
    while (r + 1 <= maxRound) {
      const ws = witnessesOf(r + 1, pos);
      if (!ws.every((w) => (decidedAt.get(w) ?? Infinity) < pos)) break;
      r++;
    }
    return r;
  };
  for (const x of witnesses) {
    // docs/PROTOCOL.md 5.4 ("Late witnesses") as the engine states it: a
    // witness that arrives after its round was decided is not famous (the
    // decided rounds and their blocks never change).
    if (round[x]! <= lastDecidedBefore(x)) {
      fame.set(x, false);
      decidedAt.set(x, x);
      continue;
    }
    let value: boolean | null = null;
    let first = Infinity;
    let firstValue: boolean | null = null;
    for (const y of byRound) {
      if (round[y]! <= round[x]!) continue;
      const v = decision(y, x);
      if (v === undefined) continue;
      if (value === null) value = v;
      if (y < first) {
        first = y;
        firstValue = v;
      }
    }
    fame.set(x, value);
    if (value !== null) decidedAt.set(x, Math.max(x, first));
    if (value !== firstValue) conflicts.push(hex(events[x]!.hash));
  }
  const lastDecidedRound = lastDecidedBefore(N);

  // --- generations, leaders, blocks -----------------------------------------
  const generation: number[] = [];
  for (let i = 0; i < N; i++) {
    const p = sp[i];
    const o = op[i];
    generation.push(
      p == null && o == null
        ? 0
        : 1 + Math.max(p == null ? 0 : generation[p]!, o == null ? 0 : generation[o]!),
    );
  }

  const blocks: ReferenceBlock<E>[] = [];
  const ordered = new Set<number>();
  const txSeen = new Set<string>();
  let seedPrev = opts.initialSeed;
  let prevTimestamp: number | undefined;
  for (let r = 0; r <= lastDecidedRound; r++) {
    const famousOfR = witnesses.filter((w) => round[w] === r && fame.get(w) === true);
    const perCreator = new Map<number, number>();
    for (const w of famousOfR) perCreator.set(creator(w), (perCreator.get(creator(w)) ?? 0) + 1);
    // Candidates: famous witnesses whose creator has exactly one famous witness in r.
    const candidates = famousOfR
      .filter((w) => perCreator.get(creator(w)) === 1)
      .sort((a, b) => compareBytes(opts.validators[creator(a)]!, opts.validators[creator(b)]!));
    if (candidates.length === 0) continue; // no block; the seed carries over
    const seed = leaderSeed(r, seedPrev, opts.hash);
    const k = drawLeader(
      seed,
      candidates.map((w) => ({
        validatorId: opts.validators[creator(w)]!,
        stake: stake(r, creator(w)),
      })),
    );
    if (k === null) continue; // no candidate stake: no block either
    const leader = candidates[k]!;

    // Block r: the leader's ancestors in no earlier block, by (generation, hash).
    const members = [...anc[leader]!].filter((j) => !ordered.has(j));
    members.sort(
      (a, b) => generation[a]! - generation[b]! || compareBytes(events[a]!.hash, events[b]!.hash),
    );
    const transactions: Uint8Array[] = [];
    for (const j of members) {
      ordered.add(j);
      for (const tx of events[j]!.transactions ?? []) {
        const h = hex(txHash(tx));
        if (txSeen.has(h)) continue; // a tx whose hash was already ordered is skipped
        txSeen.add(h);
        transactions.push(tx);
      }
    }

    // Timestamp: the stake-weighted lower median of the candidates' timestamps
    // (the smallest t with stake(timestamp <= t) >= half), forced above the
    // previous block's.
    const byTime = [...candidates].sort((a, b) => events[a]!.timestamp - events[b]!.timestamp);
    const sum = candidates.reduce((s, w) => s + stake(r, creator(w)), 0n);
    let acc = 0n;
    let median = events[byTime[byTime.length - 1]!]!.timestamp;
    for (const w of byTime) {
      acc += stake(r, creator(w));
      if (2n * acc >= sum) {
        median = events[w]!.timestamp;
        break;
      }
    }
    const timestamp = prevTimestamp === undefined ? median : Math.max(median, prevTimestamp + 1);
    prevTimestamp = timestamp;

    blocks.push({
      round: r,
      leader: events[leader]!,
      events: members.map((j) => events[j]!),
      transactions,
      timestamp,
      seed,
    });
    seedPrev = events[leader]!.hash; // seed_prev = the previous leader's hash
  }

  const key = (i: number) => hex(events[i]!.hash);
  return {
    rounds: new Map(round.map((r, i) => [key(i), r])),
    generation: new Map(generation.map((g, i) => [key(i), g])),
    witness: new Set(witnesses.map(key)),
    famous: new Map([...fame].map(([i, f]) => [key(i), f])),
    lastDecidedRound,
    blocks,
    conflicts,
  };
}
