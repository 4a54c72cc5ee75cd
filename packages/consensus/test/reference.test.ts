import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createConsensus } from '../src/engine.js';
import {
  buildReplayDag,
  bundleEntries,
  isBundle,
  parseReplayInput,
  type ReplayConsensusEvent,
  type ReplayInput,
  replay,
} from '../src/replay.js';
import type { DecidedBlock } from '../src/types.js';
import { type ReferenceBlock, type ReferenceResult, referenceConsensus } from './reference.js';

const fixtureDir = join(import.meta.dirname, 'fixtures/hashgraph');

function runReference(input: ReplayInput, coinFrequency: number) {
  const dag = buildReplayDag(input, sha256);
  const ref = referenceConsensus(dag.events, {
    validators: dag.validators,
    stakeTable: () => dag.stakes,
    initialSeed: dag.initialSeed,
    hash: sha256,
    coinFrequency,
  });
  return { dag, ref };
}

// --- (a) the reference reproduces the conformance fixtures ---------------------

interface Expected {
  round: Record<string, number>;
  witness: string[];
  famous: Record<string, boolean | null>;
}

let compared = 0;
for (const file of readdirSync(fixtureDir).filter((f) => f.endsWith('.json'))) {
  const json: unknown = JSON.parse(readFileSync(join(fixtureDir, file), 'utf8'));
  if (!isBundle(json)) continue;
  const results = (json as { cross_check?: { results?: Record<string, Expected> } }).cross_check
    ?.results;
  for (const entry of bundleEntries(json)) {
    const want = results?.[entry.key];
    if (!want) continue;
    compared++;
    test(`reference: ${file} ${entry.key} (c=${entry.coinFrequency})`, () => {
      const { dag, ref } = runReference(entry.input, entry.coinFrequency);
      const nameOf = new Map(dag.events.map((e) => [hex(e.hash), e.name]));
      const byName = <T>(m: Map<string, T>) =>
        Object.fromEntries([...m].map(([h, v]) => [nameOf.get(h)!, v]));
      assert.equal(byName(ref.rounds), want.round, 'rounds');
      assert.equal([...ref.witness].map((h) => nameOf.get(h)!).sort(), [...want.witness].sort());
      assert.equal(byName(ref.famous), want.famous, 'fame');
      assert.equal(ref.conflicts, []);
      // Beyond the fixture's values: the engine's leaders and blocks equal the reference's.
      const out = replay(entry.input, { hash: sha256, coinFrequency: entry.coinFrequency });
      assert.equal(
        out.blocks,
        ref.blocks.map((b) => ({
          round: b.round,
          leader: b.leader.name,
          events: b.events.map((e) => e.name),
          timestamp: b.timestamp,
        })),
      );
      assert.is(Object.keys(out.leaders).length, ref.lastDecidedRound + 1);
    });
  }
}

test('reference: the fixtures were compared (7 keys of the babble bundle at least)', () => {
  assert.ok(compared >= 7, `compared ${compared}`);
});

// --- (b) the engine agrees with the reference on random DAGs --------------------

/** mulberry32: a tiny seeded PRNG, so that one fast-check integer fixes a whole DAG. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

interface DagParams {
  seed: number;
  creators: number;
  events: number;
  fork: boolean;
}

interface FixtureEvent {
  name: string;
  creator: number;
  seq: number;
  selfParent: string | null;
  otherParent: string | null;
  timestamp: number;
  transactions: string[];
}

/**
 * A random gossip DAG as a replay fixture (docs/PROTOCOL.md 5.8). Each step picks a creator, who
 * extends its own chain with another creator's latest event as other-parent
 * (rarely none). With `fork`, one creator (whose stake is below a third of
 * the total, the paper's assumption) once creates two children of one
 * self-parent and then keeps extending both branches; others sync with
 * either. Everything comes from the seed and the stream does not depend on
 * `events`, so a shorter DAG of the same seed is a prefix: fast-check's
 * shrinking of `events` finds the shortest failing prefix.
 */
