/**
 * The retrospective, stake-weighted leader draw of docs/PROTOCOL.md 5.5 (and 2,
 * the `pos/leader` draw).
 *
 * Everything here is a pure function of its arguments: bigint stakes, byte
 * seeds, no floats and no clocks, so that every node that decided the same
 * famous witnesses elects the same leader (docs/PROTOCOL.md 5: the engine "is a
 * pure function of the events and the stake tables"). The hash is injected
 * because this package has no dependency: the node passes `node:crypto`'s
 * SHA-256, a browser `@noble/hashes` (docs/PROTOCOL.md 2: identical output).
 */
import { compareBytes } from '@pos/merkle';
import { ConsensusError } from './errors.js';

/** Domain tag of the leader seed (docs/PROTOCOL.md 2: every hash is domain-separated). */
export const LEADER_TAG = 'pos/leader';

/** Length of a seed: a SHA-256 output, the chainId or a previous leader's event hash. */
export const SEED_BYTES = 32;

/** A famous witness of round r eligible for the draw, with its creator's stake in `T_r`. */
export interface LeaderCandidate {
  /** `sha256("pos/validator" ‖ pubkey)` (docs/PROTOCOL.md 2); any length, compared bytewise. */
  readonly validatorId: Uint8Array;
  /** Stake of the creator in the round's stake table; zero-stake candidates never win. */
  readonly stake: bigint;
}

/**
 * Whether `weight` is a supermajority of `total`: `3w > 2S` (docs/PROTOCOL.md 2).
 * Exactly two thirds is not enough, so two disjoint supermajorities cannot
 * exist. Throws `BAD_ARGUMENT` unless `0 <= weight <= total`: each creator's
 * stake counts once per set, so a larger weight is a caller bug.
 */
export function isSupermajority(weight: bigint, total: bigint): boolean {
  if (weight < 0n || weight > total) {
    throw new ConsensusError('BAD_ARGUMENT', `weight ${weight} is not in [0, total ${total}]`);
  }
  return 3n * weight > 2n * total;
}

// The tag as bytes, built once. ASCII via charCodeAt: this package is
// browser-safe and compiles without DOM or node typings, so no TextEncoder.
const TAG_BYTES = Uint8Array.from(LEADER_TAG, (c) => c.charCodeAt(0));

/**
 * `seed_r = hash("pos/leader" ‖ u64be(round) ‖ seedPrev)` (docs/PROTOCOL.md 5.5), where
 * `seedPrev` is the previous leader's event hash, or the chainId before the
 * first leader. Chaining the previous leader in means nobody can compute the
 * draw of round r before round r's witnesses exist. `round` must be a safe
 * non-negative integer (rounds are JSON numbers, docs/PROTOCOL.md 1).
 */
export function leaderSeed(
  round: number,
  seedPrev: Uint8Array,
  hash: (bytes: Uint8Array) => Uint8Array,
): Uint8Array {
  if (!Number.isSafeInteger(round) || round < 0) {
    throw new ConsensusError('BAD_ARGUMENT', `round must be a safe integer >= 0, got ${round}`);
  }
  if (seedPrev.length !== SEED_BYTES) {
    throw new ConsensusError('BAD_ARGUMENT', `seedPrev must be ${SEED_BYTES} bytes`);
  }
  const pre = new Uint8Array(TAG_BYTES.length + 8 + SEED_BYTES);
  pre.set(TAG_BYTES, 0);
  let r = BigInt(round);
  for (let i = TAG_BYTES.length + 7; i >= TAG_BYTES.length; i--) {
    pre[i] = Number(r & 0xffn);
    r >>= 8n;
  }
  pre.set(seedPrev, TAG_BYTES.length + 8);
  const seed = hash(pre);
  if (seed.length !== SEED_BYTES) {
    throw new ConsensusError('BAD_ARGUMENT', `hash must return ${SEED_BYTES} bytes`);
  }
  return seed;
}

/**
 * The selection core: the index of the first stake whose cumulative sum
 * exceeds `u` (docs/PROTOCOL.md 2). Each index wins for exactly `stakes[i]` of the
 * values `u` in `[0, Σ)`, so a uniform `u` elects in proportion to stake and a
 * zero stake never wins. Throws `BAD_ARGUMENT` for a negative stake or `u`
 * outside `[0, Σ)`.
 */
export function selectByStake(u: bigint, stakes: readonly bigint[]): number {
  if (u < 0n) throw new ConsensusError('BAD_ARGUMENT', `u must be >= 0, got ${u}`);
  let cumulative = 0n;
  let winner = -1;
  // No early return: every stake is checked for sign, whatever u is.
  for (let i = 0; i < stakes.length; i++) {
    const s = stakes[i]!;
    if (s < 0n) throw new ConsensusError('BAD_ARGUMENT', `stake ${i} is negative`);
    cumulative += s;
    if (winner < 0 && cumulative > u) winner = i;
  }
  if (winner < 0) {
    throw new ConsensusError('BAD_ARGUMENT', `u ${u} is not below the total stake ${cumulative}`);
  }
  return winner;
}

/**
 * Draws round r's leader from its candidates (docs/PROTOCOL.md 5.5): sorts a copy by
 * validatorId ascending, takes `u = uint256be(seed) mod Σ stake`, and returns
 * the index **in the caller's array** of the first candidate whose cumulative
 * stake exceeds u. The caller's order does not matter. Returns `null` when
 * there is no candidate or all stakes are zero (round r has no block and the
 * seed carries over). Throws `DUPLICATE_CANDIDATE` if two candidates share a
 * validatorId (the caller keeps only creators with exactly one famous witness),
 * and `BAD_ARGUMENT` for a negative stake or a seed that is not 32 bytes.
 */
export function drawLeader(
  seed: Uint8Array,
  candidates: readonly LeaderCandidate[],
): number | null {
  if (seed.length !== SEED_BYTES) {
    throw new ConsensusError('BAD_ARGUMENT', `seed must be ${SEED_BYTES} bytes`);
  }
  const order = candidates.map((_, i) => i);
  order.sort((i, j) => compareBytes(candidates[i]!.validatorId, candidates[j]!.validatorId));
  let total = 0n;
  for (let k = 0; k < order.length; k++) {
    const c = candidates[order[k]!]!;
    if (k > 0 && compareBytes(candidates[order[k - 1]!]!.validatorId, c.validatorId) === 0) {
      throw new ConsensusError('DUPLICATE_CANDIDATE', 'two candidates share a validatorId');
    }
    if (c.stake < 0n) throw new ConsensusError('BAD_ARGUMENT', 'candidate stake is negative');
    total += c.stake;
  }
  if (total === 0n) return null;
  // The modulo bias of a 256-bit value reduced by a u64-range total is at most
  // 2^-192: the draw is proportional to stake for every practical purpose.
  let value = 0n;
  for (const b of seed) value = (value << 8n) | BigInt(b);
  const k = selectByStake(
    value % total,
    order.map((i) => candidates[i]!.stake),
  );
  return order[k]!;
}
