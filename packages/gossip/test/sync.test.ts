// The sync protocol (docs/PROTOCOL.md 8) over real loopback HTTP: a full
// pull in pages, parents first, forks delivered; every hostile request refused
// with its status and the server still serving; every hostile response a
// typed error with nothing handed to the caller.
import { createPublicKey, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer } from 'node:net';
import { hex, sha256 } from '@pos/test-utils/node-hash';
import { eventMaker, forkedRounds, type Key, newKey } from '@pos/test-utils/signed-events';
import Fastify, { type FastifyInstance } from 'fastify';
import { Packr } from 'msgpackr';
import { request } from 'undici';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createMemoryEventStore,
  createPeerScores,
  createRateLimiter,
  createSyncClient,
  type EventStore,
  encodeSyncRequestBody,
  GossipError,
  type KnownEntry,
  knownFromHeads,
  MAX_EVENT_BYTES,
  MAX_SYNC_REQUEST_BYTES,
  type PeerScores,
  refusalCodeOf,
  registerSyncRoutes,
  type SyncClientOpts,
  type SyncRefusal,
  type SyncRequest,
  type SyncServerOpts,
  syncRequestHash,
  type VerifyFn,
  type WireEvent,
} from '../src/index.js';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

const nodeVerify: VerifyFn = (pk, msg, sig) => {
  try {
    const key = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, pk]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, msg, key, sig);
  } catch {
    return false;
  }
};

const CHAIN = new Uint8Array(32).fill(0xc4);
const OTHER_CHAIN = new Uint8Array(32).fill(0xc5);
const keys = [newKey(), newKey(), newKey(), newKey()] as const;
const [kA, kB] = keys;
const outsider = newKey();
const isValidator = (pk: Uint8Array) => keys.some((k) => hex(k.pub) === hex(pk));

const mk = eventMaker(CHAIN);

/**
 * B's DAG: 6 rounds of 4 creators, each event's other-parent the previous
 * creator's latest, then a fork by creator 3 (two events on one self-parent),
 * then one more round that builds on both branches.
 */
function buildDag(): WireEvent[] {
  const dag = forkedRounds(mk, keys, 6);
  dag.round();
  return dag.events;
}
const DAG = buildDag();

function storeWith(events: readonly WireEvent[]): EventStore {
  const s = createMemoryEventStore();
  for (const e of events) s.add(e);
  return s;
}

async function all(store: EventStore): Promise<WireEvent[]> {
  const out: WireEvent[] = [];
  for await (const e of store.since([])) out.push(e);
  return out;
}

