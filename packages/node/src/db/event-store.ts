/**
 * The node's event store on classic-level (PROTOCOL.md section 11: "classic-level
 * under the data dir holds events"; "A node persists its own event before
 * gossiping it ... A restarted node resumes from disk"). It implements gossip's
 * {@link EventStore} (PROTOCOL.md section 9) with the same observable behaviour
 * as `createMemoryEventStore` (same heads, same `since` output and order).
 *
 * Layout (every key behind the optional `prefix`; integers big-endian u64):
 *
 * ```
 * e ‖ hash(32)                       → event bytes (WireEvent.bytes)
 * s ‖ index(8)                       → hash          insertion order = topological order
 * c ‖ creator(32) ‖ seq(8) ‖ hash(32) → index(8)      per-creator index
 * f ‖ creator(32)                    → seq(8)        lowest seq this creator forked at
 * m                                  → nextIndex(8) ‖ pruneFloor(8)
 * ```
 *
 * Deviations from the first sketch of this layout, both deliberate: the `c`
 * value is the event's insertion index rather than empty (so `since` finds
 * where to start scanning `s` without a reverse lookup), and the `f` record
 * keeps the fork floor across restarts (below it a creator's chain is linear,
 * so `since` needs no ancestry walk there).
 *
 * Writes: `add` is synchronous (the interface requires it): it assigns the
 * next insertion index, updates the in-memory caches and queues the event's
 * records; a single writer drains the queue in order, each drained group being
 * one atomic `batch` (all records of an event land together, and batches land
 * in insertion order, so the disk always holds a prefix of the insertion log:
 * parents before children). Until its batch resolves an event is served from
 * memory. {@link LevelEventStore.addOwn} awaits that batch, written with
 * classic-level's `sync: true` (fsync), before the caller may gossip it.
 *
 * Reads: `has` and `get` are synchronous through classic-level 3's `getSync`;
 * a bounded set of recently seen hashes spares `has` most disk reads. `heads`
 * is an in-memory cache rebuilt on open from the top of each creator's `c`
 * range.
 */

import {
  decodeEvent,
  type EventStore,
  type KnownEntry,
  MAX_TIPS_PER_CREATOR,
  type Tip,
  type WireEvent,
} from '@pos/gossip';
import {
  concatBytes,
  equalBytes,
  fromHex,
  type HashFn,
  readU64be,
  sha256Noble,
  toHex,
  u64be,
} from '@pos/merkle';
import { CodedError } from '@pos/protocol';
import { failpoint } from '../failpoints.js';

/** Codes of {@link EventStoreError}. */
export type EventStoreErrorCode =
  /** A stored record does not decode, or decodes to another event than its key says. */
  | 'CORRUPT_STORE'
  /** A batch write failed; the store refuses further writes (restart to recover). */
  | 'WRITE_FAILED'
  /** The store was closed. */
  | 'CLOSED'
  /** A caller bug, such as a negative prune index. */
  | 'BAD_ARGUMENT';

/** Typed error of the level event store. */
export class EventStoreError extends CodedError<EventStoreErrorCode> {}

/** One write of a batch, in the `view` encodings. */
export type EventDbOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array };

/**
 * The part of a classic-level 3 database (or a sublevel of it) this store uses,
 * opened with `{ keyEncoding: 'view', valueEncoding: 'view' }`.
 */
export interface EventDb {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getSync(key: Uint8Array): Uint8Array | undefined;
  batch(ops: EventDbOp[], options?: { sync?: boolean }): Promise<void>;
  iterator(opts: {
    gte?: Uint8Array;
    lt?: Uint8Array;
    reverse?: boolean;
    limit?: number;
  }): AsyncIterable<[Uint8Array, Uint8Array]> & { close(): Promise<void> };
}

