/**
 * Binary Merkle-PATRICIA state trie (docs/PROTOCOL.md 3: hashing in 3.1,
 * proofs in 3.2, storage layout in 3.5).
 *
 * Fully path-compressed (a crit-bit tree): every internal node has two
 * non-empty children and names its split bit, the first bit where the keys
 * below it part. There are no one-child chain nodes, so keys sharing a long
 * prefix (the ledger's `sha256(owner) ‖ outpoint`) cost about log2(N) levels,
 * not one level per shared bit. The tree is a function of the set of entries
 * alone. The working tree lives in memory
 * as mutable nodes with cached hashes; `commit(version)` writes the nodes that
 * changed to a {@link KVStore} in one atomic batch, content-addressed by hash,
 * and records which nodes the new version made stale, so that versions older
 * than `keepVersions` can be pruned without reference counting.
 */
import {
  bitAt,
  bytesKey,
  compareBytes,
  copyBytes,
  equalBytes,
  firstDiffBit,
  readU64be,
  u64be,
} from './bytes.js';
import { MerkleError } from './errors.js';
import { type HashFn, sha256Noble, ZERO_HASH } from './hash.js';
import { HashMap } from './hash-map.js';
import { type BatchOp, createMemoryStore, type KVStore } from './store.js';
import type { TrieEntry, TrieProof, TrieProofLevel } from './trie-proof.js';
import {
  TRIE_RANGE_PROOF_MAX_ITEMS,
  type TrieRangeItem,
  type TrieRangeProof,
} from './trie-range-proof.js';
import { rangeExpands } from './trie-range-rule.js';

/** Options of {@link createStateTrie}. */
export interface StateTrieOpts {
  /** Fixed key length in bytes (1..255). Every key of the trie has exactly this length. */
  keyBytes: number;
  /** Where committed nodes live; defaults to a fresh in-memory store. */
  store: KVStore;
  /** SHA-256 implementation (the node injects node:crypto's). */
  hash: HashFn;
  /** How many most recent committed versions stay readable; older ones are pruned at commit. */
  keepVersions: number;
  /**
   * Depth below which committed nodes are dropped from memory after each
   * commit (reloaded from the store on demand). `Infinity` keeps the whole
   * tree resident, which is fastest; a node with millions of entries bounds
   * memory with, say, 16.
   */
  maxCachedDepth: number;
  /**
   * Decoded nodes kept (least recently used out) for reads at a committed
   * root (`at`), which otherwise go to the store for every node of every
   * path. Nodes are content-addressed, so a cached one is never stale.
   */
  readCacheNodes: number;
  /**
   * Write to the store at every this many commits, not at each (docs/PROTOCOL.md
   * 3.5). Between flushes a commit hashes the tree and keeps its new nodes
   * in memory, readable and provable like stored ones; a flush writes only
   * the nodes live at its version, so nodes created and superseded between
   * two flushes never reach the store (they stay in memory while a kept
   * version needs them). A crash loses the versions after the last flush:
   * the store opens at that version, and the caller redoes the rest. 1 (the
   * default) writes every commit, as before; `Infinity` writes only at
   * {@link StateTrie.flush} (a caller that orders the flush after its own
   * records, as the node's chain does).
   */
  flushEvery: number;
  /**
   * Bounds the memory of deferred commits: with a finite `flushEvery`, a
   * commit flushes early once this many nodes are only in memory; and a
   * flush that would leave more than this many in memory (nodes superseded
   * before being written, still read by kept versions) writes those too.
   * With `flushEvery` `Infinity` the owner decides when to flush.
   */
  maxUnflushedNodes: number;
  /**
   * Open at this committed version instead of the latest, discarding the
   * records of later versions (crash recovery: the caller's own commit of that
   * version did not land).
   */
  atVersion?: number;
}

/** Defaults of {@link StateTrieOpts} (`keyBytes` has none). */
export const defaultStateTrieOpts: Omit<StateTrieOpts, 'keyBytes' | 'store'> = {
  hash: sha256Noble,
  keepVersions: 128,
  maxCachedDepth: Number.POSITIVE_INFINITY,
  readCacheNodes: 65_536,
  flushEvery: 1,
  maxUnflushedNodes: Number.POSITIVE_INFINITY,
};

/** One operation of a batched {@link StateTrie.apply}. */
export type TrieOp =
  | { type: 'put'; key: Uint8Array; value: Uint8Array }
  | { type: 'del'; key: Uint8Array };

/** Entries under a prefix with the proof that they are all of them. */
export interface PrefixProof {
  entries: TrieEntry[];
  proof: TrieProof;
}

/** Options of a prefix query. */
export interface ProvePrefixOpts {
  /** Refuse (throw `OUT_OF_RANGE`) rather than collect more entries than this. */
  maxEntries: number;
}

/** Options of a range query ({@link TrieReader.proveRange}). */
export interface ProveRangeOpts {
  /**
   * Refuse (throw `OUT_OF_RANGE`) rather than collect more entries than this;
   * unbounded by default, as for {@link ProvePrefixOpts}. A proof is also
   * refused once it would exceed `TRIE_RANGE_PROOF_MAX_ITEMS` items.
   */
  maxEntries: number;
}

/** Entries in a key range with the proof that they are all of them. */
export interface RangeProof {
  /** The entries with `lo <= key <= hi`, sorted by key. */
  entries: TrieEntry[];
  /** Verified by `verifyTrieRange(root, lo, hi, entries, proof)`. */
  proof: TrieRangeProof;
}

/** Reads and proofs against one root. */
export interface TrieReader {
  readonly keyBytes: number;
  /** The root these reads answer for. */
  root(): Uint8Array;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Inclusion proof if the key is present, else exclusion proof. */
  prove(key: Uint8Array): Promise<TrieProof>;
  /** Every entry whose key starts with `prefix`, sorted by key, and the completeness proof. */
  provePrefix(prefix: Uint8Array, opts?: Partial<ProvePrefixOpts>): Promise<PrefixProof>;
  /**
   * Every entry with `lo <= key <= hi` (byte-wise; both full keys), sorted,
   * and the proof that they are all of them (docs/PROTOCOL.md 3.2, range
   * completeness): about the entries plus two boundary paths, whatever else
   * shares their prefix. Throws `KEY_LENGTH` for a bound of the wrong length,
   * `BAD_ARGUMENT` for `lo > hi` or a bad `maxEntries`, and `OUT_OF_RANGE`
   * rather than collect more than `maxEntries` entries.
   */
  proveRange(lo: Uint8Array, hi: Uint8Array, opts?: Partial<ProveRangeOpts>): Promise<RangeProof>;
}

