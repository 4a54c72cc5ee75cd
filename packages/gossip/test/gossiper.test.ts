// The gossip loop (docs/PROTOCOL.md 8.1) with a scripted sync client: peer
// choice (preferred peers first, banned and backed-off peers skipped),
// backoff after failures and timeouts, the whole-creator rule after a
// MISSING_PARENT page, paging while the peer has more, the pace (busy or
// idle naps, a wake ending a nap), and a fatal error ending the loop. Also
// the peer book and the warning limiter on their own.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createGossiper,
  createPeerBook,
  createWarnLimiter,
  GossipError,
  type GossiperDeps,
  type KnownEntry,
  type Peer,
  type PullResult,
  peerUrl,
  type StepPull,
} from '../src/index.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits until `cond` holds (the loop runs on timers; a loaded machine is slow), at most 10 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what}`);
    await sleep(2);
  }
}
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

// --- peer book --------------------------------------------------------------------------

test('peerUrl: host:port gets http://, trailing slashes go', () => {
  for (const [input, out] of [
    ['127.0.0.1:8681', 'http://127.0.0.1:8681'],
    ['http://a:1/', 'http://a:1'],
    ['https://a:1//', 'https://a:1'],
    ['[::1]:9', 'http://[::1]:9'],
  ] as const) {
    assert.is(peerUrl(input), out, input);
  }
});

test('peer book: once per URL, a key learned later, self never added', () => {
  const book = createPeerBook();
  book.addSelf('http://me:1');
  book.add('http://me:1', null);
  book.add('http://a:1', null);
  book.add('http://a:1', Uint8Array.of(7));
  book.add('http://a:1', Uint8Array.of(8));
  assert.is(book.all.length, 1);
  assert.equal(book.all[0]!.publicKey, Uint8Array.of(7), 'the first key named stays');
});

test('peer book: failures back off 2^n × base up to the cap; timeouts 1, 2, 4 … s up to theirs', () => {
  const book = createPeerBook({
    baseBackoffMs: 10,
    maxBackoffMs: 100,
    baseTimeoutBackoffMs: 1000,
    maxTimeoutBackoffMs: 3000,
  });
  book.add('http://a:1', null);
  const p = book.all[0]!;
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    book.noteFailure(p, 0, false);
    delays.push(p.retryAtMs);
  }
  assert.equal(delays, [20, 40, 80, 100, 100]);
  const t: number[] = [];
  for (let i = 0; i < 4; i++) {
    book.noteFailure(p, 0, true);
    t.push(p.retryAtMs);
  }
  assert.equal(t, [1000, 2000, 3000, 3000]);
  book.noteOk(p, 5);
  assert.equal([p.failures, p.timeouts, p.lastOkMs], [0, 0, 5]);
});

test('peer book: pick prefers the preferred among due, unbanned peers', () => {
  const book = createPeerBook({}, () => 0.99);
  for (const u of ['http://a:1', 'http://b:1', 'http://c:1']) book.add(u, null);
  const [a, b, c] = book.all as Peer[];
  const preferB = (p: Peer) => p === b;
  assert.is(
    book.pick(0, () => false, preferB),
    b,
  );
  b!.retryAtMs = 10;
  assert.is(
    book.pick(0, () => false, preferB),
    c,
    'b not due: the rest, at random',
  );
  assert.is(
    book.pick(0, (p) => p === c, preferB),
    a,
    'c banned',
  );
  assert.is(
    book.pick(0, () => true, preferB),
    undefined,
  );
  assert.is(
    book.pick(10, () => false, preferB),
    b,
  );
});

test('peer book: fresh peers are those synced within peerFreshMs', () => {
  const book = createPeerBook({ peerFreshMs: 100 });
  book.add('http://a:1', null);
  book.add('http://b:1', null);
  book.noteOk(book.all[0]!, 1000);
  assert.is(book.fresh(1100).length, 1);
  assert.is(book.fresh(1101).length, 0);
});

// --- warn limiter -----------------------------------------------------------------------

test('warn limiter: once per interval per key, bounded keys', () => {
  const w = createWarnLimiter({ intervalMs: 100, maxKeys: 2 });
  assert.ok(w.due('a', 0));
  assert.not.ok(w.due('a', 99));
  assert.ok(w.due('a', 100));
  assert.ok(w.due('b', 100));
  assert.not.ok(w.due('c', 150), 'full, and no entry expired');
  assert.ok(w.due('c', 200), 'a and b expired: room again');
});

// --- the loop ---------------------------------------------------------------------------

interface Script {
  /** What each pull answers, in order (then empty pages). */
  answers: (PullResult | GossipError)[];
  pulls: { url: string; known: readonly KnownEntry[] }[];
}

function harness(over: Partial<GossiperDeps> = {}, urls = ['http://a:1']) {
  const peers = createPeerBook({ baseBackoffMs: 10 }, () => 0);
  for (const u of urls) peers.add(u, null);
  const script: Script = { answers: [], pulls: [] };
  const steps: StepPull[] = [];
  const ingested: number[] = [];
  let fatal: unknown = null;
  let work = false;
  const known: KnownEntry[] = [
    { creator: Uint8Array.of(1), seq: 3 },
    { creator: Uint8Array.of(2), seq: 5 },
  ];
  const deps: GossiperDeps = {
    client: {
      async pull(url, k) {
        script.pulls.push({ url, known: k });
        const a = script.answers.shift() ?? { events: [], more: false, tip: null };
        if (a instanceof GossipError) throw a;
        return a;
      },
    },
    peers,
    scores: { banned: () => false },
    known: () => known,
    ingest: async (page) => {
      ingested.push(page.length);
      return page.length;
    },
    preferred: () => false,
    afterPull: async (s) => void steps.push(s),
    hasWork: () => work,
    isFatal: (e) => (e as Error).message === 'fatal',
    onFatal: (e) => {
      fatal = e;
    },
    logger: quiet,
    ...over,
  };
  return {
    deps,
    peers,
    script,
    steps,
    ingested,
    setWork: (w: boolean) => {
      work = w;
    },
    fatal: () => fatal,
  };
}

