/**
 * Range completeness proofs of the crit-bit state trie (docs/PROTOCOL.md
 * 3.2-3.4): that a list of entries is exactly the set of entries whose keys
 * lie in an inclusive byte-wise range `[lo, hi]`. A prefix proof
 * (trie-proof.ts) must hand over everything under a prefix; a range proof
 * costs about the entries in range plus two boundary paths, which is what
 * "every transaction of key K between heights g and h" needs when K's
 * history is long.
 *
 * The proof is the trie pruned to what the range touches, in pre-order: the
 * internal nodes whose interval meets the range are expanded, every other
 * subtree is given by its hash alone, and the verifier checks from the keys
 * it sees that each hidden subtree lies outside the range. Nothing here
 * imports the trie: the wallet verifies with this module alone.
 */
import { bitAt, compareBytes, equalBytes, fromHex, samePrefixBits, toHex } from './bytes.js';
import { MerkleError, type MerkleErrorCode } from './errors.js';
import { type HashFn, type HashOpts, sha256Noble, ZERO_HASH } from './hash.js';
import {
  TRIE_PROOF_VERSION,
  type TrieEntry,
  trieLeafHash,
  trieLeafHashFromValueHash,
  trieNodeHash,
} from './trie-proof.js';
import { rangeExpands } from './trie-range-rule.js';

/** Type byte of a range proof: the next free one after the trie path proof (0x01) and the log's (0x02, 0x03). */
export const TRIE_RANGE_PROOF_TYPE = 0x04;

/**
 * Most items a range proof may hold (encoders, decoders and the prover
 * refuse more): a proof of E entries has about 2·E items, so this admits
 * about 500,000 entries, and bounds what a decoder allocates for hostile
 * input.
 */
export const TRIE_RANGE_PROOF_MAX_ITEMS = 1_000_000;

/**
 * One item of a range proof, in pre-order from the root:
 * - `node`: an expanded internal node with split bit `bit`, followed by its
 *   left then its right child's items;
 * - `hash`: a subtree given by its hash alone, allowed only where its keys all
 *   lie outside the range (the verifier checks it from the revealed keys);
 * - `leaf`: a leaf inside the range, whose key and value are the next entry
 *   of the list the verifier is handed (they are not repeated in the proof);
 * - `other`: a leaf outside the range, revealed so that the verifier sees it is;
 * - `empty`: the trie is empty (the only item then).
 */
export type TrieRangeItem =
  | { kind: 'node'; bit: number }
  | { kind: 'hash'; hash: Uint8Array }
  | { kind: 'leaf' }
  | { kind: 'other'; key: Uint8Array; valueHash: Uint8Array }
  | { kind: 'empty' };

/** A range completeness proof, decoded (docs/PROTOCOL.md 3.2). */
export interface TrieRangeProof {
  /** Proof format version, that of the trie path proofs (2: crit-bit nodes). */
  readonly version: 2;
  /** Key length of the trie in bytes. */
  readonly keyBytes: number;
  /** The pruned tree, pre-order. */
  readonly items: readonly TrieRangeItem[];
}

/** JSON form of one {@link TrieRangeItem} (hex at the edge, docs/PROTOCOL.md 1). */
export type TrieRangeItemJSON =
  | { kind: 'node'; bit: number }
  | { kind: 'hash'; hash: string }
  | { kind: 'leaf' }
  | { kind: 'other'; key: string; valueHash: string }
  | { kind: 'empty' };

/** JSON form of a range proof; see {@link trieRangeProofFromJSON}. */
export interface TrieRangeProofJSON {
  version: 2;
  keyBytes: number;
  items: TrieRangeItemJSON[];
}

const TAGS = ['node', 'hash', 'leaf', 'other', 'empty'] as const;
const HEADER = 7;

// ---------------------------------------------------------------------------
// Shape: what can be checked without the range, shared by every entry point.
// ---------------------------------------------------------------------------