/** Options of {@link openLevelEventStore}. */
export interface LevelEventStoreOpts {
  /** An opened database with `view` key and value encodings. */
  db: EventDb;
  /** Namespace prepended to every key, so that the store can share a database. */
  prefix?: Uint8Array;
  /** Hash used to decode stored events (the event hash, PROTOCOL.md section 2). */
  hash?: HashFn;
  /** Size of the recent-hash cache that spares `has` a disk read. Default 65 536. */
  recentHashes?: number;
  /**
   * Decoded events kept in memory (most recently stored or read), so that
   * serving a sync page does not re-read and re-hash the DAG's tip from disk
   * on every pull. Default 8192.
   */
  cachedEvents?: number;
  /**
   * Insertion indices (and per creator, seqs) kept in memory, so that `since`
   * for a peer near the tip reads no LevelDB iterator: each awaited iterator
   * step costs a thread hand-off (~100 µs here). Default 16 384.
   */
  recentIndex?: number;
}

/** The node's disk-backed {@link EventStore}. */
export interface LevelEventStore extends EventStore {
  /**
   * The memory store's `since` (same events, same insertion order), read from
   * disk after waiting for queued writes. Cost: per creator one seek into its
   * `c` range for the lowest insertion index it may need (the whole range
   * above that seq once anything was pruned); per reported hash we hold, a
   * self-parent walk down to the creator's fork floor only (so a creator that
   * never forked costs no walk); then one scan of `s` from the lowest such
   * index, reading every event there, including ones the peer already has
   * (O(events inserted since the peer's oldest gap)). A lying summary (a
   * hash of another creator, or a seq that is not its hash's) can only make
   * it send more than the memory store, never less.
   */
  since(known: readonly KnownEntry[]): AsyncIterable<WireEvent>;
  /**
   * `add` the node's own event, then resolve once the batch holding it is
   * written with `sync: true` (PROTOCOL.md section 11: persist before gossip).
   */
  addOwn(ev: WireEvent): Promise<void>;
  /** Resolves when every queued write has landed (rejects with `WRITE_FAILED` if one failed). */
  flush(): Promise<void>;
  /** The insertion index the next new event gets (the count of events ever added). */
  readonly nextIndex: number;
  /** Lowest insertion index still stored (what {@link LevelEventStore.pruneBelow} left). */
  readonly pruneFloor: number;
  /**
   * Deletes every event whose insertion index is below `index` (all three of
   * its records), bounding the disk. Returns how many were deleted. Pruned
   * tips leave `heads`; a creator whose every event was pruned disappears from
   * it. After a restart `heads` is recomputed from what is left, which may
   * list an older childless branch that the live cache had already dropped.
   */
  pruneBelow(index: number): Promise<number>;
  /** Waits for queued writes and refuses further use; the caller closes the database. */
  close(): Promise<void>;
}

const TAG_E = 0x65; // 'e'
const TAG_S = 0x73; // 's'
const TAG_C = 0x63; // 'c'
const TAG_F = 0x66; // 'f'
const TAG_M = 0x6d; // 'm'

interface TipIx extends Tip {
  readonly index: number;
}

interface CreatorState {
  /** Tips, highest seq first then lowest insertion index, at most MAX_TIPS_PER_CREATOR. */
  tips: TipIx[];
  maxSeq: number;
  /** Lowest seq at which two of its events share a seq; Infinity if it never forked. */
  forkFloor: number;
  /** Lowest insertion index of each seq, for every seq >= `seqFloor` (added since open). */
  seqIdx: Map<number, number>;
  seqFloor: number;
}