function randomDag(p: DagParams) {
  const rnd = prng(p.seed);
  const stakes = Array.from({ length: p.creators }, () => 1 + rnd.int(100));
  const forker = rnd.int(p.creators);
  const forkAt = rnd.int(Math.max(1, p.events - 10));
  let forking = p.fork;
  if (forking) {
    const others = stakes.reduce((a, b) => a + b, 0) - stakes[forker]!;
    // 3f < f + others  <=>  2f < others: the forker holds less than a third.
    stakes[forker] = Math.min(stakes[forker]!, Math.floor((others - 1) / 2));
    if (stakes[forker]! < 1) forking = false;
  }
  const tips: FixtureEvent[][] = stakes.map(() => []);
  const events: FixtureEvent[] = [];
  const pool = ['tx-a', 'tx-b', 'tx-c', 'tx-d', 'tx-e', 'tx-f', 'tx-g', 'tx-h'];
  const make = (creator: number, sp: FixtureEvent | null, op: FixtureEvent | null) => {
    const e: FixtureEvent = {
      name: `e${events.length}`,
      creator,
      seq: sp ? sp.seq + 1 : 0,
      selfParent: sp?.name ?? null,
      otherParent: op?.name ?? null,
      timestamp: (sp ? sp.timestamp + 1 : 0) + rnd.int(20),
      transactions: Array.from({ length: rnd.int(3) }, () => pool[rnd.int(pool.length)]!),
    };
    events.push(e);
    return e;
  };
  let forked = false;
  while (events.length < p.events) {
    const c = rnd.int(p.creators);
    const branch = tips[c]!.length > 0 ? rnd.int(tips[c]!.length) : -1;
    const sp = branch >= 0 ? tips[c]![branch]! : null;
    const peers = stakes.map((_, k) => k).filter((k) => k !== c && tips[k]!.length > 0);
    let op: FixtureEvent | null = null;
    if (peers.length > 0 && rnd.next() < 0.95) {
      const peerTips = tips[peers[rnd.int(peers.length)]!]!;
      op = peerTips[rnd.int(peerTips.length)]!;
    }
    if (forking && !forked && c === forker && sp && events.length >= forkAt) {
      // Two children of one self-parent: the fork (docs/PROTOCOL.md 5.2).
      const a = make(c, sp, op);
      const b = events.length < p.events ? make(c, sp, null) : null;
      tips[c] = b ? [a, b] : [a];
      forked = true;
      continue;
    }
    const e = make(c, sp, op);
    if (branch >= 0) tips[c]![branch] = e;
    else tips[c]!.push(e);
  }
  return { stakes, coinRoundFrequency: 2 + (p.seed % 9), events };
}

const blockHex = (
  b: DecidedBlock<ReplayConsensusEvent> | ReferenceBlock<ReplayConsensusEvent>,
) => ({
  round: b.round,
  leader: `${b.leader.name} ${hex(b.leader.hash)}`,
  events: b.events.map((e) => `${e.name} ${hex(e.hash)}`),
  transactions: b.transactions.map(hex),
  timestamp: b.timestamp,
  seed: hex(b.seed),
});

/** Runs engine and reference on a fixture; returns the first disagreement, or null. */
function compare(fixture: ReturnType<typeof randomDag>): string | null {
  const input = parseReplayInput(fixture);
  const c = input.coinRoundFrequency;
  const { dag, ref } = runReference(input, c);
  const engine = createConsensus<ReplayConsensusEvent>({
    validators: dag.validators,
    stakeTable: () => dag.stakes,
    initialSeed: dag.initialSeed,
    hash: sha256,
    coinFrequency: c,
    expireRounds: 1_000_000,
  });
  const blocks: DecidedBlock<ReplayConsensusEvent>[] = [];
  for (const e of dag.events) blocks.push(...engine.insert(e).blocks);
  return diff(dag.events, ref, engine, blocks);
}

