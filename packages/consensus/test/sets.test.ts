// Unit tests of stake tables that change from round to round (docs/PROTOCOL.md
// 5.9): a pending table (`TABLE_PENDING`) changes nothing and is asked again,
// `addValidator` grows the creator universe mid-run, and `probe` makes every
// check of `insert` and gives its round without changing any state.

import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type Consensus,
  ConsensusError,
  type ConsensusOpts,
  createConsensus,
  type DecidedBlock,
} from '../src/index.js';
import {
  generateDag,
  makeSimEvent,
  type SimEvent,
  SimRng,
  simConsensusOpts,
  simValidatorIds,
} from '../src/sim.js';
import { digest, runs } from './sim-helpers.js';

fc.configureGlobal({ includeErrorInReport: true });

/** The error code `fn` throws ('none' if it returns). Anything but a ConsensusError is rethrown. */
function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConsensusError) return e.code;
    throw e;
  }
  return 'none';
}

/**
 * Everything an engine shows about itself and the given events, as one
 * string: equal strings before and after a call mean the call changed
 * nothing observable.
 */
function observe(c: Consensus<SimEvent>, events: readonly SimEvent[]): string {
  const latest: (string | null)[] = [];
  for (let i = 0; i < c.validatorCount; i++) {
    const l = c.latest(i);
    latest.push(l ? hex(l.hash) : null);
  }
  return JSON.stringify({
    stats: c.stats(),
    lastDecided: c.lastDecidedRound,
    validators: c.validatorCount,
    evidence: c.evidence().map((e) => [e.creator, hex(e.a.hash), hex(e.b.hash)]),
    latest,
    events: events.map((e) => {
      const i = c.info(e.hash);
      return [c.has(e.hash), i ? [i.round, i.generation, i.witness, i.famous, i.orderedIn] : null];
    }),
  });
}

/** Blocks of a fresh engine fed `events` in order (every event must insert). */
function reference(opts: ConsensusOpts<SimEvent>, events: readonly SimEvent[]): string[] {
  const c = createConsensus(opts);
  const out: string[] = [];
  for (const e of events) out.push(...c.insert(e).blocks.map(digest));
  return out;
}

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });

// --- TABLE_PENDING ---------------------------------------------------------------

test('TABLE_PENDING: the insert changes nothing, the table is asked again, the same event inserts later', () => {
  const stakes = [10n, 20n, 30n, 40n];
  const dag = generateDag({ creators: 4, events: 600, seed: 3, hash: sha256 });
  const base = simConsensusOpts({ stakes, seed: 3, hash: sha256 });
  const want = reference(base, dag);
  const GATE = 6;
  let open = false;
  let asked = 0;
  const c = createConsensus<SimEvent>({
    ...base,
    stakeTable: (r) => {
      if (r < GATE) return stakes;
      asked++;
      return open ? stakes : undefined;
    },
  });
  const got: string[] = [];
  const held: SimEvent[] = [];
  const heldKeys = new Set<string>();
  let refusals = 0;
  for (const e of dag) {
    const parentHeld = [e.selfParent, e.otherParent].some((q) => q && heldKeys.has(hex(q)));
    if (parentHeld) {
      held.push(e);
      heldKeys.add(hex(e.hash));
      continue;
    }
    const before = observe(c, dag);
    const askedBefore = asked;
    let res: ReturnType<typeof c.insert> | null = null;
    const k = code(() => {
      res = c.insert(e);
    });
    if (k === 'TABLE_PENDING') {
      refusals++;
      assert.is(observe(c, dag), before, 'a pending insert changes nothing');
      assert.ok(asked > askedBefore, 'the table was asked for');
      // Not cached: the next attempt (and a probe) asks again, and still changes nothing.
      assert.is(
        code(() => c.insert(e)),
        'TABLE_PENDING',
      );
      assert.is(
        code(() => c.probe(e)),
        'TABLE_PENDING',
      );
      assert.ok(asked >= askedBefore + 3, 'a pending answer is never cached');
      assert.is(observe(c, dag), before);
      held.push(e);
      heldKeys.add(hex(e.hash));
      continue;
    }
    assert.is(k, 'none');
    got.push(...res!.blocks.map(digest));
  }
  assert.ok(refusals > 0 && held.length > 100, `${refusals} refusals, ${held.length} held`);
  assert.ok(c.lastDecidedRound >= 1 && c.lastDecidedRound < GATE, 'decided below the gate only');
  // The table becomes known: the very same event objects go in, in order.
  open = true;
  for (const e of held) {
    const res = c.insert(e);
    assert.ok(res.inserted);
    got.push(...res.blocks.map(digest));
  }
  assert.ok(want.length > 20, `${want.length} blocks`);
  assert.equal(got, want, 'the same blocks as an engine that never waited');
});

