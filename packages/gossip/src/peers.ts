/**
 * The peers a validator pulls from (docs/PROTOCOL.md 8.1): one record per
 * endpoint, the public key when a registration (or the genesis) names it,
 * and the backoff of a peer that failed or went silent.
 */
import { GossipError } from './errors.js';

/** One endpoint pulled from. */
export interface Peer {
  /** Origin, e.g. `http://127.0.0.1:8681` (see {@link peerUrl}). */
  readonly url: string;
  /** Validator public key when a registration (or the genesis) names this endpoint. */
  publicKey: Uint8Array | null;
  /** When the last pull from it succeeded (ms; 0: never). */
  lastOkMs: number;
  /** Failed pulls in a row. */
  failures: number;
  /** Pulls in a row that got no answer in time (`PEER_TIMEOUT`): a silent peer. */
  timeouts: number;
  /** Not picked before this time (ms). */
  retryAtMs: number;
}

/** Backoff and freshness of {@link createPeerBook}; defaults in {@link defaultPeerBookOpts}. */
export interface PeerBookOpts {
  /** First retry delay after a failure; doubles per failure in a row. */
  baseBackoffMs: number;
  /** Longest wait before retrying a peer that failed. */
  maxBackoffMs: number;
  /** First retry delay after a timeout; doubles per timeout in a row. */
  baseTimeoutBackoffMs: number;
  /** Longest wait before retrying a peer that did not answer in time. */
  maxTimeoutBackoffMs: number;
  /** A peer counts as connected this long after its last good pull. */
  peerFreshMs: number;
}

export const defaultPeerBookOpts: Readonly<PeerBookOpts> = Object.freeze({
  baseBackoffMs: 10,
  maxBackoffMs: 5000,
  baseTimeoutBackoffMs: 1000,
  maxTimeoutBackoffMs: 15_000,
  peerFreshMs: 30_000,
});

/** The peer table of one node. */
export interface PeerBook {
  /** Adds a peer once per URL; a later call with a key names the key of a URL met without one. */
  add(url: string, publicKey: Uint8Array | null): void;
  /** Marks a URL as this node's own: never added. */
  addSelf(url: string): void;
  /** Every peer, in the order added. */
  readonly all: readonly Peer[];
  /** Peers whose last good pull is at most `peerFreshMs` old. */
  fresh(nowMs: number): Peer[];
  /**
   * A random peer among those due and not `excluded`, preferring those
   * `preferred` says yes to when any of them is due.
   */
  pick(
    nowMs: number,
    excluded: (p: Peer) => boolean,
    preferred: (p: Peer) => boolean,
  ): Peer | undefined;
  /** A pull from `peer` succeeded. */
  noteOk(peer: Peer, nowMs: number): void;
  /** A pull from `peer` failed (`timeout`: it took the request and went silent). */
  noteFailure(peer: Peer, nowMs: number, timeout: boolean): void;
}

/** A peer's address as an origin: `host:port` gets `http://`, trailing slashes go. */
export function peerUrl(p: string): string {
  return /^https?:\/\//.test(p) ? p.replace(/\/+$/, '') : `http://${p}`;
}

/** Creates an empty peer table; `random` is the pick's source (default `Math.random`). */
export function createPeerBook(
  opts: Partial<PeerBookOpts> = {},
  random: () => number = Math.random,
): PeerBook {
  const o: PeerBookOpts = { ...defaultPeerBookOpts, ...opts };
  if (!(o.baseBackoffMs >= 0) || !(o.maxBackoffMs >= 0) || !(o.peerFreshMs >= 0)) {
    throw new GossipError('BAD_ARGUMENT', 'backoff and freshness must be >= 0');
  }
  const peers: Peer[] = [];
  const selfUrls = new Set<string>();
  return {
    all: peers,
    add(url, publicKey) {
      if (selfUrls.has(url)) return;
      const known = peers.find((p) => p.url === url);
      if (known !== undefined) {
        if (known.publicKey === null && publicKey !== null) known.publicKey = publicKey;
        return;
      }
      peers.push({ url, publicKey, lastOkMs: 0, failures: 0, timeouts: 0, retryAtMs: 0 });
    },
    addSelf: (url) => void selfUrls.add(url),
    fresh: (nowMs) => peers.filter((p) => nowMs - p.lastOkMs <= o.peerFreshMs),
    pick(nowMs, excluded, preferred) {
      const ready = peers.filter((p) => p.retryAtMs <= nowMs && !excluded(p));
      if (ready.length === 0) return undefined;
      const pref = ready.filter(preferred);
      const pool = pref.length > 0 ? pref : ready;
      return pool[Math.floor(random() * pool.length)];
    },
    noteOk(peer, nowMs) {
      peer.lastOkMs = nowMs;
      peer.failures = 0;
      peer.timeouts = 0;
    },
    noteFailure(peer, nowMs, timeout) {
      peer.failures++;
      peer.retryAtMs = nowMs + Math.min(o.maxBackoffMs, o.baseBackoffMs * 2 ** peer.failures);
      if (timeout) {
        // The puller waited its whole headers timeout on this peer: a silent
        // (black-holed, partitioned or stalling) peer would cost that on
        // every pick, which let 10% of the stake slow the rest ~30-fold in
        // the faults and Byzantine tests. Wait 1, 2, 4 … up to 15 s.
        peer.timeouts++;
        peer.retryAtMs =
          nowMs +
          Math.min(o.maxTimeoutBackoffMs, o.baseTimeoutBackoffMs * 2 ** (peer.timeouts - 1));
      }
    },
  };
}
