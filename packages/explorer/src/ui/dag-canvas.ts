/**
 * The DAG on a canvas (issue 20: smooth with thousands of events, so no DOM
 * node per event): the view's state (rows, zoom, scroll, following the
 * newest round, the selection) and its input (wheel scrolls, ctrl+wheel
 * zooms, drag scrolls, click selects); ./dag-draw.ts draws it. A frame is
 * drawn only when something changed, in an animation frame, and each draw
 * is recorded as the Performance API measure `pos-dag-draw` (its detail:
 * the events drawn).
 *
 * @module
 */
import type { DagLayout, DagNode } from '../lib/dag-model.js';
import { drawScene, HEADER, type View } from './dag-draw.js';

/** Options of {@link createDagCanvas}. */
export interface DagCanvasOpts {
  /** A creator's display name. */
  nameOf(creator: string): string;
  /** An event was clicked (null: empty space). */
  onSelect(hash: string | null): void;
  /** The view reached the oldest rows held: time to fetch older rounds. */
  onNeedOlder(): void;
  /** Following the newest round changed (by scrolling). */
  onFollow(follow: boolean): void;
}

const MIN_ROW = 0.5;
const MAX_ROW = 40;

/** Draw statistics: how many draws, events drawn last, mean and worst draw time (ms). */
export interface DrawStats {
  draws: number;
  lastEvents: number;
  meanMs: number;
  maxMs: number;
}

/** Wheel, drag and click on `canvas`; returns the unbinding. */
function bindInput(
  canvas: HTMLCanvasElement,
  on: { scrollBy(dy: number): void; zoomBy(f: number): void; click(x: number, y: number): void },
): () => void {
  const wheel = (e: WheelEvent) => {
    e.preventDefault();
    if (e.ctrlKey) on.zoomBy(e.deltaY < 0 ? 1.15 : 1 / 1.15);
    else on.scrollBy(e.deltaY);
  };
  let drag: { y: number; moved: boolean } | null = null;
  const down = (e: PointerEvent) => {
    drag = { y: e.clientY, moved: false };
  };
  const move = (e: PointerEvent) => {
    if (drag === null) return;
    if (Math.abs(e.clientY - drag.y) > 3) drag.moved = true;
    if (drag.moved) on.scrollBy(drag.y - e.clientY);
    if (drag.moved) drag.y = e.clientY;
  };
  const up = (e: PointerEvent) => {
    if (drag !== null && !drag.moved) {
      const rect = canvas.getBoundingClientRect();
      on.click(e.clientX - rect.left, e.clientY - rect.top);
    }
    drag = null;
  };
  canvas.addEventListener('wheel', wheel, { passive: false });
  canvas.addEventListener('pointerdown', down);
  addEventListener('pointermove', move);
  addEventListener('pointerup', up);
  return () => {
    canvas.removeEventListener('wheel', wheel);
    canvas.removeEventListener('pointerdown', down);
    removeEventListener('pointermove', move);
    removeEventListener('pointerup', up);
  };
}

/** The nearest drawn event to (x, y), within a few px. */
function hit(
  pos: ReadonlyMap<string, { x: number; y: number }>,
  x: number,
  y: number,
  rowH: number,
): string | null {
  let best: string | null = null;
  let bestD = Math.max(8, rowH * 0.6) ** 2;
  for (const [hash, p] of pos) {
    const d = (p.x - x) ** 2 + (p.y - y) ** 2;
    if (d < bestD) [bestD, best] = [d, hash];
  }
  return best;
}

/** Counts a draw from `t0` to `t1` of `events` events, and leaves its Performance API measure. */
function record(stats: DrawStats, t0: number, t1: number, events: number): void {
  stats.draws++;
  stats.lastEvents = events;
  stats.meanMs += (t1 - t0 - stats.meanMs) / Math.min(stats.draws, 100);
  stats.maxMs = Math.max(stats.maxMs, t1 - t0);
  performance.measure('pos-dag-draw', { start: t0, end: t1, detail: events });
  if (stats.draws % 500 === 0) performance.clearMeasures('pos-dag-draw');
}

