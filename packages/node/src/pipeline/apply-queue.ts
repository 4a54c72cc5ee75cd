/**
 * Decided blocks are applied by one serial queue, apart from the gossip
 * loop: ordering goes on while the ledger and the trie commit a block (its
 * LevelDB work runs off this thread), and a block's signature is queued the
 * moment it lands. The order of application is the decision order
 * (docs/PROTOCOL.md 8.1). A block half-applied in memory cannot be skipped:
 * a failure stops the node, and a restart redoes it from disk
 * (docs/PROTOCOL.md 9.3).
 */
import type { Consensus, DecidedBlock } from '@pos/consensus';
import { toHex } from '@pos/merkle';
import type { NodeEvents } from '../api/events.js';
import type { CertificateCollector } from '../chain/certificates.js';
import type { Certifier } from '../chain/certifier.js';
import type { AppliedBlock, Chain } from '../chain/chain.js';
import type { TxDecoder } from '../chain/tx-decoder.js';
import type { Ed25519VerifyItem } from '../crypto/crypto.js';
import { signatureItems } from '../crypto/tx-signatures.js';
import type { Mempool } from '../mempool.js';
import type { NodeMetrics } from '../metrics.js';
import type { BlockSigner } from './block-signer.js';
import type { NodeEvent } from './dag.js';
import type { RoundIndex } from './rounds.js';
import type { TxTracker } from './tx-tracker.js';

/** Options of {@link createApplyQueue}. */
export interface ApplyQueueOpts {
  /**
   * The engine's expiry K (docs/PROTOCOL.md 5.7): events more than K rounds
   * below the decided round that were never ordered give their transactions
   * back to the mempool.
   */
  expireRounds: number;
  /** Blocks replayed within this many heights of the last one still collect signatures. */
  replaySignHeights: number;
}

export const defaultApplyQueueOpts: Readonly<ApplyQueueOpts> = Object.freeze({
  expireRounds: 26, // the engine's default expireRounds
  replaySignHeights: 64,
});

/** What the queue reads and writes. */
export interface ApplyQueueDeps {
  readonly chain: Chain;
  readonly engine: Pick<Consensus<NodeEvent>, 'lastDecidedRound'>;
  readonly mempool: Pick<Mempool, 'remove' | 'dropSpent' | 'untake'>;
  readonly collector: Pick<CertificateCollector, 'setBlock'>;
  readonly certifier: Certifier;
  readonly signer: BlockSigner;
  readonly tracker: TxTracker;
  readonly rounds: RoundIndex;
  readonly metrics: NodeMetrics;
  readonly events: Pick<NodeEvents, 'emit'>;
  readonly logger: { info(o: object, m: string): void; error(o: object, m: string): void };
  /** Checks transaction signatures in one batch (worker pool) and caches the verdicts. */
  prefetch(items: readonly Ed25519VerifyItem[]): Promise<number>;
  /** The node's transaction decoder. */
  readonly decode: TxDecoder;
  /** A block registered validators or wrote epoch tables. */
  onSetChanges(applied: AppliedBlock): void;
  replaying(): boolean;
  /** An urgent signature waits: end the gossip loop's nap. */
  wake(): void;
  /** A block failed outside the replay: the node must stop. */
  onFatal(e: unknown): void;
}

/** The queue. */
export interface ApplyQueue {
  /** Queues decided blocks; resolves when everything queued so far is applied. */
  handle(blocks: readonly DecidedBlock<NodeEvent>[]): Promise<void>;
  /** Resolves when everything queued so far is applied. */
  idle(): Promise<void>;
  /** Decided blocks not applied yet. */
  readonly queued: number;
  /** The error that stopped the queue, if any. */
  readonly error: unknown;
}

/** What the block spent, no pending transaction can spend any more (the first spend wins). */
function dropSpent(
  deps: Pick<ApplyQueueDeps, 'decode' | 'mempool'>,
  b: DecidedBlock<NodeEvent>,
  applied: AppliedBlock,
): void {
  const spent = [];
  for (let i = 0; i < b.transactions.length; i++) {
    if (applied.receipts[i]?.status !== 'committed') continue;
    const d = deps.decode(b.transactions[i]!);
    if (d.ok) spent.push(...d.tx.body.inputs);
  }
  if (spent.length > 0) deps.mempool.dropSpent(spent);
}

/** The state layer's gauges after a block. */
function noteState(metrics: NodeMetrics, chain: Chain): void {
  metrics.stateFlushedHeight.set(chain.flushedHeight ?? -1);
  metrics.stateUnflushedNodes.set(chain.ledger.unflushedNodes);
}