/**
 * Checks the pruned tree: `empty` only alone, every `node` followed by two
 * complete children, split bits strictly increasing down each path and below
 * 8·keyBytes, nothing after the tree, not a node over two hashes (the rule
 * always expands one child) and not a hash at the root (the root is always
 * expanded). Iterative: a hostile proof must not be able to exhaust the stack.
 */
function checkTree(items: readonly TrieRangeItem[], keyBytes: number, fail: (w: string) => never) {
  if (items.length === 0) fail('no items');
  if (items[0]!.kind === 'empty') {
    if (items.length !== 1) fail('empty with other items');
    return;
  }
  if (items[0]!.kind === 'hash') fail('hash at the root');
  const maxBit = keyBytes * 8;
  // Open nodes: split bit, children seen, whether the first child was a hash.
  const stack: { bit: number; seen: number; hashFirst: boolean }[] = [];
  let i = 0;
  for (; i < items.length; i++) {
    const it = items[i]!;
    const top = stack[stack.length - 1];
    if (it.kind === 'empty') fail('empty inside a tree');
    if (it.kind === 'node') {
      if (it.bit >= maxBit) fail('split bit beyond the key');
      if (top !== undefined && it.bit <= top.bit) fail('split bits not increasing');
    }
    if (top !== undefined) {
      if (top.seen === 0) top.hashFirst = it.kind === 'hash';
      else if (top.hashFirst && it.kind === 'hash') fail('a node over two hashes');
      top.seen++;
    }
    if (it.kind === 'node') stack.push({ bit: it.bit, seen: 0, hashFirst: false });
    else while (stack.length > 0 && stack[stack.length - 1]!.seen === 2) stack.pop();
    if (stack.length === 0) break;
  }
  if (stack.length > 0) fail('truncated tree');
  if (i !== items.length - 1) fail('items after the tree');
}

const isBytes = (x: unknown, len?: number): x is Uint8Array =>
  x instanceof Uint8Array && (len === undefined || x.length === len);

/** Full check of a proof object (types, then the tree); throws `MerkleError(code)`. */
function checkRangeShape(p: TrieRangeProof, code: MerkleErrorCode): void {
  const fail = (why: string): never => {
    throw new MerkleError(code, `trie range proof: ${why}`);
  };
  if (typeof p !== 'object' || p === null) fail('not an object');
  if (p.version !== TRIE_PROOF_VERSION) fail('unknown version');
  const kb = p.keyBytes;
  if (!Number.isInteger(kb) || kb < 1 || kb > 255) fail('bad keyBytes');
  if (!Array.isArray(p.items)) fail('bad items');
  if (p.items.length > TRIE_RANGE_PROOF_MAX_ITEMS) fail('too many items');
  for (const it of p.items) {
    if (typeof it !== 'object' || it === null) fail('bad item');
    switch (it.kind) {
      case 'node':
        if (!Number.isInteger(it.bit) || it.bit < 0) fail('bad split bit');
        break;
      case 'hash':
        if (!isBytes(it.hash, 32)) fail('bad hash');
        if (equalBytes(it.hash, ZERO_HASH)) fail('empty subtree hash');
        break;
      case 'other':
        if (!isBytes(it.key, kb) || !isBytes(it.valueHash, 32)) fail('bad other leaf');
        break;
      case 'leaf':
      case 'empty':
        break;
      default:
        fail('bad item kind');
    }
  }
  checkTree(p.items, kb, fail);
}

// ---------------------------------------------------------------------------
// Binary form: [0x02][0x04][keyBytes][count u32be] then per item [tag][body]
// ---------------------------------------------------------------------------

function itemSize(it: TrieRangeItem, keyBytes: number): number {
  switch (it.kind) {
    case 'node':
      return 3;
    case 'hash':
      return 33;
    case 'other':
      return 33 + keyBytes;
    default:
      return 1;
  }
}

