export * from './bytes.js';
export * from './errors.js';
export * from './hash.js';
export * from './log.js';
export * from './log-proof.js';
export * from './store.js';
export * from './trie.js';
export * from './trie-proof.js';
