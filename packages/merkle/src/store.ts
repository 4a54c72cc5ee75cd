/**
 * The small async key-value contract that trie nodes and log hashes live
 * behind (docs/PROTOCOL.md 3.5 and 4), with two backends: in memory, and any
 * LevelDB handle shaped like classic-level's. The package itself never opens
 * files: the caller hands in the database, so this module stays browser-safe.
 */
import { bytesFromKey, bytesKey, compareBytes, concatBytes } from './bytes.js';

/** One write in an atomic batch. */
export type BatchOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array };

/** A half-open key range `[gte, lt)` in byte order. */
export interface KeyRange {
  gte: Uint8Array;
  lt: Uint8Array;
}

/**
 * Async byte-keyed store. `batch` must be atomic: all of it lands, or none.
 * A store may keep the arrays it is handed, so a caller must not modify them
 * after `batch`; the arrays `get` returns are the caller's to keep but not to
 * modify (the structures here never do either).
 */
export interface KVStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /**
   * The same read without a round trip through the event loop, where the
   * backend has one. A trie read follows a path of dependent lookups, and
   * each awaited LevelDB get costs about 100 µs of thread hand-offs here
   * against about 7 µs for classic-level's `getSync` (a page-cached read).
   */
  getSync?(key: Uint8Array): Uint8Array | undefined;
  /** Many reads in one round trip (LevelDB's `getMany`), where the backend has it. */
  getMany?(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  batch(ops: readonly BatchOp[]): Promise<void>;
  /** Entries in `range`, ascending by key. */
  entries(range: KeyRange): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** An in-memory {@link KVStore} (tests, benchmarks, browsers). */
export function createMemoryStore(): KVStore & { readonly size: number } {
  // One map per first key byte: the structures here namespace their records
  // by a leading tag byte, so a range scan (pruning) visits only its tags'
  // records instead of the whole store.
  const maps = new Map<number, Map<string, Uint8Array>>();
  let size = 0;
  return {
    get size() {
      return size;
    },
    async get(key) {
      return maps.get(key[0] ?? -1)?.get(bytesKey(key));
    },
    getSync(key) {
      return maps.get(key[0] ?? -1)?.get(bytesKey(key));
    },
    async getMany(keys) {
      return keys.map((key) => maps.get(key[0] ?? -1)?.get(bytesKey(key)));
    },
    async batch(ops) {
      for (const op of ops) {
        const tag = op.key[0] ?? -1;
        let m = maps.get(tag);
        const k = bytesKey(op.key);
        if (op.type === 'put') {
          if (m === undefined) maps.set(tag, (m = new Map()));
          if (!m.has(k)) size++;
          m.set(k, op.value);
        } else if (m?.delete(k)) {
          size--;
        }
      }
    },
    async *entries(range) {
      const lo = range.gte[0] ?? -1;
      const hi = range.lt[0] ?? -1;
      const hits: [Uint8Array, Uint8Array][] = [];
      for (const [tag, m] of maps) {
        if (tag < lo || tag > hi) continue;
        for (const [k, v] of m) {
          const key = bytesFromKey(k);
          if (compareBytes(key, range.gte) >= 0 && compareBytes(key, range.lt) < 0)
            hits.push([key, v]);
        }
      }
      hits.sort((a, b) => compareBytes(a[0], b[0]));
      yield* hits;
    },
  };
}

/**
 * The part of a classic-level (abstract-level 3) database this package uses,
 * opened with `{ keyEncoding: 'view', valueEncoding: 'view' }`.
 */
export interface LevelLike {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** classic-level 3 (abstract-level 3.1) has it; used when present. */
  getSync?(key: Uint8Array): Uint8Array | undefined;
  getMany?(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  batch(
    ops: Array<
      { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }
    >,
  ): Promise<void>;
  iterator(opts: { gte: Uint8Array; lt: Uint8Array }): AsyncIterable<[Uint8Array, Uint8Array]>;
}

/** Options of {@link createLevelStore}. */
export interface LevelStoreOpts {
  /** Namespace prepended to every key, so that several structures share one database. */
  prefix: Uint8Array;
}

/** Default {@link LevelStoreOpts}: no namespace. */
export const defaultLevelStoreOpts: LevelStoreOpts = { prefix: new Uint8Array(0) };

/**
 * A {@link KVStore} over a classic-level database. LevelDB batches are atomic,
 * which is what lets a trie commit or a log append land whole or not at all.
 */
export function createLevelStore(db: LevelLike, opts: Partial<LevelStoreOpts> = {}): KVStore {
  const prefix = opts.prefix ?? defaultLevelStoreOpts.prefix;
  const withPrefix = (k: Uint8Array) => (prefix.length === 0 ? k : concatBytes(prefix, k));
  const view = (v: Uint8Array | undefined) =>
    v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const store: KVStore = {
    async get(key) {
      return view(await db.get(withPrefix(key)));
    },
    async batch(ops) {
      if (ops.length === 0) return;
      await db.batch(
        ops.map((op) =>
          op.type === 'put'
            ? { type: 'put' as const, key: withPrefix(op.key), value: op.value }
            : { type: 'del' as const, key: withPrefix(op.key) },
        ),
      );
    },
    async *entries(range) {
      for await (const [k, v] of db.iterator({
        gte: withPrefix(range.gte),
        lt: withPrefix(range.lt),
      })) {
        yield [k.subarray(prefix.length), v];
      }
    },
  };
  if (typeof db.getSync === 'function') {
    const getSync = db.getSync.bind(db);
    store.getSync = (key) => view(getSync(withPrefix(key)));
  }
  if (typeof db.getMany === 'function') {
    const getMany = db.getMany.bind(db);
    store.getMany = async (keys) => (await getMany(keys.map(withPrefix))).map(view);
  }
  return store;
}
