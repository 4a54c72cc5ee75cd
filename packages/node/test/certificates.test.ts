// The certificate collector (docs/PROTOCOL.md 7): signatures from kind-1 payloads become a certificate over the node's own
// block hash exactly when they reach a supermajority, pending signatures wait
// for the hash (bounded), bad and duplicate ones are ignored and reported,
// equivocation yields evidence, old heights are forgotten. The certificates it
// makes pass the wallet's verifyCertificate.
import { generateKeyPairSync } from 'node:crypto';
import {
  type BlockHeader,
  blockHashOf,
  decodeBlockSignature,
  encodeBlockSignature,
  makeValidatorSet,
  signEd25519,
  type ValidatorSet,
  verifyCertificate,
  verifyEd25519,
} from '@pos/protocol';
import { fill } from '@pos/test-utils/bytes';
import { hex } from '@pos/test-utils/node-hash';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createCertificateCollector } from '../src/chain/certificates.js';
import { verifyEd25519Sync } from '../src/crypto/crypto.js';

// Keys from node:crypto (raw 32-byte seeds and public keys out of the JWK).
const keys = Array.from({ length: 5 }, () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const d = privateKey.export({ format: 'jwk' }).d!;
  const x = publicKey.export({ format: 'jwk' }).x!;
  return {
    sk: new Uint8Array(Buffer.from(d, 'base64url')),
    pk: new Uint8Array(Buffer.from(x, 'base64url')),
  };
});

function setOf(stakes: readonly bigint[]): ValidatorSet {
  return makeValidatorSet(stakes.map((stake, i) => ({ publicKey: keys[i]!.pk, stake })));
}
const idOf = (set: ValidatorSet, i: number) =>
  set.validators.find((v) => hex(v.publicKey) === hex(keys[i]!.pk))!.validatorId;

const headerAt = (height: number, salt = 0): BlockHeader => ({
  chainId: fill(32, 0x11),
  height,
  leader: fill(32, salt),
  prevBlockHash: fill(32, 0),
  timestamp: 1000 + height,
  txCount: 0,
  stateRoot: fill(32, 0x44),
  historyRoot: fill(32, 0x55),
  historySize: 0,
  validatorSetHash: fill(32, 0x66),
});

/** Signs as validator i and passes the signature through the payload codec. */
function payload(i: number, h: BlockHeader) {
  const blockHash = blockHashOf(h);
  return decodeBlockSignature(
    encodeBlockSignature({
      height: h.height,
      blockHash,
      signature: signEd25519(keys[i]!.sk, blockHash),
    }),
  );
}

function collector(
  set: ValidatorSet,
  opts: { window?: number; maxPendingPerHeight?: number } = {},
) {
  return createCertificateCollector({
    validatorSet: () => set,
    verify: verifyEd25519Sync,
    ...opts,
  });
}

test('node:crypto keys sign what both verifiers accept', () => {
  const p = payload(0, headerAt(1));
  assert.ok(verifyEd25519(keys[0]!.pk, p.blockHash, p.signature));
  assert.ok(verifyEd25519Sync(keys[0]!.pk, p.blockHash, p.signature));
});

test('certificate appears exactly at the supermajority (40/30/20/10) and verifies', () => {
  const set = setOf([40n, 30n, 20n, 10n]);
  const h = headerAt(5);
  const c = collector(set);
  c.setBlock(5, blockHashOf(h));
  const add = (i: number) => {
    const p = payload(i, h);
    return c.addSignature(p.height, p.blockHash, idOf(set, i), p.signature);
  };
  assert.equal(add(1), { status: 'counted' }); // 30
  assert.is(c.certificate(5), undefined);
  assert.equal(add(2), { status: 'counted' }); // 50
  assert.is(c.certificate(5), undefined);
  assert.equal(add(3), { status: 'counted' }); // 60: below 2/3 of 100
  assert.is(c.certificate(5), undefined);
  assert.equal(add(0), { status: 'counted' }); // 100
  const cert = c.certificate(5)!;
  assert.ok(cert);
  assert.is(cert.signatures.length, 4);
  const ids = cert.signatures.map((s) => hex(s.validatorId));
  assert.equal(ids, [...ids].sort());
  assert.equal(verifyCertificate(h, cert, set), { ok: true, signedStake: 100n, totalStake: 100n });
  assert.is(c.certificate(6), undefined);
});

test('exactly 2/3 is not enough, just above is', () => {
  const set = setOf([1n, 1n, 1n]);
  const h = headerAt(2);
  const c = collector(set);
  c.setBlock(2, blockHashOf(h));
  for (const i of [0, 1]) {
    const p = payload(i, h);
    c.addSignature(2, p.blockHash, idOf(set, i), p.signature);
  }
  assert.is(c.certificate(2), undefined);
  const p = payload(2, h);
  c.addSignature(2, p.blockHash, idOf(set, 2), p.signature);
  assert.is(c.certificate(2)?.signatures.length, 3);
});

