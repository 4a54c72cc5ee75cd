// Epochs of the validator set (docs/PROTOCOL.md 6.5, src/epochs.ts): which
// table applies to a round, which snapshot it is taken at, the rounds it
// covers, and the state-trie keys the ledger commits tables and
// registrations under. Table-driven cases with small and design parameters,
// then properties: every round lies in exactly one epoch's
// [firstRound, lastRound], and with lag >= 1 an epoch's snapshot precedes
// its first round (so its table is proven under a header the previous
// table certified).

import { cat, fill, u64 } from '@pos/test-utils/bytes';
import { hex } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  EPOCH_TABLE_PREFIX,
  type EpochParams,
  epochOfRound,
  epochOfTableKey,
  epochTableKey,
  firstRoundOf,
  lastRoundOf,
  ProtocolError,
  REGISTRATION_SUFFIX,
  registrationKey,
  snapshotRoundOf,
} from '../src/index.js';

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ProtocolError);
    assert.is((e as ProtocolError).code, code, (e as Error).message);
    return;
  }
  assert.unreachable(`expected ProtocolError ${code}`);
}

const tiny: EpochParams = { lag: 2, epoch: 4 };
const design: EpochParams = { lag: 1000, epoch: 4096 };
/** A lag longer than an epoch: the snapshot is several epochs back. */
const longLag: EpochParams = { lag: 10, epoch: 3 };
/** The smallest parameters the genesis allows. */
const unit: EpochParams = { lag: 1, epoch: 1 };

for (const [name, p, rows] of [
  [
    'lag 2, epoch 4',
    tiny,
    [
      [0, 0],
      [1, 0],
      [2, 1],
      [5, 1],
      [6, 2],
      [9, 2],
      [10, 3],
      [13, 3],
      [14, 4],
    ],
  ],
  [
    'the design defaults (lag 1000, epoch 4096)',
    design,
    [
      [0, 0],
      [999, 0],
      [1000, 1],
      [5095, 1],
      [5096, 2],
      [9191, 2],
      [9192, 3],
    ],
  ],
  [
    'lag 10, epoch 3',
    longLag,
    [
      [9, 0],
      [10, 1],
      [12, 1],
      [13, 2],
      [16, 3],
    ],
  ],
  [
    'lag 1, epoch 1',
    unit,
    [
      [0, 0],
      [1, 1],
      [2, 2],
      [100, 100],
    ],
  ],
] as const) {
  test(`epochOfRound, ${name}`, () => {
    for (const [round, k] of rows) assert.is(epochOfRound(round, p), k, `round ${round}`);
  });
}

for (const [name, p, rows] of [
  // [k, snapshotRound, firstRound, lastRound]
  [
    'lag 2, epoch 4',
    tiny,
    [
      [0, null, 0, 1],
      [1, 0, 2, 5],
      [2, 4, 6, 9],
      [3, 8, 10, 13],
      [4, 12, 14, 17],
    ],
  ],
  [
    'the design defaults',
    design,
    [
      [0, null, 0, 999],
      [1, 0, 1000, 5095],
      [2, 4096, 5096, 9191],
    ],
  ],
  [
    'lag 10, epoch 3',
    longLag,
    [
      [0, null, 0, 9],
      [1, 0, 10, 12],
      [2, 3, 13, 15],
      [5, 12, 22, 24],
    ],
  ],
  [
    'lag 1, epoch 1',
    unit,
    [
      [0, null, 0, 0],
      [1, 0, 1, 1],
      [7, 6, 7, 7],
    ],
  ],
] as const) {
  test(`snapshotRoundOf, firstRoundOf, lastRoundOf, ${name}`, () => {
    for (const [k, snap, first, last] of rows) {
      assert.is(snapshotRoundOf(k, p), snap, `snapshot of ${k}`);
      assert.is(firstRoundOf(k, p), first, `first of ${k}`);
      assert.is(lastRoundOf(k, p), last, `last of ${k}`);
    }
  });
}

test('the design rule: round r uses the state after floor((r - LAG) / EPOCH) * EPOCH', () => {
  for (const p of [tiny, design, longLag, unit]) {
    for (const r of [p.lag, p.lag + 1, p.lag + p.epoch - 1, p.lag + p.epoch, 3 * p.epoch + p.lag]) {
      const s = Math.floor((r - p.lag) / p.epoch) * p.epoch;
      assert.is(snapshotRoundOf(epochOfRound(r, p), p), s, `round ${r}`);
    }
    // Before LAG: the genesis state, epoch 0, no snapshot round.
    assert.is(snapshotRoundOf(epochOfRound(p.lag - 1, p), p), null);
  }
});

test('rounds and epochs must be safe integers >= 0: BAD_ARGUMENT', () => {
  for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
    throwsCode(() => epochOfRound(bad, tiny), 'BAD_ARGUMENT');
    throwsCode(() => snapshotRoundOf(bad, tiny), 'BAD_ARGUMENT');
    throwsCode(() => firstRoundOf(bad, tiny), 'BAD_ARGUMENT');
    throwsCode(() => epochTableKey(bad), 'BAD_ARGUMENT');
  }
  throwsCode(() => epochOfRound('3' as unknown as number, tiny), 'BAD_ARGUMENT');
});

// --- trie keys -------------------------------------------------------------------------

