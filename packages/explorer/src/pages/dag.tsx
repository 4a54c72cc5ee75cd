/**
 * DAG, live (issue 20): the canvas view of ../ui/dag-canvas.ts fed by
 * ./dag-sync.ts every second; follow the newest round, pause, scroll back
 * (older rounds are fetched as the view reaches them), zoom; an event's
 * detail on click. Below the canvas, the latest rounds as a table (the
 * same facts as text: round, events, witnesses, decided, leader, block).
 *
 * @module
 */
import type { NodeStatus } from '@pos/api';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createDagModel, type DagLayout } from '../lib/dag-model.js';
import { shortHex } from '../lib/format.js';
import { BlockLink, Failed, useApp } from '../ui/common.js';
import { createDagCanvas, type DagCanvas } from '../ui/dag-canvas.js';
import { EventView } from '../ui/event-view.js';
import { usePoll } from '../ui/hooks.js';
import { createDagSync } from './dag-sync.js';

/** The latest rounds as text. */
function RoundTable(props: { layout: DagLayout; nameOf: (k: string) => string }) {
  const bands = props.layout.bands.slice(-12).reverse();
  return (
    <table class="list rounds">
      <thead>
        <tr>
          <th>round</th>
          <th>events</th>
          <th>witnesses</th>
          <th>fame</th>
          <th>leader</th>
          <th>block</th>
        </tr>
      </thead>
      <tbody>
        {bands.map((b) => {
          const events = props.layout.nodes.filter((n) => n.round === b.round).length;
          return (
            <tr
              key={b.round}
              data-round={b.round}
              data-decided={String(b.decided)}
              data-leader={b.leader?.creator ?? ''}
            >
              <td>{b.round}</td>
              <td class="num">{events}</td>
              <td class="num">{b.witnesses}</td>
              <td>{b.decided ? 'decided' : 'undecided'}</td>
              <td>{b.leader === null ? '-' : props.nameOf(b.leader.creator)}</td>
              <td>{b.leader === null ? '-' : <BlockLink height={b.round} />}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Legend() {
  return (
    <p class="legend small">
      <span class="dot famous" /> famous witness <span class="dot notfamous" /> not famous{' '}
      <span class="dot undecided" /> undecided witness <span class="dot ordered" /> event (colour:
      its block) <span class="dot pending" /> not in a block yet <span class="ring leader" /> leader{' '}
      <span class="ring fork" /> fork · lines: other-parents · wheel scrolls, ctrl+wheel zooms,
      click an event
    </p>
  );
}

/** The model, its canvas and the second-by-second fetching, while not paused. */
function useLiveDag(paused: boolean, nameOf: (k: string) => string) {
  const { conn } = useApp();
  const model = useMemo(() => createDagModel(), []);
  const sync = useMemo(() => createDagSync(conn.api, model), [conn, model]);
  const canvasEl = useRef<HTMLCanvasElement>(null);
  const view = useRef<DagCanvas | null>(null);
  const [layout, setLayout] = useState<DagLayout>(() => model.layout());
  const [status, setStatus] = useState<NodeStatus | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const [follow, setFollow] = useState(true);
  const [selected, setSelected] = useState<string | null>(null);
  const nameRef = useRef(nameOf);
  nameRef.current = nameOf;
  const refresh = () => {
    const l = model.layout();
    view.current?.setLayout(l);
    setLayout(l);
  };
  useEffect(() => {
    const v = createDagCanvas(canvasEl.current!, {
      nameOf: (k) => nameRef.current(k),
      onSelect: setSelected,
      onFollow: setFollow,
      onNeedOlder: () => void sync.older().then((changed) => changed && refresh(), setError),
    });
    view.current = v;
    return () => v.destroy();
  }, [sync]);
  const ticks = useRef(0);
  usePoll(
    async () => {
      if (paused) return;
      try {
        const r = await sync.step();
        setStatus(r.status);
        // Fork evidence changes rarely: every fifth second.
        if (ticks.current++ % 5 === 0) r.changed = (await sync.forks()) || r.changed;
        if (r.changed) refresh();
        setError(undefined);
      } catch (e) {
        setError(e);
      }
    },
    1000,
    [paused, sync],
  );
  return { model, canvasEl, view, layout, status, error, follow, selected, setSelected };
}

/** The live DAG page. */
export function DagPage() {
  const { names } = useApp();
  const [paused, setPaused] = useState(false);
  const nameOf = (k: string) => names.get(k) ?? shortHex(k, 8, 0);
  const d = useLiveDag(paused, nameOf);
  const v = () => d.view.current;
  return (
    <section class="page dag-page">
      <div class="toolbar">
        <h2>DAG, live</h2>
        <button
          type="button"
          data-action="follow"
          aria-pressed={d.follow}
          onClick={() => v()?.setFollow(!d.follow)}
        >
          {d.follow ? 'following the newest round' : 'follow the newest round'}
        </button>
        <button
          type="button"
          data-action="pause"
          aria-pressed={paused}
          onClick={() => setPaused(!paused)}
        >
          {paused ? 'resume' : 'pause'}
        </button>
        <button type="button" onClick={() => v()?.setZoom(v()!.rowHeight * 1.4)}>
          zoom in
        </button>
        <button type="button" onClick={() => v()?.setZoom(v()!.rowHeight / 1.4)}>
          zoom out
        </button>
        <button
          type="button"
          data-action="fit"
          onClick={() => v()?.setZoom(v()!.rowHeightFor(d.layout.rows))}
        >
          fit all
        </button>
        <span class="small" data-dag-summary>
          {d.model.size} events, rounds {d.layout.bands[0]?.round ?? '-'}..
          {d.layout.bands.at(-1)?.round ?? '-'}
          {d.status === null
            ? ''
            : ` · node at round ${d.status.round}, decided ${d.status.decidedRound}, height ${d.status.height ?? '-'}`}
          {paused ? ' · paused' : ''}
        </span>
      </div>
      {d.error === undefined ? null : <Failed error={d.error} />}
      <Legend />
      <div class="dag-wrap">
        <canvas ref={d.canvasEl} class="dag" data-dag-canvas />
        {d.selected === null ? null : (
          <aside class="detail">
            <button type="button" class="close" onClick={() => d.setSelected(null)}>
              close
            </button>
            <h3>event</h3>
            <EventView hash={d.selected} />
          </aside>
        )}
      </div>
      <h3>latest rounds</h3>
      <RoundTable layout={d.layout} nameOf={nameOf} />
    </section>
  );
}
