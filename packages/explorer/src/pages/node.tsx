/**
 * The node (issue 20): peers, rounds/s, events/s, committed tx/s, finality
 * latency and the mempool as live charts. Rates come from successive
 * `pos_status` answers (one a second); committed transactions and
 * finality from the block feed: each block's transactions when applied,
 * and, when its certificate arrives, the time since the block's own
 * timestamp (the latency from the leader's event to finality, as this page
 * sees it).
 *
 * @module
 */
import type { NodeStatus } from '@pos/api';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { clock, duration, grouped } from '../lib/format.js';
import { createSeries, createWindow, rateOf } from '../lib/rates.js';
import { Chart } from '../ui/chart.js';
import { Failed, Fields, HashLink, useApp } from '../ui/common.js';
import { usePoll } from '../ui/hooks.js';

const POINTS = 300;

/** The node page. */
export function NodePage() {
  const { conn } = useApp();
  const [status, setStatus] = useState<NodeStatus | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [version, setVersion] = useState(0);
  const charts = useMemo(
    () => ({
      peers: createSeries(1, POINTS),
      rates: createSeries(2, POINTS),
      tx: createSeries(1, POINTS),
      latency: createSeries(1, POINTS),
      mempool: createSeries(1, POINTS),
      prev: null as { atMs: number; round: number; events: number } | null,
      committed: createWindow(10_000),
      lastLatencyMs: null as number | null,
    }),
    [],
  );

  useEffect(
    () =>
      conn.onBlock((b) => {
        const now = Date.now();
        if (!b.certified) charts.committed.add(now, b.txCount);
        else charts.lastLatencyMs = now - b.timestamp;
      }),
    [],
  );

  usePoll(
    async () => {
      try {
        const st = await conn.api.status();
        const now = Date.now();
        const t = now / 1000;
        const prev = charts.prev;
        const rounds = rateOf(prev && { atMs: prev.atMs, value: prev.round }, {
          atMs: now,
          value: st.round,
        });
        const events = rateOf(prev && { atMs: prev.atMs, value: prev.events }, {
          atMs: now,
          value: st.events.stored,
        });
        charts.prev = { atMs: now, round: st.round, events: st.events.stored };
        charts.peers.push(t, [st.peers]);
        charts.rates.push(t, [rounds, events]);
        charts.tx.push(t, [charts.committed.perSecond(now)]);
        charts.latency.push(t, [
          charts.lastLatencyMs === null ? null : charts.lastLatencyMs / 1000,
        ]);
        charts.mempool.push(t, [st.mempool.transactions]);
        setStatus(st);
        setVersion((v) => v + 1);
        setError(undefined);
      } catch (e) {
        setError(e);
      }
    },
    1000,
    [],
  );

  return (
    <section class="page">
      <h2>Node</h2>
      {error === undefined ? null : <Failed error={error} />}
      {status === null ? null : (
        <Fields
          rows={[
            ['node', <HashLink value={status.nodeId} />],
            ['chain', <span class="mono">{status.chainId}</span>],
            ['height', `${status.height ?? '-'} (certified ${status.lastCertifiedHeight ?? '-'})`],
            ['round', `${status.round} (decided ${status.decidedRound})`],
            [
              'peers',
              `${status.peers} of ${status.peersKnown}${status.syncing ? ', syncing' : ''}`,
            ],
            [
              'events',
              `${grouped(status.events.stored)} stored, ${grouped(status.events.live)} live`,
            ],
            [
              'mempool',
              `${status.mempool.transactions} transactions, ${grouped(status.mempool.bytes)} bytes`,
            ],
            [
              'last block',
              status.lastBlockTime === null
                ? '-'
                : `${clock(status.lastBlockTime)} (${duration(Date.now() - status.lastBlockTime)} ago)`,
            ],
            [
              'validator set',
              `epoch ${status.validatorSet.epoch}, ${status.validatorSet.size} validators${status.validatorSet.member ? ', this node a member' : ''}`,
            ],
            [
              'supply',
              `${grouped(status.supply.unspent)} unspent, ${grouped(status.supply.burned)} burned`,
            ],
          ]}
        />
      )}
      <div class="charts">
        <Chart
          title="rounds/s and events/s"
          labels={['rounds/s', 'events/s']}
          series={charts.rates.series}
          version={version}
        />
        <Chart
          title="committed tx/s (10 s window)"
          labels={['tx/s']}
          series={charts.tx.series}
          version={version}
        />
        <Chart
          title="finality latency, s (block timestamp to certificate)"
          labels={['latency']}
          series={charts.latency.series}
          version={version}
          unit=" s"
        />
        <Chart
          title="mempool, transactions"
          labels={['pending']}
          series={charts.mempool.series}
          version={version}
        />
        <Chart title="peers" labels={['peers']} series={charts.peers.series} version={version} />
      </div>
    </section>
  );
}
