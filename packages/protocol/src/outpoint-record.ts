/**
 * The outpoint records of the state trie (docs/PROTOCOL.md 6.3): under
 * `outpointRecordKey(outpointId)`, while the output is unspent,
 * `0x00 ‖ txHash ‖ u16 index ‖ owner` (where its output lives: the key
 * `outputKey(owner, outpoint)`), and once spent `0x01 ‖ u64 spentHeight`.
 * The node writes them; a wallet rebuilds them to check an outpoint's proof
 * (docs/PROTOCOL.md 11), so both sides share this one encoding.
 */
import { Reader, Writer } from './codec.js';
import { ProtocolError } from './errors.js';
import type { Outpoint } from './tx.js';

/** Tag of an unspent outpoint's record. */
export const RECORD_UNSPENT = 0x00;
/** Tag of a spent outpoint's record. */
export const RECORD_SPENT = 0x01;

/** A decoded outpoint record. */
export type OutpointRecord =
  | { readonly spent: false; readonly outpoint: Outpoint; readonly owner: Uint8Array }
  | { readonly spent: true; readonly height: number };

/** The record of an unspent output at `outpoint`, owned by `owner` (67 bytes). */
export function encodeUnspentRecord(outpoint: Outpoint, owner: Uint8Array): Uint8Array {
  return new Writer(67)
    .u8(RECORD_UNSPENT)
    .bytes(outpoint.txHash, 32)
    .u16be(outpoint.index)
    .bytes(owner, 32)
    .finish();
}

/** The record of an outpoint spent by a transaction of block `height` (9 bytes). */
export function encodeSpentRecord(height: number): Uint8Array {
  return new Writer(9).u8(RECORD_SPENT).u64safe(height).finish();
}

/** Decodes a record; `ProtocolError` (`BAD_ENCODING`) unless it is exactly one of the two forms. */
export function decodeOutpointRecord(bytes: Uint8Array): OutpointRecord {
  try {
    const r = new Reader(bytes);
    const tag = r.u8(RECORD_UNSPENT, RECORD_SPENT, 'record tag');
    let rec: OutpointRecord;
    if (tag === RECORD_SPENT) {
      rec = { spent: true, height: r.u64safe() };
    } else {
      const txHash = r.bytes(32);
      const index = r.u16be();
      rec = { spent: false, outpoint: { txHash, index }, owner: r.bytes(32) };
    }
    r.end();
    return rec;
  } catch (e) {
    if (e instanceof ProtocolError) throw e;
    throw new ProtocolError('BAD_ENCODING', `outpoint record: ${(e as Error).message}`);
  }
}