test('signatures before the own hash are pending, then count', () => {
  const set = setOf([1n, 1n, 1n, 1n]);
  const h = headerAt(3);
  const c = collector(set);
  for (const i of [0, 1, 2]) {
    const p = payload(i, h);
    assert.equal(c.addSignature(3, p.blockHash, idOf(set, i), p.signature), { status: 'pending' });
  }
  assert.is(c.certificate(3), undefined);
  c.setBlock(3, blockHashOf(h));
  const cert = c.certificate(3)!;
  assert.equal(verifyCertificate(h, cert, set), { ok: true, signedStake: 3n, totalStake: 4n });
});

test('signatures over another hash never make our certificate; pending is bounded', () => {
  const set = setOf([1n, 1n, 1n, 1n, 1n]);
  const ours = headerAt(4, 1);
  const theirs = headerAt(4, 2);
  const c = collector(set, { maxPendingPerHeight: 2 });
  c.setBlock(4, blockHashOf(ours));
  const r = [0, 1, 2, 3].map((i) => {
    const p = payload(i, theirs);
    return c.addSignature(4, p.blockHash, idOf(set, i), p.signature);
  });
  assert.equal(r, [
    { status: 'pending' },
    { status: 'pending' },
    { status: 'ignored', reason: 'PENDING_FULL' },
    { status: 'ignored', reason: 'PENDING_FULL' },
  ]);
  assert.is(c.certificate(4), undefined);
  // Signatures over our own hash are never refused for the pending bound.
  for (const i of [0, 1, 2, 3]) {
    const p = payload(i, ours);
    assert.is(c.addSignature(4, p.blockHash, idOf(set, i), p.signature).status, 'counted');
  }
  assert.equal(c.certificate(4)?.blockHash, blockHashOf(ours));
});

test('wrong, unknown and duplicate signatures are ignored and reported', () => {
  const set = setOf([1n, 1n, 1n, 1n]);
  const h = headerAt(1);
  const c = collector(set);
  c.setBlock(1, blockHashOf(h));
  const p0 = payload(0, h);
  const id0 = idOf(set, 0);
  // Signature by key 1 claimed as validator 0.
  const p1 = payload(1, h);
  assert.equal(c.addSignature(1, p1.blockHash, id0, p1.signature), {
    status: 'ignored',
    reason: 'BAD_SIGNATURE',
  });
  const bad = p0.signature.slice();
  bad[3]! ^= 1;
  assert.equal(c.addSignature(1, p0.blockHash, id0, bad), {
    status: 'ignored',
    reason: 'BAD_SIGNATURE',
  });
  // Key 4 is not in the set.
  const p4 = payload(4, h);
  assert.equal(c.addSignature(1, p4.blockHash, fill(32, 7), p4.signature), {
    status: 'ignored',
    reason: 'UNKNOWN_VALIDATOR',
  });
  assert.equal(c.addSignature(1, p0.blockHash, id0, p0.signature), { status: 'counted' });
  assert.equal(c.addSignature(1, p0.blockHash, id0, p0.signature), {
    status: 'ignored',
    reason: 'DUPLICATE',
  });
  // Malformed arguments: no exception.
  assert.equal(c.addSignature(1, fill(31, 0), id0, p0.signature), {
    status: 'ignored',
    reason: 'MALFORMED',
  });
  assert.equal(c.addSignature(-1, p0.blockHash, id0, p0.signature), {
    status: 'ignored',
    reason: 'MALFORMED',
  });
  assert.equal(c.addSignature(1.5, p0.blockHash, id0, p0.signature), {
    status: 'ignored',
    reason: 'MALFORMED',
  });
  // One valid signature of four members: no certificate.
  assert.is(c.certificate(1), undefined);
  // A verifier that throws is contained.
  const c2 = createCertificateCollector({
    validatorSet: () => set,
    verify: () => {
      throw new Error('boom');
    },
  });
  assert.equal(c2.addSignature(1, p0.blockHash, id0, p0.signature), {
    status: 'ignored',
    reason: 'MALFORMED',
  });
});

test('unknown height: no set, no signature', () => {
  const set = setOf([1n]);
  const c = createCertificateCollector({
    validatorSet: (h) => (h === 0 ? set : undefined),
    verify: verifyEd25519Sync,
  });
  const p = payload(0, headerAt(1));
  assert.equal(c.addSignature(1, p.blockHash, idOf(set, 0), p.signature), {
    status: 'ignored',
    reason: 'UNKNOWN_HEIGHT',
  });
  const p0 = payload(0, headerAt(0));
  c.setBlock(0, p0.blockHash);
  assert.equal(c.addSignature(0, p0.blockHash, idOf(set, 0), p0.signature), { status: 'counted' });
  assert.is(c.certificate(0)?.signatures.length, 1);
});

