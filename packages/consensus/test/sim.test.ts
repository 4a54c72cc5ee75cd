// Property tests of the consensus engine over the deterministic simulator
// (src/sim.ts): safety, determinism, liveness, fairness of the leader draw,
// block timestamps under a clock an hour ahead, fork evidence, bounded memory.
//
// fast-check picks fresh seeds on every run (a failure prints the seed and
// path to replay it); the per-property numRuns keep the whole file at about
// 20 s on the 2-core AMD EPYC dev box (Node 20) when every property holds, well
// under 60 s (a failing property takes longer while fast-check shrinks it).
// SIM_SCALE=k multiplies every numRuns by k for a soak.

import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type Consensus,
  type ConsensusError,
  createConsensus,
  type DecidedBlock,
  defaultConsensusOpts,
} from '../src/index.js';
import {
  createSim,
  generateDag,
  makeSimEvent,
  runSim,
  type SimEvent,
  SimRng,
  simConsensusOpts,
  WitnessIndex,
} from '../src/sim.js';
import {
  ALPHA,
  assertNoAnomalies,
  assertPrefixes,
  assertWellFormed,
  chiSquareTail,
  digest,
  pearson,
  runs,
} from './sim-helpers.js';

// Put a failing property's error message in fast-check's report (uvu prints
// the message, not the error's cause, where fast-check puts it by default).
fc.configureGlobal({ includeErrorInReport: true });

/**
 * Inserts `order` into `cons`, calling `after(e, i)` after each insert, and
 * returns the blocks. An event whose parent was forgotten cannot be inserted
 * (MISSING_PARENT) and is dropped with its descendants, as a node's gossip
 * layer would drop it: docs/PROTOCOL.md 5.7 documents that a compact event is
 * forgotten K rounds after it expired (2K behind the decided round). That is
 * the only missing parent allowed: one that was inserted earlier and is at
 * least 2K rounds below the decided round, or one the engine ignored as
 * ancient (at or below its creator's forgotten horizon when it came).
 */
function feed(
  cons: Consensus<SimEvent>,
  order: readonly SimEvent[],
  expireRounds: number,
  after?: (e: SimEvent, i: number) => void,
): { blocks: DecidedBlock<SimEvent>[]; dropped: Set<string> } {
  const blocks: DecidedBlock<SimEvent>[] = [];
  const roundAt = new Map<string, number>();
  const dropped = new Set<string>();
  const ancient = new Set<string>();
  order.forEach((e, i) => {
    if ([e.selfParent, e.otherParent].some((q) => q && dropped.has(hex(q)))) {
      dropped.add(hex(e.hash));
      return;
    }
    let res: ReturnType<typeof cons.insert>;
    try {
      res = cons.insert(e);
    } catch (err) {
      assert.is((err as ConsensusError).code, 'MISSING_PARENT', (err as Error).message);
      for (const q of cons.missingParents(e)) {
        if (ancient.has(hex(q))) continue; // ignored here as ancient (below)
        const r = roundAt.get(hex(q));
        assert.ok(r !== undefined, 'a missing parent was inserted before');
        assert.ok(
          r + 2 * expireRounds <= cons.lastDecidedRound,
          `parent of round ${r} forgotten at decided round ${cons.lastDecidedRound}`,
        );
      }
      dropped.add(hex(e.hash));
      return;
    }
    if (res.ancient) {
      // Held back until its creator's horizon passed it (docs/PROTOCOL.md 5.7).
      ancient.add(hex(e.hash));
      return;
    }
    assert.ok(res.inserted, 'a new event is inserted');
    roundAt.set(hex(e.hash), cons.info(e.hash)!.round);
    blocks.push(...res.blocks);
    after?.(e, i);
  });
  return { blocks, dropped };
}

/** A fresh engine fed `events` in the given order (see `feed`). */
function replay(
  r: { stakes: readonly bigint[]; seed: number; expireRounds: number },
  events: readonly SimEvent[],
) {
  const cons = createConsensus(simConsensusOpts({ ...r, hash: sha256 }));
  return { cons, ...feed(cons, events, r.expireRounds) };
}

/**
 * Stakes with a faulty share strictly below a third: honest stakes as given,
 * then each faulty raw stake clamped so that 3 · Σ faulty < Σ all, i.e.
 * 2 · Σ faulty < Σ honest. Returns the faulty stakes in order.
 */
