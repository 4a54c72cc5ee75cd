// Validator sets that change at epoch boundaries (proof of share,
// docs/PROTOCOL.md 5.9 and 6.5), over the simulator with a toy ledger per
// node: stake tables come from each node's own decided blocks, round r's table
// being the ledger after block s(r) = ⌊(r − LAG) / EPOCH⌋ · EPOCH and unknown
// (TABLE_PENDING) until that node has decided round s(r). Scenarios: a
// validator joins, a validator leaves (and may go silent), a large stake
// shift, and leader shares that follow the stakes across the boundary. Each
// checks safety (honest nodes' blocks are prefixes of one another),
// determinism (shuffled topological orders of the final DAG into a fresh
// engine that takes its tables from its own decided blocks give the same
// blocks) and liveness (blocks keep being decided for several epochs after
// the change).
//
// fast-check picks fresh seeds on every run; SIM_SCALE=k multiplies the runs.

import { sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createSim,
  encodeLedgerTx,
  generateDag,
  type LedgerReplay,
  replayWithLedger,
  type SimAction,
  type SimEvent,
  type SimLedgerOpts,
  type SimResult,
  SimRng,
  snapshotRound,
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

fc.configureGlobal({ includeErrorInReport: true });

/**
 * A topological order of `events`: each step takes a uniformly random ready
 * event (`rng`), or with `'newest'` the ready event created last, which
 * climbs to high rounds before the low ones are complete (so that tables are
 * asked for before their snapshot round is decided).
 */
function shuffledTopo(events: readonly SimEvent[], rng: SimRng | 'newest'): SimEvent[] {
  const key = (h: Uint8Array) => String.fromCharCode(...h);
  const children = new Map<string, SimEvent[]>();
  const pending = new Map<SimEvent, number>();
  const ready: SimEvent[] = [];
  for (const e of events) {
    let k = 0;
    for (const p of [e.selfParent, e.otherParent]) {
      if (!p) continue;
      k++;
      const list = children.get(key(p));
      if (list) list.push(e);
      else children.set(key(p), [e]);
    }
    pending.set(e, k);
    if (k === 0) ready.push(e);
  }
  const out: SimEvent[] = [];
  while (ready.length > 0) {
    let i = 0;
    if (rng === 'newest') {
      for (let j = 1; j < ready.length; j++) if (ready[j]!.id > ready[i]!.id) i = j;
    } else i = rng.below(ready.length);
    const e = ready[i]!;
    ready[i] = ready[ready.length - 1]!;
    ready.pop();
    out.push(e);
    for (const c of children.get(key(e.hash)) ?? []) {
      const k = pending.get(c)! - 1;
      pending.set(c, k);
      if (k === 0) ready.push(c);
    }
  }
  assert.is(out.length, events.length, 'a complete topological order');
  return out;
}

/** The first round whose table includes a ledger transaction applied in block round b. */
function effectiveRound(b: number, lag: number, epoch: number): number {
  return Math.ceil(Math.max(0, b) / epoch) * epoch + lag;
}

interface Scenario {
  /** Genesis stakes of every validator, registered at genesis or not. */
  readonly stakes: readonly bigint[];
  readonly genesisValidators: number;
  readonly actions: readonly SimAction[];
  readonly silentFrom?: Readonly<Record<number, number>>;
}

interface RunParams {
  readonly seed: number;
  readonly lag: number;
  readonly epoch: number;
  readonly reorder: boolean;
  readonly duplicateProbability: number;
  /** Steps each node's ledger takes to apply what its engine decided. */
  readonly applyDelay: number;
}

/** Epochs every running node must decide beyond the round where the last change took effect. */
const EPOCHS_AFTER = 3;
/** Steps run per chunk, and the most a scenario may take before its liveness check fails. */
const CHUNK = 250;
const MAX_STEPS = 8_000;

interface Outcome {
  readonly r: SimResult;
  readonly ledger: SimLedgerOpts;
  /** Per action: the block round where it was applied (the same on every node that applied it). */
  readonly appliedAt: readonly number[];
  /** The round from which the last action is in the tables. */
  readonly effective: number;
  readonly replay: LedgerReplay;
}

/**
 * Runs a scenario until every running node has decided EPOCHS_AFTER epochs
 * beyond the round where the last action took effect (the liveness check:
 * failing to get there within MAX_STEPS fails), then checks safety,
 * determinism and the ledgers' agreement. The coin frequency is LAG − 2, so
 * that a coin round and a normal round after it fall within the LAG − 1
 * voting rounds a snapshot round has before the DAG must wait for it
 * (docs/PROTOCOL.md 5.9).
 */
function runScenario(sc: Scenario, p: RunParams): Outcome {
  const ledger: SimLedgerOpts = {
    lag: p.lag,
    epoch: p.epoch,
    genesisValidators: sc.genesisValidators,
    actions: sc.actions,
    silentFrom: sc.silentFrom ?? {},
    applyDelay: p.applyDelay,
  };
  const coinFrequency = p.lag - 2;
  const sim = createSim({
    stakes: sc.stakes,
    seed: p.seed,
    hash: sha256,
    coinFrequency,
    reorder: p.reorder,
    duplicateProbability: p.duplicateProbability,
    ledger,
  });
  const nodes = sim.result().nodes;
  const silentAtEnd = (i: number) =>
    (ledger.silentFrom[i] ?? Number.POSITIVE_INFINITY) <= MAX_STEPS;
  const running = nodes.filter((nd) => !silentAtEnd(nd.index));
  let effective = Number.POSITIVE_INFINITY;
  let appliedAt: number[] = [];
  for (;;) {
    sim.run(CHUNK);
    // Where each action was applied, on a running node that applied them all.
    const full = running.find((nd) => nd.ledger!.history.length === sc.actions.length);
    if (full) {
      appliedAt = sc.actions.map((_, k) => full.ledger!.history.find((h) => h.nonce === k)!.round);
      effective = effectiveRound(Math.max(...appliedAt), p.lag, p.epoch);
      const target = effective + EPOCHS_AFTER * p.epoch;
      if (running.every((nd) => nd.consensus!.lastDecidedRound >= target)) break;
    }
    assert.ok(
      sim.stepsDone < MAX_STEPS,
      `liveness: after ${sim.stepsDone} steps the change takes effect at round ${effective}; decided: ${running.map((nd) => nd.consensus!.lastDecidedRound)}`,
    );
  }
  const r = sim.result();
  assertNoAnomalies(r);
  const all = r.nodes.filter((nd) => nd.consensus);
  // Safety: every node (the ones that went silent included: they were honest
  // until then) decided a prefix of one block sequence, and applied the same
  // ledger transactions at the same rounds.
  const seqs = all.map((nd) => nd.blocks.map(digest));
  for (const nd of all) assertWellFormed(nd.blocks, `node ${nd.index}`);
  assertPrefixes(seqs, 'nodes');
  assertPrefixes(
    all.map((nd) => nd.ledger!.history.map((h) => `${h.round}/${h.nonce}`)),
    'ledger histories',
  );
  // The tables every node used are the same: round by round, where known.
  const rounds = Math.max(...all.map((nd) => nd.consensus!.stats().maxRound));
  for (let q = 0; q <= rounds; q++) {
    const tables = all.map((nd) => nd.ledger!.table(q)).filter((t) => t !== undefined);
    for (const t of tables) assert.equal(t, tables[0], `round ${q}: one table`);
  }
  // Determinism: a fresh engine fed the whole DAG in other topological
  // orders (a shuffled one, and newest-first, which runs ahead of its
  // decisions and so waits for tables), taking its tables from its own
  // decided blocks, decides the same blocks (at least as many as any node),
  // with nothing left held.
  const params = { stakes: sc.stakes, seed: p.seed, hash: sha256, coinFrequency, ledger };
  const replay = replayWithLedger(params, shuffledTopo(r.events, new SimRng(p.seed ^ 0x5eed)));
  const again = replayWithLedger(params, shuffledTopo(r.events, 'newest'));
  for (const x of [replay, again]) {
    assert.is(x.stuck.length, 0, 'every event went in once its table was known');
    assert.is(x.dropped.length, 0, 'no event lost');
  }
  const want = replay.blocks.map(digest);
  assert.equal(again.blocks.map(digest), want, 'two orders, one block sequence');
  assertPrefixes([want, ...seqs], 'replay vs nodes');
  assert.ok(want.length >= Math.max(...seqs.map((s) => s.length)), 'the replay decided as much');
  return { r, ledger, appliedAt, effective, replay };
}

const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const paramsArb = fc.record({
  seed: seedArb,
  // LAG 4 and 5 can halt at a boundary (see the caveat test below); with 6
  // and 8 the simulator never has (docs/PROTOCOL.md 5.9).
  lag: fc.constantFrom(6, 8),
  epoch: fc.constantFrom(8, 12, 16),
  reorder: fc.boolean(),
  duplicateProbability: fc.constantFrom(0, 0.1),
  applyDelay: fc.constantFrom(0, 150),
});

/** Rounds of the events by `creator` in the replay. */
function roundsOf(o: Outcome, creator: number): number[] {
  return o.r.events.filter((e) => e.creator === creator).map((e) => o.replay.rounds.get(e.id)!);
}

// --- (a) a validator joins ----------------------------------------------------------

test('epochs (a): a validator registers, gets stake, and takes part from an epoch boundary on', () => {
  fc.assert(
    fc.property(paramsArb, fc.integer({ min: 150, max: 400 }), (p, at) => {
      const J = 4;
      const o = runScenario(
        {
          stakes: [20n, 40n, 25n, 15n, 0n],
          genesisValidators: 4,
          actions: [
            { atStep: at, by: 0, tx: { kind: 'register', validator: J } },
            { atStep: at, by: 1, tx: { kind: 'move', from: 1, to: J, amount: 25n } },
          ],
        },
        p,
      );
      const joiner = o.r.nodes[J]!;
      // Before its stake took effect it synced, probed, and created nothing.
      assert.ok(joiner.counters.idleTurns > 0, 'the joiner waited');
      assert.ok(joiner.counters.created > 0, 'then created events');
      // Its stake starts exactly at an epoch boundary plus LAG, on every node.
      assert.is((o.effective - p.lag) % p.epoch, 0);
      for (const nd of o.r.nodes) {
        assert.is(nd.ledger!.table(o.effective - 1)?.[J] ?? 0n, 0n, 'no stake before');
        assert.is(nd.ledger!.table(o.effective)?.[J], 25n, 'its stake from then on');
      }
      // None of its events is in a round where it had no stake.
      const rs = roundsOf(o, J);
      assert.ok(rs.length === joiner.counters.created && Math.min(...rs) >= o.effective);
      // And it counts: it leads blocks, and its events are ordered.
      const blocks = o.replay.blocks;
      assert.ok(
        blocks.some((b) => b.leader.creator === J),
        'the joiner leads',
      );
      assert.ok(blocks.some((b) => b.round > o.effective && b.events.some((e) => e.creator === J)));
    }),
    { numRuns: runs(2) },
  );
});

// --- (b) a validator leaves ---------------------------------------------------------

test('epochs (b): a validator whose stake moves away stops creating; silent or not, the rest goes on', () => {
  fc.assert(
    fc.property(paramsArb, fc.integer({ min: 150, max: 400 }), fc.boolean(), (p, at, silent) => {
      const L = 3;
      // The leaver holds 25% (< 1/3): the others stay live even while it is
      // silent and still in the tables.
      const o = runScenario(
        {
          stakes: [30n, 25n, 20n, 25n],
          genesisValidators: 4,
          // Submitted by the receiver, so it gets ordered whether the leaver is still there or not.
          actions: [{ atStep: at, by: 0, tx: { kind: 'move', from: L, to: 0, amount: 25n } }],
          ...(silent ? { silentFrom: { [L]: at } } : {}),
        },
        p,
      );
      const leaver = o.r.nodes[L]!;
      const rs = roundsOf(o, L);
      assert.ok(rs.length > 0 && Math.max(...rs) < o.effective, 'no event where it has no stake');
      for (const nd of o.r.nodes) {
        // (A silent leaver stopped before it decided that far.)
        const t = nd.ledger!.table(o.effective);
        if (t || !silent || nd.index !== L) assert.equal(t, [55n, 25n, 20n, 0n]);
      }
      if (!silent) {
        // It keeps syncing and deciding as a non-validator, creating nothing.
        assert.ok(leaver.counters.idleTurns > 0, 'probe stopped it');
        const target = o.effective + EPOCHS_AFTER * p.epoch;
        assert.ok(leaver.consensus!.lastDecidedRound >= target, 'it still follows the chain');
      }
      assert.ok(o.replay.blocks.every((b) => b.round < o.effective || b.leader.creator !== L));
    }),
    { numRuns: runs(2) },
  );
});

// --- (c) a large stake shift ----------------------------------------------------------

test('epochs (c): 60% of the stake moves from one validator to another across a boundary', () => {
  fc.assert(
    fc.property(paramsArb, fc.integer({ min: 150, max: 400 }), (p, at) => {
      // Before: 0 holds 65%, so {0, any other} is a supermajority and {1, 2, 3, 4}
      // is not; after: the same holds of 4.
      const o = runScenario(
        {
          stakes: [65n, 10n, 10n, 10n, 5n],
          genesisValidators: 5,
          actions: [{ atStep: at, by: 0, tx: { kind: 'move', from: 0, to: 4, amount: 60n } }],
        },
        p,
      );
      for (const nd of o.r.nodes) {
        assert.equal(nd.ledger!.table(o.effective - 1), [65n, 10n, 10n, 10n, 5n]);
        assert.equal(nd.ledger!.table(o.effective), [5n, 10n, 10n, 10n, 65n]);
      }
      // The leader draw follows: the heavy validator leads most blocks on each side.
      const count = (from: number, to: number) => {
        const c = [0, 0, 0, 0, 0];
        for (const b of o.replay.blocks)
          if (b.round >= from && b.round < to) c[b.leader.creator]!++;
        return c;
      };
      const before = count(0, o.effective);
      const after = count(o.effective, Number.POSITIVE_INFINITY);
      assert.ok(before[0]! > before[4]!, `before: ${before}`);
      assert.ok(after[4]! > after[0]!, `after: ${after}`);
    }),
    { numRuns: runs(2) },
  );
});

test('epochs: a node whose ledger applies blocks late holds events until its tables are known', () => {
  // TABLE_PENDING is rare while ledgers keep up: an event's creator had
  // decided its snapshot round, and whoever holds the event's ancestry
  // decides it too (docs/PROTOCOL.md 5.9). A node computes its tables
  // asynchronously, though; here every ledger applies decisions 150 steps
  // (~7 rounds) late, so engines meet rounds whose tables are pending: the
  // nodes hold those events (and skip creating), then insert them, and still
  // agree with each other and with a replay (runScenario's checks).
  const J = 4;
  const o = runScenario(
    {
      stakes: [20n, 40n, 25n, 15n, 0n],
      genesisValidators: 4,
      actions: [
        { atStep: 200, by: 0, tx: { kind: 'register', validator: J } },
        { atStep: 200, by: 1, tx: { kind: 'move', from: 1, to: J, amount: 25n } },
      ],
    },
    { seed: 1, lag: 6, epoch: 8, reorder: true, duplicateProbability: 0.1, applyDelay: 150 },
  );
  const held = o.r.nodes.map((nd) => nd.counters.heldTotal);
  assert.ok(held.reduce((a, b) => a + b, 0) > 0, `held per node: ${held}`);
  assert.ok(o.r.nodes[J]!.counters.created > 0, 'the joiner took part');
});

// --- the liveness caveat ----------------------------------------------------------------

test('epochs: the liveness caveat, recorded: with LAG 4 an undecided boundary round halts the DAG', () => {
  // Round s's witnesses have only the voters of rounds s+1 .. s+LAG−1 (three
  // here): events of round s+LAG need T_(s+LAG), the ledger after block s. An
  // election that needs a fourth voting round can then never end, on any
  // node. A single observer of a random DAG (built without tables) shows it:
  // everything from round s+LAG on stays held. docs/PROTOCOL.md 5.9.
  const n = 5;
  const lag = 4;
  const epoch = 8;
  const stakes = [10n, 17n, 24n, 31n, 38n];
  let halted = 0;
  for (let seed = 1; seed <= 3; seed++) {
    const dag = generateDag({ creators: n, events: 6_000, seed, hash: sha256, maxTxPerEvent: 0 });
    const ledger = { lag, epoch, genesisValidators: n };
    const x = replayWithLedger({ stakes, seed, hash: sha256, coinFrequency: 3, ledger }, dag);
    if (x.stuck.length === 0) continue;
    halted++;
    const s = Math.ceil((x.cons.lastDecidedRound + 1) / epoch) * epoch; // the boundary not decided
    assert.is(x.cons.stats().maxRound, s + lag - 1, 'nothing above round s + LAG − 1 went in');
    assert.ok(x.cons.lastDecidedRound < s);
    for (const e of x.stuck) assert.ok(!x.rounds.has(e.id));
  }
  assert.ok(halted > 0, 'LAG 4 halted (the three DAGs were picked to show it)');
});

// --- (d) leader shares follow stake across the boundary ---------------------------------

const OLD = [10n, 20n, 30n, 40n, 50n];
const NEW = [50n, 40n, 30n, 20n, 10n];

/**
 * One long single-observer DAG in which one event, half-way, carries two
 * ledger transactions that reverse the stake order. A fresh engine takes its
 * tables from its own decided blocks. As in sim.test.ts ("fairness"), leader
 * counts are kept over the rounds whose candidates are all validators: there
 * the draw is one sample of the stake shares of that round's table T_r, so
 * before the boundary the counts are multinomial with the old shares and
 * after it with the new ones.
 */
function shiftedLeaderCounts(seed: number, events: number) {
  const n = OLD.length;
  const lag = 8;
  const epoch = 16;
  const extraTxs = new Map([
    [
      Math.floor(events / 2),
      [
        encodeLedgerTx(0, { kind: 'move', from: 4, to: 0, amount: 40n }),
        encodeLedgerTx(1, { kind: 'move', from: 3, to: 1, amount: 20n }),
      ],
    ],
  ]);
  const dag = generateDag({ creators: n, events, seed, hash: sha256, maxTxPerEvent: 0, extraTxs });
  const ledger = { lag, epoch, genesisValidators: n, actions: [], silentFrom: {} };
  const index = new WitnessIndex<SimEvent>();
  const full: { round: number; leader: number }[] = [];
  // Fed in creation order, as the observer heard it (held events are retried).
  const x = replayWithLedger(
    { stakes: OLD, seed, hash: sha256, coinFrequency: 4, ledger },
    dag,
    (e, blocks, cons) => {
      index.add(cons, e);
      for (const b of blocks) {
        const cands = index.candidates(cons, b.round);
        assert.ok(cands.includes(b.leader), 'the leader is a candidate');
        if (cands.length === n) full.push({ round: b.round, leader: b.leader.creator });
      }
    },
  );
  assert.is(x.stuck.length, 0);
  // The change: applied once, in the tables from an epoch boundary plus LAG on.
  assert.is(x.ledger.history.length, 2);
  const effective = effectiveRound(x.ledger.history[1]!.round, lag, epoch);
  assert.is(snapshotRound(effective, lag, epoch) + lag, effective);
  assert.equal(x.ledger.table(effective - 1), OLD);
  assert.equal(x.ledger.table(effective), NEW);
  const before = new Array<number>(n).fill(0);
  const after = new Array<number>(n).fill(0);
  for (const f of full) (f.round < effective ? before : after)[f.leader]!++;
  return { before, after, effective, decided: x.cons.lastDecidedRound };
}

for (const seed of [1, 2]) {
  test(`epochs (d): leader shares follow the table across the boundary, chi-square at α = ${ALPHA} (seed ${seed})`, () => {
    const { before, after, effective, decided } = shiftedLeaderCounts(seed, 50_000);
    const nb = before.reduce((a, b) => a + b, 0);
    const na = after.reduce((a, b) => a + b, 0);
    // Enough draws on each side (every expected count ≥ 5, here ≥ 30).
    const why = `boundary ${effective}, decided ${decided}: ${nb} full rounds before, ${na} after`;
    assert.ok(nb >= 300 && na >= 300, why);
    const df = OLD.length - 1;
    // α is the chance that a draw in proportion to the round's table fails
    // one of these two checks; the threshold comes from the statistic's
    // distribution, whatever the sample size.
    const pBefore = chiSquareTail(pearson(before, OLD), df);
    const pAfter = chiSquareTail(pearson(after, NEW), df);
    assert.ok(pBefore > ALPHA, `before: ${before} vs ${OLD}, p = ${pBefore} (${why})`);
    assert.ok(pAfter > ALPHA, `after: ${after} vs ${NEW}, p = ${pAfter} (${why})`);
    // Power: each window clearly rejects the other window's shares, so a
    // draw that kept the old table (or used the new one early) would fail.
    assert.ok(chiSquareTail(pearson(before, NEW), df) < ALPHA, `power before: ${before}`);
    assert.ok(chiSquareTail(pearson(after, OLD), df) < ALPHA, `power after: ${after}`);
  });
}

test.run();
