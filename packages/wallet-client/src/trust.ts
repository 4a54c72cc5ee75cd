/**
 * The trust anchor (docs/PROTOCOL.md 11): from a genesis, and checked when a
 * client is created.
 *
 * @module
 */
import { type HashFn, sha256Noble, toHex } from '@pos/merkle';
import { chainIdOf, type Genesis, genesisStakes } from '@pos/protocol';
import { fail } from './agent.js';
import type { WalletTrust } from './types.js';

/**
 * The trust anchor a genesis gives (docs/PROTOCOL.md 11): its chainId, its
 * epoch parameters, and its validators with their genesis stakes (the outputs
 * each hosts, docs/PROTOCOL.md 6.4, 6.5), all of them (one hosting nothing has
 * no weight but is still in the set whose hash the headers of epoch 0 commit
 * to): the table of epoch 0.
 */
export function trustFromGenesis(g: Genesis, hash: HashFn = sha256Noble): WalletTrust {
  const byId = new Map(g.validators.map((v) => [toHex(v.pubkey), v]));
  return {
    chainId: chainIdOf(g, hash),
    validators: genesisStakes(g, hash).map((s) => {
      const v = byId.get(toHex(s.pubkey));
      return {
        publicKey: s.pubkey,
        stake: s.stake,
        ...(v === undefined ? {} : { name: v.name, endpoint: v.p2p }),
      };
    }),
    lag: g.params.lag,
    epochLength: g.params.epoch,
    epoch: 0,
  };
}

/** Refuses (`BAD_ARGUMENT`) a trust anchor that is not one; its anchor epoch. */
export function checkTrust(trust: WalletTrust): number {
  if (typeof trust !== 'object' || trust === null) fail('BAD_ARGUMENT', 'trust is required');
  if (!(trust.chainId instanceof Uint8Array) || trust.chainId.length !== 32) {
    fail('BAD_ARGUMENT', 'trust.chainId must be 32 bytes');
  }
  if (!Number.isSafeInteger(trust.lag) || trust.lag < 1 || trust.lag > 0xffffffff) {
    fail('BAD_ARGUMENT', 'trust.lag must be an integer in 1..2^32-1 (the genesis LAG)');
  }
  if (
    !Number.isSafeInteger(trust.epochLength) ||
    trust.epochLength < 1 ||
    trust.epochLength > 0xffffffff
  ) {
    fail('BAD_ARGUMENT', 'trust.epochLength must be an integer in 1..2^32-1 (the genesis EPOCH)');
  }
  const anchorEpoch = trust.epoch ?? 0;
  if (!Number.isSafeInteger(anchorEpoch) || anchorEpoch < 0) {
    fail('BAD_ARGUMENT', 'trust.epoch must be an integer >= 0');
  }
  return anchorEpoch;
}
