/**
 * Transactions between the mempool and a certificate: which events carry
 * transactions not yet ordered (the "work" that keeps the gossip at full
 * pace, docs/PROTOCOL.md 8.1), and when this node's own submissions were
 * accepted (for the latency metrics of docs/PROTOCOL.md 10).
 */

import type { DecidedBlock } from '@pos/consensus';
import { toHex } from '@pos/merkle';
import type { NodeMetrics } from '../metrics.js';
import type { NodeEvent } from './dag.js';

/** Options of {@link createTxTracker}. */
export interface TxTrackerOpts {
  /** Submission times remembered at most (the oldest is forgotten first). */
  maxSubmitted: number;
}

export const defaultTxTrackerOpts: Readonly<TxTrackerOpts> = Object.freeze({
  maxSubmitted: 200_000,
});

/** A stage of a submission's way to finality, as `pos_tx_stage_seconds` labels it. */
export type TxStage = 'in_event' | 'decided' | 'applied';

/** The tracker; one per node. */
export interface TxTracker {
  /** Transactions in events not yet ordered. */
  readonly undecided: number;
  /** An inserted event; `own` lists its transactions' hashes when this node made it. */
  trackEvent(ev: NodeEvent, round: number, own: Uint8Array[] | null): void;
  /** A block was decided: its events' transactions are no longer undecided. */
  noteDecided(b: DecidedBlock<NodeEvent>): void;
  /**
   * Forgets events of rounds below `horizon` that were never ordered and
   * returns this node's own transactions in them (to give back to the mempool).
   */
  expireBelow(horizon: number): Uint8Array[];
  /** A submission was accepted now. */
  submitted(txHash: Uint8Array): void;
  /** A submission was rejected by a block: no latency to measure. */
  forget(txHash: Uint8Array): void;
  /** Observes the time since submission to `stage` for this node's submissions among `txHashes`. */
  observeStage(stage: TxStage, txHashes: readonly Uint8Array[]): void;
  /** The block holding `txHashes` got its certificate: observe and forget them. */
  certified(txHashes: readonly Uint8Array[]): void;
}

/** Creates the tracker, observing into `metrics`. */
export function createTxTracker(
  metrics: Pick<NodeMetrics, 'txStageSeconds' | 'finalityLatencySeconds'>,
  opts: Partial<TxTrackerOpts> = {},
): TxTracker {
  const o: TxTrackerOpts = { ...defaultTxTrackerOpts, ...opts };
  const txEvents = new Map<string, { round: number; txHashes: Uint8Array[] | null; n: number }>();
  let undecided = 0;
  const submittedAtMs = new Map<string, number>();
  const observeStage = (stage: TxStage, txHashes: readonly Uint8Array[]) => {
    const now = Date.now();
    for (const h of txHashes) {
      const at = submittedAtMs.get(toHex(h));
      if (at !== undefined) metrics.txStageSeconds.observe({ stage }, (now - at) / 1000);
    }
  };

  return {
    get undecided() {
      return undecided;
    },
    trackEvent(ev, round, own) {
      const n = ev.wire.transactions.length;
      if (n === 0) return;
      txEvents.set(toHex(ev.hash), { round, txHashes: own, n });
      undecided += n;
    },
    noteDecided(b) {
      for (const ev of b.events) {
        const k = toHex(ev.hash);
        const t = txEvents.get(k);
        if (t === undefined) continue;
        undecided -= t.n;
        txEvents.delete(k);
        if (t.txHashes !== null) observeStage('decided', t.txHashes);
      }
    },
    expireBelow(horizon) {
      const back: Uint8Array[] = [];
      for (const [k, t] of txEvents) {
        if (t.round >= horizon) continue;
        txEvents.delete(k);
        undecided -= t.n;
        if (t.txHashes !== null) back.push(...t.txHashes);
      }
      return back;
    },
    submitted(txHash) {
      if (submittedAtMs.size >= o.maxSubmitted) {
        submittedAtMs.delete(submittedAtMs.keys().next().value!);
      }
      submittedAtMs.set(toHex(txHash), Date.now());
    },
    forget: (txHash) => void submittedAtMs.delete(toHex(txHash)),
    observeStage,
    certified(txHashes) {
      const now = Date.now();
      for (const h of txHashes) {
        const k = toHex(h);
        const at = submittedAtMs.get(k);
        if (at !== undefined) {
          metrics.finalityLatencySeconds.observe((now - at) / 1000);
          submittedAtMs.delete(k);
        }
      }
    },
  };
}