async function startServer(
  store: EventStore,
  over: Partial<SyncServerOpts> = {},
): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify({ logger: false });
  registerSyncRoutes(app, {
    chainId: CHAIN,
    self: kB.pub,
    store,
    isPeer: isValidator,
    verify: nodeVerify,
    hash: sha256,
    ...over,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

function client(store: EventStore, over: Partial<SyncClientOpts> = {}) {
  return createSyncClient({
    chainId: CHAIN,
    publicKey: kA.pub,
    sign: kA.sign,
    has: (h) => store.has(h),
    verify: nodeVerify,
    hash: sha256,
    ...over,
  });
}

/** Pulls until `more` is false, inserting each page; checks parents-first as it inserts. */
async function syncAll(
  c: ReturnType<typeof client>,
  url: string,
  store: EventStore,
): Promise<{
  pages: number[];
  pageBytes: number[];
  tip: { seq: number; hash: Uint8Array } | null;
}> {
  const pages: number[] = [];
  const pageBytes: number[] = [];
  for (;;) {
    const r = await c.pull(url, knownFromHeads(store.heads()));
    pages.push(r.events.length);
    pageBytes.push(r.events.reduce((n, e) => n + e.bytes.length, 0));
    for (const ev of r.events) {
      if (ev.selfParent) assert.ok(store.has(ev.selfParent), 'self-parent inserted first');
      if (ev.otherParent) assert.ok(store.has(ev.otherParent.hash), 'other-parent inserted first');
      store.add(ev);
    }
    if (!r.more) return { pages, pageBytes, tip: r.tip };
    if (pages.length > 200) throw new Error('no progress');
  }
}

test('A pulls from B until more is false: exactly B events, parents first, B tip', async () => {
  const b = storeWith(DAG);
  const a = storeWith(DAG.slice(0, 6)); // A already has a prefix
  const { app, url } = await startServer(b);
  const c = client(a, { maxEvents: 5 });
  try {
    const { pages, tip } = await syncAll(c, url, a);
    assert.ok(pages.length >= Math.ceil((DAG.length - 6) / 5), `pages ${pages}`);
    assert.ok(
      pages.every((n) => n <= 5),
      `client cap 5 respected: ${pages}`,
    );
    const got = (await all(a)).map((e) => hex(e.hash)).sort();
    assert.equal(got, DAG.map((e) => hex(e.hash)).sort());
    const bTip = b.heads().get(`0x${hex(kB.pub)}`)![0]!;
    assert.is(tip!.seq, bTip.seq);
    assert.is(hex(tip!.hash), hex(bTip.hash));
    // Both branches of the fork arrived: creator 3 had two tips at one point.
    const forkSeq = DAG.filter((e) => hex(e.creator) === hex(keys[3].pub)).map((e) => e.seq);
    assert.is(new Set(forkSeq).size, forkSeq.length - 1, 'the DAG has a fork');
    // A second sync brings nothing.
    const again = await c.pull(url, knownFromHeads(a.heads()));
    assert.is(again.events.length, 0);
    assert.is(again.more, false);
  } finally {
    await c.close();
    await app.close();
  }
});

test('server caps win: maxEvents and maxBytes per page', async () => {
  const b = storeWith(DAG);
  const evSize = DAG[0]!.bytes.length;
  const one = await startServer(b, { maxEvents: 3 });
  const two = await startServer(b, { maxBytes: evSize * 2 + 10 });
  try {
    const a1 = createMemoryEventStore();
    const r1 = await syncAll(client(a1), one.url, a1);
    assert.ok(
      r1.pages.every((n) => n <= 3 && n > 0),
      `${r1.pages}`,
    );
    assert.is(
      r1.pages.reduce((x, y) => x + y, 0),
      DAG.length,
    );
    const a2 = createMemoryEventStore();
    const r2 = await syncAll(client(a2), two.url, a2);
    assert.ok(
      r2.pageBytes.every((n) => n <= evSize * 2 + 10),
      `${r2.pageBytes}`,
    );
    assert.ok(r2.pages.length >= DAG.length / 2, `${r2.pages}`);
    assert.is((await all(a2)).length, DAG.length);
  } finally {
    await one.app.close();
    await two.app.close();
  }
});

test('a fork branch below the puller known seq is delivered (ancestry, not seq)', async () => {
  const k = keys[3];
  const e0 = mk(k, null, null);
  const e1 = mk(k, e0, null);
  const e2a = mk(k, e1, null, 0xa);
  const e3a = mk(k, e2a, null);
  const e2b = mk(k, e1, null, 0xb);
  const b = storeWith([e0, e1, e2a, e3a, e2b]);
  const a = storeWith([e0, e1, e2a, e3a]);
  const { app, url } = await startServer(b);
  const c = client(a);
  try {
    const r = await c.pull(url, knownFromHeads(a.heads()));
    assert.equal(
      r.events.map((e) => hex(e.hash)),
      [hex(e2b.hash)],
    );
    for (const e of r.events) a.add(e);
    assert.is(a.heads().get(`0x${hex(k.pub)}`)!.length, 2, 'two tips after the fork');
    assert.is(r.tip, null, 'B (creator 1) has no own event here');
  } finally {
    await c.close();
    await app.close();
  }
});

test('store: a forker keeps at most 4 tips, highest seq first; since by summary', () => {
  const k = keys[2];
  const root = mk(k, null, null);
  const s = storeWith([root]);
  const branches = [1, 2, 3, 4, 5, 6].map((i) => mk(k, root, null, i));
  for (const e of branches) s.add(e);
  const deep = mk(k, branches[5]!, null);
  s.add(deep);
  const tips = s.heads().get(`0x${hex(k.pub)}`)!;
  assert.is(tips.length, 4);
  assert.is(tips[0]!.seq, 2);
  assert.is(hex(tips[0]!.hash), hex(deep.hash));
  // A peer knowing only `deep` lacks the five other branches, and nothing else.
  const lacking = [
    ...(s.since([{ creator: k.pub, seq: 2, hash: deep.hash }]) as Iterable<WireEvent>),
  ];
  assert.equal(
    lacking.map((e) => hex(e.hash)),
    branches.slice(0, 5).map((e) => hex(e.hash)),
  );
  s.add(deep); // duplicate: no-op
  assert.is([...(s.since([]) as Iterable<WireEvent>)].length, 8);
});

test('store: a peer ahead on a creator that never forked here gets none of its old events', () => {
  const k = keys[1];
  const chain = [mk(k, null, null)];
  for (let i = 0; i < 5; i++) chain.push(mk(k, chain.at(-1)!, null));
  const s = storeWith(chain.slice(0, 4)); // seqs 0..3
  const since = (known: { creator: Uint8Array; seq: number; hash: Uint8Array }[]) =>
    [...(s.since(known) as Iterable<WireEvent>)].map((e) => e.seq);
  // The usual pull: the puller's own newest event (seq 5) is not here yet.
  assert.equal(since([{ creator: k.pub, seq: 5, hash: chain[5]!.hash }]), []);
  assert.equal(since([{ creator: k.pub, seq: 1, hash: chain[1]!.hash }]), [2, 3]);
  assert.equal(since([]), [0, 1, 2, 3], 'a creator not mentioned: all of it');
  // Once this store holds a fork of the creator, an unknown tip says nothing
  // about which branch the peer has: everything not provably its is sent.
  const fork = mk(k, chain[1]!, null, 0xf);
  s.add(fork);
  assert.equal(since([{ creator: k.pub, seq: 5, hash: chain[5]!.hash }]), [0, 1, 2, 3, 2]);
});

// ------------------------------------------------------------- hostile requests

function signedBody(over: Partial<SyncRequest> = {}, key: Key = kA, tamper = false): Uint8Array {
  const req: SyncRequest = {
    chainId: CHAIN,
    from: key.pub,
    known: [],
    maxEvents: 10,
    maxBytes: MAX_EVENT_BYTES,
    nonce: BigInt(Math.floor(Math.random() * 2 ** 52)) * 4096n + 7n,
    timestampMs: Date.now(),
    ...over,
  };
  const sig = key.sign(syncRequestHash(req, sha256));
  if (tamper) sig[5]! ^= 1;
  return encodeSyncRequestBody(req, sig);
}

async function post(
  url: string,
  body: Uint8Array,
  type = 'application/msgpack',
): Promise<{ status: number; error: string | undefined }> {
  const res = await request(`${url}/sync/v1`, {
    method: 'POST',
    headers: { 'content-type': type },
    body,
  });
  const text = await res.body.text();
  let error: string | undefined;
  if (res.statusCode !== 200) error = (JSON.parse(text) as { error: string }).error;
  return { status: res.statusCode, error };
}

test('hostile requests: each refused with its status, the server keeps serving', async () => {
  const b = storeWith(DAG);
  const told: SyncRefusal[] = [];
  const { app, url } = await startServer(b, { onRefused: (r) => told.push(r) });
  try {
    const cases: [string, Uint8Array, number, string, string?][] = [
      ['0xc1', Uint8Array.of(0xc1), 400, 'BAD_REQUEST'],
      ['truncated msgpack', Uint8Array.of(0x92, 0x01), 400, 'BAD_REQUEST'],
      ['empty', new Uint8Array(0), 400, 'BAD_REQUEST'],
      ['an array', new Packr().pack([1, 2, 3]), 400, 'BAD_REQUEST'],
      ['extra key', new Packr({ useRecords: false }).pack({ a: 1 }), 400, 'BAD_REQUEST'],
      ['oversized', new Uint8Array(MAX_SYNC_REQUEST_BYTES + 1), 413, 'TOO_LARGE'],
      ['wrong content type', signedBody(), 415, 'UNSUPPORTED_MEDIA_TYPE', 'text/plain'],
      ['wrong chainId', signedBody({ chainId: OTHER_CHAIN }), 400, 'WRONG_CHAIN'],
      ['unknown peer', signedBody({}, outsider), 403, 'NOT_A_PEER'],
      ['bad signature', signedBody({}, kA, true), 401, 'BAD_SIGNATURE'],
      ['stale', signedBody({ timestampMs: Date.now() - 6 * 60_000 }), 401, 'STALE_REQUEST'],
      ['future', signedBody({ timestampMs: Date.now() + 6 * 60_000 }), 401, 'STALE_REQUEST'],
      ['maxBytes under one event', signedBody({ maxBytes: 1000 }), 400, 'BAD_REQUEST'],
      ['maxEvents 0', signedBody({ maxEvents: 0 }), 400, 'BAD_REQUEST'],
    ];
    // Five tips of one creator is one too many.
    const five: KnownEntry[] = [0, 1, 2, 3, 4].map((i) => ({
      creator: kB.pub,
      seq: i,
      hash: new Uint8Array(32).fill(i),
    }));
    cases.push(['5 tips of one creator', signedBody({ known: five }), 400, 'BAD_REQUEST']);
    for (const [name, body, status, error, type] of cases) {
      told.length = 0;
      const r = await post(url, body, type);
      assert.is(r.status, status, name);
      assert.is(r.error, error, name);
      // onRefused hears the code sent, and `from` only once its signature verified.
      assert.is(told.length, 1, name);
      assert.is(told[0]!.code, error, name);
      const signed = error === 'STALE_REQUEST';
      assert.is(told[0]!.from === null ? null : hex(told[0]!.from), signed ? hex(kA.pub) : null);
      if (name === 'stale') assert.ok(told[0]!.skewMs! < -6 * 60_000 + 5_000, name);
      if (name === 'future') assert.ok(told[0]!.skewMs! > 6 * 60_000 - 5_000, name);
      if (!signed) assert.is(told[0]!.skewMs, undefined, name);
      const ok = await post(url, signedBody());
      assert.is(ok.status, 200, `still serving after ${name}`);
    }
    // A skew inside the window is fine.
    assert.is((await post(url, signedBody({ timestampMs: Date.now() - 4 * 60_000 }))).status, 200);
    // A replay of a valid request is refused.
    const once = signedBody();
    assert.is((await post(url, once)).status, 200);
    told.length = 0;
    assert.equal(await post(url, once), { status: 401, error: 'REPLAYED' });
    assert.equal(
      told.map((r) => [r.code, r.from && hex(r.from)]),
      [['REPLAYED', hex(kA.pub)]],
    );
  } finally {
    await app.close();
  }
});

test('a puller whose clock is an hour ahead: PEER_REFUSED with the refusal STALE_REQUEST', async () => {
  const told: SyncRefusal[] = [];
  const { app, url } = await startServer(storeWith(DAG), { onRefused: (r) => told.push(r) });
  const a = createMemoryEventStore();
  const ahead = client(a, { nowMs: () => Date.now() + 3_600_000 });
  try {
    const e = await ahead.pull(url, []).then(
      () => assert.unreachable('answered'),
      (x: unknown) => x,
    );
    assert.instance(e, GossipError);
    assert.is((e as GossipError).code, 'PEER_REFUSED');
    assert.is((e as GossipError).refusal, 'STALE_REQUEST');
    assert.is(told.length, 1);
    assert.is(hex(told[0]!.from!), hex(kA.pub));
    assert.ok(Math.abs(told[0]!.skewMs! - 3_600_000) < 5_000, String(told[0]!.skewMs));
    // The same puller with a right clock is answered.
    const right = client(a);
    try {
      assert.ok((await right.pull(url, [])).events.length > 0);
    } finally {
      await right.close();
    }
  } finally {
    await ahead.close();
    await app.close();
  }
});

test('refusalCodeOf: only a short upper-case code from a {"error"} body', () => {
  const table: [string, string | undefined][] = [
    ['{"error":"STALE_REQUEST"}', 'STALE_REQUEST'],
    [' {"error":"BANNED"}', 'BANNED'],
    ['{"error":"stale"}', undefined],
    ['{"error":"STALE REQUEST"}', undefined],
    [`{"error":"${'A'.repeat(41)}"}`, undefined],
    ['{"error":1}', undefined],
    ['{"code":"BANNED"}', undefined],
    ['null', undefined],
    ['[]', undefined],
    ['<html>', undefined],
    ['', undefined],
  ];
  for (const [body, want] of table) assert.is(refusalCodeOf(body), want, body);
});

test('read-only sync: a non-validator may pull when allowed', async () => {
  const { app, url } = await startServer(storeWith(DAG), { allowReadOnly: true });
  try {
    assert.is((await post(url, signedBody({}, outsider))).status, 200);
  } finally {
    await app.close();
  }
});

test('rate limit per peer: 429 past the burst, another peer unaffected, refill with time', async () => {
  let now = Date.now();
  const scores = createPeerScores({ nowMs: () => now });
  const { app, url } = await startServer(storeWith(DAG), {
    nowMs: () => now,
    rateLimiter: createRateLimiter({ ratePerSec: 1, burst: 3, maxPeers: 16 }),
    scores,
  });
  try {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await post(url, signedBody({ timestampMs: now }))).status);
    assert.equal(statuses, [200, 200, 200, 429, 429]);
    assert.equal(await post(url, signedBody({ timestampMs: now })), {
      status: 429,
      error: 'RATE_LIMITED',
    });
    const other = signedBody({ timestampMs: now }, keys[2]);
    assert.is((await post(url, other)).status, 200, 'per peer');
    assert.is(scores.score(`0x${hex(kA.pub)}`), -6, 'three refusals scored');
    assert.is(scores.score(`0x${hex(keys[2].pub)}`), 0);
    now += 1000;
    assert.is((await post(url, signedBody({ timestampMs: now }))).status, 200, 'refilled');
  } finally {
    await app.close();
  }
});

