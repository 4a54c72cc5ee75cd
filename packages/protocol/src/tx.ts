/**
 * Transactions, version 1 (docs/PROTOCOL.md 6.2), with one canonical byte
 * encoding (docs/PROTOCOL.md 1), the trie keys of their outputs (6.3) and the
 * receipts the history log stores (4 and 6.3).
 *
 * Byte layouts (integers big-endian, docs/PROTOCOL.md 1):
 *
 * ```
 * Output    (72)  u64 amount (> 0) ‖ owner (32, Ed25519 public key) ‖ host (32, validatorId)
 * Outpoint  (34)  txHash (32) ‖ u16 index
 * TxBody          u8 version (1, or 2 with a registration) ‖ chainId (32)
 *                 ‖ u16 nIn (1..256)  ‖ nIn × Outpoint  (no outpoint twice)
 *                 ‖ u16 nOut (1..256) ‖ nOut × Output
 *                 ‖ u64 fee ‖ u16 memoLen (0..256) ‖ memo
 *                 [version 2: ‖ pubkey (32) ‖ u16 len ‖ name (0..64 bytes UTF-8)
 *                             ‖ u16 len ‖ p2p (1..128 bytes UTF-8)]
 * SignedTx        TxBody ‖ u16 nSig (1..nIn, +1 with a registration)
 *                 ‖ nSig × (publicKey (32) ‖ signature (64)),
 *                 sorted by publicKey ascending, no key twice; at most 64 KiB in all
 * Receipt   (47)  u8 version = 1 ‖ txHash (32) ‖ u8 status (0 committed, 1 rejected)
 *                 ‖ u8 reason (0 iff committed, else 1 + its position in REJECT_REASONS)
 *                 ‖ u64 height ‖ u32 index
 * ```
 *
 * `txHash = sha256("pos/tx" ‖ TxBody)`: signatures are outside the hash, so
 * a re-signed or malleated signature can never change a transaction's id, and
 * every signer signs the same 32 bytes. The ledger accepts a transaction only
 * with exactly one valid signature per distinct input owner; the codec cannot
 * know the owners (they are in the state), so it bounds `nSig` by `nIn` (a
 * valid transaction never has more owners than inputs).
 *
 * A **registration** (version 2, docs/PROTOCOL.md 6.2 and 6.5) is an ordinary
 * transfer (it pays at least the fee from its inputs) that also records a
 * validator's public key, display name and p2p endpoint in the ledger. The
 * validator's key must sign it too, so nobody registers a key they do not
 * hold; the ledger then requires exactly the input owners plus that key.
 */
import { bytesKey, compareBytes, type HashFn, sha256Noble, taggedHash } from '@pos/merkle';
import { Reader, Writer } from './codec.js';
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import { formatAmount, fromHex, parseAmount, toHex } from './json.js';
import { utf8Decoder, utf8Encoder } from './utf8.js';

/** Version byte of {@link TxBody} encodings. */
export const TX_VERSION = 1;
/** Version byte of a {@link TxBody} that carries a {@link Registration}. */
export const TX_VERSION_REGISTER = 2;
/** Body version of a transfer that also carries a name operation (docs/PROTOCOL.md 6.6). */
export const TX_VERSION_NAME = 3;
/** Name operations and their wire codes (docs/PROTOCOL.md 6.6). */
export const NAME_OPS = ['register', 'transfer', 'release'] as const;
/** Most bytes of a name on the wire; the ledger's name rule is stricter (`nameProblem`). */
const NAME_WIRE_MAX = 64;
/** Bounds of a registration's strings, in UTF-8 bytes (as the genesis validators'). */
export const REGISTRATION_LIMITS = Object.freeze({ nameBytes: 64, p2pBytes: 128 });
/** Inputs per transaction: 1..256. */
export const MAX_TX_INPUTS = 256;
/** Outputs per transaction: 1..256. */
export const MAX_TX_OUTPUTS = 256;
/** Memo length in bytes: 0..256. */
export const MAX_MEMO_BYTES = 256;
/**
 * Upper bound on a signed transaction's encoding. The count limits already
 * cap it at 52,017 bytes; the decoder checks this bound first anyway, so a
 * hostile blob is refused before any parsing.
 */
export const MAX_TX_BYTES = 64 * 1024;
/** Encoded size of an {@link Output}. */
export const OUTPUT_BYTES = 72;
/** Encoded size of an {@link Outpoint}. */
export const OUTPOINT_BYTES = 34;
/** Encoded size of a {@link Receipt}. */
export const RECEIPT_BYTES = 47;
/** Version byte of {@link Receipt} encodings. */
export const RECEIPT_VERSION = 1;