/** The mutable, versioned state trie. */
export interface StateTrie extends TrieReader {
  /** Last committed version, or null before the first commit. */
  readonly version: number | null;
  /**
   * Sets `key ↦ value`. The trie keeps the two arrays it is handed (copying
   * every key and value doubled the build's garbage-collection work at 1M
   * entries), so the caller must not modify them afterwards.
   */
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  /** Removes `key`; resolves to whether it was present. */
  del(key: Uint8Array): Promise<boolean>;
  /** Applies operations in order (a later op on the same key wins); keeps the arrays as `put` does. */
  apply(ops: readonly TrieOp[]): Promise<void>;
  /**
   * Commits the working tree as `version` (default: last + 1) and prunes old
   * versions; written to the store now, or at the next flush (`flushEvery`).
   */
  commit(version?: number): Promise<{ version: number; root: Uint8Array }>;
  /** Writes every version committed since the last flush (a no-op when none waits). */
  flush(): Promise<void>;
  /** The last version in the store (what a reopen after a crash gives), or null. */
  readonly flushedVersion: number | null;
  /**
   * Committed nodes only in memory: those the next flush writes, and those
   * superseded before any flush that a kept version still reads (never
   * written; dropped once their versions leave the window).
   */
  readonly unflushedNodes: number;
  /** Root of a committed version still in the window. Throws `PRUNED` or `UNKNOWN_ROOT`. */
  rootAt(version: number): Promise<Uint8Array>;
  /** Read-only view of a committed root (from the store; independent of later changes). */
  at(root: Uint8Array): TrieReader;
}

// --- in-memory nodes -------------------------------------------------------

interface Leaf {
  t: 0;
  key: Uint8Array;
  value: Uint8Array;
  hash: Uint8Array | null;
  /** This exact node is in the store (so changing it makes its hash stale). */
  stored: boolean;
}
interface Branch {
  t: 1;
  /** Split bit: the keys below agree on bits [0, bit); c[0] has bit = 0, c[1] bit = 1. */
  bit: number;
  c: [Node, Node];
  hash: Uint8Array | null;
  stored: boolean;
}
/** A committed node not loaded into memory. */
interface Ref {
  t: 2;
  hash: Uint8Array;
}
type Node = Leaf | Branch | Ref;
type Loaded = Leaf | Branch;

/** A slot holding a node: a branch's child, or the root when `parent` is null. */
interface Slot {
  parent: Branch | null;
  side: 0 | 1;
}

// --- store layout ----------------------------------------------------------

const K_NODE = 0x6e; // 'n' ‖ hash → u64be(createdVersion) ‖ node
const K_ROOT = 0x72; // 'r' ‖ u64be(version) → root
const K_STALE = 0x78; // 'x' ‖ u64be(version) → hashes (32 bytes each) unreachable from `version` on
const K_META = 0x6d; // 'm' → u64be(latest version)

const key1 = (tag: number, ...parts: Uint8Array[]) => {
  let n = 1;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  out[0] = tag;
  let off = 1;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};
const META_KEY = new Uint8Array([K_META]);

/**
 * Bump allocator for the byte arrays of one commit: one ArrayBuffer per 64 KiB
 * instead of one per array, which is most of the garbage-collection cost of a
 * large commit. The arrays live exactly as long as the store keeps them.
 */
function slab(): (n: number) => Uint8Array {
  const CHUNK = 1 << 16;
  let buf = new Uint8Array(CHUNK);
  let off = 0;
  return (n) => {
    if (n > CHUNK >>> 4) return new Uint8Array(n);
    if (off + n > CHUNK) {
      buf = new Uint8Array(CHUNK);
      off = 0;
    }
    off += n;
    return buf.subarray(off - n, off);
  };
}

function nodeKey(hash: Uint8Array, alloc: (n: number) => Uint8Array): Uint8Array {
  const k = alloc(33);
  k[0] = K_NODE;
  k.set(hash, 1);
  return k;
}

function encodeStored(
  n: Loaded,
  version: Uint8Array,
  alloc: (n: number) => Uint8Array,
): Uint8Array {
  if (n.t === 0) {
    const out = alloc(9 + n.key.length + n.value.length);
    out.set(version, 0);
    out[8] = 0x00;
    out.set(n.key, 9);
    out.set(n.value, 9 + n.key.length);
    return out;
  }
  const out = alloc(BRANCH_RECORD);
  out.set(version, 0);
  out[8] = 0x01;
  out[9] = n.bit >>> 8;
  out[10] = n.bit & 0xff;
  out.set(nodeHashOf(n.c[0]), 11);
  out.set(nodeHashOf(n.c[1]), 43);
  return out;
}

/** u64be(version) ‖ 0x01 ‖ u16be(bit) ‖ left ‖ right. */
const BRANCH_RECORD = 8 + 1 + 2 + 64;

function nodeHashOf(n: Node): Uint8Array {
  if (n.hash === null) throw new MerkleError('BAD_ARGUMENT', 'hash not computed');
  return n.hash;
}

function decodeStored(bytes: Uint8Array, hash: Uint8Array, keyBytes: number): Loaded {
  const bad = () => new MerkleError('CORRUPT_STORE', 'malformed trie node in store');
  if (bytes.length < 9) throw bad();
  if (bytes[8] === 0x00) {
    if (bytes.length < 9 + keyBytes) throw bad();
    return {
      t: 0,
      key: bytes.slice(9, 9 + keyBytes),
      value: bytes.slice(9 + keyBytes),
      hash,
      stored: true,
    };
  }
  if (bytes[8] !== 0x01 || bytes.length !== BRANCH_RECORD) throw bad();
  const bit = (bytes[9]! << 8) | bytes[10]!;
  if (bit >= keyBytes * 8) throw bad();
  const l: Ref = { t: 2, hash: bytes.slice(11, 43) };
  const r: Ref = { t: 2, hash: bytes.slice(43, 75) };
  return { t: 1, bit, c: [l, r], hash, stored: true };
}