/** Creates the queue. */
export function createApplyQueue(
  deps: ApplyQueueDeps,
  opts: Partial<ApplyQueueOpts> = {},
): ApplyQueue {
  const o: ApplyQueueOpts = { ...defaultApplyQueueOpts, ...opts };
  const { chain, metrics } = deps;
  let applying: Promise<void> = Promise.resolve();
  let applyError: unknown = null;
  let queued = 0;

  /** Forgets events that went stale (never ordered) and gives their transactions back. */
  function expireStale(): void {
    const horizon = deps.engine.lastDecidedRound - o.expireRounds - 1;
    const back = deps.tracker.expireBelow(horizon);
    if (back.length > 0) deps.mempool.untake(back);
    deps.rounds.dropBelow(horizon - o.expireRounds);
  }

  /**
   * A block recorded before a restart: re-executed if the state lost it with
   * the unflushed trie (docs/PROTOCOL.md 9.2); recent ones still collect signatures.
   */
  async function replayed(b: DecidedBlock<NodeEvent>, lastHeight: number): Promise<void> {
    if (await chain.reexecute(b)) metrics.blocksReexecutedTotal.inc();
    const round = b.round;
    if (round <= lastHeight - o.replaySignHeights) return;
    const h = await chain.header(round);
    if (h === undefined) return;
    deps.collector.setBlock(round, h.blockHash);
    if (await deps.certifier.stored(round)) {
      deps.certifier.noteStored(round);
    } else {
      deps.certifier.expect(round, []);
      deps.signer.sign(round, h.blockHash);
    }
  }

  /** Receipts: events, metrics; returns the committed transactions' hashes. */
  function announceReceipts(applied: AppliedBlock, height: number): Uint8Array[] {
    const committed: Uint8Array[] = [];
    for (const rc of applied.receipts) {
      const txHash = toHex(rc.txHash);
      if (rc.status === 'committed') {
        committed.push(rc.txHash);
        metrics.transactionsCommittedTotal.inc();
        deps.events.emit('txStatus', { txHash, status: 'committed', height });
      } else {
        metrics.transactionsRejectedTotal.inc({ reason: rc.reason ?? 'UNKNOWN' });
        deps.events.emit('txStatus', {
          txHash,
          status: 'rejected',
          height,
          ...(rc.reason === undefined ? {} : { reason: rc.reason }),
        });
        deps.tracker.forget(rc.txHash);
      }
    }
    return committed;
  }

  async function applyBlock(b: DecidedBlock<NodeEvent>): Promise<void> {
    const last = chain.latest();
    if (last !== null && b.round <= last.header.height) return replayed(b, last.header.height);
    const t0 = performance.now();
    const checked = await deps.prefetch(signatureItems(b.transactions, deps.decode));
    if (checked > 0) metrics.txSignaturesCheckedTotal.inc({ stage: 'block' }, checked);
    const t1 = performance.now();
    const applied = await chain.applyDecided(b);
    metrics.blockApplySeconds.observe({ stage: 'verify' }, (t1 - t0) / 1000);
    metrics.blockApplySeconds.observe({ stage: 'apply' }, (performance.now() - t1) / 1000);
    const height = applied.header.height;
    metrics.blocksTotal.inc();
    metrics.blockHeight.set(height);
    noteState(metrics, chain);
    deps.onSetChanges(applied);
    const committed = announceReceipts(applied, height);
    deps.tracker.observeStage('applied', committed);
    deps.mempool.remove(applied.receipts.map((r) => r.txHash));
    dropSpent(deps, b, applied);
    deps.collector.setBlock(height, applied.blockHash);
    deps.certifier.expect(height, committed);
    deps.events.emit('newBlock', {
      height,
      blockHash: toHex(applied.blockHash),
      timestamp: applied.header.timestamp,
      txCount: applied.header.txCount,
      certified: false,
    });
    deps.signer.sign(height, applied.blockHash);
    // Signatures that arrived before the block (a node catching up, or one
    // that is not a member and signs nothing) may already make a certificate.
    deps.certifier.certify(height);
    if (applied.receipts.length > 0) deps.signer.markUrgent();
    if (!deps.replaying()) {
      deps.logger.info(
        {
          height,
          txs: applied.receipts.length,
          committed: committed.length,
          events: b.events.length,
          blockHash: toHex(applied.blockHash),
        },
        'block applied',
      );
    }
  }

  function handle(blocks: readonly DecidedBlock<NodeEvent>[]): Promise<void> {
    if (blocks.length === 0) return applying;
    for (const b of blocks) deps.tracker.noteDecided(b);
    expireStale();
    queued += blocks.length;
    applying = applying.then(async () => {
      if (applyError !== null) return;
      try {
        for (const b of blocks) {
          await applyBlock(b);
          queued--;
        }
      } catch (e) {
        applyError = e;
        deps.logger.error({ err: e }, 'applying a decided block failed');
        if (!deps.replaying()) deps.onFatal(e);
        return;
      }
      if (deps.signer.urgent) deps.wake();
    });
    return applying;
  }

  return {
    handle,
    idle: () => applying,
    get queued() {
      return queued;
    },
    get error() {
      return applyError;
    },
  };
}
