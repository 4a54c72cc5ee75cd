// The genesis document (docs/PROTOCOL.md 6.4): its canonical byte
// layout, the ids derived from it, every rejection rule, the JSON form and
// the genesis stakes.

import { cat, fill, u16, u32, u64 } from '@pos/test-utils/bytes';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  chainIdOf,
  createGenesis,
  decodeGenesis,
  defaultGenesisParams,
  encodeGenesis,
  type Genesis,
  genesisFromJSON,
  genesisStakes,
  genesisSupply,
  genesisToJSON,
  ProtocolError,
  validatorIdOf,
} from '../src/index.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const str = (s: string) => cat(u16(utf8(s).length), utf8(s));

function throwsCode(fn: () => unknown, code: string, match?: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, ProtocolError);
    assert.is((e as ProtocolError).code, code, (e as Error).message);
    if (match) assert.match((e as Error).message, match);
    return;
  }
  assert.unreachable(`expected ProtocolError ${code}`);
}

const pkA = fill(32, 0xa1);
const pkB = fill(32, 0xb2);
const idA = sha256(cat(utf8('pos/validator'), pkA));
const idB = sha256(cat(utf8('pos/validator'), pkB));
const [first, second] = (hex(idA) < hex(idB) ? [pkA, pkB] : [pkB, pkA]) as [Uint8Array, Uint8Array];
const unknownHost = fill(32, 0xee);
const owner = fill(32, 0x01);

const genesis = createGenesis({
  chainName: 'testnet-ü',
  genesisTime: 1_700_000_000_000,
  params: { minFee: 5n },
  validators: [
    { pubkey: pkB, name: 'bee', p2p: '127.0.0.1:9002' },
    { pubkey: pkA, name: 'ay', p2p: '127.0.0.1:9001' },
  ],
  outputs: [
    { amount: 100n, owner, host: idA },
    { amount: 50n, owner, host: idB },
    { amount: 25n, owner, host: idA },
    { amount: 7n, owner, host: unknownHost },
  ],
});

const nameOf = (pk: Uint8Array) => (pk === pkA ? 'ay' : 'bee');
const p2pOf = (pk: Uint8Array) => (pk === pkA ? '127.0.0.1:9001' : '127.0.0.1:9002');

/** The encoding of `genesis`, by hand from the layout in genesis.ts. */
const reference = cat(
  Uint8Array.of(2),
  str('testnet-ü'),
  u64(1_700_000_000_000n),
  u16(10),
  u64(5n),
  u32(1000),
  u32(4096),
  u64(1n),
  u16(2),
  first,
  str(nameOf(first)),
  str(p2pOf(first)),
  second,
  str(nameOf(second)),
  str(p2pOf(second)),
  u16(4),
  ...[
    [100n, idA],
    [50n, idB],
    [25n, idA],
    [7n, unknownHost],
  ].flatMap(([a, h]) => [u64(a as bigint), owner, h as Uint8Array]),
);

test('createGenesis fills the design defaults and sorts validators by validatorId', () => {
  assert.equal(genesis.params, { ...defaultGenesisParams, minFee: 5n });
  assert.equal(
    genesis.validators.map((v) => v.pubkey),
    [first, second],
  );
});

test('encoding: byte layout as documented; chainId and validatorId as docs/PROTOCOL.md 2 says', () => {
  assert.is(hex(encodeGenesis(genesis)), hex(reference));
  assert.is(hex(chainIdOf(genesis)), hex(sha256(cat(utf8('pos/genesis'), reference))));
  assert.is(hex(chainIdOf(genesis, sha256)), hex(chainIdOf(genesis)));
  assert.is(hex(validatorIdOf(pkA)), hex(idA));
  assert.is(hex(validatorIdOf(pkA, sha256)), hex(idA));
});

test('decode(encode(g)) = g', () => {
  assert.equal(decodeGenesis(reference), genesis);
});

