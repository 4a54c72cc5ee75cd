/**
 * The event store's key layout (docs/PROTOCOL.md 9.1), every key behind the
 * store's prefix (9.3: `0x03` in the node's database); integers big-endian
 * u64:
 *
 * ```
 * e ‖ hash(32)                       → event bytes
 * s ‖ index(8)                       → hash
 * c ‖ creator(32) ‖ seq(8) ‖ hash(32) → index(8)
 * f ‖ creator(32)                    → seq(8)
 * m                                  → nextIndex(8) ‖ pruneFloor(8)
 * ```
 */
import { concatBytes, readU64be, u64be } from '@pos/merkle';
import { EventStoreError } from './errors.js';

const TAG_E = 0x65; // 'e'
const TAG_S = 0x73; // 's'
const TAG_C = 0x63; // 'c'
const TAG_F = 0x66; // 'f'
const TAG_M = 0x6d; // 'm'

/** Builders and readers of the store's keys under one prefix. */
export interface EventKeys {
  /** `e ‖ hash`: the event's bytes. */
  event(hash: Uint8Array): Uint8Array;
  /** `s ‖ index`: the hash inserted at `index`. */
  order(index: number): Uint8Array;
  /** `c ‖ creator ‖ seq ‖ hash`: the event's insertion index. */
  creatorEntry(creator: Uint8Array, seq: number, hash: Uint8Array): Uint8Array;
  /** Lower bound of one creator's `c` entries from `seq` on. */
  creatorFrom(creator: Uint8Array, seq: number): Uint8Array;
  /** Lower bound of one creator's `c` range (every seq). */
  creatorLow(creator: Uint8Array): Uint8Array;
  /** Upper bound (exclusive) of one creator's `c` range. */
  creatorHigh(creator: Uint8Array): Uint8Array;
  /** Bounds of the whole `c` range: `c` and the tag after it. */
  readonly creatorsLow: Uint8Array;
  readonly creatorsHigh: Uint8Array;
  /** `f ‖ creator`: the lowest seq the creator forked at. */
  forkFloor(creator: Uint8Array): Uint8Array;
  /** `m`: nextIndex ‖ pruneFloor. */
  readonly meta: Uint8Array;
  /** Length of every well-formed `c` key. */
  readonly creatorEntryLength: number;
  /** The creator of a `c` key. */
  creatorOf(cKey: Uint8Array): Uint8Array;
  /** The seq of a `c` key. */
  seqOf(cKey: Uint8Array): number;
  /** The event hash of a `c` key. */
  hashOf(cKey: Uint8Array): Uint8Array;
}

/** The key layout under `prefix` (empty for a database of its own). */
export function createEventKeys(prefix: Uint8Array): EventKeys {
  const key = (...parts: Uint8Array[]) => concatBytes(prefix, ...parts);
  const tag = (t: number) => Uint8Array.of(t);
  const p = prefix.length;
  return {
    event: (h) => key(tag(TAG_E), h),
    order: (i) => key(tag(TAG_S), u64be(i)),
    creatorEntry: (c, seq, h) => key(tag(TAG_C), c, u64be(seq), h),
    creatorFrom: (c, seq) => key(tag(TAG_C), c, u64be(seq)),
    creatorLow: (c) => key(tag(TAG_C), c),
    // Above every seq ‖ hash of this creator: 8 bytes 0xff, then 33 zero bytes.
    creatorHigh: (c) => key(tag(TAG_C), c, new Uint8Array(8).fill(0xff), new Uint8Array(33)),
    creatorsLow: key(tag(TAG_C)),
    creatorsHigh: key(tag(TAG_C + 1)),
    forkFloor: (c) => key(tag(TAG_F), c),
    meta: key(tag(TAG_M)),
    creatorEntryLength: p + 1 + 32 + 8 + 32,
    creatorOf: (k) => k.slice(p + 1, p + 33),
    seqOf: (k) => readU64be(k, p + 33),
    hashOf: (k) => k.slice(p + 41, p + 73),
  };
}

/** The `m` record's value. */
export function encodeMeta(nextIndex: number, pruneFloor: number): Uint8Array {
  return concatBytes(u64be(nextIndex), u64be(pruneFloor));
}

/** Reads the `m` record's value; `CORRUPT_STORE` unless it is 16 bytes. */
export function decodeMeta(v: Uint8Array): { nextIndex: number; pruneFloor: number } {
  if (v.length !== 16) throw new EventStoreError('CORRUPT_STORE', 'meta record');
  return { nextIndex: readU64be(v, 0), pruneFloor: readU64be(v, 8) };
}
