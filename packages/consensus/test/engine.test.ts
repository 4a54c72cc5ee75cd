// Unit tests of the engine's rules (docs/PROTOCOL.md 5.1-5.7): every rejection
// path changes nothing, forks are stored with evidence once per forker, expiry
// keeps memory bounded, blocks are well formed.

import { hex, sha256 } from '@pos/test-utils/node-hash';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConsensusError,
  type ConsensusEventInput,
  type ConsensusOpts,
  createConsensus,
  type DecidedBlock,
} from '../src/index.js';

interface Ev extends ConsensusEventInput {
  readonly name: string;
}

let counter = 0;
/** An event with a unique hash; `sig` picks the coin bit. */
function ev(
  creator: number,
  seq: number,
  sp: Ev | null,
  op: Ev | null,
  ts: number,
  txs: Uint8Array[] = [],
): Ev {
  const name = `e${counter++}`;
  const h = sha256(new TextEncoder().encode(name));
  return {
    name,
    hash: h,
    creator,
    seq,
    selfParent: sp ? sp.hash : null,
    otherParent: op ? op.hash : null,
    timestamp: ts,
    transactions: txs,
    signature: sha256(h),
  };
}

function engine(n: number, extra: Partial<ConsensusOpts<Ev>> = {}) {
  const stakes = Array.from({ length: n }, () => 1n);
  return createConsensus<Ev>({
    validators: stakes.map((_, i) => Uint8Array.of(i)),
    stakeTable: () => stakes,
    initialSeed: new Uint8Array(32),
    hash: sha256,
    ...extra,
  });
}

/** A seeded xorshift32 (test schedules only). */
function rng(seed: number) {
  let s = seed | 1;
  return (k: number) => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % k;
  };
}

/** Random gossip among n creators: `count` events in creation (topological) order. */
function gossip(n: number, count: number, seed: number, txEvery = 0): Ev[] {
  const r = rng(seed);
  const last: (Ev | null)[] = new Array(n).fill(null);
  const out: Ev[] = [];
  for (let i = 0; i < count; i++) {
    const a = r(n);
    let b = r(n - 1);
    if (b >= a) b++;
    const sp = last[a]!;
    const txs = txEvery > 0 && i % txEvery === 0 ? [Uint8Array.of(i & 255, i >> 8)] : [];
    const e = ev(a, sp ? sp.seq + 1 : 0, sp, last[b]!, 1000 + i * 10, txs);
    out.push(e);
    last[a] = e;
  }
  return out;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConsensusError) return e.code;
    throw e;
  }
  return 'none';
}

test('options: empty validator set, bad coin frequency, bad seed length are refused', () => {
  const base = {
    validators: [Uint8Array.of(0)],
    stakeTable: () => [1n],
    initialSeed: new Uint8Array(32),
    hash: sha256,
  };
  assert.is(
    code(() => createConsensus({ ...base, validators: [] })),
    'BAD_OPTIONS',
  );
  assert.is(
    code(() => createConsensus({ ...base, coinFrequency: 1 })),
    'BAD_OPTIONS',
  );
  assert.is(
    code(() => createConsensus({ ...base, expireRounds: 1 })),
    'BAD_OPTIONS',
  );
  assert.is(
    code(() => createConsensus({ ...base, expireRounds: 8, forgetRounds: 7 })),
    'BAD_OPTIONS',
  );
  assert.is(
    code(() => createConsensus({ ...base, forgetRounds: 1.5 })),
    'BAD_OPTIONS',
  );
  assert.is(
    code(() => createConsensus({ ...base, initialSeed: new Uint8Array(31) })),
    'BAD_OPTIONS',
  );
});