/** Canonical binary encoding of a range proof (docs/PROTOCOL.md 3.3). Throws `BAD_PROOF` on a malformed proof object. */
export function encodeTrieRangeProof(p: TrieRangeProof): Uint8Array {
  checkRangeShape(p, 'BAD_PROOF');
  let size = HEADER;
  for (const it of p.items) size += itemSize(it, p.keyBytes);
  const out = new Uint8Array(size);
  const n = p.items.length;
  out.set([TRIE_PROOF_VERSION, TRIE_RANGE_PROOF_TYPE, p.keyBytes]);
  new DataView(out.buffer).setUint32(3, n); // u32be item count
  let off = HEADER;
  for (const it of p.items) {
    out[off++] = TAGS.indexOf(it.kind);
    if (it.kind === 'node') {
      out[off++] = it.bit >>> 8;
      out[off++] = it.bit & 0xff;
    } else if (it.kind === 'hash') {
      out.set(it.hash, off);
      off += 32;
    } else if (it.kind === 'other') {
      out.set(it.key, off);
      out.set(it.valueHash, off + p.keyBytes);
      off += p.keyBytes + 32;
    }
  }
  return out;
}

/** Reads one item at `off`; returns it and the offset after it, or calls `fail`. */
function readItem(
  bytes: Uint8Array,
  off: number,
  keyBytes: number,
  fail: (w: string) => never,
): [TrieRangeItem, number] {
  const tag = bytes[off];
  if (tag === undefined) return fail('truncated');
  const need = (n: number) => {
    if (bytes.length < off + 1 + n) fail('truncated');
  };
  switch (tag) {
    case 0:
      need(2);
      return [{ kind: 'node', bit: (bytes[off + 1]! << 8) | bytes[off + 2]! }, off + 3];
    case 1:
      need(32);
      return [{ kind: 'hash', hash: bytes.slice(off + 1, off + 33) }, off + 33];
    case 2:
      return [{ kind: 'leaf' }, off + 1];
    case 3: {
      need(keyBytes + 32);
      const key = bytes.slice(off + 1, off + 1 + keyBytes);
      const valueHash = bytes.slice(off + 1 + keyBytes, off + 33 + keyBytes);
      return [{ kind: 'other', key, valueHash }, off + 33 + keyBytes];
    }
    case 4:
      return [{ kind: 'empty' }, off + 1];
    default:
      return fail(`unknown item tag ${tag}`);
  }
}

/**
 * Decodes the canonical binary form; throws `MerkleError('BAD_ENCODING')` on
 * anything else: another version or type, a zero key length, more than
 * {@link TRIE_RANGE_PROOF_MAX_ITEMS} items, an unknown tag, a zero subtree
 * hash, a tree that is not one complete pruned tree (`empty` not alone, a
 * node short of children, split bits not increasing or beyond the key, a
 * node over two hashes, a hash at the root), short input or trailing bytes.
 */
export function decodeTrieRangeProof(bytes: Uint8Array): TrieRangeProof {
  const fail = (why: string): never => {
    throw new MerkleError('BAD_ENCODING', `trie range proof: ${why}`);
  };
  if (!(bytes instanceof Uint8Array)) fail('not bytes');
  if (bytes.length < HEADER) fail('truncated header');
  if (bytes[0] !== TRIE_PROOF_VERSION) fail(`unknown version ${bytes[0]}`);
  if (bytes[1] !== TRIE_RANGE_PROOF_TYPE) fail('not a trie range proof');
  const keyBytes = bytes[2]!;
  if (keyBytes === 0) fail('zero key length');
  const count = ((bytes[3]! << 24) | (bytes[4]! << 16) | (bytes[5]! << 8) | bytes[6]!) >>> 0;
  if (count > TRIE_RANGE_PROOF_MAX_ITEMS) fail('too many items');
  // Every item takes at least a byte: refuse a count the input cannot hold
  // before allocating anything for it.
  if (count > bytes.length - HEADER) fail('truncated');
  const items: TrieRangeItem[] = [];
  let off = HEADER;
  for (let i = 0; i < count; i++) {
    const [it, next] = readItem(bytes, off, keyBytes, fail);
    items.push(it);
    off = next;
  }
  if (off !== bytes.length) fail('trailing bytes');
  const proof: TrieRangeProof = { version: TRIE_PROOF_VERSION, keyBytes, items };
  checkRangeShape(proof, 'BAD_ENCODING');
  return proof;
}

