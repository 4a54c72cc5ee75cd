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
  createRateLimiter,
  defaultRateLimiterOpts,
  type RateLimiter,
  type RateLimiterOpts,
} from './rate-limit.js';
