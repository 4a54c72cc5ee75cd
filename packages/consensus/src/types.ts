/**
 * Contracts of the consensus engine (docs/PROTOCOL.md 5), apart from
 * the implementation (`engine.ts`, `engine/`). Everything here is plain data: byte
 * strings are `Uint8Array`, stakes are `bigint`, rounds, seqs and timestamps
 * are safe integers. No floats reach anything that is voted on or hashed.
 */
import type { HashFn } from '@pos/merkle';

/**
 * An event as the engine needs it (docs/PROTOCOL.md 5.1). The caller (the node) decodes
 * and hashes the wire form, checks the signature (or injects `verify`), and
 * passes this in. The engine keeps the object it is given and hands the same
 * object back in blocks and evidence, so a caller may extend it with fields of
 * its own (payloads, the wire bytes) and get them back in order.
 */
export interface ConsensusEventInput {
  /** `sha256("pos/event" ‖ encoding without signature)`: 32 bytes, the event's identity. */
  readonly hash: Uint8Array;
  /** Index of the creator in `ConsensusOpts.validators`. */
  readonly creator: number;
  /** 0 for a creator's first event, else `selfParent.seq + 1`. */
  readonly seq: number;
  /** Hash of the creator's previous event; `null` iff `seq = 0`. */
  readonly selfParent: Uint8Array | null;
  /** Hash of the latest event of the peer last synced with; `null` only when there is none. */
  readonly otherParent: Uint8Array | null;
  /**
   * Optional descriptor of the other-parent: its creator index and seq. When
   * given, a node that already forgot that event recognises it as ancient
   * instead of missing (docs/PROTOCOL.md 5.7), and a node that has it checks
   * that the descriptor is true (`BAD_PARENT` otherwise).
   */
  readonly otherParentCreator?: number;
  readonly otherParentSeq?: number;
  /** The creator's clock in ms (safe integer), strictly greater than its self-parent's. */
  readonly timestamp: number;
  /** Client transactions in the creator's order (opaque bytes here). */
  readonly transactions?: readonly Uint8Array[];
  /** Ed25519 signature over `hash`; its middle byte's low bit is the coin (docs/PROTOCOL.md 5.4). */
  readonly signature: Uint8Array;
}

/** One decided block (docs/PROTOCOL.md 5.6). Never changes once emitted. */
export interface DecidedBlock<E extends ConsensusEventInput = ConsensusEventInput> {
  /** The round whose leader made the block; the block height is this round. */
  readonly round: number;
  /** The leader: the drawn famous witness of `round`. */
  readonly leader: E;
  /** The leader's ancestors not in an earlier block, by (generation, hash) ascending. */
  readonly events: readonly E[];
  /** The events' transactions in order, each transaction hash at most once (see `txDedupRounds`). */
  readonly transactions: readonly Uint8Array[];
  /** Stake-weighted lower median of the candidates' timestamps, above the previous block's (ms). */
  readonly timestamp: number;
  /** The seed of this round's draw; the next draw chains the leader's hash, not this. */
  readonly seed: Uint8Array;
}

/**
 * Proof that a creator forked (docs/PROTOCOL.md 5.2): two of its events neither of which
 * is a self-ancestor of the other. Produced once per forker.
 */
export interface ForkEvidence<E extends ConsensusEventInput = ConsensusEventInput> {
  readonly creator: number;
  readonly a: E;
  readonly b: E;
}

/** What one `insert` did. */
export interface InsertResult<E extends ConsensusEventInput = ConsensusEventInput> {
  /**
   * False when the event was already known (duplicates are free,
   * docs/PROTOCOL.md 8) or is ancient here (`ancient`).
   */
  readonly inserted: boolean;
  /**
   * True when the event was not inserted because its seq is at or below its
   * creator's forgotten horizon (docs/PROTOCOL.md 5.7): a resend of an event
   * this engine forgot, or a fork below it. Not the sender's fault.
   */
  readonly ancient?: boolean;
  /** Blocks decided because of this event, in order; usually empty. */
  readonly blocks: readonly DecidedBlock<E>[];
  /** Fork evidence first found with this event (at most one per forker, ever). */
  readonly evidence: readonly ForkEvidence<E>[];
}

/** Options of {@link createConsensus}. */
export interface ConsensusOpts<E extends ConsensusEventInput = ConsensusEventInput> {
  /**
   * The validators known at creation, by index (an event's `creator`). Each
   * entry is the validatorId, `sha256("pos/validator" ‖ pubkey)` (docs/PROTOCOL.md
   * 2); the leader draw sorts candidates by it. Validators registered later
   * are appended with {@link Consensus.addValidator}.
   */
  readonly validators: readonly Uint8Array[];
  /**
   * The stake table `T_q` of round q (docs/PROTOCOL.md 5.9:
   * the stakes in the ledger state after block `s(q)`): stake per validator
   * index, at most `validatorCount` entries (missing or 0 = not a member in
   * that round).
   *
   * `undefined` means "not known yet": its snapshot block is not decided and
   * applied on this node. An `insert` that needs it then throws
   * `TABLE_PENDING` having changed nothing, and the caller inserts the same
   * event again later; a pending answer is never cached.
   *
   * Must be a pure function of the round, the same on every node once known,
   * and stay answerable (with the same answer) for every round it has once
   * answered: the engine asks again for a round whose state it expired (an
   * event arriving stale, a parentless event of round 0). It is asked for a
   * round when an event first lands in it, and the answer is kept while the
   * round is live. Returning the same array object for every round of an
   * epoch lets the engine convert it once; that array must not be mutated.
   */
  readonly stakeTable: (round: number) => readonly bigint[] | undefined;
  /** The seed before the first leader: the chainId (32 bytes). */
  readonly initialSeed: Uint8Array;
  /** SHA-256; `node:crypto` in the node, `@noble/hashes` elsewhere. */
  readonly hash: HashFn;
  /** Coin round frequency c (docs/PROTOCOL.md 5.4, a genesis parameter). Default 10. */
  readonly coinFrequency?: number;
  /**
   * Rounds after which an event is stale and expired (see `defaultConsensusOpts`
   * and docs/PROTOCOL.md "Expiry"). Default 26.
   */
  readonly expireRounds?: number;
  /**
   * Rounds a compacted event stays known (hash, creator, seq, round, fork
   * list) before it is forgotten (docs/PROTOCOL.md 5.7). Default 10 ·
   * `expireRounds`: an event delivered up to that many rounds late still
   * finds its parents, so what this engine decides does not depend on how
   * late it got it. At least `expireRounds`.
   */
  readonly forgetRounds?: number;
  /** Checks an event's signature before anything else; throwing or `false` rejects. */
  readonly verify?: (event: E) => boolean;
  /**
   * Hash of a transaction for the duplicate rule of docs/PROTOCOL.md 5.6. Default
   * `hash("pos/tx" ‖ tx)`: the ledger's canonical tx bytes hash the same way.
   */
  readonly txHash?: (tx: Uint8Array) => Uint8Array;
  /** Largest transaction count per event accepted. Default 10,000. */
  readonly maxTransactionsPerEvent?: number;
}

