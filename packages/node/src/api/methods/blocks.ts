/**
 * `pos_getBlock`, `pos_getCertificate` and `pos_getConsistencyProof`
 * (docs/PROTOCOL.md 7, 10.1).
 *
 * @module
 */
import {
  type BlockResult,
  POS_GET_BLOCK,
  POS_GET_CERTIFICATE,
  POS_GET_CONSISTENCY_PROOF,
} from '@pos/api';
import { logConsistencyProofToJSON } from '@pos/merkle';
import { blockHeaderToJSON, certificateToJSON, toHex } from '@pos/protocol';
import type { AnyRpcMethod } from '../dispatcher.js';
import { notFound } from '../errors.js';
import type { NodeView } from '../interface.js';
import { implement } from './implement.js';

/** The block, certificate and history-log methods. */
export function blockMethods(view: NodeView): Record<string, AnyRpcMethod> {
  return {
    pos_getBlock: implement(POS_GET_BLOCK, async ({ height: h }) => {
      const height = h === 'latest' ? view.chain.latest()?.header.height : h;
      if (height === undefined) throw notFound('no block yet');
      const b = await blockJSON(view, height);
      if (b === undefined) throw notFound(`no block at height ${height}`);
      return b;
    }),

    pos_getCertificate: implement(POS_GET_CERTIFICATE, async ({ height }) => {
      const c = await view.certificate(height);
      if (c === undefined) throw notFound(`no certificate for height ${height} (yet)`);
      const b = await view.chain.header(height);
      return {
        height,
        certificate: certificateToJSON(c),
        header: b === undefined ? null : blockHeaderToJSON(b.header),
      };
    }),

    pos_getConsistencyProof: implement(POS_GET_CONSISTENCY_PROOF, async ({ fromSize, toSize }) =>
      logConsistencyProofToJSON(await view.chain.consistencyProof(fromSize, toSize)),
    ),
  };
}

async function blockJSON(view: NodeView, height: number): Promise<BlockResult | undefined> {
  const b = await view.chain.header(height);
  if (b === undefined) return undefined;
  const txs = (await view.chain.blockTxHashes(height)) ?? [];
  const cert = await view.certificate(height);
  return {
    height,
    blockHash: toHex(b.blockHash),
    header: blockHeaderToJSON(b.header),
    txHashes: txs.map(toHex),
    certified: cert !== undefined,
  };
}
