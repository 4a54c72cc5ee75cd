// sha256Short (src/sha256-short.ts): the NIST example vectors (FIPS 180-4,
// the CSRC "SHA_All" examples, and the two classic long messages), then
// @noble/hashes as the reference on every length from 0 to 300 bytes (the
// one- and two-block paths and the allocating path past them, with padding
// edges at 55/56 and 119/120 bytes) and on random inputs, interleaved so
// that the shared scratch state cannot carry from one call to the next.
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sha256Short } from '../src/sha256-short.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const ascii = (s: string) => new TextEncoder().encode(s);

const vectors: Array<[name: string, input: Uint8Array, digest: string]> = [
  ['empty', new Uint8Array(0), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', ascii('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  [
    '448 bits',
    ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'),
    '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
  ],
  [
    '896 bits',
    ascii(
      'abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu',
    ),
    'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  ],
  [
    'one million a',
    new Uint8Array(1_000_000).fill(0x61),
    'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0',
  ],
];

for (const [name, input, digest] of vectors) {
  test(`NIST vector: ${name}`, () => {
    assert.is(hex(sha256Short(input)), digest);
  });
}

test('equals @noble/hashes on every length 0..300', () => {
  for (let n = 0; n <= 300; n++) {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = (i * 131 + n * 7) & 0xff;
    assert.is(hex(sha256Short(data)), hex(sha256(data)), `length ${n}`);
  }
});

test('property: equals @noble/hashes on random inputs, calls interleaved', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 8 }),
      (inputs) => {
        const ours = inputs.map((d) => hex(sha256Short(d)));
        const theirs = inputs.map((d) => hex(sha256(d)));
        assert.equal(ours, theirs);
      },
    ),
    { numRuns: 500 },
  );
});

test('the digest is a fresh array and the input is left as it was', () => {
  const data = new Uint8Array(67).fill(7);
  const a = sha256Short(data);
  const b = sha256Short(data);
  assert.is.not(a, b);
  assert.equal(a, b);
  assert.ok(data.every((x) => x === 7));
  a[0] ^= 1;
  assert.is.not(hex(a), hex(sha256Short(data)));
});

test.run();
