// Blocks and finality certificates (docs/PROTOCOL.md 7): header, validator-set, block-signature and certificate codecs
// (round trips and canonical rejections), the block hash covering every
// field, and the verifyCertificate table (supermajority boundary, unknown and
// duplicate signers, wrong height, hash, signature or chain, unequal stakes).

import { cat, fill, u16, u32, u64 } from '@pos/test-utils/bytes';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BLOCK_HEADER_BYTES,
  type BlockHeader,
  blockHashOf,
  blockHeaderFromJSON,
  blockHeaderToJSON,
  type CertificateSignature,
  certificateFromJSON,
  certificateToJSON,
  decodeBlockHeader,
  decodeBlockSignature,
  decodeCertificate,
  decodeValidatorSet,
  ed25519PublicKey,
  encodeBlockHeader,
  encodeBlockSignature,
  encodeCertificate,
  encodeValidatorSet,
  type FinalityCertificate,
  makeValidatorSet,
  ProtocolError,
  signEd25519,
  type ValidatorSet,
  validatorIdOfKey,
  validatorSetFromJSON,
  validatorSetHash,
  validatorSetToJSON,
  verifyCertificate,
} from '../src/index.js';

const header: BlockHeader = {
  chainId: fill(32, 0x11),
  height: 7,
  leader: fill(32, 0x22),
  prevBlockHash: fill(32, 0x33),
  timestamp: 1_700_000_000_000,
  txCount: 3,
  stateRoot: fill(32, 0x44),
  historyRoot: fill(32, 0x55),
  historySize: 12,
  validatorSetHash: fill(32, 0x66),
};

const throwsCode = (fn: () => unknown, code: string, what = '') => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ProtocolError, `${what}: not a ProtocolError: ${String(e)}`);
    assert.is((e as ProtocolError).code, code, `${what}: ${(e as Error).message}`);
    return;
  }
  assert.unreachable(`${what}: did not throw`);
};

// --- header --------------------------------------------------------------------

test('header: layout by hand, round trip, hash', () => {
  const bytes = encodeBlockHeader(header);
  const expected = cat(
    Uint8Array.of(1),
    fill(32, 0x11),
    u64(7n),
    fill(32, 0x22),
    fill(32, 0x33),
    u64(1_700_000_000_000n),
    u32(3),
    fill(32, 0x44),
    fill(32, 0x55),
    u64(12n),
    fill(32, 0x66),
  );
  assert.is(hex(bytes), hex(expected));
  assert.is(bytes.length, BLOCK_HEADER_BYTES);
  assert.equal(decodeBlockHeader(bytes), header);
  const tagged = sha256(cat(new TextEncoder().encode('pos/block'), expected));
  assert.is(hex(blockHashOf(header)), hex(tagged));
  assert.is(hex(blockHashOf(header, sha256)), hex(tagged));
});

test('header: canonical rejections', () => {
  const good = encodeBlockHeader(header);
  throwsCode(() => decodeBlockHeader(good.subarray(0, good.length - 1)), 'BAD_ENCODING', 'short');
  throwsCode(() => decodeBlockHeader(cat(good, Uint8Array.of(0))), 'BAD_ENCODING', 'trailing');
  for (const version of [0, 2, 255]) {
    const b = good.slice();
    b[0] = version;
    throwsCode(() => decodeBlockHeader(b), 'BAD_ENCODING', `version ${version}`);
  }
  // u64 fields >= 2^53: height (offset 33), timestamp (105), historySize (181)
  for (const [off, what] of [
    [33, 'height'],
    [105, 'timestamp'],
    [221 - 32 - 8, 'historySize'],
  ] as const) {
    const b = good.slice();
    b.set(u64(1n << 53n), off);
    throwsCode(() => decodeBlockHeader(b), 'BAD_ENCODING', what);
    b.set(u64((1n << 53n) - 1n), off);
    assert.ok(decodeBlockHeader(b), `${what} 2^53-1 accepted`);
  }
  throwsCode(() => encodeBlockHeader({ ...header, leader: fill(31, 0) }), 'BAD_ARGUMENT');
  throwsCode(() => encodeBlockHeader({ ...header, height: -1 }), 'BAD_ARGUMENT');
  throwsCode(() => encodeBlockHeader({ ...header, txCount: 2 ** 32 }), 'BAD_ARGUMENT');
  throwsCode(() => encodeBlockHeader({ ...header, timestamp: 1.5 }), 'BAD_ARGUMENT');
});

