/**
 * The DAG on a canvas (issue 20: smooth with thousands of events, so no DOM
 * node per event): one column per creator, newest round at the top, a band
 * of rows per round labelled with its leader; other-parent edges as
 * diagonals, self-parents as the column's spine; witnesses large (famous
 * gold, not famous grey, undecided hollow), the round's leader ringed,
 * each event coloured by the block that ordered it, forks marked in red.
 *
 * Drawing happens in an animation frame and only when something changed
 * (data, scroll, zoom, selection), each style's shapes in one path. Each
 * draw is recorded as the Performance API measure `pos-dag-draw`.
 *
 * @module
 */
import type { DagLayout, DagNode } from '../lib/dag-model.js';

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

const GUTTER = 170;
const HEADER = 26;
const MIN_ROW = 0.5;
const MAX_ROW = 40;
const BLOCK_COLORS = [
  '#4e79a7',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#9c755f',
  '#edc948',
  '#f28e2b',
  '#e15759',
];

/** Draw statistics: how many draws, events drawn last, mean and worst draw time (ms). */
export interface DrawStats {
  draws: number;
  lastEvents: number;
  meanMs: number;
  maxMs: number;
}

/** Binds a canvas to the DAG; `setLayout` with each new layout. */
export function createDagCanvas(canvas: HTMLCanvasElement, opts: DagCanvasOpts) {
  const ctx = canvas.getContext('2d', { alpha: false })!;
  let layout: DagLayout = { nodes: [], bands: [], rows: 0, creators: [] };
  let rowH = 16;
  let scrollY = 0; // px from the newest row's top
  let follow = true;
  let selected: string | null = null;
  let dirty = true;
  let frame = 0;
  let askedOlder = false;
  const stats: DrawStats = { draws: 0, lastEvents: 0, meanMs: 0, maxMs: 0 };
  const pos = new Map<string, { x: number; y: number }>();

  const width = () => canvas.clientWidth;
  const height = () => canvas.clientHeight;
  const colX = (col: number) => {
    const n = Math.max(1, layout.creators.length);
    return GUTTER + ((col + 0.5) * (width() - GUTTER)) / n;
  };
  /** Screen y of a row's centre. */
  const rowY = (row: number) => HEADER + (layout.rows - 1 - row) * rowH + rowH / 2 - scrollY;
  const maxScroll = () => Math.max(0, layout.rows * rowH - (height() - HEADER));

  function request(): void {
    dirty = true;
    if (frame === 0) frame = requestAnimationFrame(paint);
  }

  function paint(): void {
    frame = 0;
    if (!dirty) return;
    dirty = false;
    const t0 = performance.now();
    draw();
    const t1 = performance.now();
    stats.draws++;
    stats.meanMs += (t1 - t0 - stats.meanMs) / Math.min(stats.draws, 100);
    stats.maxMs = Math.max(stats.maxMs, t1 - t0);
    performance.measure('pos-dag-draw', { start: t0, end: t1, detail: stats.lastEvents });
    if (stats.draws % 500 === 0) performance.clearMeasures('pos-dag-draw');
  }

  /** The first index of `nodes` with row >= `row`. */
  function lowerBound(row: number): number {
    let lo = 0;
    let hi = layout.nodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (layout.nodes[mid]!.row < row) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function visibleRows(): [number, number] {
    const top = layout.rows - 1 - Math.floor(scrollY / rowH);
    const bottom = top - Math.ceil((height() - HEADER) / rowH) - 1;
    return [Math.max(0, bottom), top];
  }

  function draw(): void {
    const dpr = devicePixelRatio || 1;
    const w = width();
    const h = height();
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, w, h);
    const [lo, hi] = visibleRows();
    drawBands(lo, hi);
    const from = lowerBound(lo);
    const to = lowerBound(hi + 1);
    pos.clear();
    for (let i = from; i < to; i++) {
      const n = layout.nodes[i]!;
      pos.set(n.hash, { x: colX(n.column), y: rowY(n.row) });
    }
    drawEdges(from, to);
    drawNodes(from, to);
    drawHeader();
    stats.lastEvents = to - from;
    if (lo <= 20 && layout.rows > 0 && !askedOlder) {
      askedOlder = true;
      opts.onNeedOlder();
    }
  }

  function drawBands(lo: number, hi: number): void {
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (const b of layout.bands) {
      if (b.firstRow + b.rows - 1 < lo || b.firstRow > hi) continue;
      const yTop = rowY(b.firstRow + b.rows - 1) - rowH / 2;
      const bandH = b.rows * rowH;
      ctx.fillStyle = b.round % 2 === 0 ? '#f6f7f9' : '#ffffff';
      ctx.fillRect(0, yTop, width(), bandH);
      if (bandH < 9 && b.round % Math.ceil(12 / Math.max(bandH, 1)) !== 0) continue;
      ctx.fillStyle = '#333';
      const leader =
        b.leader === null ? '' : `  ★ ${opts.nameOf(b.leader.creator)} · block ${b.round}`;
      const state = b.decided ? '' : b.witnesses > 0 ? '  (deciding)' : '';
      ctx.fillText(`round ${b.round}${leader}${state}`, 6, yTop + Math.min(bandH, 14) / 2 + 1);
    }
  }

  function drawEdges(from: number, to: number): void {
    const self = new Path2D();
    const other = new Path2D();
    for (let i = from; i < to; i++) {
      const n = layout.nodes[i]!;
      const p = pos.get(n.hash)!;
      for (const [parent, path] of [
        [n.selfParent, self],
        [n.otherParent, other],
      ] as const) {
        if (parent === null) continue;
        const q = pos.get(parent) ?? edgeEnd(parent);
        if (q === null) continue;
        path.moveTo(p.x, p.y);
        path.lineTo(q.x, q.y);
      }
    }
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#c9ced6';
    ctx.stroke(self);
    ctx.strokeStyle = 'rgba(70, 90, 120, 0.45)';
    ctx.stroke(other);
  }

  /** Where an off-screen parent is (below the view): its column, its row's y. */
  const byHash = new Map<string, DagNode>();
  function edgeEnd(hash: string): { x: number; y: number } | null {
    const n = byHash.get(hash);
    return n === undefined ? null : { x: colX(n.column), y: rowY(n.row) };
  }

  function drawNodes(from: number, to: number): void {
    const r = Math.max(1, Math.min(6, rowH * 0.32));
    const groups = new Map<string, Path2D>();
    const add = (style: string, x: number, y: number, radius: number) => {
      let p = groups.get(style);
      if (p === undefined) groups.set(style, (p = new Path2D()));
      // Tiny dots as squares: the same at that size, far cheaper to fill.
      if (radius < 2) p.rect(x - radius, y - radius, radius * 2, radius * 2);
      else {
        p.moveTo(x + radius, y);
        p.arc(x, y, radius, 0, Math.PI * 2);
      }
    };
    const rings: [number, number, number, string][] = [];
    for (let i = from; i < to; i++) {
      const n = layout.nodes[i]!;
      const { x, y } = pos.get(n.hash)!;
      if (n.witness === true) {
        const style = n.famous === true ? 'F#e8a317' : n.famous === false ? 'F#8a8f98' : 'S#e8a317';
        add(style, x, y, r * 1.7);
      } else {
        const c =
          n.orderedIn === null ? '#b8bec7' : BLOCK_COLORS[n.orderedIn % BLOCK_COLORS.length]!;
        add(`F${c}`, x, y, r);
      }
      if (n.leader) rings.push([x, y, r * 2.6, '#d62728']);
      if (n.forked) rings.push([x, y, r * 3.2, '#ff0000']);
      if (n.hash === selected) rings.push([x, y, r * 3.6, '#1f77ff']);
    }
    for (const [style, path] of groups) {
      if (style[0] === 'F') {
        ctx.fillStyle = style.slice(1);
        ctx.fill(path);
      } else {
        ctx.fillStyle = '#ffffff';
        ctx.fill(path);
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = style.slice(1);
        ctx.stroke(path);
      }
    }
    ctx.lineWidth = 2;
    for (const [x, y, radius, color] of rings) {
      ctx.beginPath();
      ctx.arc(x, y, radius, 0, Math.PI * 2);
      ctx.strokeStyle = color;
      ctx.stroke();
    }
  }

  function drawHeader(): void {
    ctx.fillStyle = '#eef1f5';
    ctx.fillRect(0, 0, width(), HEADER);
    ctx.fillStyle = '#222';
    ctx.font = '600 12px system-ui, sans-serif';
    ctx.textAlign = 'center';
    layout.creators.forEach((c, i) => {
      ctx.fillText(opts.nameOf(c), colX(i), HEADER / 2);
    });
    ctx.textAlign = 'left';
    ctx.fillText(follow ? 'newest ▲ (following)' : 'newest ▲', 6, HEADER / 2);
  }

  function scrollTo(y: number): void {
    scrollY = Math.max(0, Math.min(maxScroll(), y));
    // Moving re-arms the fetch of older rounds (a fetch that was busy or
    // found nothing new is asked again once the view moves).
    askedOlder = false;
    const f = scrollY === 0;
    if (f !== follow) {
      follow = f;
      opts.onFollow(f);
    }
    request();
  }

  function hit(x: number, y: number): string | null {
    let best: string | null = null;
    let bestD = Math.max(8, rowH * 0.6) ** 2;
    for (const [hash, p] of pos) {
      const d = (p.x - x) ** 2 + (p.y - y) ** 2;
      if (d < bestD) {
        bestD = d;
        best = hash;
      }
    }
    return best;
  }

  const onWheel = (e: WheelEvent) => {
    e.preventDefault();
    if (e.ctrlKey) setZoom(rowH * (e.deltaY < 0 ? 1.15 : 1 / 1.15));
    else scrollTo(scrollY + e.deltaY);
  };
  let drag: { y: number; s: number; moved: boolean } | null = null;
  const onDown = (e: PointerEvent) => {
    drag = { y: e.clientY, s: scrollY, moved: false };
  };
  const onMove = (e: PointerEvent) => {
    if (drag === null) return;
    if (Math.abs(e.clientY - drag.y) > 3) drag.moved = true;
    if (drag.moved) scrollTo(drag.s - (e.clientY - drag.y));
  };
  const onUp = (e: PointerEvent) => {
    if (drag !== null && !drag.moved) {
      const rect = canvas.getBoundingClientRect();
      selected = hit(e.clientX - rect.left, e.clientY - rect.top);
      opts.onSelect(selected);
      request();
    }
    drag = null;
  };
  const resize = new ResizeObserver(() => request());
  canvas.addEventListener('wheel', onWheel, { passive: false });
  canvas.addEventListener('pointerdown', onDown);
  addEventListener('pointermove', onMove);
  addEventListener('pointerup', onUp);
  resize.observe(canvas);

  function setZoom(h: number): void {
    const next = Math.max(MIN_ROW, Math.min(MAX_ROW, h));
    scrollY = (scrollY / rowH) * next;
    rowH = next;
    scrollTo(scrollY);
  }

  return {
    /** New data: keeps the view on the same rows unless following the newest. */
    setLayout(next: DagLayout): void {
      const added = next.rows - layout.rows;
      layout = next;
      byHash.clear();
      for (const n of next.nodes) byHash.set(n.hash, n);
      if (!follow && added > 0) scrollY += added * rowH;
      scrollTo(follow ? 0 : scrollY);
    },
    /** Follows the newest round (scrolls to it) or stops. */
    setFollow(on: boolean): void {
      follow = on;
      if (on) scrollTo(0);
      else request();
    },
    scrollBy: (dy: number) => scrollTo(scrollY + dy),
    setZoom,
    /** Rows per screen: `setZoom(rowHeightFor(n))` shows `n` rows. */
    rowHeightFor: (rows: number) => (height() - HEADER) / Math.max(1, rows),
    get rowHeight() {
      return rowH;
    },
    select(hash: string | null): void {
      selected = hash;
      request();
    },
    stats: () => ({ ...stats }),
    destroy(): void {
      cancelAnimationFrame(frame);
      resize.disconnect();
      canvas.removeEventListener('wheel', onWheel);
      canvas.removeEventListener('pointerdown', onDown);
      removeEventListener('pointermove', onMove);
      removeEventListener('pointerup', onUp);
    },
  };
}

/** The renderer's type. */
export type DagCanvas = ReturnType<typeof createDagCanvas>;