/**
 * Feeds `dag` (creation order) into `c`, holding every event whose table is
 * pending (and its descendants), retrying the held ones in order whenever
 * `tick(t)`, run before step t, says tables may have become known; after the
 * last step `tick(Infinity)` and a final retry. Returns the blocks' digests
 * and how many were held.
 */
function feedHolding(
  c: Consensus<SimEvent>,
  dag: readonly SimEvent[],
  tick: (t: number) => boolean,
): { blocks: string[]; heldTotal: number; stuck: number } {
  const blocks: string[] = [];
  const held: SimEvent[] = [];
  const heldKeys = new Set<string>();
  let heldTotal = 0;
  const attempt = (e: SimEvent): boolean => {
    try {
      blocks.push(...c.insert(e).blocks.map(digest));
      return true;
    } catch (err) {
      if (err instanceof ConsensusError && err.code === 'TABLE_PENDING') return false;
      throw err;
    }
  };
  const retry = () => {
    for (let i = 0; i < held.length; i++) {
      const e = held[i]!;
      if ([e.selfParent, e.otherParent].some((q) => q && heldKeys.has(hex(q)))) continue;
      if (!attempt(e)) continue;
      held.splice(i--, 1);
      heldKeys.delete(hex(e.hash));
    }
  };
  dag.forEach((e, t) => {
    if (tick(t)) retry();
    const parentHeld = [e.selfParent, e.otherParent].some((q) => q && heldKeys.has(hex(q)));
    if (parentHeld || !attempt(e)) {
      held.push(e);
      heldKeys.add(hex(e.hash));
      heldTotal++;
    }
  });
  tick(Number.POSITIVE_INFINITY);
  retry();
  return { blocks, heldTotal, stuck: held.length };
}

test('TABLE_PENDING: any schedule of tables becoming known gives the same blocks (property)', () => {
  const arb = fc.record({
    seed: seedArb,
    n: fc.integer({ min: 3, max: 5 }),
    count: fc.integer({ min: 150, max: 350 }),
    forker: fc.boolean(),
    // Per round: the step at which its table becomes known (0: from the start).
    unlock: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 40 }),
  });
  let heldSomewhere = 0;
  fc.assert(
    fc.property(arb, (p) => {
      const rng = new SimRng(p.seed);
      const stakes = Array.from({ length: p.n }, () => BigInt(1 + rng.below(50)));
      const dag = generateDag({
        creators: p.n,
        events: p.count,
        seed: p.seed,
        hash: sha256,
        forker: p.forker ? 0 : null,
      });
      const base = simConsensusOpts({ stakes, seed: p.seed, hash: sha256 });
      let now = 0;
      const c = createConsensus<SimEvent>({
        ...base,
        stakeTable: (r) => (now >= p.unlock[r % p.unlock.length]! ? stakes : undefined),
      });
      const got = feedHolding(c, dag, (t) => {
        const changed = p.unlock.some((u) => u > now && u <= t);
        now = t;
        return changed;
      });
      heldSomewhere += got.heldTotal;
      assert.is(got.stuck, 0, 'everything went in once every table was known');
      assert.equal(got.blocks, reference(base, dag));
    }),
    { numRuns: runs(40) },
  );
  assert.ok(heldSomewhere > 0, 'some runs held events');
});

// --- addValidator -----------------------------------------------------------------

