/**
 * Peer scores (docs/PROTOCOL.md 8): a bounded table of decaying penalties;
 * a peer whose score falls to the ban line is refused until it decays back.
 */
import { GossipError } from '../errors.js';

/** Options of {@link createPeerScores}. */
export interface PeerScoresOpts {
  /** Clock in ms (injected for determinism); default `Date.now`. */
  readonly nowMs?: () => number;
  /** Most peers tracked; beyond it the least recently penalized is forgotten. Default 4096. */
  readonly maxPeers?: number;
  /** Penalties halve every `halfLifeMs` (default 10 minutes), so an honest glitch heals. */
  readonly halfLifeMs?: number;
  /** A peer whose score is at or below `-banAt` is banned (default 100). */
  readonly banAt?: number;
  /** Penalty per reason; a reason not listed costs 10. */
  readonly weights?: Readonly<Record<string, number>>;
}

/**
 * Misbehaviour scores per peer (docs/PROTOCOL.md 8: a bad signature or a
 * malformed message costs the peer points, and enough of them ban it). Scores
 * are ≤ 0 and decay toward 0 exponentially. Peer ids are opaque strings (the
 * server uses the `0x` hex of the request's `from`; a puller may use the peer's
 * URL).
 */
export interface PeerScores {
  /** Subtracts the reason's weight; returns the new score. */
  penalize(peer: string, reason: string): number;
  /** The current (decayed) score; 0 for an unknown peer. */
  score(peer: string): number;
  banned(peer: string): boolean;
  readonly size: number;
}

/** Default penalties: forged or malformed data costs most, going over the rate little. */
export const DEFAULT_PENALTIES: Readonly<Record<string, number>> = Object.freeze({
  BAD_SIGNATURE: 50,
  BAD_ENCODING: 50,
  // Low: an honest server sends one when a creator forked in a way it has not
  // seen (EventStore.since); the puller then asks for that creator whole.
  MISSING_PARENT: 5,
  BAD_RESPONSE: 25,
  TOO_LARGE: 25,
  RATE_LIMITED: 2,
});

/**
 * Creates a bounded score table. The bound matters because read-only pullers'
 * keys cost nothing (docs/PROTOCOL.md 8.1, "Server side"); the price is that a
 * flood of freshly penalized ids can evict an old ban, which then has to be
 * earned again.
 */
export function createPeerScores(opts: PeerScoresOpts = {}): PeerScores {
  const nowMs = opts.nowMs ?? Date.now;
  const maxPeers = opts.maxPeers ?? 4096;
  const halfLifeMs = opts.halfLifeMs ?? 10 * 60_000;
  const banAt = opts.banAt ?? 100;
  const weights = { ...DEFAULT_PENALTIES, ...opts.weights };
  if (!Number.isSafeInteger(maxPeers) || maxPeers < 1 || !(halfLifeMs > 0) || !(banAt > 0)) {
    throw new GossipError('BAD_ARGUMENT', 'maxPeers, halfLifeMs and banAt must be positive');
  }
  const table = new Map<string, { value: number; atMs: number }>();
  const current = (peer: string, now: number): number => {
    const e = table.get(peer);
    if (e === undefined) return 0;
    const dt = Math.max(0, now - e.atMs);
    return e.value * 2 ** (-dt / halfLifeMs);
  };
  return {
    penalize(peer, reason) {
      const now = nowMs();
      const value = current(peer, now) - (weights[reason] ?? 10);
      table.delete(peer); // re-insert: Map order is then least recently penalized first
      if (table.size >= maxPeers) table.delete(table.keys().next().value!);
      table.set(peer, { value, atMs: now });
      return value;
    },
    score: (peer) => current(peer, nowMs()),
    banned: (peer) => current(peer, nowMs()) <= -banAt,
    get size() {
      return table.size;
    },
  };
}
