/**
 * Proofs about the binary Merkle-PATRICIA (crit-bit) state trie: inclusion,
 * exclusion and prefix completeness, their canonical binary and JSON forms,
 * and verifiers.
 *
 * Hashing (docs/PROTOCOL.md 3.1): leaf `H(0x00 ‖ key ‖ H(value))`,
 * internal node `H(0x01 ‖ u16be(bit) ‖ left ‖ right)` where `bit` is the node's
 * split bit, empty trie = 32 zero bytes. Every internal node has two non-empty
 * children, so a proof is a path from the root down to a *terminal* position
 * with, at each level, the split bit and the hash of the sibling.
 *
 * Nothing here imports the trie: the wallet verifies with this module alone.
 */
import {
  bitAt,
  compareBytes,
  equalBytes,
  firstDiffBit,
  fromHex,
  samePrefixBits,
  toHex,
} from './bytes.js';
import { MerkleError } from './errors.js';
import { type HashFn, type HashOpts, sha256Noble, ZERO_HASH } from './hash.js';

/** Version byte of every trie proof encoding this module writes (2: crit-bit levels). */
export const TRIE_PROOF_VERSION = 2;
/** Type byte of a trie path proof (the log's proofs use 0x02 and 0x03). */
export const TRIE_PROOF_TYPE = 0x01;

/**
 * Where the proven path ends:
 * - `empty`: the trie is empty (zero levels, root `ZERO`);
 * - `leaf`: the leaf the verifier supplies (the key itself, or the one entry under the prefix);
 * - `other`: a leaf with another key where the crit-bit search ends (so the key, or
 *   every key under the prefix, is absent);
 * - `subtree`: the node holding everything under the prefix, rebuilt from the entries
 *   (prefix proofs only).
 */
export type TrieTerminal = 'empty' | 'leaf' | 'other' | 'subtree';

const TERMINALS: readonly TrieTerminal[] = ['empty', 'leaf', 'other', 'subtree'];

/** One internal node on a proof's path: its split bit and the hash of the child not taken. */
export interface TrieProofLevel {
  /** Split bit of the node (0 ≤ bit < 8·keyBytes); strictly increasing down the path. */
  bit: number;
  /** Hash of the sibling subtree (never empty). */
  sibling: Uint8Array;
}