// --- the trie --------------------------------------------------------------

/**
 * Opens (or creates) a state trie over `opts.store`, at its latest committed
 * version or at `opts.atVersion`.
 */
export async function createStateTrie(
  opts: Partial<StateTrieOpts> & Pick<StateTrieOpts, 'keyBytes'>,
): Promise<StateTrie> {
  const o: StateTrieOpts = {
    ...defaultStateTrieOpts,
    store: opts.store ?? createMemoryStore(),
    ...stripUndefined(opts),
    keyBytes: opts.keyBytes,
  };
  if (!Number.isInteger(o.keyBytes) || o.keyBytes < 1 || o.keyBytes > 255) {
    throw new MerkleError('BAD_ARGUMENT', 'keyBytes must be an integer in 1..255');
  }
  if (!Number.isInteger(o.keepVersions) || o.keepVersions < 1) {
    throw new MerkleError('BAD_ARGUMENT', 'keepVersions must be a positive integer');
  }
  if (!Number.isSafeInteger(o.readCacheNodes) || o.readCacheNodes < 0) {
    throw new MerkleError('BAD_ARGUMENT', 'readCacheNodes must be a non-negative integer');
  }
  if (
    !(Number.isSafeInteger(o.flushEvery) || o.flushEvery === Number.POSITIVE_INFINITY) ||
    o.flushEvery < 1
  ) {
    throw new MerkleError('BAD_ARGUMENT', 'flushEvery must be a positive integer or Infinity');
  }
  if (!(o.maxUnflushedNodes > 0)) {
    throw new MerkleError('BAD_ARGUMENT', 'maxUnflushedNodes must be positive');
  }
  const trie = new Trie(o);
  await trie.open(o.atVersion);
  return trie;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o))
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

class Trie implements StateTrie {
  readonly keyBytes: number;
  private readonly store: KVStore;
  private readonly hash: HashFn;
  private readonly opts: StateTrieOpts;
  private rootNode: Node | null = null;
  private committed: number | null = null;
  /** Hashes of stored nodes changed or removed since the last commit. */
  private removed: Uint8Array[] = [];
  private lock: Promise<unknown> = Promise.resolve();
  /** The last version in the store. */
  private flushed: number | null = null;
  // Deferred commits (`flushEvery` > 1): what the store does not hold yet.
  /** Records of committed nodes not in the store, by hash. */
  private readonly memNodes = new HashMap<Uint8Array>();
  /** Roots of the kept versions committed since the store's oldest. */
  private readonly memRoots = new Map<number, Uint8Array>();
  /** Memory-only nodes made stale at a version: dropped once it leaves the window. */
  private memStale: { version: number; hashes: Uint8Array[] }[] = [];
  /** Stored nodes made stale since the last flush: recorded stale at the flush's version. */
  private readonly diskStale = new HashMap<true>();

  constructor(opts: StateTrieOpts) {
    this.opts = opts;
    this.keyBytes = opts.keyBytes;
    this.store = opts.store;
    this.hash = opts.hash;
    this.leafBuf = new Uint8Array(1 + opts.keyBytes + 32);
  }

  get version(): number | null {
    return this.committed;
  }

  get flushedVersion(): number | null {
    return this.flushed;
  }

  get unflushedNodes(): number {
    return this.memNodes.size;
  }

  async open(atVersion: number | undefined): Promise<void> {
    const meta = await this.store.get(META_KEY);
    if (meta === undefined) {
      if (atVersion !== undefined) throw new MerkleError('UNKNOWN_ROOT', 'empty store');
      return;
    }
    const latest = readU64be(meta, 0);
    const version = atVersion ?? latest;
    if (version > latest) throw new MerkleError('UNKNOWN_ROOT', `no version ${version}`);
    const root = await this.rootAt(version);
    if (version < latest) {
      // Forget the versions after `version`: their stale records would otherwise
      // prune nodes that the versions written next still use.
      const ops: BatchOp[] = [{ type: 'put', key: META_KEY, value: u64be(version) }];
      for (const tag of [K_STALE, K_ROOT]) {
        for await (const [k] of this.store.entries({
          gte: key1(tag, u64be(version + 1)),
          lt: key1(tag + 1),
        })) {
          ops.push({ type: 'del', key: k });
        }
      }
      await this.store.batch(ops);
    }
    this.committed = version;
    this.flushed = version;
    this.rootNode = equalBytes(root, ZERO_HASH) ? null : { t: 2, hash: root };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }

  private checkKey(key: Uint8Array): void {
    if (!(key instanceof Uint8Array) || key.length !== this.keyBytes) {
      throw new MerkleError('KEY_LENGTH', `key must be ${this.keyBytes} bytes`);
    }
  }

  // Nodes handed to `at` readers, which never change them (the working tree
  // gets its own copies from `load`, since it rewrites nodes in place).
  private readonly shared = new Map<string, Loaded>();

  private async loadShared(ref: Ref): Promise<Loaded> {
    const k = bytesKey(ref.hash);
    const hit = this.shared.get(k);
    if (hit !== undefined) {
      this.shared.delete(k); // re-insert: Map order is the LRU order
      this.shared.set(k, hit);
      return hit;
    }
    const n = await this.load(ref);
    const max = this.opts.readCacheNodes;
    if (max > 0) {
      if (this.shared.size >= max) this.shared.delete(this.shared.keys().next().value!);
      this.shared.set(k, n);
    }
    return n;
  }

  private async load(ref: Ref): Promise<Loaded> {
    if (this.memNodes.size > 0) {
      const rec = this.memNodes.get(ref.hash);
      if (rec !== undefined) return decodeStored(rec, ref.hash, this.keyBytes);
    }
    const k = key1(K_NODE, ref.hash);
    const bytes =
      this.store.getSync !== undefined ? this.store.getSync(k) : await this.store.get(k);
    if (bytes === undefined) throw new MerkleError('MISSING_NODE', 'trie node not in store');
    return decodeStored(bytes, ref.hash, this.keyBytes);
  }

