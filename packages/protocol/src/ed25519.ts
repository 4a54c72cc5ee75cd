/**
 * Ed25519: the one acceptance rule for signatures (docs/PROTOCOL.md 2),
 * browser-safe, and the wallet's verifier, signer and key helpers.
 *
 * docs/PROTOCOL.md 2 asks for one acceptance rule that every verifier
 * applies, in consensus and ledger rules alike, while the node verifies through
 * node:crypto (OpenSSL) and the wallet through @noble/curves. Those two
 * disagree on crafted inputs, so validity is defined here, as
 *
 *   valid(A, M, sig) = checkEd25519Encoding(A, sig)            (byte checks)
 *                    ∧ encode([S]B − [k]A) = R                 (the equation)
 *
 * with sig = R ‖ S and k = SHA-512(R ‖ A ‖ M) mod L (RFC 8032 section
 * 5.1.7). In words:
 *
 *  1. lengths: A is 32 bytes, sig is 64 bytes;
 *  2. S < L, the group order (RFC 8032 5.1.7 step 1: "if ... S is out of
 *     range, the signature is invalid"): no malleated S + nL;
 *  3. A and R are canonical point encodings: y < p after the sign bit is
 *     cleared, and not x = 0 with the sign bit set (RFC 8032 5.1.3; the
 *     canonical-encoding requirement of "Taming the many EdDSAs", Chalkias,
 *     Garillot, Nikolaenko, SSR 2020);
 *  4. A is not one of the 8 points of small order (a key of small order
 *     lets anyone "sign" without a secret, see the vectors);
 *  5. R is not one of the 8 points of small order (no honest signer ever
 *     produces one: R = [r]B with r uniform mod L);
 *  6. the cofactorless equation, checked by re-encoding: [S]B − [k]A must
 *     encode to exactly the bytes R.
 *
 * Why this and not noble's `verify(..., { zip215: false })` as the last step:
 * noble's strict mode checks the *cofactored* equation [8]([S]B − R − [k]A) =
 * O, OpenSSL the *cofactorless* one above. With a mixed-order A or R (a
 * prime-order point plus a small-order component, which no byte check can
 * see) a signer can make a signature that satisfies the first and not the
 * second; ed25519-speccheck vectors 7 and 8 are two such, and there noble's
 * strict verify says true and OpenSSL false. So the wallet computes the
 * OpenSSL equation with noble's point arithmetic: both sides then evaluate
 * the same formula on the same inputs. Checks 2–5 are the ones on which
 * OpenSSL is laxer than noble strict (it accepts a non-canonical A, a
 * small-order A or R); with them done first, every verifier agrees.
 *
 * The rule is exactly libsodium's (crypto_sign_verify_detached without
 * ED25519_COMPAT), which accepts only vector 6 of the 15 speccheck vectors,
 * as this rule does. A mixed-order A is accepted, as by libsodium and
 * OpenSSL: whether a given signature under it verifies is decided by the
 * equation, identically everywhere.
 *
 * This module imports only @noble/* (docs/PROTOCOL.md 2 and 11: the wallet
 * runs in browsers).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';

/** Length of an Ed25519 public key (a compressed point, RFC 8032 5.1.2). */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** Length of an Ed25519 signature, R ‖ S (RFC 8032 5.1.6). */
export const ED25519_SIGNATURE_BYTES = 64;
/** Length of an Ed25519 secret key (the 32-byte seed of RFC 8032 5.1.5). */
export const ED25519_SECRET_KEY_BYTES = 32;

/** L = 2^252 + 27742317777372353535851937790883648493, little-endian (RFC 8032 5.1). */
const L_LE = Uint8Array.from([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/**
 * The 8 points of small order (the torsion subgroup E[8]), each in its one
 * canonical encoding. Source: "Taming the many EdDSAs" (Chalkias et al. 2020)
 * section 4 and the libsodium blocklist; the same set is noble's
 * `ED25519_TORSION_SUBGROUP`, and the tests check that they are 8 distinct
 * points of order dividing 8. Their other encodings (y + p for y ∈ {0, 1},
 * and x = 0 with the sign bit set) are not canonical and fail check 3 first.
 */
const SMALL_ORDER_HEX = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity (order 1)
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // (0, −1), order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // (±√−1, 0), order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // the other, order 4
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
];
const SMALL_ORDER: readonly Uint8Array[] = SMALL_ORDER_HEX.map((h) =>
  Uint8Array.from({ length: 32 }, (_, i) => Number.parseInt(h.slice(2 * i, 2 * i + 2), 16)),
);

/** True when the 32 bytes at `off` in `b`, little-endian, are < the 32 bytes of `limit`. */
function lessThanLE(b: Uint8Array, off: number, limit: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const x = b[off + i]!;
    const y = limit[i]!;
    if (x !== y) return x < y;
  }
  return false;
}

