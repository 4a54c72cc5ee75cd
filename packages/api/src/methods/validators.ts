/**
 * Validator tables: `pos_getValidators`, an epoch's table with its proof
 * (docs/PROTOCOL.md 6.5, 10.1, 11.1).
 *
 * @module
 */
import type { TrieProofJSON } from '@pos/merkle';
import type { BlockHeaderJSON, FinalityCertificateJSON } from '@pos/protocol';
import { defineMethod, errorDef, result } from '../method.js';
import { optional, uintParam } from '../params.js';
import { AMOUNT, arrayOf, HASH32, hexSchema, nullable, object, ref, UINT } from '../schema.js';

/** One validator of a table, as `pos_getValidators` lists it. */
export interface ValidatorEntry {
  validatorId: string;
  publicKey: string;
  stake: string;
  /** As its registration (or the genesis) names it; not part of the committed table. */
  name: string;
  endpoint: string;
}

/** The table's inclusion under the state root of the block that wrote it, with its certificate. */
export interface ValidatorsProof {
  height: number;
  header: BlockHeaderJSON;
  certificate: FinalityCertificateJSON;
  key: string;
  trieProof: TrieProofJSON;
}

/** What `pos_getValidators` answers. */
export interface ValidatorsResult {
  epoch: number;
  firstRound: number;
  lastRound: number;
  /** Null for epoch 0. */
  snapshotRound: number | null;
  validators: ValidatorEntry[];
  totalStake: string;
  validatorSetHash: string;
  /** The ValidatorSet encoding of docs/PROTOCOL.md 7: the trie value. */
  encoded: string;
  /** Null for epoch 0 or while not provable. */
  proof: ValidatorsProof | null;
}

/** `pos_getValidators`: an epoch's validator table and its proof. */
export const POS_GET_VALIDATORS = defineMethod({
  name: 'pos_getValidators',
  summary: "An epoch's validator table, proved under a certified block's state root.",
  params: [
    optional(
      uintParam('epoch', 'the epoch (default: the epoch of the round after the latest block)'),
    ),
  ],
  result: result<ValidatorsResult>(
    'validators',
    object({
      epoch: UINT,
      firstRound: UINT,
      lastRound: UINT,
      snapshotRound: nullable(UINT),
      validators: arrayOf(
        object({
          validatorId: HASH32,
          publicKey: HASH32,
          stake: AMOUNT,
          name: { type: 'string' },
          endpoint: { type: 'string' },
        }),
      ),
      totalStake: AMOUNT,
      validatorSetHash: HASH32,
      encoded: hexSchema(),
      proof: nullable(
        object({
          height: UINT,
          header: ref('BlockHeader'),
          certificate: ref('FinalityCertificate'),
          key: hexSchema(),
          trieProof: ref('TrieProof'),
        }),
      ),
    }),
  ),
  errors: [errorDef('NOT_FOUND', 'an epoch whose table this node does not know yet')],
});