  /** Loads the Ref in `slot` and puts the loaded node in its place. */
  private async fill(slot: Slot): Promise<void> {
    const n = slot.parent ? slot.parent.c[slot.side] : this.rootNode;
    if (n?.t !== 2) return;
    const loaded = await this.load(n);
    if (slot.parent) slot.parent.c[slot.side] = loaded;
    else this.rootNode = loaded;
  }

  private dirty(n: Leaf | Branch): void {
    if (n.stored) {
      this.removed.push(n.hash!);
      n.stored = false;
    }
    n.hash = null;
  }

  /**
   * A node that moves to another parent keeps its hash but is rewritten at
   * the next commit (with that commit's version, so that pruning sees it as
   * live again), as a split or collapsed leaf always was. Its old record is
   * listed like a changed node's; the rewrite takes it off the stale list,
   * and a later change in the same commit no longer loses track of it.
   */
  private move(n: Leaf | Branch): void {
    if (n.stored) {
      this.removed.push(n.hash!);
      n.stored = false;
    }
  }

  // --- mutation: each try* either completes synchronously or names the one
  // unloaded node it needs; the async wrapper loads it and tries again.

  /**
   * Walks `key`'s crit-bit search path through the resident tree: the
   * branches passed and where it stopped (a leaf, a stub to load, or null
   * for the empty trie).
   */
  private descend(key: Uint8Array): { path: Branch[]; slot: Slot; n: Leaf | Ref | null } {
    const path: Branch[] = [];
    let parent: Branch | null = null;
    let side: 0 | 1 = 0;
    let n = this.rootNode;
    while (n !== null && n.t === 1) {
      path.push(n);
      parent = n;
      side = bitAt(key, n.bit);
      n = n.c[side];
    }
    return { path, slot: { parent, side }, n: n as Leaf | Ref | null };
  }

  private tryPut(key: Uint8Array, value: Uint8Array): Slot | null {
    const { path, slot, n } = this.descend(key);
    if (n !== null && n.t === 2) return slot;
    if (n === null) {
      this.rootNode = { t: 0, key, value, hash: null, stored: false };
      return null;
    }
    if (equalBytes(n.key, key)) {
      if (equalBytes(n.value, value)) return null;
      this.dirty(n);
      n.value = value;
      for (const b of path) this.dirty(b);
      return null;
    }
    // The search ended at the leaf closest to `key`: the new key parts from
    // every key of the trie first at `d`. Its new branch goes above the first
    // node on the path that splits below `d` (no node splits at `d` itself:
    // the leaf reached would then agree with `key` on bit d).
    const d = firstDiffBit(n.key, key);
    let i = 0;
    while (i < path.length && path[i]!.bit < d) i++;
    const moved: Loaded = i < path.length ? path[i]! : n;
    this.move(moved);
    const fresh: Leaf = { t: 0, key, value, hash: null, stored: false };
    const side = bitAt(key, d);
    const fork: Branch = {
      t: 1,
      bit: d,
      c: side === 0 ? [fresh, moved] : [moved, fresh],
      hash: null,
      stored: false,
    };
    for (let j = 0; j < i; j++) this.dirty(path[j]!);
    if (i === 0) this.rootNode = fork;
    else path[i - 1]!.c[bitAt(key, path[i - 1]!.bit)] = fork;
    return null;
  }

  private tryDel(key: Uint8Array): Slot | boolean {
    const { path, slot, n } = this.descend(key);
    if (n !== null && n.t === 2) return slot;
    if (n === null || !equalBytes(n.key, key)) return false;
    const parent = path[path.length - 1];
    if (parent === undefined) {
      this.dirty(n);
      this.rootNode = null; // the one entry is gone
      return true;
    }
    // The parent branch is replaced by the leaf's sibling, which moves up.
    const sibSide = flip(bitAt(key, parent.bit));
    const sib = parent.c[sibSide];
    if (sib.t === 2) return { parent, side: sibSide };
    this.dirty(n);
    if (parent.stored) this.removed.push(parent.hash!);
    parent.stored = false;
    this.move(sib);
    const k = path.length - 1;
    for (let j = 0; j < k; j++) this.dirty(path[j]!);
    if (k === 0) this.rootNode = sib;
    else path[k - 1]!.c[bitAt(key, path[k - 1]!.bit)] = sib;
    return true;
  }

  private checkValue(value: Uint8Array): void {
    if (!(value instanceof Uint8Array))
      throw new MerkleError('BAD_ARGUMENT', 'value must be bytes');
  }

  // The loops below stay synchronous unless a node must come from the store:
  // a bulk apply over a resident tree costs no promise per operation.
  private async putInner(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.checkKey(key);
    this.checkValue(value);
    for (let miss = this.tryPut(key, value); miss; miss = this.tryPut(key, value)) {
      await this.fill(miss);
    }
  }

  private async delInner(key: Uint8Array): Promise<boolean> {
    this.checkKey(key);
    for (let r = this.tryDel(key); ; r = this.tryDel(key)) {
      if (typeof r === 'boolean') return r;
      await this.fill(r);
    }
  }

  put(key: Uint8Array, value: Uint8Array): Promise<void> {
    return this.serial(() => this.putInner(key, value));
  }

  del(key: Uint8Array): Promise<boolean> {
    return this.serial(() => this.delInner(key));
  }

  apply(ops: readonly TrieOp[]): Promise<void> {
    return this.serial(async () => {
      for (const op of ops) {
        this.checkKey(op.key);
        if (op.type === 'put') {
          this.checkValue(op.value);
          for (
            let miss = this.tryPut(op.key, op.value);
            miss;
            miss = this.tryPut(op.key, op.value)
          ) {
            await this.fill(miss);
          }
        } else if (op.type === 'del') {
          for (let r = this.tryDel(op.key); typeof r !== 'boolean'; r = this.tryDel(op.key)) {
            await this.fill(r);
          }
        } else {
          throw new MerkleError('BAD_ARGUMENT', 'unknown op type');
        }
      }
    });
  }

  // --- hashing and commit ----------------------------------------------------

  // Scratch preimages: hashing a tree allocates only the digests. (A HashFn
  // must not keep its input, which neither @noble/hashes nor node:crypto do.)
  private readonly leafBuf: Uint8Array;
  private readonly nodeBuf = new Uint8Array(67);

