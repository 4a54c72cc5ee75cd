/**
 * The node's Ed25519 verifiers (docs/PROTOCOL.md 2): node:crypto
 * (OpenSSL) for speed, under the project's one acceptance rule.
 *
 * The rule is stated once, in @pos/wallet-client's `ed25519.ts`: byte checks
 * (`checkEd25519Encoding`: lengths, S < L, canonical A and R, neither of small
 * order) and then the cofactorless equation encode([S]B − [k]A) = R of RFC
 * 8032 section 5.1.7, which is the equation OpenSSL checks. Every verifier
 * here runs `checkEd25519Encoding` first, so it accepts exactly what the
 * wallet's `verifyEd25519` (noble) accepts; test/crypto.test.ts holds them
 * to the same vector table (packages/test-utils/src/ed25519-vectors.ts). Without the
 * byte checks OpenSSL would accept signatures under small-order and
 * non-canonical keys that the wallet rejects (vectors "speccheck 1", "CCTV 9").
 *
 * Three forms, same answers:
 *  - {@link verifyEd25519Sync}: on the calling thread;
 *  - {@link verifyEd25519Async}: OpenSSL on the libuv threadpool;
 *  - {@link createVerifyPool}: worker threads, fed in packed chunks
 *    (verify-pool.ts, its threads in pool-workers.ts, contracts in types.ts);
 * and {@link verifyEd25519Batch} for many at once, on a shared pool (the
 * choice is argued there, with bench/results.md).
 */