test('banned peers are refused; bans decay', async () => {
  let now = Date.now();
  const scores = createPeerScores({ nowMs: () => now, halfLifeMs: 60_000, banAt: 100 });
  const { app, url } = await startServer(storeWith(DAG), { scores, nowMs: () => now });
  try {
    scores.penalize(`0x${hex(kA.pub)}`, 'BAD_SIGNATURE');
    assert.is((await post(url, signedBody({ timestampMs: now }))).status, 200, 'not yet');
    scores.penalize(`0x${hex(kA.pub)}`, 'BAD_ENCODING');
    assert.equal(await post(url, signedBody({ timestampMs: now })), {
      status: 403,
      error: 'BANNED',
    });
    // Stale and replayed requests prove nothing about their sender: not scored.
    const before = scores.score(`0x${hex(kB.pub)}`);
    const once = signedBody({ timestampMs: now }, kB);
    assert.is((await post(url, once)).status, 200);
    assert.is((await post(url, once)).error, 'REPLAYED');
    assert.is((await post(url, signedBody({ timestampMs: now - 600_000 }, kB))).status, 401);
    assert.is(scores.score(`0x${hex(kB.pub)}`), before);
    now += 60_000; // one half-life: -100 becomes -50
    assert.is((await post(url, signedBody({ timestampMs: now }))).status, 200, 'decayed');
  } finally {
    await app.close();
  }
});

