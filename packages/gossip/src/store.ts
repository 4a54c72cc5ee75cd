/**
 * The event store the sync protocol reads and fills (docs/PROTOCOL.md 8: a
 * puller sends what it knows, its tips per creator, and the server answers
 * with the events the puller lacks, parents first).
 *
 * The node implements {@link EventStore} on classic-level; this module also
 * gives {@link createMemoryEventStore}, the reference implementation used by
 * the tests. The contract both must keep:
 *
 * - `add` is called only with events whose parents the store already has, so
 *   insertion order is a topological order, and `since` may simply replay it
 *   to deliver parents first.
 * - A creator that forks (docs/PROTOCOL.md 5.2: two events neither a
 *   self-ancestor of the other) has several tips; honest nodes store both
 *   branches, and the summary keeps at most {@link MAX_TIPS_PER_CREATOR} of
 *   them (the highest seqs) so that a forker costs bounded space in every
 *   request.
 */
import { fromHex, toHex } from '@pos/merkle';
import type { WireEvent } from './event.js';

/** Most tips per creator kept in a summary (a forker's branches beyond it are resent). */
export const MAX_TIPS_PER_CREATOR = 4;

/** One tip of a creator: its seq and hash. */
export interface Tip {
  readonly seq: number;
  readonly hash: Uint8Array;
}

/** One entry of a peer's summary: it has `hash` (and its ancestors), by `creator`, at `seq`. */
export interface KnownEntry {
  readonly creator: Uint8Array;
  readonly seq: number;
  readonly hash: Uint8Array;
}

/**
 * What the sync layer needs of the node's event storage. Keys of `heads` are
 * the creator's public key as `0x`-prefixed lowercase hex (docs/PROTOCOL.md 1).
 */
export interface EventStore {
  has(hash: Uint8Array): boolean;
  get(hash: Uint8Array): WireEvent | undefined;
  /** Inserts an event whose parents are present (the caller checks); a duplicate is a no-op. */
  add(ev: WireEvent): void;
  /** The latest event(s) per creator: several for a forker, at most 4, highest seq first. */
  heads(): Map<string, Tip[]>;
  /**
   * Every stored event the peer lacks given its summary `known`, in insertion
   * order (so parents first): for each creator, the events with seq above the
   * peer's highest seq for it; and, for a creator that forked in this store,
   * also those that are not self-ancestors of any tip hash the peer reported
   * (fork branches it has not seen). A creator that never forked here has one
   * chain, so a peer at seq M holds all of it up to M, even when its tip is
   * not here yet (the usual case: a puller's own newest event). A creator the
   * peer does not mention contributes all its events. Lazy, so a page can
   * stop early. May be an async iterable for a disk-backed store.
   *
   * The one-chain assumption fails only for a fork this store has not seen:
   * then a page may hold an event whose parent the puller lacks, which the
   * puller reports as `MISSING_PARENT` and answers by leaving that creator
   * out of its next summary (docs/PROTOCOL.md 8).
   */
  since(known: readonly KnownEntry[]): Iterable<WireEvent> | AsyncIterable<WireEvent>;
}

/** The summary a puller sends: every tip of {@link EventStore.heads}, as `KnownEntry`s. */
export function knownFromHeads(heads: Map<string, Tip[]>): KnownEntry[] {
  const out: KnownEntry[] = [];
  for (const [creatorHex, tips] of heads) {
    const creator = fromHex(creatorHex, 32);
    for (const t of tips.slice(0, MAX_TIPS_PER_CREATOR)) {
      out.push({ creator, seq: t.seq, hash: t.hash });
    }
  }
  return out;
}

interface CreatorState {
  /** Tips, highest seq first, at most MAX_TIPS_PER_CREATOR. */
  tips: Tip[];
  /** Set once two events of this creator share a seq: only then is ancestry walked. */
  forked: boolean;
  seqs: Set<number>;
}

/**
 * An in-memory {@link EventStore} for tests and tools. `since` scans the whole
 * insertion log (O(events) per page) and walks self-parent chains only for
 * creators that forked; a disk store
 * should index by (creator, seq) instead.
 */
export function createMemoryEventStore(): EventStore {
  const log: WireEvent[] = [];
  const byHash = new Map<string, WireEvent>();
  const creators = new Map<string, CreatorState>();

  const selfAncestors = (tipHex: string, into: Set<string>): void => {
    let cur = byHash.get(tipHex);
    while (cur !== undefined) {
      const k = toHex(cur.hash);
      if (into.has(k)) return; // already walked from another tip
      into.add(k);
      cur = cur.selfParent ? byHash.get(toHex(cur.selfParent)) : undefined;
    }
  };

  return {
    has: (hash) => byHash.has(toHex(hash)),
    get: (hash) => byHash.get(toHex(hash)),
    add(ev) {
      const key = toHex(ev.hash);
      if (byHash.has(key)) return;
      byHash.set(key, ev);
      log.push(ev);
      const c = toHex(ev.creator);
      let st = creators.get(c);
      if (st === undefined) {
        st = { tips: [], forked: false, seqs: new Set() };
        creators.set(c, st);
      }
      if (st.seqs.has(ev.seq)) st.forked = true;
      st.seqs.add(ev.seq);
      const parent = ev.selfParent;
      const tips = st.tips.filter((t) => parent === null || toHex(t.hash) !== toHex(parent));
      tips.push({ seq: ev.seq, hash: ev.hash });
      tips.sort((a, b) => b.seq - a.seq);
      st.tips = tips.slice(0, MAX_TIPS_PER_CREATOR);
    },
    heads() {
      const out = new Map<string, Tip[]>();
      for (const [c, st] of creators) out.set(c, st.tips.slice());
      return out;
    },
    *since(known) {
      // Per creator: the peer's highest seq and, where ancestry matters, the
      // set of our events that are self-ancestors of a tip it reported.
      const peer = new Map<string, { maxSeq: number; hashes: string[] }>();
      for (const k of known) {
        const c = toHex(k.creator);
        const e = peer.get(c) ?? { maxSeq: -1, hashes: [] };
        e.maxSeq = Math.max(e.maxSeq, k.seq);
        e.hashes.push(toHex(k.hash));
        peer.set(c, e);
      }
      const has = new Map<string, Set<string> | null>(); // null: seq > maxSeq decides alone
      for (const [c, e] of peer) {
        const st = creators.get(c);
        if (st === undefined || !st.forked) {
          has.set(c, null);
        } else {
          const set = new Set<string>();
          for (const h of e.hashes) selfAncestors(h, set);
          has.set(c, set);
        }
      }
      for (const ev of log) {
        const c = toHex(ev.creator);
        const e = peer.get(c);
        if (e === undefined || ev.seq > e.maxSeq) {
          yield ev;
          continue;
        }
        const set = has.get(c);
        if (set != null && !set.has(toHex(ev.hash))) yield ev;
      }
    },
  };
}
