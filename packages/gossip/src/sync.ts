/**
 * The sync protocol over HTTP (PROTOCOL.md section 9): a puller sends what it
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
 * written with the `Writer` of @pos/wallet-client, docs/PROTOCOL.md section 1;
 * msgpack itself is not canonical, so it is never what is signed, section 2):
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
 * latest event, the other-parent of the puller's next event (section 9).
 *
 * Refusals are JSON `{error: CODE}`: 400 BAD_REQUEST (undecodable or
 * ill-shaped body), 400 WRONG_CHAIN, 401 BAD_SIGNATURE, 401 STALE_REQUEST
 * (timestamp more than 5 minutes from the responder's clock), 401 REPLAYED
 * (a nonce seen within that window), 403 NOT_A_PEER, 403 BANNED,
 * 413 TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE, 429 RATE_LIMITED.
 */
import { equalBytes, type HashFn, sha256Noble, taggedHash, toHex } from '@pos/merkle';
import { verifyEd25519, Writer } from '@pos/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Packr, Unpackr } from 'msgpackr';
import { Agent, type Dispatcher, request } from 'undici';
import { GossipError, type GossipErrorCode } from './errors.js';
import { decodeEvent, MAX_EVENT_BYTES, type WireEvent } from './event.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import { type EventStore, type KnownEntry, MAX_TIPS_PER_CREATOR, type Tip } from './store.js';

/** The route of the sync endpoint. */
export const SYNC_PATH = '/sync/v1';
/** Domain tag of the signed request hash (docs/PROTOCOL.md section 2 table). */
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

const U32_MAX = 0xffffffff;
const U64_MAX = (1n << 64n) - 1n;