/**
 * Check 3 on the 32 bytes at `off`: y (bit 255 cleared) < p = 2^255 − 19, and
 * not x = 0 with the sign bit set. Pure byte comparisons, no decoding: the
 * only y ≥ p have bytes 1..30 all 0xff, byte 31 = 0x7f (sign cleared) and
 * byte 0 ≥ 0xed; x = 0 exactly for y = 1 and y = p − 1.
 */
function isCanonicalPoint(b: Uint8Array, off: number): boolean {
  const top = b[off + 31]! & 0x7f;
  const sign = b[off + 31]! & 0x80;
  let middleAllFf = top === 0x7f;
  for (let i = 1; i <= 30 && middleAllFf; i++) middleAllFf = b[off + i] === 0xff;
  if (middleAllFf && b[off]! >= 0xed) return false; // y ≥ p
  if (sign === 0) return true;
  // y = 1: byte 0 = 1, bytes 1..31 (sign cleared) zero.
  let restZero = top === 0;
  for (let i = 1; i <= 30 && restZero; i++) restZero = b[off + i] === 0;
  if (restZero && b[off] === 0x01) return false;
  // y = p − 1 = 0x7fff…ffec.
  if (middleAllFf && b[off] === 0xec) return false;
  return true;
}

function isSmallOrder(b: Uint8Array, off: number): boolean {
  for (const t of SMALL_ORDER) {
    let eq = true;
    for (let i = 0; i < 32 && eq; i++) eq = b[off + i] === t[i];
    if (eq) return true;
  }
  return false;
}

/**
 * The byte checks of the acceptance rule (checks 1–5 in the module comment):
 * exact lengths, S < L, A and R canonical encodings, neither A nor R of
 * small order. Every verifier in the project runs this first and then one
 * equation, which is what makes the wallet (noble) and the node (OpenSSL)
 * agree on every input (docs/PROTOCOL.md 2). Pure byte comparisons, a
 * few hundred nanoseconds; never throws (a non-Uint8Array is `false`).
 *
 * It does not decide that A is on the curve (that needs a square root; the
 * equation step rejects such an A).
 */
export function checkEd25519Encoding(publicKey: Uint8Array, signature: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || !(signature instanceof Uint8Array)) return false;
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) return false;
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  if (!lessThanLE(signature, 32, L_LE)) return false; // RFC 8032 5.1.7: S ∈ [0, L)
  if (!isCanonicalPoint(publicKey, 0) || isSmallOrder(publicKey, 0)) return false;
  if (!isCanonicalPoint(signature, 0) || isSmallOrder(signature, 0)) return false;
  return true;
}

function bytesToBigIntLE(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
}

/**
 * Verifies an Ed25519 signature under the project's acceptance rule (module
 * comment; docs/PROTOCOL.md 2; RFC 8032 5.1.7 with the stricter checks
 * 2–5): {@link checkEd25519Encoding}, then the cofactorless equation
 * encode([S]B − [k]A) = R computed with @noble/curves. The same rule as the
 * node's `verifyEd25519Sync` (OpenSSL), vector for vector. About 500–650/s
 * in pure JS (packages/node/bench/results.md), a tenth of node:crypto, which
 * is what a node uses instead.
 *
 * Never throws: any malformed input, including a non-Uint8Array, is `false`
 * (fail closed).
 */
export function verifyEd25519(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (!checkEd25519Encoding(publicKey, signature)) return false;
    if (!(message instanceof Uint8Array)) return false;
    const r = signature.subarray(0, 32);
    // Strict decoding (zip215 = false): also rejects an A that is not on the curve.
    const A = ed25519.Point.fromBytes(publicKey, false);
    const s = bytesToBigIntLE(signature.subarray(32, 64)); // < L by check 2
    const k = bytesToBigIntLE(sha512.create().update(r).update(publicKey).update(message).digest());
    const rCheck = ed25519.Point.BASE.multiplyUnsafe(s)
      .subtract(A.multiplyUnsafe(k % L))
      .toBytes();
    // Byte equality, as OpenSSL does it (CRYPTO_memcmp of the re-encoding).
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= rCheck[i]! ^ r[i]!;
    return diff === 0;
  } catch {
    return false;
  }
}

/**
 * Signs `message` with a 32-byte secret key (seed), RFC 8032 5.1.6, through
 * @noble/curves. Deterministic; the result always satisfies
 * {@link verifyEd25519} for the matching public key. Throws on a secret key
 * that is not 32 bytes (a caller bug, not agent data).
 */
export function signEd25519(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}

/** The 32-byte public key of a 32-byte secret key (RFC 8032 5.1.5). */
export function ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(secretKey);
}

/**
 * A fresh 32-byte secret key from the platform CSPRNG
 * (`crypto.getRandomValues`, in browsers and Node alike).
 */
export function randomEd25519SecretKey(): Uint8Array {
  return ed25519.utils.randomSecretKey();
}