test('header: blockHash covers every field (and every byte)', () => {
  const base = hex(blockHashOf(header));
  const bytes = encodeBlockHeader(header);
  const keys = Object.keys(header) as (keyof BlockHeader)[];
  assert.is(keys.length, 10);
  for (const k of keys) {
    const v = header[k];
    const changed = typeof v === 'number' ? v + 1 : Uint8Array.from(v, (x) => x ^ 1);
    const h2 = { ...header, [k]: changed } as BlockHeader;
    assert.is.not(hex(blockHashOf(h2)), base, `field ${k}`);
  }
  // Flip bit 0 of every byte after the version; the three that set bit 56 of a
  // u64 field (height, timestamp, historySize) do not decode, the rest must
  // all change the hash.
  let decoded = 0;
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes.slice();
    b[i]! ^= 0x01;
    let h2: BlockHeader;
    try {
      h2 = decodeBlockHeader(b);
    } catch {
      assert.ok([33, 105, 181].includes(i), `byte ${i} should decode`);
      continue;
    }
    decoded++;
    assert.is.not(hex(blockHashOf(h2)), base, `byte ${i}`);
  }
  assert.is(decoded, bytes.length - 1 - 3);
});

test('header: JSON round trip and strictness', () => {
  const j = blockHeaderToJSON(header);
  assert.is(j.chainId, `0x${'11'.repeat(32)}`);
  assert.is(j.height, 7);
  assert.equal(blockHeaderFromJSON(JSON.parse(JSON.stringify(j))), header);
  throwsCode(() => blockHeaderFromJSON({ ...j, extra: 1 }), 'BAD_ARGUMENT', 'extra key');
  const { height: _h, ...noHeight } = j;
  throwsCode(() => blockHeaderFromJSON(noHeight), 'BAD_ARGUMENT', 'missing key');
  throwsCode(() => blockHeaderFromJSON({ ...j, height: '7' }), 'BAD_ARGUMENT', 'string height');
  throwsCode(() => blockHeaderFromJSON({ ...j, height: 2 ** 53 }), 'BAD_ARGUMENT', 'big height');
  throwsCode(
    () => blockHeaderFromJSON({ ...j, leader: `0x${'AA'.repeat(32)}` }),
    'BAD_HEX',
    'upper hex',
  );
  throwsCode(() => blockHeaderFromJSON({ ...j, stateRoot: '0x00' }), 'BAD_HEX', 'short hex');
});

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const safe = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const arbHeader: fc.Arbitrary<BlockHeader> = fc
  .record({
    chainId: bytes32,
    height: safe,
    leader: bytes32,
    prevBlockHash: bytes32,
    timestamp: safe,
    txCount: fc.integer({ min: 0, max: 0xffffffff }),
    stateRoot: bytes32,
    historyRoot: bytes32,
    historySize: safe,
    validatorSetHash: bytes32,
  })
  .map((h) => ({ ...h })); // a plain prototype, for uvu's deep equality

test('header: property round trips (bytes and JSON)', () => {
  fc.assert(
    fc.property(arbHeader, (h) => {
      const b = encodeBlockHeader(h);
      const d = decodeBlockHeader(b);
      assert.equal(d, h);
      assert.is(hex(encodeBlockHeader(d)), hex(b));
      assert.equal(blockHeaderFromJSON(JSON.parse(JSON.stringify(blockHeaderToJSON(h)))), h);
    }),
  );
});

