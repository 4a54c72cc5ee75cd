/** Engine options shared by every node of a simulation (docs/PROTOCOL.md 5). */
import { type HashFn, sha256Noble, taggedHash } from '@pos/merkle';
import type { ConsensusOpts } from '../types.js';
import { putU64, u32be } from './bytes.js';
import type { SimEvent } from './events.js';

/**
 * Validator ids as a node computes them, `sha256("pos/validator" ‖ pubkey)`
 * (docs/PROTOCOL.md 2), here for the made-up pubkey `sha256("sim/pubkey" ‖ u32be(i))`:
 * so the leader draw's id order is unrelated to the validator index.
 */
export function simValidatorIds(n: number, hash: HashFn = sha256Noble): Uint8Array[] {
  return Array.from({ length: n }, (_, i) =>
    taggedHash('pos/validator', taggedHash('sim/pubkey', u32be(i), hash), hash),
  );
}

/** What {@link simConsensusOpts} needs. */
export interface SimConsensusParams {
  readonly stakes: readonly bigint[];
  readonly seed: number;
  readonly hash: HashFn;
  readonly coinFrequency?: number;
  readonly expireRounds?: number;
}

/**
 * The engine options every node of a simulation (or a fresh instance replaying
 * its events) uses: one constant stake table (the same array every round, so
 * the engine's per-table cache hits) and a chainId derived from the seed, so
 * different seeds give different leader draws.
 */
export function simConsensusOpts(p: SimConsensusParams): ConsensusOpts<SimEvent> {
  const table = p.stakes.slice();
  const seedBytes = new Uint8Array(8);
  putU64(new DataView(seedBytes.buffer), 0, Math.abs(p.seed));
  return {
    validators: simValidatorIds(table.length, p.hash),
    stakeTable: () => table,
    initialSeed: taggedHash('pos/genesis', seedBytes, p.hash),
    hash: p.hash,
    ...(p.coinFrequency !== undefined ? { coinFrequency: p.coinFrequency } : {}),
    ...(p.expireRounds !== undefined ? { expireRounds: p.expireRounds } : {}),
  };
}