/** Domain tag of the transaction hash (over the body encoding). */
export const TX_HASH_TAG = 'pos/tx';
/** Domain tag of an outpoint's id, the second half of an output's trie key. */
export const OUTPOINT_TAG = 'pos/outpoint';
/**
 * Domain tag of the id of bytes that do not decode as a transaction (the
 * receipt of a `MALFORMED` transaction needs some id). A tag of its own, so
 * that bytes which happen to be a valid *body* can never get a receipt under
 * that body's real txHash.
 */
export const MALFORMED_TX_TAG = 'pos/bad-tx';

/** An unspent (or spent) output: `amount` coins of `owner`, hosted by validator `host` (docs/PROTOCOL.md 6.5). */
export interface Output {
  /** u64, > 0. */
  readonly amount: bigint;
  /** Ed25519 public key (32 bytes) whose signature spends it. */
  readonly owner: Uint8Array;
  /** validatorId (32 bytes) whose stake this output counts for. */
  readonly host: Uint8Array;
}

/** Names an output: the transaction that created it and its position there. */
export interface Outpoint {
  /** The creating transaction's hash (the chainId for genesis outputs). */
  readonly txHash: Uint8Array;
  /** u16 position among that transaction's outputs. */
  readonly index: number;
}

/** The signed part of a transaction. */
export interface TxBody {
  /** The chain this transaction is for (docs/PROTOCOL.md 2: every signed object commits to it). */
  readonly chainId: Uint8Array;
  /** Outputs spent, in the creator's order; 1..256, no outpoint twice. */
  readonly inputs: readonly Outpoint[];
  /** Outputs created; 1..256. */
  readonly outputs: readonly Output[];
  /** u64 fee, burned by the ledger. */
  readonly fee: bigint;
  /** 0..256 bytes of anything. */
  readonly memo: Uint8Array;
  /** Registers (or re-registers) a validator; its `pubkey` must sign the transaction. */
  readonly register?: Registration;
  /** A name operation (version 3; not with `register`). */
  readonly name?: NameOp;
}

/**
 * A name operation (docs/PROTOCOL.md 6.6): `register` gives a free name to
 * `owner` (who must sign), `transfer` gives the caller's name to `owner`, and
 * `release` frees it (the current owner must sign both).
 */
export interface NameOp {
  readonly op: (typeof NAME_OPS)[number];
  /** 1..64 bytes of UTF-8 on the wire; the ledger refuses what breaks the name rule. */
  readonly name: string;
  /** The new owner: present iff `op` is `register` or `transfer`. */
  readonly owner?: Uint8Array;
}

/** A validator's registration (docs/PROTOCOL.md 6.5): what peers and wallets learn of it. */
export interface Registration {
  /** Ed25519 public key (32 bytes); the validatorId is `sha256("pos/validator" ‖ pubkey)`. */
  readonly pubkey: Uint8Array;
  /** Display name, 0..64 bytes of UTF-8. */
  readonly name: string;
  /** Peer-sync endpoint (`host:port`), 1..128 bytes of UTF-8. */
  readonly p2p: string;
}

