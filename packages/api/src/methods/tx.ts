/**
 * Transactions: `pos_sendTransaction` and `pos_getTransaction`
 * (docs/PROTOCOL.md 10.1).
 *
 * @module
 */
import type { LogInclusionProofJSON } from '@pos/merkle';
import { fromHex, type ReceiptJSON } from '@pos/protocol';
import { invalidParams } from '../errors.js';
import { defineMethod, errorDef, result } from '../method.js';
import { hashParam, optional, type ParamDef, required, uintParam } from '../params.js';
import { HASH32, hexSchema, object, ref, UINT } from '../schema.js';

/** Most bytes of a transaction `pos_sendTransaction` takes (docs/PROTOCOL.md 6.2). */
export const MAX_TX_PARAM_BYTES = 65_536;
/** Its longest hex form: `0x` and two digits a byte. */
const MAX_TX_HEX = 2 + 2 * MAX_TX_PARAM_BYTES;

/** The signed transaction param: `0x` hex of 1..65,536 bytes. */
const txParam: ParamDef<'tx', string, Uint8Array> = {
  name: 'tx',
  required: true,
  summary: 'a signed transaction (docs/PROTOCOL.md 6.2) in 0x hex',
  schema: { ...hexSchema(), minLength: 4, maxLength: MAX_TX_HEX },
  nullIsAbsent: false,
  decode: (tx) => {
    const message = `tx must be 0x-prefixed hex of 1..${MAX_TX_PARAM_BYTES} bytes`;
    if (typeof tx !== 'string' || tx.length > MAX_TX_HEX || tx.length < 4) {
      throw invalidParams(message);
    }
    try {
      return fromHex(tx);
    } catch {
      throw invalidParams(message);
    }
  },
};

/** What `pos_sendTransaction` answers. */
export interface SendTransactionResult {
  txHash: string;
  /** False when the same txHash is already pending, or already ordered by a committed block. */
  added: boolean;
}

/** `pos_sendTransaction`: submits a signed transaction; idempotent by hash. */
export const POS_SEND_TRANSACTION = defineMethod({
  name: 'pos_sendTransaction',
  summary: 'Submits a signed transaction; a resubmission of the same bytes answers added: false.',
  params: [required(txParam)],
  result: result<SendTransactionResult>(
    'submitted',
    object({ txHash: HASH32, added: { type: 'boolean' } }),
  ),
  errors: [
    errorDef(
      'TX_REJECTED',
      'rejected: data {code: REJECTED (reason a receipt reason) | CONFLICT | TOO_LARGE, reason?, txHash?}',
    ),
    errorDef('LIMIT_EXCEEDED', 'the mempool is full (data.code FULL)'),
  ],
});

/** A transaction a block recorded, with its receipt's inclusion proof. */
export interface RecordedTransaction {
  txHash: string;
  status: 'committed' | 'rejected';
  height: number;
  receipt: ReceiptJSON;
  leafIndex: number;
  inclusionProof: LogInclusionProofJSON;
  /** Root and size of the latest header's history log, or of the block at `atHeight`. */
  historyRoot: string;
  historySize: number;
}

/** What `pos_getTransaction` answers: recorded, pending in the mempool, or unknown. */
export type TransactionResult =
  | RecordedTransaction
  | { txHash: string; status: 'pending' }
  | { txHash: string; status: 'unknown' };

/** `pos_getTransaction`: a transaction's status, and its receipt proved under a header. */
export const POS_GET_TRANSACTION = defineMethod({
  name: 'pos_getTransaction',
  summary: "A transaction's receipt and inclusion proof, or its status if no block recorded it.",
  params: [
    required(hashParam('txHash', 'the transaction hash')),
    optional(uintParam('atHeight', 'prove under the block at this height (default: the latest)')),
  ],
  result: result<TransactionResult>('transaction', {
    oneOf: [
      object({
        txHash: HASH32,
        status: { enum: ['committed', 'rejected'] },
        height: UINT,
        receipt: ref('Receipt'),
        leafIndex: UINT,
        inclusionProof: ref('LogInclusionProof'),
        historyRoot: HASH32,
        historySize: UINT,
      }),
      object({ txHash: HASH32, status: { enum: ['pending', 'unknown'] } }),
    ],
  }),
  errors: [errorDef('NOT_FOUND', 'no block at atHeight, or it precedes the receipt')],
});