test('peer scores: decay, weights, bounded table', () => {
  let now = 0;
  const s: PeerScores = createPeerScores({ nowMs: () => now, halfLifeMs: 1000, maxPeers: 2 });
  assert.is(s.score('x'), 0);
  assert.is(s.penalize('x', 'BAD_SIGNATURE'), -50);
  assert.is(s.penalize('x', 'whatever'), -60);
  now = 1000;
  assert.is(s.score('x'), -30);
  assert.not.ok(s.banned('x'));
  s.penalize('x', 'BAD_SIGNATURE');
  s.penalize('x', 'BAD_SIGNATURE');
  assert.ok(s.banned('x'));
  s.penalize('y', 'RATE_LIMITED');
  s.penalize('z', 'RATE_LIMITED');
  assert.is(s.size, 2);
  assert.is(s.score('x'), 0, 'least recently penalized evicted');
});

// ------------------------------------------------------------- hostile responses

const packr = new Packr({ useRecords: false });

async function fakePeer(body: Uint8Array): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/msgpack' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function expectRefused(
  body: Uint8Array,
  code: string,
  over: Partial<SyncClientOpts> = {},
  a: EventStore = createMemoryEventStore(),
  creator?: Uint8Array,
): Promise<void> {
  const { server, url } = await fakePeer(body);
  const faults: string[] = [];
  const before = (await all(a)).length;
  const c = client(a, { onFault: (_u, code) => faults.push(code), ...over });
  try {
    let got = 'none';
    try {
      const r = await c.pull(url, knownFromHeads(a.heads()));
      for (const e of r.events) a.add(e); // what a caller would do: must not happen
    } catch (e) {
      got = e instanceof GossipError ? e.code : `other: ${e}`;
      if (creator !== undefined) {
        assert.is(hex((e as GossipError).creator!), hex(creator), 'the missing parent creator');
      }
    }
    assert.is(got, code);
    assert.equal(faults, [code], 'reported for scoring');
    assert.is((await all(a)).length, before, 'nothing added');
  } finally {
    await c.close();
    await new Promise((r) => server.close(r));
  }
}

