export { GossipError, type GossipErrorCode } from './errors.js';
export {
  createRateLimiter,
  defaultRateLimiterOpts,
  type RateLimiter,
  type RateLimiterOpts,
} from './rate-limit.js';
