/**
 * The sync protocol's request (docs/PROTOCOL.md 8): a puller sends what it
 * knows, the responder answers with a bounded page of the events it lacks,
 * parents first; every input is hostile on both sides.
 *
 * Request: `POST /sync/v1`, `content-type: application/msgpack`, at most
 * {@link MAX_SYNC_REQUEST_BYTES}; the body is a msgpack map with exactly
 * these keys:
 *
 * ```
 * chainId      bin 32
 * from         bin 32            the puller's Ed25519 public key
 * known        [[bin 32 creator, uint seq, bin 32 hash], ...]
 *              ≤ 4096 entries, ≤ 4 per creator (a forker's tips)
 * maxEvents    uint 1..2^32-1     the puller's page caps
 * maxBytes     uint 2^20..2^32-1  (never below one whole event, MAX_EVENT_BYTES)
 * nonce        uint (u64; a number or a 64-bit msgpack integer)
 * timestampMs  uint (safe integer)
 * sig          bin 64            Ed25519(from, sha256("pos/sync-req" ‖ canonical))
 * ```
 *
 * The canonical encoding that is hashed and signed (big-endian, fixed-width,
 * written with the `Writer` of @pos/protocol, docs/PROTOCOL.md 1; msgpack
 * itself is not canonical, so it is never what is signed, docs/PROTOCOL.md 8):
 *
 * ```
 * 32   chainId
 * 32   from
 * u16  knownCount ‖ (32 creator ‖ u64 seq ‖ 32 hash)*   in the order sent
 * u32  maxEvents
 * u32  maxBytes
 * u64  nonce
 * u64  timestampMs
 * ```
 *
 * Response 200, `content-type: application/msgpack`: a map
 * `{events: [bin ...], more: bool, tip: {hash: bin 32, seq: uint} | nil}`:
 * a page of raw event encodings (docs/PROTOCOL.md 6.1) in the responder's
 * insertion order (parents first), at most min(puller's, responder's) caps
 * (the first event of a page is always sent, so a page is never empty while
 * events remain); `more` says events remain; `tip` is the responder's own
 * latest event, the other-parent of the puller's next event (docs/PROTOCOL.md 8).
 *
 * Refusals are JSON `{error: CODE}`: 400 BAD_REQUEST (undecodable or
 * ill-shaped body), 400 WRONG_CHAIN, 401 BAD_SIGNATURE, 401 STALE_REQUEST
 * (timestamp more than 5 minutes from the responder's clock), 401 REPLAYED
 * (a nonce seen within that window), 403 NOT_A_PEER, 403 BANNED,
 * 413 TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE, 429 RATE_LIMITED.
 */
import { type HashFn, sha256Noble, taggedHash, toHex } from '@pos/merkle';
import { Writer } from '@pos/protocol';
import { Packr, Unpackr } from 'msgpackr';
import { GossipError } from '../errors.js';
import { MAX_EVENT_BYTES } from '../event.js';
import { type KnownEntry, MAX_TIPS_PER_CREATOR } from '../store.js';

/** The route of the sync endpoint. */
export const SYNC_PATH = '/sync/v1';
/** Domain tag of the signed request hash (docs/PROTOCOL.md 2, the table of tags). */
export const SYNC_REQ_TAG = 'pos/sync-req';
/** Content type of both request and response bodies. */
export const SYNC_CONTENT_TYPE = 'application/msgpack';
/** Largest request body: 4096 known entries of ~75 bytes fit with room to spare. */
export const MAX_SYNC_REQUEST_BYTES = 256 * 1024;
/** Most entries of a `known` summary. */
export const MAX_KNOWN_ENTRIES = 4096;
/** The responder's default page caps (its caps win over the puller's). */
export const MAX_PAGE_EVENTS = 2000;
export const MAX_PAGE_BYTES = 4 << 20;
/** How far a request's timestamp may be from the responder's clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** @internal shared by the client and the server of this protocol. */
export const U32_MAX = 0xffffffff;
const U64_MAX = (1n << 64n) - 1n;

// Records and structures are msgpackr extensions a peer could use to make the
// decoder keep state between messages; plain msgpack is all this protocol
// needs. 64-bit integers decode as bigint so that a nonce above 2^53 is exact.
/** @internal shared by the client and the server of this protocol. */
export const packr = new Packr({ useRecords: false });
/** @internal shared by the client and the server of this protocol. */
export const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'bigint',
});

/** Ed25519 verification as injected by the node (node:crypto after the byte checks). */
export type VerifyFn = (
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
) => boolean;