function clampFaulty(honest: readonly number[], raw: readonly number[]): number[] {
  const h = honest.reduce((a, b) => a + b, 0);
  let budget = Math.floor((h - 1) / 2);
  const out: number[] = [];
  raw.forEach((s, i) => {
    const left = raw.length - i - 1; // keep at least 1 for each later one
    const v = Math.max(1, Math.min(s, budget - left, Math.floor(budget / (left + 1)) || 1));
    out.push(v);
    budget -= v;
  });
  assert.ok(2 * out.reduce((a, b) => a + b, 0) < h, 'faulty stake below a third');
  return out;
}

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const honestArb = (min: number, max: number) =>
  fc.array(fc.integer({ min: 10, max: 100 }), { minLength: min, maxLength: max });

/** Places `faulty` stakes among `honest` ones at positions given by `rot`; returns stakes and faulty indexes. */
function layout(honest: readonly number[], faulty: readonly number[], rot: number) {
  const all = [...faulty, ...honest];
  const n = all.length;
  const stakes = new Array<bigint>(n);
  all.forEach((s, i) => {
    stakes[(i + rot) % n] = BigInt(s);
  });
  const faultyIdx = faulty.map((_, i) => (i + rot) % n);
  const honestIdx = honest.map((_, i) => (faulty.length + i + rot) % n);
  return { stakes, faultyIdx, honestIdx };
}

// --- (a) safety ----------------------------------------------------------------

const safetyArb = fc.record({
  seed: seedArb,
  honest: honestArb(3, 5),
  faultyRaw: fc.tuple(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 100 })),
  rot: fc.nat(),
  forkEvery: fc.integer({ min: 1, max: 6 }),
  reorder: fc.boolean(),
  duplicateProbability: fc.constantFrom(0, 0.1, 0.3),
  slow: fc.boolean(),
  expireRounds: fc.constantFrom(4, 26),
});
type SafetyCase = typeof safetyArb extends fc.Arbitrary<infer T> ? T : never;

/** The case's stakes, and whether it is the configuration of docs/PROTOCOL.md 5.7 "Limits". */
function safetyLayout(c: SafetyCase) {
  const l = layout(c.honest, clampFaulty(c.honest, c.faultyRaw), c.rot);
  const total = l.stakes.reduce((a, b) => a + b, 0n);
  // One validator above 2/3 of the stake with a short window (K = 4): rounds
  // advance with each of its events, so nodes fall more than K rounds apart
  // and old events are resent after some nodes forgot them.
  const limits = c.expireRounds < 26 && l.stakes.some((s) => 3n * s > 2n * total);
  return { ...l, limits };
}

/** Runs one safety case: honest nodes decide prefixes of one sequence, and so does a replay of every event in creation order. */
function checkSafety(c: SafetyCase): void {
  const { stakes, faultyIdx, honestIdx } = safetyLayout(c);
  const [forker, silent] = faultyIdx as [number, number];
  const r = runSim({
    stakes,
    seed: c.seed,
    steps: 700,
    hash: sha256,
    forker,
    forkEvery: c.forkEvery,
    silent: [silent],
    slow: c.slow ? [honestIdx[0]!] : [],
    slowParticipation: 0.5,
    reorder: c.reorder,
    duplicateProbability: c.duplicateProbability,
    expireRounds: c.expireRounds,
  });
  assertNoAnomalies(r);
  const seqs = r.honest.map((i) => r.nodes[i]!.blocks.map(digest));
  for (const i of r.honest) assertWellFormed(r.nodes[i]!.blocks, `node ${i}`);
  assertPrefixes(seqs, 'honest nodes');
  // Not vacuous: the honest nodes did decide blocks (liveness is tested below).
  assert.ok(Math.max(...seqs.map((s) => s.length)) >= 3, 'some blocks decided');
  // And a fresh engine given every event ever created, in creation order
  // (so running ahead of every honest node), agrees.
  const all = replay({ stakes, seed: c.seed, expireRounds: c.expireRounds }, r.events);
  assertPrefixes([all.blocks.map(digest), ...seqs], 'all events vs honest nodes');
}

