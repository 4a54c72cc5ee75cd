/**
 * Block headers, validator sets, block-signature payloads and finality
 * certificates (docs/PROTOCOL.md 7), with one canonical byte encoding each
 * (docs/PROTOCOL.md 1). Browser-safe: the wallet verifies
 * certificates with this module.
 *
 * Byte layouts (integers big-endian, docs/PROTOCOL.md 1):
 *
 * ```
 * Header v1 (221)  u8 version = 1 ‖ chainId (32) ‖ u64 height (= round) ‖ leader (32)
 *                  ‖ prevBlockHash (32; zeros for the first block) ‖ u64 timestamp
 *                  ‖ u32 txCount ‖ stateRoot (32) ‖ historyRoot (32) ‖ u64 historySize
 *                  ‖ validatorSetHash (32, of the set for height + 1)
 * ValidatorSet     u16 n (1..1024) ‖ n × (validatorId (32) ‖ publicKey (32) ‖ u64 stake)
 *                  sorted by validatorId, no id twice, validatorId = sha256("pos/validator" ‖ publicKey)
 * BlockSig  (104)  u64 height ‖ blockHash (32) ‖ signature (64)      (event payload kind 1)
 * Certificate      u64 height ‖ blockHash (32) ‖ u16 n (1..1024) ‖ n × (validatorId (32) ‖ signature (64))
 *                  sorted by validatorId, no id twice
 * ```
 *
 * `blockHash = sha256("pos/block" ‖ Header)`, `validatorSetHash =
 * sha256("pos/valset" ‖ ValidatorSet)`. A signature is Ed25519 over the
 * 32-byte blockHash under the acceptance rule of docs/PROTOCOL.md 2 ({@link verifyEd25519}).
 * A certificate is valid when its signers hold a supermajority of the set's
 * stake: `3·signed > 2·total` (bigint).
 */
import {
  bytesKey,
  compareBytes,
  equalBytes,
  type HashFn,
  sha256Noble,
  taggedHash,
} from '@pos/merkle';
import { Reader, Writer } from './codec.js';
import { verifyEd25519 } from './ed25519.js';
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import { formatAmount, fromHex, parseAmount, toHex } from './json.js';

/** Version byte of the header encoding. */
export const BLOCK_VERSION = 1;
/** Encoded size of a {@link BlockHeader}. */
export const BLOCK_HEADER_BYTES = 221;
/** Encoded size of a {@link BlockSignature} payload. */
export const BLOCK_SIGNATURE_BYTES = 104;
/** Event payload kind of a block signature (docs/PROTOCOL.md 6.1). */
export const BLOCK_SIGNATURE_PAYLOAD_KIND = 1;
/** Domain tag of the block hash. */
export const BLOCK_TAG = 'pos/block';
/** Domain tag of the validator-set hash. */
export const VALSET_TAG = 'pos/valset';
/** Domain tag of a validatorId (docs/PROTOCOL.md 2; as in genesis, 6.4). */
export const VALIDATOR_TAG = 'pos/validator';
/** Members of a validator set, and signatures in a certificate: 1..1024. */
export const MAX_VALIDATORS = 1024;

/** A block header, version 1 (docs/PROTOCOL.md 7). */
export interface BlockHeader {
  readonly chainId: Uint8Array;
  /** The block's height, equal to the consensus round (< 2^53). */
  readonly height: number;
  /** The hash of the round's leader event. */
  readonly leader: Uint8Array;
  /** The previous block's hash; 32 zero bytes for the first block. */
  readonly prevBlockHash: Uint8Array;
  /** ms since the epoch (< 2^53). */
  readonly timestamp: number;
  /** u32. */
  readonly txCount: number;
  readonly stateRoot: Uint8Array;
  readonly historyRoot: Uint8Array;
  /** Leaves in the history log after this block (< 2^53). */
  readonly historySize: number;
  /** {@link validatorSetHash} of the set that signs height + 1. */
  readonly validatorSetHash: Uint8Array;
}

