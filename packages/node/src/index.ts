// The limits of the JSON-RPC contract, defined in @pos/api (docs/PROTOCOL.md 10.1).
export { MAX_DAG_EVENTS, MAX_DAG_ROUNDS, MAX_OUTPUTS } from '@pos/api';
export {
  type AnyRpcMethod,
  createRpcDispatcher,
  DEFAULT_MAX_BATCH,
  DEFAULT_RPC_BODY_LIMIT,
  defineRpcMethod,
  isJsonSafe,
  RPC_INTERNAL_ERROR,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_LIMIT_EXCEEDED,
  RPC_METHOD_NOT_FOUND,
  RPC_NOT_FOUND,
  RPC_PARSE_ERROR,
  RPC_TX_REJECTED,
  type RpcDispatcher,
  type RpcDispatcherOpts,
  RpcError,
  type RpcErrorObject,
  type RpcId,
  type RpcLogger,
  type RpcMethod,
  type RpcResponse,
  type RpcRouteOpts,
  registerRpcRoute,
  rpcErrorResponse,
} from './api/dispatcher.js';
export { mapNodeError } from './api/errors.js';
export {
  createNodeEvents,
  type NewBlockEvent,
  type NodeEventMap,
  type NodeEvents,
  type NodeEventsLogger,
  type NodeEventTopic,
  type TxStatusEvent,
} from './api/events.js';
export type { NodeStatus, NodeView } from './api/interface.js';
export { createNodeRpcMethods } from './api/methods/index.js';
export { type OpsRoutesOpts, type Readiness, registerOpsRoutes } from './api/ops.js';
export {
  DEFAULT_MAX_QUEUED_BYTES,
  MAX_WS_FRAME_BYTES,
  registerSubscriptions,
  type SubscriptionOpts,
  type SubscriptionStats,
} from './api/subscriptions.js';
export {
  type AddSignatureResult,
  CERTIFICATE_WINDOW,
  type CertificateCollector,
  type CertificateCollectorOptions,
  createCertificateCollector,
  MAX_PENDING_SIGNATURES_PER_HEIGHT,
  type SignatureEvidence,
  type SignatureRejection,
} from './chain/certificates.js';
export {
  type AppliedBlock,
  type Chain,
  type ChainBlock,
  ChainError,
  type ChainErrorCode,
  type ChainOpts,
  openChain,
  type ReceiptProof,
} from './chain/chain.js';
export {
  type BlockResult,
  createLedger,
  type HistoryProof,
  type HistoryQuery,
  type Ledger,
  LedgerError,
  type LedgerErrorCode,
  type LedgerOpts,
  MAX_HISTORY_SCAN,
  type NameProof,
  type OutputsProof,
  type OutputsQuery,
  type OwnedOutput,
  type TxCheck,
  type VerifyFn,
} from './chain/ledger.js';
export {
  CONFIG_ENV,
  CONFIG_FLAGS,
  ConfigError,
  type ConfigSource,
  type ConfigSources,
  configFlagOptions,
  defaultNodeConfig,
  LOG_LEVELS,
  type LogLevel,
  type NodeConfig,
  resolveConfig,
} from './config.js';
export {
  createEd25519Signer,
  createVerifyPool,
  ED25519_BATCH_IN_FLIGHT,
  ED25519_KEY_CACHE_MAX,
  type Ed25519VerifyItem,
  ed25519KeyCacheSize,
  sha256Node,
  startVerifyWorker,
  type VerifyPool,
  type VerifyPoolOptions,
  type VerifyRequest,
  type VerifyResponse,
  verifyEd25519Async,
  verifyEd25519Batch,
  verifyEd25519BatchOnLibuv,
  verifyEd25519Sync,
} from './crypto/crypto.js';
export {
  createSignatureCache,
  defaultSignatureCacheOpts,
  type SignatureCache,
  type SignatureCacheOpts,
} from './crypto/sig-cache.js';
export {
  defaultLevelEventStoreOpts,
  type EventDb,
  type EventDbOp,
  EventStoreError,
  type EventStoreErrorCode,
  type LevelEventStore,
  type LevelEventStoreOpts,
  openLevelEventStore,
} from './db/event-store.js';
export {
  checkFailpointEnv,
  FAILPOINTS,
  type FailpointName,
  failpoint,
  parseFailpoints,
} from './failpoints.js';
export type { NodeOpts, PosNode } from './interface.js';
export {
  generateValidatorKey,
  KeyFileError,
  type KeyFileErrorCode,
  keyFileText,
  readKeyFile,
  type ValidatorKey,
  writeKeyFile,
} from './keyfile.js';
export {
  createMempool,
  defaultMempoolOpts,
  type Mempool,
  MempoolError,
  type MempoolErrorCode,
  type MempoolOpts,
  type Submitted,
} from './mempool.js';
export { createNodeMetrics, type NodeMetrics, type NodeMetricsOpts } from './metrics.js';
export { startNode } from './node.js';
export { defaultRuntimeOpts, type RuntimeOpts } from './options.js';
export {
  createValidatorIndex,
  DagError,
  type DagErrorCode,
  ledgerTxHash,
  type NodeEvent,
  nodeConsensusOpts,
  toConsensusEvent,
  type ValidatorIndex,
} from './pipeline/dag.js';
