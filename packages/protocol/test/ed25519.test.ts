// The acceptance rule of docs/PROTOCOL.md 2 as the wallet applies it
// (src/ed25519.ts): RFC 8032 vectors, the shared edge-case table (published
// speccheck / CCTV vectors and constructed ones), the byte checks one by one,
// and properties. The node's verifiers are held to the same table in
// packages/node/test/crypto.test.ts.
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import {
  ALL_CASES,
  CANONICAL_BOUNDARY_POINTS,
  craftTorsionCase,
  EDGE_CASES,
  hexOf,
  L,
  le32,
  NON_CANONICAL_POINTS,
  RFC8032_VECTORS,
  SMALL_ORDER_POINTS,
  unhex,
} from '@pos/test-utils/ed25519-vectors';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkEd25519Encoding,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  ed25519PublicKey,
  randomEd25519SecretKey,
  signEd25519,
  verifyEd25519,
} from '../src/index.js';

const rawNobleStrict = (pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => {
  try {
    return ed25519.verify(sig, msg, pk, { zip215: false });
  } catch {
    return false;
  }
};

// A valid (pk, sig) whose parts the byte-check tests replace one at a time.
const T1 = RFC8032_VECTORS[0]!;
const goodPk = unhex(T1.pk);
const goodSig = unhex(T1.sig);
const withR = (r: Uint8Array) => Uint8Array.from([...r, ...goodSig.subarray(32)]);

// --- RFC 8032 section 7.1 ----------------------------------------------------

for (const v of RFC8032_VECTORS) {
  test(`RFC 8032 ${v.name}: public key, signature and verification`, () => {
    const sk = unhex(v.sk);
    assert.is(hexOf(ed25519PublicKey(sk)), v.pk);
    assert.is(hexOf(signEd25519(sk, unhex(v.msg))), v.sig);
    assert.ok(verifyEd25519(unhex(v.pk), unhex(v.msg), unhex(v.sig)));
  });
}

test('constants', () => {
  assert.is(ED25519_PUBLIC_KEY_BYTES, 32);
  assert.is(ED25519_SIGNATURE_BYTES, 64);
});

// --- the shared edge-case table ------------------------------------------------

for (const c of ALL_CASES) {
  test(`table: ${c.name}`, () => {
    const pk = unhex(c.pk);
    const msg = unhex(c.msg);
    const sig = unhex(c.sig);
    assert.is(verifyEd25519(pk, msg, sig), c.valid, 'the rule');
    assert.is(checkEd25519Encoding(pk, sig), c.encoding, 'byte checks');
    assert.is(rawNobleStrict(pk, msg, sig), c.nobleStrict, 'raw noble strict');
  });
}

test('table: the cases exercise both disagreements the rule removes', () => {
  // Where raw noble strict (cofactored) says true and the rule false with the
  // byte checks passing, only the cofactorless equation can decide: these are
  // the cases a noble-only final step would get wrong.
  const cofactorOnly = EDGE_CASES.filter((c) => c.nobleStrict && c.encoding && !c.valid);
  assert.ok(cofactorOnly.length >= 4, `cofactored-only cases: ${cofactorOnly.length}`);
  // Where raw OpenSSL says true and the byte checks reject.
  const byteOnly = EDGE_CASES.filter((c) => c.openssl && !c.encoding);
  assert.ok(byteOnly.length >= 20, `OpenSSL-accepted, byte-rejected: ${byteOnly.length}`);
  // And some edge cases are valid (mixed-order A whose equation holds).
  assert.ok(EDGE_CASES.some((c) => c.valid));
});

// --- the byte checks, one at a time ------------------------------------------

test('small-order table: 8 distinct points of order 1, 2, 4 or 8, as in noble', () => {
  const hexes = SMALL_ORDER_POINTS.map((p) => p.hex);
  assert.is(new Set(hexes).size, 8);
  assert.equal([...hexes].sort(), [...ED25519_TORSION_SUBGROUP].sort());
  for (const { hex, order } of SMALL_ORDER_POINTS) {
    const p = ed25519.Point.fromBytes(unhex(hex));
    assert.ok(p.multiplyUnsafe(BigInt(order)).is0(), `${hex} has order dividing ${order}`);
    if (order > 1) assert.not.ok(p.multiplyUnsafe(BigInt(order / 2)).is0(), `${hex} exact order`);
  }
});

for (const { hex, order } of SMALL_ORDER_POINTS) {
  test(`small-order point ${hex.slice(0, 8)}… (order ${order}) rejected as A and as R`, () => {
    assert.ok(checkEd25519Encoding(goodPk, goodSig), 'control');
    assert.not.ok(checkEd25519Encoding(unhex(hex), goodSig), 'as A');
    assert.not.ok(checkEd25519Encoding(goodPk, withR(unhex(hex))), 'as R');
  });
}

test('non-canonical encodings rejected as A and as R', () => {
  assert.is(NON_CANONICAL_POINTS.length, 42);
  for (const h of NON_CANONICAL_POINTS) {
    assert.not.ok(checkEd25519Encoding(unhex(h), goodSig), `A = ${h}`);
    assert.not.ok(checkEd25519Encoding(goodPk, withR(unhex(h))), `R = ${h}`);
  }
});

test('non-canonical encodings: those lax decoding accepts are real points', () => {
  // Not a tautology check of the list: a lax decoder (ZIP-215) turns these
  // into curve points, so without check 3 they would reach the equation.
  let decodable = 0;
  for (const h of NON_CANONICAL_POINTS) {
    try {
      ed25519.Point.fromBytes(unhex(h), true);
      decodable++;
    } catch {
      // not on the curve even after reduction
    }
  }
  assert.ok(decodable >= 24, `decodable non-canonical encodings: ${decodable}`);
});

test('canonical encodings at the boundary (y = p − 2, y = 2) pass the byte checks', () => {
  for (const h of CANONICAL_BOUNDARY_POINTS) {
    assert.ok(checkEd25519Encoding(unhex(h), goodSig), `A = ${h}`);
    assert.ok(checkEd25519Encoding(goodPk, withR(unhex(h))), `R = ${h}`);
  }
});

test('S: L − 1 passes the byte checks, L and above do not', () => {
  const r = goodSig.subarray(0, 32);
  const withS = (s: bigint) => Uint8Array.from([...r, ...le32(s)]);
  assert.ok(checkEd25519Encoding(goodPk, withS(0n)));
  assert.ok(checkEd25519Encoding(goodPk, withS(L - 1n)));
  for (const s of [L, L + 1n, 2n ** 253n, 2n ** 255n, 2n ** 256n - 1n]) {
    assert.not.ok(checkEd25519Encoding(goodPk, withS(s)), `S = ${s}`);
  }
});

test('lengths and types: false, never a throw', () => {
  const msg = unhex(T1.msg);
  const bad: unknown[] = [
    undefined,
    null,
    0,
    'd75a98',
    T1.pk,
    [...goodPk],
    {},
    goodPk.buffer,
    new Uint16Array(16),
  ];
  for (const b of bad) {
    assert.not.ok(checkEd25519Encoding(b as Uint8Array, goodSig));
    assert.not.ok(checkEd25519Encoding(goodPk, b as Uint8Array));
    assert.not.ok(verifyEd25519(b as Uint8Array, msg, goodSig));
    assert.not.ok(verifyEd25519(goodPk, msg, b as Uint8Array));
    assert.not.ok(verifyEd25519(goodPk, b as Uint8Array, goodSig));
  }
  for (const n of [0, 31, 33, 64]) {
    assert.not.ok(verifyEd25519(new Uint8Array(n).fill(1), msg, goodSig), `pk ${n} bytes`);
  }
  for (const n of [0, 32, 63, 65, 128]) {
    assert.not.ok(verifyEd25519(goodPk, msg, new Uint8Array(n)), `sig ${n} bytes`);
  }
  // A subarray view of the right length, offset into a larger buffer, is fine.
  const big = new Uint8Array(200);
  big.set(goodSig, 100);
  assert.ok(verifyEd25519(goodPk, msg, big.subarray(100, 164)));
});

test('a canonical A that is not on the curve: false', () => {
  // y = 2: canonical, not small order, but (y² − 1)/(dy² + 1) is not a square.
  const offCurve = unhex(CANONICAL_BOUNDARY_POINTS[2]!);
  assert.throws(() => ed25519.Point.fromBytes(offCurve));
  assert.not.ok(verifyEd25519(offCurve, new Uint8Array(0), goodSig));
});

// --- properties ----------------------------------------------------------------

const secretKey = fc.uint8Array({ minLength: 32, maxLength: 32 });
const message = fc.uint8Array({ minLength: 1, maxLength: 200 });

test('property: a fresh signature verifies, and any single bit flip fails', () => {
  fc.assert(
    fc.property(secretKey, message, fc.nat(), fc.nat(), fc.nat(), (sk, msg, i, j, k) => {
      const pk = ed25519PublicKey(sk);
      const sig = signEd25519(sk, msg);
      assert.ok(checkEd25519Encoding(pk, sig));
      assert.ok(verifyEd25519(pk, msg, sig));
      const flip = (b: Uint8Array, bit: number) => {
        const c = b.slice();
        c[(bit >> 3) % c.length]! ^= 1 << (bit & 7);
        return c;
      };
      assert.not.ok(verifyEd25519(pk, msg, flip(sig, i % 512)), 'sig bit');
      assert.not.ok(verifyEd25519(flip(pk, j % 256), msg, sig), 'key bit');
      assert.not.ok(verifyEd25519(pk, flip(msg, k % (8 * msg.length)), sig), 'message bit');
    }),
    { numRuns: 60 },
  );
});

test('property: random bytes never verify and never throw', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 30, maxLength: 34 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.uint8Array({ minLength: 62, maxLength: 66 }),
      (pk, msg, sig) => {
        assert.not.ok(verifyEd25519(pk, msg, sig));
      },
    ),
    { numRuns: 200 },
  );
});