test('safety: honest nodes decide prefixes of one block sequence (forker + silent < 1/3)', () => {
  fc.assert(fc.property(safetyArb, checkSafety), { numRuns: runs(25) });
});

// The Limits configuration of docs/PROTOCOL.md 5.7 (one validator above 2/3,
// K = 4), fixed cases that the random property above reaches only now and
// then. The first is the documented one (an engine running ahead of the
// honest nodes decided a different block 17); the second was found by the
// random property on 2026-12-07 (fast-check seed 1059923754): honest nodes 0
// and 1 decided different blocks 118, because a resent event that one of
// them had forgotten was taken there for a fork of its honest creator
// (fixed: an event at or below its creator's forgotten horizon is ancient).
const limitsCase = (o: Partial<SafetyCase>): SafetyCase => ({
  seed: 0,
  honest: [10, 67, 10],
  faultyRaw: [1, 1],
  rot: 0,
  forkEvery: 1,
  reorder: false,
  duplicateProbability: 0,
  slow: false,
  expireRounds: 4,
  ...o,
});

const limitsCases: [string, Partial<SafetyCase>][] = [
  ['10/67/10 + 1/1', {}],
  [
    '10/45/10 + 1/1, reordered (honest nodes differed at block 118)',
    { honest: [10, 45, 10], reorder: true },
  ],
  ['10/67/10 + 1/1, reordered, slow', { reorder: true, slow: true, seed: 3 }],
  [
    '5/80/5 + 1/1, reordered, duplicates',
    { honest: [5, 80, 5], reorder: true, duplicateProbability: 0.3, seed: 7 },
  ],
];
for (const [name, o] of limitsCases) {
  test(`safety, Limits configuration (5.7), K = 4: ${name}`, () => {
    const c = limitsCase(o);
    assert.ok(safetyLayout(c).limits);
    checkSafety(c);
  });
}

// --- (b) determinism ---------------------------------------------------------------

/**
 * A topological order of `events` driven by fast-check's choices: at each
 * step the choice picks one of the events whose parents are all placed.
 * `hold`, if given, is an event kept back with all its descendants until
 * everything else is placed: the latest it can legally arrive.
 */
function topoOrder(events: readonly SimEvent[], choices: readonly number[], hold: number | null) {
  const byKey = new Map(events.map((e) => [hex(e.hash), e]));
  const children = new Map<string, SimEvent[]>();
  const pending = new Map<SimEvent, number>();
  for (const e of events) {
    let k = 0;
    for (const p of [e.selfParent, e.otherParent]) {
      if (!p) continue;
      assert.ok(byKey.has(hex(p)), 'parents come first');
      k++;
      const list = children.get(hex(p));
      if (list) list.push(e);
      else children.set(hex(p), [e]);
    }
    pending.set(e, k);
  }
  const held = new Set<SimEvent>();
  if (hold !== null) {
    const stack = [events[hold % events.length]!];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (held.has(e)) continue;
      held.add(e);
      stack.push(...(children.get(hex(e.hash)) ?? []));
    }
  }
  const out: SimEvent[] = [];
  const place = (pool: SimEvent[], allowHeld: boolean) => {
    while (pool.length > 0) {
      const i = (choices[out.length % Math.max(1, choices.length)] ?? 0) % pool.length;
      const e = pool.splice(i, 1)[0]!;
      out.push(e);
      for (const c of children.get(hex(e.hash)) ?? []) {
        const k = pending.get(c)! - 1;
        pending.set(c, k);
        if (k === 0 && (allowHeld || !held.has(c))) pool.push(c);
      }
    }
  };
  place(
    events.filter((e) => pending.get(e) === 0 && !held.has(e)),
    false,
  );
  place(
    [...held].filter((e) => pending.get(e) === 0),
    true,
  );
  assert.is(out.length, events.length, 'a complete order');
  return out;
}

