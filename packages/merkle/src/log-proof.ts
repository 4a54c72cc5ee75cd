/**
 * Proofs about the history log: RFC 9162 inclusion (2.1.3) and consistency
 * (2.1.4) proofs, their canonical binary and JSON forms, and verifiers that
 * follow the RFC's verification algorithms (2.1.3.2, 2.1.4.2) step by step.
 *
 * Hashing (RFC 9162 2.1.1, = RFC 6962): leaf `H(0x00 ‖ data)`, node
 * `H(0x01 ‖ left ‖ right)`, empty tree `H("")`.
 *
 * Nothing here imports the log or a store: the wallet verifies with this
 * module alone.
 */
import { equalBytes, fromHex, readU64be, toHex, u64be } from './bytes.js';
import { MerkleError } from './errors.js';
import { type HashFn, type HashOpts, sha256Noble } from './hash.js';

/** Version byte of every log proof encoding this module writes. */
export const LOG_PROOF_VERSION = 1;
/** Type byte of an inclusion proof (the trie's proofs use 0x01). */
export const LOG_INCLUSION_PROOF_TYPE = 0x02;
/** Type byte of a consistency proof. */
export const LOG_CONSISTENCY_PROOF_TYPE = 0x03;

/** RFC 9162 2.1.3.1 inclusion proof: `path` = `PATH(leafIndex, D[0:treeSize])`, leaf side first. */
export interface LogInclusionProof {
  leafIndex: number;
  treeSize: number;
  path: Uint8Array[];
}

/** RFC 9162 2.1.4.1 consistency proof: `path` = `PROOF(fromSize, D[0:toSize])`. */
export interface LogConsistencyProof {
  fromSize: number;
  toSize: number;
  path: Uint8Array[];
}

/** JSON form of a {@link LogInclusionProof} (hex at the edge, docs/PROTOCOL.md 1). */
export interface LogInclusionProofJSON {
  leafIndex: number;
  treeSize: number;
  path: string[];
}

/** JSON form of a {@link LogConsistencyProof}. */
export interface LogConsistencyProofJSON {
  fromSize: number;
  toSize: number;
  path: string[];
}

// ---------------------------------------------------------------------------
// Hashing (RFC 9162 2.1.1)
// ---------------------------------------------------------------------------

/** Leaf hash `H(0x00 ‖ data)` (RFC 9162 2.1.1). */
export function leafHash(data: Uint8Array, opts: HashOpts = {}): Uint8Array {
  const buf = new Uint8Array(1 + data.length);
  buf[0] = 0x00;
  buf.set(data, 1);
  return (opts.hash ?? sha256Noble)(buf);
}

/** Internal node hash `H(0x01 ‖ left ‖ right)` (RFC 9162 2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array, opts: HashOpts = {}): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return (opts.hash ?? sha256Noble)(buf);
}

/** Root of the empty log, `H("")` (RFC 9162 2.1.1: `MTH({}) = HASH()`). */
export function emptyRoot(opts: HashOpts = {}): Uint8Array {
  return (opts.hash ?? sha256Noble)(new Uint8Array(0));
}

// ---------------------------------------------------------------------------
// Size arithmetic. Sizes go up to 2^53 - 1, beyond JS's 32-bit bit operators:
// shifts are divisions (exact on safe integers), XOR works on 32-bit halves.
// ---------------------------------------------------------------------------

const TWO_32 = 2 ** 32;

const half = (x: number) => Math.floor(x / 2);
const lsb = (x: number) => x % 2 === 1;

function bitLength(x: number): number {
  if (x < TWO_32) return 32 - Math.clz32(x);
  return 64 - Math.clz32(Math.floor(x / TWO_32));
}

function popCount(x: number): number {
  let n = 0;
  for (let v = x; v !== 0; v = half(v)) if (lsb(v)) n++;
  return n;
}

function trailingZeros(x: number): number {
  let n = 0;
  for (let v = x; v !== 0 && !lsb(v); v = half(v)) n++;
  return n;
}

