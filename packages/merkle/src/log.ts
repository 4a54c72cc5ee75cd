/**
 * The append-only history log: a Merkle tree over transaction receipts in
 * order, hashed exactly as RFC 9162 section 2.1 (= RFC 6962 section 2.1):
 *
 * - leaf `H(0x00 ‖ data)`, internal node `H(0x01 ‖ left ‖ right)`;
 * - `MTH(D[n])` splits at `k`, the largest power of two smaller than `n`;
 * - the empty tree's root is `H("")` (RFC 9162 2.1.1).
 *
 * Storage: every perfect, aligned subtree (2^level leaves starting at a
 * multiple of 2^level) is final the moment its last leaf is appended, so its
 * hash is written once and never changes. Any `MTH(D[a:b])` the RFC asks for
 * splits into O(log n) of them, which is what keeps appends, roots and proofs
 * at O(log n) store operations whatever the size.
 */
import { copyBytes, readU64be, u64be } from './bytes.js';
import { MerkleError } from './errors.js';
import { type HashFn, sha256Noble } from './hash.js';
import {
  emptyRoot,
  type LogConsistencyProof,
  type LogInclusionProof,
  leafHash,
  nodeHash,
} from './log-proof.js';
import { type BatchOp, createMemoryStore, type KVStore } from './store.js';

// The hashing primitives live with the verifiers (which must not depend on a
// store); they are re-exported here because they define this log.
export { emptyRoot, leafHash, nodeHash } from './log-proof.js';

/**
 * The largest power of two `k ≤ n` (`n` ≥ 1) and its exponent. Sizes go up to
 * 2^53 - 1, past JS's 32-bit bit operators, hence doubling (exact for safe integers).
 */
function floorPow2(n: number): [k: number, level: number] {
  let k = 1;
  let level = 0;
  while (k * 2 <= n) {
    k *= 2;
    level++;
  }
  return [k, level];
}

// ---------------------------------------------------------------------------
// The log
// ---------------------------------------------------------------------------

/** Options of {@link createHistoryLog}. */
export interface HistoryLogOpts {
  /**
   * Where subtree hashes and the size live; defaults to a fresh in-memory
   * store. Reopening the same (e.g. classic-level) store resumes the log.
   */
  store: KVStore;
  /** SHA-256 implementation (the node injects node:crypto's). */
  hash: HashFn;
  /**
   * Open truncated to this size (at most the stored size), forgetting later
   * appends: crash recovery when the log's append landed but the caller's
   * own commit of that block did not. Hashes past the new size are simply
   * overwritten as the log grows again: nothing reads a subtree beyond the size.
   */
  atSize?: number;
}

/** Defaults of {@link HistoryLogOpts} (`store` defaults to a fresh `createMemoryStore()` per log). */
export const defaultHistoryLogOpts: Omit<HistoryLogOpts, 'store'> = {
  hash: sha256Noble,
};

/**
 * An append-only RFC 9162 log. Appends are serialized and each lands as one
 * atomic store batch; reads see the last completed append (`size`) and any
 * earlier size. Every byte array returned is a fresh copy.
 */
export interface HistoryLog {
  /** Number of leaves after the last completed append. */
  readonly size: number;
  /** Appends one leaf (its data, hashed as `H(0x00 ‖ data)`); resolves to the new size. */
  append(data: Uint8Array): Promise<number>;
  /** Appends leaves in order, in one atomic batch; resolves to the new size. */
  appendMany(datas: readonly Uint8Array[]): Promise<number>;
  /** Appends already computed leaf hashes (32 bytes each), in one atomic batch; resolves to the new size. */
  appendLeafHashes(hashes: readonly Uint8Array[]): Promise<number>;
  /** `MTH(D[0:size])` for any `size` in `0..this.size` (default: the current size). */
  root(size?: number): Promise<Uint8Array>;
  /** Leaf hash at `index` (< size). */
  leafHash(index: number): Promise<Uint8Array>;
  /** RFC 9162 2.1.3.1 `PATH(index, D[0:size])`; `size` defaults to the current size. */
  inclusionProof(index: number, size?: number): Promise<LogInclusionProof>;
  /**
   * RFC 9162 2.1.4.1 `PROOF(fromSize, D[0:toSize])`; `toSize` defaults to the
   * current size. The path is empty when `fromSize` is 0 or equals `toSize`.
   */
  consistencyProof(fromSize: number, toSize?: number): Promise<LogConsistencyProof>;
}

