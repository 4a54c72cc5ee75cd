/**
 * The key history index (docs/PROTOCOL.md 6.7): for every key, one state
 * entry per transaction that touched it, in (height, index) order under one
 * 32-byte prefix, so that a range proof of the state trie (`proveRange`,
 * docs/PROTOCOL.md 3.2) shows every transaction of a key between two heights,
 * none left out and none added, against a certified state root.
 *
 * ```
 * key    taggedHash("pos/history", pubkey) ‖ u64be height ‖ u32be index ‖ 0^19 ‖ 0x04
 * value  u8 version = 1 ‖ u8 roles ‖ u8 status (0 committed, 1 rejected) ‖ u8 reason ‖ txHash (32)
 * ```
 */
import { type HashFn, sha256Noble, taggedHash } from '@pos/merkle';
import { Reader, Writer } from './codec.js';
import { ProtocolError } from './errors.js';
import { REJECT_REASONS, type RejectReason } from './tx.js';

/** Tag of a key's history prefix. */
export const HISTORY_TAG = 'pos/history';

/** Bytes of a history record's value. */
export const HISTORY_RECORD_BYTES = 36;

/**
 * How a transaction touched a key, as bits: it spent an output of the key
 * (`input`), paid the key (`output`), registered it as a validator
 * (`registered`), or gave it, took from it or released its name (`name`).
 */
export const HISTORY_ROLES = Object.freeze({ input: 1, output: 2, registered: 4, name: 8 });
/** One of the role names of {@link HISTORY_ROLES}. */
export type HistoryRole = keyof typeof HISTORY_ROLES;
const ROLE_NAMES = Object.keys(HISTORY_ROLES) as HistoryRole[];
const ALL_ROLES = 0x0f;

/** `taggedHash("pos/history", pubkey)`: the first 32 bytes of every history key of `pubkey`. */
export function historyPrefix(pubkey: Uint8Array, hash: HashFn = sha256Noble): Uint8Array {
  if (!(pubkey instanceof Uint8Array) || pubkey.length !== 32) {
    throw new ProtocolError('BAD_ARGUMENT', 'key must be 32 bytes');
  }
  return taggedHash(HISTORY_TAG, pubkey, hash);
}

const MAX_U32 = 0xffffffff;

function checkPosition(height: number, index: number): void {
  if (!Number.isSafeInteger(height) || height < 0) {
    throw new ProtocolError('BAD_ARGUMENT', 'height must be a safe integer >= 0');
  }
  if (!Number.isInteger(index) || index < 0 || index > MAX_U32) {
    throw new ProtocolError('BAD_ARGUMENT', 'index must be a u32');
  }
}

/** The history key of transaction `index` of block `height` for the key whose prefix is `prefix`. */
export function historyKeyOf(prefix: Uint8Array, height: number, index: number): Uint8Array {
  checkPosition(height, index);
  const w = new Writer(64);
  w.bytes(prefix, 32).u64safe(height).u32be(index).bytes(new Uint8Array(19), 19).u8(HISTORY_MARK);
  return w.finish();
}

/** Last byte of every history key (outpoint records end in 0, registrations 2, names 3). */
const HISTORY_MARK = 4;

/** Whether `key` has the shape of a history key: `… ‖ 0^19 ‖ 0x04`. */
export function isHistoryKey(key: Uint8Array): boolean {
  if (!(key instanceof Uint8Array) || key.length !== 64 || key[63] !== HISTORY_MARK) return false;
  for (let i = 44; i < 63; i++) if (key[i] !== 0) return false;
  return true;
}

/** The (height, index) of a history key, or undefined if `key` is not one under `prefix`. */
export function historyPosition(
  key: Uint8Array,
  prefix: Uint8Array,
): { height: number; index: number } | undefined {
  if (!isHistoryKey(key)) return undefined;
  for (let i = 0; i < 32; i++) if (key[i] !== prefix[i]) return undefined;
  const r = new Reader(key.subarray(32, 44));
  const height = r.u64safe(0, Number.MAX_SAFE_INTEGER, 'height');
  const index = r.u32be(0, MAX_U32, 'index');
  return { height, index };
}

/**
 * The inclusive key range of `pubkey`'s history entries with heights in
 * `[fromHeight, toHeight]`, for `proveRange`.
 */
export function historyRange(
  pubkey: Uint8Array,
  fromHeight: number,
  toHeight: number,
  hash: HashFn = sha256Noble,
): { lo: Uint8Array; hi: Uint8Array } {
  if (!(toHeight >= fromHeight)) throw new ProtocolError('BAD_ARGUMENT', 'from must be <= to');
  const prefix = historyPrefix(pubkey, hash);
  const lo = historyKeyOf(prefix, fromHeight, 0);
  const hi = historyKeyOf(prefix, toHeight, MAX_U32);
  hi.fill(0xff, 44);
  return { lo, hi };
}

/** One entry of a key's history. */
export interface HistoryRecord {
  readonly roles: readonly HistoryRole[];
  readonly status: 'committed' | 'rejected';
  /** Present iff rejected. */
  readonly reason?: RejectReason;
  readonly txHash: Uint8Array;
}

/** Role bits of `roles` (each once, any order). */
export function roleBits(roles: readonly HistoryRole[]): number {
  let bits = 0;
  for (const r of roles) {
    const b = HISTORY_ROLES[r];
    if (b === undefined) throw new ProtocolError('BAD_ARGUMENT', `unknown role ${String(r)}`);
    bits |= b;
  }
  return bits;
}

/** The 36-byte value of a history entry. Throws `BAD_ARGUMENT`. */
export function encodeHistoryRecord(r: HistoryRecord): Uint8Array {
  const bits = roleBits(r.roles);
  if (bits === 0) throw new ProtocolError('BAD_ARGUMENT', 'a history entry has a role');
  const rejected = r.status === 'rejected';
  if (rejected !== (r.reason !== undefined)) {
    throw new ProtocolError('BAD_ARGUMENT', 'a reason iff rejected');
  }
  const code = rejected ? REJECT_REASONS.indexOf(r.reason!) + 1 : 0;
  if (rejected && code === 0) throw new ProtocolError('BAD_ARGUMENT', 'unknown reason');
  if (!(r.txHash instanceof Uint8Array) || r.txHash.length !== 32) {
    throw new ProtocolError('BAD_ARGUMENT', 'txHash must be 32 bytes');
  }
  const w = new Writer(HISTORY_RECORD_BYTES);
  w.u8(1)
    .u8(bits)
    .u8(rejected ? 1 : 0)
    .u8(code)
    .bytes(r.txHash, 32);
  return w.finish();
}

/** Decodes a history entry's value strictly (`BAD_ENCODING`). */
export function decodeHistoryRecord(bytes: Uint8Array): HistoryRecord {
  const r = new Reader(bytes);
  r.u8(1, 1, 'history record version');
  const bits = r.u8(1, ALL_ROLES, 'roles');
  const status = r.u8(0, 1, 'status');
  const code = r.u8(0, REJECT_REASONS.length, 'reason');
  const txHash = r.bytes(32, 'txHash');
  r.end();
  if ((status === 1) !== (code !== 0)) {
    throw new ProtocolError('BAD_ENCODING', 'a history entry has a reason iff rejected');
  }
  const roles = ROLE_NAMES.filter((n) => (bits & HISTORY_ROLES[n]) !== 0);
  return status === 0
    ? { roles, status: 'committed', txHash }
    : { roles, status: 'rejected', reason: REJECT_REASONS[code - 1]!, txHash };
}