test('determinism: any topological order, with duplicates and forks, gives the same blocks', () => {
  const arb = fc
    .record({
      seed: seedArb,
      n: fc.integer({ min: 4, max: 6 }),
      count: fc.integer({ min: 150, max: 400 }),
      forker: fc.boolean(),
      forkEvery: fc.integer({ min: 1, max: 5 }),
      expireRounds: fc.constantFrom(3, 6, 26),
    })
    .chain((c) =>
      fc.record({
        c: fc.constant(c),
        choices: fc.array(fc.nat(), { minLength: 1, maxLength: c.count }),
        hold: fc.option(fc.nat(), { nil: null }),
        dups: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 40 }),
      }),
    );
  fc.assert(
    fc.property(arb, ({ c, choices, hold, dups }) => {
      const rng = new SimRng(c.seed);
      const stakes = Array.from({ length: c.n }, () => BigInt(1 + rng.below(50)));
      const events = generateDag({
        creators: c.n,
        events: c.count,
        seed: c.seed,
        hash: sha256,
        forker: c.forker ? 0 : null,
        forkEvery: c.forkEvery,
      });
      const p = { stakes, seed: c.seed, expireRounds: c.expireRounds };
      const want = replay(p, events);

      const order = topoOrder(events, choices, hold);
      const dupAt = new Map<number, number[]>();
      for (const [at, which] of dups) {
        const list = dupAt.get(at % order.length) ?? [];
        list.push(which);
        dupAt.set(at % order.length, list);
      }
      const cons = createConsensus(simConsensusOpts({ ...p, hash: sha256 }));
      const got = feed(cons, order, c.expireRounds, (e, i) => {
        for (const w of dupAt.get(i) ?? []) {
          // A copy of an event already inserted: a duplicate is free. (Only of
          // one the engine still knows: 2K rounds after its round an event is
          // forgotten, docs/PROTOCOL.md 5.7, and then it is not a duplicate.)
          let dup = order[w % (i + 1)]!;
          if (!cons.has(dup.hash)) dup = e;
          const again = cons.insert({ ...dup });
          assert.equal([again.inserted, again.blocks.length, again.evidence.length], [false, 0, 0]);
        }
      });
      assert.equal(got.blocks.map(digest), want.blocks.map(digest));
      const s = cons.stats();
      const t = want.cons.stats();
      assert.equal(
        [s.lastDecidedRound, s.blocksTotal, s.orderedEventsTotal],
        [t.lastDecidedRound, t.blocksTotal, t.orderedEventsTotal],
      );
      assert.is(s.insertedTotal + got.dropped.size, t.insertedTotal + want.dropped.size);
      const dropped = new Set([...got.dropped, ...want.dropped]);
      // The same forkers are found (unless a branch was dropped above).
      const forkers = cons.evidence().map((e) => e.creator);
      const wantForkers = want.cons.evidence().map((e) => e.creator);
      if (dropped.size === 0) assert.equal(forkers, wantForkers);
      if (c.forker && c.count >= 100) assert.ok(t.forkers === 1, 'the DAG holds a fork');
    }),
    { numRuns: runs(60) },
  );
});

// --- (c) liveness ------------------------------------------------------------------

test('liveness: with > 2/3 of the stake honest, every honest node keeps deciding', () => {
  const WINDOWS = 6;
  const WINDOW_STEPS = 300;
  // Over 150 seeds of this setup the fewest blocks any honest node decided in
  // 1,800 steps was 26 and the smallest per-window advance 2 rounds (runs of
  // N ≤ 7 make ~40 events per round); 10 blocks leaves room for unlucky seeds
  // while a stall of a few windows still fails.
  const MIN_BLOCKS = 10;
  const arb = fc.record({
    seed: seedArb,
    honest: honestArb(3, 6),
    silentRaw: fc.integer({ min: 1, max: 100 }),
    rot: fc.nat(),
    slow: fc.boolean(),
    reorder: fc.boolean(),
  });
  fc.assert(
    fc.property(arb, (c) => {
      const { stakes, faultyIdx, honestIdx } = layout(
        c.honest,
        clampFaulty(c.honest, [c.silentRaw]),
        c.rot,
      );
      const sim = createSim({
        stakes,
        seed: c.seed,
        hash: sha256,
        silent: faultyIdx,
        slow: c.slow ? [honestIdx[0]!] : [],
        slowParticipation: 0.3,
        reorder: c.reorder,
      });
      const nodes = sim.result().nodes;
      let last = honestIdx.map(() => -1);
      for (let w = 0; w < WINDOWS; w++) {
        sim.run(WINDOW_STEPS);
        const now = honestIdx.map((i) => nodes[i]!.consensus!.lastDecidedRound);
        // Window 0 is the warm-up: a slow node may not have synced since the
        // first decision (~150 steps in). In any later window of 300 steps it
        // gets ~15 turns (P(none) < 1e-6), and one sync brings it everything.
        if (w > 0) {
          now.forEach((d, k) => {
            assert.ok(d > last[k]!, `window ${w}: node ${honestIdx[k]} stuck at round ${d}`);
          });
        }
        last = now;
      }
      const r = sim.result();
      assertNoAnomalies(r);
      for (const i of honestIdx) {
        assert.ok(
          r.nodes[i]!.blocks.length >= MIN_BLOCKS,
          `node ${i}: ${r.nodes[i]!.blocks.length} blocks`,
        );
      }
    }),
    { numRuns: runs(15) },
  );
});