  private hashOf(n: Node | null): Uint8Array {
    if (n === null) return ZERO_HASH;
    if (n.hash !== null) return n.hash;
    if (n.t === 2) return n.hash;
    if (n.t === 0) {
      const kb = this.keyBytes;
      const buf = this.leafBuf; // leafBuf[0] stays 0x00
      buf.set(n.key, 1);
      buf.set(this.hash(n.value), 1 + kb);
      return (n.hash = this.hash(buf));
    }
    const l = this.hashOf(n.c[0]);
    const r = this.hashOf(n.c[1]);
    const buf = this.nodeBuf;
    buf[0] = 0x01;
    buf[1] = n.bit >>> 8;
    buf[2] = n.bit & 0xff;
    buf.set(l, 3);
    buf.set(r, 35);
    return (n.hash = this.hash(buf));
  }

  root(): Uint8Array {
    return this.hashOf(this.rootNode);
  }

  commit(version?: number): Promise<{ version: number; root: Uint8Array }> {
    return this.serial(() => this.commitInner(version));
  }

  private async commitInner(version?: number): Promise<{ version: number; root: Uint8Array }> {
    const v = version ?? (this.committed === null ? 0 : this.committed + 1);
    if (!Number.isSafeInteger(v) || v < 0 || (this.committed !== null && v <= this.committed)) {
      throw new MerkleError('BAD_ARGUMENT', `version ${v} must exceed ${this.committed}`);
    }
    if (this.opts.flushEvery > 1) return this.commitDeferred(v);
    const root = this.root();
    const ops: BatchOp[] = [];
    const fresh: Loaded[] = [];
    const alloc = slab();
    const vb = u64be(v);
    const walk = (n: Node | null) => {
      if (n === null || n.t === 2 || n.stored) return;
      if (n.t === 1) {
        walk(n.c[0]);
        walk(n.c[1]);
      }
      ops.push({ type: 'put', key: nodeKey(n.hash!, alloc), value: encodeStored(n, vb, alloc) });
      fresh.push(n);
    };
    walk(this.rootNode);
    // Built only when something may need it: a bulk load has nothing stale.
    let writtenSet: HashMap<true> | null = null;
    const written = {
      has: (h: Uint8Array) => {
        if (writtenSet === null) {
          writtenSet = new HashMap<true>(fresh.length * 2);
          for (const n of fresh) writtenSet.set(n.hash!, true);
        }
        return writtenSet.has(h);
      },
    };

    // Nodes stale from `v` on: changed or removed now and not written again.
    const cutoff = v - this.opts.keepVersions + 1; // versions >= cutoff stay readable
    const stale = new Map<string, Uint8Array>();
    for (const h of this.removed) {
      if (!written.has(h) && !equalBytes(h, ZERO_HASH)) stale.set(bytesKey(h), h);
    }
    if (v <= cutoff) {
      for (const h of stale.values()) ops.push({ type: 'del', key: key1(K_NODE, h) });
    } else if (stale.size > 0) {
      // One record per version, not one per node: a block's commit stays
      // about half as many LevelDB writes.
      const list = new Uint8Array(32 * stale.size);
      let i = 0;
      for (const h of stale.values()) list.set(h, 32 * i++);
      ops.push({ type: 'put', key: key1(K_STALE, vb), value: list });
    }
    ops.push({ type: 'put', key: key1(K_ROOT, vb), value: root });
    ops.push({ type: 'put', key: META_KEY, value: vb });
    if (cutoff > 0) await this.planPrune(cutoff, written, ops);

    await this.store.batch(ops);
    for (const n of fresh) n.stored = true;
    this.removed = [];
    this.committed = v;
    this.flushed = v;
    if (Number.isFinite(this.opts.maxCachedDepth)) this.evict();
    return { version: v, root };
  }

  /**
   * A commit that keeps its new nodes in memory (`flushEvery` > 1): hashes,
   * records the version's root and what it made stale, prunes what left the
   * window from memory, and flushes when `flushEvery` versions (or
   * `maxUnflushedNodes` nodes) wait.
   */
  private async commitDeferred(v: number): Promise<{ version: number; root: Uint8Array }> {
    const root = this.root();
    const vb = u64be(v);
    const fresh: Loaded[] = [];
    const walk = (n: Node | null) => {
      if (n === null || n.t === 2 || n.stored) return;
      if (n.t === 1) {
        walk(n.c[0]);
        walk(n.c[1]);
      }
      fresh.push(n);
    };
    walk(this.rootNode);
    const alloc = slab();
    for (const n of fresh) this.memNodes.set(n.hash!, encodeStored(n, vb, alloc));
    const memOnly: Uint8Array[] = [];
    for (const h of this.removed) {
      if (equalBytes(h, ZERO_HASH)) continue;
      const rec = this.memNodes.get(h);
      // A record of this version: made again by this very commit (one map
      // lookup instead of a set of this commit's hashes: fewer map operations
      // on the hot path, docs/PERFORMANCE.md 9).
      if (rec !== undefined && readU64be(rec, 0) === v) continue;
      if (rec !== undefined) memOnly.push(h);
      // Stale in the store too, where it may also be: a stored node that
      // moved under a new parent got a memory record as well (found by the
      // budget property test: that copy was never pruned). Pruning skips a
      // listed hash the store lacks.
      this.diskStale.set(h, true);
    }
    if (memOnly.length > 0) this.memStale.push({ version: v, hashes: memOnly });
    for (const n of fresh) n.stored = true;
    this.removed = [];
    this.memRoots.set(v, copyBytes(root));
    this.committed = v;
    this.pruneMemory(v - this.opts.keepVersions + 1);
    const waiting = v - (this.flushed ?? -1);
    const overBudget =
      Number.isFinite(this.opts.flushEvery) && this.memNodes.size > this.opts.maxUnflushedNodes;
    if (waiting >= this.opts.flushEvery || overBudget) {
      await this.flushInner();
    }
    if (Number.isFinite(this.opts.maxCachedDepth)) this.evict();
    return { version: v, root };
  }