/** One owner's Ed25519 signature over the 32-byte txHash. */
export interface TxSignature {
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

/** A body with its signatures, sorted by public key ascending. */
export interface SignedTx {
  readonly body: TxBody;
  readonly signatures: readonly TxSignature[];
}

/** Why the ledger rejected a transaction; the receipt code is 1 + the position here. */
export const REJECT_REASONS = [
  'MALFORMED',
  'WRONG_CHAIN',
  'FEE_TOO_LOW',
  'UNKNOWN_INPUT',
  'INPUT_SPENT',
  'UNBALANCED',
  'BAD_SIGNATURE',
  'BAD_NAME',
  'NAME_RESERVED',
  'NAME_TAKEN',
  'NOT_NAME_OWNER',
] as const;
/** One of {@link REJECT_REASONS}. */
export type RejectReason = (typeof REJECT_REASONS)[number];

/** What happened to one transaction of a block: the history log's leaf data. */
export interface Receipt {
  readonly txHash: Uint8Array;
  readonly status: 'committed' | 'rejected';
  /** Present iff `status` is `rejected`. */
  readonly reason?: RejectReason;
  /** Height of the block. */
  readonly height: number;
  /** Position of the transaction in the block (u32). */
  readonly index: number;
}

// --- rules -------------------------------------------------------------------

/**
 * The checks below run on every path in: `encode*` and JSON parsing throw
 * `BAD_TX`, `decode*` throw `BAD_ENCODING`. One set of rules, so that anything
 * `encodeTx` accepts decodes, and anything `decodeTx` accepts re-encodes to the
 * same bytes.
 */
type RuleCode = Extract<ProtocolErrorCode, 'BAD_TX' | 'BAD_ENCODING'>;

function fail(code: ProtocolErrorCode, message: string): never {
  throw new ProtocolError(code, message);
}

function isBytes(v: unknown, n: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length === n;
}

function checkBytes(v: unknown, n: number, what: string, code: RuleCode): void {
  if (!isBytes(v, n)) fail(code, `${what} must be ${n} bytes`);
}

function checkOutput(o: Output, what: string, code: RuleCode): void {
  if (typeof o !== 'object' || o === null) fail(code, `${what} must be an object`);
  if (typeof o.amount !== 'bigint' || o.amount <= 0n || o.amount >= 1n << 64n) {
    fail(code, `${what}.amount must be a u64 above 0`);
  }
  checkBytes(o.owner, 32, `${what}.owner`, code);
  checkBytes(o.host, 32, `${what}.host`, code);
}

function checkOutpoint(p: Outpoint, what: string, code: RuleCode): void {
  if (typeof p !== 'object' || p === null) fail(code, `${what} must be an object`);
  checkBytes(p.txHash, 32, `${what}.txHash`, code);
  if (!Number.isInteger(p.index) || p.index < 0 || p.index > 0xffff) {
    fail(code, `${what}.index must be a u16`);
  }
}

function checkBody(body: TxBody, code: RuleCode): void {
  if (typeof body !== 'object' || body === null) fail(code, 'body must be an object');
  checkBytes(body.chainId, 32, 'chainId', code);
  const { inputs, outputs } = body;
  if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > MAX_TX_INPUTS) {
    fail(code, `inputs: 1..${MAX_TX_INPUTS} required`);
  }
  const seen = new Set<string>();
  inputs.forEach((p, i) => {
    checkOutpoint(p, `inputs[${i}]`, code);
    const k = `${bytesKey(p.txHash)}/${p.index}`;
    if (seen.has(k)) fail(code, `inputs[${i}] spends an outpoint twice`);
    seen.add(k);
  });
  if (!Array.isArray(outputs) || outputs.length < 1 || outputs.length > MAX_TX_OUTPUTS) {
    fail(code, `outputs: 1..${MAX_TX_OUTPUTS} required`);
  }
  for (let i = 0; i < outputs.length; i++) checkOutput(outputs[i]!, `outputs[${i}]`, code);
  if (typeof body.fee !== 'bigint' || body.fee < 0n || body.fee >= 1n << 64n) {
    fail(code, 'fee must be a u64');
  }
  if (!(body.memo instanceof Uint8Array) || body.memo.length > MAX_MEMO_BYTES) {
    fail(code, `memo must be at most ${MAX_MEMO_BYTES} bytes`);
  }
  if (body.register !== undefined) {
    const g = body.register;
    if (typeof g !== 'object' || g === null) fail(code, 'register must be an object');
    checkBytes(g.pubkey, 32, 'register.pubkey', code);
    const name = utf8Bytes(g.name, 'register.name', code);
    if (name.length > REGISTRATION_LIMITS.nameBytes) {
      fail(code, `register.name: at most ${REGISTRATION_LIMITS.nameBytes} bytes`);
    }
    const p2p = utf8Bytes(g.p2p, 'register.p2p', code);
    if (p2p.length < 1 || p2p.length > REGISTRATION_LIMITS.p2pBytes) {
      fail(code, `register.p2p: 1..${REGISTRATION_LIMITS.p2pBytes} bytes`);
    }
  }
  if (body.name !== undefined) checkNameOp(body, code);
}

function checkNameOp(body: TxBody, code: RuleCode): void {
  const n = body.name!;
  if (body.register !== undefined) fail(code, 'a transaction has register or name, not both');
  if (typeof n !== 'object' || n === null) fail(code, 'name must be an object');
  if (!NAME_OPS.includes(n.op)) fail(code, `name.op must be one of ${NAME_OPS.join(', ')}`);
  const b = utf8Bytes(n.name, 'name.name', code);
  if (b.length < 1 || b.length > NAME_WIRE_MAX) fail(code, `name.name: 1..${NAME_WIRE_MAX} bytes`);
  if (n.op === 'release') {
    if (n.owner !== undefined) fail(code, 'name.owner: not with release');
  } else {
    checkBytes(n.owner, 32, 'name.owner', code);
  }
}

