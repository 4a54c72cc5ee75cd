/**
 * The state key layout (docs/PROTOCOL.md 6.3, 6.5): where the ledger keeps
 * each thing it knows in the one state trie (`@pos/merkle`, 64-byte keys),
 * so that the node that writes the state and a wallet that checks a proof
 * of it compute the same keys. Five key spaces here (names and the key
 * history index, the other two, are in `names.ts` and `history.ts`):
 *
 * ```
 * output    sha256(owner) ‖ outpointId          → Output (72 bytes)                  unspent outputs only
 * outpoint  outpointId ‖ 0^32                   → 0x00 ‖ txHash ‖ u16 index ‖ owner   unspent (67 bytes)
 *                                               → 0x01 ‖ u64 height                  spent at height (9 bytes)
 * meta      0^64                                → 0x01 ‖ chainId ‖ u64 burned (41 bytes)
 * validator validatorId ‖ 0^31 ‖ 0x02           → 0x01 ‖ pubkey ‖ u16+name ‖ u16+p2p  registered
 * epoch     0^31 ‖ 0x01 ‖ u64 k ‖ 0^24          → ValidatorSet encoding: epoch k's table
 * ```
 *
 * with `outpointId = sha256("pos/outpoint" ‖ txHash ‖ u16 index)`. Output
 * keys start with `sha256(owner)`, so `provePrefix(ownerPrefix(owner))` is
 * the completeness proof of an owner's outputs; epoch tables share one
 * prefix, so `provePrefix(EPOCH_TABLE_PREFIX)` lists them all. The key
 * spaces cannot meet: that would take a SHA-256 output equal to another or
 * to zero. The values' encodings are the ledger's (`@pos/node`).
 */
import { type HashFn, sha256Noble, taggedHash } from '@pos/merkle';
import { ProtocolError } from './errors.js';
import { encodeOutpoint, OUTPOINT_TAG, type Outpoint } from './tx.js';

/** Every state-trie key is this long. */
export const STATE_KEY_BYTES = 64;

const isBytes = (b: unknown, n: number): b is Uint8Array =>
  b instanceof Uint8Array && b.length === n;

function checkIndex(k: number, what: string): void {
  if (!Number.isSafeInteger(k) || k < 0) {
    throw new ProtocolError('BAD_ARGUMENT', `${what} must be a safe integer >= 0`);
  }
}

/** `sha256(owner)`: the first half of every key of `owner`'s outputs, the prefix to prove. */
export function ownerPrefix(owner: Uint8Array, hash: HashFn = sha256Noble): Uint8Array {
  if (!isBytes(owner, 32)) throw new ProtocolError('BAD_ARGUMENT', 'owner must be 32 bytes');
  return hash(owner);
}

/** `sha256("pos/outpoint" ‖ txHash ‖ u16 index)`: the second half of an output's key. */
export function outpointId(outpoint: Outpoint, hash: HashFn = sha256Noble): Uint8Array {
  return taggedHash(OUTPOINT_TAG, encodeOutpoint(outpoint), hash);
}

/**
 * The state-trie key of an output: `sha256(owner) ‖ outpointId(outpoint)`
 * (64 bytes). Every output of one owner shares the first 32 bytes, so
 * `provePrefix(ownerPrefix(owner))` is the proof of all of them (docs/PROTOCOL.md 3.2).
 * Its value in the trie is {@link encodeOutput}.
 */
export function outputKey(
  owner: Uint8Array,
  outpoint: Outpoint,
  hash: HashFn = sha256Noble,
): Uint8Array {
  const key = new Uint8Array(64);
  key.set(ownerPrefix(owner, hash), 0);
  key.set(outpointId(outpoint, hash), 32);
  return key;
}

/**
 * The first 32 bytes of every epoch-table key in the state trie:
 * `0^31 ‖ 0x01`. One prefix for all of them, so `provePrefix` lists every
 * table the state holds. (The ledger's other keys start with a SHA-256
 * output, and the meta key is all zeros: they cannot share it.)
 */
