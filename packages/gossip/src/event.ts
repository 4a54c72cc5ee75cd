/**
 * The event wire format, version 1 (docs/PROTOCOL.md 6.1): one canonical byte
 * string per event, hashed with the `pos/event` tag and signed by its
 * creator.
 *
 * Layout (big-endian, fixed-width):
 *
 * ```
 * u8   version = 1
 * 32   chainId
 * 32   creator            Ed25519 public key
 * u64  seq
 * u8   flags              bit 0: selfParent, bit 1: otherParent, others 0
 * [32  selfParent]        iff seq > 0
 * [32  otherParent ‖ 32 its creator ‖ u64 its seq]
 * u64  timestamp          ms
 * u32  txCount ‖ (u32 length ‖ bytes)*
 * u16  payloadCount ‖ (u8 kind ‖ u16 length ‖ bytes)*
 * 64   signature          Ed25519(creator, hash); not hashed
 * ```
 *
 * `hash = sha256("pos/event" ‖ everything before the signature)`. The
 * other-parent carries its creator and seq (its descriptor) so that a node
 * that already forgot it can still place the event (docs/PROTOCOL.md 5.7).
 */
import { equalBytes, type HashFn, sha256Noble, taggedHash } from '@pos/merkle';
import { ProtocolError, Reader, Writer } from '@pos/protocol';
import { GossipError } from './errors.js';

/** Version byte of this layout. */
export const EVENT_VERSION = 1;
/** Domain tag of the event hash (docs/PROTOCOL.md 2). */
export const EVENT_TAG = 'pos/event';
/** Largest encoded event: 1 MiB, the sync page's unit of hostility. */
export const MAX_EVENT_BYTES = 1 << 20;
/** Largest transaction carried (the ledger's own cap is 64 KiB). */
export const MAX_TX_BYTES = 1 << 16;
/** Most transactions in one event. */
export const MAX_EVENT_TXS = 10_000;
/** Most payloads in one event, and the largest one. */
export const MAX_PAYLOADS = 64;
export const MAX_PAYLOAD_BYTES = 4096;

/** Payload kinds this version knows; any other byte is refused. */
export const PayloadKind = {
  /** A validator's signature over a block hash (a BlockSig, docs/PROTOCOL.md 7). */
  BLOCK_SIGNATURE: 1,
} as const;
const KNOWN_KINDS: ReadonlySet<number> = new Set(Object.values(PayloadKind));

/** A system message inside an event (docs/PROTOCOL.md 6.1: "payloads"). */
export interface Payload {
  readonly kind: number;
  readonly data: Uint8Array;
}

/** The other-parent and its descriptor. */
export interface ParentRef {
  readonly hash: Uint8Array;
  readonly creator: Uint8Array;
  readonly seq: number;
}

/** An event's fields, before signing. */
export interface UnsignedEvent {
  readonly chainId: Uint8Array;
  readonly creator: Uint8Array;
  readonly seq: number;
  readonly selfParent: Uint8Array | null;
  readonly otherParent: ParentRef | null;
  readonly timestamp: number;
  readonly transactions: readonly Uint8Array[];
  readonly payloads: readonly Payload[];
}

/** A decoded, signed event with its hash (the signature is not checked here). */
export interface WireEvent extends UnsignedEvent {
  readonly signature: Uint8Array;
  readonly hash: Uint8Array;
  /** The exact bytes it was decoded from (what is stored and relayed). */
  readonly bytes: Uint8Array;
}

const bad = (m: string) => new GossipError('BAD_ENCODING', m);

function checkFields(e: UnsignedEvent): void {
  const len = (b: Uint8Array, n: number, what: string) => {
    if (!(b instanceof Uint8Array) || b.length !== n) {
      throw new GossipError('BAD_ARGUMENT', `${what}: ${n} bytes`);
    }
  };
  len(e.chainId, 32, 'chainId');
  len(e.creator, 32, 'creator');
  if (e.selfParent !== null) len(e.selfParent, 32, 'selfParent');
  if ((e.seq === 0) !== (e.selfParent === null)) {
    throw new GossipError('BAD_ARGUMENT', 'selfParent must be present iff seq > 0');
  }
  if (e.otherParent) {
    len(e.otherParent.hash, 32, 'otherParent.hash');
    len(e.otherParent.creator, 32, 'otherParent.creator');
  }
}

function writeBody(w: Writer, e: UnsignedEvent): void {
  checkFields(e);
  w.u8(EVENT_VERSION).bytes(e.chainId).bytes(e.creator).u64safe(e.seq);
  w.u8((e.selfParent ? 1 : 0) | (e.otherParent ? 2 : 0));
  if (e.selfParent) w.bytes(e.selfParent);
  if (e.otherParent) {
    w.bytes(e.otherParent.hash).bytes(e.otherParent.creator).u64safe(e.otherParent.seq);
  }
  w.u64safe(e.timestamp);
  if (e.transactions.length > MAX_EVENT_TXS) {
    throw new GossipError('BAD_ARGUMENT', `at most ${MAX_EVENT_TXS} transactions`);
  }
  w.u32be(e.transactions.length);
  for (const tx of e.transactions) {
    if (tx.length === 0 || tx.length > MAX_TX_BYTES) {
      throw new GossipError('BAD_ARGUMENT', `a transaction is 1..${MAX_TX_BYTES} bytes`);
    }
    w.u32be(tx.length).bytes(tx);
  }
  if (e.payloads.length > MAX_PAYLOADS) {
    throw new GossipError('BAD_ARGUMENT', `at most ${MAX_PAYLOADS} payloads`);
  }
  w.u16be(e.payloads.length);
  for (const p of e.payloads) {
    if (!KNOWN_KINDS.has(p.kind)) throw new GossipError('BAD_ARGUMENT', `payload kind ${p.kind}`);
    w.u8(p.kind).varBytes(p.data, MAX_PAYLOAD_BYTES);
  }
}