// --- (d) fairness of the leader draw ---------------------------------------------------

test('chi-square tail: matches the NIST/SEMATECH table (e-Handbook 1.3.6.7.4) at α = 0.001', () => {
  // Upper-tail critical values for α = 0.001: df 4 → 18.467, df 6 → 22.458, df 2 → 13.816.
  for (const [df, crit] of [
    [2, 13.816],
    [4, 18.467],
    [6, 22.458],
  ] as const) {
    assert.ok(Math.abs(chiSquareTail(crit, df) - 0.001) < 2e-6, `df ${df}`);
  }
});

/**
 * Runs one long single-observer DAG and counts, over the rounds whose
 * candidates are all N validators, how often each validator led. In such a
 * round the draw is one sample of `u = seed mod Σ stake` with the seed a
 * SHA-256 output nobody controls, so under the hypothesis "leaders are drawn
 * in proportion to stake" the counts are multinomial with the stake shares,
 * and Pearson's statistic is asymptotically chi-square with N − 1 degrees of
 * freedom. (Rounds with fewer candidates draw among fewer validators with
 * other shares; which rounds are full depends on the DAG's shape, not on the
 * seed's value, so keeping only full rounds does not bias the sample.)
 */
function leaderCounts(seed: number, stakes: readonly bigint[], events: number) {
  const n = stakes.length;
  const dag = generateDag({ creators: n, events, seed, hash: sha256, maxTxPerEvent: 0 });
  const cons = createConsensus(simConsensusOpts({ stakes, seed, hash: sha256 }));
  const index = new WitnessIndex<SimEvent>();
  const counts = new Array<number>(n).fill(0);
  let blocks = 0;
  for (const e of dag) {
    const res = cons.insert(e);
    index.add(cons, e);
    for (const b of res.blocks) {
      blocks++;
      const cands = index.candidates(cons, b.round);
      assert.ok(
        cands.some((x) => x === b.leader),
        'the leader is a candidate',
      );
      if (cands.length === n) counts[b.leader.creator]!++;
    }
  }
  return { counts, blocks, full: counts.reduce((a, b) => a + b, 0) };
}

for (const seed of [1, 2, 3]) {
  test(`fairness: leaders in proportion to stake, chi-square at α = ${ALPHA} (seed ${seed})`, () => {
    // Seven validators (6 degrees of freedom, even: the exact tail above applies).
    const stakes = [5n, 10n, 15n, 20n, 30n, 40n, 80n];
    const { counts, blocks, full } = leaderCounts(seed, stakes, 40_000);
    // Enough draws for the chi-square approximation (every expected count ≥ 5, here ≥ 20).
    assert.ok(full >= 500, `${full} full rounds of ${blocks} blocks`);
    const x = pearson(counts, stakes);
    const p = chiSquareTail(x, stakes.length - 1);
    // Why this is not a magic tolerance: α is the probability that a fair draw
    // fails this test; the threshold comes from the statistic's distribution
    // under fairness, whatever the sample size. Three fixed seeds: the chance
    // that a correct engine fails any of them is below 3 · α.
    assert.ok(p > ALPHA, `counts ${counts} over ${full} rounds: χ² = ${x.toFixed(2)}, p = ${p}`);
    // And the test has power: the same counts clearly reject a wrong share
    // (every validator equally likely), so a draw that ignored stake would fail.
    const uniform = stakes.map(() => 1n);
    assert.ok(chiSquareTail(pearson(counts, uniform), stakes.length - 1) < ALPHA, 'power');
  });
}