/** UTF-8 of `s`, refusing a non-string or a lone surrogate (it would not round-trip). */
function utf8Bytes(s: unknown, what: string, code: RuleCode): Uint8Array {
  if (typeof s !== 'string') fail(code, `${what} must be a string`);
  const b = utf8Encoder.encode(s);
  if (utf8Decoder.decode(b) !== s) fail(code, `${what} is not well-formed Unicode`);
  return b;
}

/** Most signatures a body can carry: one per input owner, plus the registered key or the name's owner. */
function maxSignatures(body: TxBody): number {
  return body.inputs.length + (body.register === undefined && body.name === undefined ? 0 : 1);
}

/** The body's version: 2 with a registration, 3 with a name operation, else 1. */
function versionOf(body: TxBody): number {
  if (body.register !== undefined) return TX_VERSION_REGISTER;
  return body.name === undefined ? TX_VERSION : TX_VERSION_NAME;
}

function checkSignatures(sigs: readonly TxSignature[], nIn: number, code: RuleCode): void {
  if (!Array.isArray(sigs) || sigs.length < 1 || sigs.length > nIn) {
    fail(code, `signatures: 1..${nIn} (the inputs, and a registered key) required`);
  }
  sigs.forEach((s, i) => {
    if (typeof s !== 'object' || s === null) fail(code, `signatures[${i}] must be an object`);
    checkBytes(s.publicKey, 32, `signatures[${i}].publicKey`, code);
    checkBytes(s.signature, 64, `signatures[${i}].signature`, code);
    if (i > 0 && compareBytes(sigs[i - 1]!.publicKey, s.publicKey) >= 0) {
      fail(code, 'signatures must be sorted by public key, without duplicates');
    }
  });
}

// --- binary ------------------------------------------------------------------

function writeOutput(w: Writer, o: Output): void {
  w.u64be(o.amount).bytes(o.owner, 32).bytes(o.host, 32);
}

function readOutput(r: Reader): Output {
  const amount = r.u64be(1n, undefined, 'amount');
  const owner = r.bytes(32, 'owner');
  return { amount, owner, host: r.bytes(32, 'host') };
}

function writeOutpoint(w: Writer, p: Outpoint): void {
  w.bytes(p.txHash, 32).u16be(p.index);
}

function readOutpoint(r: Reader): Outpoint {
  const txHash = r.bytes(32, 'txHash');
  return { txHash, index: r.u16be(0, 0xffff, 'index') };
}

function writeBody(w: Writer, b: TxBody): void {
  const reg = b.register;
  w.u8(versionOf(b)).bytes(b.chainId, 32).u16be(b.inputs.length);
  for (const p of b.inputs) writeOutpoint(w, p);
  w.u16be(b.outputs.length);
  for (const o of b.outputs) writeOutput(w, o);
  w.u64be(b.fee).varBytes(b.memo, MAX_MEMO_BYTES);
  if (reg !== undefined) {
    w.bytes(reg.pubkey, 32)
      .varBytes(utf8Encoder.encode(reg.name), REGISTRATION_LIMITS.nameBytes)
      .varBytes(utf8Encoder.encode(reg.p2p), REGISTRATION_LIMITS.p2pBytes);
  }
  const n = b.name;
  if (n !== undefined) {
    const nameBytes = utf8Encoder.encode(n.name);
    w.u8(NAME_OPS.indexOf(n.op) + 1)
      .u8(nameBytes.length)
      .bytes(nameBytes, nameBytes.length);
    if (n.owner !== undefined) w.bytes(n.owner, 32);
  }
}

function readUtf8(r: Reader, min: number, max: number, what: string): string {
  const b = r.varBytes(min, max, what);
  try {
    return utf8Decoder.decode(b);
  } catch {
    return fail('BAD_ENCODING', `${what} is not UTF-8`);
  }
}

function readNameOp(r: Reader): NameOp {
  const op = NAME_OPS[r.u8(1, NAME_OPS.length, 'name.op') - 1]!;
  const len = r.u8(1, NAME_WIRE_MAX, 'name length');
  let name: string;
  try {
    name = utf8Decoder.decode(r.bytes(len, 'name.name'));
  } catch {
    return fail('BAD_ENCODING', 'name.name is not UTF-8');
  }
  if (op === 'release') return { op, name };
  return { op, name, owner: r.bytes(32, 'name.owner') };
}