/** One member of a validator set. */
export interface Validator {
  /** `sha256("pos/validator" ‖ publicKey)`. */
  readonly validatorId: Uint8Array;
  /** Ed25519 public key (32). */
  readonly publicKey: Uint8Array;
  /** u64 stake (docs/PROTOCOL.md 6.5). */
  readonly stake: bigint;
}

/** The validators of one height, sorted by validatorId (docs/PROTOCOL.md 6.5, 7). */
export interface ValidatorSet {
  readonly validators: readonly Validator[];
}

/** The payload (kind 1) by which a validator publishes its signature of a block. */
export interface BlockSignature {
  readonly height: number;
  readonly blockHash: Uint8Array;
  /** Ed25519(validator key, blockHash). */
  readonly signature: Uint8Array;
}

/** One signature of a certificate. */
export interface CertificateSignature {
  readonly validatorId: Uint8Array;
  readonly signature: Uint8Array;
}

/** A finality certificate: signatures over one block hash, sorted by validatorId. */
export interface FinalityCertificate {
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly signatures: readonly CertificateSignature[];
}

/** JSON form of a {@link BlockHeader}: bytes as `0x` hex, integers as numbers. */
export interface BlockHeaderJSON {
  chainId: string;
  height: number;
  leader: string;
  prevBlockHash: string;
  timestamp: number;
  txCount: number;
  stateRoot: string;
  historyRoot: string;
  historySize: number;
  validatorSetHash: string;
}

/** JSON form of a {@link ValidatorSet}: stakes as decimal strings. */
export interface ValidatorSetJSON {
  validators: { validatorId: string; publicKey: string; stake: string }[];
}

/** JSON form of a {@link FinalityCertificate}. */
export interface FinalityCertificateJSON {
  height: number;
  blockHash: string;
  signatures: { validatorId: string; signature: string }[];
}

// --- helpers -------------------------------------------------------------------

function fail(code: ProtocolErrorCode, message: string): never {
  throw new ProtocolError(code, message);
}

function isBytes(b: unknown, n: number): b is Uint8Array {
  return b instanceof Uint8Array && b.length === n;
}

function checkBytes(b: unknown, n: number, what: string): void {
  if (!isBytes(b, n)) fail('BAD_ARGUMENT', `${what} must be ${n} bytes`);
}

function checkSafe(v: unknown, max: number, what: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    fail('BAD_ARGUMENT', `${what} must be an integer in 0..${max}`);
  }
}

/** A plain object with exactly `keys`; throws `BAD_ARGUMENT`. */
function plain(o: unknown, keys: readonly string[], what: string): Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    fail('BAD_ARGUMENT', `${what} must be an object`);
  }
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!keys.includes(k)) fail('BAD_ARGUMENT', `${what}: unknown key ${JSON.stringify(k)}`);
  }
  for (const k of keys) if (!(k in r)) fail('BAD_ARGUMENT', `${what}: missing ${k}`);
  return r;
}

function jsonSafe(v: unknown, max: number, what: string): number {
  checkSafe(v, max, what);
  return v as number;
}

/** `sha256("pos/validator" ‖ publicKey)`, the validatorId (docs/PROTOCOL.md 2). */
export function validatorIdOfKey(publicKey: Uint8Array, hash: HashFn = sha256Noble): Uint8Array {
  checkBytes(publicKey, 32, 'publicKey');
  return taggedHash(VALIDATOR_TAG, publicKey, hash);
}

// --- header --------------------------------------------------------------------