/** Binds a canvas to the DAG; `setLayout` with each new layout. */
export function createDagCanvas(canvas: HTMLCanvasElement, opts: DagCanvasOpts) {
  const ctx = canvas.getContext('2d', { alpha: false })!;
  const s = {
    layout: { nodes: [], bands: [], rows: 0, creators: [] } as DagLayout,
    rowH: 16,
    scrollY: 0,
    follow: true,
  };
  const byHash = new Map<string, DagNode>();
  let selected: string | null = null;
  let frame = 0;
  let askedOlder = false;
  let pos = new Map<string, { x: number; y: number }>();
  const stats: DrawStats = { draws: 0, lastEvents: 0, meanMs: 0, maxMs: 0 };
  const maxScroll = () => Math.max(0, s.layout.rows * s.rowH - (canvas.clientHeight - HEADER));

  function paint(): void {
    frame = 0;
    const t0 = performance.now();
    const dpr = devicePixelRatio || 1;
    const [w, h] = [canvas.clientWidth, canvas.clientHeight];
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      [canvas.width, canvas.height] = [Math.round(w * dpr), Math.round(h * dpr)];
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const view: View = { ...s, byHash, width: w, height: h, selected, nameOf: opts.nameOf };
    const drawn = drawScene(ctx, view);
    pos = drawn.pos;
    record(stats, t0, performance.now(), pos.size);
    if (drawn.lo <= 20 && s.layout.rows > 0 && !askedOlder) {
      askedOlder = true;
      opts.onNeedOlder();
    }
  }
  const request = () => {
    if (frame === 0) frame = requestAnimationFrame(paint);
  };

  function scrollTo(y: number): void {
    s.scrollY = Math.max(0, Math.min(maxScroll(), y));
    // Moving re-arms the fetch of older rounds (one that was busy or found
    // nothing new is asked again once the view moves).
    askedOlder = false;
    if ((s.scrollY === 0) !== s.follow) opts.onFollow((s.follow = s.scrollY === 0));
    request();
  }
  function setZoom(h: number): void {
    const next = Math.max(MIN_ROW, Math.min(MAX_ROW, h));
    s.scrollY = (s.scrollY / s.rowH) * next;
    s.rowH = next;
    scrollTo(s.scrollY);
  }
  const unbind = bindInput(canvas, {
    scrollBy: (dy) => scrollTo(s.scrollY + dy),
    zoomBy: (f) => setZoom(s.rowH * f),
    click(x, y) {
      selected = hit(pos, x, y, s.rowH);
      opts.onSelect(selected);
      request();
    },
  });
  const resize = new ResizeObserver(request);
  resize.observe(canvas);

  return {
    /** New data: keeps the view on the same rows unless following the newest. */
    setLayout(next: DagLayout): void {
      const added = next.rows - s.layout.rows;
      s.layout = next;
      byHash.clear();
      for (const n of next.nodes) byHash.set(n.hash, n);
      if (!s.follow && added > 0) s.scrollY += added * s.rowH;
      scrollTo(s.follow ? 0 : s.scrollY);
    },
    /** Follows the newest round (scrolls to it) or stops. */
    setFollow(on: boolean): void {
      s.follow = on;
      if (on) scrollTo(0);
      else request();
    },
    setZoom,
    /** The row height that shows `rows` rows on screen. */
    rowHeightFor: (rows: number) => (canvas.clientHeight - HEADER) / Math.max(1, rows),
    get rowHeight() {
      return s.rowH;
    },
    select(hash: string | null): void {
      selected = hash;
      request();
    },
    stats: () => ({ ...stats }),
    destroy(): void {
      cancelAnimationFrame(frame);
      resize.disconnect();
      unbind();
    },
  };
}

/** The renderer's type. */
export type DagCanvas = ReturnType<typeof createDagCanvas>;