interface Waiter {
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * Opens the event store over `db` and rebuilds its caches (PROTOCOL.md
 * section 11: a restarted node resumes from disk). Cost of the rebuild: per
 * creator, the top of its `c` range down to its 4 best childless events (one
 * event read per entry visited); a creator with many dead fork branches costs
 * more.
 */
export async function openLevelEventStore(opts: LevelEventStoreOpts): Promise<LevelEventStore> {
  const { db } = opts;
  const prefix = opts.prefix ?? new Uint8Array(0);
  const hashFn = opts.hash ?? sha256Noble;
  const recentMax = opts.recentHashes ?? 65_536;

  const key = (...parts: Uint8Array[]) => concatBytes(prefix, ...parts);
  const tag = (t: number) => Uint8Array.of(t);
  const eKey = (h: Uint8Array) => key(tag(TAG_E), h);
  const sKey = (i: number) => key(tag(TAG_S), u64be(i));
  const cKey = (c: Uint8Array, seq: number, h: Uint8Array) => key(tag(TAG_C), c, u64be(seq), h);
  const fKey = (c: Uint8Array) => key(tag(TAG_F), c);
  const mKey = key(tag(TAG_M));
  const cLen = prefix.length + 1 + 32 + 8 + 32;

  let nextIndex = 0;
  let pruneFloor = 0;
  let closed = false;
  let failure: EventStoreError | null = null;
  const creators = new Map<string, CreatorState>();
  /** Events added but not yet on disk, by hex hash. */
  const pending = new Map<string, WireEvent>();
  /** Recently seen stored hashes (insertion-ordered Set used as a FIFO). */
  const recent = new Set<string>();

  const remember = (hex: string) => {
    if (recentMax <= 0) return;
    recent.add(hex);
    if (recent.size > recentMax) {
      const first = recent.values().next().value;
      if (first !== undefined) recent.delete(first);
    }
  };

  const decodeStored = (h: Uint8Array, bytes: Uint8Array): WireEvent => {
    let ev: WireEvent;
    try {
      ev = decodeEvent(new Uint8Array(bytes), hashFn);
    } catch (e) {
      throw new EventStoreError('CORRUPT_STORE', `event ${toHex(h)} does not decode`, { cause: e });
    }
    if (!equalBytes(ev.hash, h)) {
      throw new EventStoreError('CORRUPT_STORE', `event under ${toHex(h)} hashes to another`);
    }
    return ev;
  };

  /** Decoded events by hex hash, least recently used first (events never change). */
  const cache = new Map<string, WireEvent>();
  const cacheMax = opts.cachedEvents ?? 8192;
  const cachePut = (hex: string, ev: WireEvent) => {
    if (cacheMax <= 0) return;
    cache.delete(hex);
    cache.set(hex, ev);
    if (cache.size > cacheMax) cache.delete(cache.keys().next().value!);
  };
  const fromMemory = (hex: string): WireEvent | undefined => {
    const p = pending.get(hex);
    if (p !== undefined) return p;
    const c = cache.get(hex);
    if (c !== undefined) cachePut(hex, c);
    return c;
  };

  const readSync = (h: Uint8Array): WireEvent | undefined => {
    const hex = toHex(h);
    const m = fromMemory(hex);
    if (m !== undefined) return m;
    const v = db.getSync(eKey(h));
    if (v === undefined) return undefined;
    const ev = decodeStored(h, v);
    cachePut(hex, ev);
    return ev;
  };

  const readAsync = async (h: Uint8Array): Promise<WireEvent | undefined> => {
    const hex = toHex(h);
    const m = fromMemory(hex);
    if (m !== undefined) return m;
    const v = await db.get(eKey(h));
    if (v === undefined) return undefined;
    const ev = decodeStored(h, v);
    cachePut(hex, ev);
    return ev;
  };

  const metaValue = () => concatBytes(u64be(nextIndex), u64be(pruneFloor));

  // ---------------------------------------------------------------- write queue

  let queue: EventDbOp[] = [];
  let queueHashes: string[] = [];
  let queueSync = false;
  let queueWaiters: Waiter[] = [];
  let writer: Promise<void> | null = null;

  const drain = async (): Promise<void> => {
    while (queue.length > 0 || queueWaiters.length > 0) {
      const ops = queue;
      const hashes = queueHashes;
      const sync = queueSync;
      const waiters = queueWaiters;
      queue = [];
      queueHashes = [];
      queueSync = false;
      queueWaiters = [];
      ops.push({ type: 'put', key: mKey, value: metaValue() });
      try {
        if (failure) throw failure;
        failpoint('eventStore.write');
        await db.batch(ops, { sync });
      } catch (e) {
        failure ??= new EventStoreError('WRITE_FAILED', `event batch failed: ${String(e)}`, {
          cause: e,
        });
        for (const w of waiters) w.reject(failure);
        continue;
      }
      for (const h of hashes) {
        const ev = pending.get(h);
        pending.delete(h);
        if (ev !== undefined) cachePut(h, ev);
        remember(h);
      }
      for (const w of waiters) w.resolve();
    }
    writer = null;
  };

  const kick = () => {
    if (writer === null) writer = drain();
  };

  /** Queues ops (and an optional waiter) and starts the writer. */
  const enqueue = (ops: EventDbOp[], sync: boolean, wait: boolean): Promise<void> => {
    queue.push(...ops);
    if (sync) queueSync = true;
    const p = wait
      ? new Promise<void>((resolve, reject) => queueWaiters.push({ resolve, reject }))
      : Promise.resolve();
    kick();
    return p;
  };

  const flush = async (): Promise<void> => {
    if (failure) throw failure;
    if (queue.length === 0 && writer === null) return;
    await enqueue([], false, true);
  };

  // ---------------------------------------------------------------- caches

  const pushTip = (st: CreatorState, ev: WireEvent, index: number) => {
    const parent = ev.selfParent;
    const tips = st.tips.filter((t) => parent === null || !equalBytes(t.hash, parent));
    tips.push({ seq: ev.seq, hash: ev.hash, index });
    tips.sort((a, b) => b.seq - a.seq || a.index - b.index);
    st.tips = tips.slice(0, MAX_TIPS_PER_CREATOR);
  };

  /** Rebuilds one creator's state from the top of its `c` range. */
  const rebuildCreator = async (creator: Uint8Array): Promise<CreatorState | null> => {
    const lo = key(tag(TAG_C), creator);
    const hi = key(tag(TAG_C), creator, new Uint8Array(8).fill(0xff), new Uint8Array(33));
    const withChild = new Set<string>();
    const cands: TipIx[] = [];
    let maxSeq = -1;
    let groupSeq = -1;
    const it = db.iterator({ gte: lo, lt: hi, reverse: true });
    try {
      for await (const [k, v] of it) {
        const seq = readU64be(k, prefix.length + 33);
        const h = k.slice(prefix.length + 41, prefix.length + 73);
        if (maxSeq < 0) maxSeq = seq;
        if (seq !== groupSeq) {
          if (cands.length >= MAX_TIPS_PER_CREATOR) break;
          groupSeq = seq;
        }
        const ev = await readAsync(h);
        if (ev === undefined) throw new EventStoreError('CORRUPT_STORE', 'c entry without event');
        const hex = toHex(h);
        if (!withChild.has(hex)) cands.push({ seq, hash: h, index: readU64be(v, 0) });
        if (ev.selfParent) withChild.add(toHex(ev.selfParent));
      }
    } finally {
      await it.close();
    }
    if (maxSeq < 0) return null;
    cands.sort((a, b) => b.seq - a.seq || a.index - b.index);
    const f = await db.get(fKey(creator));
    return {
      tips: cands.slice(0, MAX_TIPS_PER_CREATOR),
      maxSeq,
      forkFloor: f === undefined ? Number.POSITIVE_INFINITY : readU64be(f, 0),
      seqIdx: new Map(),
      seqFloor: maxSeq + 1,
    };
  };

  const rebuildAll = async () => {
    creators.clear();
    const cLo = key(tag(TAG_C));
    let upper = key(tag(TAG_C + 1));
    for (;;) {
      let creator: Uint8Array | undefined;
      const it = db.iterator({ gte: cLo, lt: upper, reverse: true, limit: 1 });
      try {
        for await (const [k] of it) {
          if (k.length !== cLen) throw new EventStoreError('CORRUPT_STORE', 'bad c key');
          creator = k.slice(prefix.length + 1, prefix.length + 33);
        }
      } finally {
        await it.close();
      }
      if (creator === undefined) return;
      const st = await rebuildCreator(creator);
      if (st !== null) creators.set(toHex(creator), st);
      upper = key(tag(TAG_C), creator);
    }
  };

  // ---------------------------------------------------------------- open

  const meta = await db.get(mKey);
  if (meta !== undefined) {
    if (meta.length !== 16) throw new EventStoreError('CORRUPT_STORE', 'meta record');
    nextIndex = readU64be(meta, 0);
    pruneFloor = readU64be(meta, 8);
  }
  await rebuildAll();
  // The recent index holds insertions from `ringFrom` on (none from before open).
  const ringSize = opts.recentIndex ?? 16_384;
  const ring: ({ index: number; hash: Uint8Array } | undefined)[] = new Array(ringSize);
  const ringFrom = nextIndex;
  const ringLow = () => Math.max(ringFrom, nextIndex - ringSize);

  const live = () => {
    if (closed) throw new EventStoreError('CLOSED', 'event store closed');
    if (failure) throw failure;
  };

  const has = (h: Uint8Array): boolean => {
    const hex = toHex(h);
    if (pending.has(hex) || recent.has(hex)) return true;
    if (closed) throw new EventStoreError('CLOSED', 'event store closed');
    const found = db.getSync(eKey(h)) !== undefined;
    if (found) remember(hex);
    return found;
  };

  /** Adds `ev`; returns the promise of its batch (or of a synced meta write for a duplicate). */
  const addWith = (ev: WireEvent, sync: boolean): Promise<void> => {
    live();
    if (has(ev.hash)) return sync ? enqueue([], true, true) : Promise.resolve();
    const index = nextIndex++;
    const c = toHex(ev.creator);
    let st = creators.get(c);
    const ops: EventDbOp[] = [
      { type: 'put', key: eKey(ev.hash), value: ev.bytes },
      { type: 'put', key: sKey(index), value: ev.hash },
      { type: 'put', key: cKey(ev.creator, ev.seq, ev.hash), value: u64be(index) },
    ];
    if (st === undefined) {
      // Unknown at open, so every event of this creator is added from now on.
      st = {
        tips: [],
        maxSeq: -1,
        forkFloor: Number.POSITIVE_INFINITY,
        seqIdx: new Map(),
        seqFloor: 0,
      };
      creators.set(c, st);
    }
    if (ringSize > 0) {
      ring[index % ringSize] = { index, hash: ev.hash };
      if (!st.seqIdx.has(ev.seq)) st.seqIdx.set(ev.seq, index);
      if (st.seqIdx.size > ringSize) {
        // Oldest entry out (insertion order: ascending seq but for late forks).
        const old = st.seqIdx.keys().next().value!;
        st.seqIdx.delete(old);
        st.seqFloor = Math.max(st.seqFloor, old + 1);
      }
    } else {
      st.seqFloor = Number.POSITIVE_INFINITY;
    }
    // Parents are present, so a seq at or below the max means another event holds it.
    if (ev.seq <= st.maxSeq && ev.seq < st.forkFloor) {
      st.forkFloor = ev.seq;
      ops.push({ type: 'put', key: fKey(ev.creator), value: u64be(ev.seq) });
    }
    st.maxSeq = Math.max(st.maxSeq, ev.seq);
    pushTip(st, ev, index);
    const hex = toHex(ev.hash);
    pending.set(hex, ev);
    queueHashes.push(hex);
    return enqueue(ops, sync, sync);
  };
  const add = (ev: WireEvent): void => {
    void addWith(ev, false);
  };

  /**
   * Lowest insertion index among this creator's events with seq ≥ `fromSeq`.
   * Without pruning every such event descends from one at the lowest such seq,
   * so that seq group alone is read; after a prune the whole range is read.
   */
  const minIndexFrom = async (creator: Uint8Array, fromSeq: number): Promise<number> => {
    const it = db.iterator({
      gte: key(tag(TAG_C), creator, u64be(Math.max(0, fromSeq))),
      lt: key(tag(TAG_C), creator, new Uint8Array(8).fill(0xff), new Uint8Array(33)),
    });
    let min = Number.POSITIVE_INFINITY;
    let firstSeq = -1;
    try {
      for await (const [k, v] of it) {
        const seq = readU64be(k, prefix.length + 33);
        if (firstSeq < 0) firstSeq = seq;
        if (pruneFloor === 0 && seq !== firstSeq) break;
        min = Math.min(min, readU64be(v, 0));
      }
    } finally {
      await it.close();
    }
    return min;
  };

  /** {@link minIndexFrom} from memory, or undefined when memory cannot tell. */
  const minIndexFromMemory = (st: CreatorState, fromSeq: number): number | undefined => {
    if (fromSeq < st.seqFloor) return undefined;
    if (fromSeq > st.maxSeq) return Number.POSITIVE_INFINITY;
    if (pruneFloor === 0) return st.seqIdx.get(fromSeq);
    let min = Number.POSITIVE_INFINITY;
    for (const [seq, i] of st.seqIdx) if (seq >= fromSeq && i < min) min = i;
    return min;
  };

  async function* since(known: readonly KnownEntry[]): AsyncGenerator<WireEvent> {
    live();
    await flush();
    // Per creator the peer mentions: its highest seq M, the highest seq S of
    // its reported hashes that we hold, and (at or above the fork floor F) the
    // hashes that are self-ancestors of a reported hash we hold. An event of
    // that creator is sent iff seq > M, or (seq < F and seq > S), or (seq ≥ F
    // and it is not such an ancestor): exactly the memory store's rule, since
    // below F the chain is linear.
    interface Rule {
      maxSeq: number;
      heldSeq: number;
      floor: number;
      ancestors: Set<string>;
    }
    const peer = new Map<string, { creator: Uint8Array; maxSeq: number; hashes: Uint8Array[] }>();
    for (const k of known) {
      const c = toHex(k.creator);
      const e = peer.get(c) ?? { creator: k.creator, maxSeq: -1, hashes: [] };
      e.maxSeq = Math.max(e.maxSeq, k.seq);
      e.hashes.push(k.hash);
      peer.set(c, e);
    }
    const rules = new Map<string, Rule>();
    let start = Number.POSITIVE_INFINITY;
    for (const [c, st] of creators) {
      const p = peer.get(c);
      if (p === undefined) {
        const m = minIndexFromMemory(st, 0) ?? (await minIndexFrom(fromHex(c, 32), 0));
        start = Math.min(start, m);
        continue;
      }
      const rule: Rule = {
        maxSeq: p.maxSeq,
        heldSeq: -1,
        floor: st.forkFloor,
        ancestors: new Set(),
      };
      if (st.forkFloor === Number.POSITIVE_INFINITY) {
        // One chain here: the peer at maxSeq holds all of it up to there
        // (the memory store's rule; see EventStore.since).
        rule.heldSeq = p.maxSeq;
      }
      for (const h of st.forkFloor === Number.POSITIVE_INFINITY ? [] : p.hashes) {
        let cur = await readAsync(h);
        if (cur === undefined || !equalBytes(cur.creator, p.creator)) continue;
        rule.heldSeq = Math.max(rule.heldSeq, cur.seq);
        while (cur !== undefined && cur.seq >= rule.floor) {
          const hex = toHex(cur.hash);
          if (rule.ancestors.has(hex)) break;
          rule.ancestors.add(hex);
          cur = cur.selfParent ? await readAsync(cur.selfParent) : undefined;
        }
      }
      rules.set(c, rule);
      // Lowest seq that may be sent: above M, above S below F, or from F on.
      const fromSeq = Math.min(p.maxSeq + 1, rule.heldSeq + 1, rule.floor);
      if (fromSeq <= st.maxSeq) {
        const m = minIndexFromMemory(st, fromSeq) ?? (await minIndexFrom(p.creator, fromSeq));
        start = Math.min(start, m);
      }
    }
    if (start === Number.POSITIVE_INFINITY) return;
    const wanted = (ev: WireEvent): boolean => {
      const rule = rules.get(toHex(ev.creator));
      return (
        rule === undefined ||
        ev.seq > rule.maxSeq ||
        (ev.seq < rule.floor ? ev.seq > rule.heldSeq : !rule.ancestors.has(toHex(ev.hash)))
      );
    };
    const from = Math.max(start, pruneFloor);
    if (from >= ringLow()) {
      // Near the tip: the insertion order is in memory, the events mostly too.
      const end = nextIndex;
      for (let i = Math.max(from, pruneFloor); i < end; i++) {
        const r = ring[i % ringSize];
        const h = r !== undefined && r.index === i ? r.hash : db.getSync(sKey(i));
        if (h === undefined) continue; // pruned meanwhile
        const ev = readSync(h);
        if (ev !== undefined && wanted(ev)) yield ev;
      }
      return;
    }
    const it = db.iterator({ gte: sKey(Math.max(start, pruneFloor)), lt: sKey(nextIndex) });
    try {
      for await (const [, h] of it) {
        const ev = await readAsync(h);
        if (ev === undefined) continue; // pruned meanwhile
        if (wanted(ev)) yield ev;
      }
    } finally {
      await it.close();
    }
  }

  const store: LevelEventStore = {
    has(h) {
      return has(h);
    },
    get(h) {
      if (closed) throw new EventStoreError('CLOSED', 'event store closed');
      const ev = readSync(h);
      if (ev !== undefined) remember(toHex(h));
      return ev;
    },
    add,
    addOwn(ev) {
      try {
        return addWith(ev, true);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    heads() {
      const out = new Map<string, Tip[]>();
      for (const [c, st] of creators) {
        if (st.tips.length > 0)
          out.set(
            c,
            st.tips.map((t) => ({ seq: t.seq, hash: t.hash })),
          );
      }
      return out;
    },
    since,
    flush,
    get nextIndex() {
      return nextIndex;
    },
    get pruneFloor() {
      return pruneFloor;
    },
    async pruneBelow(index) {
      live();
      if (!Number.isSafeInteger(index) || index < 0) {
        throw new EventStoreError('BAD_ARGUMENT', `prune index ${index}`);
      }
      const to = Math.min(index, nextIndex);
      await flush();
      let deleted = 0;
      const CHUNK = 1000;
      for (let lo = pruneFloor; lo < to; lo += CHUNK) {
        const hi = Math.min(to, lo + CHUNK);
        const ops: EventDbOp[] = [];
        const it = db.iterator({ gte: sKey(lo), lt: sKey(hi) });
        try {
          for await (const [k, h] of it) {
            const ev = await readAsync(h);
            ops.push({ type: 'del', key: k });
            cache.delete(toHex(h));
            if (ev === undefined) continue;
            ops.push({ type: 'del', key: eKey(h) });
            ops.push({ type: 'del', key: cKey(ev.creator, ev.seq, h) });
            deleted++;
          }
        } finally {
          await it.close();
        }
        pruneFloor = hi;
        await enqueue(ops, false, true);
      }
      recent.clear();
      // A creator whose tips were all pruned stays known (empty tips, left out of heads).
      for (const st of creators.values()) st.tips = st.tips.filter((t) => t.index >= pruneFloor);
      return deleted;
    },
    async close() {
      if (closed) return;
      try {
        await flush();
      } finally {
        closed = true;
      }
    },
  };
  return store;
}
