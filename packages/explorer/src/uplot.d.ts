/**
 * The part of uPlot (https://github.com/leeoniya/uPlot) the charts use. The
 * package ships its types as `export =` of a CommonJS build that the
 * compiler does not find from its `main`; the bundler takes its ES module.
 */
declare module 'uplot' {
  /** One series: its label and line colour (the first is the x axis). */
  export interface SeriesOpts {
    label?: string;
    stroke?: string;
    width?: number;
    spanGaps?: boolean;
    value?: (self: unknown, v: number | null) => string;
  }
  export interface ChartOpts {
    title?: string;
    width: number;
    height: number;
    series: SeriesOpts[];
    scales?: Record<
      string,
      { time?: boolean; range?: (self: unknown, min: number, max: number) => [number, number] }
    >;
    axes?: Record<string, unknown>[];
    legend?: { show?: boolean };
    cursor?: { show?: boolean };
  }
  export default class uPlot {
    constructor(opts: ChartOpts, data: (number | null)[][], target: HTMLElement);
    setData(data: (number | null)[][]): void;
    setSize(size: { width: number; height: number }): void;
    destroy(): void;
  }
}
