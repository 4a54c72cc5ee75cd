// Determinism under lag (issue 19, point 1; docs/PROTOCOL.md 5.7): engines
// fed the same events, each with its own delays of 0 to 10·K rounds and in
// its own shuffled order, decide the same blocks. What an engine compacts,
// forgets and ignores as ancient follows its own decided round, which lags
// differently on each; the blocks must not.
//
// The events come from the simulator (honest validators, a forker, a silent
// one, sometimes a slow one, with one validator above 2/3 of the stake among
// the configurations). Each engine draws, per event, a delay in rounds (most
// events none, some up to its bound), sorts the events by creation round plus
// delay, and inserts them through a buffer: an event whose parent has not
// come yet waits for it, as a node's gossip would fetch it.

import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  type Consensus,
  ConsensusError,
  createConsensus,
  type DecidedBlock,
} from '../src/index.js';
import { runSim, type SimEvent, SimRng, simConsensusOpts } from '../src/sim.js';
import { assertPrefixes, assertWellFormed, digest, runs } from './sim-helpers.js';

fc.configureGlobal({ includeErrorInReport: true });

interface Fed {
  readonly blocks: DecidedBlock<SimEvent>[];
  /** Events the engine said were ancient (at or below their creator's forgotten horizon). */
  ancient: number;
  /** Events still waiting for a parent at the end. */
  stuck: number;
}

/**
 * Inserts `order` into `cons` through a buffer keyed by missing parent: an
 * event refused with MISSING_PARENT waits until that parent is inserted (or
 * ignored as ancient), then is tried again. Any other refusal fails the test.
 */
function feedBuffered(cons: Consensus<SimEvent>, order: readonly SimEvent[]): Fed {
  const out: Fed = { blocks: [], ancient: 0, stuck: 0 };
  const waiting = new Map<string, SimEvent[]>();
  const tryInsert = (e: SimEvent): boolean => {
    try {
      const r = cons.insert(e);
      if (r.ancient) out.ancient++;
      out.blocks.push(...r.blocks);
      return true;
    } catch (err) {
      if (!(err instanceof ConsensusError) || err.code !== 'MISSING_PARENT') throw err;
      for (const q of cons.missingParents(e)) {
        const k = hex(q);
        const list = waiting.get(k);
        if (list) list.push(e);
        else waiting.set(k, [e]);
      }
      return false;
    }
  };
  for (const first of order) {
    const stack = [first];
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (!tryInsert(e)) continue;
      const k = hex(e.hash);
      const children = waiting.get(k);
      if (children) {
        waiting.delete(k);
        stack.push(...children);
      }
    }
  }
  const stuck = new Set<SimEvent>();
  for (const list of waiting.values()) for (const e of list) if (!cons.has(e.hash)) stuck.add(e);
  out.stuck = stuck.size;
  return out;
}

/** The round each event got in an engine fed every event in creation order: the time axis of the delays. */
function creationRounds(
  p: { stakes: readonly bigint[]; seed: number; expireRounds: number },
  events: readonly SimEvent[],
): Map<SimEvent, number> {
  const cons = createConsensus(simConsensusOpts({ ...p, hash: sha256 }));
  const at = new Map<SimEvent, number>();
  let last = 0;
  for (const e of events) {
    try {
      cons.insert(e);
    } catch {
      // Not placeable in creation order (a parent forgotten): it keeps the time of the event before it.
    }
    last = cons.info(e.hash)?.round ?? last;
    at.set(e, last);
  }
  return at;
}

/**
 * One engine's delivery order: per event a delay of 0 rounds, or with
 * probability `pLate` a uniform delay in [1, maxLagRounds]; sorted by creation
 * round plus delay, ties in a random order.
 */
function laggedOrder(
  events: readonly SimEvent[],
  at: Map<SimEvent, number>,
  maxLagRounds: number,
  pLate: number,
  rng: SimRng,
): SimEvent[] {
  const keyed = events.map((e) => {
    const late = maxLagRounds > 0 && rng.chance(pLate);
    const delay = late ? 1 + rng.below(maxLagRounds) : 0;
    return { e, key: at.get(e)! + delay, tie: rng.u32() };
  });
  keyed.sort((a, b) => a.key - b.key || a.tie - b.tie);
  return keyed.map((k) => k.e);
}

const configs: readonly { name: string; honest: number[]; faulty: [number, number] }[] = [
  { name: '10/20/30/40 + 5/5', honest: [10, 20, 30, 40], faulty: [5, 5] },
  { name: '10/67/10 + 1/1 (one above 2/3)', honest: [10, 67, 10], faulty: [1, 1] },
  { name: '10/45/10 + 1/1 (one above 2/3)', honest: [10, 45, 10], faulty: [1, 1] },
  { name: '1/1/1/1 + 1 (equal)', honest: [1, 1, 1, 1], faulty: [1, 0] },
];

const lagArb = fc.record({
  config: fc.nat({ max: configs.length - 1 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  expireRounds: fc.constantFrom(4, 26),
  forkEvery: fc.integer({ min: 1, max: 5 }),
  reorder: fc.boolean(),
  slow: fc.boolean(),
  pLate: fc.constantFrom(0.02, 0.1, 0.3),
});

/** Runs one case: engines with lag bounds 0, K, 3K and 10K rounds decide prefixes of one sequence. */
function checkLag(c: typeof lagArb extends fc.Arbitrary<infer T> ? T : never): void {
  const cfg = configs[c.config]!;
  const faulty = cfg.faulty.filter((s) => s > 0);
  const stakes = [...faulty, ...cfg.honest].map(BigInt);
  const forker = 0;
  const silent = faulty.length > 1 ? [1] : [];
  const firstHonest = faulty.length;
  const K = c.expireRounds;
  const sim = runSim({
    stakes,
    seed: c.seed,
    steps: 500,
    hash: sha256,
    forker,
    forkEvery: c.forkEvery,
    silent,
    slow: c.slow ? [firstHonest] : [],
    slowParticipation: 0.5,
    reorder: c.reorder,
    expireRounds: K,
  });
  const p = { stakes, seed: c.seed, expireRounds: K };
  const at = creationRounds(p, sim.events);
  const rng = new SimRng(c.seed ^ 0x5eed);
  const fed = [0, K, 3 * K, 10 * K].map((lag) => {
    const order = laggedOrder(sim.events, at, lag, lag === 0 ? 0 : c.pLate, rng);
    const cons = createConsensus(simConsensusOpts({ ...p, hash: sha256 }));
    return { lag, ...feedBuffered(cons, order) };
  });
  for (const f of fed) assertWellFormed(f.blocks, `lag ${f.lag}`);
  const seqs = fed.map((f) => f.blocks.map(digest));
  assertPrefixes(seqs, `engines with lags ${fed.map((f) => f.lag).join('/')}`);
  assert.ok(Math.min(...seqs.map((s) => s.length)) >= 3, 'every engine decided blocks');
}

test('lag: engines fed the same events with delays of 0 to 10·K rounds, each in its own order, decide one block sequence', () => {
  fc.assert(fc.property(lagArb, checkLag), { numRuns: runs(12) });
});

// Fixed cases, one per configuration, so that the one-above-2/3 ones with a
// short window (docs/PROTOCOL.md 5.7, "Limits") run every time.
configs.forEach((cfg, i) => {
  test(`lag, fixed: ${cfg.name}, K = 4, reordered, 30% of events late`, () => {
    checkLag({
      config: i,
      seed: 11 + i,
      expireRounds: 4,
      forkEvery: 1,
      reorder: true,
      slow: i % 2 === 0,
      pLate: 0.3,
    });
  });
});

test.run();
