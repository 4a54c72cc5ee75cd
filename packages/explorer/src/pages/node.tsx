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
import type { Connection } from '../lib/connection.js';
import { clock, duration, grouped } from '../lib/format.js';
import { createSeries, createWindow, rateOf } from '../lib/rates.js';
import { Chart } from '../ui/chart.js';
import { Failed, Fields, HashLink, useApp } from '../ui/common.js';
import { usePoll } from '../ui/hooks.js';

const POINTS = 300;

/** Samples the node each second and the block feed into the charts' series. */
function useNodeCharts(conn: Connection) {
  const [status, setStatus] = useState<NodeStatus | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [version, setVersion] = useState(0);
  const c = useMemo(
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
        if (!b.certified) c.committed.add(Date.now(), b.txCount);
        else c.lastLatencyMs = Date.now() - b.timestamp;
      }),
    [],
  );
  usePoll(
    async () => {
      try {
        const st = await conn.api.status();
        const now = Date.now();
        const prev = c.prev;
        const rounds = rateOf(prev && { atMs: prev.atMs, value: prev.round }, {
          atMs: now,
          value: st.round,
        });
        const events = rateOf(prev && { atMs: prev.atMs, value: prev.events }, {
          atMs: now,
          value: st.events.stored,
        });
        c.prev = { atMs: now, round: st.round, events: st.events.stored };
        c.peers.push(now / 1000, [st.peers]);
        c.rates.push(now / 1000, [rounds, events]);
        c.tx.push(now / 1000, [c.committed.perSecond(now)]);
        c.latency.push(now / 1000, [c.lastLatencyMs === null ? null : c.lastLatencyMs / 1000]);
        c.mempool.push(now / 1000, [st.mempool.transactions]);
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
  return { status, error, version, charts: c };
}

function StatusFields(props: { status: NodeStatus }) {
  const st = props.status;
  return (
    <Fields
      rows={[
        ['node', <HashLink value={st.nodeId} />],
        ['chain', <span class="mono">{st.chainId}</span>],
        ['height', `${st.height ?? '-'} (certified ${st.lastCertifiedHeight ?? '-'})`],
        ['round', `${st.round} (decided ${st.decidedRound})`],
        ['peers', `${st.peers} of ${st.peersKnown}${st.syncing ? ', syncing' : ''}`],
        ['events', `${grouped(st.events.stored)} stored, ${grouped(st.events.live)} live`],
        ['mempool', `${st.mempool.transactions} transactions, ${grouped(st.mempool.bytes)} bytes`],
        [
          'last block',
          st.lastBlockTime === null
            ? '-'
            : `${clock(st.lastBlockTime)} (${duration(Date.now() - st.lastBlockTime)} ago)`,
        ],
        [
          'validator set',
          `epoch ${st.validatorSet.epoch}, ${st.validatorSet.size} validators${st.validatorSet.member ? ', this node a member' : ''}`,
        ],
        ['supply', `${grouped(st.supply.unspent)} unspent, ${grouped(st.supply.burned)} burned`],
      ]}
    />
  );
}

/** The node page. */
export function NodePage() {
  const { conn } = useApp();
  const { status, error, version, charts } = useNodeCharts(conn);
  return (
    <section class="page">
      <h2>Node</h2>
      {error === undefined ? null : <Failed error={error} />}
      {status === null ? null : <StatusFields status={status} />}
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
