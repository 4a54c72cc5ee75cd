// Fuzzing of what peers send (issue 7; docs/PROTOCOL.md 6.1 and 8): the
// event decoder, the sync request decoder, the sync endpoint over real
// loopback HTTP (random and mutated bodies, content types, oversized
// bodies), and the puller's decoding of a hostile responder's answers.
//
// Decoders return a value or throw GossipError (BAD_ENCODING), never
// another exception; the endpoint answers every hostile request with a 4xx
// JSON `{error: CODE}` from the documented list (never a 5xx) and keeps
// serving; the puller hands out only verified events or throws GossipError.
// Bounded in time: see packages/test-utils/src/fuzz.ts (FUZZ_MS, FUZZ_SEED).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  anyBytes,
  expectTyped,
  fuzzTest,
  heapGrowth,
  mutatedBytes,
  mutatedJson,
  nastyJson,
  outcome,
  outcomeAsync,
  sameBytes,
  samples,
} from '@pos/test-utils/fuzz';
import { loud } from '@pos/test-utils/hooks';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { eventMaker, forkedRounds, newKey } from '@pos/test-utils/signed-events';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { Packr } from 'msgpackr';
import { Agent, request } from 'undici';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createMemoryEventStore,
  createRateLimiter,
  createSyncClient,
  decodeEvent,
  decodeSyncRequest,
  encodeSyncRequest,
  encodeSyncRequestBody,
  encodeUnsignedEvent,
  GossipError,
  type KnownEntry,
  MAX_EVENT_BYTES,
  MAX_SYNC_REQUEST_BYTES,
  registerSyncRoutes,
  SYNC_CONTENT_TYPE,
  SYNC_PATH,
  type SyncRequest,
  syncRequestHash,
  type WireEvent,
} from '../src/index.js';

const GOSSIP = [GossipError];
const CHAIN = new Uint8Array(32).fill(0xc4);
const keys = [newKey(), newKey(), newKey(), newKey()] as const;
const outsider = newKey();
const mk = eventMaker(CHAIN);
const dag = forkedRounds(mk, keys, 5);
const DAG: WireEvent[] = dag.events;
const packr = new Packr({ useRecords: false });

// One more, by another creator on parents far apart.
const bigEvent = mk(keys[1], DAG.find((e) => sameBytes(e.creator, keys[1].pub))!, DAG[0]!, 9);
const EVENT_BASES = [DAG[0]!.bytes, DAG[5]!.bytes, DAG.at(-1)!.bytes, bigEvent.bytes];

// --- decodeEvent -----------------------------------------------------------------------

/** The decoder's one success: every field re-encodes to exactly the input. */
function checkEvent(bytes: Uint8Array): void {
  const o = expectTyped(
    outcome(() => decodeEvent(bytes, sha256)),
    GOSSIP,
    ['BAD_ENCODING'],
  );
  if (!o.ok) return;
  const ev = o.value;
  const again = new Uint8Array(bytes.length);
  again.set(encodeUnsignedEvent(ev));
  again.set(ev.signature, bytes.length - 64);
  assert.ok(sameBytes(again, bytes), 'decoded, but not canonical');
  assert.is(
    hex(ev.hash),
    hex(
      sha256(
        new Uint8Array([
          ...new TextEncoder().encode('pos/event'),
          ...bytes.subarray(0, bytes.length - 64),
        ]),
      ),
    ),
  );
}

fuzzTest('decodeEvent: random bytes', () => fc.property(anyBytes(400), checkEvent));
fuzzTest('decodeEvent: mutations of signed events', () =>
  fc.property(mutatedBytes(EVENT_BASES, 6), checkEvent),
);
fuzzTest('decodeEvent: non-bytes and oversized input', () =>
  fc.property(
    fc.anything(),
    fc.integer({ min: MAX_EVENT_BYTES + 1, max: MAX_EVENT_BYTES + 64 }),
    (x, n) => {
      expectTyped(
        outcome(() => decodeEvent(x as Uint8Array)),
        GOSSIP,
        ['BAD_ENCODING'],
      );
      const o = outcome(() => decodeEvent(new Uint8Array(n)));
      expectTyped(o, GOSSIP, ['BAD_ENCODING']);
      assert.not.ok(o.ok);
    },
  ),
);

// --- decodeSyncRequest ------------------------------------------------------------------

