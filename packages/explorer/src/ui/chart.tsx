/**
 * A live line chart: uPlot (a small, fast canvas chart library) over a
 * bounded series (../lib/rates.ts).
 *
 * @module
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { Series } from '../lib/rates.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

/** A chart of `series` (x: seconds), one line per column, redrawn when `version` changes. */
export function Chart(props: {
  title: string;
  labels: readonly string[];
  series: Series;
  version: number;
  unit?: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = () => [props.series.t, ...props.series.cols];

  useEffect(() => {
    const target = el.current!;
    const fmt = (_: unknown, v: number | null) =>
      v === null ? '-' : `${v.toFixed(2)}${props.unit ?? ''}`;
    const p = new uPlot(
      {
        title: props.title,
        width: target.clientWidth || 400,
        height: 180,
        series: [
          {},
          ...props.labels.map((label, i) => ({
            label,
            stroke: COLORS[i % COLORS.length],
            width: 1.5,
            spanGaps: true,
            value: fmt,
          })),
        ],
        scales: {
          x: { time: true },
          y: { range: (_: unknown, _min: number, max: number) => [0, Math.max(1, max * 1.1)] },
        },
      },
      data(),
      target,
    );
    plot.current = p;
    const ro = new ResizeObserver(() =>
      p.setSize({ width: target.clientWidth || 400, height: 180 }),
    );
    ro.observe(target);
    return () => {
      ro.disconnect();
      p.destroy();
    };
  }, []);

  useEffect(() => plot.current?.setData(data()), [props.version]);
  return <div class="chart" ref={el} data-chart={props.title} />;
}