test('equivocation: two hashes by one validator give evidence once', () => {
  const set = setOf([1n, 1n, 1n, 1n]);
  const a = headerAt(9, 1);
  const b = headerAt(9, 2);
  const x = headerAt(9, 3);
  const c = collector(set);
  c.setBlock(9, blockHashOf(a));
  const id = idOf(set, 2);
  const pb = payload(2, b);
  assert.equal(c.addSignature(9, pb.blockHash, id, pb.signature), { status: 'pending' });
  const pa = payload(2, a);
  const r = c.addSignature(9, pa.blockHash, id, pa.signature);
  assert.is(r.status, 'counted');
  const ev = (r as { evidence?: unknown }).evidence as ReturnType<typeof c.evidence>[0];
  assert.ok(ev);
  assert.is(ev.height, 9);
  assert.is(hex(ev.validatorId), hex(id));
  assert.is(hex(ev.first.blockHash), hex(blockHashOf(b)));
  assert.is(hex(ev.second.blockHash), hex(blockHashOf(a)));
  // Both halves are real signatures by the validator's key.
  assert.ok(verifyEd25519Sync(keys[2]!.pk, ev.first.blockHash, ev.first.signature));
  assert.ok(verifyEd25519Sync(keys[2]!.pk, ev.second.blockHash, ev.second.signature));
  assert.is(c.evidence(9).length, 1);
  assert.is(c.evidence().length, 1);
  const px = payload(2, x);
  assert.equal(c.addSignature(9, px.blockHash, id, px.signature), {
    status: 'ignored',
    reason: 'TOO_MANY_HASHES',
  });
  assert.is(c.evidence(9).length, 1);
  assert.is(c.evidence(8).length, 0);
});

test('window: old heights are forgotten, far future refused', () => {
  const set = setOf([1n]);
  const c = collector(set, { window: 4 });
  const add = (height: number) => {
    const p = payload(0, headerAt(height));
    return c.addSignature(height, p.blockHash, idOf(set, 0), p.signature);
  };
  assert.equal(add(3), { status: 'pending' }); // head -1, window 4: heights 0..3
  assert.equal(add(4), { status: 'ignored', reason: 'FUTURE' });
  for (let h = 0; h <= 20; h++) {
    c.setBlock(h, blockHashOf(headerAt(h)));
    add(h);
    assert.ok(c.certificate(h), `height ${h}`);
    assert.ok(c.heights().length <= 4 * 2, `held ${c.heights().length}`);
  }
  assert.equal(c.heights(), [17, 18, 19, 20]);
  assert.is(c.certificate(16), undefined);
  assert.equal(add(16), { status: 'ignored', reason: 'STALE' });
  assert.equal(add(24), { status: 'pending' });
  assert.equal(add(25), { status: 'ignored', reason: 'FUTURE' });
  c.setBlock(16, blockHashOf(headerAt(16))); // a stale setBlock is a no-op
  assert.equal(c.heights(), [17, 18, 19, 20, 24]);
  assert.throws(() => c.setBlock(20, fill(32, 0xee)), /another hash/);
});

test('property: certificate iff 3·signed > 2·total, and it verifies', () => {
  const h = headerAt(1);
  const sigs = keys.map((_, i) => payload(i, h)); // sign once, reuse across runs
  fc.assert(
    fc.property(
      fc.array(fc.bigInt({ min: 0n, max: 1000n }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.nat({ max: 4 }), { maxLength: 8 }),
      (stakes, order) => {
        const set = setOf(stakes);
        const c = collector(set);
        c.setBlock(1, blockHashOf(h));
        const signers = new Set<number>();
        for (const i of order) {
          if (i >= stakes.length) continue;
          c.addSignature(1, sigs[i]!.blockHash, idOf(set, i), sigs[i]!.signature);
          signers.add(i);
        }
        const signed = [...signers].reduce((t, i) => t + stakes[i]!, 0n);
        const total = stakes.reduce((t, s) => t + s, 0n);
        const cert = c.certificate(1);
        if (signers.size > 0 && 3n * signed > 2n * total) {
          assert.ok(cert);
          assert.is(cert.signatures.length, signers.size);
          assert.equal(verifyCertificate(h, cert, set), {
            ok: true,
            signedStake: signed,
            totalStake: total,
          });
        } else {
          assert.is(cert, undefined);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test.run();
