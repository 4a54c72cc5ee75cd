/**
 * Drawing the DAG (./dag-canvas.ts holds the state and the input): one
 * column per creator, newest round at the top, a band of rows per round
 * labelled with its leader; other-parent edges as diagonals, self-parents
 * as the column's spine; witnesses large (famous gold, not famous grey,
 * undecided hollow), the round's leader ringed, each event coloured by the
 * block that ordered it, forks ringed in red. Each style's shapes go in one
 * path, filled or stroked once.
 *
 * @module
 */
import type { DagLayout, DagNode } from '../lib/dag-model.js';

/** Left gutter (round labels) and top header (creator names), px. */
export const GUTTER = 170;
export const HEADER = 26;
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

/** What one frame shows. */
export interface View {
  readonly layout: DagLayout;
  readonly byHash: ReadonlyMap<string, DagNode>;
  /** Row height and scroll offset from the newest row, px. */
  readonly rowH: number;
  readonly scrollY: number;
  readonly width: number;
  readonly height: number;
  readonly selected: string | null;
  readonly follow: boolean;
  nameOf(creator: string): string;
}

type Point = { x: number; y: number };

/** The x of a creator's column. */
export const colX = (v: View, col: number): number =>
  GUTTER + ((col + 0.5) * (v.width - GUTTER)) / Math.max(1, v.layout.creators.length);

/** The y of a row's centre. */
export const rowY = (v: View, row: number): number =>
  HEADER + (v.layout.rows - 1 - row) * v.rowH + v.rowH / 2 - v.scrollY;

/** The oldest and newest rows on screen. */
export function visibleRows(v: View): [number, number] {
  const top = v.layout.rows - 1 - Math.floor(v.scrollY / v.rowH);
  const bottom = top - Math.ceil((v.height - HEADER) / v.rowH) - 1;
  return [Math.max(0, bottom), top];
}

/** The first index of `nodes` (sorted by row) with row >= `row`. */
export function lowerBound(nodes: readonly DagNode[], row: number): number {
  let lo = 0;
  let hi = nodes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (nodes[mid]!.row < row) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function drawBands(ctx: CanvasRenderingContext2D, v: View, lo: number, hi: number): void {
  ctx.font = '11px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  for (const b of v.layout.bands) {
    if (b.firstRow + b.rows - 1 < lo || b.firstRow > hi) continue;
    const yTop = rowY(v, b.firstRow + b.rows - 1) - v.rowH / 2;
    const bandH = b.rows * v.rowH;
    ctx.fillStyle = b.round % 2 === 0 ? '#f6f7f9' : '#ffffff';
    ctx.fillRect(0, yTop, v.width, bandH);
    // Labels only where they fit (every few rounds when zoomed out).
    if (bandH < 9 && b.round % Math.ceil(12 / Math.max(bandH, 1)) !== 0) continue;
    ctx.fillStyle = '#333';
    const leader = b.leader === null ? '' : `  ★ ${v.nameOf(b.leader.creator)} · block ${b.round}`;
    const state = b.decided ? '' : b.witnesses > 0 ? '  (deciding)' : '';
    ctx.fillText(`round ${b.round}${leader}${state}`, 6, yTop + Math.min(bandH, 14) / 2 + 1);
  }
}

function drawEdges(ctx: CanvasRenderingContext2D, v: View, pos: Map<string, Point>): void {
  const self = new Path2D();
  const other = new Path2D();
  // A parent below the view is still drawn to: its column, its row.
  const at = (hash: string): Point | null => {
    const n = pos.get(hash) ?? v.byHash.get(hash);
    if (n === undefined) return null;
    return 'x' in n ? n : { x: colX(v, n.column), y: rowY(v, n.row) };
  };
  for (const [hash, p] of pos) {
    const n = v.byHash.get(hash)!;
    for (const [parent, path] of [
      [n.selfParent, self],
      [n.otherParent, other],
    ] as const) {
      const q = parent === null ? null : at(parent);
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

/** The style key of an event: `F` fill or `S` stroke, and a colour. */
function styleOf(n: DagNode): string {
  if (n.witness === true)
    return n.famous === true ? 'F#e8a317' : n.famous === false ? 'F#8a8f98' : 'S#e8a317';
  return n.orderedIn === null ? 'F#b8bec7' : `F${BLOCK_COLORS[n.orderedIn % BLOCK_COLORS.length]}`;
}

function drawNodes(ctx: CanvasRenderingContext2D, v: View, pos: Map<string, Point>): void {
  const r = Math.max(1, Math.min(6, v.rowH * 0.32));
  const groups = new Map<string, Path2D>();
  const rings: [number, number, number, string][] = [];
  for (const [hash, { x, y }] of pos) {
    const n = v.byHash.get(hash)!;
    const style = styleOf(n);
    const radius = n.witness === true ? r * 1.7 : r;
    let p = groups.get(style);
    if (p === undefined) groups.set(style, (p = new Path2D()));
    // Tiny dots as squares: the same at that size, far cheaper to fill.
    if (radius < 2) p.rect(x - radius, y - radius, radius * 2, radius * 2);
    else {
      p.moveTo(x + radius, y);
      p.arc(x, y, radius, 0, Math.PI * 2);
    }
    if (n.leader) rings.push([x, y, r * 2.6, '#d62728']);
    if (n.forked) rings.push([x, y, r * 3.2, '#ff0000']);
    if (hash === v.selected) rings.push([x, y, r * 3.6, '#1f77ff']);
  }
  for (const [style, path] of groups) {
    ctx.fillStyle = style[0] === 'F' ? style.slice(1) : '#ffffff';
    ctx.fill(path);
    if (style[0] === 'S') {
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

function drawHeader(ctx: CanvasRenderingContext2D, v: View): void {
  ctx.fillStyle = '#eef1f5';
  ctx.fillRect(0, 0, v.width, HEADER);
  ctx.fillStyle = '#222';
  ctx.font = '600 12px system-ui, sans-serif';
  ctx.textAlign = 'center';
  v.layout.creators.forEach((c, i) => {
    ctx.fillText(v.nameOf(c), colX(v, i), HEADER / 2);
  });
  ctx.textAlign = 'left';
  ctx.fillText(v.follow ? 'newest ▲ (following)' : 'newest ▲', 6, HEADER / 2);
}

/** Draws one frame; the events drawn (hash → screen point) and the oldest row on screen. */
export function drawScene(
  ctx: CanvasRenderingContext2D,
  v: View,
): { pos: Map<string, Point>; lo: number } {
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, v.width, v.height);
  const [lo, hi] = visibleRows(v);
  drawBands(ctx, v, lo, hi);
  const nodes = v.layout.nodes;
  const pos = new Map<string, Point>();
  for (let i = lowerBound(nodes, lo), end = lowerBound(nodes, hi + 1); i < end; i++) {
    const n = nodes[i]!;
    pos.set(n.hash, { x: colX(v, n.column), y: rowY(v, n.row) });
  }
  drawEdges(ctx, v, pos);
  drawNodes(ctx, v, pos);
  drawHeader(ctx, v);
  return { pos, lo };
}
