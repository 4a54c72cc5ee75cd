/**
 * The mempool (issue 4, "Mempool"): transactions submitted over JSON-RPC wait
 * here until the node puts them in one of its events. A submission is checked
 * against the latest committed state (syntax, chain, fee, inputs unspent,
 * balance, signatures: the ledger's own `checkTx`), is idempotent by
 * transaction hash, and is refused with a clear reason. Bounded in count and
 * bytes; a transaction spending an outpoint that a pending one already
 * spends is refused too (the first one in wins, as in a block).
 */
import type { RejectReason } from '@pos/protocol';
import type { TxCheck } from './chain/ledger.js';

/** Codes of {@link MempoolError}, mapped to JSON-RPC -32003 / -32005 at the edge. */
export type MempoolErrorCode =
  /** The ledger's rules refuse it now; `reason` says which. */
  | 'REJECTED'
  /** It spends an outpoint that a pending transaction already spends. */
  | 'CONFLICT'
  /** The pool is at its count or byte bound. */
  | 'FULL'
  /** Larger than one transaction may be. */
  | 'TOO_LARGE';

/** A refused submission. */
export class MempoolError extends Error {
  readonly code: MempoolErrorCode;
  readonly reason: RejectReason | undefined;
  readonly txHash: Uint8Array | undefined;
  constructor(code: MempoolErrorCode, message: string, txHash?: Uint8Array, reason?: RejectReason) {
    super(message);
    this.name = 'MempoolError';
    this.code = code;
    this.txHash = txHash;
    this.reason = reason;
  }
}

/** Options of {@link createMempool}. */
export interface MempoolOpts {
  /** The ledger's check against the latest committed state. */
  readonly checkTx: (tx: Uint8Array) => Promise<TxCheck>;
  /**
   * Whether a block already ordered this transaction (it has a receipt).
   * Asked only when the check says `INPUT_SPENT`: the inputs may be spent by
   * this very transaction, which a wallet resends when an answer was lost.
   */
  readonly isOrdered?: (txHash: Uint8Array) => Promise<boolean>;
  readonly maxTxs?: number;
  readonly maxBytes?: number;
  readonly maxTxBytes?: number;
}

export const defaultMempoolOpts = {
  maxTxs: 20_000,
  maxBytes: 32 << 20,
  maxTxBytes: 64 << 10,
} as const;

/** What {@link Mempool.submit} answers for an accepted or already known transaction. */
export interface Submitted {
  readonly txHash: Uint8Array;
  /** False when the same transaction was already pending or ordered (idempotent). */
  readonly added: boolean;
}

export interface Mempool {
  submit(tx: Uint8Array): Promise<Submitted>;
  /** Whether a transaction is pending (submitted, not yet seen in a block). */
  has(txHash: Uint8Array): boolean;
  /**
   * Up to `maxCount` pending transactions, oldest first, within `maxBytes`,
   * that are not yet in one of this node's events; they are marked as taken.
   */
  take(maxCount: number, maxBytes: number): Uint8Array[];
  /** Puts taken transactions back (their event went stale: never ordered). */
  untake(txHashes: readonly Uint8Array[]): void;
  /** Removes transactions that a block ordered (committed or rejected). */
  remove(txHashes: readonly Uint8Array[]): void;
  /** Re-checks every pending transaction against the new state; drops the ones now invalid. */
  revalidate(): Promise<number>;
  /**
   * Drops the pending transactions that spend any of `outpoints` (a block
   * just spent them: they can only be rejected now). Cheap, unlike
   * `revalidate`: no signature is checked again. Returns how many.
   */
  dropSpent(outpoints: readonly { txHash: Uint8Array; index: number }[]): number;
  readonly size: number;
  readonly bytes: number;
}

interface Entry {
  readonly tx: Uint8Array;
  readonly txHash: Uint8Array;
  readonly spends: readonly string[];
  taken: boolean;
}

const keyOf = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
};

const outpointKey = (txHash: Uint8Array, index: number) => `${keyOf(txHash)}:${index}`;

/** Creates an empty mempool. */
export function createMempool(opts: MempoolOpts): Mempool {
  const maxTxs = opts.maxTxs ?? defaultMempoolOpts.maxTxs;
  const maxBytes = opts.maxBytes ?? defaultMempoolOpts.maxBytes;
  const maxTxBytes = opts.maxTxBytes ?? defaultMempoolOpts.maxTxBytes;
  // Insertion order is submission order: `take` hands out the oldest first.
  const pending = new Map<string, Entry>();
  const spentBy = new Map<string, string>();
  let bytes = 0;

  function drop(k: string): void {
    const e = pending.get(k);
    if (!e) return;
    pending.delete(k);
    bytes -= e.tx.length;
    for (const s of e.spends) if (spentBy.get(s) === k) spentBy.delete(s);
  }

  return {
    async submit(tx) {
      if (!(tx instanceof Uint8Array) || tx.length === 0 || tx.length > maxTxBytes) {
        throw new MempoolError('TOO_LARGE', `a transaction is 1..${maxTxBytes} bytes`);
      }
      const check = await opts.checkTx(tx);
      const k = keyOf(check.txHash);
      if (pending.has(k)) return { txHash: check.txHash, added: false };
      // Submitting is idempotent by hash after the block too: resending an
      // ordered transaction is answered like resending a pending one.
      if (!check.ok && check.reason === 'INPUT_SPENT' && (await opts.isOrdered?.(check.txHash))) {
        return { txHash: check.txHash, added: false };
      }
      if (!check.ok) {
        throw new MempoolError('REJECTED', `rejected: ${check.reason}`, check.txHash, check.reason);
      }
      const spends = check.tx.body.inputs.map((i) => outpointKey(i.txHash, i.index));
      for (const s of spends) {
        if (spentBy.has(s)) {
          throw new MempoolError(
            'CONFLICT',
            'an input is already spent by a pending transaction',
            check.txHash,
          );
        }
      }
      if (pending.size >= maxTxs || bytes + tx.length > maxBytes) {
        throw new MempoolError('FULL', 'the mempool is full; retry later', check.txHash);
      }
      pending.set(k, { tx, txHash: check.txHash, spends, taken: false });
      bytes += tx.length;
      for (const s of spends) spentBy.set(s, k);
      return { txHash: check.txHash, added: true };
    },
    has: (h) => pending.has(keyOf(h)),
    take(maxCount, maxTakeBytes) {
      const out: Uint8Array[] = [];
      let used = 0;
      for (const e of pending.values()) {
        if (out.length >= maxCount) break;
        if (e.taken || used + e.tx.length > maxTakeBytes) continue;
        e.taken = true;
        used += e.tx.length;
        out.push(e.tx);
      }
      return out;
    },
    untake(hashes) {
      for (const h of hashes) {
        const e = pending.get(keyOf(h));
        if (e) e.taken = false;
      }
    },
    remove(hashes) {
      for (const h of hashes) drop(keyOf(h));
    },
    dropSpent(outpoints) {
      let dropped = 0;
      for (const o of outpoints) {
        const k = spentBy.get(outpointKey(o.txHash, o.index));
        if (k !== undefined) {
          drop(k);
          dropped++;
        }
      }
      return dropped;
    },
    async revalidate() {
      let dropped = 0;
      for (const [k, e] of [...pending]) {
        const c = await opts.checkTx(e.tx);
        if (!c.ok) {
          drop(k);
          dropped++;
        }
      }
      return dropped;
    },
    get size() {
      return pending.size;
    },
    get bytes() {
      return bytes;
    },
  };
}