test('header: property, every decodable byte string re-encodes to itself', () => {
  fc.assert(
    fc.property(arbHeader, fc.nat(), fc.integer({ min: 1, max: 255 }), (h, i, x) => {
      const b = encodeBlockHeader(h);
      b[i % b.length]! ^= x;
      let d: BlockHeader;
      try {
        d = decodeBlockHeader(b);
      } catch (e) {
        assert.ok(e instanceof ProtocolError);
        return;
      }
      assert.is(hex(encodeBlockHeader(d)), hex(b));
    }),
  );
});

// --- keys and validator sets -----------------------------------------------------

const seed = (i: number) => fill(32, i + 1);
const keys = Array.from({ length: 6 }, (_, i) => ({
  sk: seed(i),
  pk: ed25519PublicKey(seed(i)),
}));

function setOf(stakes: readonly bigint[]): ValidatorSet {
  return makeValidatorSet(stakes.map((stake, i) => ({ publicKey: keys[i]!.pk, stake })));
}

test('validator set: layout, round trip, hash, JSON', () => {
  const s = setOf([40n, 30n, 20n, 10n]);
  const ids = s.validators.map((v) => hex(v.validatorId));
  assert.equal(ids, [...ids].sort());
  for (const v of s.validators) {
    assert.is(
      hex(v.validatorId),
      hex(sha256(cat(new TextEncoder().encode('pos/validator'), v.publicKey))),
    );
  }
  const b = encodeValidatorSet(s);
  assert.is(b.length, 2 + 4 * 72);
  assert.is(
    hex(b),
    hex(cat(u16(4), ...s.validators.map((v) => cat(v.validatorId, v.publicKey, u64(v.stake))))),
  );
  assert.equal(decodeValidatorSet(b), s);
  assert.is(hex(validatorSetHash(s)), hex(sha256(cat(new TextEncoder().encode('pos/valset'), b))));
  const j = validatorSetToJSON(s);
  assert.is(typeof j.validators[0]!.stake, 'string');
  assert.equal(validatorSetFromJSON(JSON.parse(JSON.stringify(j))), s);
  // Stake and membership change the hash.
  assert.is.not(hex(validatorSetHash(setOf([40n, 30n, 20n, 11n]))), hex(validatorSetHash(s)));
  assert.is.not(hex(validatorSetHash(setOf([40n, 30n, 20n]))), hex(validatorSetHash(s)));
});

test('validator set: canonical rejections', () => {
  const s = setOf([40n, 30n, 20n]);
  const [a, b, c] = s.validators as [
    ValidatorSet['validators'][0],
    ValidatorSet['validators'][0],
    ValidatorSet['validators'][0],
  ];
  const enc = (vs: ValidatorSet['validators']) =>
    cat(u16(vs.length), ...vs.map((v) => cat(v.validatorId, v.publicKey, u64(v.stake))));
  throwsCode(() => decodeValidatorSet(enc([b, a, c])), 'BAD_ENCODING', 'unsorted');
  throwsCode(() => decodeValidatorSet(enc([a, a, c])), 'BAD_ENCODING', 'duplicate');
  throwsCode(() => decodeValidatorSet(enc([])), 'BAD_ENCODING', 'empty');
  const forged = { ...a, publicKey: c.publicKey };
  throwsCode(() => decodeValidatorSet(enc([forged])), 'BAD_ENCODING', 'id not of key');
  const good = enc([a, b, c]);
  throwsCode(() => decodeValidatorSet(cat(good, Uint8Array.of(0))), 'BAD_ENCODING', 'trailing');
  throwsCode(() => decodeValidatorSet(good.subarray(0, good.length - 1)), 'BAD_ENCODING', 'short');
  throwsCode(() => encodeValidatorSet({ validators: [b, a] }), 'BAD_ARGUMENT', 'encode unsorted');
  throwsCode(
    () =>
      validatorSetFromJSON({ validators: [{ ...validatorSetToJSON(s).validators[0], stake: 5 }] }),
    'BAD_AMOUNT',
    'numeric stake',
  );
});