// --- (e) timestamps with a clock an hour ahead -----------------------------------------

const HOUR = 3_600_000;

/** The stake-weighted lower median: sort by timestamp, the first whose cumulative stake c has 2c ≥ Σ. */
function lowerMedian(cands: readonly SimEvent[], stakes: readonly bigint[]): number {
  const sorted = [...cands].sort((a, b) => a.timestamp - b.timestamp);
  const total = sorted.reduce((a, e) => a + stakes[e.creator]!, 0n);
  let cum = 0n;
  for (const e of sorted) {
    cum += stakes[e.creator]!;
    if (2n * cum >= total) return e.timestamp;
  }
  throw new Error('no candidates');
}

test('timestamps: a clock an hour ahead (< 1/3 stake) cannot move block time; time increases', () => {
  const arb = fc.record({
    seed: seedArb,
    honest: honestArb(3, 6),
    aheadRaw: fc.integer({ min: 1, max: 100 }),
    rot: fc.nat(),
    reorder: fc.boolean(),
  });
  let checked = 0;
  let notBelowHalf = 0;
  fc.assert(
    fc.property(arb, (c) => {
      const { stakes, faultyIdx } = layout(c.honest, clampFaulty(c.honest, [c.aheadRaw]), c.rot);
      const ahead = faultyIdx[0]!;
      const r = runSim({
        stakes,
        seed: c.seed,
        steps: 600,
        hash: sha256,
        clockAheadMs: { [ahead]: HOUR },
        reorder: c.reorder,
        recordCandidates: true,
      });
      assertNoAnomalies(r);
      for (const i of r.honest) {
        const node = r.nodes[i]!;
        let prev: number | null = null;
        node.blocks.forEach((b, k) => {
          const cands = node.candidates[k]!;
          assert.ok(
            cands.some((x) => hex(x.hash) === hex(b.leader.hash)),
            'leader among candidates',
          );
          // The rule itself (docs/PROTOCOL.md 5.6).
          const m = lowerMedian(cands, stakes);
          assert.is(b.timestamp, prev === null || m > prev ? m : prev + 1, `block ${b.round}`);
          // Strictly increasing.
          if (prev !== null) assert.ok(b.timestamp > prev);
          // The bound. With the liar holding less than half of the candidates'
          // stake, more than half of it is honest, so the honest candidates'
          // cumulative stake reaches half by the latest honest timestamp: the
          // lower median is at most that (and at least the earliest honest
          // one, as the liar runs ahead). The only other value a block takes
          // is prev + 1, when the median does not exceed the previous block's.
          const honestTs = cands.filter((x) => x.creator !== ahead).map((x) => x.timestamp);
          const liar = cands
            .filter((x) => x.creator === ahead)
            .reduce((a, x) => a + stakes[x.creator]!, 0n);
          const total = cands.reduce((a, x) => a + stakes[x.creator]!, 0n);
          checked++;
          if (2n * liar < total) {
            const hi = Math.max(...honestTs);
            assert.ok(
              b.timestamp <= Math.max(hi, (prev ?? -1) + 1),
              `block ${b.round} above honest range`,
            );
            assert.ok(b.timestamp < hi + HOUR / 2, 'nowhere near an hour ahead');
          } else notBelowHalf++;
          prev = b.timestamp;
        });
      }
    }),
    { numRuns: runs(20) },
  );
  // The liar is below a third of all stake; it reaches half of the candidates'
  // stake only in a round where more than a third of the stake has no famous
  // witness, which random gossip makes rare.
  assert.ok(checked > 0 && notBelowHalf * 20 <= checked, `${notBelowHalf} of ${checked} blocks`);
});

// --- fork evidence ----------------------------------------------------------------------

