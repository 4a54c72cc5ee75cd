/**
 * The Byzantine validator's puller: in every mode it keeps the honest DAG by
 * pulling like an honest node (docs/PROTOCOL.md 8), one seeded peer
 * at a time, with the node's own sync client.
 */
import { createSyncClient, GossipError, type KnownEntry } from '@pos/gossip';
import { toHex } from '@pos/merkle';
import { verifyEd25519Sync } from '@pos/node';
import type { Adversary, Peer } from './adversary.js';
import type { Held } from './dag.js';
import { log } from './util.js';

/** Pages pulled from one peer in one turn at most. */
const PAGES = 16;

/** The puller of one run. */
export interface Puller {
  /** Pulls from one ready peer (seeded pick) to its end, or 16 pages. */
  pullOnce(): Promise<void>;
  /** Peers pulled to the end at least once (the start waits for all, see `resumeOwnChain`). */
  readonly synced: ReadonlySet<string>;
  close(): Promise<void>;
}

/**
 * The summary sent with each pull: each honest creator's latest (but for
 * creators whose events came with a missing parent: their whole chain
 * again, for 10 s), and up to 4 own heads.
 */
function summaryOf(adv: Adversary, wholeUntil: ReadonlyMap<string, number>): KnownEntry[] {
  const now = performance.now();
  const out: KnownEntry[] = [];
  for (const [c, list] of adv.dag.byCreator) {
    if ((wholeUntil.get(c) ?? 0) > now) continue;
    const last = list[list.length - 1]!;
    out.push({ creator: last.ev.creator, seq: last.ev.seq, hash: last.ev.hash });
  }
  const mine = new Map<string, Held>();
  for (const h of adv.heads.values()) if (h !== null) mine.set(toHex(h.ev.hash), h);
  for (const h of [...mine.values()].slice(0, 4)) {
    out.push({ creator: h.ev.creator, seq: h.ev.seq, hash: h.ev.hash });
  }
  return out;
}

/** A failed pull: backoff for the peer, and a creator's whole chain asked for on a gap. */
function noteFailure(
  adv: Adversary,
  peer: Peer,
  e: GossipError,
  wholeUntil: Map<string, number>,
): void {
  adv.report.pulls.failed++;
  peer.failures++;
  peer.retryAt = performance.now() + Math.min(2000, 20 * 2 ** peer.failures);
  if (e.code === 'MISSING_PARENT' && e.creator !== undefined) {
    wholeUntil.set(toHex(e.creator), performance.now() + 10_000);
  }
  if (peer.failures === 1) log('pull failed', { peer: peer.name, code: e.code, err: e.message });
}

/** The puller over `adv`'s DAG (a 5 s timeout per page). */
export function createPuller(adv: Adversary): Puller {
  const client = createSyncClient({
    chainId: adv.chainId,
    publicKey: adv.key.publicKey,
    sign: adv.sign,
    hash: adv.hash,
    has: (h) => adv.dag.has(h),
    verify: verifyEd25519Sync,
    timeoutMs: 5000,
  });
  const wholeUntil = new Map<string, number>();
  const synced = new Set<string>();

  /** Pages from `peer` until its end; false when it had more than {@link PAGES}. */
  async function pullPages(peer: Peer): Promise<boolean> {
    for (let page = 0; page < PAGES; page++) {
      const res = await client.pull(peer.url, summaryOf(adv, wholeUntil));
      for (const ev of res.events) {
        const h = adv.dag.add(ev);
        if (!h.mine) adv.report.honestEvents++;
      }
      if (res.tip !== null) peer.lastTip = res.tip;
      if (!res.more || res.events.length === 0) break;
      if (page === PAGES - 1) return false; // not to the end yet: not counted as synced
    }
    return true;
  }

  async function pullOnce(): Promise<void> {
    const now = performance.now();
    const ready = adv.peers.filter((p) => p.retryAt <= now);
    if (ready.length === 0) return;
    const peer = ready[Math.floor(adv.rand() * ready.length)]!;
    try {
      if (!(await pullPages(peer))) return;
      adv.report.pulls.ok++;
      peer.failures = 0;
      synced.add(peer.hex);
    } catch (e) {
      if (!(e instanceof GossipError)) throw e;
      noteFailure(adv, peer, e, wholeUntil);
    }
  }

  return { pullOnce, synced, close: () => client.close() };
}
