/** Events of the simulator: its canonical (not the node's) encoding, hashing and stand-in signatures. */
import type { HashFn } from '@pos/merkle';
import type { ConsensusEventInput } from '../types.js';
import { ascii, putU64 } from './bytes.js';
import type { SimRng } from './rng.js';

/** An event of the simulator: the engine's input plus its creation index. */
export interface SimEvent extends ConsensusEventInput {
  readonly transactions: readonly Uint8Array[];
  /**
   * Index in the order of creation over the whole run (or DAG). Creation order
   * is topological: both parents of an event were created before it.
   */
  readonly id: number;
}

/** The fields an event is made of, before hashing and signing. */
export interface SimEventFields {
  readonly creator: number;
  readonly seq: number;
  readonly selfParent: Uint8Array | null;
  readonly otherParent: Uint8Array | null;
  /** The other-parent's creator and seq (its descriptor, docs/PROTOCOL.md 5.7), if known. */
  readonly otherParentCreator?: number;
  readonly otherParentSeq?: number;
  readonly timestamp: number;
  readonly transactions: readonly Uint8Array[];
}

/** Domain tag of an event hash (docs/PROTOCOL.md 2). */
export const EVENT_TAG = 'pos/event';
const EVENT_TAG_BYTES = ascii(EVENT_TAG);

/**
 * `"pos/event" ‖ encoding`: what the event hash is computed over. The
 * simulator's encoding is canonical (one byte string per event) but is not the
 * node's wire format, which the consensus engine never sees: `u32be creator ‖
 * u64be seq ‖ parent(self) ‖ parent(other) ‖ u64be timestamp ‖ u32be count ‖
 * (u32be length ‖ bytes)*`, where a parent is `0x00` for none or `0x01 ‖ hash`,
 * and an other-parent with its descriptor is `0x02 ‖ hash ‖ u32be creator ‖
 * u64be seq`.
 */
export function eventPreimage(f: SimEventFields): Uint8Array {
  let len = EVENT_TAG_BYTES.length + 4 + 8 + 2 + 8 + 4;
  if (f.selfParent) len += f.selfParent.length;
  if (f.otherParent) len += f.otherParent.length;
  const desc = f.otherParent !== null && f.otherParentCreator !== undefined;
  if (desc) len += 12;
  for (const tx of f.transactions) len += 4 + tx.length;
  const out = new Uint8Array(len);
  const view = new DataView(out.buffer);
  out.set(EVENT_TAG_BYTES, 0);
  let o = EVENT_TAG_BYTES.length;
  view.setUint32(o, f.creator);
  o += 4;
  o = putU64(view, o, f.seq);
  for (const p of [f.selfParent, f.otherParent]) {
    if (p) {
      out[o++] = desc && p === f.otherParent ? 2 : 1;
      out.set(p, o);
      o += p.length;
    } else out[o++] = 0;
  }
  if (desc) {
    view.setUint32(o, f.otherParentCreator!);
    o = putU64(view, o + 4, f.otherParentSeq ?? 0);
  }
  o = putU64(view, o, f.timestamp);
  view.setUint32(o, f.transactions.length);
  o += 4;
  for (const tx of f.transactions) {
    view.setUint32(o, tx.length);
    o += 4;
    out.set(tx, o);
    o += tx.length;
  }
  return out;
}

/**
 * Hashes and "signs" the fields. The signature is 64 deterministic bytes,
 * `hash(h) ‖ hash(hash(h))`, standing in for Ed25519 (which the engine does
 * not check unless given `verify`): its middle byte, the coin of docs/PROTOCOL.md 5.4,
 * varies from event to event as a real signature's does.
 */
export function makeSimEvent(f: SimEventFields, id: number, hash: HashFn): SimEvent {
  const h = hash(eventPreimage(f));
  const s1 = hash(h);
  const signature = new Uint8Array(64);
  signature.set(s1, 0);
  signature.set(hash(s1), 32);
  return {
    hash: h,
    creator: f.creator,
    seq: f.seq,
    selfParent: f.selfParent,
    otherParent: f.otherParent,
    ...(f.otherParent !== null && f.otherParentCreator !== undefined
      ? { otherParentCreator: f.otherParentCreator, otherParentSeq: f.otherParentSeq ?? 0 }
      : {}),
    timestamp: f.timestamp,
    transactions: f.transactions,
    signature,
    id,
  };
}

/**
 * Random transactions, unique per (creator, seq, index, fork twin) so that the
 * tx dedup rule never drops one (a twin's marker may repeat: that is the point).
 */
export function randomTxs(rng: SimRng, creator: number, seq: number, max: number, twin: number) {
  const count = max > 0 ? rng.below(max + 1) : 0;
  const txs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const tx = new Uint8Array(4 + 4 + 8 + 2 + 1 + 8);
    const view = new DataView(tx.buffer);
    tx.set(ascii('stx/'), 0);
    view.setUint32(4, creator);
    putU64(view, 8, seq);
    view.setUint16(16, i);
    tx[18] = twin;
    tx.set(rng.bytes(8), 19);
    txs.push(tx);
  }
  // A second fork twin must differ from the first even when both drew no transaction.
  if (twin > 0) txs.push(Uint8Array.of(...ascii('stx/fork'), twin));
  return txs;
}
