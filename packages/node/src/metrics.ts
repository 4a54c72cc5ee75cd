/**
 * The node's Prometheus metrics (docs/PROTOCOL.md 10: `GET /metrics`; issue
 * 4: blocks, rounds, events, tx/s, finality latency, peers, mempool size).
 * Names follow `pos_<what>_<unit>`; each node owns its registry, so that two
 * nodes in one process (tests, the simulator) never share a counter.
 *
 * Rates are Prometheus's job: committed tx/s is
 * `rate(pos_transactions_committed_total[1m])`, not a gauge computed here.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Options of {@link createNodeMetrics}. */
export interface NodeMetricsOpts {
  /** A registry to use; a fresh one by default. */
  readonly registry?: Registry;
  /** Also export Node's process metrics (CPU, resident memory, event-loop lag) as `pos_process_*` and `pos_nodejs_*`. */
  readonly processMetrics?: boolean;
  /** Labels on every series, e.g. `{ node: 'v0' }`. */
  readonly labels?: Record<string, string>;
}

/** Every metric the node updates. */
export interface NodeMetrics {
  readonly registry: Registry;
  readonly blocksTotal: Counter;
  readonly blockHeight: Gauge;
  /** Recorded blocks redone after a restart lost their unflushed state. */
  readonly blocksReexecutedTotal: Counter;
  /** Height whose state the store holds (the trie's last flush). */
  readonly stateFlushedHeight: Gauge;
  readonly diskBytes: Gauge;
  /** State trie nodes waiting in memory for the next flush. */
  readonly stateUnflushedNodes: Gauge;
  /** Highest epoch whose validator table is committed (docs/PROTOCOL.md 6.5). */
  readonly validatorSetEpoch: Gauge;
  /** Members of that table. */
  readonly validatorSetSize: Gauge;
  readonly decidedRound: Gauge;
  readonly maxRound: Gauge;
  readonly eventsInsertedTotal: Counter;
  readonly eventsRefusedTotal: Counter<'reason'>;
  readonly eventsLive: Gauge;
  readonly transactionsCommittedTotal: Counter;
  readonly transactionsRejectedTotal: Counter<'reason'>;
  /** From acceptance into the mempool to the certificate of the block that holds it. */
  readonly finalityLatencySeconds: Histogram;
  /**
   * The same clock split by stage, for transactions submitted to this node:
   * in one of its events, ordered by a decided block, that block applied.
   * With the finality histogram it says where latency goes.
   */
  readonly txStageSeconds: Histogram<'stage'>;
  readonly peers: Gauge;
  /** Peers the puller skips: their misbehaviour score reached the ban (docs/PROTOCOL.md 8). */
  readonly peersBanned: Gauge;
  readonly mempoolTransactions: Gauge;
  readonly mempoolBytes: Gauge;
  readonly syncPullsTotal: Counter<'result'>;
  readonly syncRequestsRefusedTotal: Counter<'code'>;
  readonly rpcRequestsTotal: Counter<'method' | 'outcome'>;
  /** Duration of one gossip step, by phase (pull, ingest, event, total). */
  readonly gossipStepSeconds: Histogram<'phase'>;
  /** Applying one decided block, by stage: verify (signatures not cached), apply (ledger, trie, chain). */
  readonly blockApplySeconds: Histogram<'stage'>;
  /**
   * Transaction signatures checked (not found in the cache), by where: at
   * submission, when a peer's event landed, or when its block was applied.
   */
  readonly txSignaturesCheckedTotal: Counter<'stage'>;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
  /** The content type of {@link NodeMetrics.text}. */
  readonly contentType: string;
}

/** The state layer's metrics (docs/PROTOCOL.md 9.2: deferred flushes, re-execution). */
function stateMetrics(registers: Registry[]) {
  return {
    blocksReexecutedTotal: new Counter({
      name: 'pos_blocks_reexecuted_total',
      help: 'Recorded blocks re-executed after a restart lost their unflushed state.',
      registers,
    }),
    stateFlushedHeight: new Gauge({
      name: 'pos_state_flushed_height',
      help: 'Height whose state the store holds (the state trie was last written there; -1: genesis).',
      registers,
    }),
    diskBytes: new Gauge({
      name: 'pos_disk_bytes',
      help: "Bytes the node's database takes on disk (measured every 10 s).",
      registers,
    }),
    stateUnflushedNodes: new Gauge({
      name: 'pos_state_unflushed_nodes',
      help: 'State trie nodes only in memory (waiting for the next flush, or kept for older versions).',
      registers,
    }),
  };
}

