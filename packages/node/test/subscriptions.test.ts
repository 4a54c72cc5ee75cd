// WebSocket subscriptions (docs/PROTOCOL.md 10) over a real fastify server
// and real `ws` clients: delivery and order, filtering, unsubscribe, JSON-RPC
// errors that keep the socket usable, the documented limits, listener cleanup.

import fastify, { type FastifyInstance } from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import WebSocket from 'ws';
import {
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_LIMIT_EXCEEDED,
  RPC_METHOD_NOT_FOUND,
  RPC_PARSE_ERROR,
} from '../src/api/dispatcher.js';
import { createNodeEvents, type NewBlockEvent, type NodeEvents } from '../src/api/events.js';
import {
  registerSubscriptions,
  type SubscriptionOpts,
  type SubscriptionStats,
} from '../src/api/subscriptions.js';

interface Server {
  app: FastifyInstance;
  events: NodeEvents;
  url: string;
  stats: () => SubscriptionStats;
}

async function start(
  opts: Omit<SubscriptionOpts, 'events'> = {},
  events: NodeEvents = createNodeEvents(),
): Promise<Server> {
  const app = fastify();
  const stats = registerSubscriptions(app, { events, ...opts });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return { app, events, url: `ws://127.0.0.1:${addr.port}${opts.path ?? '/ws'}`, stats };
}

/** A client that queues every text frame it receives. */
interface Client {
  ws: WebSocket;
  next(): Promise<Record<string, unknown>>;
  call(method: string, params?: unknown, id?: number): Promise<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
  /** Frames received and not yet taken by `next`. */
  queued(): Record<string, unknown>[];
}

function connect(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const inbox: Record<string, unknown>[] = [];
    const waiters: ((m: Record<string, unknown>) => void)[] = [];
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      const w = waiters.shift();
      if (w) w(m);
      else inbox.push(m);
    });
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on('close', (code: number, reason: Buffer) => r({ code, reason: reason.toString() })),
    );
    let nextId = 1;
    const next = (): Promise<Record<string, unknown>> => {
      const m = inbox.shift();
      if (m) return Promise.resolve(m);
      return new Promise((r, j) => {
        const t = setTimeout(() => j(new Error('no message within 2s')), 2000);
        waiters.push((x) => {
          clearTimeout(t);
          r(x);
        });
      });
    };
    const client: Client = {
      ws,
      next,
      closed,
      queued: () => [...inbox],
      call: (method, params, id = nextId++) => {
        ws.send(JSON.stringify({ jsonrpc: '2.0', method, params, id }));
        return next();
      },
    };
    ws.on('open', () => resolve(client));
    ws.on('error', reject);
  });
}

