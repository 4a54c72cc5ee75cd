/**
 * The Ed25519 items of transactions' signatures, for one batch check
 * (docs/PROTOCOL.md 6.3 rule 6): malformed transactions have none (the
 * ledger rejects them as `MALFORMED` without a signature check).
 */
import { decodeTx, txHashOf } from '@pos/protocol';
import { type Ed25519VerifyItem, sha256Node } from './crypto.js';

/** One item per signature of every well-formed transaction of `txs`. */
export function signatureItems(txs: readonly Uint8Array[]): Ed25519VerifyItem[] {
  const items: Ed25519VerifyItem[] = [];
  for (const bytes of txs) {
    let tx: ReturnType<typeof decodeTx>;
    try {
      tx = decodeTx(bytes);
    } catch {
      continue;
    }
    const message = txHashOf(tx.body, sha256Node);
    for (const s of tx.signatures) {
      items.push({ publicKey: s.publicKey, message, signature: s.signature });
    }
  }
  return items;
}