function xor(a: number, b: number): number {
  const hi = (Math.floor(a / TWO_32) ^ Math.floor(b / TWO_32)) >>> 0;
  return hi * TWO_32 + (((a >>> 0) ^ (b >>> 0)) >>> 0);
}

function isSize(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

/**
 * Exact length of `PATH(leafIndex, D[0:treeSize])` (RFC 9162 2.1.3.1), for
 * `leafIndex < treeSize`: the levels below the point where the paths to
 * `leafIndex` and to the last leaf part (`inner`), plus one entry per left
 * sibling above it (`border`).
 */
export function logInclusionPathLength(leafIndex: number, treeSize: number): number {
  if (!isSize(leafIndex) || !isSize(treeSize) || leafIndex >= treeSize) {
    throw new MerkleError('OUT_OF_RANGE', 'need 0 <= leafIndex < treeSize');
  }
  const inner = bitLength(xor(leafIndex, treeSize - 1));
  return inner + popCount(Math.floor(leafIndex / 2 ** inner));
}

/**
 * Exact length of `PROOF(fromSize, D[0:toSize])` (RFC 9162 2.1.4.1) for
 * `fromSize ≤ toSize`; 0 when `fromSize` is 0 or equals `toSize`. It is the
 * inclusion path of leaf `fromSize - 1` less the levels inside the perfect
 * subtree that ends at `fromSize`, plus that subtree's own hash unless it is
 * the whole old tree (then the verifier already has it: the old root).
 */
export function logConsistencyPathLength(fromSize: number, toSize: number): number {
  if (!isSize(fromSize) || !isSize(toSize) || fromSize > toSize) {
    throw new MerkleError('OUT_OF_RANGE', 'need 0 <= fromSize <= toSize');
  }
  if (fromSize === 0 || fromSize === toSize) return 0;
  const inner = bitLength(xor(fromSize - 1, toSize - 1));
  const border = popCount(Math.floor((fromSize - 1) / 2 ** inner));
  const shift = trailingZeros(fromSize);
  const seed = 2 ** shift === fromSize ? 0 : 1;
  return seed + inner - shift + border;
}

// ---------------------------------------------------------------------------
// Shape checks (throw; the verifiers catch)
// ---------------------------------------------------------------------------

function checkPath(path: unknown, expected: number, fail: (why: string) => never): void {
  if (!Array.isArray(path)) fail('path is not an array');
  const p = path as unknown[];
  if (p.length !== expected) fail(`path has ${p.length} entries, the sizes need ${expected}`);
  for (const h of p) if (!(h instanceof Uint8Array) || h.length !== 32) fail('bad path entry');
}

function checkInclusion(p: LogInclusionProof, code: 'BAD_PROOF' | 'BAD_ENCODING'): void {
  const fail = (why: string): never => {
    throw new MerkleError(code, `log inclusion proof: ${why}`);
  };
  if (typeof p !== 'object' || p === null) fail('not an object');
  if (!isSize(p.leafIndex) || !isSize(p.treeSize) || p.leafIndex >= p.treeSize) {
    fail('need integers 0 <= leafIndex < treeSize');
  }
  checkPath(p.path, logInclusionPathLength(p.leafIndex, p.treeSize), fail);
}

function checkConsistency(p: LogConsistencyProof, code: 'BAD_PROOF' | 'BAD_ENCODING'): void {
  const fail = (why: string): never => {
    throw new MerkleError(code, `log consistency proof: ${why}`);
  };
  if (typeof p !== 'object' || p === null) fail('not an object');
  if (!isSize(p.fromSize) || !isSize(p.toSize) || p.fromSize > p.toSize) {
    fail('need integers 0 <= fromSize <= toSize');
  }
  checkPath(p.path, logConsistencyPathLength(p.fromSize, p.toSize), fail);
}

// ---------------------------------------------------------------------------
// Binary form: [version][type][u64be a][u64be b][u8 count][count × 32]
// ---------------------------------------------------------------------------

const HEADER = 19;

function encode(type: number, a: number, b: number, path: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(HEADER + 32 * path.length);
  out[0] = LOG_PROOF_VERSION;
  out[1] = type;
  out.set(u64be(a), 2);
  out.set(u64be(b), 10);
  out[18] = path.length;
  for (let i = 0; i < path.length; i++) out.set(path[i]!, HEADER + 32 * i);
  return out;
}

function decode(bytes: Uint8Array, type: number, what: string): [number, number, Uint8Array[]] {
  const fail = (why: string): never => {
    throw new MerkleError('BAD_ENCODING', `log ${what} proof: ${why}`);
  };
  if (!(bytes instanceof Uint8Array)) fail('not bytes');
  if (bytes.length < HEADER) fail('truncated header');
  if (bytes[0] !== LOG_PROOF_VERSION) fail(`unknown version ${bytes[0]}`);
  if (bytes[1] !== type) fail(`not a ${what} proof (type ${bytes[1]})`);
  const a = readU64be(bytes, 2);
  const b = readU64be(bytes, 10);
  const count = bytes[18]!;
  if (bytes.length !== HEADER + 32 * count) fail('length does not match the path count');
  const path: Uint8Array[] = [];
  for (let i = 0; i < count; i++) path.push(bytes.slice(HEADER + 32 * i, HEADER + 32 * (i + 1)));
  return [a, b, path];
}

/** Canonical binary encoding (`0x01 ‖ 0x02 ‖ u64be(leafIndex) ‖ u64be(treeSize) ‖ u8(count) ‖ path`). Throws on a malformed proof. */
export function encodeLogInclusionProof(proof: LogInclusionProof): Uint8Array {
  checkInclusion(proof, 'BAD_PROOF');
  return encode(LOG_INCLUSION_PROOF_TYPE, proof.leafIndex, proof.treeSize, proof.path);
}

/**
 * Decodes the canonical binary form; throws `MerkleError('BAD_ENCODING')` on
 * anything else: other version or type, short or long input, a size above
 * 2^53 - 1, `leafIndex ≥ treeSize`, or a path count other than the RFC's.
 */
export function decodeLogInclusionProof(bytes: Uint8Array): LogInclusionProof {
  const [leafIndex, treeSize, path] = decode(bytes, LOG_INCLUSION_PROOF_TYPE, 'inclusion');
  const proof = { leafIndex, treeSize, path };
  checkInclusion(proof, 'BAD_ENCODING');
  return proof;
}

/** Canonical binary encoding (`0x01 ‖ 0x03 ‖ u64be(fromSize) ‖ u64be(toSize) ‖ u8(count) ‖ path`). Throws on a malformed proof. */
export function encodeLogConsistencyProof(proof: LogConsistencyProof): Uint8Array {
  checkConsistency(proof, 'BAD_PROOF');
  return encode(LOG_CONSISTENCY_PROOF_TYPE, proof.fromSize, proof.toSize, proof.path);
}

/**
 * Decodes the canonical binary form; throws `MerkleError('BAD_ENCODING')` on
 * anything else (as {@link decodeLogInclusionProof}, with `fromSize ≤ toSize`).
 */
export function decodeLogConsistencyProof(bytes: Uint8Array): LogConsistencyProof {
  const [fromSize, toSize, path] = decode(bytes, LOG_CONSISTENCY_PROOF_TYPE, 'consistency');
  const proof = { fromSize, toSize, path };
  checkConsistency(proof, 'BAD_ENCODING');
  return proof;
}

// ---------------------------------------------------------------------------
// JSON form
// ---------------------------------------------------------------------------

function jsonObject(json: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  const fail = (why: string): never => {
    throw new MerkleError('BAD_ENCODING', `log ${what} proof JSON: ${why}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('not an object');
  const o = json as Record<string, unknown>;
  const got = Object.keys(o);
  if (got.length !== keys.length || !keys.every((k) => Object.hasOwn(o, k))) {
    fail(`expected exactly the keys ${keys.join(', ')}`);
  }
  for (const k of keys.slice(0, 2)) {
    if (!isSize(o[k])) fail(`${k} is not a safe non-negative integer`);
  }
  if (!Array.isArray(o.path)) fail('path is not an array');
  return o;
}

/** JSON form of an inclusion proof; see {@link logInclusionProofFromJSON}. Throws on a malformed proof. */
export function logInclusionProofToJSON(proof: LogInclusionProof): LogInclusionProofJSON {
  checkInclusion(proof, 'BAD_PROOF');
  return { leafIndex: proof.leafIndex, treeSize: proof.treeSize, path: proof.path.map(toHex) };
}

/**
 * Strict parser of `{ "leafIndex", "treeSize", "path": ["0x…"] }`: exactly
 * these keys, safe non-negative integers, 32-byte lowercase `0x` hex, and the
 * canonical path length. Throws `MerkleError` (`BAD_ENCODING`, or `BAD_HEX`).
 */
export function logInclusionProofFromJSON(json: unknown): LogInclusionProof {
  const o = jsonObject(json, ['leafIndex', 'treeSize', 'path'], 'inclusion');
  const proof: LogInclusionProof = {
    leafIndex: o.leafIndex as number,
    treeSize: o.treeSize as number,
    path: (o.path as unknown[]).map((h) => fromHex(h, 32)),
  };
  checkInclusion(proof, 'BAD_ENCODING');
  return proof;
}

/** JSON form of a consistency proof; see {@link logConsistencyProofFromJSON}. Throws on a malformed proof. */
export function logConsistencyProofToJSON(proof: LogConsistencyProof): LogConsistencyProofJSON {
  checkConsistency(proof, 'BAD_PROOF');
  return { fromSize: proof.fromSize, toSize: proof.toSize, path: proof.path.map(toHex) };
}

/** Strict parser of `{ "fromSize", "toSize", "path": ["0x…"] }` (rules as {@link logInclusionProofFromJSON}). */
export function logConsistencyProofFromJSON(json: unknown): LogConsistencyProof {
  const o = jsonObject(json, ['fromSize', 'toSize', 'path'], 'consistency');
  const proof: LogConsistencyProof = {
    fromSize: o.fromSize as number,
    toSize: o.toSize as number,
    path: (o.path as unknown[]).map((h) => fromHex(h, 32)),
  };
  checkConsistency(proof, 'BAD_ENCODING');
  return proof;
}

// ---------------------------------------------------------------------------
// Verifiers: booleans, fail closed, never throw.
// ---------------------------------------------------------------------------

function snapshot(path: unknown): Uint8Array[] {
  return (Array.isArray(path) ? [...path] : path) as Uint8Array[];
}

function isHash(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array && x.length === 32;
}

/** The leaf a verifier is handed: its data (hashed here), or its leaf hash. */
export type LogLeaf = Uint8Array | { leafHash: Uint8Array };

/**
 * Whether `proof` shows `leaf` at `proof.leafIndex` in the log of
 * `proof.treeSize` leaves whose root is `root` (RFC 9162 2.1.3.2). `leaf` is
 * the leaf's data (bytes), or `{ leafHash }` when the caller holds only the
 * hash; `proof` is the object or its binary encoding. False on any malformed,
 * tampered or foreign input; never throws.
 *
 * A root alone does not commit to its tree size, and some (index, size)
 * pairs hash alike (`PATH(0, D[3])` also verifies as `PATH(0, D[4])` against
 * the same root): take `root` and `proof.treeSize` together from one signed
 * checkpoint, and check that `proof.treeSize` is that checkpoint's size.
 */
export function verifyLogInclusion(
  root: Uint8Array,
  leaf: LogLeaf,
  proof: LogInclusionProof | Uint8Array,
  opts: HashOpts = {},
): boolean {
  try {
    const hash: HashFn = opts.hash ?? sha256Noble;
    if (!isHash(root)) return false;
    let hashed: Uint8Array;
    if (leaf instanceof Uint8Array) hashed = leafHash(leaf, { hash });
    else if (typeof leaf === 'object' && leaf !== null && isHash(leaf.leafHash)) {
      hashed = leaf.leafHash;
    } else return false;
    // Snapshot a caller's object, so that what is checked is what gets hashed.
    const p: LogInclusionProof =
      proof instanceof Uint8Array
        ? decodeLogInclusionProof(proof)
        : { leafIndex: proof.leafIndex, treeSize: proof.treeSize, path: snapshot(proof.path) };
    // Also rejects leafIndex >= treeSize (step 1) and any path of the wrong length.
    checkInclusion(p, 'BAD_PROOF');
    // RFC 9162 2.1.3.2 steps 2 to 5.
    let fn = p.leafIndex;
    let sn = p.treeSize - 1;
    let r = hashed;
    for (const c of p.path) {
      if (sn === 0) return false;
      if (lsb(fn) || fn === sn) {
        r = nodeHash(c, r, { hash });
        if (!lsb(fn)) {
          while (!lsb(fn) && fn !== 0) {
            fn = half(fn);
            sn = half(sn);
          }
        }
      } else {
        r = nodeHash(r, c, { hash });
      }
      fn = half(fn);
      sn = half(sn);
    }
    return sn === 0 && equalBytes(r, root);
  } catch {
    return false;
  }
}

/**
 * Whether `proof` shows that the log with root `oldRoot` at `proof.fromSize`
 * is a prefix of the log with root `newRoot` at `proof.toSize` (RFC 9162
 * 2.1.4.2). `proof` is the object or its binary encoding. Never throws.
 *
 * The RFC defines consistency proofs for `0 < fromSize < toSize` only; the
 * other cases are decided here as follows (the path must be empty in both):
 * - `fromSize == toSize`: true iff `oldRoot` equals `newRoot` (and, at size 0,
 *   equals the empty root `H("")`);
 * - `fromSize == 0 < toSize`: the empty log is a prefix of every log, so true
 *   iff `oldRoot` is the empty root `H("")`; `newRoot` is not constrained
 *   beyond being 32 bytes (nothing about it can be proven from an empty path).
 *
 * As for inclusion, the sizes are only as good as their source: take each
 * root with its size from a signed checkpoint and compare them with
 * `proof.fromSize` and `proof.toSize`.
 */
export function verifyLogConsistency(
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: LogConsistencyProof | Uint8Array,
  opts: HashOpts = {},
): boolean {
  try {
    const hash: HashFn = opts.hash ?? sha256Noble;
    if (!isHash(oldRoot) || !isHash(newRoot)) return false;
    const p: LogConsistencyProof =
      proof instanceof Uint8Array
        ? decodeLogConsistencyProof(proof)
        : { fromSize: proof.fromSize, toSize: proof.toSize, path: snapshot(proof.path) };
    // Also rejects fromSize > toSize and any path of the wrong length (which
    // covers the RFC's step 1: a non-trivial proof is never empty).
    checkConsistency(p, 'BAD_PROOF');
    const { fromSize, toSize } = p;
    if (fromSize === 0) {
      const empty = emptyRoot({ hash });
      return equalBytes(oldRoot, empty) && (toSize > 0 || equalBytes(newRoot, empty));
    }
    if (fromSize === toSize) return equalBytes(oldRoot, newRoot);
    // RFC 9162 2.1.4.2 step 2: a power-of-two old tree is itself a subtree of
    // the new one, so the proof omits its hash and the verifier supplies it.
    const path = isPowerOfTwo(fromSize) ? [oldRoot, ...p.path] : p.path;
    // Steps 3 to 4.
    let fn = fromSize - 1;
    let sn = toSize - 1;
    while (lsb(fn)) {
      fn = half(fn);
      sn = half(sn);
    }
    // Step 5.
    let fr = path[0]!;
    let sr = path[0]!;
    // Step 6.
    for (let i = 1; i < path.length; i++) {
      const c = path[i]!;
      if (sn === 0) return false;
      if (lsb(fn) || fn === sn) {
        fr = nodeHash(c, fr, { hash });
        sr = nodeHash(c, sr, { hash });
        if (!lsb(fn)) {
          while (!lsb(fn) && fn !== 0) {
            fn = half(fn);
            sn = half(sn);
          }
        }
      } else {
        sr = nodeHash(sr, c, { hash });
      }
      fn = half(fn);
      sn = half(sn);
    }
    // Step 7.
    return sn === 0 && equalBytes(fr, oldRoot) && equalBytes(sr, newRoot);
  } catch {
    return false;
  }
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && 2 ** (bitLength(n) - 1) === n;
}