// ---------------------------------------------------------------------------
// JSON form
// ---------------------------------------------------------------------------

/** JSON form of a range proof (docs/PROTOCOL.md 3.4). Throws `BAD_PROOF` on a malformed proof object. */
export function trieRangeProofToJSON(p: TrieRangeProof): TrieRangeProofJSON {
  checkRangeShape(p, 'BAD_PROOF');
  const items = p.items.map((it): TrieRangeItemJSON => {
    switch (it.kind) {
      case 'node':
        return { kind: 'node', bit: it.bit };
      case 'hash':
        return { kind: 'hash', hash: toHex(it.hash) };
      case 'other':
        return { kind: 'other', key: toHex(it.key), valueHash: toHex(it.valueHash) };
      default:
        return { kind: it.kind };
    }
  });
  return { version: TRIE_PROOF_VERSION, keyBytes: p.keyBytes, items };
}

const ITEM_KEYS: Record<TrieRangeItem['kind'], readonly string[]> = {
  node: ['kind', 'bit'],
  hash: ['kind', 'hash'],
  leaf: ['kind'],
  other: ['kind', 'key', 'valueHash'],
  empty: ['kind'],
};

const isObject = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Strict parser of the JSON form, like `trieProofFromJSON`: exactly the keys
 * of each item kind, lowercase `0x` hex of the exact lengths (`BAD_HEX`),
 * and the canonical content the binary decoder demands (`BAD_ENCODING`).
 */
export function trieRangeProofFromJSON(json: unknown): TrieRangeProof {
  const fail = (why: string): never => {
    throw new MerkleError('BAD_ENCODING', `trie range proof JSON: ${why}`);
  };
  if (!isObject(json)) return fail('not an object');
  for (const k of Object.keys(json)) {
    if (k !== 'version' && k !== 'keyBytes' && k !== 'items') fail(`unexpected key ${k}`);
  }
  if (json.version !== TRIE_PROOF_VERSION) fail('unknown version');
  const keyBytes = json.keyBytes;
  if (!Number.isInteger(keyBytes) || (keyBytes as number) < 1 || (keyBytes as number) > 255) {
    fail('bad keyBytes');
  }
  const kb = keyBytes as number;
  if (!Array.isArray(json.items)) return fail('bad items');
  if (json.items.length > TRIE_RANGE_PROOF_MAX_ITEMS) fail('too many items');
  const items = (json.items as unknown[]).map((x): TrieRangeItem => {
    if (!isObject(x) || typeof x.kind !== 'string' || !Object.hasOwn(ITEM_KEYS, x.kind)) {
      return fail('bad item');
    }
    const kind = x.kind as TrieRangeItem['kind'];
    for (const k of Object.keys(x)) if (!ITEM_KEYS[kind].includes(k)) fail(`unexpected key ${k}`);
    switch (kind) {
      case 'node':
        if (!Number.isInteger(x.bit) || (x.bit as number) < 0 || (x.bit as number) > 0xffff) {
          fail('bad split bit');
        }
        return { kind, bit: x.bit as number };
      case 'hash':
        return { kind, hash: fromHex(x.hash, 32) };
      case 'other':
        return { kind, key: fromHex(x.key, kb), valueHash: fromHex(x.valueHash, 32) };
      default:
        return { kind };
    }
  });
  const proof: TrieRangeProof = { version: TRIE_PROOF_VERSION, keyBytes: kb, items };
  checkRangeShape(proof, 'BAD_ENCODING');
  return proof;
}

// ---------------------------------------------------------------------------
// Verifier: a boolean, fails closed, never throws.
// ---------------------------------------------------------------------------

/** A rebuilt subtree: its hash and one revealed key below it (null for a `hash` item). */
interface Sub {
  hash: Uint8Array;
  key: Uint8Array | null;
}

/** Thrown inside the verifier's walk to stop it; caught, never escapes. */
const REJECT = new Error('range proof rejected');

/**
 * Rebuilds the pruned tree's root hash, checking every item against the
 * range as it goes (docs/PROTOCOL.md 3.2); throws on the first failure.
 */