test('addValidator: 32-byte ids only, idempotent, and indexes in order of addition', () => {
  const ids = simValidatorIds(5, sha256);
  const c = createConsensus<SimEvent>({
    ...simConsensusOpts({ stakes: [1n, 1n], seed: 1, hash: sha256 }),
    validators: ids.slice(0, 2),
  });
  assert.is(c.validatorCount, 2);
  assert.is(
    code(() => c.addValidator(new Uint8Array(31))),
    'BAD_ARGUMENT',
  );
  assert.is(
    code(() => c.addValidator('x' as unknown as Uint8Array)),
    'BAD_ARGUMENT',
  );
  assert.is(c.validatorCount, 2, 'a refused id adds nothing');
  assert.is(c.addValidator(ids[0]!), 0, 'a genesis validator keeps its index');
  assert.is(c.addValidator(ids[3]!), 2);
  assert.is(c.addValidator(ids[2]!), 3);
  assert.is(c.addValidator(Uint8Array.from(ids[3]!)), 2, 'idempotent (by value)');
  assert.is(c.validatorCount, 4);
});

/**
 * Random gossip built live against `c`: creators 0..2 from the start,
 * creator 3 once `joined()` (it tries every turn; a refused try is skipped).
 * Each new event is probed, then inserted; returns the events and blocks.
 */
function gossipWithJoiner(
  c: Consensus<SimEvent>,
  steps: number,
  seed: number,
  onStep: (i: number) => void,
  tryJoiner: (e: SimEvent) => boolean,
) {
  const rng = new SimRng(seed);
  const last: (SimEvent | null)[] = [null, null, null, null];
  const events: SimEvent[] = [];
  const blocks: DecidedBlock<SimEvent>[] = [];
  let ts = 1_000;
  for (let i = 0; i < steps; i++) {
    onStep(i);
    const a = rng.below(4);
    let b = rng.below(3);
    if (b >= a) b++;
    const sp = last[a] ?? null;
    // The peer's latest, or another creator's when the peer has none yet.
    let op = last[b] ?? null;
    for (let k = 1; !op && k < 4; k++) if ((a + k) % 4 !== a) op = last[(a + k) % 4] ?? null;
    ts += 1 + rng.below(5);
    const e = makeSimEvent(
      {
        creator: a,
        seq: sp ? sp.seq + 1 : 0,
        selfParent: sp?.hash ?? null,
        otherParent: op?.hash ?? null,
        timestamp: ts,
        transactions: [Uint8Array.of(a, i & 255, i >> 8)],
      },
      events.length,
      sha256,
    );
    if (a === 3 && !tryJoiner(e)) continue;
    const probed = c.probe(e);
    const res = c.insert(e);
    assert.ok(res.inserted);
    const info = c.info(e.hash)!;
    assert.equal([info.round, info.witness], [probed.round, probed.witness], 'probe = insert');
    blocks.push(...res.blocks);
    events.push(e);
    last[a] = e;
  }
  return { events, blocks };
}

test('addValidator mid-run: NOT_A_VALIDATOR until a table gives it stake, then its events go in and lead', () => {
  const ids = simValidatorIds(4, sha256);
  const three = [10n, 20n, 30n];
  const four = [10n, 20n, 30n, 40n];
  const JOIN = 12; // first round whose table has validator 3
  const base = simConsensusOpts({ stakes: four, seed: 9, hash: sha256 });
  const table = (r: number) => (r >= JOIN ? four : three);
  const c = createConsensus<SimEvent>({ ...base, validators: ids.slice(0, 3), stakeTable: table });
  let added = false;
  const refusals: Record<string, number> = {};
  const { events, blocks } = gossipWithJoiner(
    c,
    2_500,
    9,
    () => {
      // The node registers the validator when it applies the registration's
      // block, rounds before the table that gives it stake is used.
      if (!added && c.stats().maxRound >= JOIN - 4) {
        const before = c.stats();
        assert.is(c.addValidator(ids[3]!), 3);
        added = true;
        assert.equal(c.stats(), before, 'adding a validator changes no statistic');
      }
    },
    (e) => {
      const before = observe(c, []);
      const k = code(() => c.probe(e));
      if (k === 'none') return true;
      refusals[k] = (refusals[k] ?? 0) + 1;
      // insert refuses it the same way, changing nothing.
      assert.is(
        code(() => c.insert(e)),
        k,
      );
      assert.is(observe(c, []), before);
      assert.ok(k === (added ? 'NOT_A_VALIDATOR' : 'BAD_EVENT'), k);
      return false;
    },
  );
  assert.ok((refusals.BAD_EVENT ?? 0) > 0, 'refused while unknown (creator out of range)');
  assert.ok((refusals.NOT_A_VALIDATOR ?? 0) > 0, 'refused while known but without stake');
  const byJoiner = events.filter((e) => e.creator === 3);
  assert.ok(byJoiner.length > 50, `${byJoiner.length} events by the new validator`);
  for (const e of byJoiner)
    assert.ok(c.info(e.hash) === undefined || c.info(e.hash)!.round >= JOIN);
  const led = blocks.filter((b) => b.leader.creator === 3).length;
  assert.ok(led > 0, 'the new validator leads some rounds');
  assert.ok(
    blocks.some((b) => b.events.some((e) => e.creator === 3)),
    'its events are ordered',
  );
  assert.ok(c.lastDecidedRound > JOIN + 20, `decided through round ${c.lastDecidedRound}`);
  // When the index was added does not matter: an engine that knew all four
  // from the start, and one that adds the fourth before any event, agree.
  const want = blocks.map(digest);
  assert.equal(reference({ ...base, stakeTable: table }, events), want);
  const early = createConsensus<SimEvent>({
    ...base,
    validators: ids.slice(0, 3),
    stakeTable: table,
  });
  early.addValidator(ids[3]!);
  const got: string[] = [];
  for (const e of events) got.push(...early.insert(e).blocks.map(digest));
  assert.equal(got, want);
});