test('epochTableKey(k) = 0^31 ‖ 0x01 ‖ u64be(k) ‖ 0^24, and epochOfTableKey inverts it', () => {
  const prefix = cat(fill(31, 0), Uint8Array.of(1));
  assert.is(hex(EPOCH_TABLE_PREFIX), hex(prefix));
  for (const k of [0, 1, 2, 255, 256, 2 ** 32 - 1, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
    const key = epochTableKey(k);
    assert.is(key.length, 64);
    assert.is(hex(key), hex(cat(prefix, u64(BigInt(k)), fill(24, 0))), `k = ${k}`);
    assert.is(epochOfTableKey(key), k);
  }
});

test('epochOfTableKey: undefined for anything that is not a table key', () => {
  const good = epochTableKey(7);
  const flip = (i: number) => {
    const k = good.slice();
    k[i]! ^= 1;
    return k;
  };
  for (const [why, key] of [
    ['63 bytes', good.subarray(0, 63)],
    ['65 bytes', cat(good, Uint8Array.of(0))],
    ['the meta key 0^64', fill(64, 0)],
    ['another prefix byte', flip(31)],
    ['a set bit in the first 31 bytes', flip(0)],
    ['a set bit in the zero tail', flip(63)],
    ['an epoch of 2^53 (not a safe integer)', cat(EPOCH_TABLE_PREFIX, u64(1n << 53n), fill(24, 0))],
    ['a registration key', registrationKey(fill(32, 9))],
    ['not bytes', '0x00' as unknown as Uint8Array],
  ] as const) {
    assert.is(epochOfTableKey(key), undefined, why);
  }
  assert.is(epochOfTableKey(flip(39)), 6);
});

test('registrationKey = validatorId ‖ 0^31 ‖ 0x02; only a 32-byte id', () => {
  const id = fill(32, 0xab);
  assert.is(hex(REGISTRATION_SUFFIX), hex(cat(fill(31, 0), Uint8Array.of(2))));
  assert.is(hex(registrationKey(id)), hex(cat(id, fill(31, 0), Uint8Array.of(2))));
  throwsCode(() => registrationKey(fill(31, 0)), 'BAD_ARGUMENT');
  throwsCode(() => registrationKey('x' as unknown as Uint8Array), 'BAD_ARGUMENT');
});

// --- properties --------------------------------------------------------------------------

const arbParams = fc.record({
  lag: fc.integer({ min: 1, max: 0xffffffff }),
  epoch: fc.integer({ min: 1, max: 0xffffffff }),
});
const arbSmallParams = fc.record({
  lag: fc.integer({ min: 1, max: 50 }),
  epoch: fc.integer({ min: 1, max: 50 }),
});

test('property: every round lies in exactly one epoch, and the epochs tile the rounds', () => {
  fc.assert(
    fc.property(arbParams, fc.nat({ max: 2 ** 48 }), (p, r) => {
      const k = epochOfRound(r, p);
      assert.ok(firstRoundOf(k, p) <= r && r <= lastRoundOf(k, p), `round ${r} in epoch ${k}`);
      // Its neighbours do not hold it: they end just before and start just after.
      if (k > 0) assert.is(lastRoundOf(k - 1, p) + 1, firstRoundOf(k, p));
      assert.is(firstRoundOf(k + 1, p), lastRoundOf(k, p) + 1);
      assert.ok(r < firstRoundOf(k + 1, p));
      if (k > 0) assert.ok(r > lastRoundOf(k - 1, p));
    }),
    { numRuns: 2000 },
  );
});

test('property (exhaustive over small parameters): one epoch per round, every epoch non-empty', () => {
  fc.assert(
    fc.property(arbSmallParams, (p) => {
      const seen = new Map<number, number>();
      for (let r = 0; r < 400; r++) {
        let holders = 0;
        for (let k = 0; k <= 400; k++) {
          if (firstRoundOf(k, p) <= r && r <= lastRoundOf(k, p)) holders++;
        }
        assert.is(holders, 1, `round ${r}`);
        const k = epochOfRound(r, p);
        seen.set(k, (seen.get(k) ?? 0) + 1);
      }
      // Epoch 0 has lag rounds, every later one exactly epoch rounds.
      assert.is(seen.get(0), Math.min(p.lag, 400));
      for (const [k, n] of seen) {
        if (k > 0 && lastRoundOf(k, p) < 400) assert.is(n, p.epoch, `epoch ${k}`);
      }
    }),
    { numRuns: 60 },
  );
});

test('property: with lag >= 1, snapshotRound(k) < firstRound(k), in an earlier epoch', () => {
  fc.assert(
    fc.property(arbParams, fc.integer({ min: 1, max: 2 ** 20 }), (p, k) => {
      const s = snapshotRoundOf(k, p)!;
      assert.ok(s !== null && s >= 0);
      assert.ok(s < firstRoundOf(k, p), `epoch ${k}: snapshot ${s}`);
      // The header that commits epoch k's table is certified by an older table.
      assert.ok(epochOfRound(s, p) < k);
      assert.ok(epochOfRound(firstRoundOf(k, p) - 1, p) < k);
      // Snapshots advance by one epoch length.
      assert.is(snapshotRoundOf(k + 1, p)! - s, p.epoch);
    }),
    { numRuns: 2000 },
  );
});

test('property: table keys are distinct per epoch and sort in epoch order', () => {
  fc.assert(
    fc.property(fc.nat({ max: 2 ** 53 - 1 }), fc.nat({ max: 2 ** 53 - 1 }), (a, b) => {
      const ka = hex(epochTableKey(a));
      const kb = hex(epochTableKey(b));
      assert.is(ka === kb, a === b);
      assert.is(ka < kb, a < b);
      assert.is(epochOfTableKey(epochTableKey(a)), a);
    }),
    { numRuns: 1000 },
  );
});

test.run();