/**
 * Opens (or creates) a history log over `opts.store`, resuming at the size the
 * store records. Throws `MerkleError('CORRUPT_STORE')` if the store's records
 * are inconsistent.
 */
export async function createHistoryLog(opts: Partial<HistoryLogOpts> = {}): Promise<HistoryLog> {
  const store = opts.store ?? createMemoryStore();
  const hash = opts.hash ?? defaultHistoryLogOpts.hash;
  if (typeof hash !== 'function') throw new MerkleError('BAD_ARGUMENT', 'hash must be a function');
  const log = new Log(store, hash);
  await log.open(opts.atSize);
  return log;
}

const NODE_PREFIX = 0x68; // 'h'
const SIZE_KEY = Uint8Array.of(0x73); // 's'

/** Store key of the perfect subtree of `2^level` leaves starting at leaf `index · 2^level`. */
function nodeKey(level: number, index: number): Uint8Array {
  const key = new Uint8Array(10);
  key[0] = NODE_PREFIX;
  key[1] = level;
  key.set(u64be(index), 2);
  return key;
}

function checkInt(name: string, v: unknown): asserts v is number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
    throw new MerkleError('BAD_ARGUMENT', `${name} must be a safe integer`);
  }
  if (v < 0) throw new MerkleError('OUT_OF_RANGE', `${name} must not be negative`);
}