test('addValidator widens live state: vectors, fork branches and converted tables, deciding as before', () => {
  // A forker among four validators; a fifth is added halfway, while events
  // whose vectors have the old width are live and the converted table (one
  // array for every round) is cached at the old width.
  const ids = simValidatorIds(5, sha256);
  const stakes = [10n, 20n, 30n, 40n];
  const cut = generateDag({ creators: 4, events: 900, seed: 4, hash: sha256, forker: 1 });
  const base = { ...simConsensusOpts({ stakes, seed: 4, hash: sha256 }), validators: ids };
  const c = createConsensus<SimEvent>({ ...base, validators: ids.slice(0, 4) });
  const got: string[] = [];
  const half = Math.floor(cut.length / 2);
  cut.forEach((e, i) => {
    if (i === half) {
      assert.is(c.addValidator(ids[4]!), 4);
      assert.is(c.validatorCount, 5);
    }
    got.push(...c.insert(e).blocks.map(digest));
  });
  const full = createConsensus<SimEvent>(base);
  const want: string[] = [];
  for (const e of cut) want.push(...full.insert(e).blocks.map(digest));
  assert.equal(got, want);
  assert.is(c.stats().forkers, full.stats().forkers);
  assert.ok(c.stats().forkers === 1 && want.length > 5, 'a fork and blocks');
});

// --- probe --------------------------------------------------------------------------

test('probe: the same codes as insert for each bad event, without verify, changing nothing', () => {
  const stakes = [1n, 1n, 0n];
  const c = createConsensus<SimEvent>({
    ...simConsensusOpts({ stakes, seed: 2, hash: sha256 }),
    verify: () => false,
  });
  const root = (creator: number, id: number) =>
    makeSimEvent(
      { creator, seq: 0, selfParent: null, otherParent: null, timestamp: 5, transactions: [] },
      id,
      sha256,
    );
  const a0 = root(0, 0);
  const b0 = root(1, 1);
  const dag = [a0, b0];
  // The verifier refuses everything: probe does not call it.
  assert.equal(c.probe(a0), { round: 0, witness: true });
  assert.is(
    code(() => c.insert(a0)),
    'BAD_SIGNATURE',
  );
  const ok = createConsensus<SimEvent>(simConsensusOpts({ stakes, seed: 2, hash: sha256 }));
  ok.insert(a0);
  ok.insert(b0);
  const mk = (f: Partial<SimEvent>): SimEvent => ({ ...a0, ...f });
  const good = makeSimEvent(
    {
      creator: 0,
      seq: 1,
      selfParent: a0.hash,
      otherParent: b0.hash,
      timestamp: a0.timestamp + 1,
      transactions: [],
    },
    99,
    sha256,
  );
  const cases: [string, SimEvent, string][] = [
    ['short hash', mk({ hash: new Uint8Array(31) }), 'BAD_EVENT'],
    ['creator out of range', { ...good, creator: 3 }, 'BAD_EVENT'],
    ['timestamp not above self-parent', { ...good, timestamp: a0.timestamp }, 'BAD_EVENT'],
    ['self-parent of another creator', { ...good, selfParent: b0.hash }, 'BAD_PARENT'],
    ['other-parent by the same creator', { ...good, otherParent: a0.hash }, 'BAD_PARENT'],
    ['unknown other-parent', { ...good, otherParent: sha256(Uint8Array.of(7)) }, 'MISSING_PARENT'],
    ['no stake', { ...good, creator: 2, seq: 0, selfParent: null }, 'NOT_A_VALIDATOR'],
  ];
  for (const [what, e, want] of cases) {
    const before = observe(ok, dag);
    assert.is(
      code(() => ok.probe(e)),
      want,
      what,
    );
    assert.is(observe(ok, dag), before, `${what}: probe changed nothing`);
    assert.is(
      code(() => ok.insert(e)),
      want,
      `${what}: insert agrees`,
    );
  }
  // A known event: its known round and witness flag.
  assert.equal(ok.probe(a0), { round: 0, witness: true });
  const probed = ok.probe(good);
  ok.insert(good);
  assert.equal(ok.probe(good), probed);
});

