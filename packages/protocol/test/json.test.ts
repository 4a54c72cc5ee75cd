import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatAmount,
  fromHex,
  MAX_AMOUNT,
  ProtocolError,
  parseAmount,
  toHex,
} from '../src/index.js';

function throwsCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ProtocolError);
    assert.is((e as ProtocolError).code, code);
    return;
  }
  assert.unreachable(`expected ProtocolError ${code}`);
}

// --- hex ----------------------------------------------------------------------

for (const [bytes, hex] of [
  [[], '0x'],
  [[0], '0x00'],
  [[0xab, 0xcd, 0xef], '0xabcdef'],
  [[0x01, 0x23, 0x45, 0x67, 0x89], '0x0123456789'],
  [[0xff, 0x00, 0x10], '0xff0010'],
] as const) {
  test(`toHex/fromHex: ${hex}`, () => {
    assert.is(toHex(Uint8Array.from(bytes)), hex);
    assert.equal(fromHex(hex), Uint8Array.from(bytes));
    assert.equal(fromHex(hex, bytes.length), Uint8Array.from(bytes));
  });
}

for (const [why, input, len] of [
  ['no prefix', 'abcd', undefined],
  ['upper-case prefix', '0Xabcd', undefined],
  ['upper-case digits', '0xABCD', undefined],
  ['mixed case', '0xaBcd', undefined],
  ['odd length', '0xabc', undefined],
  ['non-hex digit', '0xzz', undefined],
  ['leading space', ' 0xab', undefined],
  ['trailing newline', '0xab\n', undefined],
  ['empty string', '', undefined],
  ['only 0', '0', undefined],
  ['sign', '-0xab', undefined],
  ['too short for expectedLength', '0xabcd', 3],
  ['too long for expectedLength', '0xabcd', 1],
  ['empty for expectedLength 32', '0x', 32],
  ['a number', 171, undefined],
  ['null', null, undefined],
  ['an array', ['0xab'], undefined],
] as const) {
  test(`fromHex rejects ${why}`, () => {
    throwsCode(() => fromHex(input, len), 'BAD_HEX');
  });
}

test('fromHex rejects a bad expectedLength as a caller error', () => {
  for (const len of [-1, 1.5, Number.NaN]) throwsCode(() => fromHex('0x00', len), 'BAD_ARGUMENT');
});

test('property: fromHex(toHex(b), b.length) = b', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const h = toHex(b);
      assert.ok(/^0x[0-9a-f]*$/.test(h));
      assert.is(h.length, 2 + 2 * b.length);
      assert.equal(fromHex(h, b.length), b);
    }),
  );
});

test('property: any string fromHex accepts is the canonical spelling of its bytes', () => {
  const hexish = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFxX g'.split('')) });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        hexish,
        hexish.map((s) => `0x${s}`),
      ),
      (s) => {
        let bytes: Uint8Array;
        try {
          bytes = fromHex(s);
        } catch (e) {
          assert.is((e as ProtocolError).code, 'BAD_HEX');
          return;
        }
        assert.is(toHex(bytes), s);
      },
    ),
  );
});

test('property: an upper-case letter anywhere is rejected', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 32 }).filter((b) => /[a-f]/.test(toHex(b).slice(2))),
      (b) => {
        throwsCode(() => fromHex(`0x${toHex(b).slice(2).toUpperCase()}`), 'BAD_HEX');
      },
    ),
  );
});

// --- amounts ------------------------------------------------------------------

for (const [s, v] of [
  ['0', 0n],
  ['1', 1n],
  ['10', 10n],
  ['9007199254740993', 2n ** 53n + 1n], // not representable as a float
  ['18446744073709551615', MAX_AMOUNT],
] as const) {
  test(`parseAmount/formatAmount: ${s}`, () => {
    assert.is(parseAmount(s), v);
    assert.is(formatAmount(v), s);
  });
}

for (const [why, input] of [
  ['empty', ''],
  ['leading zero', '01'],
  ['double zero', '00'],
  ['minus sign', '-1'],
  ['negative zero', '-0'],
  ['plus sign', '+1'],
  ['decimal point', '1.0'],
  ['exponent', '1e3'],
  ['hex', '0x10'],
  ['leading space', ' 1'],
  ['trailing space', '1 '],
  ['trailing newline', '1\n'],
  ['separator', '1_000'],
  ['comma', '1,000'],
  ['full-width digit', '\uff11'],
  ['Arabic-Indic digit', '\u0661'],
  ['2^64', '18446744073709551616'],
  ['far out of range', '9'.repeat(400)],
  ['a JSON number', 5],
  ['a bigint', 5n],
  ['null', null],
] as const) {
  test(`parseAmount rejects ${why}`, () => {
    throwsCode(() => parseAmount(input), 'BAD_AMOUNT');
  });
}

test('formatAmount rejects values outside u64', () => {
  throwsCode(() => formatAmount(-1n), 'BAD_AMOUNT');
  throwsCode(() => formatAmount(MAX_AMOUNT + 1n), 'BAD_AMOUNT');
  throwsCode(() => formatAmount(5 as unknown as bigint), 'BAD_AMOUNT');
});

const u64 = fc.bigInt({ min: 0n, max: MAX_AMOUNT });

test('property: parseAmount(formatAmount(v)) = v over u64', () => {
  fc.assert(
    fc.property(u64, (v) => {
      assert.is(parseAmount(formatAmount(v)), v);
    }),
  );
});

test('property: out-of-range values are rejected both ways', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: MAX_AMOUNT + 1n, max: 1n << 80n }), (v) => {
      throwsCode(() => formatAmount(v), 'BAD_AMOUNT');
      throwsCode(() => parseAmount(v.toString()), 'BAD_AMOUNT');
      throwsCode(() => formatAmount(-v), 'BAD_AMOUNT');
    }),
  );
});

test('property: non-canonical spellings of an amount are rejected', () => {
  const spellings = [
    (s: string) => `0${s}`,
    (s: string) => `00${s}`,
    (s: string) => `+${s}`,
    (s: string) => `-${s}`,
    (s: string) => ` ${s}`,
    (s: string) => `${s} `,
    (s: string) => `${s}\n`,
    (s: string) => `\t${s}`,
    (s: string) => `${s}.0`,
    (s: string) => `${s}e0`,
    (s: string) => `${s}n`,
  ];
  fc.assert(
    fc.property(u64, fc.constantFrom(...spellings), (v, spell) => {
      throwsCode(() => parseAmount(spell(v.toString())), 'BAD_AMOUNT');
    }),
  );
});

test('property: any string parseAmount accepts is the canonical spelling of its value', () => {
  const digitish = fc.string({ unit: fc.constantFrom(...'0123456789+- .e'.split('')) });
  fc.assert(
    fc.property(fc.oneof(fc.string(), digitish), (s) => {
      let v: bigint;
      try {
        v = parseAmount(s);
      } catch (e) {
        assert.is((e as ProtocolError).code, 'BAD_AMOUNT');
        return;
      }
      assert.is(formatAmount(v), s);
    }),
  );
});

test.run();
