/**
 * Proofs about the binary Merkle-Patricia state trie: inclusion, exclusion and
 * prefix completeness, their canonical binary and JSON forms, and verifiers.
 *
 * Hashing (docs/PROTOCOL.md "State trie"): leaf `H(0x00 ‖ key ‖ H(value))`,
 * internal node `H(0x01 ‖ left ‖ right)`, empty subtree = 32 zero bytes, and a
 * subtree holding exactly one leaf is represented by that leaf's hash. Every
 * proof is a path from the root down to a *terminal* position, with the hash
 * of the sibling at each level (absent when the sibling is empty).
 *
 * Nothing here imports the trie: the wallet verifies with this module alone.
 */
import { bitAt, compareBytes, equalBytes, fromHex, samePrefixBits, toHex } from './bytes.js';
import { MerkleError } from './errors.js';
import { type HashFn, type HashOpts, sha256Noble, ZERO_HASH } from './hash.js';

/** Version byte of every proof encoding this module writes. */
export const TRIE_PROOF_VERSION = 1;
/** Type byte of a trie path proof (the log's proofs use 0x02 and 0x03). */
export const TRIE_PROOF_TYPE = 0x01;

/**
 * Where the proven path ends:
 * - `empty`: an empty subtree (the key, or every key under the prefix, is absent);
 * - `leaf`: the leaf the verifier supplies (the key itself, or the one entry under the prefix);
 * - `other`: a leaf with another key that shares the path so far (so the key is absent);
 * - `subtree`: the node exactly at the prefix depth, rebuilt from the entries (prefix proofs only).
 */
export type TrieTerminal = 'empty' | 'leaf' | 'other' | 'subtree';

const TERMINALS: readonly TrieTerminal[] = ['empty', 'leaf', 'other', 'subtree'];

/** A trie path proof, decoded. */
export interface TrieProof {
  terminal: TrieTerminal;
  /** Key length of the trie in bytes. */
  keyBytes: number;
  /** Sibling hashes from the root down; `null` for an empty sibling. Its length is the depth. */
  siblings: (Uint8Array | null)[];
  /** For `other`: the key of the leaf found on the path. */
  otherKey?: Uint8Array;
  /** For `other`: the hash of that leaf's value. */
  otherValueHash?: Uint8Array;
}

/** One key-value pair of the trie. */
export interface TrieEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/** `H(0x00 ‖ key ‖ H(value))`. */
export function trieLeafHash(key: Uint8Array, value: Uint8Array, hash: HashFn = sha256Noble) {
  return trieLeafHashFromValueHash(key, hash(value), hash);
}

/** `H(0x00 ‖ key ‖ valueHash)`. */
export function trieLeafHashFromValueHash(
  key: Uint8Array,
  valueHash: Uint8Array,
  hash: HashFn = sha256Noble,
): Uint8Array {
  const buf = new Uint8Array(1 + key.length + 32);
  buf[0] = 0x00;
  buf.set(key, 1);
  buf.set(valueHash, 1 + key.length);
  return hash(buf);
}

/** `H(0x01 ‖ left ‖ right)`; empty children are {@link ZERO_HASH}. */
export function trieNodeHash(left: Uint8Array, right: Uint8Array, hash: HashFn = sha256Noble) {
  const buf = new Uint8Array(65);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 33);
  return hash(buf);
}

/**
 * Hash of the subtree at `depth` that holds exactly `entries` (sorted by key,
 * distinct, all sharing the path to `depth`). Throws on inconsistent input.
 */
export function trieSubtreeHash(
  entries: readonly TrieEntry[],
  depth: number,
  hash: HashFn = sha256Noble,
): Uint8Array {
  const rec = (lo: number, hi: number, d: number): Uint8Array => {
    if (hi === lo) return ZERO_HASH;
    if (hi - lo === 1) return trieLeafHash(entries[lo]!.key, entries[lo]!.value, hash);
    if (d >= entries[lo]!.key.length * 8) throw new MerkleError('BAD_PROOF', 'duplicate keys');
    let mid = lo;
    while (mid < hi && bitAt(entries[mid]!.key, d) === 0) mid++;
    for (let i = mid; i < hi; i++) {
      if (bitAt(entries[i]!.key, d) === 0) throw new MerkleError('BAD_PROOF', 'entries not sorted');
    }
    return trieNodeHash(rec(lo, mid, d + 1), rec(mid, hi, d + 1), hash);
  };
  return rec(0, entries.length, depth);
}