test('fork evidence: produced once per forker and reaching every honest node', () => {
  const arb = fc.record({
    seed: seedArb,
    honest: honestArb(3, 5),
    forkerRaw: fc.integer({ min: 1, max: 100 }),
    rot: fc.nat(),
    forkEvery: fc.integer({ min: 1, max: 8 }),
    reorder: fc.boolean(),
  });
  fc.assert(
    fc.property(arb, (c) => {
      const { stakes, faultyIdx } = layout(c.honest, clampFaulty(c.honest, [c.forkerRaw]), c.rot);
      const forker = faultyIdx[0]!;
      const r = runSim({
        stakes,
        seed: c.seed,
        steps: 500,
        hash: sha256,
        forker,
        forkEvery: c.forkEvery,
        reorder: c.reorder,
        duplicateProbability: 0.1,
      });
      assertNoAnomalies(r);
      const byKey = new Map(r.events.map((e) => [hex(e.hash), e]));
      const selfAncestor = (a: SimEvent, b: SimEvent) => {
        // Whether a is b or one of b's self-ancestors.
        let cur: SimEvent | undefined = b;
        while (cur && cur.seq > a.seq)
          cur = cur.selfParent ? byKey.get(hex(cur.selfParent)) : undefined;
        return cur !== undefined && hex(cur.hash) === hex(a.hash);
      };
      const forked = new Set(r.events.filter((e) => e.creator === forker).map((e) => e.seq)).size;
      assert.ok(forked < r.events.filter((e) => e.creator === forker).length, 'the forker forked');
      for (const i of r.honest) {
        const node = r.nodes[i]!;
        assert.is(node.evidence.length, 1, `node ${i}: evidence from inserts`);
        const ev = node.evidence[0]!;
        assert.is(ev.creator, forker);
        assert.equal(
          node.consensus!.evidence().map((e) => [e.creator, hex(e.a.hash), hex(e.b.hash)]),
          [[forker, hex(ev.a.hash), hex(ev.b.hash)]],
        );
        assert.ok(ev.a.creator === forker && ev.b.creator === forker);
        assert.not.ok(selfAncestor(ev.a, ev.b) || selfAncestor(ev.b, ev.a), 'a real fork');
      }
    }),
    { numRuns: runs(15) },
  );
});

// --- bounded memory ---------------------------------------------------------------------

for (const forker of [null, 0]) {
  test(`memory: live events stay bounded while inserts grow (${forker === null ? 'honest' : 'with a forker'})`, () => {
    const n = 8;
    const K = 6;
    const stakes = Array.from({ length: n }, (_, i) => BigInt(10 + 7 * i));
    const dag = generateDag({
      creators: n,
      events: 40_000,
      seed: 7,
      hash: sha256,
      forker,
      forkEvery: 10,
    });
    const cons = createConsensus(
      simConsensusOpts({ stakes, seed: 7, hash: sha256, expireRounds: K }),
    );
    const samples: number[] = [];
    dag.forEach((e, i) => {
      cons.insert(e);
      if (i % 500 === 499) samples.push(cons.stats().liveEvents);
    });
    const s = cons.stats();
    // Bound: docs/PROTOCOL.md 5.7 says live ≈ (K + undecided rounds) × events
    // per round. Events per round (ρ, measured over this run) grow like N log N
    // under random gossip, so the bound is stated in ρ: K rounds of decided
    // but unexpired events, 2 undecided rounds and the partly filled newest,
    // and a factor 2 for the spread of round sizes.
    const rho = s.insertedTotal / (s.maxRound + 1);
    const bound = 2 * (K + 3) * rho;
    const maxLive = Math.max(...samples);
    assert.ok(
      maxLive <= bound,
      `max live ${maxLive} > bound ${bound.toFixed(0)} (ρ ${rho.toFixed(1)})`,
    );
    assert.ok(s.insertedTotal >= 20 * bound, 'inserts grew far past the bound');
    // Not growing: the second half's peak is no more than the first half's plus a quarter.
    const half = samples.length >> 1;
    const first = Math.max(...samples.slice(2, half));
    const second = Math.max(...samples.slice(half));
    assert.ok(second <= 1.25 * first, `live events grow: ${first} then ${second}`);
    assert.ok(s.lastDecidedRound > 100, 'decided');
  });
}

// --- engine regressions the simulator found, shrunk by hand -------------------------------