import {
  createPrivateKey,
  createPublicKey,
  hash as cryptoHash,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { type HashFn, sha256Short } from '@pos/merkle';
import { checkEd25519Encoding } from '@pos/protocol';
import type { Ed25519VerifyItem, VerifyPool } from './types.js';
import { createVerifyPool } from './verify-pool.js';

export { startVerifyWorker } from './pool-workers.js';
export type {
  Ed25519VerifyItem,
  VerifyPool,
  VerifyPoolOptions,
  VerifyRequest,
  VerifyResponse,
} from './types.js';
export { createVerifyPool } from './verify-pool.js';

/**
 * Most KeyObjects kept by {@link verifyEd25519Sync} and friends (per thread).
 * Importing a key costs about a tenth of a verification (18 µs against
 * 170 µs here); validator keys recur constantly, so they stay cached, while
 * a flood of one-off keys cannot grow memory beyond this.
 */
export const ED25519_KEY_CACHE_MAX = 4096;

// Map iteration order is insertion order: re-inserting on a hit makes the
// first key the least recently used one. Keyed by the key's base64url, which
// the JWK import needs anyway.
const keyCache = new Map<string, KeyObject>();

/**
 * The KeyObject of a raw 32-byte key, built through a JWK ({ kty: 'OKP',
 * crv: 'Ed25519', x }), which OpenSSL turns into a key directly
 * (EVP_PKEY_new_raw_public_key). The equivalent DER SPKI import
 * (302a300506032b6570032100 ‖ key) goes through OpenSSL 3.0's decoder
 * framework and measured 179 µs per key against 18 µs for the JWK, more than
 * a whole verification, which a stream of distinct keys (transactions from
 * many wallets) would pay on every cache miss. Neither import checks the
 * point; `checkEd25519Encoding` ran before, and OpenSSL's verify fails on a
 * key that does not decode.
 */
function keyObjectFor(publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString(
    'base64url',
  );
  const hit = keyCache.get(x);
  if (hit !== undefined) {
    keyCache.delete(x);
    keyCache.set(x, hit);
    return hit;
  }
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  if (keyCache.size >= ED25519_KEY_CACHE_MAX) {
    const oldest = keyCache.keys().next();
    if (!oldest.done) keyCache.delete(oldest.value);
  }
  keyCache.set(x, key);
  return key;
}

/** Number of KeyObjects cached on this thread (at most {@link ED25519_KEY_CACHE_MAX}). */
export function ed25519KeyCacheSize(): number {
  return keyCache.size;
}

/**
 * Verifies under the project rule on the calling thread: the wallet's
 * `checkEd25519Encoding`, then OpenSSL's cofactorless check. 5,600–7,200/s
 * on one core here (bench/results.md). Never throws: malformed input of any
 * type is `false`.
 */
export function verifyEd25519Sync(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (!checkEd25519Encoding(publicKey, signature)) return false;
    if (!(message instanceof Uint8Array)) return false;
    return cryptoVerify(null, message, keyObjectFor(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * {@link verifyEd25519Sync} with the OpenSSL work on the libuv threadpool
 * (the callback form of `crypto.verify`). Node copies the inputs when the job
 * is created, so the caller may reuse its buffers at once. Never rejects:
 * malformed input resolves to `false`.
 */
export function verifyEd25519Async(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  let key: KeyObject;
  try {
    if (!checkEd25519Encoding(publicKey, signature)) return Promise.resolve(false);
    if (!(message instanceof Uint8Array)) return Promise.resolve(false);
    key = keyObjectFor(publicKey);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    try {
      cryptoVerify(null, message, key, signature, (err, ok) => resolve(err === null && ok));
    } catch {
      resolve(false);
    }
  });
}

/** Most verifications {@link verifyEd25519BatchOnLibuv} keeps in flight. */
export const ED25519_BATCH_IN_FLIGHT = 256;

/**
 * Many signatures through {@link verifyEd25519Async}, at most 256 in flight
 * (bounded, as each job holds a copy of its inputs); one verdict each, in
 * order. Malformed items are `false`; rejects only with a TypeError when
 * `items` is not an array. The fallback of {@link verifyEd25519Batch}.
 */
export function verifyEd25519BatchOnLibuv(items: readonly Ed25519VerifyItem[]): Promise<boolean[]> {
  if (!Array.isArray(items)) {
    return Promise.reject(new TypeError('verifyEd25519BatchOnLibuv takes an array of items'));
  }
  const n = items.length;
  const out = new Array<boolean>(n).fill(false);
  if (n === 0) return Promise.resolve(out);
  return new Promise((resolve) => {
    let next = 0;
    let done = 0;
    const launch = () => {
      const i = next++;
      let job: Promise<boolean>;
      try {
        // Garbage items (null, numbers, missing fields) reach the verifier as
        // undefined fields, which it answers false.
        const it = (items[i] ?? {}) as Ed25519VerifyItem;
        job = verifyEd25519Async(it.publicKey, it.message, it.signature);
      } catch {
        job = Promise.resolve(false); // a hostile getter on a garbage item
      }
      void job.then((ok) => {
        out[i] = ok;
        if (++done === n) resolve(out);
        else if (next < n) launch();
      });
    };
    for (let k = 0; k < Math.min(ED25519_BATCH_IN_FLIGHT, n); k++) launch();
  });
}

// The pool behind verifyEd25519Batch, started on first use. Its idle workers
// are unref'd, so it never keeps a process alive.
let sharedPool: VerifyPool | null = null;

/**
 * Verifies many signatures under the project rule, one verdict each, in
 * order, on a shared worker pool ({@link createVerifyPool}, one thread per
 * available core, started on first use). Malformed items are `false`.
 * Rejects only with a TypeError when `items` is not an array: if the pool
 * fails (a worker died, threads cannot start), the batch is redone with
 * {@link verifyEd25519BatchOnLibuv}, the same rule.
 *
 * Why the pool (bench/results.md: 2 cores, 20,000 signatures; this
 * function and {@link verifyEd25519BatchOnLibuv} alternated 6 rounds each,
 * medians): in throughput they tie near the hardware's ceiling, about twice
 * verifyEd25519Sync: 9,969/s against 9,922/s (1.00x) with a distinct key per
 * signature, 11,967/s against 11,651/s (1.03x) with 64 recurring keys
 * (validators signing events, the hot path); an earlier run gave 0.99x and
 * 1.18x. What decides is the node's own thread: with the main thread busy
 * (standing in for consensus), the libuv form's 4 threads left it 0.11–0.27
 * of its idle speed, the pool's 2 threads 0.61–0.63 (verifying 7,377–8,077/s
 * against 9,603–9,773/s: the libuv form verifies more by taking the node's
 * thread). The pool lets verification use the other cores without starving
 * consensus; `createVerifyPool({ threads })` sets the split explicitly.
 */
export async function verifyEd25519Batch(items: readonly Ed25519VerifyItem[]): Promise<boolean[]> {
  if (!Array.isArray(items)) throw new TypeError('verifyEd25519Batch takes an array of items');
  try {
    sharedPool ??= createVerifyPool();
    return await sharedPool.verifyBatch(items);
  } catch {
    // A local fault, not a verdict. A pool left without workers is replaced
    // on the next call; this batch gets its answers from the libuv form.
    if (sharedPool !== null && sharedPool.liveWorkers === 0) {
      void sharedPool.close();
      sharedPool = null;
    }
    return verifyEd25519BatchOnLibuv(items);
  }
}

/**
 * Below this many items {@link verifyEd25519Few} verifies on the calling
 * thread: a pool round trip costs about what it saves below ~16 items here
 * (sig-cache.ts: 1 item 0.43 ms through the pool against 0.21 ms inline; 64
 * items 6.7 against 11.5 ms), and far more when the machine is loaded.
 */
export const ED25519_INLINE_BELOW = 16;

/**
 * {@link verifyEd25519Batch} for batches that are usually small, such as a
 * pulled page of a few events: fewer than {@link ED25519_INLINE_BELOW} items
 * are verified on the calling thread with {@link verifyEd25519Sync} (same
 * rule, same answers), more go to the pool. Under load a page of ~3 events
 * waited 5.1–5.7 ms on average for the pool (4 nodes at 188 tx/s, p90
 * 9–10 ms), against ~0.2 ms inline: docs/PERFORMANCE.md 11.
 */
export function verifyEd25519Few(items: readonly Ed25519VerifyItem[]): Promise<boolean[]> {
  if (!Array.isArray(items) || items.length >= ED25519_INLINE_BELOW) {
    return verifyEd25519Batch(items);
  }
  return Promise.resolve(
    items.map((item) => {
      try {
        // Garbage items reach the verifier as undefined fields: it answers false.
        const it = (item ?? {}) as Ed25519VerifyItem;
        return verifyEd25519Sync(it.publicKey, it.message, it.signature);
      } catch {
        return false; // a hostile getter on a garbage item
      }
    }),
  );
}

/**
 * The node's SHA-256: `sha256Short` (@pos/merkle, plain JS) for inputs of at
 * most two blocks, `node:crypto` for longer ones. Measured here
 * (`pnpm bench:hash`): a 67-byte trie node costs 1.44 µs through
 * `node:crypto`'s one-shot call (the binding and a Buffer per digest, not the
 * hashing) and 0.67 µs in JS; past two blocks OpenSSL's SHA-NI code wins
 * (183 bytes: 1.64 µs against 3.33 µs). Same bytes either way:
 * test/crypto.test.ts compares them on every length 0..400.
 */
export const sha256Node: HashFn = (data) => {
  if (data.length <= SHORT_HASH_MAX_BYTES) return sha256Short(data);
  const d = cryptoHash('sha256', data, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
};

/** The longest input that pads to two SHA-256 blocks (128 − 9 bytes). */
const SHORT_HASH_MAX_BYTES = 119;

/**
 * An Ed25519 signer over a 32-byte seed through `node:crypto` (RFC 8032
 * signatures are deterministic, so re-signing after a restart gives the same
 * bytes). The key object is built once.
 */
export function createEd25519Signer(
  secretKey: Uint8Array,
  publicKey: Uint8Array,
): (message: Uint8Array) => Uint8Array {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: b64(secretKey), x: b64(publicKey) },
    format: 'jwk',
  });
  return (message) => {
    const s = cryptoSign(null, message, key);
    return new Uint8Array(s.buffer, s.byteOffset, s.length);
  };
}