// --- block-signature payload -------------------------------------------------------

test('block signature payload: layout, round trip, rejections', () => {
  const p = { height: 9, blockHash: fill(32, 0xaa), signature: fill(64, 0xbb) };
  const b = encodeBlockSignature(p);
  assert.is(hex(b), hex(cat(u64(9n), fill(32, 0xaa), fill(64, 0xbb))));
  assert.equal(decodeBlockSignature(b), p);
  throwsCode(() => decodeBlockSignature(b.subarray(0, 103)), 'BAD_ENCODING', 'short');
  throwsCode(() => decodeBlockSignature(cat(b, Uint8Array.of(0))), 'BAD_ENCODING', 'long');
  throwsCode(
    () => decodeBlockSignature(cat(u64(1n << 53n), fill(96, 0))),
    'BAD_ENCODING',
    'height',
  );
  throwsCode(() => encodeBlockSignature({ ...p, signature: fill(63, 0) }), 'BAD_ARGUMENT');
});

// --- certificates ------------------------------------------------------------------

/** Signatures by validators `idx` over `h` (sorted by validatorId). */
function sigsOver(h: BlockHeader, idx: readonly number[]): CertificateSignature[] {
  const bh = blockHashOf(h);
  return idx
    .map((i) => ({
      validatorId: validatorIdOfKey(keys[i]!.pk),
      signature: signEd25519(keys[i]!.sk, bh),
    }))
    .sort((x, y) => (hex(x.validatorId) < hex(y.validatorId) ? -1 : 1));
}
function certOf(h: BlockHeader, idx: readonly number[]): FinalityCertificate {
  return { height: h.height, blockHash: blockHashOf(h), signatures: sigsOver(h, idx) };
}

test('certificate: layout, round trip, JSON, rejections', () => {
  const c = certOf(header, [0, 1, 2]);
  const b = encodeCertificate(c);
  assert.is(
    hex(b),
    hex(
      cat(
        u64(7n),
        c.blockHash,
        u16(3),
        ...c.signatures.map((s) => cat(s.validatorId, s.signature)),
      ),
    ),
  );
  assert.equal(decodeCertificate(b), c);
  assert.equal(certificateFromJSON(JSON.parse(JSON.stringify(certificateToJSON(c)))), c);
  const [s0, s1, s2] = c.signatures as [
    CertificateSignature,
    CertificateSignature,
    CertificateSignature,
  ];
  const enc = (ss: CertificateSignature[]) =>
    cat(u64(7n), c.blockHash, u16(ss.length), ...ss.map((s) => cat(s.validatorId, s.signature)));
  throwsCode(() => decodeCertificate(enc([s1, s0, s2])), 'BAD_ENCODING', 'unsorted');
  throwsCode(() => decodeCertificate(enc([s0, s0, s2])), 'BAD_ENCODING', 'duplicate');
  throwsCode(() => decodeCertificate(enc([])), 'BAD_ENCODING', 'empty');
  throwsCode(() => decodeCertificate(cat(b, Uint8Array.of(0))), 'BAD_ENCODING', 'trailing');
  throwsCode(() => decodeCertificate(b.subarray(0, b.length - 1)), 'BAD_ENCODING', 'short');
  throwsCode(
    () => encodeCertificate({ ...c, signatures: [s1, s0] }),
    'BAD_ARGUMENT',
    'encode unsorted',
  );
  throwsCode(
    () => certificateFromJSON({ ...certificateToJSON(c), signatures: [] }),
    'BAD_ARGUMENT',
    'json empty',
  );
});

