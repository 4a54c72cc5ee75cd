/**
 * A transaction's body (inputs, outputs, fee, memo, a registration): the
 * node indexes receipts by hash, not bodies, so the page finds the event
 * that carried the transaction among the rounds up to the block that
 * ordered it (`pos_getDag`), reads that event's transaction bytes
 * (`pos_getEventTransactions`), decodes them and keeps them only if they
 * hash to the id looked for (docs/PROTOCOL.md 6.2: the id is the body's
 * tagged hash), so a node cannot show another body under that id.
 *
 * @module
 */
import { type ApiClient, MAX_DAG_ROUNDS } from '@pos/api';
import { fromHex, readTx, type Tx, toHex } from '@pos/protocol';

/** What the search for a body found. */
export type TxBodyResult =
  | {
      readonly found: true;
      readonly tx: Tx;
      readonly eventHash: string;
      readonly round: number | null;
    }
  | { readonly found: false; readonly reason: string };

/** Looks for `txHash` in the rounds `from..to` (at most 4 windows of {@link MAX_DAG_ROUNDS}). */
async function carrier(
  api: ApiClient,
  txHash: string,
  from: number,
  to: number,
): Promise<{ hash: string; index: number; round: number | null } | null> {
  const windows: [number, number][] = [];
  for (let a = Math.max(0, from); a <= to && windows.length < 4; a += MAX_DAG_ROUNDS) {
    windows.push([a, Math.min(to, a + MAX_DAG_ROUNDS - 1)]);
  }
  const pages = await api.batch('getDag', windows);
  for (const p of pages) {
    if (p instanceof Error) continue;
    for (const e of p.events) {
      const i = e.txHashes.indexOf(txHash);
      if (i >= 0) return { hash: e.hash, index: i, round: e.round };
    }
  }
  return null;
}

/**
 * The body of `txHash`, ordered at `height` (a block height is its leader's
 * round) or still pending (then the latest rounds are searched).
 */
export async function findTxBody(
  api: ApiClient,
  txHash: string,
  height: number | null,
): Promise<TxBodyResult> {
  const status = await api.status();
  const to = height ?? status.round;
  const found = await carrier(api, txHash, to - 2 * MAX_DAG_ROUNDS + 1, to);
  if (found === null) {
    return {
      found: false,
      reason:
        'the event that carried it is no longer indexed by this node (only recent rounds are)',
    };
  }
  const { transactions } = await api.getEventTransactions(found.hash);
  const hex = transactions[found.index];
  if (hex === undefined) return { found: false, reason: 'the event does not carry it' };
  let tx: Tx;
  try {
    tx = readTx(fromHex(hex));
  } catch {
    return { found: false, reason: 'its bytes do not decode (a MALFORMED transaction)' };
  }
  if (toHex(tx.txHash) !== txHash) {
    return { found: false, reason: 'the bytes the node gave do not hash to this id: refused' };
  }
  return { found: true, tx, eventHash: found.hash, round: found.round };
}
