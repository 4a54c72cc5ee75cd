import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConsensusError,
  drawLeader,
  isSupermajority,
  type LeaderCandidate,
  leaderSeed,
  selectByStake,
} from '../src/index.js';

const unhex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (h) => Number.parseInt(h, 16));

/** A 32-byte big-endian seed whose uint256 value is `v`: lets a test choose u directly. */
function seedOf(v: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

const id = (...bytes: number[]) => Uint8Array.from(bytes);

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ConsensusError);
    assert.is((e as ConsensusError).code, code);
    return;
  }
  assert.unreachable(`expected ConsensusError ${code}`);
}

// --- isSupermajority: 3w > 2S -------------------------------------------------

for (const [w, s, want] of [
  [0n, 0n, false],
  [1n, 1n, true],
  [2n, 3n, false], // exactly two thirds is not a supermajority
  [3n, 4n, true],
  [66n, 100n, false],
  [67n, 100n, true],
  [200n, 300n, false],
  [201n, 300n, true],
] as const) {
  test(`isSupermajority(${w}, ${s}) = ${want}`, () => {
    assert.is(isSupermajority(w, s), want);
  });
}

test('isSupermajority rejects weights outside [0, total]', () => {
  throwsCode(() => isSupermajority(-1n, 3n), 'BAD_ARGUMENT');
  throwsCode(() => isSupermajority(4n, 3n), 'BAD_ARGUMENT');
});

// --- leaderSeed --------------------------------------------------------------

// "pos/leader" in ASCII, then u64be(round), then the previous seed.
const TAG_HEX = '706f732f6c6561646572';

for (const [round, u64] of [
  [0, '0000000000000000'],
  [1, '0000000000000001'],
  [256, '0000000000000100'],
  [2 ** 32, '0000000100000000'],
  [Number.MAX_SAFE_INTEGER, '001fffffffffffff'],
] as const) {
  test(`leaderSeed preimage for round ${round}`, () => {
    const prev = Uint8Array.from({ length: 32 }, (_, i) => i);
    let seen: Uint8Array | undefined;
    const spy = (b: Uint8Array) => {
      seen = b.slice();
      return sha256(b);
    };
    const seed = leaderSeed(round, prev, spy);
    assert.is(hex(seen!), TAG_HEX + u64 + hex(prev));
    assert.equal(seed, sha256(seen!));
  });
}

test('leaderSeed known answers (SHA-256 computed independently)', () => {
  const s0 = leaderSeed(0, new Uint8Array(32), sha256);
  assert.equal(s0, sha256(unhex(TAG_HEX + '00'.repeat(8) + '00'.repeat(32))));
  assert.is(hex(s0), '89b789ee551739e5ed8bbf43c9b227ae49f4aeff2d4de48b04668259fc9720db');
  const s1 = leaderSeed(1, s0, sha256);
  assert.is(hex(s1), 'dbc97ee033e23074833a4742bce8f3504a5c6c799449bb9778ee876ec239a129');
  // uint256be(s1) mod 6 = 3: with stakes 1, 2, 3 the third validator leads.
  const cands = [1, 2, 3].map((n) => ({ validatorId: id(n), stake: BigInt(n) }));
  assert.is(drawLeader(s1, cands), 2);
});

test('leaderSeed rejects bad rounds, seeds and hashes', () => {
  const prev = new Uint8Array(32);
  for (const r of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    throwsCode(() => leaderSeed(r, prev, sha256), 'BAD_ARGUMENT');
  }
  throwsCode(() => leaderSeed(0, new Uint8Array(31), sha256), 'BAD_ARGUMENT');
  throwsCode(() => leaderSeed(0, new Uint8Array(33), sha256), 'BAD_ARGUMENT');
  throwsCode(() => leaderSeed(0, prev, (b) => sha256(b).subarray(0, 20)), 'BAD_ARGUMENT');
});

// --- selectByStake: the first index whose cumulative stake exceeds u ----------

for (const [stakes, u, want] of [
  // stakes 1, 2, 3: cumulative 1, 3, 6
  [[1n, 2n, 3n], 0n, 0],
  [[1n, 2n, 3n], 1n, 1],
  [[1n, 2n, 3n], 2n, 1],
  [[1n, 2n, 3n], 3n, 2],
  [[1n, 2n, 3n], 5n, 2],
  // zero stakes are skipped over: cumulative 0, 2, 2, 3
  [[0n, 2n, 0n, 1n], 0n, 1],
  [[0n, 2n, 0n, 1n], 1n, 1],
  [[0n, 2n, 0n, 1n], 2n, 3],
  [[5n], 4n, 0],
  [[2n ** 64n - 1n, 1n], 2n ** 64n - 1n, 1],
] as const) {
  test(`selectByStake(${u}, [${stakes.join(', ')}]) = ${want}`, () => {
    assert.is(selectByStake(u, stakes), want);
  });
}

for (const [stakes, u] of [
  [[1n, 2n, 3n], 6n],
  [[1n, 2n, 3n], -1n],
  [[], 0n],
  [[0n, 0n], 0n],
  [[1n, -1n, 3n], 0n], // a negative stake is rejected even after the winner
] as const) {
  test(`selectByStake(${u}, [${stakes.join(', ')}]) throws`, () => {
    throwsCode(() => selectByStake(u, stakes), 'BAD_ARGUMENT');
  });
}

// --- drawLeader ---------------------------------------------------------------

// Given out of order: sorted by id the stakes are 1, 2, 3 (cumulative 1, 3, 6).
const three: LeaderCandidate[] = [
  { validatorId: id(3), stake: 3n },
  { validatorId: id(1), stake: 1n },
  { validatorId: id(2), stake: 2n },
];