function signedRequest(
  known: readonly KnownEntry[] = [],
  over: Partial<SyncRequest> = {},
  key = keys[0],
) {
  const req: SyncRequest = {
    chainId: CHAIN,
    from: key.pub,
    known,
    maxEvents: 100,
    maxBytes: MAX_EVENT_BYTES,
    nonce: BigInt(Math.floor(Math.random() * 2 ** 48)),
    timestampMs: Date.now(),
    ...over,
  };
  return encodeSyncRequestBody(req, key.sign(syncRequestHash(req, sha256)));
}

const knownOf = (evs: readonly WireEvent[]): KnownEntry[] =>
  evs.map((e) => ({ creator: e.creator, seq: e.seq, hash: e.hash }));
const REQUEST_BASES = [
  signedRequest(),
  signedRequest(knownOf(DAG.slice(0, 4))),
  signedRequest(knownOf(DAG.slice(-3)), { nonce: (1n << 64n) - 1n, maxEvents: 2 ** 32 - 1 }),
];
/** The request as a msgpack-able object, for structural mutations. */
const REQUEST_OBJECT = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'bigint',
}).unpack(REQUEST_BASES[1]!);

function checkRequest(body: Uint8Array): void {
  const o = expectTyped(
    outcome(() => decodeSyncRequest(body)),
    GOSSIP,
    ['BAD_ENCODING'],
  );
  // What decodes has every field in range: it has a canonical encoding.
  if (o.ok) encodeSyncRequest(o.value.req);
}

/** msgpack of `v`, or nil when msgpackr cannot write it (too deep for its recursion). */
function pack(v: unknown): Uint8Array {
  try {
    return packr.pack(v);
  } catch {
    return new Uint8Array([0xc0]);
  }
}

/** `n` nested one-element arrays (or maps): deeper than any recursive decoder's stack. */
const deep = (n: number, head: number) => {
  const b = new Uint8Array(n + 1).fill(head);
  b[n] = 0xc0;
  return b;
};

/** msgpack of hostile values: JSON-ish nasties, the request's own shape mutated, deep nesting. */
const hostileMsgpack = fc.oneof(
  fc
    .oneof(
      nastyJson,
      mutatedJson(REQUEST_OBJECT, 4),
      fc.anything({
        withBigInt: true,
        withTypedArray: true,
        withMap: true,
        withSet: true,
        withDate: true,
        withNullPrototype: true,
      }),
    )
    .map(pack),
  fc
    .tuple(fc.integer({ min: 1, max: 200_000 }), fc.constantFrom(0x91, 0x81, 0xdc))
    .map(([n, h]) => deep(n, h)),
);

test('regression: nested array16 headers are refused before msgpackr allocates', async () => {
  // Found by the hostile-msgpack property: 100 KB of 0xdc (array16 of 56,540
  // elements, each such an array, ...) took msgpackr 4.5 s and 1.3 GB of heap
  // (posd runs with --max-old-space-size=1024) before its stack overflowed,
  // on the sync endpoint before any signature check, and in the puller.
  for (const head of [0xdc, 0xdd, 0xde, 0x9f]) {
    const body = deep(200_000, head);
    const o = outcome(() => decodeSyncRequest(body));
    expectTyped(o, GOSSIP, ['BAD_ENCODING']);
    assert.not.ok(o.ok);
  }
  // A complete but too deep value, and a container longer than the bytes left.
  for (const body of [pack([[[[1]]]]), Uint8Array.of(0xdc, 0xff, 0xff, 0xc0)]) {
    expectTyped(
      outcome(() => decodeSyncRequest(body)),
      GOSSIP,
      ['BAD_ENCODING'],
    );
  }
});

fuzzTest('decodeSyncRequest: random bytes', () => fc.property(anyBytes(600), checkRequest));
fuzzTest('decodeSyncRequest: mutations of signed bodies', () =>
  fc.property(mutatedBytes(REQUEST_BASES, 6), checkRequest),
);
fuzzTest('decodeSyncRequest: hostile msgpack values', () =>
  fc.property(hostileMsgpack, checkRequest),
);

// --- the sync endpoint over HTTP ---------------------------------------------------------

/** The refusals the module comment of sync.ts documents, with their statuses. */
const REFUSALS: Record<string, number> = {
  BAD_REQUEST: 400,
  WRONG_CHAIN: 400,
  BAD_SIGNATURE: 401,
  STALE_REQUEST: 401,
  REPLAYED: 401,
  NOT_A_PEER: 403,
  BANNED: 403,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
};