test('genesis stakes: per validator in validatorId order; unknown hosts count for nobody', () => {
  const stakes = genesisStakes(genesis);
  const want = new Map([
    [hex(idA), 125n],
    [hex(idB), 50n],
  ]);
  assert.equal(
    stakes.map((s) => [hex(s.validatorId), s.stake]),
    [first, second].map((pk) => {
      const id = hex(validatorIdOf(pk));
      return [id, want.get(id)];
    }),
  );
  assert.is(genesisSupply(genesis), 182n);
  const zero = createGenesis({
    ...genesis,
    outputs: [{ amount: 1n, owner, host: unknownHost }],
  });
  assert.equal(
    genesisStakes(zero).map((s) => s.stake),
    [0n, 0n],
  );
});

test('JSON: round trip, every param written, defaults only when a param is left out', () => {
  const json = genesisToJSON(genesis);
  assert.equal(json.params, {
    coinFrequency: 10,
    minFee: '5',
    lag: 1000,
    epoch: 4096,
    minStake: '1',
  });
  assert.is(json.outputs[0]!.amount, '100');
  assert.is(json.validators[0]!.pubkey, `0x${hex(first)}`);
  assert.equal(genesisFromJSON(JSON.parse(JSON.stringify(json))), genesis);
  const short = JSON.parse(JSON.stringify(json));
  short.params = { minFee: '5', epoch: 16 };
  assert.equal(genesisFromJSON(short).params, {
    coinFrequency: 10,
    minFee: 5n,
    lag: 1000,
    epoch: 16,
    minStake: 1n,
  });
  short.params = { minFee: '5', minStake: '1000' };
  assert.is(genesisFromJSON(short).params.minStake, 1000n);
});

// --- rejections ----------------------------------------------------------------------------

// Offsets into `reference`, for the splices below.
const afterName = 1 + 2 + utf8('testnet-ü').length;
const atParams = afterName + 8;
const atValidators = atParams + 2 + 8 + 4 + 4 + 8;
const validatorsEnd = reference.length - 2 - 4 * 72;
const outputsTail = reference.subarray(validatorsEnd);
const validatorBytes = (pk: Uint8Array, name: Uint8Array, p2p: Uint8Array) =>
  cat(pk, u16(name.length), name, u16(p2p.length), p2p);
const withValidators = (...vs: Uint8Array[]) =>
  cat(reference.subarray(0, atValidators), u16(vs.length), ...vs, outputsTail);
const vFirst = validatorBytes(first, utf8(nameOf(first)), utf8(p2pOf(first)));
const vSecond = validatorBytes(second, utf8(nameOf(second)), utf8(p2pOf(second)));
const withOutputs = (...os: Uint8Array[]) =>
  cat(reference.subarray(0, validatorsEnd), u16(os.length), ...os);
const out = (amount: bigint) => cat(u64(amount), owner, idA);

test('the splicing helpers rebuild the reference exactly', () => {
  assert.is(hex(withValidators(vFirst, vSecond)), hex(reference));
  assert.is(hex(reference.subarray(atValidators, atValidators + 2)), '0002');
  assert.ok(decodeGenesis(withOutputs(out((1n << 64n) - 1n))));
});

