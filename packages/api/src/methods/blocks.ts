/**
 * Blocks, certificates and the history log: `pos_getBlock`,
 * `pos_getCertificate`, `pos_getConsistencyProof` (docs/PROTOCOL.md 7, 10.1).
 *
 * @module
 */
import type { LogConsistencyProofJSON } from '@pos/merkle';
import type { BlockHeaderJSON, FinalityCertificateJSON } from '@pos/protocol';
import { defineMethod, errorDef, result } from '../method.js';
import { type ParamDef, required, uintParam } from '../params.js';
import { arrayOf, HASH32, nullable, object, ref, UINT } from '../schema.js';

const heightParam = uintParam('height', 'a block height');

/** A height, or `"latest"`. */
const heightOrLatest: ParamDef<'height', number | 'latest', number | 'latest'> = {
  ...heightParam,
  summary: 'a block height, or "latest"',
  schema: { oneOf: [heightParam.schema, { const: 'latest' }] },
  decode: (h) => (h === 'latest' ? 'latest' : heightParam.decode(h)),
};

/** What `pos_getBlock` answers. */
export interface BlockResult {
  height: number;
  blockHash: string;
  header: BlockHeaderJSON;
  txHashes: string[];
  /** The node stored a certificate for it. */
  certified: boolean;
}

/** `pos_getBlock`: a block's header and transaction hashes. */
export const POS_GET_BLOCK = defineMethod({
  name: 'pos_getBlock',
  summary: "A block's header, its transactions' hashes, and whether it is certified.",
  params: [required(heightOrLatest)],
  result: result<BlockResult>(
    'block',
    object({
      height: UINT,
      blockHash: HASH32,
      header: ref('BlockHeader'),
      txHashes: arrayOf(HASH32),
      certified: { type: 'boolean' },
    }),
  ),
  errors: [
    errorDef('NOT_FOUND', 'no block yet, or no block at that height (a round that decided none)'),
  ],
});

/** What `pos_getCertificate` answers. */
export interface CertificateResult {
  height: number;
  certificate: FinalityCertificateJSON;
  /** Null if the node has no block there. */
  header: BlockHeaderJSON | null;
}

/** `pos_getCertificate`: a height's finality certificate and header. */
export const POS_GET_CERTIFICATE = defineMethod({
  name: 'pos_getCertificate',
  summary: "A height's finality certificate, with the block header it signs.",
  params: [required(heightParam)],
  result: result<CertificateResult>(
    'certificate',
    object({
      height: UINT,
      certificate: ref('FinalityCertificate'),
      header: nullable(ref('BlockHeader')),
    }),
  ),
  errors: [errorDef('NOT_FOUND', 'no certificate for that height (yet)')],
});

/** `pos_getConsistencyProof`: an RFC 9162 consistency proof between two history sizes. */
export const POS_GET_CONSISTENCY_PROOF = defineMethod({
  name: 'pos_getConsistencyProof',
  summary: 'An RFC 9162 consistency proof of the history log from fromSize to toSize.',
  description: '-32602 unless 1 <= fromSize <= toSize <= the latest header historySize.',
  params: [
    required(uintParam('fromSize', 'the smaller log size')),
    required(uintParam('toSize', 'the larger log size')),
  ],
  result: result<LogConsistencyProofJSON>('consistencyProof', ref('LogConsistencyProof')),
});