test('verifyCertificate: equal stakes, the 2/3 boundary', () => {
  // 3 of 3 equal: 3·3 > 2·3 passes; 2 of 3: 6 > 6 fails (exactly 2/3).
  const s3 = setOf([1n, 1n, 1n]);
  assert.equal(verifyCertificate(header, certOf(header, [0, 1, 2]), s3), {
    ok: true,
    signedStake: 3n,
    totalStake: 3n,
  });
  assert.equal(verifyCertificate(header, certOf(header, [0, 1]), s3), {
    ok: false,
    reason: 'INSUFFICIENT_STAKE',
  });
  // 6 equal: 4 of 6 is exactly 2/3 and fails, 5 of 6 passes.
  const s6 = setOf([5n, 5n, 5n, 5n, 5n, 5n]);
  assert.is(verifyCertificate(header, certOf(header, [0, 1, 2, 3]), s6).ok, false);
  assert.equal(verifyCertificate(header, certOf(header, [0, 1, 2, 3, 4]), s6), {
    ok: true,
    signedStake: 25n,
    totalStake: 30n,
  });
  // Just above 2/3: stakes 200/100 (+1 in a third member): 201·3 = 603 > 2·301 = 602.
  const sA = setOf([200n, 100n, 1n]);
  assert.is(verifyCertificate(header, certOf(header, [0, 2]), sA).ok, true);
  const sB = setOf([200n, 100n]);
  assert.is(verifyCertificate(header, certOf(header, [0]), sB).ok, false); // 600 > 600 is false
});

test('verifyCertificate: unequal stakes 40/30/20/10, every subset', () => {
  const stakes = [40n, 30n, 20n, 10n];
  const s = setOf(stakes);
  for (let mask = 1; mask < 16; mask++) {
    const idx = [0, 1, 2, 3].filter((i) => mask & (1 << i));
    const signed = idx.reduce((t, i) => t + stakes[i]!, 0n);
    const r = verifyCertificate(header, certOf(header, idx), s);
    if (3n * signed > 200n) {
      assert.equal(r, { ok: true, signedStake: signed, totalStake: 100n }, `subset ${idx}`);
    } else {
      assert.equal(r, { ok: false, reason: 'INSUFFICIENT_STAKE' }, `subset ${idx}`);
    }
  }
  // The boundary cases, named: 40+30 = 70 passes; 40+20+10 = 70 passes; 30+20+10 = 60 fails;
  // 40+20 = 60 fails; 40+30 alone is enough without the two small ones.
  assert.is(verifyCertificate(header, certOf(header, [0, 1]), s).ok, true);
  assert.is(verifyCertificate(header, certOf(header, [0, 2, 3]), s).ok, true);
  assert.is(verifyCertificate(header, certOf(header, [1, 2, 3]), s).ok, false);
  assert.is(verifyCertificate(header, certOf(header, [0, 2]), s).ok, false);
});

