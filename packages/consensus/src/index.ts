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
