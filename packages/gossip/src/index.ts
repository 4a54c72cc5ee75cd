export { GossipError, type GossipErrorCode } from './errors.js';
export {
  decodeEvent,
  EVENT_TAG,
  EVENT_VERSION,
  encodeUnsignedEvent,
  eventHash,
  MAX_EVENT_BYTES,
  MAX_EVENT_TXS,
  MAX_PAYLOAD_BYTES,
  MAX_PAYLOADS,
  MAX_TX_BYTES,
  type ParentRef,
  type Payload,
  PayloadKind,
  signEvent,
  type UnsignedEvent,
  type WireEvent,
} from './event.js';
export {
  createGossiper,
  defaultGossiperOpts,
  type Gossiper,
  type GossiperDeps,
  type GossiperOpts,
  type PullOutcome,
  type StepPull,
} from './gossiper.js';
export {
  createPeerBook,
  defaultPeerBookOpts,
  type Peer,
  type PeerBook,
  type PeerBookOpts,
  peerUrl,
} from './peers.js';
export {
  createRateLimiter,
  defaultRateLimiterOpts,
  type RateLimiter,
  type RateLimiterOpts,
} from './rate-limit.js';
export {
  createMemoryEventStore,
  type EventStore,
  type KnownEntry,
  knownFromHeads,
  MAX_TIPS_PER_CREATOR,
  type Tip,
} from './store.js';
export {
  createSyncClient,
  DEFAULT_HEADERS_TIMEOUT_MS,
  type PullResult,
  type SyncClient,
  type SyncClientOpts,
} from './sync/client.js';
export {
  decodeSyncRequest,
  encodeSyncRequest,
  encodeSyncRequestBody,
  MAX_CLOCK_SKEW_MS,
  MAX_KNOWN_ENTRIES,
  MAX_PAGE_BYTES,
  MAX_PAGE_EVENTS,
  MAX_SYNC_REQUEST_BYTES,
  SYNC_CONTENT_TYPE,
  SYNC_PATH,
  SYNC_REQ_TAG,
  type SyncRequest,
  syncRequestHash,
  type VerifyFn,
} from './sync/request.js';
export {
  createPeerScores,
  DEFAULT_PENALTIES,
  type PeerScores,
  type PeerScoresOpts,
} from './sync/scores.js';
export {
  refusalCodeOf,
  registerSyncRoutes,
  type SyncRefusal,
  type SyncServerOpts,
} from './sync/server.js';
export {
  createWarnLimiter,
  type GossipLogger,
  type WarnLimiter,
  type WarnLimiterOpts,
} from './warn.js';