let server: FastifyInstance;
let url: string;
const dispatcher = new Agent({ connections: 4, keepAliveTimeout: 10_000 });

test.before(
  loud(async () => {
    const store = createMemoryEventStore();
    for (const e of DAG) store.add(e);
    server = Fastify({ logger: false });
    registerSyncRoutes(server, {
      chainId: CHAIN,
      self: keys[1].pub,
      store,
      isPeer: (pk) => keys.some((k) => sameBytes(k.pub, pk)),
      hash: sha256,
      // Generous, so that signed requests get past the limiter and reach the pages.
      rateLimiter: createRateLimiter({ ratePerSec: 1e6, burst: 1e6, maxPeers: 64 }),
    });
    await server.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
    await startHostile();
  }),
);

test.after(async () => {
  await server?.close();
  await dispatcher.close();
  await new Promise((r) => hostile?.close(r));
});

interface Sent {
  body: Uint8Array;
  contentType: string | null;
}

async function post({ body, contentType }: Sent) {
  const res = await request(`${url}${SYNC_PATH}`, {
    method: 'POST',
    headers: contentType === null ? {} : { 'content-type': contentType },
    body,
    dispatcher,
  });
  const raw = new Uint8Array(await res.body.arrayBuffer());
  return { status: res.statusCode, type: String(res.headers['content-type'] ?? ''), raw };
}

/** Every answer is a page (200, msgpack) or a documented refusal; never a 5xx. */
function checkAnswer(a: Awaited<ReturnType<typeof post>>, sent: Sent): void {
  assert.ok(a.status < 500, `HTTP ${a.status} for ${sent.contentType}`);
  if (a.status === 200) {
    assert.ok(a.type.startsWith(SYNC_CONTENT_TYPE));
    const page = packr.unpack(a.raw) as { events: Uint8Array[]; more: boolean };
    for (const ev of page.events) decodeEvent(new Uint8Array(ev));
    return;
  }
  assert.ok(a.type.startsWith('application/json'), `content type ${a.type} with ${a.status}`);
  const { error } = JSON.parse(new TextDecoder().decode(a.raw)) as { error: string };
  assert.is(REFUSALS[error], a.status, `${a.status} ${error}`);
}

const contentTypes = fc.oneof(
  fc.constantFrom<string | null>(
    SYNC_CONTENT_TYPE,
    SYNC_CONTENT_TYPE,
    `${SYNC_CONTENT_TYPE}; charset=utf-8`,
    'APPLICATION/MSGPACK',
    'application/json',
    'text/plain',
    'application/octet-stream',
    'multipart/form-data; boundary=x',
    '',
    null,
  ),
  fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
);

const bodies = fc.oneof(
  anyBytes(300),
  mutatedBytes(REQUEST_BASES, 6),
  hostileMsgpack,
  fc.constantFrom(...REQUEST_BASES),
  fc.jsonValue().map((j) => new TextEncoder().encode(JSON.stringify(j))),
);

fuzzTest('sync endpoint: any body and content type is a page or a documented 4xx', () =>
  fc.asyncProperty(bodies, contentTypes, async (body, contentType) => {
    const sent = { body, contentType };
    checkAnswer(await post(sent), sent);
  }),
);

fuzzTest('sync endpoint: signed requests with hostile summaries and caps', () =>
  fc.asyncProperty(
    fc.array(fc.constantFrom(...DAG), { maxLength: 12 }),
    fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    fc.integer({ min: MAX_EVENT_BYTES, max: 2 ** 32 - 1 }),
    fc.integer({ min: -600_000, max: 600_000 }),
    fc.constantFrom(keys[0], keys[2], outsider),
    async (known, maxEvents, maxBytes, skew, key) => {
      // A summary may name a creator up to 4 times (a forker's tips) and no more.
      const body = outcome(() =>
        signedRequest(knownOf(known), { maxEvents, maxBytes, timestampMs: Date.now() + skew }, key),
      );
      if (!body.ok) return;
      const sent = { body: body.value, contentType: SYNC_CONTENT_TYPE };
      checkAnswer(await post(sent), sent);
    },
  ),
);