  /** Drops from memory the roots and the memory-only nodes no kept version needs. */
  private pruneMemory(cutoff: number): void {
    for (const ver of this.memRoots.keys()) if (ver < cutoff) this.memRoots.delete(ver);
    const kept: { version: number; hashes: Uint8Array[] }[] = [];
    for (const st of this.memStale) {
      if (st.version > cutoff) {
        kept.push(st);
        continue;
      }
      // Needed only by versions below st.version, all out of the window now;
      // unless made again since (content addressing), which a newer record shows.
      for (const h of st.hashes) {
        const rec = this.memNodes.get(h);
        if (rec !== undefined && readU64be(rec, 0) < st.version) this.memNodes.delete(h);
      }
    }
    this.memStale = kept;
  }

  flush(): Promise<void> {
    return this.serial(() => this.flushInner());
  }

  /**
   * Writes the latest committed version: the nodes live at it that the store
   * lacks (a stored node's subtree is stored too), its root, the stored nodes
   * made stale since the last flush (recorded stale at this version), and
   * the pruning of store versions that left the window. Nodes created and
   * superseded since the last flush are not written.
   */
  private async flushInner(): Promise<void> {
    const f = this.committed;
    if (f === null || f === this.flushed) return;
    const ops: BatchOp[] = [];
    const alloc = slab();
    const written = new HashMap<true>();
    const writtenList: Uint8Array[] = [];
    const write = (h: Uint8Array) => {
      if (written.has(h)) return;
      const rec = this.memNodes.get(h);
      if (rec === undefined) return; // in the store, and its subtree with it
      if (rec[8] === 0x01) {
        write(rec.subarray(11, 43));
        write(rec.subarray(43, 75));
      }
      written.set(h, true);
      writtenList.push(h);
      ops.push({ type: 'put', key: nodeKey(h, alloc), value: rec });
    };
    const root = this.memRoots.get(f) ?? this.root();
    if (!equalBytes(root, ZERO_HASH)) write(root);
    const cutoff = f - this.opts.keepVersions + 1;
    const fb = u64be(f);
    const stale: Uint8Array[] = [];
    this.diskStale.forEach((_, h) => {
      if (!written.has(h)) stale.push(copyBytes(h));
    });
    // Over the memory budget, the superseded nodes that kept versions still
    // read are written too (with their stale records), so that memory
    // holds nothing after this flush: the budget bounds memory, not only
    // the nodes waiting to be written.
    const spill = this.memNodes.size - writtenList.length > this.opts.maxUnflushedNodes;
    const spilled = spill ? await this.planSpill(f, alloc, written, writtenList, ops) : [];
    stale.push(...spilled);
    if (f <= cutoff) {
      for (const h of stale) ops.push({ type: 'del', key: key1(K_NODE, h) });
    } else if (stale.length > 0) {
      const list = new Uint8Array(32 * stale.length);
      for (let i = 0; i < stale.length; i++) list.set(stale[i]!, 32 * i);
      ops.push({ type: 'put', key: key1(K_STALE, fb), value: list });
    }
    ops.push({ type: 'put', key: key1(K_ROOT, fb), value: root });
    ops.push({ type: 'put', key: META_KEY, value: fb });
    if (cutoff > 0) await this.planPrune(cutoff, written, ops);
    await this.store.batch(ops);
    for (const h of writtenList) this.memNodes.delete(h);
    this.diskStale.clear();
    if (spill) this.memStale = [];
    this.flushed = f;
  }

  /**
   * Adds to `ops` every memory-only superseded node (each is stale at the
   * version that replaced it, read only by kept versions below it) and its
   * stale record, merged with a record already stored at that version.
   * Returns those stale at `f` itself, which the flush's own record lists.
   */
  private async planSpill(
    f: number,
    alloc: (n: number) => Uint8Array,
    written: HashMap<true>,
    writtenList: Uint8Array[],
    ops: BatchOp[],
  ): Promise<Uint8Array[]> {
    const atF: Uint8Array[] = [];
    for (const st of this.memStale) {
      const hashes: Uint8Array[] = [];
      for (const h of st.hashes) {
        const rec = this.memNodes.get(h);
        // Made again since (a newer record) or written already: not stale here.
        if (rec === undefined || written.has(h) || readU64be(rec, 0) >= st.version) continue;
        written.set(h, true);
        writtenList.push(h);
        ops.push({ type: 'put', key: nodeKey(h, alloc), value: rec });
        hashes.push(h);
      }
      if (hashes.length === 0) continue;
      if (st.version === f) {
        atF.push(...hashes);
        continue;
      }
      const key = key1(K_STALE, u64be(st.version));
      const prev = (await this.store.get(key)) ?? new Uint8Array(0);
      const list = new Uint8Array(prev.length + 32 * hashes.length);
      list.set(prev, 0);
      for (let i = 0; i < hashes.length; i++) list.set(hashes[i]!, prev.length + 32 * i);
      ops.push({ type: 'put', key, value: list });
    }
    return atF;
  }

  /** Adds to `ops` the deletions that drop every version below `cutoff`. */
  private async planPrune(
    cutoff: number,
    written: { has(h: Uint8Array): boolean },
    ops: BatchOp[],
  ): Promise<void> {
    // A node recorded stale at u is needed only by versions < u; it is deleted
    // once u <= cutoff, unless it was written again at or after u (content
    // addressing lets a node come back, e.g. a key deleted then re-inserted).
    for await (const [k, list] of this.store.entries({
      gte: key1(K_STALE),
      lt: key1(K_STALE, u64be(cutoff + 1)),
    })) {
      if (k.length !== 9 || list.length % 32 !== 0) {
        throw new MerkleError('CORRUPT_STORE', 'malformed stale-node record');
      }
      ops.push({ type: 'del', key: k });
      const u = readU64be(k, 1);
      const keys: Uint8Array[] = [];
      for (let at = 0; at < list.length; at += 32) {
        const h = list.subarray(at, at + 32);
        if (!written.has(h)) keys.push(key1(K_NODE, h));
      }
      // One round trip for the whole record (off this thread, where the
      // store can), not one dependent read per node.
      const recs =
        this.store.getMany !== undefined
          ? await this.store.getMany(keys)
          : await Promise.all(keys.map((nk) => this.store.get(nk)));
      for (let i = 0; i < keys.length; i++) {
        const rec = recs[i];
        if (rec !== undefined && readU64be(rec, 0) < u) ops.push({ type: 'del', key: keys[i]! });
      }
    }
    for await (const [k] of this.store.entries({
      gte: key1(K_ROOT),
      lt: key1(K_ROOT, u64be(cutoff)),
    })) {
      ops.push({ type: 'del', key: k });
    }
  }

