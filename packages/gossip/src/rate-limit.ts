/**
 * Per-peer token buckets: the per-peer rate limit of docs/PROTOCOL.md 8 (the
 * node's limits are in 8.1, "Server side").
 *
 * The clock is a parameter of every call rather than read here, so the limiter
 * is deterministic and testable without waiting. Tokens are kept as integer
 * milli-tokens: a rate of r tokens per second is exactly r milli-tokens per
 * millisecond, so integer clock readings refill exactly and nothing drifts,
 * however many calls are made. Memory is bounded by `maxPeers` buckets with
 * least-recently-used eviction, because peer ids cost an attacker nothing
 * before authentication (non-validators may sync read-only: docs/PROTOCOL.md 8.1).
 */
import { GossipError } from './errors.js';

/** Options of {@link createRateLimiter}. All are positive integers. */
export interface RateLimiterOpts {
  /** Sustained tokens per second per peer (at most 10^9). */
  readonly ratePerSec: number;
  /** Bucket capacity: the most a rested peer can spend at once (at most 10^9). */
  readonly burst: number;
  /** Most peers tracked at once; beyond it the least recently seen is forgotten. */
  readonly maxPeers: number;
}

/**
 * Defaults for one token per request: sustained 20 requests a second per peer
 * with bursts of 40, which a syncing validator (a few syncs a second, each a
 * few pages) stays well inside, and 4096 tracked peers, which covers a few
 * hundred validators plus read-only syncers (docs/PROTOCOL.md 8.1) in a few
 * hundred KB.
 */
export const defaultRateLimiterOpts: Readonly<RateLimiterOpts> = Object.freeze({
  ratePerSec: 20,
  burst: 40,
  maxPeers: 4096,
});

/** A set of per-peer token buckets; see {@link createRateLimiter}. */
export interface RateLimiter {
  /**
   * Spends `cost` tokens of `peerId`'s bucket at time `nowMs` (integer
   * milliseconds of any monotonic clock) and says whether the request may go
   * ahead. A refused request spends nothing; a cost above `burst` is always
   * refused. A clock reading earlier than one already seen for this peer adds
   * no tokens. Throws `GossipError('BAD_ARGUMENT')` for a non-integer time or a
   * cost that is not a positive integer.
   */
  take(peerId: string, nowMs: number, cost?: number): boolean;
  /** Removes a peer's bucket (say, on disconnect); true if it had one. */
  forget(peerId: string): boolean;
  /** Number of buckets held; never more than `maxPeers`. */
  readonly size: number;
}

interface Bucket {
  milli: number;
  lastMs: number;
}

const MAX_OPT = 1e9;

/**
 * Creates a limiter. A new or evicted peer starts with a full bucket, so
 * eviction can only favour a peer, never starve one; choose `maxPeers` above
 * the number of peers you expect so that honest peers are not evicted.
 * Throws `GossipError('BAD_ARGUMENT')` for options that are not positive
 * integers or that exceed 10^9 (which keeps all arithmetic exact in doubles).
 */
export function createRateLimiter(opts: RateLimiterOpts = defaultRateLimiterOpts): RateLimiter {
  const { ratePerSec, burst, maxPeers } = opts;
  for (const [name, v] of [
    ['ratePerSec', ratePerSec],
    ['burst', burst],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 1 || v > MAX_OPT) {
      throw new GossipError('BAD_ARGUMENT', `${name} must be an integer in 1..${MAX_OPT}`);
    }
  }
  if (!Number.isSafeInteger(maxPeers) || maxPeers < 1) {
    throw new GossipError('BAD_ARGUMENT', 'maxPeers must be a positive integer');
  }
  const capacity = burst * 1000;
  // Past this many ms any bucket is full; clamping elapsed time to it keeps
  // elapsed * ratePerSec below capacity + ratePerSec, far inside 2^53.
  const fillMs = Math.ceil(capacity / ratePerSec);
  // A Map iterates in insertion order: re-inserting on every use keeps the
  // least recently used peer first, which is the one to evict.
  const buckets = new Map<string, Bucket>();

  return {
    take(peerId, nowMs, cost = 1) {
      if (!Number.isSafeInteger(nowMs)) {
        throw new GossipError('BAD_ARGUMENT', 'nowMs must be an integer');
      }
      if (!Number.isSafeInteger(cost) || cost < 1) {
        throw new GossipError('BAD_ARGUMENT', 'cost must be a positive integer');
      }
      let b = buckets.get(peerId);
      if (b === undefined) {
        if (buckets.size >= maxPeers) buckets.delete(buckets.keys().next().value!);
        b = { milli: capacity, lastMs: nowMs };
      } else {
        buckets.delete(peerId);
        if (nowMs > b.lastMs) {
          const elapsed = Math.min(nowMs - b.lastMs, fillMs);
          b.milli = Math.min(capacity, b.milli + elapsed * ratePerSec);
          b.lastMs = nowMs;
        }
      }
      buckets.set(peerId, b);
      // A cost above `burst` never fits: b.milli never exceeds burst * 1000.
      if (cost * 1000 > b.milli) return false;
      b.milli -= cost * 1000;
      return true;
    },
    forget(peerId) {
      return buckets.delete(peerId);
    },
    get size() {
      return buckets.size;
    },
  };
}