function checkHeader(h: BlockHeader): void {
  if (typeof h !== 'object' || h === null) fail('BAD_ARGUMENT', 'header must be an object');
  checkBytes(h.chainId, 32, 'chainId');
  checkSafe(h.height, Number.MAX_SAFE_INTEGER, 'height');
  checkBytes(h.leader, 32, 'leader');
  checkBytes(h.prevBlockHash, 32, 'prevBlockHash');
  checkSafe(h.timestamp, Number.MAX_SAFE_INTEGER, 'timestamp');
  checkSafe(h.txCount, 0xffffffff, 'txCount');
  checkBytes(h.stateRoot, 32, 'stateRoot');
  checkBytes(h.historyRoot, 32, 'historyRoot');
  checkSafe(h.historySize, Number.MAX_SAFE_INTEGER, 'historySize');
  checkBytes(h.validatorSetHash, 32, 'validatorSetHash');
}

/**
 * The canonical encoding of a header (221 bytes, layout in the module
 * comment; docs/PROTOCOL.md 7). Throws `BAD_ARGUMENT` for a field of the
 * wrong length or range.
 */
export function encodeBlockHeader(h: BlockHeader): Uint8Array {
  checkHeader(h);
  return new Writer(BLOCK_HEADER_BYTES)
    .u8(BLOCK_VERSION)
    .bytes(h.chainId, 32)
    .u64safe(h.height)
    .bytes(h.leader, 32)
    .bytes(h.prevBlockHash, 32)
    .u64safe(h.timestamp)
    .u32be(h.txCount)
    .bytes(h.stateRoot, 32)
    .bytes(h.historyRoot, 32)
    .u64safe(h.historySize)
    .bytes(h.validatorSetHash, 32)
    .finish();
}

/**
 * Decodes a header strictly: version 1, exact length, integers below 2^53.
 * Throws `ProtocolError('BAD_ENCODING')` otherwise.
 */
export function decodeBlockHeader(bytes: Uint8Array): BlockHeader {
  const r = new Reader(bytes);
  r.u8(BLOCK_VERSION, BLOCK_VERSION, 'version');
  const h: BlockHeader = {
    chainId: r.bytes(32, 'chainId'),
    height: r.u64safe(0, Number.MAX_SAFE_INTEGER, 'height'),
    leader: r.bytes(32, 'leader'),
    prevBlockHash: r.bytes(32, 'prevBlockHash'),
    timestamp: r.u64safe(0, Number.MAX_SAFE_INTEGER, 'timestamp'),
    txCount: r.u32be(0, 0xffffffff, 'txCount'),
    stateRoot: r.bytes(32, 'stateRoot'),
    historyRoot: r.bytes(32, 'historyRoot'),
    historySize: r.u64safe(0, Number.MAX_SAFE_INTEGER, 'historySize'),
    validatorSetHash: r.bytes(32, 'validatorSetHash'),
  };
  r.end();
  return h;
}

/** `blockHash = sha256("pos/block" ‖ encodeBlockHeader(h))` (docs/PROTOCOL.md 7). */
export function blockHashOf(h: BlockHeader, hash: HashFn = sha256Noble): Uint8Array {
  return taggedHash(BLOCK_TAG, encodeBlockHeader(h), hash);
}

/** The JSON form of a header (docs/PROTOCOL.md 1 conventions). */
export function blockHeaderToJSON(h: BlockHeader): BlockHeaderJSON {
  checkHeader(h);
  return {
    chainId: toHex(h.chainId),
    height: h.height,
    leader: toHex(h.leader),
    prevBlockHash: toHex(h.prevBlockHash),
    timestamp: h.timestamp,
    txCount: h.txCount,
    stateRoot: toHex(h.stateRoot),
    historyRoot: toHex(h.historyRoot),
    historySize: h.historySize,
    validatorSetHash: toHex(h.validatorSetHash),
  };
}

/**
 * Parses the JSON form of a header: exactly the keys of {@link BlockHeaderJSON},
 * strict hex of the right length, safe integers. Throws `BAD_ARGUMENT` or `BAD_HEX`.
 */
