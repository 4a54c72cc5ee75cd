/**
 * Epochs of the validator set (PROTOCOL.md section 5; docs/PROTOCOL.md
 * section 6.5): which stake table applies to a round, which snapshot it is
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
import { WalletError } from './errors.js';
import type { GenesisParams } from './genesis.js';

/** The two genesis parameters the epoch arithmetic needs. */
export type EpochParams = Pick<GenesisParams, 'lag' | 'epoch'>;

function checkRound(round: number, what: string): void {
  if (!Number.isSafeInteger(round) || round < 0) {
    throw new WalletError('BAD_ARGUMENT', `${what} must be a safe integer >= 0`);
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

/**
 * The first 32 bytes of every epoch-table key in the state trie:
 * `0^31 ‖ 0x01`. One prefix for all of them, so `provePrefix` lists every
 * table the state holds. (The ledger's other keys start with a SHA-256
 * output, and the meta key is all zeros: they cannot share it.)
 */
export const EPOCH_TABLE_PREFIX: Uint8Array = (() => {
  const p = new Uint8Array(32);
  p[31] = 1;
  return p;
})();

/** Last 32 bytes of a registration key: `0^31 ‖ 0x02` (an outpoint record's are all zero). */
export const REGISTRATION_SUFFIX: Uint8Array = (() => {
  const p = new Uint8Array(32);
  p[31] = 2;
  return p;
})();

/** State-trie key of epoch `k`'s table: `EPOCH_TABLE_PREFIX ‖ u64be(k) ‖ 0^24`. */
export function epochTableKey(k: number): Uint8Array {
  checkRound(k, 'epoch');
  const key = new Uint8Array(64);
  key.set(EPOCH_TABLE_PREFIX, 0);
  const hi = Math.floor(k / 2 ** 32);
  const lo = k >>> 0;
  key[32] = hi >>> 24;
  key[33] = (hi >>> 16) & 0xff;
  key[34] = (hi >>> 8) & 0xff;
  key[35] = hi & 0xff;
  key[36] = lo >>> 24;
  key[37] = (lo >>> 16) & 0xff;
  key[38] = (lo >>> 8) & 0xff;
  key[39] = lo & 0xff;
  return key;
}

/** The epoch of an epoch-table key, or `undefined` if `key` is not one. */
export function epochOfTableKey(key: Uint8Array): number | undefined {
  if (!(key instanceof Uint8Array) || key.length !== 64) return undefined;
  for (let i = 0; i < 32; i++) if (key[i] !== EPOCH_TABLE_PREFIX[i]) return undefined;
  for (let i = 40; i < 64; i++) if (key[i] !== 0) return undefined;
  const hi = ((key[32]! << 24) | (key[33]! << 16) | (key[34]! << 8) | key[35]!) >>> 0;
  const lo = ((key[36]! << 24) | (key[37]! << 16) | (key[38]! << 8) | key[39]!) >>> 0;
  const k = hi * 2 ** 32 + lo;
  return Number.isSafeInteger(k) ? k : undefined;
}

/** State-trie key of a validator's registration: `validatorId ‖ REGISTRATION_SUFFIX`. */
export function registrationKey(validatorId: Uint8Array): Uint8Array {
  if (!(validatorId instanceof Uint8Array) || validatorId.length !== 32) {
    throw new WalletError('BAD_ARGUMENT', 'validatorId must be 32 bytes');
  }
  const key = new Uint8Array(64);
  key.set(validatorId, 0);
  key.set(REGISTRATION_SUFFIX, 32);
  return key;
}