/** A trie path proof, decoded. */
export interface TrieProof {
  terminal: TrieTerminal;
  /** Key length of the trie in bytes. */
  keyBytes: number;
  /** The internal nodes on the path, root first. */
  levels: TrieProofLevel[];
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

/** `H(0x01 ‖ u16be(bit) ‖ left ‖ right)`: an internal node splitting on `bit`. */
export function trieNodeHash(
  bit: number,
  left: Uint8Array,
  right: Uint8Array,
  hash: HashFn = sha256Noble,
): Uint8Array {
  const buf = new Uint8Array(67);
  buf[0] = 0x01;
  buf[1] = bit >>> 8;
  buf[2] = bit & 0xff;
  buf.set(left, 3);
  buf.set(right, 35);
  return hash(buf);
}

/**
 * Crit-bit hash of the trie holding exactly `entries` (sorted by key,
 * distinct, all of one key length): `ZERO` for none, the leaf hash for one,
 * otherwise a node splitting at the first bit where the first and last keys
 * differ, over the two halves. This is also the hash of the subtree of a
 * larger trie that holds exactly these entries. Throws `BAD_PROOF` on
 * unsorted, duplicate or mixed-length input.
 */
export function trieSubtreeHash(
  entries: readonly TrieEntry[],
  hash: HashFn = sha256Noble,
): Uint8Array {
  for (let i = 1; i < entries.length; i++) {
    const a = entries[i - 1]!.key;
    const b = entries[i]!.key;
    if (a.length !== b.length) throw new MerkleError('BAD_PROOF', 'mixed key lengths');
    if (compareBytes(a, b) >= 0) throw new MerkleError('BAD_PROOF', 'entries not sorted');
  }
  const rec = (lo: number, hi: number): Uint8Array => {
    if (hi === lo) return ZERO_HASH;
    if (hi - lo === 1) return trieLeafHash(entries[lo]!.key, entries[lo]!.value, hash);
    // Sorted and distinct: the keys share bits [0, d) and bit d runs 0…0 1…1.
    const d = firstDiffBit(entries[lo]!.key, entries[hi - 1]!.key);
    let mid = lo + 1;
    while (bitAt(entries[mid]!.key, d) === 0) mid++;
    return trieNodeHash(d, rec(lo, mid), rec(mid, hi), hash);
  };
  return rec(0, entries.length);
}

/**
 * Folds `bottom` up through `levels` to the root; at each level the path went
 * right iff `dir(bit)` is 1.
 */
function foldUp(
  bottom: Uint8Array,
  levels: readonly TrieProofLevel[],
  dir: (bit: number) => 0 | 1,
  hash: HashFn,
): Uint8Array {
  // One scratch preimage for the whole walk: verification is hash-bound, and
  // an allocation per level costs about as much as the hash call itself.
  const buf = new Uint8Array(67);
  buf[0] = 0x01;
  let h = bottom;
  for (let i = levels.length - 1; i >= 0; i--) {
    const { bit, sibling } = levels[i]!;
    buf[1] = bit >>> 8;
    buf[2] = bit & 0xff;
    if (dir(bit) === 0) {
      buf.set(h, 3);
      buf.set(sibling, 35);
    } else {
      buf.set(sibling, 3);
      buf.set(h, 35);
    }
    h = hash(buf);
  }
  return h;
}

// ---------------------------------------------------------------------------
// Binary form: [version][type][keyBytes][count u16be]([bit u16be][sibling])*[other?]
// ---------------------------------------------------------------------------

/** Canonical binary encoding of a trie proof. Throws on a malformed proof object. */
export function encodeTrieProof(proof: TrieProof): Uint8Array {
  checkShape(proof);
  const count = proof.levels.length;
  const otherLen = proof.terminal === 'other' ? proof.keyBytes + 32 : 0;
  const out = new Uint8Array(5 + 34 * count + otherLen);
  out[0] = TRIE_PROOF_VERSION;
  // Low nibble: proof type; high nibble: terminal kind.
  out[1] = TRIE_PROOF_TYPE | (TERMINALS.indexOf(proof.terminal) << 4);
  out[2] = proof.keyBytes;
  out[3] = count >>> 8;
  out[4] = count & 0xff;
  let off = 5;
  for (const { bit, sibling } of proof.levels) {
    out[off] = bit >>> 8;
    out[off + 1] = bit & 0xff;
    out.set(sibling, off + 2);
    off += 34;
  }
  if (proof.terminal === 'other') {
    out.set(proof.otherKey!, off);
    out.set(proof.otherValueHash!, off + proof.keyBytes);
  }
  return out;
}

/**
 * Decodes the canonical binary form; throws `MerkleError('BAD_ENCODING')` on
 * anything else (wrong version or type, split bits not strictly increasing or
 * beyond the key, a zero sibling, levels on an `empty` terminal, short or long
 * input).
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
  const count = (bytes[3]! << 8) | bytes[4]!;
  if (count > keyBytes * 8) fail('more levels than key bits');
  if (terminal === 'empty' && count !== 0) fail('levels above an empty terminal');
  const otherLen = terminal === 'other' ? keyBytes + 32 : 0;
  if (bytes.length < 5 + 34 * count + otherLen) fail('truncated');
  if (bytes.length > 5 + 34 * count + otherLen) fail('trailing bytes');
  const levels: TrieProofLevel[] = new Array(count);
  let off = 5;
  let prev = -1;
  for (let i = 0; i < count; i++) {
    const bit = (bytes[off]! << 8) | bytes[off + 1]!;
    if (bit <= prev) fail('split bits not strictly increasing');
    if (bit >= keyBytes * 8) fail('split bit beyond the key');
    const sibling = bytes.slice(off + 2, off + 34);
    if (equalBytes(sibling, ZERO_HASH)) fail('empty sibling');
    levels[i] = { bit, sibling };
    prev = bit;
    off += 34;
  }
  const proof: TrieProof = { terminal, keyBytes, levels };
  if (terminal === 'other') {
    proof.otherKey = bytes.slice(off, off + keyBytes);
    proof.otherValueHash = bytes.slice(off + keyBytes, off + keyBytes + 32);
  }
  return proof;
}

/** JSON form of a trie proof (hex at the edge, docs/PROTOCOL.md 1). */
export interface TrieProofJSON {
  version: 2;
  terminal: TrieTerminal;
  keyBytes: number;
  levels: { bit: number; sibling: string }[];
  otherKey?: string;
  otherValueHash?: string;
}

/** JSON form of a proof; see {@link trieProofFromJSON}. */
export function trieProofToJSON(proof: TrieProof): TrieProofJSON {
  checkShape(proof);
  const json: TrieProofJSON = {
    version: TRIE_PROOF_VERSION,
    terminal: proof.terminal,
    keyBytes: proof.keyBytes,
    levels: proof.levels.map((l) => ({ bit: l.bit, sibling: toHex(l.sibling) })),
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
  const isObject = (x: unknown): x is Record<string, unknown> =>
    typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!isObject(json)) return fail('not an object');
  const o = json;
  const isOther = o.terminal === 'other';
  const allowed = isOther
    ? ['version', 'terminal', 'keyBytes', 'levels', 'otherKey', 'otherValueHash']
    : ['version', 'terminal', 'keyBytes', 'levels'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`unexpected key ${k}`);
  if (o.version !== TRIE_PROOF_VERSION) fail('unknown version');
  if (typeof o.terminal !== 'string' || !TERMINALS.includes(o.terminal as TrieTerminal)) {
    fail('bad terminal');
  }
  if (!Number.isInteger(o.keyBytes)) fail('bad keyBytes');
  if (!Array.isArray(o.levels)) fail('bad levels');
  const levels = (o.levels as unknown[]).map((l): TrieProofLevel => {
    if (!isObject(l)) return fail('bad level');
    for (const k of Object.keys(l)) if (k !== 'bit' && k !== 'sibling') fail(`unexpected key ${k}`);
    if (!Number.isInteger(l.bit)) fail('bad bit');
    return { bit: l.bit as number, sibling: fromHex(l.sibling, 32) };
  });
  const proof: TrieProof = {
    terminal: o.terminal as TrieTerminal,
    keyBytes: o.keyBytes as number,
    levels,
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
  if (typeof p !== 'object' || p === null) fail('not an object');
  if (!TERMINALS.includes(p.terminal)) fail('bad terminal');
  if (!Number.isInteger(p.keyBytes) || p.keyBytes < 1 || p.keyBytes > 255) fail('bad keyBytes');
  const maxBit = p.keyBytes * 8;
  if (!Array.isArray(p.levels) || p.levels.length > maxBit) fail('bad levels');
  if (p.terminal === 'empty' && p.levels.length !== 0) fail('levels above an empty terminal');
  let prev = -1;
  for (const l of p.levels) {
    if (typeof l !== 'object' || l === null) fail('bad level');
    if (!Number.isInteger(l.bit) || l.bit <= prev || l.bit >= maxBit) fail('bad split bit');
    if (!(l.sibling instanceof Uint8Array) || l.sibling.length !== 32) fail('bad sibling');
    if (equalBytes(l.sibling, ZERO_HASH)) fail('empty sibling');
    prev = l.bit;
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
    const bottom = trieLeafHash(key, value, hash);
    return equalBytes(
      foldUp(bottom, p.levels, (b) => bitAt(key, b), hash),
      root,
    );
  } catch {
    return false;
  }
}

/**
 * Whether `proof` shows that `key` is absent from the trie with `root`: the
 * trie is empty, or the crit-bit search for `key` ends at a leaf with another
 * key. Sound for a root of an honestly built trie (a certified state root),
 * where a present key is always where its search ends. Never throws.
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
    let bottom: Uint8Array;
    if (p.terminal === 'empty') {
      if (p.levels.length !== 0) return false;
      bottom = ZERO_HASH;
    } else if (p.terminal === 'other') {
      const other = p.otherKey!;
      if (equalBytes(other, key)) return false;
      // The search for `key` went where `otherKey`'s bits go at every split.
      for (const l of p.levels) if (bitAt(other, l.bit) !== bitAt(key, l.bit)) return false;
      bottom = trieLeafHashFromValueHash(other, p.otherValueHash!, hash);
    } else {
      return false;
    }
    return equalBytes(
      foldUp(bottom, p.levels, (b) => bitAt(key, b), hash),
      root,
    );
  } catch {
    return false;
  }
}

/**
 * Whether `entries` are exactly the entries of the trie with `root` whose keys
 * start with `prefix`: none missing, none added, none altered (the wallet's
 * "these are all my outputs"). `entries` must be sorted by key with no
 * duplicates, as {@link StateTrie.provePrefix} returns them. Like exclusion,
 * sound for the root of an honestly built trie. Never throws.
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
    const levels = p.levels;
    // Levels above the prefix's own bits follow the prefix.
    const allAbove = () => levels.every((l) => l.bit < prefixBits);
    let bottom: Uint8Array;
    let dir = (b: number) => bitAt(prefix, b);
    switch (p.terminal) {
      case 'empty':
        if (entries.length !== 0 || levels.length !== 0) return false;
        bottom = ZERO_HASH;
        break;
      case 'other': {
        // The search for the prefix leaves the splits < p at a node whose
        // keys all share bits [0, p) with the witness, which lacks the prefix.
        const other = p.otherKey!;
        if (entries.length !== 0 || samePrefixBits(other, prefix, prefixBits)) return false;
        dir = (b) => (b < prefixBits ? bitAt(prefix, b) : bitAt(other, b));
        for (const l of levels) if (bitAt(other, l.bit) !== dir(l.bit)) return false;
        bottom = trieLeafHashFromValueHash(other, p.otherValueHash!, hash);
        break;
      }
      case 'leaf':
        if (entries.length !== 1 || !allAbove()) return false;
        bottom = trieLeafHash(entries[0]!.key, entries[0]!.value, hash);
        break;
      case 'subtree':
        if (entries.length < 2 || !allAbove()) return false;
        bottom = trieSubtreeHash(entries, hash);
        break;
    }
    return equalBytes(foldUp(bottom, levels, dir, hash), root);
  } catch {
    return false;
  }
}