test('stake table: negative, non-bigint, too long or zero total is refused at first use', () => {
  const mk = (t: readonly bigint[]) =>
    createConsensus<Ev>({
      validators: [Uint8Array.of(0), Uint8Array.of(1)],
      stakeTable: () => t,
      initialSeed: new Uint8Array(32),
      hash: sha256,
    });
  for (const t of [
    [-1n, 2n],
    [1 as unknown as bigint, 1n],
    [1n, 1n, 1n],
    [0n, 0n],
  ]) {
    assert.is(
      code(() => mk(t).insert(ev(0, 0, null, null, 1))),
      'BAD_STAKE_TABLE',
      String(t),
    );
  }
});

test('structural rules: each bad event is refused with its code and changes nothing', () => {
  const c = engine(3);
  const a0 = ev(0, 0, null, null, 10);
  const b0 = ev(1, 0, null, null, 10);
  c.insert(a0);
  c.insert(b0);
  const before = JSON.stringify(c.stats());
  const good = ev(0, 1, a0, b0, 11);
  const cases: [string, Ev, string][] = [
    ['short hash', { ...good, hash: new Uint8Array(31) }, 'BAD_EVENT'],
    ['creator out of range', { ...good, creator: 3 }, 'BAD_EVENT'],
    ['negative creator', { ...good, creator: -1 }, 'BAD_EVENT'],
    ['fractional seq', { ...good, seq: 1.5 }, 'BAD_EVENT'],
    ['unsafe timestamp', { ...good, timestamp: 2 ** 53 }, 'BAD_EVENT'],
    ['seq 0 with a self-parent', { ...good, seq: 0 }, 'BAD_EVENT'],
    ['seq 1 without a self-parent', { ...good, selfParent: null }, 'BAD_EVENT'],
    ['empty signature', { ...good, signature: new Uint8Array(0) }, 'BAD_EVENT'],
    ['parent of 31 bytes', { ...good, otherParent: new Uint8Array(31) }, 'BAD_EVENT'],
    ['tx not bytes', { ...good, transactions: ['x' as unknown as Uint8Array] }, 'BAD_EVENT'],
    ['timestamp not above self-parent', { ...good, timestamp: 10 }, 'BAD_EVENT'],
    ['self-parent of another creator', { ...good, selfParent: b0.hash }, 'BAD_PARENT'],
    ['self-parent at the wrong seq', { ...good, seq: 2 }, 'BAD_PARENT'],
    ['other-parent by the same creator', { ...good, otherParent: a0.hash }, 'BAD_PARENT'],
    ['unknown self-parent', { ...good, selfParent: sha256(Uint8Array.of(9)) }, 'MISSING_PARENT'],
    ['unknown other-parent', { ...good, otherParent: sha256(Uint8Array.of(9)) }, 'MISSING_PARENT'],
  ];
  for (const [what, e, want] of cases) {
    assert.is(
      code(() => c.insert(e)),
      want,
      what,
    );
    assert.is(JSON.stringify(c.stats()), before, `${what}: state unchanged`);
    assert.not.ok(c.has(e.hash) && e.hash.length === 32 && e !== good, what);
  }
  assert.ok(c.insert(good).inserted);
});

test('too many transactions per event is refused', () => {
  const c = engine(2, { maxTransactionsPerEvent: 2 });
  const txs = [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)];
  assert.is(
    code(() => c.insert(ev(0, 0, null, null, 1, txs))),
    'BAD_EVENT',
  );
  assert.ok(c.insert(ev(0, 0, null, null, 1, txs.slice(0, 2))).inserted);
});

test('verifier: false or a throw refuses the event; duplicates are free', () => {
  let calls = 0;
  const c = engine(2, {
    verify: (e) => {
      calls++;
      if (e.timestamp === 666) throw new Error('boom');
      return e.timestamp !== 13;
    },
  });
  assert.is(
    code(() => c.insert(ev(0, 0, null, null, 13))),
    'BAD_SIGNATURE',
  );
  assert.is(
    code(() => c.insert(ev(0, 0, null, null, 666))),
    'BAD_SIGNATURE',
  );
  const e = ev(0, 0, null, null, 14);
  assert.ok(c.insert(e).inserted);
  const n = calls;
  assert.is(c.insert(e).inserted, false);
  assert.is(calls, n, 'a duplicate is not verified again');
});

