export {
  type ApiClient,
  type ClientMethod,
  type ClientMethodName,
  type ClientName,
  createApiClient,
  type MethodOfClient,
} from './client.js';
export {
  ApiError,
  type ApiErrorCode,
  type ApiErrorOpts,
  apiErrorCodeOf,
  apiErrorFromRpc,
  invalidParams,
  RPC_ERROR_CODES,
  RPC_ERROR_MESSAGES,
  RPC_INTERNAL_ERROR,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_LIMIT_EXCEEDED,
  RPC_METHOD_NOT_FOUND,
  RPC_NOT_FOUND,
  RPC_PARSE_ERROR,
  RPC_TX_REJECTED,
  type RpcErrorName,
} from './errors.js';
export {
  createHttpTransport,
  defaultHttpTransportOpts,
  type FetchLike,
  type HttpTransport,
  type HttpTransportOpts,
} from './http.js';
export type { BatchEntry, RpcCall, Transport } from './interface.js';
export {
  type AnyMethodDef,
  defineMethod,
  type ErrorDef,
  errorDef,
  type MethodArgs,
  type MethodDef,
  type MethodParams,
  type MethodResult,
  type MethodSpec,
  type ResultDef,
  result,
} from './method.js';
export {
  type BlockResult,
  type CertificateResult,
  POS_GET_BLOCK,
  POS_GET_CERTIFICATE,
  POS_GET_CONSISTENCY_PROOF,
} from './methods/blocks.js';
export {
  type DagResult,
  type EquivocationsResult,
  type EventResult,
  type EventTransactionsResult,
  MAX_DAG_EVENTS,
  MAX_DAG_ROUNDS,
  POS_GET_DAG,
  POS_GET_EQUIVOCATIONS,
  POS_GET_EVENT,
  POS_GET_EVENT_TRANSACTIONS,
} from './methods/dag.js';
export { METHODS, type MethodName, type Methods, SUBSCRIPTION_METHODS } from './methods/index.js';
export {
  DEFAULT_HISTORY_LIMIT,
  type HistoryEntryJSON,
  type HistoryResult,
  MAX_HISTORY_LIMIT,
  type NameResult,
  POS_GET_HISTORY,
  POS_RESOLVE_NAME,
} from './methods/indexes.js';
export { NODE_STATUS_SCHEMA, type NodeStatus, POS_STATUS } from './methods/node.js';
export {
  MAX_OUTPUTS,
  type OutpointResult,
  type OutputEntry,
  type OutputsResult,
  POS_GET_OUTPOINT,
  POS_GET_OUTPUTS,
} from './methods/state.js';
export {
  type NewBlockEvent,
  POS_SUBSCRIBE,
  POS_UNSUBSCRIBE,
  SUBSCRIPTION_NOTIFICATION,
  SUBSCRIPTION_PAYLOAD_SCHEMAS,
  type SubscribeParams,
  type SubscriptionKind,
  type SubscriptionKinds,
  type TxStatusEvent,
} from './methods/subscriptions.js';
export {
  MAX_TX_PARAM_BYTES,
  POS_GET_TRANSACTION,
  POS_SEND_TRANSACTION,
  type RecordedTransaction,
  type SendTransactionResult,
  type TransactionResult,
} from './methods/tx.js';
export {
  POS_GET_VALIDATORS,
  type ValidatorEntry,
  type ValidatorsProof,
  type ValidatorsResult,
} from './methods/validators.js';
export {
  API_VERSION,
  DISCOVER_METHOD,
  OPENRPC_VERSION,
  type OpenRpcDocument,
  openRpcDocument,
} from './openrpc.js';
export {
  type AnyParam,
  type ArgsOf,
  type DecodedOf,
  type DecodedParams,
  decodeParams,
  hashParam,
  type JsonOf,
  type Optional,
  optional,
  type ParamDef,
  type Required,
  required,
  stringParam,
  u16Param,
  uintParam,
} from './params.js';
export {
  AMOUNT,
  arrayOf,
  COMPONENT_SCHEMAS,
  HASH32,
  hexSchema,
  type JsonSchema,
  nullable,
  object,
  ref,
  UINT,
} from './schema.js';
export {
  createSubscriptionClient,
  type SocketClose,
  type Subscription,
  type SubscriptionClient,
  type SubscriptionClientOpts,
  socketUrl,
  type WebSocketCtor,
  type WebSocketLike,
} from './ws.js';