function readBody(r: Reader): TxBody {
  const version = r.u8(TX_VERSION, TX_VERSION_NAME, 'version');
  const chainId = r.bytes(32, 'chainId');
  const nIn = r.u16be(1, MAX_TX_INPUTS, 'input count');
  const inputs: Outpoint[] = [];
  for (let i = 0; i < nIn; i++) inputs.push(readOutpoint(r));
  const nOut = r.u16be(1, MAX_TX_OUTPUTS, 'output count');
  const outputs: Output[] = [];
  for (let i = 0; i < nOut; i++) outputs.push(readOutput(r));
  const fee = r.u64be(0n, undefined, 'fee');
  const memo = r.varBytes(0, MAX_MEMO_BYTES, 'memo');
  if (version === TX_VERSION) return { chainId, inputs, outputs, fee, memo };
  if (version === TX_VERSION_NAME) {
    return { chainId, inputs, outputs, fee, memo, name: readNameOp(r) };
  }
  const pubkey = r.bytes(32, 'register.pubkey');
  const name = readUtf8(r, 0, REGISTRATION_LIMITS.nameBytes, 'register.name');
  const p2p = readUtf8(r, 1, REGISTRATION_LIMITS.p2pBytes, 'register.p2p');
  return { chainId, inputs, outputs, fee, memo, register: { pubkey, name, p2p } };
}

/** The 72-byte encoding of an output (also its value in the state trie). Throws `BAD_TX`. */
export function encodeOutput(o: Output): Uint8Array {
  checkOutput(o, 'output', 'BAD_TX');
  const w = new Writer(OUTPUT_BYTES);
  writeOutput(w, o);
  return w.finish();
}

/** Decodes exactly 72 bytes. Throws `BAD_ENCODING` (a zero amount included). */
export function decodeOutput(bytes: Uint8Array): Output {
  const r = new Reader(bytes);
  const o = readOutput(r);
  r.end();
  return o;
}

/** The 34-byte encoding of an outpoint. Throws `BAD_TX`. */
export function encodeOutpoint(p: Outpoint): Uint8Array {
  checkOutpoint(p, 'outpoint', 'BAD_TX');
  const w = new Writer(OUTPOINT_BYTES);
  writeOutpoint(w, p);
  return w.finish();
}

/** Decodes exactly 34 bytes. Throws `BAD_ENCODING`. */
export function decodeOutpoint(bytes: Uint8Array): Outpoint {
  const r = new Reader(bytes);
  const p = readOutpoint(r);
  r.end();
  return p;
}

/** The canonical body encoding, the preimage of the txHash. Throws `BAD_TX`. */
export function encodeTxBody(body: TxBody): Uint8Array {
  checkBody(body, 'BAD_TX');
  const w = new Writer(512 + 34 * body.inputs.length + 72 * body.outputs.length);
  writeBody(w, body);
  return w.finish();
}

/** Decodes a body alone (what co-signers exchange). Throws `BAD_ENCODING`. */
export function decodeTxBody(bytes: Uint8Array): TxBody {
  if (!(bytes instanceof Uint8Array)) fail('BAD_ENCODING', 'input must be a Uint8Array');
  if (bytes.length > MAX_TX_BYTES) fail('BAD_ENCODING', 'transaction too large');
  const r = new Reader(bytes);
  const body = readBody(r);
  r.end();
  checkBody(body, 'BAD_ENCODING');
  return body;
}

/** The canonical signed-transaction encoding. Throws `BAD_TX` if any rule is broken. */
export function encodeTx(tx: SignedTx): Uint8Array {
  if (typeof tx !== 'object' || tx === null) fail('BAD_TX', 'tx must be an object');
  checkBody(tx.body, 'BAD_TX');
  checkSignatures(tx.signatures, maxSignatures(tx.body), 'BAD_TX');
  const w = new Writer(
    512 + 34 * tx.body.inputs.length + 72 * tx.body.outputs.length + 96 * tx.signatures.length,
  );
  writeBody(w, tx.body);
  w.u16be(tx.signatures.length);
  for (const s of tx.signatures) w.bytes(s.publicKey, 32).bytes(s.signature, 64);
  return w.finish();
}

/**
 * Decodes a signed transaction, rejecting (`BAD_ENCODING`) anything but the
 * canonical encoding: a size above {@link MAX_TX_BYTES}, another version,
 * counts out of range, a zero amount, a duplicate input, a memo above 256
 * bytes, unsorted or duplicate signatures, truncation or trailing bytes.
 */