test('sync endpoint: oversized bodies are 413 TOO_LARGE, and it serves afterwards', async () => {
  for (const n of [MAX_SYNC_REQUEST_BYTES + 1, 4 * MAX_SYNC_REQUEST_BYTES]) {
    const big = new Uint8Array(n).fill(0x91);
    const a = await post({ body: big, contentType: SYNC_CONTENT_TYPE });
    assert.is(a.status, 413);
    checkAnswer(a, { body: big, contentType: SYNC_CONTENT_TYPE });
  }
  const ok = await post({ body: signedRequest(), contentType: SYNC_CONTENT_TYPE });
  assert.is(ok.status, 200);
});

// --- the puller against a hostile responder ----------------------------------------------

let hostile: Server | undefined;
let hostileUrl: string;
/** What the hostile responder sends next: status, content type, body. */
let reply: { status: number; body: Uint8Array } = { status: 200, body: new Uint8Array() };

async function startHostile(): Promise<void> {
  hostile = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(reply.status, { 'content-type': SYNC_CONTENT_TYPE });
      res.end(reply.body);
    });
  });
  await new Promise<void>((r) => hostile!.listen(0, '127.0.0.1', r));
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
}

/** The puller already holds the first half of the DAG; honest pages hold the rest. */
const held = new Set(DAG.slice(0, 10).map((e) => hex(e.hash)));
const page = (
  events: readonly WireEvent[],
  more = false,
  tip: unknown = { hash: DAG.at(-1)!.hash, seq: 1 },
) => packr.pack({ events: events.map((e) => e.bytes), more, tip });
const RESPONSE_BASES = [page(DAG.slice(10)), page(DAG.slice(10, 13), true), page([], false, null)];
const RESPONSE_OBJECT = new Packr({ useRecords: false, mapsAsObjects: true }).unpack(
  RESPONSE_BASES[1]!,
);

const puller = createSyncClient({
  chainId: CHAIN,
  publicKey: keys[0].pub,
  sign: keys[0].sign,
  has: (h) => held.has(hex(h)),
  hash: sha256,
  maxEvents: 50,
  maxBytes: MAX_EVENT_BYTES,
  dispatcher,
});

fuzzTest("puller: a hostile responder's answer is verified events or a GossipError", () =>
  fc.asyncProperty(
    fc.oneof(
      anyBytes(300),
      mutatedBytes(RESPONSE_BASES, 6),
      fc.oneof(nastyJson, mutatedJson(RESPONSE_OBJECT, 3)).map(pack),
      fc.integer({ min: 1, max: 100_000 }).map((n) => deep(n, 0x91)),
      fc.constantFrom(...RESPONSE_BASES),
    ),
    fc.constantFrom(200, 200, 200, 204, 301, 400, 404, 500, 503),
    async (body, status) => {
      reply = { status, body };
      const o = expectTyped(await outcomeAsync(() => puller.pull(hostileUrl, [])), GOSSIP);
      if (!o.ok) return;
      assert.is(status, 200);
      // Only events of the honest DAG can be in a page that passed: each is
      // signed by its creator, and its parents are held or earlier in the page.
      const seen = new Set(held);
      for (const ev of o.value.events) {
        assert.ok(
          DAG.some((d) => sameBytes(d.bytes, ev.bytes)),
          'an event not of the DAG passed',
        );
        if (ev.selfParent) assert.ok(seen.has(hex(ev.selfParent)));
        if (ev.otherParent) assert.ok(seen.has(hex(ev.otherParent.hash)));
        seen.add(hex(ev.hash));
      }
    },
  ),
);

// --- memory -------------------------------------------------------------------------------

test('memory: decoding many hostile events and requests keeps nothing alive', async () => {
  const evs = samples(mutatedBytes(EVENT_BASES, 6), 300);
  const reqs = samples(fc.oneof(mutatedBytes(REQUEST_BASES, 6), hostileMsgpack), 300);
  const growth = await heapGrowth(3_000, (i) => {
    outcome(() => decodeEvent(evs[i % 300]!, sha256));
    outcome(() => decodeSyncRequest(reqs[i % 300]!));
  });
  assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${growth} bytes`);
});

test('the server still serves a signed request after all of the above', async () => {
  const a = await post({
    body: signedRequest(knownOf(DAG.slice(0, 3))),
    contentType: SYNC_CONTENT_TYPE,
  });
  assert.is(a.status, 200);
  await puller.close();
});

test.run();
