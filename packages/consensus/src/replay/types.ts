/**
 * Contracts of the fixture replay (docs/PROTOCOL.md 5.8): its error, its
 * input and output, and the constants of its rules.
 */
import type { HashFn } from '@pos/merkle';
import type { ConsensusEventInput } from '../types.js';

/** Error code of every malformed replay input. */
export type ReplayErrorCode = 'BAD_FIXTURE';

/**
 * A malformed replay input. The message is one line, `<path>: <what>`, where
 * the path names the offending value (`events[3].selfParent`), so that the CLI
 * can print it as is.
 */
export class ReplayError extends Error {
  readonly code: ReplayErrorCode = 'BAD_FIXTURE';
  /** Where in the input the problem is, e.g. `events[3].selfParent`. */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`.replace(/[\r\n]+/g, ' '));
    this.name = 'ReplayError';
    this.path = path;
  }
}

/** One event of a section-4 fixture, defaults applied. */
export interface ReplayEvent {
  readonly name: string;
  readonly creator: number;
  readonly seq: number;
  readonly selfParent: string | null;
  readonly otherParent: string | null;
  /** As given, or the event's `seq` when the fixture has none (see the module comment). */
  readonly timestamp: number;
  readonly transactions: readonly string[];
}

/** A validated section-4 fixture. */
export interface ReplayInput {
  /** Stake per creator index, the same in every round; its length is the number of creators. */
  readonly stakes: readonly bigint[];
  /** Coin round frequency c (default 10, docs/PROTOCOL.md 5.8). */
  readonly coinRoundFrequency: number;
  /** In the fixture's order, which is topological (every parent comes first). */
  readonly events: readonly ReplayEvent[];
}

/** One block in a {@link ReplayOutput}. */
export interface ReplayBlock {
  readonly round: number;
  readonly leader: string;
  /** The block's events by name, in the block's (generation, hash) order. */
  readonly events: readonly string[];
  /** Block timestamp (docs/PROTOCOL.md 5.6): stake-weighted lower median, above the previous block's. */
  readonly timestamp: number;
}

/** The replay output of docs/PROTOCOL.md 5.8. */
export interface ReplayOutput {
  /** Round of every event, in input order. */
  readonly rounds: Record<string, number>;
  /** Names of the witnesses, in input order. */
  readonly witnesses: readonly string[];
  /** Fame of every witness: `null` while undecided. */
  readonly fame: Record<string, boolean | null>;
  /** One key per decided round (0 to `lastDecidedRound`): its leader, or `null` when it has no block. */
  readonly leaders: Record<string, string | null>;
  readonly blocks: readonly ReplayBlock[];
}

/** Options of {@link replay} and {@link replayBundle}. */
export interface ReplayOpts {
  /** SHA-256 (docs/PROTOCOL.md 2): `node:crypto` in the CLI, `@noble/hashes` in a browser. */
  readonly hash: HashFn;
  /** Overrides the fixture's coin round frequency. */
  readonly coinFrequency?: number;
}

/** An engine event built from a replay event: the name rides along for the output. */
export interface ReplayConsensusEvent extends ConsensusEventInput {
  readonly name: string;
}

/** What the engine (or a reference implementation) needs to run a replay input. */
export interface ReplayDag {
  /** Engine events in input order. */
  readonly events: readonly ReplayConsensusEvent[];
  /** `u32be(i)` for creator i (docs/PROTOCOL.md 5.8, replay rules). */
  readonly validators: readonly Uint8Array[];
  readonly stakes: readonly bigint[];
  /** 32 zero bytes (the chainId of a replay). */
  readonly initialSeed: Uint8Array;
}

/** `format` of the conformance bundle in `packages/consensus/test/fixtures/hashgraph/` (docs/PROTOCOL.md 5.8). */
export const BUNDLE_FORMAT = 'hashgraph-conformance-fixtures/v1';

/** Coin round frequency of bundle fixtures that give none (babble's c = 4, per the bundle README). */
export const BUNDLE_DEFAULT_COIN = 4;

/** Default coin round frequency of a replay fixture (docs/PROTOCOL.md 5.8: default 10). */
export const REPLAY_DEFAULT_COIN = 10;

/**
 * Rounds before an event expires, in replay: large enough that nothing in a
 * fixture expires (an expired event could not be reported by name).
 */
export const REPLAY_EXPIRE_ROUNDS = 1_000_000;