test('a creator without stake in the round is not a validator', () => {
  const c = createConsensus<Ev>({
    validators: [Uint8Array.of(0), Uint8Array.of(1)],
    stakeTable: () => [1n, 0n],
    initialSeed: new Uint8Array(32),
    hash: sha256,
  });
  assert.is(
    code(() => c.insert(ev(1, 0, null, null, 1))),
    'NOT_A_VALIDATOR',
  );
  assert.ok(c.insert(ev(0, 0, null, null, 1)).inserted);
});

test('missingParents lists exactly the unknown parents', () => {
  const c = engine(2);
  const a0 = ev(0, 0, null, null, 1);
  const b0 = ev(1, 0, null, null, 1);
  c.insert(a0);
  const a1 = ev(0, 1, a0, b0, 2);
  assert.equal(c.missingParents(a1).map(hex), [hex(b0.hash)]);
  c.insert(b0);
  assert.equal(c.missingParents(a1), []);
});

test('forks: both branches stored, evidence once per forker, descendants stop seeing it', () => {
  const c = engine(4);
  const roots = [0, 1, 2, 3].map((i) => ev(i, 0, null, null, 1));
  for (const r of roots) c.insert(r);
  // Creator 3 forks: two different children of its root.
  const f1 = ev(3, 1, roots[3]!, roots[0]!, 2);
  const f2 = ev(3, 1, roots[3]!, roots[1]!, 3);
  assert.equal(c.insert(f1).evidence, []);
  const res = c.insert(f2);
  assert.ok(res.inserted);
  assert.is(res.evidence.length, 1);
  assert.is(res.evidence[0]!.creator, 3);
  assert.is(res.evidence[0]!.a, f1);
  assert.is(res.evidence[0]!.b, f2);
  // A third branch (and a fork of a fork) gives no new evidence.
  const f3 = ev(3, 1, roots[3]!, roots[2]!, 4);
  assert.equal(c.insert(f3).evidence, []);
  assert.equal(c.insert(ev(3, 2, f2, roots[0]!, 5)).evidence, []);
  assert.is(c.evidence().length, 1);
  assert.is(c.stats().forkers, 1);
  // Honest events that merge both branches are inserted normally.
  const a1 = ev(0, 1, roots[0]!, f1, 5);
  const a2 = ev(0, 2, a1, f2, 6);
  assert.ok(c.insert(a1).inserted);
  assert.ok(c.insert(a2).inserted);
  // A second root by the same creator is a fork too (seq 0 twice).
  const c2 = engine(2);
  c2.insert(ev(1, 0, null, null, 1));
  assert.is(c2.insert(ev(1, 0, null, null, 2)).evidence.length, 1);
});

test('forks: an honest run with one forker still decides blocks, never ordering an event twice', () => {
  const n = 4;
  const r = rng(7);
  const c = engine(n, { coinFrequency: 4 });
  const last: Ev[] = [];
  for (let i = 0; i < n; i++) {
    last[i] = ev(i, 0, null, null, 1);
    c.insert(last[i]!);
  }
  let alt: Ev = last[3]!; // the forker's second branch
  const blocks: DecidedBlock<Ev>[] = [];
  for (let i = 0; i < 3000; i++) {
    const a = r(n);
    let b = r(n - 1);
    if (b >= a) b++;
    const sp = last[a]!;
    // The forker (3) alternates branches; others take whichever head it showed last.
    if (a === 3 && i % 7 === 0) {
      const e = ev(3, alt.seq + 1, alt, last[b]!, sp.timestamp + 2 + i);
      blocks.push(...c.insert(e).blocks);
      alt = e;
      last[3] = e;
      continue;
    }
    const e = ev(a, sp.seq + 1, sp, last[b]!, sp.timestamp + 1 + i);
    blocks.push(...c.insert(e).blocks);
    last[a] = e;
  }
  assert.ok(blocks.length > 50, `decided ${blocks.length} blocks`);
  const seen = new Set<string>();
  for (const b of blocks) {
    for (const e of b.events) {
      assert.not.ok(seen.has(e.name), `${e.name} ordered twice`);
      seen.add(e.name);
    }
  }
  assert.is(c.evidence().length, 1);
});