export function decodeTx(bytes: Uint8Array): SignedTx {
  if (!(bytes instanceof Uint8Array)) fail('BAD_ENCODING', 'input must be a Uint8Array');
  if (bytes.length > MAX_TX_BYTES) fail('BAD_ENCODING', 'transaction too large');
  const r = new Reader(bytes);
  const body = readBody(r);
  const nSig = r.u16be(1, maxSignatures(body), 'signature count');
  const signatures: TxSignature[] = [];
  for (let i = 0; i < nSig; i++) {
    const publicKey = r.bytes(32, 'publicKey');
    signatures.push({ publicKey, signature: r.bytes(64, 'signature') });
  }
  r.end();
  checkBody(body, 'BAD_ENCODING');
  checkSignatures(signatures, maxSignatures(body), 'BAD_ENCODING');
  return { body, signatures };
}

/**
 * A decoded transaction that carries its id and its bytes, so that nothing
 * downstream decodes or hashes it again (as ethereumjs's transaction cache).
 */
export interface Tx extends SignedTx {
  /** The exact canonical bytes it was decoded from. */
  readonly bytes: Uint8Array;
  /** `txHashOf(body)`: its id, and the message every owner signed. */
  readonly txHash: Uint8Array;
}

/** {@link decodeTx}, then its id, once. Throws `ProtocolError('BAD_ENCODING')` as decodeTx does. */
export function readTx(bytes: Uint8Array, hash: HashFn = sha256Noble): Tx {
  const { body, signatures } = decodeTx(bytes);
  return { body, signatures, bytes, txHash: txHashOf(body, hash) };
}

/**
 * `sha256("pos/tx" ‖ encodeTxBody(body))`: the transaction's id and the
 * message every owner signs. Throws `BAD_TX` for an invalid body.
 */
export function txHashOf(body: TxBody, hash: HashFn = sha256Noble): Uint8Array {
  return taggedHash(TX_HASH_TAG, encodeTxBody(body), hash);
}

/** The id given to bytes that do not decode as a transaction: `sha256("pos/bad-tx" ‖ bytes)`. */
export function malformedTxHash(bytes: Uint8Array, hash: HashFn = sha256Noble): Uint8Array {
  return taggedHash(MALFORMED_TX_TAG, bytes, hash);
}

/**
 * Ed25519 as {@link signTx} needs it: injected, so this module stays free of a
 * particular implementation (the wallet's strict-RFC 8032 one, docs/PROTOCOL.md 2).
 */
export interface TxSigner {
  /** The 64-byte signature of `message` under `secretKey`. */
  sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array;
  /** The 32-byte public key of `secretKey`. */
  publicKey(secretKey: Uint8Array): Uint8Array;
}

/**
 * Signs `body` with each secret key (one per distinct input owner, docs/PROTOCOL.md 6.2)
 * and returns the signatures in canonical order. Throws `BAD_TX` for an
 * invalid body or more keys than inputs, `BAD_ARGUMENT` for two keys with one
 * public key or a signer returning the wrong lengths. It cannot check that the
 * keys are the inputs' owners: the owners are in the ledger's state.
 */
export function signTx(
  body: TxBody,
  secretKeys: readonly Uint8Array[],
  signer: TxSigner,
  hash: HashFn = sha256Noble,
): SignedTx {
  const txHash = txHashOf(body, hash);
  if (!Array.isArray(secretKeys)) fail('BAD_ARGUMENT', 'secretKeys must be an array');
  const signatures = secretKeys.map((sk) => {
    const publicKey = signer.publicKey(sk);
    const signature = signer.sign(sk, txHash);
    if (!isBytes(publicKey, 32) || !isBytes(signature, 64)) {
      fail('BAD_ARGUMENT', 'signer must return a 32-byte public key and a 64-byte signature');
    }
    return { publicKey, signature };
  });
  signatures.sort((a, b) => compareBytes(a.publicKey, b.publicKey));
  for (let i = 1; i < signatures.length; i++) {
    if (compareBytes(signatures[i - 1]!.publicKey, signatures[i]!.publicKey) === 0) {
      fail('BAD_ARGUMENT', 'two secret keys with one public key');
    }
  }
  checkSignatures(signatures, maxSignatures(body), 'BAD_TX');
  return { body, signatures };
}

// --- receipts ------------------------------------------------------------------

function checkReceipt(rc: Receipt, code: RuleCode): void {
  if (typeof rc !== 'object' || rc === null) fail(code, 'receipt must be an object');
  checkBytes(rc.txHash, 32, 'txHash', code);
  if (rc.status === 'committed') {
    if (rc.reason !== undefined) fail(code, 'a committed receipt has no reason');
  } else if (rc.status === 'rejected') {
    if (!REJECT_REASONS.includes(rc.reason as RejectReason)) {
      fail(code, 'a rejected receipt needs a known reason');
    }
  } else {
    fail(code, 'status must be committed or rejected');
  }
  if (!Number.isSafeInteger(rc.height) || rc.height < 0) fail(code, 'height must be a safe u64');
  if (!Number.isInteger(rc.index) || rc.index < 0 || rc.index > 0xffffffff) {
    fail(code, 'index must be a u32');
  }
}

