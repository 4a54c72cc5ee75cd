// The operator endpoints over real loopback HTTP: /health, /ready (200 or
// 503 with a reason), /status and /metrics in Prometheus text.
import Fastify from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { registerOpsRoutes } from '../src/api/ops.js';
import { createNodeMetrics } from '../src/metrics.js';

test('health, readiness, status and metrics', async () => {
  const app = Fastify();
  const metrics = createNodeMetrics();
  let ready = false;
  registerOpsRoutes(app, {
    metrics,
    ready: () => (ready ? { ready: true } : { ready: false, reason: 'syncing: 2 of 4 peers' }),
    status: () => ({ height: 7, round: 9, chainId: `0x${'ab'.repeat(32)}` }),
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const health = await fetch(`${url}/health`);
    assert.is(health.status, 200);
    assert.equal(await health.json(), { status: 'ok' });
    const notReady = await fetch(`${url}/ready`);
    assert.is(notReady.status, 503);
    assert.equal(await notReady.json(), { ready: false, reason: 'syncing: 2 of 4 peers' });
    ready = true;
    assert.is((await fetch(`${url}/ready`)).status, 200);
    const status = await fetch(`${url}/status`);
    assert.equal(await status.json(), { height: 7, round: 9, chainId: `0x${'ab'.repeat(32)}` });
    metrics.blocksTotal.inc(2);
    const m = await fetch(`${url}/metrics`);
    assert.is(m.status, 200);
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await m.text(), /^pos_blocks_total 2$/m);
    assert.is(m.headers.get('cache-control'), 'no-store');
    assert.is((await fetch(`${url}/metrics`, { method: 'POST' })).status, 404);
  } finally {
    await app.close();
  }
});

test.run();