export function blockHeaderFromJSON(j: unknown): BlockHeader {
  const o = plain(
    j,
    [
      'chainId',
      'height',
      'leader',
      'prevBlockHash',
      'timestamp',
      'txCount',
      'stateRoot',
      'historyRoot',
      'historySize',
      'validatorSetHash',
    ],
    'header',
  );
  return {
    chainId: fromHex(o.chainId, 32),
    height: jsonSafe(o.height, Number.MAX_SAFE_INTEGER, 'height'),
    leader: fromHex(o.leader, 32),
    prevBlockHash: fromHex(o.prevBlockHash, 32),
    timestamp: jsonSafe(o.timestamp, Number.MAX_SAFE_INTEGER, 'timestamp'),
    txCount: jsonSafe(o.txCount, 0xffffffff, 'txCount'),
    stateRoot: fromHex(o.stateRoot, 32),
    historyRoot: fromHex(o.historyRoot, 32),
    historySize: jsonSafe(o.historySize, Number.MAX_SAFE_INTEGER, 'historySize'),
    validatorSetHash: fromHex(o.validatorSetHash, 32),
  };
}

// --- validator set -------------------------------------------------------------

/**
 * The set's rule violation, or null: 1..1024 members, sorted strictly by
 * validatorId, each id the hash of its key, stakes u64.
 */
function validatorSetProblem(s: ValidatorSet, hash: HashFn): string | null {
  if (typeof s !== 'object' || s === null || !Array.isArray(s.validators)) {
    return 'validator set must have a validators array';
  }
  const vs = s.validators;
  if (vs.length < 1 || vs.length > MAX_VALIDATORS) {
    return `a validator set has 1..${MAX_VALIDATORS} members`;
  }
  for (let i = 0; i < vs.length; i++) {
    const v = vs[i]!;
    if (!isBytes(v.validatorId, 32) || !isBytes(v.publicKey, 32)) {
      return `validator ${i}: validatorId and publicKey must be 32 bytes`;
    }
    if (typeof v.stake !== 'bigint' || v.stake < 0n || v.stake >= 1n << 64n) {
      return `validator ${i}: stake must be a u64 bigint`;
    }
    if (!equalBytes(taggedHash(VALIDATOR_TAG, v.publicKey, hash), v.validatorId)) {
      return `validator ${i}: validatorId is not the hash of its publicKey`;
    }
    if (i > 0 && compareBytes(vs[i - 1]!.validatorId, v.validatorId) >= 0) {
      return 'validators must be sorted by validatorId, without duplicates';
    }
  }
  return null;
}

/**
 * The canonical encoding of a validator set (layout in the module comment).
 * Throws `BAD_ARGUMENT` for a set that breaks a rule (unsorted, duplicate,
 * id not matching its key, empty, more than 1024 members).
 */
export function encodeValidatorSet(s: ValidatorSet, hash: HashFn = sha256Noble): Uint8Array {
  const p = validatorSetProblem(s, hash);
  if (p !== null) fail('BAD_ARGUMENT', p);
  const w = new Writer(2 + s.validators.length * 72).u16be(s.validators.length);
  for (const v of s.validators) w.bytes(v.validatorId, 32).bytes(v.publicKey, 32).u64be(v.stake);
  return w.finish();
}

/** Decodes a validator set strictly; throws `BAD_ENCODING` on any rule broken. */
export function decodeValidatorSet(bytes: Uint8Array, hash: HashFn = sha256Noble): ValidatorSet {
  const r = new Reader(bytes);
  const n = r.u16be(1, MAX_VALIDATORS, 'validator count');
  const validators: Validator[] = [];
  for (let i = 0; i < n; i++) {
    validators.push({
      validatorId: r.bytes(32, 'validatorId'),
      publicKey: r.bytes(32, 'publicKey'),
      stake: r.u64be(0n, (1n << 64n) - 1n, 'stake'),
    });
  }
  r.end();
  const s = { validators };
  const p = validatorSetProblem(s, hash);
  if (p !== null) fail('BAD_ENCODING', p);
  return s;
}