for (const [name, seed, wantId] of [
  ['u = 0', seedOf(0n), 1],
  ['u = 1', seedOf(1n), 2],
  ['u = 2', seedOf(2n), 2],
  ['u = 3', seedOf(3n), 3],
  ['u = 5', seedOf(5n), 3],
  ['6 mod 6 = 0', seedOf(6n), 1],
  ['7 mod 6 = 1', seedOf(7n), 2],
  // Big-endian: 0x01 then 31 zeros is 2^248, and 2^248 mod 6 = 4 (little-endian would give 1).
  ['2^248 mod 6 = 4', seedOf(1n << 248n), 3],
  ['(2^256 - 1) mod 6 = 3', seedOf((1n << 256n) - 1n), 3],
] as const) {
  test(`drawLeader: ${name} elects validator ${wantId}`, () => {
    const i = drawLeader(seed, three);
    assert.ok(i !== null);
    assert.equal(three[i]!.validatorId, id(wantId));
  });
}

test('drawLeader sorts ids bytewise, not by length', () => {
  // Bytewise: [0, 255] < [1] < [1, 0].
  const cands = [id(1, 0), id(1), id(0, 255)].map((v) => ({ validatorId: v, stake: 1n }));
  assert.equal(cands[drawLeader(seedOf(0n), cands)!]!.validatorId, id(0, 255));
  assert.equal(cands[drawLeader(seedOf(1n), cands)!]!.validatorId, id(1));
  assert.equal(cands[drawLeader(seedOf(2n), cands)!]!.validatorId, id(1, 0));
});

test('drawLeader: no candidates or no stake means no leader', () => {
  assert.is(drawLeader(seedOf(5n), []), null);
  const zero = [id(1), id(2)].map((v) => ({ validatorId: v, stake: 0n }));
  assert.is(drawLeader(seedOf(5n), zero), null);
});

test('drawLeader: zero-stake candidates never win', () => {
  const cands = [
    { validatorId: id(1), stake: 0n },
    { validatorId: id(2), stake: 5n },
    { validatorId: id(3), stake: 0n },
  ];
  for (let u = 0n; u < 20n; u++) assert.is(drawLeader(seedOf(u), cands), 1);
});

test('drawLeader rejects duplicates, negative stakes and short seeds', () => {
  const dup = [
    { validatorId: id(7), stake: 1n },
    { validatorId: id(8), stake: 1n },
    { validatorId: id(7), stake: 2n },
  ];
  throwsCode(() => drawLeader(seedOf(0n), dup), 'DUPLICATE_CANDIDATE');
  const neg = [
    { validatorId: id(1), stake: 5n },
    { validatorId: id(2), stake: -1n },
  ];
  throwsCode(() => drawLeader(seedOf(0n), neg), 'BAD_ARGUMENT');
  throwsCode(() => drawLeader(new Uint8Array(31), three), 'BAD_ARGUMENT');
});

test('drawLeader does not reorder the caller’s array', () => {
  const before = three.map((c) => hex(c.validatorId));
  drawLeader(seedOf(4n), three);
  assert.equal(
    three.map((c) => hex(c.validatorId)),
    before,
  );
});

// --- properties ------------------------------------------------------------

const distinctCandidates = (maxStake: bigint) =>
  fc
    .uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 4 }), {
      minLength: 1,
      maxLength: 8,
      selector: hex,
    })
    .chain((ids) =>
      fc.tuple(
        ...ids.map((v) =>
          fc.bigInt({ min: 0n, max: maxStake }).map((stake) => ({ validatorId: v, stake })),
        ),
      ),
    );

test('property: every candidate wins for exactly its stake of the u values in [0, Σ)', () => {
  fc.assert(
    fc.property(fc.array(fc.bigInt({ min: 0n, max: 8n }), { maxLength: 7 }), (stakes) => {
      const total = stakes.reduce((a, b) => a + b, 0n);
      const wins = stakes.map(() => 0n);
      for (let u = 0n; u < total; u++) wins[selectByStake(u, stakes)]! += 1n;
      assert.equal(wins, stakes);
    }),
  );
});

test('property: drawLeader’s win counts over seeds 0..Σ-1 equal the stakes', () => {
  fc.assert(
    fc.property(distinctCandidates(6n), (cands) => {
      const total = cands.reduce((a, c) => a + c.stake, 0n);
      const wins = cands.map(() => 0n);
      for (let u = 0n; u < total; u++) wins[drawLeader(seedOf(u), cands)!]! += 1n;
      assert.equal(
        wins,
        cands.map((c) => c.stake),
      );
      if (total === 0n) assert.is(drawLeader(seedOf(0n), cands), null);
    }),
  );
});

test('property: the leader does not depend on the order of the candidates', () => {
  const candsAndShuffle = distinctCandidates(1n << 64n).chain((cands) =>
    fc.tuple(
      fc.constant(cands),
      fc.shuffledSubarray(cands, { minLength: cands.length, maxLength: cands.length }),
    ),
  );
  fc.assert(
    fc.property(
      candsAndShuffle,
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      ([cands, shuffled], seed) => {
        const a = drawLeader(seed, cands);
        const b = drawLeader(seed, shuffled);
        assert.is(a === null, b === null);
        if (a !== null && b !== null) {
          assert.equal(shuffled[b]!.validatorId, cands[a]!.validatorId);
          assert.ok(cands[a]!.stake > 0n);
        }
      },
    ),
  );
});

test.run();