/** Builds events by hand: `mk(creator, selfParent, otherParent, salt)`. */
function handDag() {
  let ts = 1000;
  let id = 0;
  return (c: number, sp: SimEvent | null, op: SimEvent | null, salt = 0): SimEvent =>
    makeSimEvent(
      {
        creator: c,
        seq: sp ? sp.seq + 1 : 0,
        selfParent: sp?.hash ?? null,
        otherParent: op?.hash ?? null,
        timestamp: ++ts,
        transactions: salt ? [Uint8Array.of(salt)] : [],
      },
      id++,
      sha256,
    );
}

test('regression: an event of a creator that forked, on one of its branches, inserts', () => {
  // A0 ← A1 and A0 ← A1' (the fork), B0 on A0, then A2 on A1 with B0: A2's
  // ancestry holds no fork, and computing its round must not crash.
  const mk = handDag();
  const a0 = mk(0, null, null);
  const a1 = mk(0, a0, null);
  const a1x = mk(0, a0, null, 1);
  const b0 = mk(1, null, a0);
  const a2 = mk(0, a1, b0);
  const cons = createConsensus(simConsensusOpts({ stakes: [1n, 1n], seed: 1, hash: sha256 }));
  for (const e of [a0, a1, a1x, b0]) cons.insert(e);
  assert.equal(
    cons.evidence().map((e) => e.creator),
    [0],
  );
  assert.ok(cons.insert(a2).inserted);
});

test('regression: replayed forgotten events are not forks and change no block', () => {
  // Any peer can resend old, validly signed events. Once the engine has
  // forgotten one (2K rounds, docs/PROTOCOL.md 5.7) it cannot know it is a
  // duplicate; it must not take it for a fork of its honest creator, crash,
  // or order differently from a node that never saw the replay.
  const K = 3;
  const mk = handDag();
  const rng = new SimRng(9);
  const tips: (SimEvent | null)[] = [null, null, null, null];
  const events: SimEvent[] = [];
  const gossip = () => {
    const a = rng.below(4);
    let b = rng.below(3);
    if (b >= a) b++;
    const e = mk(a, tips[a] ?? null, tips[b] ?? null);
    tips[a] = e;
    events.push(e);
  };
  for (let i = 0; i < 600; i++) gossip();
  const opts = {
    ...simConsensusOpts({ stakes: [1n, 1n, 1n, 1n], seed: 1, hash: sha256, expireRounds: K }),
    forgetRounds: K,
  };
  const plain = createConsensus(opts);
  const replayed = createConsensus(opts);
  let ancient = 0;
  const got: string[] = [];
  const want: string[] = [];
  let replays = 0;
  events.forEach((e, i) => {
    want.push(...plain.insert(e).blocks.map(digest));
    got.push(...replayed.insert(e).blocks.map(digest));
    // Every 50 events, resend every earlier event this engine has forgotten
    // and whose parents it still knows (the others it cannot take anyway).
    if (i % 50 === 49) {
      for (const old of events.slice(0, i)) {
        if (replayed.has(old.hash) || replayed.missingParents(old).length > 0) continue;
        replays++;
        const res = replayed.insert({ ...old });
        if (res.ancient) ancient++;
        else assert.ok(res.inserted, 'a resend the engine did not forget is a plain insert');
        got.push(...res.blocks.map(digest));
      }
    }
  });
  assert.ok(replays > 0, 'something was replayed');
  // Every resend of a forgotten event is ignored as ancient, roots included
  // (taken as new, a root was a second first event: a fork of its honest
  // creator on this engine alone).
  assert.is(ancient, replays);
  assert.ok(want.length > 20, 'blocks were decided');
  assert.equal(got, want);
  assert.is(replayed.stats().forkers, 0);
});

test('sim: deterministic in its options, different across seeds', () => {
  const opts = { stakes: [3n, 5n, 7n, 11n], steps: 300, hash: sha256, reorder: true, forker: 1 };
  const a = runSim({ ...opts, seed: 5 });
  const b = runSim({ ...opts, seed: 5 });
  const c = runSim({ ...opts, seed: 6 });
  assert.equal(
    a.events.map((e) => hex(e.hash)),
    b.events.map((e) => hex(e.hash)),
  );
  assert.not.equal(
    a.events.map((e) => hex(e.hash)),
    c.events.map((e) => hex(e.hash)),
  );
  // defaultConsensusOpts is what a run without expireRounds uses.
  assert.is(createSim({}).opts.expireRounds, defaultConsensusOpts.expireRounds);
});

test.run();
