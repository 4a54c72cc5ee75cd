import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_SUPPLY, parseStakes, TestnetError } from '../src/index.js';

for (const [spec, total, want] of [
  ['40,30,20,10', 1000n, [400n, 300n, 200n, 100n]],
  ['5', 7n, [7n]],
  // Quotas 10/3 each: one unit left over per tie, to the lower index first.
  ['1,1,1', 10n, [4n, 3n, 3n]],
  ['1,1,1', 2n, [1n, 1n, 0n]],
  // Quotas 6.67 and 3.33: the larger remainder (2/3) wins the unit, wherever it is.
  ['2,1', 10n, [7n, 3n]],
  ['1,2', 10n, [3n, 7n]],
  // Quotas 1.875, 1.875, 1.25: two units left, both to the 0.875 remainders.
  ['3,3,2', 5n, [2n, 2n, 1n]],
  // A tiny weight may round to nothing (a zero-stake validator).
  ['1,1000000', 10n, [0n, 10n]],
  // (2^64 - 1) / 4 = 4611686018427387903.75: three units go to the first three.
  [
    '1,1,1,1',
    MAX_SUPPLY,
    [4611686018427387904n, 4611686018427387904n, 4611686018427387904n, 4611686018427387903n],
  ],
] as [string, bigint, bigint[]][]) {
  test(`parseStakes("${spec}", ${total})`, () => {
    assert.equal(parseStakes(spec, total), want);
  });
}

for (const [why, spec, total] of [
  ['an empty spec', '', 100n],
  ['a lone comma', ',', 100n],
  ['a trailing comma', '40,', 100n],
  ['a leading comma', ',40', 100n],
  ['an empty weight', '40,,10', 100n],
  ['a zero weight', '0,1', 100n],
  ['a negative weight', '-1,2', 100n],
  ['a plus sign', '+1', 100n],
  ['a leading zero', '01,2', 100n],
  ['a fraction', '1.5,2', 100n],
  ['spaces', '1, 2', 100n],
  ['an exponent', '1e3', 100n],
  ['a word', 'ten', 100n],
  ['a non-ASCII digit', '\uff11', 100n],
  ['a zero supply', '1', 0n],
  ['a negative supply', '1', -5n],
  ['a supply above u64', '1', MAX_SUPPLY + 1n],
  ['a number supply', '1', 100 as unknown as bigint],
  ['a non-string spec', 40 as unknown as string, 100n],
] as const) {
  test(`parseStakes rejects ${why}`, () => {
    try {
      parseStakes(spec, total);
    } catch (e) {
      assert.instance(e, TestnetError);
      assert.is((e as TestnetError).code, 'BAD_STAKES');
      return;
    }
    assert.unreachable('expected a TestnetError');
  });
}

const weightsArb = fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), {
  minLength: 1,
  maxLength: 12,
});
const supplyArb = fc.oneof(
  fc.bigInt({ min: 1n, max: 1000n }),
  fc.bigInt({ min: 1n, max: MAX_SUPPLY }),
);

test('property: shares sum to the supply and each is its quota rounded down or up', () => {
  fc.assert(
    fc.property(weightsArb, supplyArb, (weights, total) => {
      const shares = parseStakes(weights.join(','), total);
      const sum = weights.reduce((a, b) => a + b, 0n);
      assert.is(shares.length, weights.length);
      assert.is(
        shares.reduce((a, b) => a + b, 0n),
        total,
      );
      for (const [i, s] of shares.entries()) {
        const floor = (total * weights[i]!) / sum;
        assert.ok(s === floor || s === floor + 1n, `share ${i}: ${s} vs quota floor ${floor}`);
      }
    }),
  );
});

test('property: a larger weight never gets less; equal weights favour the lower index', () => {
  fc.assert(
    fc.property(weightsArb, supplyArb, (weights, total) => {
      const shares = parseStakes(weights.join(','), total);
      for (let i = 0; i < weights.length; i++) {
        for (let j = i + 1; j < weights.length; j++) {
          const [wi, wj, si, sj] = [weights[i]!, weights[j]!, shares[i]!, shares[j]!];
          if (wi >= wj) assert.ok(si >= sj);
          if (wi < wj) assert.ok(si <= sj);
        }
      }
    }),
  );
});

test('property: only the ratios matter (scaling every weight changes nothing)', () => {
  fc.assert(
    fc.property(weightsArb, supplyArb, fc.bigInt({ min: 2n, max: 1000n }), (weights, total, k) => {
      assert.equal(
        parseStakes(weights.map((w) => w * k).join(','), total),
        parseStakes(weights.join(','), total),
      );
    }),
  );
});

test.run();
