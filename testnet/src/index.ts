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
