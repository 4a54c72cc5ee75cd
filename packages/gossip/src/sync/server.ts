/**
 * The sync endpoint (docs/PROTOCOL.md 8): `POST /sync/v1` answers a signed
 * summary with a bounded page of the events the puller lacks, parents
 * first. Every request is hostile: its checks run cheapest first, and a
 * refusal is a JSON `{error: CODE}` with its status, never a 500.
 */
import { equalBytes, type HashFn, sha256Noble, toHex } from '@pos/merkle';
import { verifyEd25519 } from '@pos/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createRateLimiter, type RateLimiter } from '../rate-limit.js';
import type { EventStore } from '../store.js';
import {
  decodeSyncRequest,
  MAX_CLOCK_SKEW_MS,
  MAX_PAGE_BYTES,
  MAX_PAGE_EVENTS,
  MAX_SYNC_REQUEST_BYTES,
  packr,
  SYNC_CONTENT_TYPE,
  SYNC_PATH,
  type SyncRequest,
  syncRequestHash,
  type VerifyFn,
} from './request.js';
import { createPeerScores, type PeerScores } from './scores.js';

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