for (const [why, bytes, match] of [
  ['version 1', cat(Uint8Array.of(1), reference.subarray(1)), /version/],
  ['version 3', cat(Uint8Array.of(3), reference.subarray(1)), /version/],
  [
    'an empty chain name',
    cat(Uint8Array.of(2), str(''), reference.subarray(afterName)),
    /chainName length/,
  ],
  [
    'a 65-byte chain name',
    cat(Uint8Array.of(2), str('x'.repeat(65)), reference.subarray(afterName)),
    /chainName length/,
  ],
  [
    'a chain name that is not UTF-8',
    cat(Uint8Array.of(2), u16(2), Uint8Array.of(0xc3, 0x28), reference.subarray(afterName)),
    /UTF-8/,
  ],
  [
    'an overlong UTF-8 encoding',
    cat(Uint8Array.of(2), u16(2), Uint8Array.of(0xc0, 0xaf), reference.subarray(afterName)),
    /UTF-8/,
  ],
  [
    'a genesis time of 2^53',
    cat(reference.subarray(0, afterName), u64(1n << 53n), reference.subarray(atParams)),
    /2\^53/,
  ],
  [
    'coinFrequency 1',
    cat(reference.subarray(0, atParams), u16(1), reference.subarray(atParams + 2)),
    /coinFrequency/,
  ],
  [
    'lag 0 (a set would certify its own table)',
    cat(reference.subarray(0, atValidators - 16), u32(0), reference.subarray(atValidators - 12)),
    /lag/,
  ],
  [
    'epoch 0',
    cat(reference.subarray(0, atValidators - 12), u32(0), reference.subarray(atValidators - 8)),
    /epoch/,
  ],
  [
    'minStake 0',
    cat(reference.subarray(0, atValidators - 8), u64(0n), reference.subarray(atValidators)),
    /minStake/,
  ],
  ['no validators', withValidators(), /validator count/],
  ['unsorted validators', withValidators(vSecond, vFirst), /sorted/],
  ['a validator twice', withValidators(vFirst, vFirst), /sorted/],
  [
    'a 65-byte validator name',
    withValidators(validatorBytes(first, fill(65, 0x61), utf8('h:1')), vSecond),
    /name length/,
  ],
  [
    'an empty p2p endpoint',
    withValidators(validatorBytes(first, utf8('n'), new Uint8Array(0)), vSecond),
    /p2p length/,
  ],
  [
    'a 129-byte p2p endpoint',
    withValidators(validatorBytes(first, utf8('n'), fill(129, 0x61)), vSecond),
    /p2p length/,
  ],
  ['no outputs', withOutputs(), /output count/],
  ['a zero amount', withOutputs(out(0n)), /amount/],
  ['a supply above 2^64-1', withOutputs(out((1n << 64n) - 1n), out(1n)), /supply/],
  ['a trailing byte', cat(reference, Uint8Array.of(0)), /trailing/],
  ['a missing byte', reference.subarray(0, reference.length - 1), /truncated/],
] as const) {
  test(`decodeGenesis rejects ${why}`, () => {
    throwsCode(() => decodeGenesis(bytes), 'BAD_ENCODING', match);
  });
}

test('decodeGenesis rejects every strict prefix', () => {
  for (let n = 0; n < reference.length; n++) {
    throwsCode(() => decodeGenesis(reference.subarray(0, n)), 'BAD_ENCODING');
  }
});

test('a leading BOM in a name is kept as a character (the bytes round-trip)', () => {
  const g = createGenesis({ ...genesis, chainName: '\uFEFFbom' });
  const b = encodeGenesis(g);
  assert.is(decodeGenesis(b).chainName, '\uFEFFbom');
  assert.is(hex(encodeGenesis(decodeGenesis(b))), hex(b));
});

for (const [why, edit, match] of [
  ['a lone surrogate in a name', { chainName: 'a\uD800b' }, /Unicode/],
  ['a fractional time', { genesisTime: 1.5 }, /genesisTime/],
  [
    'a duplicate validator',
    { validators: [genesis.validators[0]!, genesis.validators[0]!] },
    /sorted/,
  ],
  ['a 31-byte pubkey', { validators: [{ pubkey: fill(31, 0), name: '', p2p: 'h:1' }] }, /pubkey/],
  ['a number amount', { outputs: [{ amount: 1, owner, host: idA }] }, /amount/],
  ['a negative minFee', { params: { minFee: -1n } }, /minFee/],
  ['a lag of 2^32', { params: { minFee: 0n, lag: 2 ** 32 } }, /lag/],
  ['a lag of 0', { params: { minFee: 0n, lag: 0 } }, /lag/],
  ['a minStake of 0', { params: { minFee: 0n, minStake: 0n } }, /minStake/],
  ['a number minStake', { params: { minFee: 0n, minStake: 1 } }, /minStake/],
] as const) {
  test(`createGenesis rejects ${why}`, () => {
    throwsCode(
      () =>
        createGenesis({ ...genesis, ...(edit as object) } as Parameters<typeof createGenesis>[0]),
      'BAD_GENESIS',
      match,
    );
  });
}

test('encodeGenesis rejects unsorted validators (createGenesis is the place that sorts)', () => {
  const g: Genesis = { ...genesis, validators: [...genesis.validators].reverse() };
  throwsCode(() => encodeGenesis(g), 'BAD_GENESIS', /sorted/);
});

