import { sha256 } from '@noble/hashes/sha2.js';
import { asciiBytes, concatBytes } from './bytes.js';

/**
 * A SHA-256 implementation: one-shot, 32-byte output (docs/PROTOCOL.md 2).
 * The default is @noble/hashes so that the package stays browser-safe; the node
 * injects `node:crypto`'s one-shot `crypto.hash('sha256', data, 'buffer')`,
 * which is faster on the short inputs that trees hash. Both must give the same
 * bytes: the test suite checks that.
 */
export type HashFn = (data: Uint8Array) => Uint8Array;

/** @noble/hashes SHA-256 (pure JS, audited, browser-safe). */
export const sha256Noble: HashFn = (data) => sha256(data);

/** Options accepted by every hashing entry point of this package. */
export interface HashOpts {
  /** SHA-256 implementation; defaults to {@link sha256Noble}. */
  hash?: HashFn;
}

/**
 * Domain-separated hash `sha256(tag ‖ bytes)` with an ASCII tag such as
 * `pos/event` (docs/PROTOCOL.md 2). The tag is not length-prefixed: every
 * tag in use is listed there, and none is a prefix of another.
 */
export function taggedHash(tag: string, data: Uint8Array, hash: HashFn = sha256Noble): Uint8Array {
  return hash(concatBytes(asciiBytes(tag), data));
}

/** 32 zero bytes: the hash of an empty trie or subtree. */
export const ZERO_HASH: Uint8Array = new Uint8Array(32);
