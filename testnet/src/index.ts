export { MAX_SUPPLY, parseStakes, TestnetError } from './stakes.js';
