/**
 * `pos_sendTransaction` and `pos_getTransaction` (docs/PROTOCOL.md 10.1).
 *
 * @module
 */
import { POS_GET_TRANSACTION, POS_SEND_TRANSACTION, type TransactionResult } from '@pos/api';
import { logInclusionProofToJSON } from '@pos/merkle';
import { isCoded, receiptToJSON, toHex } from '@pos/protocol';
import { ChainError } from '../../chain/chain.js';
import type { AnyRpcMethod } from '../dispatcher.js';
import { notFound } from '../errors.js';
import type { NodeView } from '../interface.js';
import { implement } from './implement.js';

/** The transaction methods. */
export function txMethods(view: NodeView): Record<string, AnyRpcMethod> {
  return {
    pos_sendTransaction: implement(POS_SEND_TRANSACTION, async ({ tx }) => {
      const r = await view.submit(tx);
      return { txHash: toHex(r.txHash), added: r.added };
    }),
    pos_getTransaction: implement(POS_GET_TRANSACTION, ({ txHash, atHeight }) =>
      transaction(view, txHash, atHeight),
    ),
  };
}

/** The receipt proved under the latest header (or the block at `atHeight`), else the status. */
async function transaction(
  view: NodeView,
  txHash: Uint8Array,
  atHeight: number | undefined,
): Promise<TransactionResult> {
  if (atHeight !== undefined && (await view.chain.header(atHeight)) === undefined) {
    throw notFound(`no block at height ${atHeight}`);
  }
  let proof: Awaited<ReturnType<typeof view.chain.receipt>>;
  try {
    proof = await view.chain.receipt(txHash, atHeight);
  } catch (e) {
    if (isCoded(e, ChainError, ['BAD_HEIGHT'])) throw notFound((e as Error).message);
    throw e;
  }
  if (proof !== undefined) {
    return {
      txHash: toHex(txHash),
      status: proof.receipt.status,
      height: proof.height,
      receipt: receiptToJSON(proof.receipt),
      leafIndex: proof.leafIndex,
      inclusionProof: logInclusionProofToJSON(proof.inclusionProof),
      historyRoot: toHex(proof.historyRoot),
      historySize: proof.historySize,
    };
  }
  if (view.mempool.has(txHash)) return { txHash: toHex(txHash), status: 'pending' };
  return { txHash: toHex(txHash), status: 'unknown' };
}