test('verifyCertificate: failure table', () => {
  const s = setOf([1n, 1n, 1n, 1n]);
  const good = certOf(header, [0, 1, 2, 3]);
  assert.is(verifyCertificate(header, good, s).ok, true);
  const reason = (c: unknown, ...rest: [h?: unknown, set?: unknown]) => {
    const h = rest.length >= 1 ? rest[0] : header;
    const set = rest.length >= 2 ? rest[1] : s;
    const r = verifyCertificate(h as BlockHeader, c as FinalityCertificate, set as ValidatorSet);
    return r.ok ? 'OK' : r.reason;
  };

  // Unknown signer: key 5 signs validly, but is not in the set.
  const outsider = sigsOver(header, [5])[0]!;
  const withOutsider = [...good.signatures, outsider].sort((x, y) =>
    hex(x.validatorId) < hex(y.validatorId) ? -1 : 1,
  );
  assert.is(reason({ ...good, signatures: withOutsider }), 'UNKNOWN_SIGNER');
  // Duplicate signer, adjacent and not: 3 distinct (3·3 > 2·4) plus one repeated.
  const three = sigsOver(header, [0, 1, 2]);
  assert.is(reason({ ...good, signatures: [...three, three[0]!] }), 'DUPLICATE_SIGNER');
  assert.is(reason({ ...good, signatures: [three[0]!, three[0]!, three[1]!] }), 'DUPLICATE_SIGNER');
  // Unsorted signers.
  assert.is(
    reason({ ...good, signatures: [...good.signatures].reverse() }),
    'MALFORMED_CERTIFICATE',
  );
  // Wrong height (same hash), wrong hash (same height).
  assert.is(reason({ ...good, height: 8 }), 'HEIGHT_MISMATCH');
  assert.is(reason(good, { ...header, height: 8 }), 'HEIGHT_MISMATCH');
  assert.is(reason({ ...good, blockHash: fill(32, 0) }), 'HASH_MISMATCH');
  assert.is(reason(good, { ...header, stateRoot: fill(32, 0) }), 'HASH_MISMATCH');
  // Bad signature: one bit flipped in one of four (3 others would be enough
  // stake, but a certificate with an invalid signature is refused whole).
  const flipped = good.signatures.map((x, i) =>
    i === 2
      ? { ...x, signature: Uint8Array.from(x.signature, (b, j) => (j === 10 ? b ^ 1 : b)) }
      : x,
  );
  assert.is(reason({ ...good, signatures: flipped }), 'BAD_SIGNATURE');
  // A signature by the right key over another block hash.
  const other = sigsOver({ ...header, txCount: 4 }, [3])[0]!;
  const swapped = good.signatures.map((x) =>
    hex(x.validatorId) === hex(other.validatorId) ? other : x,
  );
  assert.is(reason({ ...good, signatures: swapped }), 'BAD_SIGNATURE');
  // Signatures from a different chain's header: same fields, other chainId.
  const otherChain = { ...header, chainId: fill(32, 0x99) };
  const foreign = certOf(otherChain, [0, 1, 2, 3]);
  assert.is(verifyCertificate(otherChain, foreign, s).ok, true);
  assert.is(reason(foreign), 'HASH_MISMATCH');
  assert.is(reason({ ...good, signatures: foreign.signatures }), 'BAD_SIGNATURE');
  // Malformed inputs fail closed, never throw.
  assert.is(reason(null), 'MALFORMED_CERTIFICATE');
  assert.is(reason({ ...good, signatures: 'x' }), 'MALFORMED_CERTIFICATE');
  assert.is(reason({ ...good, signatures: [null] }), 'MALFORMED_CERTIFICATE');
  assert.is(
    reason({ ...good, signatures: [{ validatorId: fill(31, 0), signature: fill(64, 0) }] }),
    'MALFORMED_CERTIFICATE',
  );
  assert.is(reason(good, null), 'MALFORMED_HEADER');
  assert.is(reason(good, { ...header, txCount: -1 }), 'MALFORMED_HEADER');
  assert.is(reason(good, header, { validators: [] }), 'MALFORMED_SET');
  assert.is(reason(good, header, { validators: [...s.validators].reverse() }), 'MALFORMED_SET');
  assert.is(reason(good, header, undefined), 'MALFORMED_SET');
  // A verifier that throws is a failure, not an exception.
  const r = verifyCertificate(header, good, s, () => {
    throw new Error('boom');
  });
  assert.is(r.ok, false);
  // The verifier is what decides: one that says no to everything refuses.
  assert.equal(
    verifyCertificate(header, good, s, () => false),
    { ok: false, reason: 'BAD_SIGNATURE' },
  );
});

test('verifyCertificate: zero total stake never passes', () => {
  const s = setOf([0n, 0n]);
  assert.equal(verifyCertificate(header, certOf(header, [0, 1]), s), {
    ok: false,
    reason: 'INSUFFICIENT_STAKE',
  });
});

test.run();