  /** Drops committed nodes deeper than `maxCachedDepth` from memory. */
  private evict(): void {
    const max = this.opts.maxCachedDepth;
    const visit = (b: Branch, depth: number) => {
      for (const s of [0, 1] as const) {
        const c = b.c[s];
        if (c.t === 2) continue;
        if (depth + 1 >= max && c.stored) b.c[s] = { t: 2, hash: c.hash! };
        else if (c.t === 1) visit(c, depth + 1);
      }
    };
    const r = this.rootNode;
    if (r === null || r.t === 2) return;
    if (max <= 0 && r.stored) this.rootNode = { t: 2, hash: r.hash! };
    else if (r.t === 1) visit(r, 0);
  }

  async rootAt(version: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new MerkleError('BAD_ARGUMENT', 'version must be a non-negative integer');
    }
    const m = this.memRoots.get(version);
    if (m !== undefined) return copyBytes(m);
    const r = await this.store.get(key1(K_ROOT, u64be(version)));
    if (r !== undefined) return copyBytes(r);
    if (this.committed !== null && version < this.committed - this.opts.keepVersions + 1) {
      throw new MerkleError('PRUNED', `version ${version} is older than the kept window`);
    }
    throw new MerkleError('UNKNOWN_ROOT', `no committed version ${version}`);
  }

  // --- reads -----------------------------------------------------------------

  /** Child of a working-tree branch, loading (and caching) it if needed. */
  private readonly workingChild = async (b: Branch, side: 0 | 1): Promise<Loaded | null> => {
    const c = b.c[side];
    if (c === null || c.t !== 2) return c;
    const loaded = await this.load(c);
    if (b.c[side] === c) b.c[side] = loaded;
    return loaded;
  };

  private async workingRoot(): Promise<Loaded | null> {
    const r = this.rootNode;
    if (r === null || r.t !== 2) return r;
    const loaded = await this.load(r);
    if (this.rootNode === r) this.rootNode = loaded;
    return loaded;
  }

  // No eager `root()` here: a read between writes (the ledger reads each
  // input while applying a block) would rehash every dirty path each time,
  // quadratic in the block. Proofs hash just the siblings they need, lazily.
  private reader(): Reader {
    return {
      keyBytes: this.keyBytes,
      hash: this.hash,
      rootNode: () => this.workingRoot(),
      child: this.workingChild,
      hashOf: (n) => this.hashOf(n),
    };
  }

  // Reads wait behind pending writes, so they never see half an operation.
  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.serial(async () => {
      this.checkKey(key);
      return readGet(this.reader(), key);
    });
  }

  prove(key: Uint8Array): Promise<TrieProof> {
    return this.serial(async () => {
      this.checkKey(key);
      return readProve(this.reader(), key);
    });
  }

  provePrefix(prefix: Uint8Array, opts: Partial<ProvePrefixOpts> = {}): Promise<PrefixProof> {
    return this.serial(async () => {
      checkPrefix(prefix, this.keyBytes);
      return readPrefix(this.reader(), prefix, opts);
    });
  }

  proveRange(
    lo: Uint8Array,
    hi: Uint8Array,
    opts: Partial<ProveRangeOpts> = {},
  ): Promise<RangeProof> {
    return this.serial(async () => {
      checkRange(lo, hi, opts, this.keyBytes);
      return readRange(this.reader(), lo, hi, opts);
    });
  }

  at(root: Uint8Array): TrieReader {
    if (!(root instanceof Uint8Array) || root.length !== 32) {
      throw new MerkleError('BAD_ARGUMENT', 'root must be 32 bytes');
    }
    const r = copyBytes(root);
    const load = (n: Node | null): Promise<Loaded | null> | Loaded | null =>
      n === null || n.t !== 2 ? n : this.loadShared(n);
    const reader: Reader = {
      keyBytes: this.keyBytes,
      hash: this.hash,
      rootNode: async () => (equalBytes(r, ZERO_HASH) ? null : load({ t: 2, hash: r })),
      child: async (b, side) => load(b.c[side]),
      hashOf: (n) => (n === null ? ZERO_HASH : n.hash!),
    };
    return {
      keyBytes: this.keyBytes,
      root: () => copyBytes(r),
      get: async (key) => {
        this.checkKey(key);
        return readGet(reader, key);
      },
      prove: async (key) => {
        this.checkKey(key);
        return readProve(reader, key);
      },
      provePrefix: async (prefix, opts = {}) => {
        checkPrefix(prefix, this.keyBytes);
        return readPrefix(reader, prefix, opts);
      },
      proveRange: async (lo, hi, opts = {}) => {
        checkRange(lo, hi, opts, this.keyBytes);
        return readRange(reader, lo, hi, opts);
      },
    };
  }
}

const flip = (side: 0 | 1): 0 | 1 => (side ^ 1) as 0 | 1;

function checkPrefix(prefix: Uint8Array, keyBytes: number): void {
  if (!(prefix instanceof Uint8Array) || prefix.length > keyBytes) {
    throw new MerkleError('KEY_LENGTH', `prefix must be at most ${keyBytes} bytes`);
  }
}

function checkRange(
  lo: Uint8Array,
  hi: Uint8Array,
  opts: Partial<ProveRangeOpts>,
  keyBytes: number,
): void {
  for (const b of [lo, hi]) {
    if (!(b instanceof Uint8Array) || b.length !== keyBytes) {
      throw new MerkleError('KEY_LENGTH', `range bounds must be ${keyBytes}-byte keys`);
    }
  }
  if (compareBytes(lo, hi) > 0) throw new MerkleError('BAD_ARGUMENT', 'range with lo > hi');
  const max = opts.maxEntries;
  if (max !== undefined && !(max >= 0 && (Number.isInteger(max) || max === Infinity))) {
    throw new MerkleError('BAD_ARGUMENT', 'maxEntries must be a non-negative integer');
  }
}

/** What the read algorithms need from a tree: the working one, or a stored root. */
interface Reader {
  keyBytes: number;
  hash: HashFn;
  rootNode(): Promise<Loaded | null>;
  child(b: Branch, side: 0 | 1): Promise<Loaded | null>;
  hashOf(n: Node | null): Uint8Array;
}