const page = (events: Uint8Array[], more = false) => packr.pack({ events, more, tip: null });

test('client refuses a bad event signature, with the valid events before it', async () => {
  const bad = DAG[1]!.bytes.slice();
  bad[bad.length - 10]! ^= 1;
  await expectRefused(page([DAG[0]!.bytes, bad]), 'BAD_SIGNATURE');
});

test('client refuses garbage event bytes', async () => {
  await expectRefused(page([DAG[0]!.bytes, Uint8Array.of(1, 2, 3)]), 'BAD_ENCODING');
  await expectRefused(page([DAG[0]!.bytes.subarray(0, 100)]), 'BAD_ENCODING');
});

test('client refuses an event whose parent is neither known nor earlier in the page', async () => {
  // DAG[5] (creator 1, seq 1) needs DAG[1] and DAG[4]; give it DAG[0..3] only.
  await expectRefused(page([DAG[5]!.bytes]), 'MISSING_PARENT', {}, storeWith(DAG.slice(0, 4)));
  // Only the self-parent missing (DAG[4]: self DAG[0], other DAG[3]), then only
  // the other; the error names the missing parent's creator (the puller asks
  // for that creator whole next time, docs/PROTOCOL.md 8).
  const [d0, d3] = [DAG[0]!, DAG[3]!];
  await expectRefused(
    page([DAG[4]!.bytes]),
    'MISSING_PARENT',
    {},
    storeWith(DAG.slice(1, 4)),
    d0.creator,
  );
  await expectRefused(
    page([DAG[4]!.bytes]),
    'MISSING_PARENT',
    {},
    storeWith(DAG.slice(0, 1)),
    d3.creator,
  );
  // Reversed order: the child before its parent.
  await expectRefused(page([DAG[4]!.bytes, DAG[0]!.bytes]), 'MISSING_PARENT');
});

