/**
 * Contracts of the simulator: its options and defaults, and what a run
 * exposes (nodes, counters, results).
 */
import { type HashFn, sha256Noble } from '@pos/merkle';
import type { Consensus, ConsensusStats, DecidedBlock, ForkEvidence } from '../types.js';
import type { SimEvent } from './events.js';
import type { SimLedger, SimLedgerOpts } from './ledger.js';

/** Options of {@link createSim} / {@link runSim}. */
export interface SimOpts {
  /** Stake per validator; N = length (at least 2). */
  readonly stakes: readonly bigint[];
  /** PRNG seed: the whole run is a function of the options. */
  readonly seed: number;
  /** Gossip steps that {@link runSim} runs. */
  readonly steps: number;
  readonly hash: HashFn;
  readonly coinFrequency: number;
  readonly expireRounds: number;
  /** Validators that never create events and never answer a sync. */
  readonly silent: readonly number[];
  /** Validators that act only with probability `slowParticipation` when their turn comes. */
  readonly slow: readonly number[];
  readonly slowParticipation: number;
  /** The equivocating validator, if any. */
  readonly forker: number | null;
  /** The forker creates two events on one self-parent every `forkEvery`-th event. */
  readonly forkEvery: number;
  /** Validator → how far ahead its clock runs (ms), e.g. `{ 2: 3_600_000 }`. */
  readonly clockAheadMs: Readonly<Record<number, number>>;
  /** Deliver the events of a sync in a shuffled order (the receiver buffers and retries). */
  readonly reorder: boolean;
  /** Probability that an event of a sync is delivered twice. */
  readonly duplicateProbability: number;
  /** Transactions per event: uniform in [0, maxTxPerEvent]. */
  readonly maxTxPerEvent: number;
  /** The simulated clock advances 1..maxStepMs ms per step. */
  readonly maxStepMs: number;
  /** The simulated clock at the start (ms). */
  readonly startMs: number;
  /**
   * Record each block's leader candidates (the famous witnesses of its round
   * with a unique creator, read back through `info()`), for tests of the
   * timestamp and leader rules. Costs one `info()` per inserted event.
   */
  readonly recordCandidates: boolean;
  /**
   * Stake tables from a toy ledger per node, driven by its decided blocks
   * ({@link SimLedger}), or null for one constant table (`stakes`). With a
   * ledger, `stakes` are the genesis stakes of every validator, registered at
   * genesis or not; a node creates an event only when `probe` accepts it (it
   * is a member in that round and knows the round's table), and holds an
   * event whose table is pending, or whose creator it has not registered
   * yet, until it has decided enough.
   */
  readonly ledger: SimLedgerOpts | null;
}

/** Defaults of {@link SimOpts}: five honest validators with unequal stakes, no faults. */
export const defaultSimOpts: SimOpts = {
  stakes: [10n, 20n, 30n, 40n, 50n],
  seed: 1,
  steps: 1000,
  hash: sha256Noble,
  coinFrequency: 10,
  expireRounds: 26,
  silent: [],
  slow: [],
  slowParticipation: 0.25,
  forker: null,
  forkEvery: 5,
  clockAheadMs: {},
  reorder: false,
  duplicateProbability: 0,
  maxTxPerEvent: 2,
  maxStepMs: 5,
  startMs: 1_700_000_000_000,
  recordCandidates: false,
  ledger: null,
};

// ---- results ----------------------------------------------------------------------

/** Counters of one node, for tests and reports. */
export interface SimCounters {
  /** Syncs this node pulled (as A). */
  syncs: number;
  /** Pulls from a silent peer: no answer, so no event either. */
  failedSyncs: number;
  /** Turns a slow node let pass. */
  skippedTurns: number;
  /** Events created (own), fork twins counted. */
  created: number;
  /** Events delivered by syncs, duplicates included. */
  delivered: number;
  /** Extra copies the network delivered. */
  duplicatesDelivered: number;
  /** Deliveries that were no-ops: already known (insert said `inserted: false`) or already buffered. */
  duplicatesIgnored: number;
  /** Events buffered because a parent was missing (reordering). */
  bufferedTotal: number;
  /** Largest buffer at any time. */
  maxBuffered: number;
  /** Buffered events dropped at the end of a sync: their parents never came (expired and forgotten). */
  dropped: number;
  /** Rejections by `ConsensusError` code (other than MISSING_PARENT, which buffers). */
  rejected: Record<string, number>;
  /** Events held because their round's table was pending or their creator not registered here yet. */
  heldTotal: number;
  /** Turns in which it created nothing because `probe` said it was no member (or its table was pending). */
  idleTurns: number;
}

/** One validator of a simulation: its faults, its consensus instance and what it decided. */
export interface SimNode {
  readonly index: number;
  readonly stake: bigint;
  readonly silent: boolean;
  readonly slow: boolean;
  readonly forker: boolean;
  readonly clockAheadMs: number;
  /** Follows the protocol (not silent, not the forker); its clock may still be wrong. */
  readonly honest: boolean;
  /** Its own engine; `null` for a silent node, which receives nothing. */
  readonly consensus: Consensus<SimEvent> | null;
  /** Its ledger when the run has one (`SimOpts.ledger`). */
  readonly ledger: SimLedger | null;
  /** Blocks it decided, in order. */
  readonly blocks: DecidedBlock<SimEvent>[];
  /** Parallel to `blocks` when `recordCandidates`: the round's leader candidates. */
  readonly candidates: SimEvent[][];
  /** Fork evidence as its `insert` results reported it, in order. */
  readonly evidence: ForkEvidence<SimEvent>[];
  readonly counters: SimCounters;
  /**
   * Things that must not happen to a node following the protocol (its own
   * event refused, a rejected event, a missing other-parent). Tests assert
   * this stays empty; the simulator records instead of throwing so a test can
   * report everything that went wrong.
   */
  readonly anomalies: string[];
}

/** What a run produced. The arrays are live views of the simulation, not copies. */
export interface SimResult {
  readonly opts: SimOpts;
  readonly nodes: readonly SimNode[];
  /** Indexes of the honest nodes (not silent, not the forker). */
  readonly honest: readonly number[];
  /** Every event created, in creation order (topological), fork twins included. */
  readonly events: readonly SimEvent[];
  /** Each node's `stats()`, `null` for silent nodes. */
  readonly stats: readonly (ConsensusStats | null)[];
  readonly steps: number;
  readonly clockMs: number;
}

/** A running simulation: step it, look at it, step it more. */
export interface Simulation {
  readonly opts: SimOpts;
  /** Runs `steps` more gossip steps. */
  run(steps: number): void;
  readonly stepsDone: number;
  readonly clockMs: number;
  result(): SimResult;
}