class Log implements HistoryLog {
  private readonly store: KVStore;
  private readonly hash: HashFn;
  private n = 0;
  /**
   * The right edge of the tree at size `n`: `frontier[level]` is the perfect
   * subtree of that level when bit `level` of `n` is set (RFC 9162 2.1.1's
   * split makes `MTH(D[n])` exactly these, folded from the right). Kept in
   * memory so that an append needs no reads.
   */
  private frontier: (Uint8Array | undefined)[] = [];
  /** Tail of the append chain: appends run one after another, never interleaved. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(store: KVStore, hash: HashFn) {
    this.store = store;
    this.hash = hash;
  }

  get size(): number {
    return this.n;
  }

  async open(atSize?: number): Promise<void> {
    const raw = await this.store.get(SIZE_KEY);
    let n = 0;
    if (raw !== undefined) {
      if (raw.length !== 8) {
        throw new MerkleError('CORRUPT_STORE', 'log size record is not 8 bytes');
      }
      try {
        n = readU64be(raw, 0);
      } catch {
        throw new MerkleError('CORRUPT_STORE', 'log size above 2^53');
      }
    }
    if (atSize !== undefined) {
      checkInt('atSize', atSize);
      if (atSize > n) throw new MerkleError('OUT_OF_RANGE', `atSize ${atSize} exceeds size ${n}`);
      if (atSize < n)
        await this.store.batch([{ type: 'put', key: SIZE_KEY, value: u64be(atSize) }]);
      n = atSize;
    }
    const frontier: (Uint8Array | undefined)[] = [];
    let start = 0;
    for (let level = n === 0 ? -1 : floorPow2(n)[1]; level >= 0; level--) {
      const width = 2 ** level;
      if (Math.floor(n / width) % 2 === 0) continue;
      const h = await this.store.get(nodeKey(level, start / width));
      if (h === undefined || h.length !== 32) {
        throw new MerkleError('CORRUPT_STORE', `log subtree ${level}/${start / width} missing`);
      }
      frontier[level] = h;
      start += width;
    }
    this.n = n;
    this.frontier = frontier;
  }

  async append(data: Uint8Array): Promise<number> {
    if (!(data instanceof Uint8Array)) {
      throw new MerkleError('BAD_ARGUMENT', 'leaf data must be bytes');
    }
    // Hash now: the caller may reuse `data` before the queued append runs.
    const h = leafHash(data, { hash: this.hash });
    return this.enqueue([h]);
  }

  async appendMany(datas: readonly Uint8Array[]): Promise<number> {
    if (!Array.isArray(datas)) throw new MerkleError('BAD_ARGUMENT', 'expected an array of leaves');
    const hashes = datas.map((d) => {
      if (!(d instanceof Uint8Array)) {
        throw new MerkleError('BAD_ARGUMENT', 'leaf data must be bytes');
      }
      return leafHash(d, { hash: this.hash });
    });
    return this.enqueue(hashes);
  }

  async appendLeafHashes(hashes: readonly Uint8Array[]): Promise<number> {
    if (!Array.isArray(hashes)) {
      throw new MerkleError('BAD_ARGUMENT', 'expected an array of hashes');
    }
    const copies = hashes.map((h) => {
      if (!(h instanceof Uint8Array) || h.length !== 32) {
        throw new MerkleError('BAD_ARGUMENT', 'leaf hash must be 32 bytes');
      }
      return copyBytes(h);
    });
    return this.enqueue(copies);
  }

  /** Queues an append of `hashes` behind every earlier one. */
  private enqueue(hashes: Uint8Array[]): Promise<number> {
    const run = this.tail.then(() => this.appendNow(hashes));
    // A failed append (say, the store refused the batch) changed nothing, so the
    // next one may still run: the chain must not stay rejected.
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async appendNow(hashes: readonly Uint8Array[]): Promise<number> {
    if (hashes.length === 0) return this.n;
    if (this.n + hashes.length > Number.MAX_SAFE_INTEGER) {
      throw new MerkleError('OUT_OF_RANGE', 'log size would exceed 2^53 - 1');
    }
    let n = this.n;
    const frontier = this.frontier.slice();
    const ops: BatchOp[] = [];
    for (const h of hashes) {
      ops.push({ type: 'put', key: nodeKey(0, n), value: h });
      // Binary carry: bit `level` of n is set exactly when frontier[level] is,
      // and each carry completes one perfect subtree, written once.
      let node = h;
      let level = 0;
      let index = n;
      for (let left = frontier[0]; left !== undefined; left = frontier[level]) {
        frontier[level] = undefined;
        node = nodeHash(left, node, { hash: this.hash });
        level++;
        index = Math.floor(index / 2);
        ops.push({ type: 'put', key: nodeKey(level, index), value: node });
      }
      frontier[level] = node;
      n++;
    }
    ops.push({ type: 'put', key: SIZE_KEY, value: u64be(n) });
    await this.store.batch(ops);
    // Only now, once the batch has landed: readers never see a size whose hashes are not stored.
    this.frontier = frontier;
    this.n = n;
    return n;
  }

  /** Hash of the perfect subtree `(level, index)`, from the in-memory frontier or the store. */
  private async node(level: number, index: number): Promise<Uint8Array> {
    const f = this.frontier[level];
    // The frontier subtree of this level starts where the bits of n above `level` say.
    if (f !== undefined && Math.floor(this.n / 2 ** (level + 1)) * 2 === index) return f;
    const k = nodeKey(level, index);
    // A proof reads ~log2(n) dependent nodes: the sync read saves a thread hop each.
    const h = this.store.getSync !== undefined ? this.store.getSync(k) : await this.store.get(k);
    if (h === undefined) {
      throw new MerkleError('MISSING_NODE', `log subtree ${level}/${index} missing`);
    }
    if (h.length !== 32) {
      throw new MerkleError('CORRUPT_STORE', `log subtree ${level}/${index} bad`);
    }
    return h;
  }

  /**
   * `MTH(D[a:b])` for `b > a`: one read when the range is a perfect aligned
   * subtree, otherwise the RFC 9162 2.1.1 split at the largest power of two
   * smaller than `b - a`. The ranges that proofs ask for are such that the
   * split yields perfect left halves, so this is O(log n) reads.
   */
  private async rangeHash(a: number, b: number): Promise<Uint8Array> {
    const n = b - a;
    const [p, level] = floorPow2(n);
    if (p === n && a % n === 0) return this.node(level, a / n);
    // n is not a power of two here or the range is unaligned: split at k < n.
    const k = p === n ? p / 2 : p;
    const [l, r] = await Promise.all([this.rangeHash(a, a + k), this.rangeHash(a + k, b)]);
    return nodeHash(l, r, { hash: this.hash });
  }

  private checkSize(size: number | undefined, n: number): number {
    if (size === undefined) return n;
    checkInt('size', size);
    if (size > n) throw new MerkleError('OUT_OF_RANGE', `size ${size} beyond log size ${n}`);
    return size;
  }

  async root(size?: number): Promise<Uint8Array> {
    const m = this.checkSize(size, this.n);
    if (m === 0) return emptyRoot({ hash: this.hash });
    // D[0:m] splits into the perfect subtrees given by the set bits of m,
    // folded from the right (RFC 9162 2.1.1 applied recursively).
    return copyBytes(await this.rangeHash(0, m));
  }

  async leafHash(index: number): Promise<Uint8Array> {
    checkInt('index', index);
    if (index >= this.n) {
      throw new MerkleError('OUT_OF_RANGE', `leaf ${index} beyond log size ${this.n}`);
    }
    return copyBytes(await this.node(0, index));
  }

  async inclusionProof(index: number, size?: number): Promise<LogInclusionProof> {
    const n = this.checkSize(size, this.n);
    checkInt('index', index);
    if (index >= n) {
      throw new MerkleError('OUT_OF_RANGE', `leaf ${index} not in a tree of size ${n}`);
    }
    // RFC 9162 2.1.3.1, unrolled from the root down: at each split, the
    // sibling of the half holding leaf `index` is a path entry. PATH lists
    // them from the leaf up, hence the reverse.
    const siblings: [number, number][] = [];
    let a = 0;
    let b = n;
    while (b - a > 1) {
      const k = floorPow2(b - a - 1)[0];
      if (index < a + k) {
        siblings.push([a + k, b]);
        b = a + k;
      } else {
        siblings.push([a, a + k]);
        a += k;
      }
    }
    siblings.reverse();
    const path = await Promise.all(siblings.map(([lo, hi]) => this.rangeHash(lo, hi)));
    return { leafIndex: index, treeSize: n, path: path.map(copyBytes) };
  }

  async consistencyProof(fromSize: number, toSize?: number): Promise<LogConsistencyProof> {
    const n = this.checkSize(toSize, this.n);
    checkInt('fromSize', fromSize);
    if (fromSize > n) throw new MerkleError('OUT_OF_RANGE', `fromSize ${fromSize} > toSize ${n}`);
    // fromSize 0 or equal sizes: nothing to prove (RFC 9162 2.1.4 defines
    // PROOF for 0 < m < n only; see verifyLogConsistency for how these verify).
    if (fromSize === 0 || fromSize === n) return { fromSize, toSize: n, path: [] };
    // RFC 9162 2.1.4.1 SUBPROOF(m, D[a:b], flag), unrolled from the root down.
    const ranges: [number, number][] = [];
    let a = 0;
    let b = n;
    let flag = true;
    for (;;) {
      const m = fromSize - a;
      if (m === b - a) {
        // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
        if (!flag) ranges.push([a, b]);
        break;
      }
      const k = floorPow2(b - a - 1)[0];
      if (m <= k) {
        ranges.push([a + k, b]);
        b = a + k;
      } else {
        ranges.push([a, a + k]);
        a += k;
        flag = false;
      }
    }
    ranges.reverse();
    const path = await Promise.all(ranges.map(([lo, hi]) => this.rangeHash(lo, hi)));
    return { fromSize, toSize: n, path: path.map(copyBytes) };
  }
}
