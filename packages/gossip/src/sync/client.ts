/**
 * The puller (docs/PROTOCOL.md 8): one signed request, one page back; the
 * page is checked whole (size, shape, chain, parents, signatures) before a
 * single event is handed to the caller, and every fault is a typed
 * `GossipError` that scores the peer.
 */
import { equalBytes, type HashFn, sha256Noble, toHex } from '@pos/merkle';
import { verifyEd25519 } from '@pos/protocol';
import { Agent, type Dispatcher, request } from 'undici';
import { GossipError, type GossipErrorCode } from '../errors.js';
import { decodeEvent, MAX_EVENT_BYTES, type WireEvent } from '../event.js';
import type { KnownEntry, Tip } from '../store.js';
import {
  badReq,
  bytesN,
  encodeSyncRequestBody,
  isMap,
  MAX_PAGE_BYTES,
  MAX_PAGE_EVENTS,
  msgpackShapeProblem,
  SYNC_CONTENT_TYPE,
  SYNC_PATH,
  type SyncRequest,
  syncRequestHash,
  U32_MAX,
  uint,
  unpackr,
  type VerifyFn,
} from './request.js';
import { refusalCodeOf } from './server.js';

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

/** A client's settings, resolved once. */
interface Client {
  readonly opts: SyncClientOpts;
  readonly verify: VerifyFn;
  readonly hash: HashFn;
  readonly nowMs: () => number;
  readonly maxEvents: number;
  readonly maxBytes: number;
  /** Largest response body: the events plus msgpack framing. */
  readonly bodyCap: number;
  readonly dispatcher: Dispatcher;
}

/** Throws the peer's fault, after telling `onFault` (to score it). */
type Fault = (code: GossipErrorCode, message: string, creator?: Uint8Array) => never;

