/**
 * Tuning of a running node: every number the node's subsystems use, named,
 * with its default. `startNode({runtime})` takes any subset.
 */

/** Every field has a default in {@link defaultRuntimeOpts}. */
export interface RuntimeOpts {
  /** Pause between syncs while there is work (transactions or signatures to order). */
  busyIntervalMs: number;
  /** Pause between syncs on an idle network (a pull only: cheap, and it notices new work). */
  idlePollMs: number;
  /** On an idle network the node creates an event this often: the heartbeat (docs/PROTOCOL.md 8.1). */
  idleIntervalMs: number;
  /** First wait before retrying a peer that failed; doubles per failure in a row. */
  baseBackoffMs: number;
  /** Longest wait before retrying a peer that failed. */
  maxBackoffMs: number;
  /** Longest wait before retrying a peer that did not answer in time (doubles from 1 s). */
  maxTimeoutBackoffMs: number;
  /** Most transactions the node puts in one event. */
  maxTxsPerEvent: number;
  /** Most transaction bytes the node puts in one event. */
  maxTxBytesPerEvent: number;
  /** A peer counts toward `peers` and readiness this long after its last good sync. */
  peerFreshMs: number;
  /** Decided blocks waiting to be applied before the gossip loop waits for them. */
  maxQueuedBlocks: number;
  /** Most pages pulled from one peer in one gossip step. */
  maxPagesPerStep: number;
  /** How long a creator is asked for whole after a page missed one of its parents. */
  wholeCreatorMs: number;
  /** The engine's expiry K (docs/PROTOCOL.md 5.7): stale events give their transactions back. */
  expireRounds: number;
  /** Heights below the latest minus this no longer wait for a certificate. */
  certificateWindowHeights: number;
  /** A block with transactions keeps the gossip at full pace until certified, at most this long. */
  awaitCertificateMs: number;
  /** Submission times kept for the latency metrics. */
  maxSubmittedTracked: number;
  /** Sync requests a peer may make per second (validators pull every few ms while busy). */
  syncRatePerSec: number;
  /** Burst of sync requests a peer may make. */
  syncBurst: number;
  /** Peers the sync rate limiter tracks. */
  syncMaxPeers: number;
  /** A clock-skew warning about one key at most this often. */
  clockWarnIntervalMs: number;
  /** Keys the clock-skew warnings remember. */
  clockWarnMaxKeys: number;
  /** Replay progress is logged this often. */
  replayProgressMs: number;
  /**
   * The state trie is written every this many blocks, after their records
   * (docs/PROTOCOL.md 9.2); a crash loses at most these, which the restart
   * re-executes. 1 writes every block.
   */
  stateFlushBlocks: number;
  /** The state trie is written early once this many of its nodes wait in memory. */
  maxUnflushedTrieNodes: number;
}

export const defaultRuntimeOpts: Readonly<RuntimeOpts> = Object.freeze({
  // 2 ms, not 10: a lone transfer's rounds are paced by these naps (the lone
  // row of bench:e2e: p50 356 → 289 ms); under load a step lasts longer than
  // the nap anyway.
  busyIntervalMs: 2,
  idlePollMs: 1000,
  idleIntervalMs: 1000,
  baseBackoffMs: 10,
  maxBackoffMs: 5000,
  maxTimeoutBackoffMs: 15_000,
  maxTxsPerEvent: 2000,
  maxTxBytesPerEvent: 512 * 1024,
  peerFreshMs: 30_000,
  maxQueuedBlocks: 16,
  maxPagesPerStep: 64,
  wholeCreatorMs: 10_000,
  expireRounds: 26,
  certificateWindowHeights: 64,
  awaitCertificateMs: 10_000,
  maxSubmittedTracked: 200_000,
  syncRatePerSec: 400,
  syncBurst: 800,
  syncMaxPeers: 4096,
  clockWarnIntervalMs: 60_000,
  clockWarnMaxKeys: 1024,
  replayProgressMs: 2000,
  // Measured in docs/PERFORMANCE.md 9: a flush every 16 blocks writes about
  // half the trie records of one per block; a restart redoes at most 16.
  stateFlushBlocks: 16,
  // ~100 bytes a node: about 100 MB of memory at most.
  maxUnflushedTrieNodes: 1_000_000,
});
