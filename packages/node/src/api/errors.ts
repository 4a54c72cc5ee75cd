/**
 * The one mapping of domain errors to JSON-RPC errors (docs/PROTOCOL.md
 * 10.1): every typed error a handler lets through becomes its JSON-RPC
 * error here, and nowhere else.
 *
 * @module
 */
import {
  MAX_OUTPUTS,
  RPC_INVALID_PARAMS,
  RPC_LIMIT_EXCEEDED,
  RPC_NOT_FOUND,
  RPC_TX_REJECTED,
} from '@pos/api';
import { MerkleError, toHex } from '@pos/merkle';
import { ChainError } from '../chain/chain.js';
import { LedgerError, MAX_HISTORY_SCAN } from '../chain/ledger.js';
import { MempoolError } from '../mempool.js';
import { RpcError } from './dispatcher.js';

/**
 * Domain errors to JSON-RPC errors (docs/PROTOCOL.md 10.1): a refused
 * transaction is -32003 with `data: {code, reason, txHash}`, a full mempool
 * or an oversized answer -32005, an unknown object -32001, a bad argument
 * that slipped past the params check -32602. Anything else: `undefined`
 * (answered -32603 and logged).
 */
export function mapNodeError(e: unknown): RpcError | undefined {
  if (e instanceof MempoolError) {
    const data = {
      code: e.code,
      ...(e.reason === undefined ? {} : { reason: e.reason }),
      ...(e.txHash === undefined ? {} : { txHash: toHex(e.txHash) }),
    };
    if (e.code === 'FULL') return new RpcError(RPC_LIMIT_EXCEEDED, e.message, data);
    return new RpcError(RPC_TX_REJECTED, e.message, data);
  }
  if (e instanceof ChainError && (e.code === 'BAD_ARGUMENT' || e.code === 'BAD_HEIGHT')) {
    return new RpcError(RPC_INVALID_PARAMS, `Invalid params: ${e.message}`);
  }
  if (e instanceof LedgerError && e.code === 'BAD_HEIGHT') {
    return new RpcError(RPC_NOT_FOUND, e.message);
  }
  if (e instanceof MerkleError) {
    // A proof that would collect more entries than its answer may hold:
    // an owner's outputs (pos_getOutputs) or a key's history (pos_getHistory).
    if (e.code === 'OUT_OF_RANGE') {
      return new RpcError(
        RPC_LIMIT_EXCEEDED,
        `more entries than an answer holds (${MAX_OUTPUTS} outputs, ${MAX_HISTORY_SCAN} history entries)`,
      );
    }
    // A height whose state the trie no longer keeps (docs/PROTOCOL.md 3.5).
    if (e.code === 'PRUNED' || e.code === 'UNKNOWN_ROOT')
      return new RpcError(RPC_NOT_FOUND, e.message);
  }
  return undefined;
}

/** A -32001 error: the asked object is not known (docs/PROTOCOL.md 10.1). */
export const notFound = (message: string): RpcError => new RpcError(RPC_NOT_FOUND, message);
