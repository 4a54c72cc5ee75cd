/**
 * Signatures already found valid, so a transaction's signatures are checked
 * once per node rather than at submission, again in every block that carries
 * it, and again by each query (docs/PROTOCOL.md 6.3: validity never depends
 * on who checked first, only on the bytes; the cache is 8.1, step 3).
 *
 * Only successes are remembered: a `false` is recomputed, so a cache can
 * never turn an invalid signature valid, and a bounded cache that forgot an
 * entry only costs a verification. The block path fills the cache in one
 * batch on the worker pool ({@link SignatureCache.prefetch}) before the
 * ledger applies the block, which keeps the Ed25519 work off the thread that
 * runs consensus.
 */

import type { Ed25519VerifyItem } from './crypto.js';

/** Options of {@link createSignatureCache}. */
export interface SignatureCacheOpts {
  /** Entries kept, least recently used out. */
  maxEntries: number;
  /** The one-signature check used on a miss (the calling thread). */
  verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean;
  /** Many checks at once (worker threads); one answer per item, in order. */
  verifyBatch: (items: readonly Ed25519VerifyItem[]) => Promise<boolean[]>;
  /**
   * Fewer misses than this are verified on the calling thread: a pool round
   * trip costs about what it saves below ~16 items here (1 item: 0.43 ms
   * through the pool against 0.21 ms inline; 64 items: 6.7 against 11.5 ms).
   */
  minBatch: number;
}

/** Defaults of {@link SignatureCacheOpts} (the verify functions have none). */
export const defaultSignatureCacheOpts = { maxEntries: 65_536, minBatch: 16 } as const;

/** A bounded set of (public key, message, signature) triples known valid. */
export interface SignatureCache {
  /** Cached, or verified now on this thread (and cached when valid). Never throws. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  /**
   * Verifies the items not cached yet in one batch and caches the valid
   * ones; resolves to how many it verified (the rest were cached or repeated).
   */
  prefetch(items: readonly Ed25519VerifyItem[]): Promise<number>;
  readonly size: number;
  /** Lookups answered from the cache, and those that had to verify. */
  readonly hits: number;
  readonly misses: number;
}

/** Fixed-width key: 32 + 64 bytes of key and signature, then the message. */
function keyOf(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string | null {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return null;
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return null;
  if (!(message instanceof Uint8Array)) return null;
  const b = new Uint8Array(96 + message.length);
  b.set(publicKey, 0);
  b.set(signature, 32);
  b.set(message, 96);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

/** Creates an empty {@link SignatureCache}. */
export function createSignatureCache(
  opts: Partial<SignatureCacheOpts> & Pick<SignatureCacheOpts, 'verify' | 'verifyBatch'>,
): SignatureCache {
  const max = opts.maxEntries ?? defaultSignatureCacheOpts.maxEntries;
  const minBatch = opts.minBatch ?? defaultSignatureCacheOpts.minBatch;
  if (!Number.isSafeInteger(max) || max < 0) {
    throw new RangeError('maxEntries must be a non-negative integer');
  }
  // Map order is insertion order: the first key is the least recently used.
  const valid = new Map<string, true>();
  let hits = 0;
  let misses = 0;
  const remember = (k: string) => {
    if (max === 0) return;
    valid.delete(k);
    if (valid.size >= max) valid.delete(valid.keys().next().value!);
    valid.set(k, true);
  };
  return {
    verify(publicKey, message, signature) {
      const k = keyOf(publicKey, message, signature);
      if (k !== null && valid.has(k)) {
        hits++;
        remember(k);
        return true;
      }
      misses++;
      const ok = opts.verify(publicKey, message, signature) === true;
      if (ok && k !== null) remember(k);
      return ok;
    },
    async prefetch(items) {
      const todo: Ed25519VerifyItem[] = [];
      const keys: string[] = [];
      const seen = new Set<string>();
      for (const it of items) {
        const k = keyOf(it.publicKey, it.message, it.signature);
        if (k === null || valid.has(k) || seen.has(k)) continue;
        seen.add(k);
        todo.push(it);
        keys.push(k);
      }
      if (todo.length === 0) return 0;
      const ok =
        todo.length < minBatch
          ? todo.map((it) => opts.verify(it.publicKey, it.message, it.signature) === true)
          : await opts.verifyBatch(todo);
      for (let i = 0; i < keys.length; i++) if (ok[i] === true) remember(keys[i]!);
      return todo.length;
    },
    get size() {
      return valid.size;
    },
    get hits() {
      return hits;
    },
    get misses() {
      return misses;
    },
  };
}

/**
 * Prefetches of concurrent callers merged into one per event-loop turn: the
 * JSON-RPC submissions that arrive together (a wallet's burst, a load
 * generator) go to the worker pool as one batch instead of each being
 * verified on the main thread below `minBatch` (the profile under 400 tx/s
 * showed ~10% of a node's main thread in single-signature checks at
 * submission). Every caller of one turn waits for that turn's batch;
 * `onChecked` hears once per batch how many signatures it verified.
 */
export function coalescePrefetch(
  cache: SignatureCache,
  onChecked: (verified: number) => void = () => {},
): (items: readonly Ed25519VerifyItem[]) => Promise<void> {
  let queued: Ed25519VerifyItem[] = [];
  let turn: Promise<void> | null = null;
  return (items) => {
    for (const it of items) queued.push(it);
    turn ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const batch = queued;
      queued = [];
      turn = null;
      return cache.prefetch(batch).then(onChecked);
    });
    return turn;
  };
}