/** `sha256("pos/valset" ‖ encodeValidatorSet(s))`, committed in headers (docs/PROTOCOL.md 7). */
export function validatorSetHash(s: ValidatorSet, hash: HashFn = sha256Noble): Uint8Array {
  return taggedHash(VALSET_TAG, encodeValidatorSet(s, hash), hash);
}

/** Builds a sorted validator set from public keys and stakes (ids computed). */
export function makeValidatorSet(
  members: readonly { publicKey: Uint8Array; stake: bigint }[],
  hash: HashFn = sha256Noble,
): ValidatorSet {
  const validators = members
    .map((m) => ({
      validatorId: validatorIdOfKey(m.publicKey, hash),
      publicKey: m.publicKey,
      stake: m.stake,
    }))
    .sort((a, b) => compareBytes(a.validatorId, b.validatorId));
  const s = { validators };
  const p = validatorSetProblem(s, hash);
  if (p !== null) fail('BAD_ARGUMENT', p);
  return s;
}

/** The JSON form of a validator set (stakes as decimal strings). */
export function validatorSetToJSON(s: ValidatorSet, hash: HashFn = sha256Noble): ValidatorSetJSON {
  const p = validatorSetProblem(s, hash);
  if (p !== null) fail('BAD_ARGUMENT', p);
  return {
    validators: s.validators.map((v) => ({
      validatorId: toHex(v.validatorId),
      publicKey: toHex(v.publicKey),
      stake: formatAmount(v.stake),
    })),
  };
}

/** Parses the JSON form of a validator set, with the rules of {@link encodeValidatorSet}. */
export function validatorSetFromJSON(j: unknown, hash: HashFn = sha256Noble): ValidatorSet {
  const o = plain(j, ['validators'], 'validator set');
  if (!Array.isArray(o.validators)) fail('BAD_ARGUMENT', 'validators must be an array');
  const validators = o.validators.map((x: unknown, i: number) => {
    const v = plain(x, ['validatorId', 'publicKey', 'stake'], `validator ${i}`);
    return {
      validatorId: fromHex(v.validatorId, 32),
      publicKey: fromHex(v.publicKey, 32),
      stake: parseAmount(v.stake),
    };
  });
  const s = { validators };
  const p = validatorSetProblem(s, hash);
  if (p !== null) fail('BAD_ARGUMENT', p);
  return s;
}

// --- block-signature payload ---------------------------------------------------

/** The event payload (kind 1) `u64 height ‖ blockHash ‖ signature` (104 bytes). */
export function encodeBlockSignature(s: BlockSignature): Uint8Array {
  checkSafe(s.height, Number.MAX_SAFE_INTEGER, 'height');
  checkBytes(s.blockHash, 32, 'blockHash');
  checkBytes(s.signature, 64, 'signature');
  return new Writer(BLOCK_SIGNATURE_BYTES)
    .u64safe(s.height)
    .bytes(s.blockHash, 32)
    .bytes(s.signature, 64)
    .finish();
}

/** Decodes a block-signature payload strictly (exactly 104 bytes); throws `BAD_ENCODING`. */
export function decodeBlockSignature(bytes: Uint8Array): BlockSignature {
  const r = new Reader(bytes);
  const s = {
    height: r.u64safe(0, Number.MAX_SAFE_INTEGER, 'height'),
    blockHash: r.bytes(32, 'blockHash'),
    signature: r.bytes(64, 'signature'),
  };
  r.end();
  return s;
}

// --- certificate ---------------------------------------------------------------