test('client refuses responses over its caps and of the wrong shape', async () => {
  const big = new Uint8Array(2 * MAX_EVENT_BYTES);
  await expectRefused(packr.pack({ events: [big], more: false, tip: null }), 'TOO_LARGE', {
    maxBytes: MAX_EVENT_BYTES,
  });
  await expectRefused(page(DAG.slice(0, 4).map((e) => e.bytes)), 'TOO_LARGE', { maxEvents: 3 });
  // Under the body cap (which allows for msgpack framing) but over maxBytes of events.
  const half = new Uint8Array(530_000);
  await expectRefused(page([half, half]), 'TOO_LARGE', { maxBytes: MAX_EVENT_BYTES });
  await expectRefused(Uint8Array.of(0xc1, 0xc1), 'BAD_RESPONSE');
  await expectRefused(packr.pack({ events: 'x', more: false }), 'BAD_RESPONSE');
  await expectRefused(packr.pack({ events: [], more: true, tip: null }), 'BAD_RESPONSE');
  await expectRefused(
    packr.pack({ events: [], more: false, tip: { hash: 1, seq: 0 } }),
    'BAD_RESPONSE',
  );
});

test('client: a valid page from a fake peer passes (the fake is not what fails above)', async () => {
  const { server, url } = await fakePeer(
    page(
      DAG.slice(0, 8).map((e) => e.bytes),
      true,
    ),
  );
  const a = createMemoryEventStore();
  const c = client(a);
  try {
    const r = await c.pull(url, []);
    assert.is(r.events.length, 8);
    assert.is(r.more, true);
    // Duplicates are free: already-held events are dropped silently.
    for (const e of r.events.slice(0, 4)) a.add(e);
    assert.is((await c.pull(url, [])).events.length, 4);
  } finally {
    await c.close();
    await new Promise((r) => server.close(r));
  }
});