test('blocks: round order, leaders are their last-generation event, (gen, hash) order, rising timestamps', () => {
  const c = engine(5);
  const blocks: DecidedBlock<Ev>[] = [];
  for (const e of gossip(5, 4000, 11, 3)) blocks.push(...c.insert(e).blocks);
  assert.ok(blocks.length > 100, `${blocks.length} blocks`);
  let prevRound = -1;
  let prevTs = -1;
  const txSeen = new Set<string>();
  for (const b of blocks) {
    assert.ok(b.round > prevRound);
    assert.ok(b.timestamp > prevTs, 'timestamps strictly increase');
    prevRound = b.round;
    prevTs = b.timestamp;
    assert.is(b.events[b.events.length - 1], b.leader, 'the leader has the highest generation');
    for (let i = 1; i < b.events.length; i++) {
      const x = c.info(b.events[i - 1]!.hash);
      const y = c.info(b.events[i]!.hash);
      if (!x || !y) continue; // compacted already
      assert.ok(
        x.generation < y.generation ||
          (x.generation === y.generation && hex(x.event.hash) < hex(y.event.hash)),
      );
    }
    for (const tx of b.transactions) {
      const k = hex(tx);
      assert.not.ok(txSeen.has(k), 'a transaction is ordered once');
      txSeen.add(k);
    }
  }
});

test('duplicate transactions across events are ordered once', () => {
  const c = engine(3);
  const tx = Uint8Array.of(42);
  const blocks: DecidedBlock<Ev>[] = [];
  const evs = gossip(3, 600, 5);
  // Put the same transaction in the first 10 events of creator 0 and 1.
  const withTx = evs.map((e, i) => (i < 40 && e.creator < 2 ? { ...e, transactions: [tx] } : e));
  for (const e of withTx) blocks.push(...c.insert(e).blocks);
  const count = blocks.flatMap((b) => b.transactions).filter((t) => t[0] === 42).length;
  assert.is(count, 1);
});

test('expiry: live events stay bounded over a long run; compact events are forgotten', () => {
  const K = 6;
  const c = engine(4, { expireRounds: K });
  let maxLive = 0;
  const evs = gossip(4, 40_000, 3);
  for (const e of evs) {
    c.insert(e);
    const s = c.stats();
    if (s.liveEvents > maxLive) maxLive = s.liveEvents;
  }
  const s = c.stats();
  assert.is(s.insertedTotal, 40_000);
  assert.ok(s.lastDecidedRound > 1000, `decided ${s.lastDecidedRound}`);
  // Rounds here take about 3 events per creator: a generous bound that a leak breaks.
  const perRound = 40_000 / s.maxRound;
  assert.ok(maxLive < (K + 10) * perRound * 1.5, `max live ${maxLive}, ${perRound}/round`);
  // Compact events are kept forgetRounds (default 10K) rounds, then forgotten.
  const F = 10 * K;
  assert.ok(s.compactEvents < (F + 2) * perRound * 1.5, `compact ${s.compactEvents}`);
  assert.not.ok(c.has(evs[0]!.hash), 'the oldest events are forgotten');
  assert.ok(c.has(evs[evs.length - 1]!.hash));
});