function certificateProblem(c: FinalityCertificate): string | null {
  if (typeof c !== 'object' || c === null) return 'certificate must be an object';
  if (typeof c.height !== 'number' || !Number.isSafeInteger(c.height) || c.height < 0) {
    return 'height must be a safe integer';
  }
  if (!isBytes(c.blockHash, 32)) return 'blockHash must be 32 bytes';
  if (!Array.isArray(c.signatures)) return 'signatures must be an array';
  const ss = c.signatures;
  if (ss.length < 1 || ss.length > MAX_VALIDATORS) {
    return `a certificate has 1..${MAX_VALIDATORS} signatures`;
  }
  for (let i = 0; i < ss.length; i++) {
    const s = ss[i]!;
    if (!isBytes(s.validatorId, 32) || !isBytes(s.signature, 64)) {
      return `signature ${i}: validatorId must be 32 bytes and signature 64`;
    }
    if (i > 0 && compareBytes(ss[i - 1]!.validatorId, s.validatorId) >= 0) {
      return 'signatures must be sorted by validatorId, without duplicates';
    }
  }
  return null;
}

/**
 * The canonical encoding of a certificate (layout in the module comment).
 * Throws `BAD_ARGUMENT` for unsorted or duplicate signers, none or more than 1024.
 */
export function encodeCertificate(c: FinalityCertificate): Uint8Array {
  const p = certificateProblem(c);
  if (p !== null) fail('BAD_ARGUMENT', p);
  const w = new Writer(42 + c.signatures.length * 96)
    .u64safe(c.height)
    .bytes(c.blockHash, 32)
    .u16be(c.signatures.length);
  for (const s of c.signatures) w.bytes(s.validatorId, 32).bytes(s.signature, 64);
  return w.finish();
}

/** Decodes a certificate strictly; throws `BAD_ENCODING`. */
export function decodeCertificate(bytes: Uint8Array): FinalityCertificate {
  const r = new Reader(bytes);
  const height = r.u64safe(0, Number.MAX_SAFE_INTEGER, 'height');
  const blockHash = r.bytes(32, 'blockHash');
  const n = r.u16be(1, MAX_VALIDATORS, 'signature count');
  const signatures: CertificateSignature[] = [];
  for (let i = 0; i < n; i++) {
    signatures.push({
      validatorId: r.bytes(32, 'validatorId'),
      signature: r.bytes(64, 'signature'),
    });
  }
  r.end();
  const c = { height, blockHash, signatures };
  const p = certificateProblem(c);
  if (p !== null) fail('BAD_ENCODING', p);
  return c;
}

/** The JSON form of a certificate. */
export function certificateToJSON(c: FinalityCertificate): FinalityCertificateJSON {
  const p = certificateProblem(c);
  if (p !== null) fail('BAD_ARGUMENT', p);
  return {
    height: c.height,
    blockHash: toHex(c.blockHash),
    signatures: c.signatures.map((s) => ({
      validatorId: toHex(s.validatorId),
      signature: toHex(s.signature),
    })),
  };
}

/** Parses the JSON form of a certificate, with the rules of {@link encodeCertificate}. */
export function certificateFromJSON(j: unknown): FinalityCertificate {
  const o = plain(j, ['height', 'blockHash', 'signatures'], 'certificate');
  if (!Array.isArray(o.signatures)) fail('BAD_ARGUMENT', 'signatures must be an array');
  const c = {
    height: jsonSafe(o.height, Number.MAX_SAFE_INTEGER, 'height'),
    blockHash: fromHex(o.blockHash, 32),
    signatures: o.signatures.map((x: unknown, i: number) => {
      const s = plain(x, ['validatorId', 'signature'], `signature ${i}`);
      return { validatorId: fromHex(s.validatorId, 32), signature: fromHex(s.signature, 64) };
    }),
  };
  const p = certificateProblem(c);
  if (p !== null) fail('BAD_ARGUMENT', p);
  return c;
}

/** `3·signed > 2·total` in bigint arithmetic (docs/PROTOCOL.md 2, 7). */
export function isSupermajorityStake(signed: bigint, total: bigint): boolean {
  return 3n * signed > 2n * total;
}