test('randomEd25519SecretKey: 32 fresh bytes that sign and verify', () => {
  const a = randomEd25519SecretKey();
  const b = randomEd25519SecretKey();
  assert.is(a.length, 32);
  assert.not.equal(a, b);
  const msg = new TextEncoder().encode('pos');
  assert.ok(verifyEd25519(ed25519PublicKey(a), msg, signEd25519(a, msg)));
});

test('property: torsion components: the rule is the cofactorless equation, not noble strict', () => {
  // craftTorsionCase computes the cofactorless verdict from the torsion
  // components alone; noble strict (cofactored) accepts every such signature.
  const seen = { accepted: 0, rejected: 0 };
  fc.assert(
    fc.property(
      fc.bigInt({ min: 1n, max: L - 1n }),
      fc.bigInt({ min: 1n, max: L - 1n }),
      fc.nat(7),
      fc.nat(7),
      message,
      (a, r, tA, tR, msg) => {
        const c = craftTorsionCase(ed25519.Point, sha512, { a, r, tA, tR, msg });
        assert.ok(rawNobleStrict(c.pk, c.msg, c.sig), 'cofactored equation holds');
        assert.ok(checkEd25519Encoding(c.pk, c.sig), 'byte checks pass');
        assert.is(verifyEd25519(c.pk, c.msg, c.sig), c.cofactorless);
        seen[c.cofactorless ? 'accepted' : 'rejected']++;
      },
    ),
    { numRuns: 120 },
  );
  assert.ok(seen.accepted > 0 && seen.rejected > 0, JSON.stringify(seen));
});

test.run();
