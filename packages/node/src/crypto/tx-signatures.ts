/**
 * The Ed25519 items of transactions' signatures, for one batch check
 * (docs/PROTOCOL.md 6.3 rule 6): malformed transactions have none (the
 * ledger rejects them as `MALFORMED` without a signature check). Decoded
 * through the node's decoder: no second decode or hash of the bytes.
 */
import type { TxDecoder } from '../chain/tx-decoder.js';
import type { Ed25519VerifyItem } from './crypto.js';

/** One item per signature of every well-formed transaction of `txs`. */
export function signatureItems(txs: readonly Uint8Array[], decode: TxDecoder): Ed25519VerifyItem[] {
  const items: Ed25519VerifyItem[] = [];
  for (const bytes of txs) {
    const d = decode(bytes);
    if (!d.ok) continue;
    for (const s of d.tx.signatures) {
      items.push({ publicKey: s.publicKey, message: d.txHash, signature: s.signature });
    }
  }
  return items;
}