/** Folds `bottom` (the hash at depth `siblings.length` on `path`'s path) up to the root. */
function foldUp(
  bottom: Uint8Array,
  path: Uint8Array,
  siblings: readonly (Uint8Array | null)[],
  hash: HashFn,
): Uint8Array {
  // One scratch preimage for the whole walk: verification is hash-bound, and
  // an allocation per level costs about as much as the hash call itself.
  const buf = new Uint8Array(65);
  buf[0] = 0x01;
  let h = bottom;
  for (let d = siblings.length - 1; d >= 0; d--) {
    const s = siblings[d] ?? ZERO_HASH;
    if (bitAt(path, d) === 0) {
      buf.set(h, 1);
      buf.set(s, 33);
    } else {
      buf.set(s, 1);
      buf.set(h, 33);
    }
    h = hash(buf);
  }
  return h;
}

// ---------------------------------------------------------------------------
// Binary form: [version][type][keyBytes][depth u16be][bitmap][siblings…][other?]
// ---------------------------------------------------------------------------

/** Canonical binary encoding of a trie proof. Throws on a malformed proof object. */
export function encodeTrieProof(proof: TrieProof): Uint8Array {
  checkShape(proof);
  const depth = proof.siblings.length;
  const bitmapLen = (depth + 7) >>> 3;
  const present = proof.siblings.filter((s) => s !== null) as Uint8Array[];
  const otherLen = proof.terminal === 'other' ? proof.keyBytes + 32 : 0;
  const out = new Uint8Array(5 + bitmapLen + 32 * present.length + otherLen);
  out[0] = TRIE_PROOF_VERSION;
  // Low nibble: proof type; high nibble: terminal kind.
  out[1] = TRIE_PROOF_TYPE | (TERMINALS.indexOf(proof.terminal) << 4);
  out[2] = proof.keyBytes;
  out[3] = depth >>> 8;
  out[4] = depth & 0xff;
  let off = 5 + bitmapLen;
  for (let d = 0; d < depth; d++) {
    const s = proof.siblings[d];
    if (s) {
      out[5 + (d >>> 3)]! |= 0x80 >>> (d & 7);
      out.set(s, off);
      off += 32;
    }
  }
  if (proof.terminal === 'other') {
    out.set(proof.otherKey!, off);
    out.set(proof.otherValueHash!, off + proof.keyBytes);
  }
  return out;
}

/**
 * Decodes the canonical binary form; throws `MerkleError('BAD_ENCODING')` on
 * anything else (wrong version or type, trailing bits, a zero sibling encoded
 * as present, a depth beyond the key length, short or long input).
 */
export function decodeTrieProof(bytes: Uint8Array): TrieProof {
  const fail = (why: string): never => {
    throw new MerkleError('BAD_ENCODING', `trie proof: ${why}`);
  };
  if (!(bytes instanceof Uint8Array)) fail('not bytes');
  if (bytes.length < 5) fail('truncated header');
  if (bytes[0] !== TRIE_PROOF_VERSION) fail(`unknown version ${bytes[0]}`);
  if ((bytes[1]! & 0x0f) !== TRIE_PROOF_TYPE) fail('not a trie proof');
  const t = bytes[1]! >>> 4;
  if (t >= TERMINALS.length) fail('unknown terminal');
  const terminal = TERMINALS[t]!;
  const keyBytes = bytes[2]!;
  if (keyBytes === 0) fail('zero key length');
  const depth = (bytes[3]! << 8) | bytes[4]!;
  if (depth > keyBytes * 8) fail('depth beyond key length');
  const bitmapLen = (depth + 7) >>> 3;
  if (bytes.length < 5 + bitmapLen) fail('truncated bitmap');
  if ((depth & 7) !== 0 && (bytes[5 + bitmapLen - 1]! & (0xff >>> (depth & 7))) !== 0) {
    fail('non-zero padding bits');
  }
  let off = 5 + bitmapLen;
  const siblings: (Uint8Array | null)[] = new Array(depth);
  for (let d = 0; d < depth; d++) {
    if ((bytes[5 + (d >>> 3)]! & (0x80 >>> (d & 7))) === 0) {
      siblings[d] = null;
      continue;
    }
    if (off + 32 > bytes.length) fail('truncated siblings');
    const s = bytes.slice(off, off + 32);
    if (equalBytes(s, ZERO_HASH)) fail('empty sibling encoded as present');
    siblings[d] = s;
    off += 32;
  }
  const proof: TrieProof = { terminal, keyBytes, siblings };
  if (terminal === 'other') {
    if (off + keyBytes + 32 > bytes.length) fail('truncated leaf');
    proof.otherKey = bytes.slice(off, off + keyBytes);
    proof.otherValueHash = bytes.slice(off + keyBytes, off + keyBytes + 32);
    off += keyBytes + 32;
  }
  if (off !== bytes.length) fail('trailing bytes');
  return proof;
}