/** Signs and sends the request; the response body, within the cap. */
async function fetchPage(
  c: Client,
  peerUrl: string,
  known: readonly KnownEntry[],
  fault: Fault,
): Promise<Uint8Array> {
  const nonceBytes = crypto.getRandomValues(new Uint8Array(8));
  const nonce = new DataView(nonceBytes.buffer).getBigUint64(0);
  const req: SyncRequest = {
    chainId: c.opts.chainId,
    from: c.opts.publicKey,
    known,
    maxEvents: c.maxEvents,
    maxBytes: c.maxBytes,
    nonce,
    timestampMs: c.nowMs(),
  };
  const body = encodeSyncRequestBody(req, c.opts.sign(syncRequestHash(req, c.hash)));
  let res: Dispatcher.ResponseData;
  try {
    res = await request(`${peerUrl.replace(/\/+$/, '')}${SYNC_PATH}`, {
      method: 'POST',
      headers: { 'content-type': SYNC_CONTENT_TYPE },
      body,
      dispatcher: c.dispatcher,
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
  if (Number.isFinite(declared) && declared > c.bodyCap) {
    res.body.destroy();
    fault('TOO_LARGE', `response of ${declared} bytes over ${c.bodyCap}`);
  }
  let raw: Uint8Array | null;
  try {
    raw = await readCapped(res.body, c.bodyCap);
  } catch (e) {
    const code = isTimeout(e) ? 'PEER_TIMEOUT' : 'PEER_REFUSED';
    throw new GossipError(code, `${peerUrl}: ${(e as Error).message}`);
  }
  if (raw === null) return fault('TOO_LARGE', `response over ${c.bodyCap} bytes`);
  return raw;
}

/** The response's shape: `{events: [bytes], more, tip}`, within the caps. */
function parsePage(
  c: Client,
  raw: Uint8Array,
  fault: Fault,
): { items: Uint8Array[]; more: boolean; tip: Tip | null } {
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
  if (o.events.length > c.maxEvents) fault('TOO_LARGE', `over ${c.maxEvents} events`);
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
  if (total > c.maxBytes) fault('TOO_LARGE', `events of ${total} bytes over ${c.maxBytes}`);
  return { items: items as Uint8Array[], more: o.more, tip };
}

/** Decodes the page's events and checks chain, parents and (without a batch) signatures. */
async function checkEvents(c: Client, items: Uint8Array[], fault: Fault): Promise<WireEvent[]> {
  const events: WireEvent[] = [];
  const inPage = new Map<string, WireEvent>();
  const has = (h: Uint8Array) => inPage.has(toHex(h)) || c.opts.has(h);
  for (const [i, item] of items.entries()) {
    let ev: WireEvent;
    try {
      ev = decodeEvent(new Uint8Array(item), c.hash);
    } catch (e) {
      return fault('BAD_ENCODING', `event ${i}: ${(e as Error).message}`);
    }
    if (!equalBytes(ev.chainId, c.opts.chainId)) fault('BAD_RESPONSE', `event ${i}: another chain`);
    if (c.opts.verifyBatch === undefined && !c.verify(ev.creator, ev.hash, ev.signature)) {
      fault('BAD_SIGNATURE', `event ${i}: bad signature`);
    }
    const key = toHex(ev.hash);
    if (inPage.has(key) || (await c.opts.has(ev.hash))) continue; // duplicates are free
    if (ev.selfParent) {
      const sp = inPage.get(toHex(ev.selfParent));
      if (sp === undefined && !(await c.opts.has(ev.selfParent))) {
        fault('MISSING_PARENT', `event ${i}: self-parent missing`, ev.creator);
      }
      if (sp !== undefined && (!equalBytes(sp.creator, ev.creator) || sp.seq + 1 !== ev.seq)) {
        fault('BAD_RESPONSE', `event ${i}: self-parent of another creator or seq`);
      }
    }
    if (ev.otherParent && !(await has(ev.otherParent.hash))) {
      fault('MISSING_PARENT', `event ${i}: other-parent missing`, ev.otherParent.creator);
    }
    inPage.set(key, ev);
    events.push(ev);
  }
  return events;
}

/** The new events' signatures in one batch (e.g. worker threads). */
async function verifyPage(c: Client, events: WireEvent[], fault: Fault): Promise<void> {
  const batch = c.opts.verifyBatch;
  if (batch === undefined || events.length === 0) return;
  const ok = await batch(
    events.map((ev) => ({ publicKey: ev.creator, message: ev.hash, signature: ev.signature })),
  );
  const bad = ok.findIndex((v) => v !== true);
  if (bad >= 0 || ok.length !== events.length) {
    fault('BAD_SIGNATURE', `event ${toHex(events[Math.max(bad, 0)]!.hash)}: bad signature`);
  }
}

/** Creates a puller using undici keep-alive connections (docs/PROTOCOL.md 8). */
export function createSyncClient(opts: SyncClientOpts): SyncClient {
  const maxEvents = opts.maxEvents ?? MAX_PAGE_EVENTS;
  const maxBytes = opts.maxBytes ?? MAX_PAGE_BYTES;
  const timeoutMs = opts.timeoutMs ?? 10_000;
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
  const c: Client = {
    opts,
    verify: opts.verify ?? verifyEd25519,
    hash: opts.hash ?? sha256Noble,
    nowMs: opts.nowMs ?? Date.now,
    maxEvents,
    maxBytes,
    bodyCap: maxBytes + maxEvents * PER_EVENT_OVERHEAD + RESPONSE_OVERHEAD,
    dispatcher: opts.dispatcher ?? owned!,
  };
  return {
    async pull(peerUrl, known) {
      const fault: Fault = (code, message, creator) => {
        opts.onFault?.(peerUrl, code, message);
        throw new GossipError(code, message, creator);
      };
      const raw = await fetchPage(c, peerUrl, known, fault);
      const { items, more, tip } = parsePage(c, raw, fault);
      const events = await checkEvents(c, items, fault);
      await verifyPage(c, events, fault);
      return { events, more, tip };
    },
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
