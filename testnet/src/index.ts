export {
  type BlockMode,
  createFaultNet,
  type FaultNet,
  type FaultNetOpts,
  type LinkRule,
  type LinkStats,
  seededRandom,
} from './faults.js';
export {
  defaultTestnetOpts,
  startTestnet,
  type Testnet,
  type TestnetLayout,
  type TestnetNode,
  type TestnetOpts,
  type TestnetWallet,
} from './network.js';
export { MAX_SUPPLY, parseStakes, TestnetError } from './stakes.js';