function rebuild(
  items: readonly TrieRangeItem[],
  entries: readonly TrieEntry[],
  lo: Uint8Array,
  hi: Uint8Array,
  hash: HashFn,
): Uint8Array {
  let i = 0;
  let j = 0;
  const inRange = (k: Uint8Array) => compareBytes(lo, k) <= 0 && compareBytes(k, hi) <= 0;
  const walk = (parentBit: number): Sub => {
    const it = items[i++];
    if (it === undefined) throw REJECT;
    switch (it.kind) {
      case 'hash':
        return { hash: it.hash, key: null };
      case 'leaf': {
        const e = entries[j++];
        if (e === undefined || !inRange(e.key)) throw REJECT;
        return { hash: trieLeafHash(e.key, e.value, hash), key: e.key };
      }
      case 'other':
        if (inRange(it.key)) throw REJECT;
        return { hash: trieLeafHashFromValueHash(it.key, it.valueHash, hash), key: it.key };
      case 'node':
        return node(it.bit, parentBit);
      default:
        throw REJECT;
    }
  };
  const node = (bit: number, parentBit: number): Sub => {
    if (bit <= parentBit) throw REJECT;
    const l = walk(bit);
    const r = walk(bit);
    // Each child's revealed keys agree on bits [0, childBit) ⊇ [0, bit], so
    // one key per side stands for all of them.
    const key = l.key ?? r.key;
    if (key === null) throw REJECT;
    if (l.key !== null && bitAt(l.key, bit) !== 0) throw REJECT;
    if (r.key !== null && bitAt(r.key, bit) !== 1) throw REJECT;
    if (l.key !== null && r.key !== null && !samePrefixBits(l.key, r.key, bit)) throw REJECT;
    // Exactly the children the interval rule expands are expanded; so every
    // hidden child's interval misses the range, and the proof is unique.
    const [e0, e1] = rangeExpands(key, bit, lo, hi);
    if (e0 !== (l.key !== null) || e1 !== (r.key !== null)) throw REJECT;
    return { hash: trieNodeHash(bit, l.hash, r.hash, hash), key };
  };
  const top = walk(-1);
  if (top.key === null || i !== items.length || j !== entries.length) throw REJECT;
  return top.hash;
}

/**
 * Whether `entries` are exactly the entries of the trie with `root` whose keys
 * lie in the inclusive byte-wise range `[lo, hi]`: none missing, none added,
 * none altered, in key order (as {@link TrieReader.proveRange} returns them).
 * `lo` and `hi` are full keys with `lo <= hi`. Sound for the root of an
 * honestly built trie (a certified state root), as exclusion and prefix
 * completeness are: the proof's hidden subtrees are outside the range only
 * if every key lies on the side of each node its split bit says. False on
 * any malformed, tampered or foreign input; never throws.
 */
export function verifyTrieRange(
  root: Uint8Array,
  lo: Uint8Array,
  hi: Uint8Array,
  entries: readonly TrieEntry[],
  proof: TrieRangeProof | Uint8Array,
  opts: HashOpts = {},
): boolean {
  try {
    const hash = opts.hash ?? sha256Noble;
    if (!isBytes(root, 32) || !Array.isArray(entries)) return false;
    const p = proof instanceof Uint8Array ? decodeTrieRangeProof(proof) : proof;
    if (!(proof instanceof Uint8Array)) checkRangeShape(p, 'BAD_PROOF');
    const kb = p.keyBytes;
    if (!isBytes(lo, kb) || !isBytes(hi, kb) || compareBytes(lo, hi) > 0) return false;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!isBytes(e?.key, kb) || !isBytes(e.value)) return false;
      if (i > 0 && compareBytes(entries[i - 1]!.key, e.key) >= 0) return false;
    }
    if (p.items[0]!.kind === 'empty') {
      return entries.length === 0 && equalBytes(root, ZERO_HASH);
    }
    return equalBytes(rebuild(p.items, entries, lo, hi, hash), root);
  } catch {
    return false;
  }
}