export const EPOCH_TABLE_PREFIX: Uint8Array = (() => {
  const p = new Uint8Array(32);
  p[31] = 1;
  return p;
})();

/** Last 32 bytes of a registration key: `0^31 ‖ 0x02` (an outpoint record's are all zero). */
export const REGISTRATION_SUFFIX: Uint8Array = (() => {
  const p = new Uint8Array(32);
  p[31] = 2;
  return p;
})();

/** State-trie key of epoch `k`'s table: `EPOCH_TABLE_PREFIX ‖ u64be(k) ‖ 0^24`. */
export function epochTableKey(k: number): Uint8Array {
  checkIndex(k, 'epoch');
  const key = new Uint8Array(64);
  key.set(EPOCH_TABLE_PREFIX, 0);
  const hi = Math.floor(k / 2 ** 32);
  const lo = k >>> 0;
  key[32] = hi >>> 24;
  key[33] = (hi >>> 16) & 0xff;
  key[34] = (hi >>> 8) & 0xff;
  key[35] = hi & 0xff;
  key[36] = lo >>> 24;
  key[37] = (lo >>> 16) & 0xff;
  key[38] = (lo >>> 8) & 0xff;
  key[39] = lo & 0xff;
  return key;
}

/** The epoch of an epoch-table key, or `undefined` if `key` is not one. */
export function epochOfTableKey(key: Uint8Array): number | undefined {
  if (!(key instanceof Uint8Array) || key.length !== 64) return undefined;
  for (let i = 0; i < 32; i++) if (key[i] !== EPOCH_TABLE_PREFIX[i]) return undefined;
  for (let i = 40; i < 64; i++) if (key[i] !== 0) return undefined;
  const hi = ((key[32]! << 24) | (key[33]! << 16) | (key[34]! << 8) | key[35]!) >>> 0;
  const lo = ((key[36]! << 24) | (key[37]! << 16) | (key[38]! << 8) | key[39]!) >>> 0;
  const k = hi * 2 ** 32 + lo;
  return Number.isSafeInteger(k) ? k : undefined;
}

/** State-trie key of a validator's registration: `validatorId ‖ REGISTRATION_SUFFIX`. */
export function registrationKey(validatorId: Uint8Array): Uint8Array {
  if (!(validatorId instanceof Uint8Array) || validatorId.length !== 32) {
    throw new ProtocolError('BAD_ARGUMENT', 'validatorId must be 32 bytes');
  }
  const key = new Uint8Array(64);
  key.set(validatorId, 0);
  key.set(REGISTRATION_SUFFIX, 32);
  return key;
}

/** The meta record's key: all zeros (chainId and the fees burned). */
export const META_KEY: Uint8Array = new Uint8Array(STATE_KEY_BYTES);

/** The outpoint record's key: `outpointId ‖ 0^32` (where an input finds its owner, or its spend). */
export function outpointRecordKey(outpointIdBytes: Uint8Array): Uint8Array {
  if (!isBytes(outpointIdBytes, 32)) {
    throw new ProtocolError('BAD_ARGUMENT', 'outpointId must be 32 bytes');
  }
  const k = new Uint8Array(STATE_KEY_BYTES);
  k.set(outpointIdBytes, 0);
  return k;
}

/** Whether `key` is an outpoint record's or the meta record's (its last 32 bytes are zero). */
export function isOutpointRecordOrMetaKey(key: Uint8Array): boolean {
  for (let i = 32; i < STATE_KEY_BYTES; i++) if (key[i] !== 0) return false;
  return true;
}

/** Whether `key` is a registration's (it ends in {@link REGISTRATION_SUFFIX}). */
export function isRegistrationKey(key: Uint8Array): boolean {
  if (key.length !== STATE_KEY_BYTES) return false;
  for (let i = 0; i < 32; i++) if (key[32 + i] !== REGISTRATION_SUFFIX[i]) return false;
  return true;
}
