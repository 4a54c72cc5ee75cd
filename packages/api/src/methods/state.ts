/**
 * The state: `pos_getOutputs`, an owner's outputs with their completeness
 * proof, and `pos_getOutpoint`, one outpoint's state (unspent, spent and
 * when, or unknown) with its proofs (docs/PROTOCOL.md 3, 6.3, 10.1, 11).
 *
 * @module
 */
import type { TrieProofJSON } from '@pos/merkle';
import { defineMethod, errorDef, result } from '../method.js';
import { hashParam, optional, required, u16Param, uintParam } from '../params.js';
import { AMOUNT, arrayOf, HASH32, hexSchema, nullable, object, ref, UINT } from '../schema.js';

/** Most outputs one `pos_getOutputs` answer holds (a bigger wallet gets -32005). */
export const MAX_OUTPUTS = 10_000;

/** One unspent output as `pos_getOutputs` lists it. */
export interface OutputEntry {
  outpoint: { txHash: string; index: number };
  amount: string;
  owner: string;
  host: string;
}

/** What `pos_getOutputs` answers. */
export interface OutputsResult {
  owner: string;
  /** The block the state is of; null for the genesis state, before the first block. */
  height: number | null;
  stateRoot: string;
  /** `sha256(owner)`: the prefix the proof is complete for. */
  prefix: string;
  entries: { key: string; value: string }[];
  proof: TrieProofJSON;
  outputs: OutputEntry[];
}

/** `pos_getOutputs`: an owner's unspent outputs, proved complete under a state root. */
export const POS_GET_OUTPUTS = defineMethod({
  name: 'pos_getOutputs',
  summary: "An owner's unspent outputs with the completeness proof of its prefix.",
  params: [
    required(hashParam('owner', 'a 32-byte public key')),
    optional(uintParam('height', 'a block height (default: the latest block)')),
  ],
  result: result<OutputsResult>(
    'outputs',
    object({
      owner: HASH32,
      height: nullable(UINT),
      stateRoot: HASH32,
      prefix: HASH32,
      entries: arrayOf(object({ key: hexSchema(), value: hexSchema() })),
      proof: ref('TrieProof'),
      outputs: arrayOf(
        object({
          outpoint: object({ txHash: HASH32, index: UINT }),
          amount: AMOUNT,
          owner: HASH32,
          host: HASH32,
        }),
      ),
    }),
  ),
  errors: [
    errorDef(
      'NOT_FOUND',
      'a height above the latest block, a height with no block, or state no longer kept',
    ),
    errorDef('LIMIT_EXCEEDED', `more than ${MAX_OUTPUTS} outputs`),
  ],
});

/** What `pos_getOutpoint` answers. */
export interface OutpointResult {
  outpoint: { txHash: string; index: number };
  /** The block the state is of; null for the genesis state, before the first block. */
  height: number | null;
  stateRoot: string;
  /** `unspent`, `spent` (at `spentHeight`), or `unknown`: no such output was ever created. */
  status: 'unspent' | 'spent' | 'unknown';
  /** The height of the block that spent it (status `spent`), else null. */
  spentHeight: number | null;
  /** The output (status `unspent`), else null. */
  output: { amount: string; owner: string; host: string } | null;
  /** Inclusion proof of the outpoint's record, or exclusion proof (status `unknown`). */
  recordProof: TrieProofJSON;
  /** Inclusion proof of the output's entry (status `unspent`), else null. */
  outputProof: TrieProofJSON | null;
}

/** `pos_getOutpoint`: whether an outpoint is unspent, spent (and when) or unknown, with proofs. */
export const POS_GET_OUTPOINT = defineMethod({
  name: 'pos_getOutpoint',
  summary:
    "One outpoint's state with its proofs: unspent (its output), spent (the height of the spending block) or unknown.",
  params: [
    required(hashParam('txHash', 'the id of the transaction that created the output')),
    required(u16Param('index', "the output's index in that transaction")),
    optional(uintParam('height', 'a block height (default: the latest block)')),
  ],
  result: result<OutpointResult>(
    'outpoint',
    object({
      outpoint: object({ txHash: HASH32, index: UINT }),
      height: nullable(UINT),
      stateRoot: HASH32,
      status: { enum: ['unspent', 'spent', 'unknown'] },
      spentHeight: nullable(UINT),
      output: nullable(object({ amount: AMOUNT, owner: HASH32, host: HASH32 })),
      recordProof: ref('TrieProof'),
      outputProof: nullable(ref('TrieProof')),
    }),
  ),
  errors: [
    errorDef(
      'NOT_FOUND',
      'a height above the latest block, a height with no block, or state no longer kept',
    ),
  ],
});