test('expiry: a late child of a compacted parent is inserted; a forgotten parent is missing', () => {
  const K = 4;
  const c = engine(4, { expireRounds: K });
  const r = rng(9);
  const last: Ev[] = [0, 1, 2, 3].map((i) => ev(i, 0, null, null, 1));
  for (const e of last) c.insert(e);
  // Creator 0 goes quiet; 1-3 (3/4 of the stake) keep deciding.
  const quiet = last[0]!;
  let lateChild: Ev | null = null;
  let forgotten = false;
  for (let i = 0; i < 20_000 && !forgotten; i++) {
    // Before the late child only 1-3 gossip; after it, all four again.
    const lo = lateChild ? 0 : 1;
    const a = lo + r(4 - lo);
    let b = lo + r(3 - lo);
    if (b >= a) b++;
    const e = ev(a, last[a]!.seq + 1, last[a]!, last[b]!, 10 + 10 * i);
    c.insert(e);
    last[a] = e;
    const compacted = c.stats().lastDecidedRound - K > 0; // quiet is in round 0
    if (!lateChild && compacted && c.has(quiet.hash)) {
      // The quiet creator's next event: its self-parent is compact now.
      lateChild = ev(0, 1, quiet, e, 15 + 10 * i);
      const res = c.insert(lateChild);
      assert.ok(res.inserted);
      last[0] = lateChild;
    }
    if (lateChild && !c.has(quiet.hash)) forgotten = true;
  }
  assert.ok(lateChild, 'the late child was inserted while its parent was compact');
  assert.ok(forgotten, 'the compact parent was forgotten later');
  // Its own round comes from its live other-parent, so it is ordered.
  let ordered = c.info(lateChild!.hash)?.orderedIn;
  for (let i = 0; i < 2000 && ordered === undefined; i++) {
    const a = r(4);
    let b = r(3);
    if (b >= a) b++;
    const e = ev(a, last[a]!.seq + 1, last[a]!, last[b]!, 500_000 + 10 * i);
    c.insert(e);
    last[a] = e;
    ordered = c.info(lateChild!.hash)?.orderedIn;
  }
  assert.type(ordered, 'number');
  // A second event at seq 1 on the forgotten parent is a fork of the late
  // child, told apart by seq alone: inserted on a root branch of its own,
  // without evidence (the proof would need the forgotten chain).
  const sibling = ev(0, 1, quiet, last[1]!, 999_999);
  const res = c.insert(sibling);
  assert.ok(res.inserted);
  assert.equal(res.evidence, []);
  // A self-parent that is unknown and above the horizon is just missing.
  const unknown = ev(2, last[2]!.seq + 5, last[2]!, last[1]!, 9_999_999);
  assert.is(
    code(() => c.insert({ ...unknown, selfParent: sha256(Uint8Array.of(7)) })),
    'MISSING_PARENT',
  );
});

test('a validator away for more than 2K rounds rejoins: its next event stands on its other-parent', () => {
  const K = 3;
  const c = engine(4, { expireRounds: K });
  const r = rng(5);
  const last: Ev[] = [0, 1, 2, 3].map((i) => ev(i, 0, null, null, 1));
  for (const e of last) c.insert(e);
  let ts = 10;
  const step = (lo: number) => {
    const a = lo + r(4 - lo);
    let b = lo + r(3 - lo);
    if (b >= a) b++;
    const e = ev(a, last[a]!.seq + 1, last[a]!, last[b]!, ts++);
    c.insert(e);
    last[a] = e;
  };
  // Creator 0 is away until its last event is forgotten everywhere.
  while (c.has(last[0]!.hash)) step(1);
  const back = ev(0, 1, last[0]!, last[1]!, ts++);
  const res = c.insert(back);
  assert.ok(res.inserted);
  assert.equal(res.evidence, []);
  assert.ok(c.info(back.hash)!.witness);
  last[0] = back;
  // It takes part again: its new events are ordered, and it leads again.
  let led = false;
  let backOrdered = false;
  for (let i = 0; i < 3000; i++) {
    const a = r(4);
    let b = r(3);
    if (b >= a) b++;
    const e = ev(a, last[a]!.seq + 1, last[a]!, last[b]!, ts++);
    for (const blk of c.insert(e).blocks) {
      if (blk.leader.creator === 0) led = true;
      if (blk.events.includes(back)) backOrdered = true;
    }
    last[a] = e;
  }
  assert.ok(backOrdered, 'its first event back is ordered');
  assert.ok(led, 'the returning validator leads again');
  assert.is(c.evidence().length, 0, 'no false fork');
});

