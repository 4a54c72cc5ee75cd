/**
 * SHA-256 (FIPS 180-4) for the short preimages trees hash: a trie node is 67
 * bytes, a leaf 1 + key + 32, a log node 65 (docs/PROTOCOL.md 3.1, 4).
 *
 * Why not a library: for a 67-byte input the project's two SHA-256s cost
 * 1.44 µs (`node:crypto`'s one-shot call, most of it the JS↔C++ binding and
 * a Buffer per digest) and 2.00 µs (@noble/hashes, an object per call) on
 * this machine, and a trie commit makes tens of such calls per changed key.
 * This one reuses its scratch words and allocates only the digest: 0.67 µs
 * (`pnpm bench:hash`, the three in one run; table in the package README). For inputs over two blocks `node:crypto` (SHA-NI) wins; the node's
 * {@link HashFn} picks by length. test/sha256-short.test.ts holds it to the
 * NIST vectors and to @noble/hashes on every length from 0 to 300 bytes.
 *
 * Not constant-time, which hashing public tree nodes does not need.
 */
import type { HashFn } from './hash.js';

// FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
// roots of the first 64 primes.
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// FIPS 180-4 5.3.3: the initial hash value.
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const W = new Int32Array(64);
const S = new Int32Array(8);
/** Padded message scratch for up to two blocks (inputs of at most 119 bytes). */
const PAD = new Uint8Array(128);

/** One compression of the 64-byte block at `buf[off..]` into `S` (FIPS 180-4 6.2.2). */
function compress(buf: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const o = off + 4 * i;
    W[i] = (buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = S[0]!;
  let b = S[1]!;
  let c = S[2]!;
  let d = S[3]!;
  let e = S[4]!;
  let f = S[5]!;
  let g = S[6]!;
  let h = S[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  S[0] = (S[0]! + a) | 0;
  S[1] = (S[1]! + b) | 0;
  S[2] = (S[2]! + c) | 0;
  S[3] = (S[3]! + d) | 0;
  S[4] = (S[4]! + e) | 0;
  S[5] = (S[5]! + f) | 0;
  S[6] = (S[6]! + g) | 0;
  S[7] = (S[7]! + h) | 0;
}

/**
 * SHA-256 of `data`, any length; fastest for at most 119 bytes (two blocks
 * after padding), where it allocates only the 32-byte digest.
 */
export const sha256Short: HashFn = (data) => {
  const n = data.length;
  // Padding (FIPS 180-4 5.1.1): 0x80, zeros, the bit length in 64 bits.
  const len = (n + 9 + 63) & ~63;
  const p = len <= PAD.length ? PAD : new Uint8Array(len);
  p.set(data);
  p[n] = 0x80;
  p.fill(0, n + 1, len);
  // Byte lengths below 2^29 keep the bit length within 32 bits; the upper
  // word, zeroed by the fill, stays zero.
  const bits = n * 8;
  if (n >= 2 ** 29) p[len - 5] = Math.floor(n / 2 ** 29);
  p[len - 4] = bits >>> 24;
  p[len - 3] = bits >>> 16;
  p[len - 2] = bits >>> 8;
  p[len - 1] = bits;
  S.set(IV);
  for (let off = 0; off < len; off += 64) compress(p, off);
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    const s = S[i]!;
    out[4 * i] = s >>> 24;
    out[4 * i + 1] = s >>> 16;
    out[4 * i + 2] = s >>> 8;
    out[4 * i + 3] = s;
  }
  return out;
};