// Records and structures are msgpackr extensions a peer could use to make the
// decoder keep state between messages; plain msgpack is all this protocol
// needs. 64-bit integers decode as bigint so that a nonce above 2^53 is exact.
const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' });

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
function msgpackShapeProblem(b: Uint8Array): string | null {
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

const badReq = (m: string) => new GossipError('BAD_ENCODING', m);

function isMap(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

// A plain Uint8Array copy: msgpackr hands out Buffers that may share the
// whole body's memory, and Buffer#slice does not copy.
function bytesN(x: unknown, n: number, what: string): Uint8Array {
  if (!(x instanceof Uint8Array) || x.length !== n) throw badReq(`${what}: ${n} bytes`);
  return new Uint8Array(x);
}

function uint(x: unknown, min: number, max: number, what: string): number {
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

// ---------------------------------------------------------------- scores

/** Options of {@link createPeerScores}. */
export interface PeerScoresOpts {
  /** Clock in ms (injected for determinism); default `Date.now`. */
  readonly nowMs?: () => number;
  /** Most peers tracked; beyond it the least recently penalized is forgotten. Default 4096. */
  readonly maxPeers?: number;
  /** Penalties halve every `halfLifeMs` (default 10 minutes), so an honest glitch heals. */
  readonly halfLifeMs?: number;
  /** A peer whose score is at or below `-banAt` is banned (default 100). */
  readonly banAt?: number;
  /** Penalty per reason; a reason not listed costs 10. */
  readonly weights?: Readonly<Record<string, number>>;
}

/**
 * Misbehaviour scores per peer (PROTOCOL.md section 9: "a bad signature or
 * malformed message costs the peer its score"). Scores are ≤ 0 and decay
 * toward 0 exponentially. Peer ids are opaque strings (the server uses the
 * `0x` hex of the request's `from`; a puller may use the peer's URL).
 */
export interface PeerScores {
  /** Subtracts the reason's weight; returns the new score. */
  penalize(peer: string, reason: string): number;
  /** The current (decayed) score; 0 for an unknown peer. */
  score(peer: string): number;
  banned(peer: string): boolean;
  readonly size: number;
}

/** Default penalties: forged or malformed data costs most, going over the rate little. */
export const DEFAULT_PENALTIES: Readonly<Record<string, number>> = Object.freeze({
  BAD_SIGNATURE: 50,
  BAD_ENCODING: 50,
  // Low: an honest server sends one when a creator forked in a way it has not
  // seen (EventStore.since); the puller then asks for that creator whole.
  MISSING_PARENT: 5,
  BAD_RESPONSE: 25,
  TOO_LARGE: 25,
  RATE_LIMITED: 2,
});

/**
 * Creates a bounded score table. The bound matters because read-only pullers'
 * keys cost nothing (section 9); the price is that a flood of freshly
 * penalized ids can evict an old ban, which then has to be earned again.
 */
export function createPeerScores(opts: PeerScoresOpts = {}): PeerScores {
  const nowMs = opts.nowMs ?? Date.now;
  const maxPeers = opts.maxPeers ?? 4096;
  const halfLifeMs = opts.halfLifeMs ?? 10 * 60_000;
  const banAt = opts.banAt ?? 100;
  const weights = { ...DEFAULT_PENALTIES, ...opts.weights };
  if (!Number.isSafeInteger(maxPeers) || maxPeers < 1 || !(halfLifeMs > 0) || !(banAt > 0)) {
    throw new GossipError('BAD_ARGUMENT', 'maxPeers, halfLifeMs and banAt must be positive');
  }
  const table = new Map<string, { value: number; atMs: number }>();
  const current = (peer: string, now: number): number => {
    const e = table.get(peer);
    if (e === undefined) return 0;
    const dt = Math.max(0, now - e.atMs);
    return e.value * 2 ** (-dt / halfLifeMs);
  };
  return {
    penalize(peer, reason) {
      const now = nowMs();
      const value = current(peer, now) - (weights[reason] ?? 10);
      table.delete(peer); // re-insert: Map order is then least recently penalized first
      if (table.size >= maxPeers) table.delete(table.keys().next().value!);
      table.set(peer, { value, atMs: now });
      return value;
    },
    score: (peer) => current(peer, nowMs()),
    banned: (peer) => current(peer, nowMs()) <= -banAt,
    get size() {
      return table.size;
    },
  };
}

// ---------------------------------------------------------------- server

/** Options of {@link registerSyncRoutes}. */
export interface SyncServerOpts {
  readonly chainId: Uint8Array;
  /** The responder's own public key: its latest event is the response's `tip`. */
  readonly self: Uint8Array;
  readonly store: Pick<EventStore, 'since' | 'heads'>;
  /** Whether a key is an allowed peer (a validator of the current set). */
  readonly isPeer: (publicKey: Uint8Array) => boolean;
  /** Let non-peers sync read-only (still signed, rate-limited and scored). Default false. */
  readonly allowReadOnly?: boolean;
  /** Default: `verifyEd25519` of @pos/wallet-client (the project's one acceptance rule). */
  readonly verify?: VerifyFn;
  readonly hash?: HashFn;
  /** Wall clock in ms, for the ±5 minute timestamp window and the rate limiter. */
  readonly nowMs?: () => number;
  readonly rateLimiter?: RateLimiter;
  readonly scores?: PeerScores;
  /** Server page caps; default {@link MAX_PAGE_EVENTS} / {@link MAX_PAGE_BYTES}. */
  readonly maxEvents?: number;
  readonly maxBytes?: number;
  /** Request body cap; default {@link MAX_SYNC_REQUEST_BYTES}. */
  readonly bodyLimit?: number;
  /**
   * Told of every request that passed authentication and the rate limit. A
   * puller's summary says what it holds: a node may wake its own gossip when
   * a peer reports events it lacks (a hint only; it still pulls and checks).
   */
  readonly onRequest?: (req: SyncRequest) => void;
  /**
   * Told of every refused request (metrics, and a warning for a peer whose
   * clock is off): called before the refusal is sent; a hook that throws is
   * logged and the refusal still goes out.
   */
  readonly onRefused?: (refusal: SyncRefusal) => void;
}

/** A refusal as sent: status and `{error: code}`. */
function refuse(reply: FastifyReply, status: number, error: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error });
}

/**
 * The code of a refusal body `{"error": "CODE"}` as {@link refuse} sends it,
 * or undefined for anything else: the body is the peer's, so only a short
 * upper-case code is taken from it, never free text.
 */
export function refusalCodeOf(body: string): string | undefined {
  let o: unknown;
  try {
    o = JSON.parse(body);
  } catch {
    return undefined;
  }
  const code = (o as { error?: unknown } | null)?.error;
  return typeof code === 'string' && /^[A-Z][A-Z_]{0,39}$/.test(code) ? code : undefined;
}

/** What {@link SyncServerOpts.onRefused} is told of one refused request. */
export interface SyncRefusal {
  /** The code sent back (`STALE_REQUEST`, `BAD_SIGNATURE`, ...). */
  readonly code: string;
  /**
   * The requester's key, once its signature verified (null before: an
   * unauthenticated `from` is anyone's claim).
   */
  readonly from: Uint8Array | null;
  /** For `STALE_REQUEST`: the request's timestamp minus this node's clock, in ms. */
  readonly skewMs?: number;
}

/**
 * Bounded memory of `(from, nonce)` pairs seen within the timestamp window: a
 * captured request cannot be replayed to spend its sender's rate-limit tokens.
 * Past `max` live entries the oldest is forgotten (and could be replayed once
 * more), which keeps memory fixed under a flood.
 */
function createReplayCache(max: number) {
  const seen = new Map<string, number>(); // key -> expiry ms; inserted in ~expiry order
  return (key: string, nowMs: number, expiryMs: number): boolean => {
    for (const [k, exp] of seen) {
      if (exp > nowMs && seen.size < max) break;
      seen.delete(k);
    }
    if (seen.has(key)) return false;
    seen.set(key, expiryMs);
    return true;
  };
}

/**
 * Registers `POST /sync/v1` in its own encapsulated scope (its msgpack body
 * parser and error handler do not touch the caller's other routes). Order of
 * checks: shape, chainId, peer, ban, signature, timestamp, replay, rate
 * limit; the rate limit comes after the signature and the replay check so that
 * nobody can spend an honest peer's tokens by forging or replaying its
 * requests, and only faults that `from` alone can commit (going over its rate)
 * are scored here. Hostile input never yields a 500. Call it before
 * `listen`/`ready` (it adds an encapsulated plugin).
 */
export function registerSyncRoutes(app: FastifyInstance, opts: SyncServerOpts): void {
  const verify = opts.verify ?? verifyEd25519;
  const hash = opts.hash ?? sha256Noble;
  const nowMs = opts.nowMs ?? Date.now;
  const limiter = opts.rateLimiter ?? createRateLimiter();
  const scores = opts.scores ?? createPeerScores({ nowMs });
  const maxEvents = opts.maxEvents ?? MAX_PAGE_EVENTS;
  const maxBytes = opts.maxBytes ?? MAX_PAGE_BYTES;
  const bodyLimit = opts.bodyLimit ?? MAX_SYNC_REQUEST_BYTES;
  const fresh = createReplayCache(1 << 16);
  const selfHex = toHex(opts.self);
  /** Refuses, telling `onRefused` first (a throwing hook is logged, never fatal). */
  const no = (
    request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    code: string,
    from: Uint8Array | null = null,
    skewMs?: number,
  ): FastifyReply => {
    if (opts.onRefused !== undefined) {
      try {
        opts.onRefused(skewMs === undefined ? { code, from } : { code, from, skewMs });
      } catch (e) {
        request.log.error(e, 'sync onRefused hook threw');
      }
    }
    return refuse(reply, status, code);
  };

  app.register(async (scope) => {
    scope.addContentTypeParser(
      SYNC_CONTENT_TYPE,
      { parseAs: 'buffer', bodyLimit },
      (_req, body, done) => done(null, body),
    );
    scope.setErrorHandler((err: { statusCode?: number }, req, reply) => {
      const status = typeof err.statusCode === 'number' ? err.statusCode : 500;
      if (status === 413) return no(req, reply, 413, 'TOO_LARGE');
      if (status === 415) return no(req, reply, 415, 'UNSUPPORTED_MEDIA_TYPE');
      if (status >= 400 && status < 500) return no(req, reply, 400, 'BAD_REQUEST');
      req.log.error(err);
      return no(req, reply, 500, 'INTERNAL');
    });

    scope.post(SYNC_PATH, { bodyLimit }, async (request, reply) => {
      const body = request.body;
      // Only our parser yields bytes: anything else came with another content type.
      if (!(body instanceof Uint8Array)) return no(request, reply, 415, 'UNSUPPORTED_MEDIA_TYPE');
      let req: SyncRequest;
      let sig: Uint8Array;
      try {
        ({ req, sig } = decodeSyncRequest(body));
      } catch {
        return no(request, reply, 400, 'BAD_REQUEST');
      }
      if (!equalBytes(req.chainId, opts.chainId)) return no(request, reply, 400, 'WRONG_CHAIN');
      if (!opts.isPeer(req.from) && !opts.allowReadOnly)
        return no(request, reply, 403, 'NOT_A_PEER');
      const peer = toHex(req.from);
      if (scores.banned(peer)) return no(request, reply, 403, 'BANNED');
      if (!verify(req.from, syncRequestHash(req, hash), sig)) {
        return no(request, reply, 401, 'BAD_SIGNATURE');
      }
      const now = nowMs();
      // Stale and replayed requests are not scored: anyone who saw an honest
      // peer's request can send it again, so they prove nothing about `from`.
      if (Math.abs(now - req.timestampMs) > MAX_CLOCK_SKEW_MS) {
        return no(request, reply, 401, 'STALE_REQUEST', req.from, req.timestampMs - now);
      }
      if (!fresh(`${peer}:${req.nonce}`, now, req.timestampMs + MAX_CLOCK_SKEW_MS)) {
        return no(request, reply, 401, 'REPLAYED', req.from);
      }
      if (!limiter.take(peer, Math.floor(now))) {
        scores.penalize(peer, 'RATE_LIMITED');
        return no(request, reply, 429, 'RATE_LIMITED', req.from);
      }

      try {
        opts.onRequest?.(req);
      } catch (e) {
        request.log.error(e, 'sync onRequest hook threw');
      }
      const capEvents = Math.min(req.maxEvents, maxEvents);
      const capBytes = Math.min(req.maxBytes, maxBytes);
      const events: Uint8Array[] = [];
      let bytes = 0;
      let more = false;
      for await (const ev of opts.store.since(req.known)) {
        // The first event always goes, so a page is never empty while events
        // remain; it fits the puller's cap, which is at least one whole event.
        if (
          events.length >= capEvents ||
          (events.length > 0 && bytes + ev.bytes.length > capBytes)
        ) {
          more = true;
          break;
        }
        events.push(ev.bytes);
        bytes += ev.bytes.length;
      }
      const own = opts.store.heads().get(selfHex)?.[0];
      const tip = own === undefined ? null : { hash: own.hash, seq: own.seq };
      return reply.code(200).type(SYNC_CONTENT_TYPE).send(packr.pack({ events, more, tip }));
    });
  });
}

// ---------------------------------------------------------------- client

/** Options of {@link createSyncClient}. */
export interface SyncClientOpts {
  readonly chainId: Uint8Array;
  /** The puller's Ed25519 public key (`from`). */
  readonly publicKey: Uint8Array;
  /** Ed25519 signature by the puller's key over a 32-byte message. */
  readonly sign: (message: Uint8Array) => Uint8Array;
  /** Whether the caller already holds an event: parents must be held or earlier in the page. */
  readonly has: (hash: Uint8Array) => boolean | Promise<boolean>;
  /** Default: `verifyEd25519` of @pos/wallet-client. */
  readonly verify?: VerifyFn;
  /**
   * Verifies a page's new events in one batch (e.g. on worker threads, off
   * the event loop: issue 4, gossip point 4); one verdict per item, in order.
   * When given it replaces `verify` for events. Only events that pass every
   * structural check and are not duplicates are verified, so a duplicate
   * costs no signature check.
   */
  readonly verifyBatch?: (
    items: readonly { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array }[],
  ) => Promise<boolean[]>;
  readonly hash?: HashFn;
  readonly nowMs?: () => number;
  /** Default: an owned keep-alive undici `Agent`, closed by `close()`. */
  readonly dispatcher?: Dispatcher;
  /** The puller's page caps (sent, and enforced on the response). */
  readonly maxEvents?: number;
  readonly maxBytes?: number;
  /** Body timeout (between two chunks of the answer); default 10 s. */
  readonly timeoutMs?: number;
  /**
   * Time to the answer's headers; default {@link DEFAULT_HEADERS_TIMEOUT_MS}.
   * A server builds a page in milliseconds, so a peer that holds a request
   * without answering is silent, not busy: the puller gives up on it sooner
   * than on a slow body, since its gossip loop waits meanwhile.
   */
  readonly headersTimeoutMs?: number;
  /** Told of every protocol fault of a peer before the error is thrown, to score it. */
  readonly onFault?: (peerUrl: string, code: GossipErrorCode, message: string) => void;
}

/** One page pulled: new events only (duplicates dropped), verified, parents first. */
export interface PullResult {
  readonly events: WireEvent[];
  readonly more: boolean;
  /** The responder's own latest event, or null if it has none. */
  readonly tip: Tip | null;
}

/** A puller; see {@link createSyncClient}. */
export interface SyncClient {
  /**
   * Pulls one page from `peerUrl` (origin, e.g. `http://127.0.0.1:4000`).
   * The caller inserts the events, then pulls again with its new summary while
   * `more` is true (and stop if a page brings nothing new). Throws
   * `GossipError`: `PEER_REFUSED` (HTTP error or unreachable), `PEER_TIMEOUT`
   * (no answer in time), or, after
   * `onFault`, `TOO_LARGE`, `BAD_RESPONSE`, `BAD_ENCODING`, `BAD_SIGNATURE`,
   * `MISSING_PARENT`; a refused page yields no events at all.
   */
  pull(peerUrl: string, known: readonly KnownEntry[]): Promise<PullResult>;
  /** Closes the owned agent (not an injected dispatcher). */
  close(): Promise<void>;
}

// msgpack framing of a response: a few bytes per event plus the map and tip.
const RESPONSE_OVERHEAD = 1024;
const PER_EVENT_OVERHEAD = 8;

/** Default time to a sync answer's headers (see {@link SyncClientOpts.headersTimeoutMs}). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 2_000;

/** undici's timeout errors: the peer took the request and went quiet. */
const isTimeout = (e: unknown): boolean => {
  const code = (e as { code?: unknown })?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
};

/** Creates a puller using undici keep-alive connections (section 9). */
export function createSyncClient(opts: SyncClientOpts): SyncClient {
  const verify = opts.verify ?? verifyEd25519;
  const hash = opts.hash ?? sha256Noble;
  const nowMs = opts.nowMs ?? Date.now;
  const maxEvents = opts.maxEvents ?? MAX_PAGE_EVENTS;
  const maxBytes = opts.maxBytes ?? MAX_PAGE_BYTES;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const batch = opts.verifyBatch;
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 1 || maxEvents > U32_MAX) {
    throw new GossipError('BAD_ARGUMENT', 'maxEvents: 1..2^32-1');
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < MAX_EVENT_BYTES || maxBytes > U32_MAX) {
    throw new GossipError('BAD_ARGUMENT', `maxBytes: ${MAX_EVENT_BYTES}..2^32-1`);
  }
  const owned =
    opts.dispatcher === undefined
      ? new Agent({
          keepAliveTimeout: 30_000,
          connections: 8,
          headersTimeout: opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
          bodyTimeout: timeoutMs,
        })
      : undefined;
  const dispatcher = opts.dispatcher ?? owned!;
  const bodyCap = maxBytes + maxEvents * PER_EVENT_OVERHEAD + RESPONSE_OVERHEAD;

  async function pull(peerUrl: string, known: readonly KnownEntry[]): Promise<PullResult> {
    const fault = (code: GossipErrorCode, message: string, creator?: Uint8Array): never => {
      opts.onFault?.(peerUrl, code, message);
      throw new GossipError(code, message, creator);
    };
    const nonceBytes = crypto.getRandomValues(new Uint8Array(8));
    const nonce = new DataView(nonceBytes.buffer).getBigUint64(0);
    const req: SyncRequest = {
      chainId: opts.chainId,
      from: opts.publicKey,
      known,
      maxEvents,
      maxBytes,
      nonce,
      timestampMs: nowMs(),
    };
    const body = encodeSyncRequestBody(req, opts.sign(syncRequestHash(req, hash)));
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${peerUrl.replace(/\/+$/, '')}${SYNC_PATH}`, {
        method: 'POST',
        headers: { 'content-type': SYNC_CONTENT_TYPE },
        body,
        dispatcher,
      });
    } catch (e) {
      const code = isTimeout(e) ? 'PEER_TIMEOUT' : 'PEER_REFUSED';
      throw new GossipError(code, `${peerUrl}: ${(e as Error).message}`);
    }
    if (res.statusCode !== 200) {
      let detail = '';
      try {
        const b = await readCapped(res.body, 1024);
        if (b !== null) detail = ` ${new TextDecoder().decode(b)}`;
      } catch {
        // the error body is informative only
      }
      throw new GossipError(
        'PEER_REFUSED',
        `${peerUrl}: HTTP ${res.statusCode}${detail}`,
        undefined,
        refusalCodeOf(detail),
      );
    }
    const declared = Number(res.headers['content-length']);
    if (Number.isFinite(declared) && declared > bodyCap) {
      res.body.destroy();
      fault('TOO_LARGE', `response of ${declared} bytes over ${bodyCap}`);
    }
    let raw: Uint8Array | null;
    try {
      raw = await readCapped(res.body, bodyCap);
    } catch (e) {
      const code = isTimeout(e) ? 'PEER_TIMEOUT' : 'PEER_REFUSED';
      throw new GossipError(code, `${peerUrl}: ${(e as Error).message}`);
    }
    if (raw === null) return fault('TOO_LARGE', `response over ${bodyCap} bytes`);

    let o: unknown;
    const shape = msgpackShapeProblem(raw);
    if (shape !== null) return fault('BAD_RESPONSE', `not msgpack of this protocol: ${shape}`);
    try {
      o = unpackr.unpack(raw);
    } catch (e) {
      return fault('BAD_RESPONSE', `not msgpack: ${String(e)}`);
    }
    if (!isMap(o) || !Array.isArray(o.events) || typeof o.more !== 'boolean') {
      return fault('BAD_RESPONSE', 'response: {events, more, tip}');
    }
    if (o.events.length > maxEvents) fault('TOO_LARGE', `over ${maxEvents} events`);
    if (o.events.length === 0 && o.more) fault('BAD_RESPONSE', 'an empty page with more');
    let tip: Tip | null = null;
    if (o.tip !== null && o.tip !== undefined) {
      const t = o.tip;
      try {
        if (!isMap(t)) throw badReq('tip: {hash, seq}');
        tip = {
          hash: bytesN(t.hash, 32, 'tip hash'),
          seq: uint(t.seq, 0, Number.MAX_SAFE_INTEGER, 'tip seq'),
        };
      } catch (e) {
        fault('BAD_RESPONSE', (e as Error).message);
      }
    }

    // Shape and size of the whole page first: no decoding or verifying work
    // is spent on a page that is going to be refused anyway.
    const items = o.events as unknown[];
    let total = 0;
    for (const [i, item] of items.entries()) {
      if (!(item instanceof Uint8Array)) return fault('BAD_RESPONSE', `event ${i}: not bytes`);
      total += item.length;
    }
    if (total > maxBytes) fault('TOO_LARGE', `events of ${total} bytes over ${maxBytes}`);

    const events: WireEvent[] = [];
    const inPage = new Map<string, WireEvent>();
    for (const [i, item] of (items as Uint8Array[]).entries()) {
      let ev: WireEvent;
      try {
        ev = decodeEvent(new Uint8Array(item), hash);
      } catch (e) {
        return fault('BAD_ENCODING', `event ${i}: ${(e as Error).message}`);
      }
      if (!equalBytes(ev.chainId, opts.chainId)) fault('BAD_RESPONSE', `event ${i}: another chain`);
      if (batch === undefined && !verify(ev.creator, ev.hash, ev.signature)) {
        fault('BAD_SIGNATURE', `event ${i}: bad signature`);
      }
      const key = toHex(ev.hash);
      if (inPage.has(key) || (await opts.has(ev.hash))) continue; // duplicates are free
      if (ev.selfParent) {
        const sp = inPage.get(toHex(ev.selfParent));
        if (sp === undefined && !(await opts.has(ev.selfParent))) {
          fault('MISSING_PARENT', `event ${i}: self-parent missing`, ev.creator);
        }
        if (sp !== undefined && (!equalBytes(sp.creator, ev.creator) || sp.seq + 1 !== ev.seq)) {
          fault('BAD_RESPONSE', `event ${i}: self-parent of another creator or seq`);
        }
      }
      if (ev.otherParent) {
        const op = ev.otherParent.hash;
        if (!inPage.has(toHex(op)) && !(await opts.has(op))) {
          fault('MISSING_PARENT', `event ${i}: other-parent missing`, ev.otherParent.creator);
        }
      }
      inPage.set(key, ev);
      events.push(ev);
    }
    if (batch !== undefined && events.length > 0) {
      const ok = await batch(
        events.map((ev) => ({ publicKey: ev.creator, message: ev.hash, signature: ev.signature })),
      );
      const bad = ok.findIndex((v) => v !== true);
      if (bad >= 0 || ok.length !== events.length) {
        fault('BAD_SIGNATURE', `event ${toHex(events[Math.max(bad, 0)]!.hash)}: bad signature`);
      }
    }
    return { events, more: o.more, tip };
  }

  return {
    pull,
    async close() {
      await owned?.close();
    },
  };
}

/** Reads a body up to `cap` bytes; null (and the stream destroyed) if it is longer. */
async function readCapped(
  body: Dispatcher.ResponseData['body'],
  cap: number,
): Promise<Uint8Array | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > cap) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
