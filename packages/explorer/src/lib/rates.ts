/**
 * The node page's live numbers: rates from successive counters, sums over a
 * sliding window, and bounded series for the charts.
 *
 * @module
 */

/** A bounded time series: seconds and one or more value columns, oldest first. */
export interface Series {
  readonly t: number[];
  readonly cols: (number | null)[][];
}

/** A series of `columns` value columns keeping at most `max` points. */
export function createSeries(columns: number, max: number) {
  const s: Series = { t: [], cols: Array.from({ length: columns }, () => []) };
  return {
    series: s,
    /** Appends one point (`tSec`, one value per column; null: no value). */
    push(tSec: number, values: readonly (number | null)[]): void {
      s.t.push(tSec);
      s.cols.forEach((c, i) => {
        c.push(values[i] ?? null);
      });
      if (s.t.length > max) {
        s.t.shift();
        for (const c of s.cols) c.shift();
      }
    },
  };
}

/** The per-second rate of a counter between two samples; null without two. */
export function rateOf(
  prev: { readonly atMs: number; readonly value: number } | null,
  cur: { readonly atMs: number; readonly value: number },
): number | null {
  if (prev === null || cur.atMs <= prev.atMs || cur.value < prev.value) return null;
  return ((cur.value - prev.value) * 1000) / (cur.atMs - prev.atMs);
}

/** Counts over a sliding window of `windowMs`: how many per second lately. */
export function createWindow(windowMs: number) {
  const items: { atMs: number; n: number }[] = [];
  const trim = (now: number) => {
    while (items.length > 0 && items[0]!.atMs < now - windowMs) items.shift();
  };
  return {
    add(atMs: number, n: number): void {
      items.push({ atMs, n });
      trim(atMs);
    },
    /** Sum per second over the window ending at `now`. */
    perSecond(now: number): number {
      trim(now);
      return (items.reduce((a, x) => a + x.n, 0) * 1000) / windowMs;
    },
  };
}
