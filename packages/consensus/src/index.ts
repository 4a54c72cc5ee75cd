export { createConsensus } from './engine.js';
export { ConsensusError, type ConsensusErrorCode } from './errors.js';
export {
  drawLeader,
  isSupermajority,
  LEADER_TAG,
  type LeaderCandidate,
  leaderSeed,
  SEED_BYTES,
  selectByStake,
} from './leader.js';
export {
  parseReplayInput,
  type ReplayBlock,
  ReplayError,
  type ReplayInput,
  type ReplayOutput,
  replay,
  replayBundle,
} from './replay.js';
export {
  type Consensus,
  type ConsensusEventInput,
  type ConsensusOpts,
  type ConsensusStats,
  type DecidedBlock,
  defaultConsensusOpts,
  type EventInfo,
  type ForkEvidence,
  type InsertResult,
  type ProbeResult,
} from './types.js';
