/**
 * The gossip loop (docs/PROTOCOL.md 8.1): one step at a time, pull pages
 * from a peer until it has nothing new, hand them to the node, let the node
 * create its own event, then nap: briefly while there is work, longer on an
 * idle network. Everything that changes the node's state runs inside a
 * step, so the order of inserts, and with it the blocks, stays a function
 * of the DAG alone (docs/PROTOCOL.md 5).
 *
 * The loop owns peer choice, backoff after failures and timeouts, the
 * "whole creator" rule after a `MISSING_PARENT` page, and the clock-skew
 * warning; the node owns what a page and an own event mean (injected).
 */
import { bytesKey } from '@pos/merkle';
import { GossipError } from './errors.js';
import type { WireEvent } from './event.js';
import type { Peer, PeerBook } from './peers.js';
import type { KnownEntry, Tip } from './store.js';
import type { SyncClient } from './sync/client.js';
import { MAX_CLOCK_SKEW_MS } from './sync/request.js';
import type { PeerScores } from './sync/scores.js';
import { createWarnLimiter, type GossipLogger } from './warn.js';

/** Pace of {@link createGossiper}; defaults in {@link defaultGossiperOpts}. */
export interface GossiperOpts {
  /** Pause between steps while there is work (transactions or signatures to order). */
  busyIntervalMs: number;
  /** Pause between steps on an idle network (a pull only: cheap, and it notices new work). */
  idlePollMs: number;
  /** Most pages pulled from one peer in one step. */
  maxPagesPerStep: number;
  /** How long a creator is asked for whole after a page missed one of its parents. */
  wholeCreatorMs: number;
  /** Clock warnings (a pull refused as stale): at most one per this interval. */
  clockWarnIntervalMs: number;
}

export const defaultGossiperOpts: Readonly<GossiperOpts> = Object.freeze({
  busyIntervalMs: 10,
  idlePollMs: 1000,
  maxPagesPerStep: 64,
  wholeCreatorMs: 10_000,
  clockWarnIntervalMs: 60_000,
});

/** What one step's pulls brought. */
export interface StepPull {
  /** The peer pulled from (undefined: none was due). */
  readonly peer: Peer | undefined;
  /** Events the node inserted from it. */
  readonly inserted: number;
  /** The peer's own latest event, as its last page said. */
  readonly tip: Tip | null;
}

/** Outcome label of one pull, for metrics: `ok`, or a `GossipError` code or refusal. */
export type PullOutcome = 'ok' | 'STALE_REQUEST' | 'PEER_REFUSED' | 'PEER_TIMEOUT';

/** What the loop needs from the node. */
export interface GossiperDeps {
  readonly client: Pick<SyncClient, 'pull'>;
  readonly peers: PeerBook;
  readonly scores: Pick<PeerScores, 'banned'>;
  /** The node's summary: what it holds, per creator (`knownFromHeads`). */
  known(): KnownEntry[];
  /** Inserts a pulled page; returns how many events were new. */
  ingest(page: readonly WireEvent[], from: Peer): Promise<number>;
  /** Peers preferred when due (e.g. members of the set that signs the next block). */
  preferred(peer: Peer): boolean;
  /** Runs first in every step (e.g. waits while too many blocks queue). */
  beforeStep?(): Promise<void>;
  /** Runs after the pulls of every step (e.g. the node's own event). */
  afterPull(pull: StepPull): Promise<void>;
  /** Whether there is work: the loop naps `busyIntervalMs` then, else `idlePollMs`. */
  hasWork(): boolean;
  /** Whether an error thrown by a step means the node must stop. */
  isFatal(e: unknown): boolean;
  /** Called once with a fatal error; the loop has ended. */
  onFatal(e: unknown): void;
  /** A peer was pulled in full (its last page said no more). */
  onPulledAll?(peer: Peer): void;
  /** Metrics hooks. */
  onPull?(outcome: PullOutcome): void;
  onPhase?(phase: 'pull' | 'ingest' | 'total', seconds: number): void;
  readonly logger: GossipLogger;
  nowMs?(): number;
}