test('client with verifyBatch: one batch of the new events only; a bad one refuses the page', async () => {
  const batches: number[] = [];
  const verifyBatch = async (
    items: readonly { publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array }[],
  ) => {
    batches.push(items.length);
    return items.map((it) => nodeVerify(it.publicKey, it.message, it.signature));
  };
  const never: VerifyFn = () => {
    throw new Error('per-event verify must not run when verifyBatch is given');
  };
  const { server, url } = await fakePeer(page(DAG.slice(0, 8).map((e) => e.bytes)));
  const a = storeWith(DAG.slice(0, 3));
  const c = client(a, { verifyBatch, verify: never });
  try {
    const r = await c.pull(url, []);
    assert.is(r.events.length, 5, 'the 3 held events are dropped before verifying');
    assert.equal(batches, [5], 'one batch, duplicates not verified');
  } finally {
    await c.close();
    await new Promise((r) => server.close(r));
  }
  const bad = DAG[1]!.bytes.slice();
  bad[bad.length - 10]! ^= 1;
  await expectRefused(page([DAG[0]!.bytes, bad]), 'BAD_SIGNATURE', { verifyBatch, verify: never });
  // A batch verifier answering the wrong number of verdicts fails closed.
  await expectRefused(page([DAG[0]!.bytes]), 'BAD_SIGNATURE', {
    verifyBatch: async () => [],
    verify: never,
  });
});

test('client: HTTP refusals are PEER_REFUSED, not scored', async () => {
  const { app, url } = await startServer(storeWith(DAG), { isPeer: () => false });
  const faults: string[] = [];
  const c = client(createMemoryEventStore(), { onFault: (_u, code) => faults.push(code) });
  try {
    let code = 'none';
    try {
      await c.pull(url, []);
    } catch (e) {
      code = e instanceof GossipError ? `${e.code} ${e.message}` : String(e);
    }
    assert.match(code, /^PEER_REFUSED .*403.*NOT_A_PEER/);
    assert.equal(faults, []);
  } finally {
    await c.close();
    await app.close();
  }
});

test('client: a peer that takes the request and never answers is PEER_TIMEOUT, not scored', async () => {
  // A black hole: accepts the connection, reads the request, sends nothing.
  const held: import('node:net').Socket[] = [];
  const silent = createTcpServer((sock) => {
    held.push(sock);
    sock.on('data', () => {});
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const faults: string[] = [];
  const c = client(createMemoryEventStore(), {
    headersTimeoutMs: 200,
    onFault: (_u, code) => faults.push(code),
  });
  try {
    let code = 'none';
    try {
      await c.pull(url, []);
    } catch (e) {
      code = e instanceof GossipError ? e.code : String(e);
    }
    assert.is(code, 'PEER_TIMEOUT');
    assert.equal(faults, []);
  } finally {
    await c.close();
    for (const s of held) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

test.run();
