/**
 * One decode per transaction per node (docs/PROTOCOL.md 6.2, 6.3): the
 * same bytes object travels from where it entered the node (a submission,
 * or a peer's event) through the mempool, the node's own event, the
 * engine's ordering and the block to the ledger, so a cache keyed by that
 * object (a WeakMap: it lives exactly as long as the bytes do) makes every
 * later reader reuse the first decode and its hash. Bytes that do not
 * decode get their `MALFORMED` id (`sha256("pos/bad-tx" ‖ bytes)`), once.
 */
import type { HashFn } from '@pos/merkle';
import { malformedTxHash, ProtocolError, readTx, type Tx } from '@pos/protocol';

/** A transaction's bytes, decoded, or the id of bytes that do not decode. */
export type DecodedTx =
  | { readonly ok: true; readonly tx: Tx; readonly txHash: Uint8Array }
  | { readonly ok: false; readonly txHash: Uint8Array };

/** Decodes (once per bytes object) and counts the decodes it really did. */
export interface TxDecoder {
  (bytes: Uint8Array): DecodedTx;
  /** Decodes done (cache misses), for `pos_tx_decodes_total` and tests. */
  readonly decodes: number;
}

/** Creates a decoder with its own cache. */
export function createTxDecoder(hash: HashFn): TxDecoder {
  const cache = new WeakMap<Uint8Array, DecodedTx>();
  let decodes = 0;
  const decode = (bytes: Uint8Array): DecodedTx => {
    const known = cache.get(bytes);
    if (known !== undefined) return known;
    decodes++;
    let out: DecodedTx;
    try {
      const tx = readTx(bytes, hash);
      out = { ok: true, tx, txHash: tx.txHash };
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
      out = { ok: false, txHash: malformedTxHash(bytes, hash) };
    }
    cache.set(bytes, out);
    return out;
  };
  Object.defineProperty(decode, 'decodes', { get: () => decodes });
  return decode as TxDecoder;
}