/** Fails if anything arrives within `ms` (and nobody is waiting meanwhile). */
async function silence(c: Client, ms = 100): Promise<void> {
  await sleep(ms);
  const got = c.queued();
  if (got.length > 0) throw new Error(`unexpected message ${JSON.stringify(got[0])}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function block(height: number): NewBlockEvent {
  return {
    height,
    blockHash: `0x${height.toString(16).padStart(64, '0')}`,
    timestamp: 1_700_000_000_000 + height,
    txCount: height % 3,
    certified: height % 2 === 0,
  };
}

const TX_A = `0x${'aa'.repeat(32)}`;
const TX_B = `0x${'bb'.repeat(32)}`;

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('event bus: typed emit/on, unsubscribe, isolation of throwing listeners', () => {
  const logged: unknown[] = [];
  const ev = createNodeEvents({ logger: { error: (e) => logged.push(e) } });
  const got: number[] = [];
  const off1 = ev.on('newBlock', () => {
    throw new Error('bad listener');
  });
  const off2 = ev.on('newBlock', (b) => got.push(b.height));
  assert.is(ev.listenerCount('newBlock'), 2);
  assert.is(ev.listenerCount('txStatus'), 0);
  ev.emit('newBlock', block(1));
  ev.emit('txStatus', { txHash: TX_A, status: 'pending' });
  assert.equal(got, [1]);
  assert.is(logged.length, 1);
  off1();
  off2();
  off2();
  ev.emit('newBlock', block(2));
  assert.equal(got, [1]);
  assert.is(ev.listenerCount(), 0);
});

test('newBlocks: subscription id, then every block in order, notification shape', async () => {
  const s = await start();
  try {
    const c = await connect(s.url);
    const r = await c.call('pos_subscribe', ['newBlocks'], 7);
    assert.is(r.jsonrpc, '2.0');
    assert.is(r.id, 7);
    const id = r.result;
    assert.type(id, 'string');
    assert.match(id as string, /^0x[0-9a-f]{32}$/);
    for (let h = 1; h <= 50; h++) s.events.emit('newBlock', block(h));
    for (let h = 1; h <= 50; h++) {
      const m = await c.next();
      assert.equal(m, {
        jsonrpc: '2.0',
        method: 'pos_subscription',
        params: { subscription: id, result: block(h) },
      });
    }
    c.ws.close();
    await c.closed;
  } finally {
    await s.app.close();
  }
});

test('a notification never precedes the answer carrying its subscription id', async () => {
  const bus = createNodeEvents();
  // Emits as soon as a listener is added: before the subscribe answer is sent.
  const eager: NodeEvents = {
    ...bus,
    on: (topic, fn) => {
      const off = bus.on(topic, fn);
      bus.emit('newBlock', block(0));
      return off;
    },
  };
  const s = await start({}, eager);
  try {
    const c = await connect(s.url);
    const r = await c.call('pos_subscribe', ['newBlocks'], 1);
    assert.is(r.id, 1, 'the answer comes first');
    assert.equal(await c.next(), {
      jsonrpc: '2.0',
      method: 'pos_subscription',
      params: { subscription: r.result, result: block(0) },
    });
    c.ws.close();
  } finally {
    await s.app.close();
  }
});

test('txStatus: only the subscribed tx (case-insensitive), independent subscriptions', async () => {
  const s = await start();
  try {
    const c = await connect(s.url);
    const a = (await c.call('pos_subscribe', ['txStatus', TX_A.toUpperCase().replace('0X', '0x')]))
      .result;
    const blocks = (await c.call('pos_subscribe', ['newBlocks'])).result;
    assert.is.not(a, blocks);
    s.events.emit('txStatus', { txHash: TX_B, status: 'pending' });
    s.events.emit('txStatus', { txHash: TX_A, status: 'pending' });
    s.events.emit('txStatus', { txHash: TX_B, status: 'committed', height: 3 });
    s.events.emit('txStatus', { txHash: TX_A, status: 'rejected', reason: 'double spend' });
    const m1 = await c.next();
    const m2 = await c.next();
    assert.equal(m1.params, { subscription: a, result: { txHash: TX_A, status: 'pending' } });
    assert.equal(m2.params, {
      subscription: a,
      result: { txHash: TX_A, status: 'rejected', reason: 'double spend' },
    });
    await silence(c);
    c.ws.close();
  } finally {
    await s.app.close();
  }
});

test('unsubscribe stops delivery; unknown or foreign ids answer false', async () => {
  const s = await start();
  try {
    const c = await connect(s.url);
    const d = await connect(s.url);
    const id = (await c.call('pos_subscribe', ['newBlocks'])).result;
    const other = (await d.call('pos_subscribe', ['newBlocks'])).result;
    s.events.emit('newBlock', block(1));
    assert.is((await c.next()).method, 'pos_subscription');
    assert.is((await d.next()).method, 'pos_subscription');
    assert.is((await c.call('pos_unsubscribe', [other])).result, false);
    assert.is((await c.call('pos_unsubscribe', ['0x00'])).result, false);
    assert.is((await c.call('pos_unsubscribe', [id])).result, true);
    assert.is((await c.call('pos_unsubscribe', [id])).result, false);
    assert.equal(s.stats(), { sockets: 2, subscriptions: 1 });
    s.events.emit('newBlock', block(2));
    await silence(c);
    // d's subscription is untouched by c's attempt.
    assert.equal((await d.next()).params, { subscription: other, result: block(2) });
    c.ws.close();
    d.ws.close();
  } finally {
    await s.app.close();
  }
});

test('malformed frames get JSON-RPC errors and the socket stays usable', async () => {
  const s = await start();
  try {
    const c = await connect(s.url);
    const err = async (frame: string | Buffer, code: number, id: unknown = null) => {
      c.ws.send(frame);
      const m = await c.next();
      assert.is(m.jsonrpc, '2.0');
      assert.is(m.id, id);
      assert.is((m.error as { code: number }).code, code, `frame ${String(frame)}`);
    };
    await err('{not json', RPC_PARSE_ERROR);
    await err('', RPC_PARSE_ERROR);
    await err('42', RPC_INVALID_REQUEST);
    await err('[]', RPC_INVALID_REQUEST);
    await err(
      Buffer.from('{"jsonrpc":"2.0","method":"pos_subscribe","id":1}'),
      RPC_INVALID_REQUEST,
    );
    await err(
      '{"jsonrpc":"2.0","method":"eth_subscribe","params":["newHeads"],"id":2}',
      RPC_METHOD_NOT_FOUND,
      2,
    );
    await err('{"jsonrpc":"2.0","method":"pos_subscribe","id":3}', RPC_INVALID_PARAMS, 3);
    await err(
      '{"jsonrpc":"2.0","method":"pos_subscribe","params":["newHeads"],"id":4}',
      RPC_INVALID_PARAMS,
      4,
    );
    await err(
      '{"jsonrpc":"2.0","method":"pos_subscribe","params":["txStatus","0x12"],"id":5}',
      RPC_INVALID_PARAMS,
      5,
    );
    await err(
      '{"jsonrpc":"2.0","method":"pos_subscribe","params":["txStatus"],"id":6}',
      RPC_INVALID_PARAMS,
      6,
    );
    await err(
      '{"jsonrpc":"2.0","method":"pos_unsubscribe","params":[1],"id":7}',
      RPC_INVALID_PARAMS,
      7,
    );
    await err(
      '{"jsonrpc":"2.0","method":"pos_unsubscribe","params":{"id":"x"},"id":8}',
      RPC_INVALID_PARAMS,
      8,
    );
    assert.equal(s.stats(), { sockets: 1, subscriptions: 0 });
    // Still usable: a batch subscribes twice, a notification-only frame is not answered.
    c.ws.send(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'pos_subscribe', params: ['newBlocks'], id: 'a' },
        { jsonrpc: '2.0', method: 'pos_subscribe', params: ['txStatus', TX_A], id: 'b' },
      ]),
    );
    const batch = (await c.next()) as unknown as { id: string; result: string }[];
    assert.is(batch.length, 2);
    assert.equal(
      batch.map((r) => r.id),
      ['a', 'b'],
    );
    c.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'pos_unsubscribe', params: ['0x01'] }));
    await silence(c);
    s.events.emit('newBlock', block(9));
    assert.equal((await c.next()).params, { subscription: batch[0]?.result, result: block(9) });
    c.ws.close();
  } finally {
    await s.app.close();
  }
});

test('frames over 64 KiB close the socket with 1009', async () => {
  const s = await start();
  try {
    const c = await connect(s.url);
    const ok = JSON.stringify({ jsonrpc: '2.0', method: 'nope', id: 1, pad: 'x'.repeat(60_000) });
    c.ws.send(ok);
    assert.is(((await c.next()).error as { code: number }).code, RPC_METHOD_NOT_FOUND);
    c.ws.send('x'.repeat(64 * 1024 + 1));
    const { code } = await c.closed;
    // The server sends 1009; the ws client reports what it received.
    assert.is(code, 1009);
    await waitFor(() => s.stats().sockets === 0, 'socket count back to 0');
  } finally {
    await s.app.close();
  }
});

test('per-socket subscription limit answers -32005 and leaves the others working', async () => {
  const s = await start({ maxSubscriptionsPerSocket: 3 });
  try {
    const c = await connect(s.url);
    const ids: unknown[] = [];
    for (let i = 0; i < 3; i++) ids.push((await c.call('pos_subscribe', ['newBlocks'])).result);
    const over = await c.call('pos_subscribe', ['newBlocks'], 99);
    assert.is(over.id, 99);
    assert.is((over.error as { code: number }).code, RPC_LIMIT_EXCEEDED);
    assert.is(s.events.listenerCount('newBlock'), 3);
    // Freeing one makes room again.
    assert.is((await c.call('pos_unsubscribe', [ids[0]])).result, true);
    assert.type((await c.call('pos_subscribe', ['newBlocks'])).result, 'string');
    // Another socket has its own budget.
    const d = await connect(s.url);
    assert.type((await d.call('pos_subscribe', ['newBlocks'])).result, 'string');
    c.ws.close();
    d.ws.close();
  } finally {
    await s.app.close();
  }
});

test('max sockets: the next upgrade is refused with 503, room returns after a close', async () => {
  const s = await start({ maxSockets: 2 });
  try {
    const a = await connect(s.url);
    const b = await connect(s.url);
    const refused = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(s.url);
      ws.on('unexpected-response', (_req: unknown, res: { statusCode: number }) => {
        resolve(res.statusCode);
        ws.terminate();
      });
      ws.on('open', () => reject(new Error('third socket was accepted')));
      ws.on('error', () => {});
    });
    assert.is(refused, 503);
    // The existing sockets are unaffected.
    assert.type((await a.call('pos_subscribe', ['newBlocks'])).result, 'string');
    b.ws.close();
    await b.closed;
    await waitFor(() => s.stats().sockets === 1, 'socket count 1');
    const c = await connect(s.url);
    assert.type((await c.call('pos_subscribe', ['newBlocks'])).result, 'string');
    a.ws.close();
    c.ws.close();
  } finally {
    await s.app.close();
  }
});

test('slow consumer over maxQueuedBytes is closed with 1008, the emitter is not blocked', async () => {
  const s = await start({ maxQueuedBytes: 64 * 1024 });
  try {
    const slow = await connect(s.url);
    const fast = await connect(s.url);
    await slow.call('pos_subscribe', ['newBlocks']);
    await fast.call('pos_subscribe', ['newBlocks']);
    slow.ws.pause();
    // Enough to fill the loopback socket buffers many times over.
    const big = { ...block(1), blockHash: `0x${'ab'.repeat(2000)}` };
    let closedAt = -1;
    for (let i = 0; i < 20_000 && closedAt < 0; i++) {
      s.events.emit('newBlock', big);
      if (s.stats().sockets === 1) closedAt = i;
      // Let the fast client drain so only the slow one backs up.
      if (i % 10 === 0) await sleep(1);
    }
    assert.ok(closedAt > 0, 'the slow consumer was cut off');
    assert.is(s.events.listenerCount('newBlock'), 1);
    slow.ws.resume();
    const { code } = await slow.closed;
    assert.is(code, 1008);
    // The fast client is still subscribed and served.
    assert.is(fast.ws.readyState, WebSocket.OPEN);
    assert.equal(s.stats(), { sockets: 1, subscriptions: 1 });
    assert.ok(fast.queued().length > closedAt / 2, 'the fast client kept receiving');
    fast.ws.close();
    await fast.closed;
  } finally {
    await s.app.close();
  }
});

test('no listener leak: 200 sockets opened, subscribed and closed', async () => {
  const s = await start();
  try {
    for (let round = 0; round < 4; round++) {
      const clients = await Promise.all(Array.from({ length: 50 }, () => connect(s.url)));
      await Promise.all(
        clients.map(async (c, i) => {
          await c.call('pos_subscribe', ['newBlocks']);
          if (i % 2 === 0) await c.call('pos_subscribe', ['txStatus', TX_B]);
        }),
      );
      assert.is(s.events.listenerCount(), 75);
      for (const [i, c] of clients.entries()) {
        if (i % 3 === 0) c.ws.terminate();
        else c.ws.close();
      }
      await waitFor(() => s.events.listenerCount() === 0, 'listeners back to 0');
    }
    assert.equal(s.stats(), { sockets: 0, subscriptions: 0 });
  } finally {
    await s.app.close();
  }
});

test('app.close() closes open sockets and frees their listeners', async () => {
  const s = await start();
  const c = await connect(s.url);
  await c.call('pos_subscribe', ['newBlocks']);
  assert.is(s.events.listenerCount(), 1);
  await s.app.close();
  await c.closed;
  await waitFor(() => s.events.listenerCount() === 0, 'listeners back to 0');
});

test.run();