test('other-parent descriptor: checked when the parent is known, recognises a forgotten one', () => {
  const K = 3;
  const c = engine(4, { expireRounds: K });
  const r = rng(13);
  const last: Ev[] = [0, 1, 2, 3].map((i) => ev(i, 0, null, null, 1));
  for (const e of last) c.insert(e);
  const a1 = ev(0, 1, last[0]!, last[1]!, 5);
  // A descriptor that lies about a known parent, or is malformed, is refused.
  assert.is(
    code(() => c.insert({ ...a1, otherParentCreator: 2, otherParentSeq: 0 })),
    'BAD_PARENT',
  );
  assert.is(
    code(() => c.insert({ ...a1, otherParentCreator: 1, otherParentSeq: 3 })),
    'BAD_PARENT',
  );
  assert.is(
    code(() => c.insert({ ...a1, otherParentCreator: 9, otherParentSeq: 0 })),
    'BAD_EVENT',
  );
  assert.is(
    code(() => c.insert({ ...a1, otherParentCreator: 1, otherParentSeq: -1 })),
    'BAD_EVENT',
  );
  assert.ok(c.insert({ ...a1, otherParentCreator: 1, otherParentSeq: 0 }).inserted);
  last[0] = a1;
  // Creator 3 goes quiet until its root is forgotten.
  const quiet = last[3]!;
  let ts = 10;
  while (c.has(quiet.hash)) {
    const a = r(3);
    let b = r(2);
    if (b >= a) b++;
    const e = ev(a, last[a]!.seq + 1, last[a]!, last[b]!, ts++);
    c.insert(e);
    last[a] = e;
  }
  // An event naming the forgotten root as other-parent: missing without a
  // descriptor, inserted with one (it stands on its self-parent).
  const x = ev(0, last[0]!.seq + 1, last[0]!, quiet, ts++);
  assert.is(
    code(() => c.insert(x)),
    'MISSING_PARENT',
  );
  assert.equal(c.missingParents(x).map(hex), [hex(quiet.hash)]);
  const withDesc = { ...x, otherParentCreator: 3, otherParentSeq: 0 };
  assert.equal(c.missingParents(withDesc), []);
  assert.ok(c.insert(withDesc).inserted);
  assert.is(c.info(x.hash)!.round, c.info(last[0]!.hash)!.round);
});

test('info: rounds, witnesses and fame are reported; unknown hashes give undefined', () => {
  const c = engine(4);
  const evs = gossip(4, 200, 1);
  for (const e of evs) c.insert(e);
  const first = c.info(evs[0]!.hash)!;
  assert.is(first.round, 0);
  assert.ok(first.witness);
  assert.type(first.famous, 'boolean');
  assert.is(c.info(sha256(Uint8Array.of(1))), undefined);
  assert.is(c.latest(evs[evs.length - 1]!.creator), evs[evs.length - 1]);
});

test('unequal stakes above 2^51 use exact bigint tallies and still decide', () => {
  const big = 2n ** 62n;
  const stakes = [big, big + 1n, big * 2n, 3n];
  const mk = (t: readonly bigint[]) =>
    createConsensus<Ev>({
      validators: t.map((_, i) => Uint8Array.of(i)),
      stakeTable: () => t,
      initialSeed: new Uint8Array(32),
      hash: sha256,
    });
  const c = mk(stakes);
  const evs = gossip(4, 2000, 21);
  let n = 0;
  for (const e of evs) n += c.insert(e).blocks.length;
  assert.ok(n > 20, `${n} blocks`);
});

test.run();