/** Creates the node's metrics on their own registry. */
export function createNodeMetrics(opts: NodeMetricsOpts = {}): NodeMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'pos_' });
  const registers = [registry];
  return {
    registry,
    blocksTotal: new Counter({
      name: 'pos_blocks_total',
      help: 'Blocks applied (decided rounds with a leader).',
      registers,
    }),
    blockHeight: new Gauge({
      name: 'pos_block_height',
      help: 'Height (round) of the last applied block.',
      registers,
    }),
    ...stateMetrics(registers),
    validatorSetEpoch: new Gauge({
      name: 'pos_validator_set_epoch',
      help: 'Highest epoch whose validator table is committed (section 5).',
      registers,
    }),
    validatorSetSize: new Gauge({
      name: 'pos_validator_set_size',
      help: 'Members of the latest committed validator table.',
      registers,
    }),
    decidedRound: new Gauge({
      name: 'pos_decided_round',
      help: 'Every round at or below this one is decided.',
      registers,
    }),
    maxRound: new Gauge({
      name: 'pos_max_round',
      help: 'Highest round of any event in the DAG.',
      registers,
    }),
    eventsInsertedTotal: new Counter({
      name: 'pos_events_inserted_total',
      help: 'Events inserted into the DAG.',
      registers,
    }),
    eventsRefusedTotal: new Counter({
      name: 'pos_events_refused_total',
      help: 'Events refused, by reason code.',
      labelNames: ['reason'],
      registers,
    }),
    eventsLive: new Gauge({
      name: 'pos_events_live',
      help: 'Events held in full by the consensus engine (the memory bound).',
      registers,
    }),
    transactionsCommittedTotal: new Counter({
      name: 'pos_transactions_committed_total',
      help: 'Transactions committed by applied blocks.',
      registers,
    }),
    transactionsRejectedTotal: new Counter({
      name: 'pos_transactions_rejected_total',
      help: 'Transactions ordered but rejected, by receipt reason.',
      labelNames: ['reason'],
      registers,
    }),
    finalityLatencySeconds: new Histogram({
      name: 'pos_finality_latency_seconds',
      help: 'From acceptance into the mempool to the certificate of the block holding it.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
    txStageSeconds: new Histogram({
      name: 'pos_tx_stage_seconds',
      help: 'From acceptance into the mempool to a stage: in_event, decided, applied.',
      labelNames: ['stage'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers,
    }),
    peers: new Gauge({
      name: 'pos_peers',
      help: 'Peers synced with successfully in the last minute.',
      registers,
    }),
    peersBanned: new Gauge({
      name: 'pos_peers_banned',
      help: 'Peers not pulled from: their misbehaviour score reached the ban (it decays, halving every 10 minutes).',
      registers,
    }),
    mempoolTransactions: new Gauge({
      name: 'pos_mempool_transactions',
      help: 'Transactions waiting in the mempool.',
      registers,
    }),
    mempoolBytes: new Gauge({
      name: 'pos_mempool_bytes',
      help: 'Bytes of the transactions waiting in the mempool.',
      registers,
    }),
    syncPullsTotal: new Counter({
      name: 'pos_sync_pulls_total',
      help: 'Sync pulls from peers, by result (ok, STALE_REQUEST when the peer finds this clock more than 5 min off, or the fault code).',
      labelNames: ['result'],
      registers,
    }),
    syncRequestsRefusedTotal: new Counter({
      name: 'pos_sync_requests_refused_total',
      help: "Peers' sync requests this node refused, by code (STALE_REQUEST: the peer's clock is more than 5 min off, BAD_SIGNATURE, RATE_LIMITED, ...).",
      labelNames: ['code'],
      registers,
    }),
    rpcRequestsTotal: new Counter({
      name: 'pos_rpc_requests_total',
      help: 'JSON-RPC calls, by method and outcome (ok or the error code).',
      labelNames: ['method', 'outcome'],
      registers,
    }),
    gossipStepSeconds: new Histogram({
      name: 'pos_gossip_step_seconds',
      help: 'Duration of one gossip step, by phase: pull (network and verify), ingest (insert and apply blocks), event (create the own event), total.',
      labelNames: ['phase'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    blockApplySeconds: new Histogram({
      name: 'pos_block_apply_seconds',
      help: 'Applying one decided block, by stage: verify (transaction signatures not cached), apply (ledger, trie commit, chain records).',
      labelNames: ['stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    txSignaturesCheckedTotal: new Counter({
      name: 'pos_tx_signatures_checked_total',
      help: 'Transaction signatures checked (not found in the cache), by where: submit, ingest (a peer event landed), block (applying it).',
      labelNames: ['stage'],
      registers,
    }),
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