test('probe: matches insert on random DAGs with forks and changing membership, and changes nothing (property)', () => {
  const arb = fc.record({
    seed: seedArb,
    n: fc.integer({ min: 3, max: 6 }),
    count: fc.integer({ min: 100, max: 400 }),
    forker: fc.boolean(),
    // A creator whose stake is 0 in rounds [from, from + len): its events there are refused.
    out: fc.record({ who: fc.nat(), from: fc.integer({ min: 0, max: 12 }), len: fc.nat(12) }),
    expireRounds: fc.constantFrom(3, 6, 26),
  });
  fc.assert(
    fc.property(arb, (p) => {
      const rng = new SimRng(p.seed);
      const stakes = Array.from({ length: p.n }, () => BigInt(1 + rng.below(50)));
      const who = p.out.who % p.n;
      const without = stakes.map((s, i) => (i === who ? 0n : s));
      const dag = generateDag({
        creators: p.n,
        events: p.count,
        seed: p.seed,
        hash: sha256,
        forker: p.forker ? 1 : null,
      });
      const opts: ConsensusOpts<SimEvent> = {
        ...simConsensusOpts({ stakes, seed: p.seed, hash: sha256, expireRounds: p.expireRounds }),
        stakeTable: (r) => (r >= p.out.from && r < p.out.from + p.out.len ? without : stakes),
      };
      const probed = createConsensus(opts);
      const plain = createConsensus(opts);
      const got: string[] = [];
      const want: string[] = [];
      for (const e of dag) {
        const before = JSON.stringify([
          probed.stats(),
          probed.lastDecidedRound,
          probed.evidence().length,
        ]);
        let pr: { round: number; witness: boolean } | null = null;
        const pk = code(() => {
          pr = probed.probe(e);
        });
        const after = JSON.stringify([
          probed.stats(),
          probed.lastDecidedRound,
          probed.evidence().length,
        ]);
        assert.is(after, before, 'probe changes no statistic');
        let blocks: readonly DecidedBlock<SimEvent>[] = [];
        const ik = code(() => {
          blocks = probed.insert(e).blocks;
        });
        assert.is(pk, ik, 'probe and insert agree on refusing');
        let plainBlocks: readonly DecidedBlock<SimEvent>[] = [];
        assert.is(
          code(() => {
            plainBlocks = plain.insert(e).blocks;
          }),
          ik,
        );
        want.push(...plainBlocks.map(digest));
        got.push(...blocks.map(digest));
        if (ik === 'none') {
          const info = probed.info(e.hash);
          // (A stale arrival may already be forgotten: nothing to compare.)
          if (info) {
            assert.equal(pr, { round: info.round, witness: info.witness }, 'probe = insert');
            assert.equal(probed.probe(e), pr, 'a known event: its round');
          }
        }
      }
      // An engine that was probed before every insert decided exactly what one never probed did.
      assert.equal(got, want);
      assert.equal(probed.stats(), plain.stats());
    }),
    { numRuns: runs(40) },
  );
});

test.run();