/** The signed fields of a sync request. */
export interface SyncRequest {
  readonly chainId: Uint8Array;
  readonly from: Uint8Array;
  readonly known: readonly KnownEntry[];
  readonly maxEvents: number;
  readonly maxBytes: number;
  readonly nonce: bigint;
  readonly timestampMs: number;
}

/** The canonical encoding of a request's fields (see the module comment). */
export function encodeSyncRequest(req: SyncRequest): Uint8Array {
  if (req.known.length > MAX_KNOWN_ENTRIES) {
    throw new GossipError('BAD_ARGUMENT', `at most ${MAX_KNOWN_ENTRIES} known entries`);
  }
  const w = new Writer(80 + req.known.length * 72);
  try {
    w.bytes(req.chainId, 32).bytes(req.from, 32).u16be(req.known.length);
    for (const k of req.known) w.bytes(k.creator, 32).u64safe(k.seq).bytes(k.hash, 32);
    w.u32be(req.maxEvents).u32be(req.maxBytes).u64be(req.nonce).u64safe(req.timestampMs);
  } catch (e) {
    throw new GossipError('BAD_ARGUMENT', `sync request: ${(e as Error).message}`);
  }
  return w.finish();
}

/** `sha256("pos/sync-req" ‖ encodeSyncRequest(req))`: what `from` signs. */
export function syncRequestHash(req: SyncRequest, hash: HashFn = sha256Noble): Uint8Array {
  return taggedHash(SYNC_REQ_TAG, encodeSyncRequest(req), hash);
}

// ---------------------------------------------------------------- decoding

/** Containers nest at most this deep in a request ({known: [[…]]}) or a response. */
const MSGPACK_MAX_DEPTH = 3;

/**
 * Why `b` is not msgpack this protocol could have sent, or null. Walks the
 * bytes without recursion before msgpackr sees them: msgpackr allocates each
 * array at its declared length and recurses per level, so 100 KB of nested
 * `array16` headers (0xdc 0xdc 0xdc …) cost it 1.3 GB and 4.5 s before its
 * stack overflowed. Here every container must fit in the bytes left (each
 * element takes at least one byte), nest at most {@link MSGPACK_MAX_DEPTH}
 * deep and be complete; extension types (which msgpackr decodes with
 * handlers of their own) and the unused byte 0xc1 are refused.
 */
/** @internal shared by the client and the server of this protocol. */
export function msgpackShapeProblem(b: Uint8Array): string | null {
  const open: number[] = []; // elements still expected, per open container
  let at = 0;
  let values = 0;
  const take = (n: number) => {
    at += n;
    return at <= b.length;
  };
  const len = (n: number) => {
    if (at + n > b.length) return -1;
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[at + i]!;
    at += n;
    return v;
  };
  while (at < b.length) {
    const t = b[at++]!;
    let children = -1; // elements of a container starting here
    if (t <= 0x7f || t >= 0xe0 || t === 0xc0 || t === 0xc2 || t === 0xc3) {
      // one-byte value
    } else if (t >= 0x80 && t <= 0x8f) children = 2 * (t & 0x0f);
    else if (t >= 0x90 && t <= 0x9f) children = t & 0x0f;
    else if (t >= 0xa0 && t <= 0xbf) {
      if (!take(t & 0x1f)) return 'truncated';
    } else if (t === 0xc4 || t === 0xc5 || t === 0xc6 || t === 0xd9 || t === 0xda || t === 0xdb) {
      const n = len(t === 0xc4 || t === 0xd9 ? 1 : t === 0xc5 || t === 0xda ? 2 : 4);
      if (n < 0 || !take(n)) return 'truncated';
    } else if (t === 0xca || t === 0xcb || (t >= 0xcc && t <= 0xd3)) {
      const sizes: Record<number, number> = { 202: 4, 203: 8, 204: 1, 205: 2, 206: 4 };
      if (!take(sizes[t] ?? 2 ** ((t - 0xcc) & 3))) return 'truncated';
    } else if (t === 0xdc || t === 0xdd || t === 0xde || t === 0xdf) {
      const n = len(t === 0xdc || t === 0xde ? 2 : 4);
      if (n < 0) return 'truncated';
      children = t >= 0xde ? 2 * n : n;
    } else return `type byte 0x${t.toString(16)} not used by this protocol`;
    values++;
    if (open.length > 0) open[open.length - 1]!--;
    else if (values > 1) return 'trailing bytes';
    if (children >= 0) {
      if (children > b.length - at) return 'a container longer than the bytes left';
      if (open.length >= MSGPACK_MAX_DEPTH) return 'nested too deep';
      open.push(children);
    }
    while (open.length > 0 && open[open.length - 1] === 0) open.pop();
  }
  return open.length > 0 || values === 0 ? 'truncated' : null;
}