/** The 47-byte receipt encoding: the history log's leaf data. Throws `BAD_TX`. */
export function encodeReceipt(rc: Receipt): Uint8Array {
  checkReceipt(rc, 'BAD_TX');
  const code = rc.reason === undefined ? 0 : REJECT_REASONS.indexOf(rc.reason) + 1;
  return new Writer(RECEIPT_BYTES)
    .u8(RECEIPT_VERSION)
    .bytes(rc.txHash, 32)
    .u8(rc.status === 'committed' ? 0 : 1)
    .u8(code)
    .u64safe(rc.height)
    .u32be(rc.index)
    .finish();
}

/** Decodes a receipt; `BAD_ENCODING` unless canonical (a reason iff rejected, height < 2^53). */
export function decodeReceipt(bytes: Uint8Array): Receipt {
  const r = new Reader(bytes);
  r.u8(RECEIPT_VERSION, RECEIPT_VERSION, 'version');
  const txHash = r.bytes(32, 'txHash');
  const status = r.u8(0, 1, 'status');
  const code = r.u8(0, REJECT_REASONS.length, 'reason');
  const height = r.u64safe(0, undefined, 'height');
  const index = r.u32be(0, undefined, 'index');
  r.end();
  if ((status === 0) !== (code === 0)) {
    fail('BAD_ENCODING', 'a receipt has a reason iff it is rejected');
  }
  return status === 0
    ? { txHash, status: 'committed', height, index }
    : { txHash, status: 'rejected', reason: REJECT_REASONS[code - 1]!, height, index };
}

// --- JSON (docs/PROTOCOL.md 1: 0x hex, decimal-string amounts, numbers for indexes)

/** JSON form of an {@link Outpoint}. */
export interface OutpointJSON {
  txHash: string;
  index: number;
}
/** JSON form of an {@link Output}. */
export interface OutputJSON {
  amount: string;
  owner: string;
  host: string;
}
/** JSON form of a {@link SignedTx}: the body's fields and `signatures`, flat. */
export interface TxJSON {
  version: 1 | 2 | 3;
  chainId: string;
  inputs: OutpointJSON[];
  outputs: OutputJSON[];
  fee: string;
  memo: string;
  /** Only in version 2. */
  register?: { pubkey: string; name: string; p2p: string };
  /** Only in version 3; `owner` except with `release`. */
  name?: { op: NameOp['op']; name: string; owner?: string };
  signatures: { publicKey: string; signature: string }[];
}
/** JSON form of a {@link Receipt}; `reason` only when rejected. */
export interface ReceiptJSON {
  txHash: string;
  status: 'committed' | 'rejected';
  reason?: RejectReason;
  height: number;
  index: number;
}

/** A plain object with exactly `keys` (the optional ones may be absent); throws `BAD_TX`. */
function jsonObject(
  v: unknown,
  keys: readonly string[],
  what: string,
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail('BAD_TX', `${what} must be an object`);
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) fail('BAD_TX', `${what}: unknown key ${JSON.stringify(k)}`);
  }
  for (const k of keys) {
    if (!(k in o) && !optional.includes(k)) fail('BAD_TX', `${what}: missing ${k}`);
  }
  return o;
}

function jsonArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail('BAD_TX', `${what} must be an array`);
  return v;
}

function jsonUint(v: unknown, max: number, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    fail('BAD_TX', `${what} must be an integer in 0..${max}`);
  }
  return v;
}

/** Converts to the JSON form. Throws `BAD_TX` if `tx` breaks a rule. */
export function txToJSON(tx: SignedTx): TxJSON {
  encodeTx(tx); // every rule, once
  const b = tx.body;
  return {
    version: versionOf(b) as 1 | 2 | 3,
    chainId: toHex(b.chainId),
    inputs: b.inputs.map((p) => ({ txHash: toHex(p.txHash), index: p.index })),
    outputs: b.outputs.map((o) => ({
      amount: formatAmount(o.amount),
      owner: toHex(o.owner),
      host: toHex(o.host),
    })),
    fee: formatAmount(b.fee),
    memo: toHex(b.memo),
    ...(b.register === undefined
      ? {}
      : {
          register: {
            pubkey: toHex(b.register.pubkey),
            name: b.register.name,
            p2p: b.register.p2p,
          },
        }),
    ...(b.name === undefined
      ? {}
      : {
          name: {
            op: b.name.op,
            name: b.name.name,
            ...(b.name.owner === undefined ? {} : { owner: toHex(b.name.owner) }),
          },
        }),
    signatures: tx.signatures.map((s) => ({
      publicKey: toHex(s.publicKey),
      signature: toHex(s.signature),
    })),
  };
}

