/**
 * Every method, as one table: what the node serves on `POST /rpc` and what
 * the typed client calls, in docs/PROTOCOL.md 10.1's order.
 *
 * @module
 */
import { POS_GET_BLOCK, POS_GET_CERTIFICATE, POS_GET_CONSISTENCY_PROOF } from './blocks.js';
import {
  POS_GET_DAG,
  POS_GET_EQUIVOCATIONS,
  POS_GET_EVENT,
  POS_GET_EVENT_TRANSACTIONS,
} from './dag.js';
import { POS_GET_HISTORY, POS_RESOLVE_NAME } from './indexes.js';
import { POS_STATUS } from './node.js';
import { POS_GET_OUTPOINT, POS_GET_OUTPUTS } from './state.js';
import { POS_SUBSCRIBE, POS_UNSUBSCRIBE } from './subscriptions.js';
import { POS_GET_TRANSACTION, POS_SEND_TRANSACTION } from './tx.js';
import { POS_GET_VALIDATORS } from './validators.js';

/** The JSON-RPC methods of `POST /rpc`, by name. */
export const METHODS = {
  pos_status: POS_STATUS,
  pos_sendTransaction: POS_SEND_TRANSACTION,
  pos_getTransaction: POS_GET_TRANSACTION,
  pos_getBlock: POS_GET_BLOCK,
  pos_getCertificate: POS_GET_CERTIFICATE,
  pos_getOutputs: POS_GET_OUTPUTS,
  pos_getOutpoint: POS_GET_OUTPOINT,
  pos_getHistory: POS_GET_HISTORY,
  pos_resolveName: POS_RESOLVE_NAME,
  pos_getConsistencyProof: POS_GET_CONSISTENCY_PROOF,
  pos_getValidators: POS_GET_VALIDATORS,
  pos_getEvent: POS_GET_EVENT,
  pos_getEventTransactions: POS_GET_EVENT_TRANSACTIONS,
  pos_getDag: POS_GET_DAG,
  pos_getEquivocations: POS_GET_EQUIVOCATIONS,
} as const;

/** The methods of the WebSocket (`/ws`), by name. */
export const SUBSCRIPTION_METHODS = {
  pos_subscribe: POS_SUBSCRIBE,
  pos_unsubscribe: POS_UNSUBSCRIBE,
} as const;

/** The methods table's type. */
export type Methods = typeof METHODS;
/** A method name of `POST /rpc`. */
export type MethodName = keyof Methods;