// biome-ignore lint/suspicious/noExplicitAny: a JSON value as JSON.parse returns it
type Json = any;
for (const [why, edit] of [
  ['an unknown key', (j: Json) => (j.extra = 1)],
  ['an unknown param', (j: Json) => (j.params.lagg = 1)],
  ['a missing minFee', (j: Json) => delete j.params.minFee],
  ['a null coinFrequency', (j: Json) => (j.params.coinFrequency = null)],
  ['version 1', (j: Json) => (j.version = 1)],
  ['a minStake of 0', (j: Json) => (j.params.minStake = '0')],
  ['a minStake as a number', (j: Json) => (j.params.minStake = 1)],
  ['upper-case hex', (j: Json) => (j.outputs[0].owner = j.outputs[0].owner.toUpperCase())],
  ['an amount as a number', (j: Json) => (j.outputs[0].amount = 100)],
  ['unsorted validators', (j: Json) => j.validators.reverse()],
  ['a time as a string', (j: Json) => (j.genesisTime = '1')],
] as const) {
  test(`genesisFromJSON rejects ${why}`, () => {
    const j = JSON.parse(JSON.stringify(genesisToJSON(genesis)));
    genesisFromJSON(j); // the unedited document parses
    edit(j);
    throwsCode(() => genesisFromJSON(j), 'BAD_GENESIS');
  });
}

// --- properties -------------------------------------------------------------------------

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const arbGenesis: fc.Arbitrary<Genesis> = fc
  .record({
    chainName: fc.string({ minLength: 1, maxLength: 16, unit: 'binary' }),
    genesisTime: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    coinFrequency: fc.integer({ min: 2, max: 0xffff }),
    minFee: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    lag: fc.integer({ min: 1, max: 0xffffffff }),
    epoch: fc.integer({ min: 1, max: 0xffffffff }),
    minStake: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
    validators: fc.uniqueArray(
      fc.record({
        pubkey: bytes32,
        name: fc.string({ maxLength: 16 }),
        p2p: fc.string({ minLength: 1, maxLength: 32 }),
      }),
      { minLength: 1, maxLength: 6, selector: (v) => hex(v.pubkey) },
    ),
    outputs: fc.array(
      fc.record({ amount: fc.bigInt({ min: 1n, max: 1n << 60n }), owner: bytes32, host: bytes32 }),
      { minLength: 1, maxLength: 8 },
    ),
  })
  .filter((r) => utf8(r.chainName).length <= 64)
  .map((r) =>
    createGenesis({
      chainName: r.chainName,
      genesisTime: r.genesisTime,
      params: {
        coinFrequency: r.coinFrequency,
        minFee: r.minFee,
        lag: r.lag,
        epoch: r.epoch,
        minStake: r.minStake,
      },
      validators: r.validators.map((v) => ({ pubkey: v.pubkey, name: v.name, p2p: v.p2p })),
      outputs: r.outputs.map((o) => ({ amount: o.amount, owner: o.owner, host: o.host })),
    }),
  );

test('property: decode(encode(g)) = g, encode(decode(b)) = b, JSON round trip', () => {
  fc.assert(
    fc.property(arbGenesis, (g) => {
      const b = encodeGenesis(g);
      const back = decodeGenesis(b);
      assert.equal(back, g);
      assert.is(hex(encodeGenesis(back)), hex(b));
      assert.equal(genesisFromJSON(JSON.parse(JSON.stringify(genesisToJSON(g)))), g);
    }),
    { numRuns: 200 },
  );
});

test('property: a mutated encoding is rejected or re-encodes to itself', () => {
  let decoded = 0;
  let rejected = 0;
  fc.assert(
    fc.property(arbGenesis, fc.nat(), fc.integer({ min: 0, max: 255 }), (g, at, v) => {
      const b = encodeGenesis(g);
      b[at % b.length] = v;
      let back: Genesis;
      try {
        back = decodeGenesis(b);
      } catch (e) {
        assert.instance(e, ProtocolError);
        rejected++;
        return;
      }
      decoded++;
      assert.is(hex(encodeGenesis(back)), hex(b));
    }),
    { numRuns: 400 },
  );
  assert.ok(decoded > 20 && rejected > 20, `${decoded} / ${rejected}`);
});

test.run();