async function readGet(r: Reader, key: Uint8Array): Promise<Uint8Array | undefined> {
  let n = await r.rootNode();
  while (n !== null && n.t === 1) n = await r.child(n, bitAt(key, n.bit));
  return n !== null && equalBytes(n.key, key) ? copyBytes(n.value) : undefined;
}

async function readProve(r: Reader, key: Uint8Array): Promise<TrieProof> {
  const levels: TrieProofLevel[] = [];
  let n = await r.rootNode();
  while (n !== null && n.t === 1) {
    const side = bitAt(key, n.bit);
    levels.push({ bit: n.bit, sibling: r.hashOf(n.c[flip(side)]) });
    n = await r.child(n, side);
  }
  const keyBytes = r.keyBytes;
  if (n === null) return { terminal: 'empty', keyBytes, levels };
  if (equalBytes(n.key, key)) return { terminal: 'leaf', keyBytes, levels };
  return {
    terminal: 'other',
    keyBytes,
    levels,
    otherKey: copyBytes(n.key),
    otherValueHash: r.hash(n.value),
  };
}

async function readPrefix(
  r: Reader,
  prefix: Uint8Array,
  opts: Partial<ProvePrefixOpts>,
): Promise<PrefixProof> {
  const max = opts.maxEntries ?? Number.POSITIVE_INFINITY;
  const bits = prefix.length * 8;
  const keyBytes = r.keyBytes;
  const levels: TrieProofLevel[] = [];
  // Follow the prefix through the splits above its end.
  let n = await r.rootNode();
  while (n !== null && n.t === 1 && n.bit < bits) {
    const side = bitAt(prefix, n.bit);
    levels.push({ bit: n.bit, sibling: r.hashOf(n.c[flip(side)]) });
    n = await r.child(n, side);
  }
  if (n === null) return { entries: [], proof: { terminal: 'empty', keyBytes, levels } };
  const other = async (leaf: Leaf): Promise<PrefixProof> => ({
    entries: [],
    proof: {
      terminal: 'other',
      keyBytes,
      levels,
      otherKey: copyBytes(leaf.key),
      otherValueHash: r.hash(leaf.value),
    },
  });
  const hasPrefix = (k: Uint8Array) => compareBytes(k.subarray(0, prefix.length), prefix) === 0;
  if (n.t === 0) {
    if (!hasPrefix(n.key)) return other(n);
    return {
      entries: [{ key: copyBytes(n.key), value: copyBytes(n.value) }],
      proof: { terminal: 'leaf', keyBytes, levels },
    };
  }
  // A branch splitting at or below the prefix's end: its keys all share the
  // first `bits` bits, so either all of them start with the prefix or none.
  // Its leftmost leaf decides, and is the witness when none does.
  const top = n;
  const above = levels.length;
  let probe: Loaded = n;
  while (probe.t === 1) {
    levels.push({ bit: probe.bit, sibling: r.hashOf(probe.c[1]) });
    probe = (await r.child(probe, 0))!;
  }
  if (!hasPrefix(probe.key)) return other(probe);
  levels.length = above;
  const entries: TrieEntry[] = [];
  const collect = async (b: Loaded): Promise<void> => {
    if (b.t === 0) {
      if (entries.length >= max) {
        throw new MerkleError('OUT_OF_RANGE', `more than ${max} entries under the prefix`);
      }
      entries.push({ key: copyBytes(b.key), value: copyBytes(b.value) });
      return;
    }
    await collect((await r.child(b, 0))!);
    await collect((await r.child(b, 1))!);
  };
  await collect(top);
  return { entries, proof: { terminal: 'subtree', keyBytes, levels } };
}

/**
 * The trie pruned to `[lo, hi]`, pre-order (docs/PROTOCOL.md 3.2): an
 * internal node's children are expanded or hashed by the interval rule
 * (`rangeExpands`, the verifier's own), computed from a key below the node.
 * That key is the node's leftmost leaf, found by walking down left children;
 * a left child inherits it from its parent, so only right children walk.
 */
async function readRange(
  r: Reader,
  lo: Uint8Array,
  hi: Uint8Array,
  opts: Partial<ProveRangeOpts>,
): Promise<RangeProof> {
  const max = opts.maxEntries ?? Number.POSITIVE_INFINITY;
  const keyBytes = r.keyBytes;
  const items: TrieRangeItem[] = [];
  const entries: TrieEntry[] = [];
  const proof: TrieRangeProof = { version: 2, keyBytes, items };
  const root = await r.rootNode();
  if (root === null) {
    items.push({ kind: 'empty' });
    return { entries, proof };
  }
  const push = (it: TrieRangeItem) => {
    if (items.length >= TRIE_RANGE_PROOF_MAX_ITEMS) {
      throw new MerkleError('OUT_OF_RANGE', `range proof over ${TRIE_RANGE_PROOF_MAX_ITEMS} items`);
    }
    items.push(it);
  };
  const leftmost = async (n: Loaded): Promise<Uint8Array> => {
    while (n.t === 1) n = (await r.child(n, 0))!;
    return n.key;
  };
  const visit = async (n: Loaded, known: Uint8Array | null): Promise<void> => {
    if (n.t === 0) {
      if (compareBytes(lo, n.key) > 0 || compareBytes(n.key, hi) > 0) {
        push({ kind: 'other', key: copyBytes(n.key), valueHash: r.hash(n.value) });
        return;
      }
      if (entries.length >= max) {
        throw new MerkleError('OUT_OF_RANGE', `more than ${max} entries in the range`);
      }
      push({ kind: 'leaf' });
      entries.push({ key: copyBytes(n.key), value: copyBytes(n.value) });
      return;
    }
    const k = known ?? (await leftmost(n));
    const expand = rangeExpands(k, n.bit, lo, hi);
    push({ kind: 'node', bit: n.bit });
    for (const side of [0, 1] as const) {
      if (expand[side]) await visit((await r.child(n, side))!, side === 0 ? k : null);
      else push({ kind: 'hash', hash: r.hashOf(n.c[side]) });
    }
  };
  await visit(root, null);
  return { entries, proof };
}