const page = (n: number, more: boolean): PullResult => ({
  events: Array.from({ length: n }, () => ({}) as never),
  more,
  tip: null,
});

test('loop: pages from one peer while it has more and brings new events, then the node step', async () => {
  const h = harness();
  h.script.answers.push(page(2, true), page(3, true), page(1, false));
  const g = createGossiper(h.deps, { idlePollMs: 5, busyIntervalMs: 1 });
  await until(() => h.steps.length > 0, 'a step');
  await g.stop();
  assert.equal(h.ingested.slice(0, 3), [2, 3, 1]);
  assert.is(h.steps[0]!.inserted, 6);
  assert.is(h.steps[0]!.peer?.url, 'http://a:1');
  assert.is(g.catchingUp, false);
});

test('loop: at most maxPagesPerStep pages in one step; still catching up after', async () => {
  const h = harness();
  for (let i = 0; i < 10; i++) h.script.answers.push(page(1, true));
  const g = createGossiper(h.deps, {
    idlePollMs: 10_000,
    busyIntervalMs: 10_000,
    maxPagesPerStep: 4,
  });
  await until(() => g.napping, 'the first nap');
  assert.is(h.script.pulls.length, 4);
  assert.is(g.catchingUp, true);
  assert.ok(g.napping);
  await g.stop();
});

test('loop: a MISSING_PARENT page leaves that creator out of the next summaries for a while', async () => {
  const h = harness();
  h.script.answers.push(
    new GossipError('MISSING_PARENT', 'no parent', Uint8Array.of(2)),
    page(0, false),
  );
  const g = createGossiper(h.deps, { idlePollMs: 1, busyIntervalMs: 1, wholeCreatorMs: 60_000 });
  await until(() => h.script.pulls.length >= 2, 'two pulls');
  await g.stop();
  assert.is(h.script.pulls[0]!.known.length, 2);
  assert.ok(h.script.pulls.length >= 2);
  assert.equal(
    h.script.pulls[1]!.known.map((k) => k.creator[0]),
    [1],
    'creator 2 asked for whole',
  );
});

test('loop: a failing peer backs off, a timing-out one longer; the node step still runs', async () => {
  const h = harness({}, ['http://a:1']);
  h.script.answers.push(new GossipError('PEER_REFUSED', 'down'));
  const g = createGossiper(h.deps, { idlePollMs: 10_000 });
  await until(() => h.steps.length > 0, 'a step');
  const p = h.peers.all[0]!;
  assert.is(p.failures, 1);
  assert.ok(p.retryAtMs > 0);
  assert.is(h.steps.length, 1, 'the own-event step ran without a pull');
  await g.stop();

  const t = harness({}, ['http://b:1']);
  t.script.answers.push(new GossipError('PEER_TIMEOUT', 'silent'));
  const outcomes: string[] = [];
  const g2 = createGossiper(
    { ...t.deps, onPull: (o) => void outcomes.push(o) },
    {
      idlePollMs: 10_000,
    },
  );
  await until(() => t.steps.length > 0, 'a step');
  const q = t.peers.all[0]!;
  assert.equal([q.failures, q.timeouts], [1, 1]);
  assert.ok(q.retryAtMs - Date.now() > 500, 'a silent peer waits about a second');
  assert.equal(outcomes, ['PEER_TIMEOUT']);
  await g2.stop();
});

test('loop: preferred peers are pulled first; banned ones never', async () => {
  const h = harness(
    {
      preferred: (p) => p.url === 'http://b:1',
      scores: { banned: (u) => u === 'http://c:1' },
    },
    ['http://a:1', 'http://b:1', 'http://c:1'],
  );
  const g = createGossiper(h.deps, { idlePollMs: 1, busyIntervalMs: 1 });
  await until(() => h.script.pulls.length >= 5, 'five pulls');
  await g.stop();
  assert.ok(h.script.pulls.every((p) => p.url === 'http://b:1'));
});

test('loop: naps idlePollMs without work, busyIntervalMs with it; wake ends a nap', async () => {
  const h = harness();
  const g = createGossiper(h.deps, { idlePollMs: 10_000, busyIntervalMs: 1 });
  await until(() => g.napping, 'the first nap');
  await sleep(20);
  assert.is(h.steps.length, 1, 'idle: one step, then a long nap');
  h.setWork(true);
  g.wake();
  await until(() => h.steps.length > 3, 'busy steps after the wake');
  await g.stop();
});

test('loop: a fatal error ends the loop and is reported once; others are logged and it goes on', async () => {
  let n = 0;
  const h = harness({
    afterPull: async () => {
      n++;
      if (n === 1) throw new Error('transient');
      if (n === 2) throw new Error('fatal');
    },
  });
  const g = createGossiper(h.deps, { idlePollMs: 1, busyIntervalMs: 1 });
  await until(() => h.fatal() !== null, 'the fatal report');
  await sleep(20);
  assert.is(n, 2, 'no step after the fatal one');
  assert.is((h.fatal() as Error).message, 'fatal');
  await g.stop();
});

test.run();
