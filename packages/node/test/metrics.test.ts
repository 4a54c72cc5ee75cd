// The node's metrics: pos_ names with HELP and TYPE in the text exposition,
// values as updated, labels, histograms, and one registry per node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createNodeMetrics } from '../src/metrics.js';

test('every metric is exposed under a pos_ name with HELP and TYPE', async () => {
  const m = createNodeMetrics();
  const text = await m.text();
  const names = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => x[1]!);
  assert.ok(names.length >= 15, names.join(' '));
  for (const n of names) {
    assert.match(n, /^pos_[a-z_]+$/);
    assert.match(text, new RegExp(`^# HELP ${n} \\S`, 'm'));
  }
  for (const want of [
    'pos_blocks_total',
    'pos_decided_round',
    'pos_events_inserted_total',
    'pos_transactions_committed_total',
    'pos_finality_latency_seconds',
    'pos_tx_stage_seconds',
    'pos_tx_signatures_checked_total',
    'pos_sync_pulls_total',
    'pos_sync_requests_refused_total',
    'pos_peers',
    'pos_peers_banned',
    'pos_mempool_transactions',
  ]) {
    assert.ok(names.includes(want), want);
  }
  assert.match(m.contentType, /^text\/plain/);
});

test('values, labels and histogram buckets appear as updated', async () => {
  const m = createNodeMetrics({ labels: { node: 'v0' } });
  m.blocksTotal.inc(3);
  m.blockHeight.set(41);
  m.transactionsRejectedTotal.inc({ reason: 'INPUT_SPENT' });
  m.finalityLatencySeconds.observe(0.2);
  m.finalityLatencySeconds.observe(3);
  const text = await m.text();
  assert.match(text, /^pos_blocks_total\{node="v0"\} 3$/m);
  assert.match(text, /^pos_block_height\{node="v0"\} 41$/m);
  assert.match(text, /^pos_transactions_rejected_total\{reason="INPUT_SPENT",node="v0"\} 1$/m);
  assert.match(text, /^pos_finality_latency_seconds_bucket\{le="0.25",node="v0"\} 1$/m);
  assert.match(text, /^pos_finality_latency_seconds_bucket\{le="5",node="v0"\} 2$/m);
  assert.match(text, /^pos_finality_latency_seconds_count\{node="v0"\} 2$/m);
});

test('two nodes in one process keep separate registries', async () => {
  const a = createNodeMetrics();
  const b = createNodeMetrics();
  a.eventsInsertedTotal.inc(5);
  assert.match(await a.text(), /^pos_events_inserted_total 5$/m);
  assert.match(await b.text(), /^pos_events_inserted_total 0$/m);
});

test('process metrics, when asked for, are pos_process_* and pos_nodejs_*', async () => {
  const m = createNodeMetrics({ processMetrics: true });
  const text = await m.text();
  assert.match(text, /^pos_process_resident_memory_bytes \d+/m);
  assert.match(text, /^pos_nodejs_eventloop_lag_seconds /m);
});

test.run();