/** Why {@link verifyCertificate} refused a certificate. */
export type CertificateFailure =
  | 'MALFORMED_HEADER'
  | 'MALFORMED_SET'
  | 'MALFORMED_CERTIFICATE'
  | 'HEIGHT_MISMATCH'
  | 'HASH_MISMATCH'
  | 'DUPLICATE_SIGNER'
  | 'UNKNOWN_SIGNER'
  | 'BAD_SIGNATURE'
  | 'INSUFFICIENT_STAKE';

/** Result of {@link verifyCertificate}. */
export type CertificateVerdict =
  | { readonly ok: true; readonly signedStake: bigint; readonly totalStake: bigint }
  | { readonly ok: false; readonly reason: CertificateFailure };

/** A signature verifier with the signature of {@link verifyEd25519}. */
export type VerifyFn = (
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) => boolean;

/**
 * Verifies a finality certificate for `header` against `validatorSet`, the
 * set that signs the header's height (committed as `validatorSetHash` in the
 * previous header; the caller, who followed the sets from its trust anchor,
 * checks that; docs/PROTOCOL.md 7).
 *
 * Fails closed and never throws: the certificate's blockHash must equal
 * {@link blockHashOf}(header) and its height the header's; the signers must
 * be sorted, distinct members of the set, each signature valid over the
 * blockHash under `verify` (default: the acceptance rule of docs/PROTOCOL.md 2); and the
 * signed stake must be a supermajority, `3·signed > 2·total` (bigint).
 * Structural checks run before any signature is verified.
 */
export function verifyCertificate(
  header: BlockHeader,
  cert: FinalityCertificate,
  validatorSet: ValidatorSet,
  verify: VerifyFn = verifyEd25519,
  hash: HashFn = sha256Noble,
): CertificateVerdict {
  const no = (reason: CertificateFailure): CertificateVerdict => ({ ok: false, reason });
  try {
    let blockHash: Uint8Array;
    try {
      blockHash = blockHashOf(header, hash);
    } catch {
      return no('MALFORMED_HEADER');
    }
    if (validatorSetProblem(validatorSet, hash) !== null) return no('MALFORMED_SET');
    if (typeof cert !== 'object' || cert === null || !Array.isArray(cert.signatures)) {
      return no('MALFORMED_CERTIFICATE');
    }
    if (cert.height !== header.height) return no('HEIGHT_MISMATCH');
    if (!isBytes(cert.blockHash, 32) || !equalBytes(cert.blockHash, blockHash)) {
      return no('HASH_MISMATCH');
    }
    const members = new Map<string, Validator>();
    let totalStake = 0n;
    for (const v of validatorSet.validators) {
      members.set(bytesKey(v.validatorId), v);
      totalStake += v.stake;
    }
    const seen = new Set<string>();
    const signers: { v: Validator; signature: Uint8Array }[] = [];
    for (const s of cert.signatures) {
      if (typeof s !== 'object' || s === null) return no('MALFORMED_CERTIFICATE');
      if (!isBytes(s.validatorId, 32) || !isBytes(s.signature, 64)) {
        return no('MALFORMED_CERTIFICATE');
      }
      const k = bytesKey(s.validatorId);
      if (seen.has(k)) return no('DUPLICATE_SIGNER');
      seen.add(k);
      const v = members.get(k);
      if (v === undefined) return no('UNKNOWN_SIGNER');
      signers.push({ v, signature: s.signature });
    }
    // Canonical order (after the duplicate check, so that a repeated signer
    // is reported as such).
    if (certificateProblem(cert) !== null) return no('MALFORMED_CERTIFICATE');
    let signedStake = 0n;
    for (const { v } of signers) signedStake += v.stake;
    if (!isSupermajorityStake(signedStake, totalStake)) return no('INSUFFICIENT_STAKE');
    for (const { v, signature } of signers) {
      if (verify(v.publicKey, blockHash, signature) !== true) return no('BAD_SIGNATURE');
    }
    return { ok: true, signedStake, totalStake };
  } catch {
    return no('MALFORMED_CERTIFICATE');
  }
}