function diff(
  events: readonly ReplayConsensusEvent[],
  ref: ReferenceResult<ReplayConsensusEvent>,
  engine: ReturnType<typeof createConsensus<ReplayConsensusEvent>>,
  blocks: DecidedBlock<ReplayConsensusEvent>[],
): string | null {
  if (ref.conflicts.length > 0) return `reference: conflicting fame decisions ${ref.conflicts}`;
  for (const e of events) {
    const h = hex(e.hash);
    const info = engine.info(e.hash);
    if (!info) return `${e.name}: unknown to the engine`;
    if (info.round !== ref.rounds.get(h)) {
      return `${e.name}: round engine ${info.round}, reference ${ref.rounds.get(h)}`;
    }
    if (info.witness !== ref.witness.has(h)) {
      return `${e.name}: witness engine ${info.witness}, reference ${ref.witness.has(h)}`;
    }
    if (info.generation !== ref.generation.get(h)) {
      return `${e.name}: generation engine ${info.generation}, reference ${ref.generation.get(h)}`;
    }
    if (info.witness && (info.famous ?? null) !== ref.famous.get(h)) {
      return `${e.name}: famous engine ${info.famous}, reference ${ref.famous.get(h)}`;
    }
  }
  if (engine.lastDecidedRound !== ref.lastDecidedRound) {
    return `lastDecidedRound engine ${engine.lastDecidedRound}, reference ${ref.lastDecidedRound}`;
  }
  const got = JSON.stringify(blocks.map(blockHex), null, 1);
  const want = JSON.stringify(ref.blocks.map(blockHex), null, 1);
  if (got !== want) return `blocks differ:\nengine ${got}\nreference ${want}`;
  return null;
}

const dagParams = fc.record({
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  creators: fc.integer({ min: 3, max: 7 }),
  events: fc.integer({ min: 20, max: 150 }),
  fork: fc.boolean(),
});

test('property: engine and reference agree on rounds, witnesses, fame and blocks', () => {
  let withBlocks = 0;
  let withForks = 0;
  fc.assert(
    fc.property(dagParams, (p) => {
      const fixture = randomDag(p);
      let problem: string | null;
      try {
        problem = compare(fixture);
      } catch (e) {
        problem = `threw ${(e as Error).stack ?? e}`;
      }
      if (problem !== null) {
        throw new Error(`${problem}\nfixture: ${JSON.stringify(fixture)}`);
      }
      if (runReference(parseReplayInput(fixture), fixture.coinRoundFrequency).ref.blocks.length) {
        withBlocks++;
      }
      if (
        new Set(fixture.events.map((e) => `${e.creator}/${e.seq}`)).size < fixture.events.length
      ) {
        withForks++;
      }
    }),
    { numRuns: 200, includeErrorInReport: true },
  );
  // The property must have exercised something: blocks and forks, not just round 0.
  assert.ok(withBlocks > 20, `runs with blocks: ${withBlocks}`);
  assert.ok(withForks > 10, `runs with a fork: ${withForks}`);
});

test('the comparison can fail: a tampered reference is caught', () => {
  const fixture = randomDag({ seed: 7, creators: 4, events: 80, fork: false });
  const input = parseReplayInput(fixture);
  const { dag, ref } = runReference(input, fixture.coinRoundFrequency);
  assert.ok(ref.blocks.length > 0);
  const engine = createConsensus<ReplayConsensusEvent>({
    validators: dag.validators,
    stakeTable: () => dag.stakes,
    initialSeed: dag.initialSeed,
    hash: sha256,
    coinFrequency: fixture.coinRoundFrequency,
    expireRounds: 1_000_000,
  });
  const blocks: DecidedBlock<ReplayConsensusEvent>[] = [];
  for (const e of dag.events) blocks.push(...engine.insert(e).blocks);
  assert.is(diff(dag.events, ref, engine, blocks), null);
  const last = ref.blocks[ref.blocks.length - 1]!;
  const tampered = {
    ...ref,
    blocks: [...ref.blocks.slice(0, -1), { ...last, timestamp: last.timestamp + 1 }],
  };
  assert.match(diff(dag.events, tampered, engine, blocks) ?? '', /blocks differ/);
});

test.run();