/** The bytes that are hashed (and so signed): the encoding without the signature. */
export function encodeUnsignedEvent(e: UnsignedEvent): Uint8Array {
  const w = new Writer(256);
  writeBody(w, e);
  const out = w.finish();
  if (out.length + 64 > MAX_EVENT_BYTES) {
    throw new GossipError('BAD_ARGUMENT', `event over ${MAX_EVENT_BYTES} bytes`);
  }
  return out;
}

/** `sha256("pos/event" ‖ unsigned encoding)`: the event's id, and what its creator signs. */
export function eventHash(e: UnsignedEvent, hash: HashFn = sha256Noble): Uint8Array {
  return taggedHash(EVENT_TAG, encodeUnsignedEvent(e), hash);
}

/**
 * Signs and encodes an event: `sign(hash)` must return the creator's 64-byte
 * Ed25519 signature over the 32-byte hash.
 */
export function signEvent(
  e: UnsignedEvent,
  sign: (hash: Uint8Array) => Uint8Array,
  hash: HashFn = sha256Noble,
): WireEvent {
  const body = encodeUnsignedEvent(e);
  const h = taggedHash(EVENT_TAG, body, hash);
  const signature = sign(h);
  if (!(signature instanceof Uint8Array) || signature.length !== 64) {
    throw new GossipError('BAD_ARGUMENT', 'signature: 64 bytes');
  }
  const bytes = new Uint8Array(body.length + 64);
  bytes.set(body, 0);
  bytes.set(signature, body.length);
  return { ...e, signature, hash: h, bytes };
}

/**
 * Decodes a peer's bytes: every rule of the layout above, or `GossipError`
 * `BAD_ENCODING` (never any other exception). The hash is computed here; the
 * signature and the parents are the caller's to check.
 */
export function decodeEvent(bytes: Uint8Array, hash: HashFn = sha256Noble): WireEvent {
  if (!(bytes instanceof Uint8Array)) throw bad('not bytes');
  if (bytes.length > MAX_EVENT_BYTES) throw bad(`event over ${MAX_EVENT_BYTES} bytes`);
  if (bytes.length < 64) throw bad('truncated');
  try {
    const r = new Reader(bytes.subarray(0, bytes.length - 64));
    if (r.u8() !== EVENT_VERSION) throw bad('unknown version');
    const chainId = r.bytes(32, 'chainId');
    const creator = r.bytes(32, 'creator');
    const seq = r.u64safe(0, Number.MAX_SAFE_INTEGER, 'seq');
    const flags = r.u8();
    if (flags > 3) throw bad('unknown flags');
    if ((flags & 1) === 0 ? seq !== 0 : seq === 0) throw bad('selfParent iff seq > 0');
    const selfParent = flags & 1 ? r.bytes(32, 'selfParent') : null;
    let otherParent: ParentRef | null = null;
    if (flags & 2) {
      const h = r.bytes(32, 'otherParent');
      const c = r.bytes(32, 'otherParent creator');
      const s = r.u64safe(0, Number.MAX_SAFE_INTEGER, 'otherParent seq');
      if (equalBytes(c, creator)) throw bad('otherParent by the creator itself');
      otherParent = { hash: h, creator: c, seq: s };
    }
    const timestamp = r.u64safe(0, Number.MAX_SAFE_INTEGER, 'timestamp');
    const txCount = r.u32be(0, MAX_EVENT_TXS, 'transaction count');
    const transactions: Uint8Array[] = [];
    for (let i = 0; i < txCount; i++) {
      const len = r.u32be(1, MAX_TX_BYTES, 'transaction length');
      transactions.push(r.bytes(len, 'transaction'));
    }
    const pCount = r.u16be(0, MAX_PAYLOADS, 'payload count');
    const payloads: Payload[] = [];
    for (let i = 0; i < pCount; i++) {
      const kind = r.u8();
      if (!KNOWN_KINDS.has(kind)) throw bad(`unknown payload kind ${kind}`);
      payloads.push({ kind, data: r.varBytes(0, MAX_PAYLOAD_BYTES, 'payload') });
    }
    r.end();
    const body = bytes.subarray(0, bytes.length - 64);
    return {
      chainId,
      creator,
      seq,
      selfParent,
      otherParent,
      timestamp,
      transactions,
      payloads,
      signature: bytes.slice(bytes.length - 64),
      hash: taggedHash(EVENT_TAG, body, hash),
      bytes,
    };
  } catch (e) {
    if (e instanceof GossipError) throw e;
    if (e instanceof ProtocolError) throw bad(e.message);
    throw bad(String(e));
  }
}
