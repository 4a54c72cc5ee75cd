/**
 * Epochs of the validator set (docs/PROTOCOL.md 6.5; the engine's side is
 * 5.9): which stake table applies to a round, which snapshot it is
 * taken at, and where the ledger commits it in the state trie, so that the
 * node and a wallet compute the same numbers from the genesis parameters.
 *
 * The design's rule is that round r uses the state after block
 * `s(r) = floor((r − LAG) / EPOCH) · EPOCH`, the genesis state while that is
 * negative. Numbered:
 *
 * - epoch 0 is the genesis table, for rounds `0 .. LAG − 1`;
 * - epoch k ≥ 1 is the table of the state after round `(k − 1) · EPOCH`
 *   (every block of height at or below it applied), for rounds
 *   `(k − 1) · EPOCH + LAG .. k · EPOCH + LAG − 1`.
 *
 * Pure integer arithmetic on safe integers; nothing here is hashed except
 * the key bytes.
 */
import { ProtocolError } from './errors.js';
import type { GenesisParams } from './genesis.js';

/** The two genesis parameters the epoch arithmetic needs. */
export type EpochParams = Pick<GenesisParams, 'lag' | 'epoch'>;

function checkRound(round: number, what: string): void {
  if (!Number.isSafeInteger(round) || round < 0) {
    throw new ProtocolError('BAD_ARGUMENT', `${what} must be a safe integer >= 0`);
  }
}

/** The epoch whose table applies to `round`. */
export function epochOfRound(round: number, p: EpochParams): number {
  checkRound(round, 'round');
  if (round < p.lag) return 0;
  return Math.floor((round - p.lag) / p.epoch) + 1;
}

/** The round after which epoch `k`'s table is taken (`null` for epoch 0: genesis). */
export function snapshotRoundOf(k: number, p: EpochParams): number | null {
  checkRound(k, 'epoch');
  return k === 0 ? null : (k - 1) * p.epoch;
}

/** The first round epoch `k`'s table applies to. */
export function firstRoundOf(k: number, p: EpochParams): number {
  checkRound(k, 'epoch');
  return k === 0 ? 0 : (k - 1) * p.epoch + p.lag;
}

/** The last round epoch `k`'s table applies to. */
export function lastRoundOf(k: number, p: EpochParams): number {
  return firstRoundOf(k + 1, p) - 1;
}