/** Defaults of the optional {@link ConsensusOpts}. */
export const defaultConsensusOpts = {
  coinFrequency: 10,
  /**
   * Hedera's `roundsNonAncient` is 26: an event more than that many rounds
   * below the round being decided is ancient and never ordered.
   */
  expireRounds: 26,
  maxTransactionsPerEvent: 10_000,
} as const;

/** Consensus facts about one known event. */
export interface EventInfo<E extends ConsensusEventInput = ConsensusEventInput> {
  readonly event: E;
  readonly round: number;
  readonly generation: number;
  readonly witness: boolean;
  /** `true`/`false` once decided; `null` while undecided; `undefined` for a non-witness. */
  readonly famous: boolean | null | undefined;
  /** The round of the block that ordered it, if any yet. */
  readonly orderedIn: number | undefined;
}

/** Sizes, for metrics and the memory bound. */
export interface ConsensusStats {
  /** Events held in full. */
  readonly liveEvents: number;
  /** Expired events still indexed by hash in compact form (round, seq, generation). */
  readonly compactEvents: number;
  readonly insertedTotal: number;
  readonly blocksTotal: number;
  readonly orderedEventsTotal: number;
  /** Highest round of any live event. */
  readonly maxRound: number;
  /** Every round at or below this one is decided; -1 before the first. */
  readonly lastDecidedRound: number;
  /** Forkers found so far. */
  readonly forkers: number;
}

/** What {@link Consensus.probe} says about an event. */
export interface ProbeResult {
  /** The round the event gets (or has, when already known). */
  readonly round: number;
  /** Whether it is (or would be) a witness. */
  readonly witness: boolean;
}

/** The engine: feed it events in any topological order, get blocks back. */
export interface Consensus<E extends ConsensusEventInput = ConsensusEventInput> {
  /**
   * Validates and inserts one event, then decides what it can. Throws a
   * `ConsensusError` (and changes nothing) for an invalid event; code
   * `MISSING_PARENT` means a parent is unknown, so the caller buffers the
   * event and fetches the parent (`missingParents`); code `TABLE_PENDING`
   * means the stake table of the event's round is not known yet, so the
   * caller keeps the event and inserts it again after its ledger applied
   * more decided blocks.
   */
  insert(event: E): InsertResult<E>;
  /**
   * Every check `insert` makes except the injected `verify`, and the round
   * the event would get, changing nothing at all (no state, no stats). Throws
   * the same `ConsensusError`s as `insert` (`BAD_EVENT`, `BAD_PARENT`,
   * `MISSING_PARENT`, `NOT_A_VALIDATOR`, `TABLE_PENDING`, `BAD_STAKE_TABLE`).
   * For a known hash it returns the known event's round and witness flag.
   * A node probes its own next event before signing and storing it, so it
   * never stores an event the engine would refuse (not a member in that
   * round, or the round's table not known yet).
   */
  probe(event: E): ProbeResult;
  /**
   * Appends a validator to the creator index universe and returns its index
   * (`validatorCount` before the call). Idempotent: an id already known
   * returns its index. Throws `BAD_ARGUMENT` unless `validatorId` is 32
   * bytes. The new validator has stake 0 in every table until a stake table
   * gives it some (tables may then have up to `validatorCount` entries).
   * Every node must add validators in the same order (the order their
   * registrations were decided in), so that an index means the same
   * validator everywhere.
   */
  addValidator(validatorId: Uint8Array): number;
  /** Number of validator indexes: `validators.length` plus those added since. */
  readonly validatorCount: number;
  /** Whether an event with this hash is known (live or compact). */
  has(hash: Uint8Array): boolean;
  /** The parent hashes of `event` that are not known. */
  missingParents(event: ConsensusEventInput): Uint8Array[];
  /** Consensus facts about a live event, or undefined. */
  info(hash: Uint8Array): EventInfo<E> | undefined;
  /** The latest live event of each creator on its first branch (for sync and for creating events). */
  latest(creator: number): E | undefined;
  /** Every fork evidence found so far, at most one per forker. */
  evidence(): readonly ForkEvidence<E>[];
  /** Every round at or below this one is decided and ordered; -1 before the first. */
  readonly lastDecidedRound: number;
  stats(): ConsensusStats;
}