/** A running gossip loop. */
export interface Gossiper {
  /** Ends the current nap early (new work arrived). */
  wake(): void;
  /** Whether the last pull said the peer had more than one step took: still catching up. */
  readonly catchingUp: boolean;
  /** Whether the loop is napping now (a {@link Gossiper.wake} would cut the nap short). */
  readonly napping: boolean;
  /** Stops after the current step; resolves when the loop has ended. */
  stop(): Promise<void>;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** Starts the loop at once. */
export function createGossiper(deps: GossiperDeps, opts: Partial<GossiperOpts> = {}): Gossiper {
  const o: GossiperOpts = { ...defaultGossiperOpts, ...opts };
  const now = deps.nowMs ?? Date.now;
  const abort = new AbortController();
  const clockWarn = createWarnLimiter({ intervalMs: o.clockWarnIntervalMs, maxKeys: 1 });
  // Creators whose events we ask for whole (left out of the summary) for a
  // while: a page had an event whose parent by that creator we lack, i.e. a
  // fork the server had not seen (EventStore.since, docs/PROTOCOL.md 8).
  const wholeCreators = new Map<string, number>();
  let catchingUp = false;
  let wake: (() => void) | null = null;

  function summary(nowMs: number): KnownEntry[] {
    const known = deps.known();
    if (wholeCreators.size === 0) return known;
    for (const [c, until] of wholeCreators) if (until <= nowMs) wholeCreators.delete(c);
    return known.filter((k) => !wholeCreators.has(bytesKey(k.creator)));
  }

  async function pullFrom(peer: Peer): Promise<{ inserted: number; tip: Tip | null }> {
    let inserted = 0;
    let tip: Tip | null = null;
    for (let pages = 0; pages < o.maxPagesPerStep; pages++) {
      const t0 = performance.now();
      const res = await deps.client.pull(peer.url, summary(now()));
      const t1 = performance.now();
      const n = await deps.ingest(res.events, peer);
      deps.onPhase?.('pull', (t1 - t0) / 1000);
      deps.onPhase?.('ingest', (performance.now() - t1) / 1000);
      inserted += n;
      tip = res.tip;
      catchingUp = res.more && n > 0;
      if (!catchingUp) break;
    }
    return { inserted, tip };
  }

  function onPullError(peer: Peer, e: GossipError): void {
    if (e.code === 'MISSING_PARENT' && e.creator !== undefined) {
      wholeCreators.set(bytesKey(e.creator), now() + o.wholeCreatorMs);
    }
    deps.peers.noteFailure(peer, now(), e.code === 'PEER_TIMEOUT');
    if (e.refusal === 'STALE_REQUEST') {
      deps.onPull?.('STALE_REQUEST');
      // A clock more than MAX_CLOCK_SKEW_MS off cuts a validator off both
      // ways (docs/PROTOCOL.md 8): say so, so that an operator sees the
      // cause instead of a node that silently stops syncing.
      if (clockWarn.due('self', now())) {
        deps.logger.warn(
          { peer: peer.url, maxSkewMs: MAX_CLOCK_SKEW_MS },
          "a peer refused our sync request as stale: this machine's clock is probably wrong (check NTP)",
        );
      }
    } else if (e.code === 'PEER_REFUSED' || e.code === 'PEER_TIMEOUT') {
      deps.onPull?.(e.code);
      if (peer.failures === 1 || peer.failures % 50 === 0) {
        deps.logger.debug({ peer: peer.url, err: e.message }, 'peer unreachable');
      }
    } else {
      deps.logger.warn(
        { peer: peer.url, code: e.code, err: e.message },
        'refused a page from a peer',
      );
    }
  }

  /** One step: pulls from one peer, then the node's own part. Returns whether there is work. */
  async function step(): Promise<boolean> {
    const stepStart = performance.now();
    await deps.beforeStep?.();
    const peer = deps.peers.pick(now(), (p) => deps.scores.banned(p.url), deps.preferred);
    let pulled = { inserted: 0, tip: null as Tip | null };
    if (peer !== undefined) {
      try {
        pulled = await pullFrom(peer);
        deps.onPull?.('ok');
        if (!catchingUp) deps.onPulledAll?.(peer);
        deps.peers.noteOk(peer, now());
      } catch (e) {
        if (!(e instanceof GossipError)) throw e;
        onPullError(peer, e);
      }
    }
    await deps.afterPull({ peer, inserted: pulled.inserted, tip: pulled.tip });
    deps.onPhase?.('total', (performance.now() - stepStart) / 1000);
    return deps.hasWork() || catchingUp;
  }

  const loop = (async () => {
    while (!abort.signal.aborted) {
      let busy = false;
      try {
        busy = await step();
      } catch (e) {
        deps.logger.error({ err: e }, 'gossip step failed');
        if (deps.isFatal(e)) {
          deps.onFatal(e);
          return;
        }
      }
      const nap = new AbortController();
      const onAbort = () => nap.abort();
      abort.signal.addEventListener('abort', onAbort, { once: true });
      wake = () => nap.abort();
      await sleep(busy ? o.busyIntervalMs : o.idlePollMs, nap.signal);
      wake = null;
      abort.signal.removeEventListener('abort', onAbort);
    }
  })();

  return {
    wake: () => wake?.(),
    get catchingUp() {
      return catchingUp;
    },
    get napping() {
      return wake !== null;
    },
    async stop() {
      abort.abort();
      await loop.catch(() => {});
    },
  };
}
