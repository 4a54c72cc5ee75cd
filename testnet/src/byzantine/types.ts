/**
 * The contracts of the Byzantine validator (src/byzantine.ts): its modes and
 * options, the garbage kinds and plans, what `GET /byz/status` answers, and
 * what each mode plugs into the shared machinery (a {@link ModeBehaviour}).
 */
import type { SyncRequest } from '@pos/gossip';
import type { Held } from './dag.js';

/** The modes, as `--mode` names them. */
export const MODES = ['equivocate', 'withhold', 'garbage', 'clock-ahead', 'stall'] as const;
/** One of {@link MODES}. */
export type Mode = (typeof MODES)[number];
/** The modes this program plays itself (`clock-ahead` runs the real posd). */
export type OwnMode = Exclude<Mode, 'clock-ahead'>;

/** The command line, parsed (`parseByzantineArgs`). */
export interface ByzantineArgs {
  dataDir: string;
  mode: Mode;
  seed: number;
  offsetMs: number;
  forkEvery: number;
  eventMs: number;
  withholdMs: number;
}

/** The ways `garbage` breaks a sync answer, in no particular order. */
export const GARBAGE_KINDS = [
  'missing-parent',
  'duplicate',
  'not-msgpack',
  'truncated',
  'bad-signature',
  'wrong-chain',
  'bad-parent',
  'huge-page',
  'too-large-event',
  'wrong-shape',
  'empty-more',
  'stale-timestamp',
  'unknown-creator',
  'undecodable-event',
] as const;
/** One of {@link GARBAGE_KINDS}. */
export type GarbageKind = (typeof GARBAGE_KINDS)[number];

/**
 * The kinds each peer gets, in order (peer i takes plan i mod 3, peers in a
 * seeded order). A peer scores a fault 5 (a missing parent), 25 (a bad
 * response, an oversized page, an event the engine refuses) or 50 (a bad
 * signature, an undecodable event) and bans at 100: each plan stays under
 * 100 until its last kind, so every kind reaches some peer before it bans,
 * and ends at 125 or more, so that the ban outlasts a test (scores halve
 * every 10 minutes: a peer at -105 is let back in after some 40 s).
 */
export const GARBAGE_PLAN: readonly (readonly GarbageKind[])[] = [
  ['missing-parent', 'duplicate', 'not-msgpack', 'truncated', 'wrong-shape', 'bad-signature'],
  ['wrong-chain', 'bad-parent', 'huge-page', 'too-large-event'],
  ['empty-more', 'stale-timestamp', 'unknown-creator', 'undecodable-event'],
];

/** What `GET /byz/status` answers (hex strings; times in ms since the process started). */
export interface ByzantineStatus {
  mode: Mode;
  seed: number;
  publicKey: string;
  /** Own events signed (both branches of a fork count). */
  created: number;
  /** Own events by seq: the current head(s). */
  heads: { branch: string; seq: number; hash: string }[];
  /** Honest events held. */
  honestEvents: number;
  pulls: { ok: number; failed: number };
  peers: Record<string, PeerReport>;
  /** equivocate: every self-parent with two children, and the children. */
  forks: { seq: number; hashes: string[] }[];
  /** equivocate: forks made after every peer had seen both branches. */
  reforks: number;
  /** withhold: when the hidden chain was released, to whom, and its head then. */
  released: { atMs: number; to: string; head: { seq: number; hash: string } | null } | null;
}

/** Per honest peer (by public key): what this process served it. */
export interface PeerReport {
  name: string;
  requests: number;
  lastRequestMs: number | null;
  /** equivocate: the branch it was given; withhold: `hidden` or `all`. */
  view: string;
  /** equivocate: when its summary first showed both branches (null: not yet). */
  awareAtMs: number | null;
  /** garbage: the kinds served, in order. */
  garbage: GarbageKind[];
}

/**
 * What one mode plugs into the shared machinery (src/byzantine/run.ts): the
 * puller, the responder's checks and the loop are the same for every mode;
 * its own events and its answers are the mode's.
 */
export interface ModeBehaviour {
  /** Own branches by name: `main`, or equivocate's `A` and `B`. */
  readonly branches: readonly string[];
  /** The own chain of earlier runs, once pulled back: public from the start. */
  resumed(own: readonly Held[]): void;
  /** Every `--event-ms` once resumed: the own event(s). */
  tick(): void;
  /**
   * The answer to a valid sync request from a peer, once resumed; null
   * leaves the request open for good (`stall`).
   */
  respond(req: SyncRequest): Uint8Array | null;
  /** Whether it answers yet beyond an empty page (garbage: once it has a head). */
  answers?(): boolean;
  /** Every turn of the loop, after a pull (withhold: the release). */
  afterPull?(nowMs: number): void;
  /** SIGUSR2 (withhold: release at once). */
  release?(): void;
  /** `GET /byz/status`: every self-parent with two children (equivocate). */
  forks?(): ByzantineStatus['forks'];
}
