/**
 * The engine's internal records (docs/PROTOCOL.md 5.2 to 5.7): how it keeps
 * an event, a stake table, a round and a creator. Plain data, no behaviour;
 * the functions of `src/engine/` read and write them through the one
 * {@link EngineState} object, which `createConsensus` owns.
 */
import type { HashFn } from '@pos/merkle';
import type { ConsensusEventInput, ConsensusOpts, ForkEvidence } from '../types.js';

/** `laSeq` entry: no ancestor by that creator. */
export const NONE = -1;
/** `laSeq` entry: the ancestry holds a fork by that creator (absorbing, docs/PROTOCOL.md 5.2). */
export const FORKED = -2;
/** `fd` entry: no descendant by that creator yet. */
export const INF = 0x7fffffff;

/** One event as the engine keeps it. Live events carry vectors; compact ones do not. */
export interface Ev<E> {
  input: E | null;
  readonly key: string;
  readonly hash: Uint8Array;
  readonly creator: number;
  readonly seq: number;
  readonly branch: number;
  readonly round: number;
  readonly gen: number;
  readonly timestamp: number;
  readonly witness: boolean;
  /** Witnesses only: decided fame, or null while undecided. */
  famous: boolean | null;
  readonly coin: boolean;
  selfParent: Ev<E> | null;
  otherParent: Ev<E> | null;
  /** Latest ancestor per creator (live only). */
  la: (Ev<E> | null)[] | null;
  /** Its seq, NONE, or FORKED (live only). */
  laSeq: Int32Array | null;
  /** Lowest seq per creator of a descendant, INF if none yet (live only). */
  fd: Int32Array | null;
  /** Witnesses: memoized votes on witnesses of earlier rounds. */
  votes: Map<Ev<E>, boolean> | null;
  /** Witnesses: the round-(r-1) witnesses this one strongly sees (lazy). */
  ssPrev: Ev<E>[] | null;
  /**
   * Some of the witnesses of its own round that it strongly sees, as a bitset
   * over the round's witness list (live only). Descendants inherit it: with
   * no new fork in their ancestry, strongly seeing is inherited.
   */
  ssMask: Uint32Array | null;
  /** Number of FORKED entries in `laSeq`; equal counts mean equal fork sets. */
  forkCount: number;
  /** Creators with a fork in this event's ancestry; kept when compacted. */
  forkMask: number[] | null;
  /** First event whose self-parent is this one (fork evidence needs it). */
  firstSelfChild: Ev<E> | null;
  /** Round of the block that ordered it, or -1. */
  ordered: number;
  live: boolean;
}

/**
 * A stake table made ready for counting. When the total times 3 is a safe
 * integer every partial sum is exact in a double, so the hot loops use plain
 * numbers; otherwise (totals above 2^51) they use bigint. Either way the
 * arithmetic is integer arithmetic: no rounding reaches a vote.
 */
export interface Table {
  readonly safe: boolean;
  /** Stake per creator as doubles (filled when `safe`); length n, grown by `addValidator`. */
  w: Float64Array;
  readonly total: number;
  /** Stake per creator; length n, grown by `addValidator` (new creators: 0). */
  readonly big: bigint[];
  readonly totalBig: bigint;
}

/**
 * Everything `insert` establishes about a new event before it changes any
 * state; `probe` stops here.
 */
export interface Plan<E> {
  readonly ev: E;
  readonly key: string;
  readonly sp: Ev<E> | null;
  readonly op: Ev<E> | null;
  readonly forks: boolean;
  readonly branch: number;
  readonly spAncient: boolean;
  readonly la: (Ev<E> | null)[];
  readonly laSeq: Int32Array;
  readonly forkCount: number;
  readonly ssMask: Uint32Array | null;
  readonly round: number;
  readonly witness: boolean;
  /** `T_round`, resolved (the commit keeps it for the round if the round is new). */
  readonly table: Table;
}

/** A live round: its table (fixed at its first event, docs/PROTOCOL.md 5.9), witnesses and events. */
export interface RoundInfo<E> {
  readonly round: number;
  readonly table: Table;
  readonly witnesses: Ev<E>[];
  readonly events: Ev<E>[];
  undecided: number;
}

/** A branch of a creator's events (docs/PROTOCOL.md 5.2): its parent branch and first seq. */
export interface Branch {
  readonly parent: number;
  readonly firstSeq: number;
}

/** What the engine knows about one creator index. */
export interface CreatorState<E extends ConsensusEventInput> {
  readonly branches: Branch[];
  forked: boolean;
  firstRoot: Ev<E> | null;
  latest: Ev<E> | null;
  evidence: ForkEvidence<E> | null;
}

/**
 * The whole state of one engine, in one object that the free functions of
 * `src/engine/` take first. Everything is a pure function of the events
 * inserted and the stake tables. Built by `createEngineState`; its shape never
 * changes after that (one hidden class for the hot paths).
 */
export interface EngineState<E extends ConsensusEventInput> {
  // ---- configuration (from ConsensusOpts, defaults applied) ----
  /**
   * The caller's options, kept as given: `stakeTable` and `verify` are called
   * as `opts.stakeTable(r)` and `opts.verify(e)`, as methods of this object.
   */
  readonly opts: ConsensusOpts<E>;
  readonly hash: HashFn;
  readonly txHash: (tx: Uint8Array) => Uint8Array;
  readonly coinFrequency: number;
  readonly expireRounds: number;
  readonly forgetRounds: number;
  readonly maxTx: number;

  // ---- the creator index universe (docs/PROTOCOL.md 5.9) ----
  /** Size of the creator index universe; grows with `addValidator`. */
  n: number;
  readonly validators: Uint8Array[];
  /** validatorId → index (the first, should `validators` repeat an id), for `addValidator`. */
  readonly indexById: Map<string, number>;
  readonly creators: CreatorState<E>[];
  /**
   * Per creator, the highest seq among its forgotten events (-1: none). An
   * event at or below it is ignored; the one just above it may stand on a
   * forgotten self-parent (docs/PROTOCOL.md 5.7).
   */
  readonly forgottenSeq: number[];

  // ---- the DAG ----
  /** Live and compact events by `keyOf(hash)`. */
  readonly events: Map<string, Ev<E>>;
  readonly rounds: Map<number, RoundInfo<E>>;
  /** Compacted events by round, dropped from `events` after a second window. */
  readonly compactByRound: Map<number, Ev<E>[]>;
  readonly allEvidence: ForkEvidence<E>[];
  /** Transaction hash → round of the block that ordered it (the dedup window). */
  readonly orderedTx: Map<string, number>;
  /**
   * Converted tables by the caller's array: a caller that returns one array
   * per epoch gets it converted once. Entries may be narrower than n after an
   * `addValidator`; `sized` widens them on the way out.
   */
  readonly tableCache: WeakMap<readonly bigint[], Table>;

  // ---- progress ----
  lastDecided: number;
  maxRound: number;
  seedPrev: Uint8Array;
  prevBlockTs: number;
  expiredBelow: number;

  // ---- statistics ----
  insertedTotal: number;
  blocksTotal: number;
  orderedTotal: number;
  liveCount: number;
  compactCount: number;

  // ---- scratch ----
  /** The creator that the event being inserted forks, or -1 (see `prepare`). */
  pendingFork: number;
  /**
   * Markers for `advances`: a creator is marked when its entry equals the
   * current stamp, so no clearing between calls.
   */
  stampCounter: number;
  seenStamp: Int32Array;
  possibleStamp: Int32Array;
}