/** JSON form of a trie proof (hex at the edge, PROTOCOL.md section 2). */
export interface TrieProofJSON {
  version: 1;
  terminal: TrieTerminal;
  keyBytes: number;
  siblings: (string | null)[];
  otherKey?: string;
  otherValueHash?: string;
}

/** JSON form of a proof; see {@link trieProofFromJSON}. */
export function trieProofToJSON(proof: TrieProof): TrieProofJSON {
  checkShape(proof);
  const json: TrieProofJSON = {
    version: 1,
    terminal: proof.terminal,
    keyBytes: proof.keyBytes,
    siblings: proof.siblings.map((s) => (s ? toHex(s) : null)),
  };
  if (proof.terminal === 'other') {
    json.otherKey = toHex(proof.otherKey!);
    json.otherValueHash = toHex(proof.otherValueHash!);
  }
  return json;
}

/** Strict parser of the JSON form: exact keys, lowercase hex, canonical content. Throws. */
export function trieProofFromJSON(json: unknown): TrieProof {
  const fail = (why: string): never => {
    throw new MerkleError('BAD_ENCODING', `trie proof JSON: ${why}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not an object');
  const o = json as Record<string, unknown>;
  const isOther = o.terminal === 'other';
  const allowed = isOther
    ? ['version', 'terminal', 'keyBytes', 'siblings', 'otherKey', 'otherValueHash']
    : ['version', 'terminal', 'keyBytes', 'siblings'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`unexpected key ${k}`);
  if (o.version !== 1) fail('unknown version');
  if (typeof o.terminal !== 'string' || !TERMINALS.includes(o.terminal as TrieTerminal)) {
    fail('bad terminal');
  }
  if (!Number.isInteger(o.keyBytes)) fail('bad keyBytes');
  if (!Array.isArray(o.siblings)) fail('bad siblings');
  const proof: TrieProof = {
    terminal: o.terminal as TrieTerminal,
    keyBytes: o.keyBytes as number,
    siblings: (o.siblings as unknown[]).map((s) => (s === null ? null : fromHex(s, 32))),
  };
  if (isOther) {
    proof.otherKey = fromHex(o.otherKey, proof.keyBytes);
    proof.otherValueHash = fromHex(o.otherValueHash, 32);
  }
  checkShape(proof);
  return proof;
}

function checkShape(p: TrieProof): void {
  const fail = (why: string): never => {
    throw new MerkleError('BAD_PROOF', `trie proof: ${why}`);
  };
  if (!TERMINALS.includes(p.terminal)) fail('bad terminal');
  if (!Number.isInteger(p.keyBytes) || p.keyBytes < 1 || p.keyBytes > 255) fail('bad keyBytes');
  if (!Array.isArray(p.siblings) || p.siblings.length > p.keyBytes * 8) fail('bad depth');
  for (const s of p.siblings) {
    if (s === null) continue;
    if (!(s instanceof Uint8Array) || s.length !== 32) fail('bad sibling');
    if (equalBytes(s, ZERO_HASH)) fail('empty sibling must be null');
  }
  if (p.terminal === 'other') {
    if (!(p.otherKey instanceof Uint8Array) || p.otherKey.length !== p.keyBytes)
      fail('bad otherKey');
    if (!(p.otherValueHash instanceof Uint8Array) || p.otherValueHash.length !== 32) {
      fail('bad otherValueHash');
    }
  } else if (p.otherKey !== undefined || p.otherValueHash !== undefined) {
    fail('otherKey only with terminal other');
  }
}

/** Accepts either form a verifier may be handed; throws if neither decodes. */
function asProof(proof: TrieProof | Uint8Array): TrieProof {
  if (proof instanceof Uint8Array) return decodeTrieProof(proof);
  checkShape(proof);
  return proof;
}

function isBytes(x: unknown, len?: number): x is Uint8Array {
  return x instanceof Uint8Array && (len === undefined || x.length === len);
}

// ---------------------------------------------------------------------------
// Verifiers: booleans, fail closed, never throw.
// ---------------------------------------------------------------------------

/**
 * Whether `proof` shows `key ↦ value` in the trie with `root`. False on any
 * malformed, tampered or foreign proof; never throws.
 */
export function verifyTrieInclusion(
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array,
  proof: TrieProof | Uint8Array,
  opts: HashOpts = {},
): boolean {
  try {
    const hash = opts.hash ?? sha256Noble;
    if (!isBytes(root, 32) || !isBytes(key) || !isBytes(value)) return false;
    const p = asProof(proof);
    if (p.terminal !== 'leaf' || p.keyBytes !== key.length) return false;
    return equalBytes(foldUp(trieLeafHash(key, value, hash), key, p.siblings, hash), root);
  } catch {
    return false;
  }
}

/**
 * Whether `proof` shows that `key` is absent from the trie with `root`: the
 * path ends at an empty subtree, or at a leaf with another key. Never throws.
 */
export function verifyTrieExclusion(
  root: Uint8Array,
  key: Uint8Array,
  proof: TrieProof | Uint8Array,
  opts: HashOpts = {},
): boolean {
  try {
    const hash = opts.hash ?? sha256Noble;
    if (!isBytes(root, 32) || !isBytes(key)) return false;
    const p = asProof(proof);
    if (p.keyBytes !== key.length) return false;
    const depth = p.siblings.length;
    let bottom: Uint8Array;
    if (p.terminal === 'empty') {
      bottom = ZERO_HASH;
    } else if (p.terminal === 'other') {
      const other = p.otherKey!;
      if (equalBytes(other, key) || !samePrefixBits(other, key, depth)) return false;
      bottom = trieLeafHashFromValueHash(other, p.otherValueHash!, hash);
    } else {
      return false;
    }
    return equalBytes(foldUp(bottom, key, p.siblings, hash), root);
  } catch {
    return false;
  }
}

/**
 * Whether `entries` are exactly the entries of the trie with `root` whose keys
 * start with `prefix`: none missing, none added, none altered (the wallet's
 * "these are all my outputs"). `entries` must be sorted by key with no
 * duplicates, as {@link StateTrie.provePrefix} returns them. Never throws.
 */
export function verifyTrieCompleteness(
  root: Uint8Array,
  prefix: Uint8Array,
  entries: readonly TrieEntry[],
  proof: TrieProof | Uint8Array,
  opts: HashOpts = {},
): boolean {
  try {
    const hash = opts.hash ?? sha256Noble;
    if (!isBytes(root, 32) || !isBytes(prefix) || !Array.isArray(entries)) return false;
    const p = asProof(proof);
    const prefixBits = prefix.length * 8;
    if (prefix.length > p.keyBytes) return false;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!isBytes(e?.key, p.keyBytes) || !isBytes(e.value)) return false;
      if (!samePrefixBits(e.key, prefix, prefixBits)) return false;
      if (i > 0 && compareBytes(entries[i - 1]!.key, e.key) >= 0) return false;
    }
    // The path is walked along the prefix, padded with zero bits past its end
    // (a terminal deeper than the prefix is only valid for `subtree`, at exactly its depth).
    const path = new Uint8Array(p.keyBytes);
    path.set(prefix);
    const depth = p.siblings.length;
    let bottom: Uint8Array;
    switch (p.terminal) {
      case 'empty':
        if (entries.length !== 0 || depth > prefixBits) return false;
        bottom = ZERO_HASH;
        break;
      case 'other': {
        const other = p.otherKey!;
        if (entries.length !== 0 || depth > prefixBits) return false;
        if (!samePrefixBits(other, path, depth) || samePrefixBits(other, path, prefixBits)) {
          return false;
        }
        bottom = trieLeafHashFromValueHash(other, p.otherValueHash!, hash);
        break;
      }
      case 'leaf':
        if (entries.length !== 1 || depth > prefixBits) return false;
        bottom = trieLeafHash(entries[0]!.key, entries[0]!.value, hash);
        break;
      case 'subtree':
        if (entries.length < 2 || depth !== prefixBits) return false;
        bottom = trieSubtreeHash(entries, depth, hash);
        break;
    }
    return equalBytes(foldUp(bottom, path, p.siblings, hash), root);
  } catch {
    return false;
  }
}