/** @internal shared by the client and the server of this protocol. */
export const badReq = (m: string) => new GossipError('BAD_ENCODING', m);

/** @internal shared by the client and the server of this protocol. */
export function isMap(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

// A plain Uint8Array copy: msgpackr hands out Buffers that may share the
// whole body's memory, and Buffer#slice does not copy.
/** @internal shared by the client and the server of this protocol. */
export function bytesN(x: unknown, n: number, what: string): Uint8Array {
  if (!(x instanceof Uint8Array) || x.length !== n) throw badReq(`${what}: ${n} bytes`);
  return new Uint8Array(x);
}

/** @internal shared by the client and the server of this protocol. */
export function uint(x: unknown, min: number, max: number, what: string): number {
  if (typeof x === 'bigint') {
    if (x < BigInt(min) || x > BigInt(max)) throw badReq(`${what} out of range`);
    return Number(x);
  }
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > max) {
    throw badReq(`${what}: an integer in ${min}..${max}`);
  }
  return x;
}

const REQUEST_KEYS = [
  'chainId',
  'from',
  'known',
  'maxEvents',
  'maxBytes',
  'nonce',
  'timestampMs',
  'sig',
] as const;

/**
 * Decodes a request body: every shape rule of the module comment, or
 * `GossipError('BAD_ENCODING')` (never another exception). The signature is
 * returned, not checked.
 */
export function decodeSyncRequest(body: Uint8Array): { req: SyncRequest; sig: Uint8Array } {
  let o: unknown;
  const shape = body instanceof Uint8Array ? msgpackShapeProblem(body) : 'not bytes';
  if (shape !== null) throw badReq(`not msgpack of this protocol: ${shape}`);
  try {
    o = unpackr.unpack(body);
  } catch (e) {
    throw badReq(`not msgpack: ${String(e)}`);
  }
  if (!isMap(o)) throw badReq('not a map');
  const keys = Object.keys(o);
  if (keys.length !== REQUEST_KEYS.length || !REQUEST_KEYS.every((k) => Object.hasOwn(o, k))) {
    throw badReq(`keys must be exactly ${REQUEST_KEYS.join(', ')}`);
  }
  const known = o.known;
  if (!Array.isArray(known) || known.length > MAX_KNOWN_ENTRIES) {
    throw badReq(`known: an array of at most ${MAX_KNOWN_ENTRIES}`);
  }
  const perCreator = new Map<string, number>();
  const entries: KnownEntry[] = known.map((k: unknown) => {
    if (!Array.isArray(k) || k.length !== 3) throw badReq('known entry: [creator, seq, hash]');
    const creator = bytesN(k[0], 32, 'known creator');
    const c = toHex(creator);
    const n = (perCreator.get(c) ?? 0) + 1;
    if (n > MAX_TIPS_PER_CREATOR) throw badReq(`over ${MAX_TIPS_PER_CREATOR} tips of one creator`);
    perCreator.set(c, n);
    return {
      creator,
      seq: uint(k[1], 0, Number.MAX_SAFE_INTEGER, 'known seq'),
      hash: bytesN(k[2], 32, 'known hash'),
    };
  });
  const nonceRaw = o.nonce;
  let nonce: bigint;
  if (typeof nonceRaw === 'bigint' && nonceRaw >= 0n && nonceRaw <= U64_MAX) nonce = nonceRaw;
  else nonce = BigInt(uint(nonceRaw, 0, Number.MAX_SAFE_INTEGER, 'nonce'));
  return {
    req: {
      chainId: bytesN(o.chainId, 32, 'chainId'),
      from: bytesN(o.from, 32, 'from'),
      known: entries,
      maxEvents: uint(o.maxEvents, 1, U32_MAX, 'maxEvents'),
      maxBytes: uint(o.maxBytes, MAX_EVENT_BYTES, U32_MAX, 'maxBytes'),
      nonce,
      timestampMs: uint(o.timestampMs, 0, Number.MAX_SAFE_INTEGER, 'timestampMs'),
    },
    sig: bytesN(o.sig, 64, 'sig'),
  };
}

/** The msgpack body of a signed request (what {@link createSyncClient} sends). */
export function encodeSyncRequestBody(req: SyncRequest, sig: Uint8Array): Uint8Array {
  return packr.pack({
    chainId: req.chainId,
    from: req.from,
    known: req.known.map((k) => [k.creator, k.seq, k.hash]),
    maxEvents: req.maxEvents,
    maxBytes: req.maxBytes,
    nonce: req.nonce,
    timestampMs: req.timestampMs,
    sig,
  });
}