/**
 * Parses the JSON form strictly: exactly the keys of {@link TxJSON}, strict
 * hex (`BAD_HEX`), canonical decimal amounts (`BAD_AMOUNT`), and every rule of
 * the binary form (`BAD_TX`), so that the result always encodes.
 */
export function txFromJSON(json: unknown): SignedTx {
  const o = jsonObject(
    json,
    ['version', 'chainId', 'inputs', 'outputs', 'fee', 'memo', 'register', 'name', 'signatures'],
    'tx',
    ['register', 'name'],
  );
  const version =
    o.register !== undefined
      ? TX_VERSION_REGISTER
      : o.name !== undefined
        ? TX_VERSION_NAME
        : TX_VERSION;
  if (o.version !== version) {
    fail('BAD_TX', `version must be ${version} (2 with register, 3 with name, else 1)`);
  }
  const inputs = jsonArray(o.inputs, 'inputs').map((v, i) => {
    const p = jsonObject(v, ['txHash', 'index'], `inputs[${i}]`);
    return { txHash: fromHex(p.txHash, 32), index: jsonUint(p.index, 0xffff, `inputs[${i}]`) };
  });
  const outputs = jsonArray(o.outputs, 'outputs').map((v, i) => {
    const p = jsonObject(v, ['amount', 'owner', 'host'], `outputs[${i}]`);
    return {
      amount: parseAmount(p.amount),
      owner: fromHex(p.owner, 32),
      host: fromHex(p.host, 32),
    };
  });
  const signatures = jsonArray(o.signatures, 'signatures').map((v, i) => {
    const s = jsonObject(v, ['publicKey', 'signature'], `signatures[${i}]`);
    return { publicKey: fromHex(s.publicKey, 32), signature: fromHex(s.signature, 64) };
  });
  let register: Registration | undefined;
  if (o.register !== undefined) {
    const g = jsonObject(o.register, ['pubkey', 'name', 'p2p'], 'register');
    register = { pubkey: fromHex(g.pubkey, 32), name: g.name as string, p2p: g.p2p as string };
  }
  const name = o.name === undefined ? undefined : nameOpFromJSON(o.name);
  const body: TxBody = {
    chainId: fromHex(o.chainId, 32),
    inputs,
    outputs,
    fee: parseAmount(o.fee),
    memo: fromHex(o.memo),
    ...(register === undefined ? {} : { register }),
    ...(name === undefined ? {} : { name }),
  };
  const tx = { body, signatures };
  checkBody(body, 'BAD_TX');
  checkSignatures(signatures, maxSignatures(body), 'BAD_TX');
  return tx;
}

function nameOpFromJSON(v: unknown): NameOp {
  const g = jsonObject(v, ['op', 'name', 'owner'], 'name', ['owner']);
  const op = g.op as NameOp['op'];
  if (!NAME_OPS.includes(op)) fail('BAD_TX', `name.op must be one of ${NAME_OPS.join(', ')}`);
  if (typeof g.name !== 'string') fail('BAD_TX', 'name.name must be a string');
  return g.owner === undefined
    ? { op, name: g.name }
    : { op, name: g.name, owner: fromHex(g.owner, 32) };
}

/** Converts a receipt to its JSON form. Throws `BAD_TX` if it breaks a rule. */
export function receiptToJSON(rc: Receipt): ReceiptJSON {
  checkReceipt(rc, 'BAD_TX');
  return {
    txHash: toHex(rc.txHash),
    status: rc.status,
    ...(rc.reason === undefined ? {} : { reason: rc.reason }),
    height: rc.height,
    index: rc.index,
  };
}

/** Parses a receipt's JSON form strictly (`BAD_TX`, `BAD_HEX`). */
export function receiptFromJSON(json: unknown): Receipt {
  const o = jsonObject(json, ['txHash', 'status', 'reason', 'height', 'index'], 'receipt', [
    'reason',
  ]);
  const rc = {
    txHash: fromHex(o.txHash, 32),
    status: o.status,
    ...(o.reason === undefined ? {} : { reason: o.reason }),
    height: o.height,
    index: o.index,
  } as Receipt;
  if (typeof rc.height !== 'number' || typeof rc.index !== 'number') {
    fail('BAD_TX', 'height and index must be numbers');
  }
  checkReceipt(rc, 'BAD_TX');
  return rc;
}
