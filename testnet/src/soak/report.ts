/** The soak's report: one markdown document (the summary, the checks after each fault, memory). */
import type { LinkStats } from '../faults.js';
import type { LoadReport } from '../load.js';
import type { Settled } from './transfers.js';
import type { SoakOpts, SoakTally } from './types.js';

/** A markdown table cell: `|` would end it ("partition 2|2"). */
export const cell = (s: string): string => s.replaceAll('|', '\\|');

/** What the report is made of, besides the options and the tally. */
export interface SoakFindings {
  load: LoadReport;
  settled: Settled;
  /** The memory table's rows, one per node. */
  rssRows: readonly string[];
  /** The proxies' counters over the run. */
  proxy: LinkStats;
}

/** The summary table's rows. */
function summaryRows(t: SoakTally, f: SoakFindings): string[] {
  const { load, settled, proxy: st } = f;
  const resent = [...t.accepted.values()].filter((a) => a.resent).length;
  const restarts = t.restarts;
  return [
    '| measure | value |',
    '|---|---|',
    `| verdict | ${t.failures.length === 0 ? 'every invariant held' : `${t.failures.length} failure(s)`} |`,
    `| faults injected | ${[...t.faultCounts].map(([k, v]) => `${cell(k)} ×${v}`).join(', ')} |`,
    `| proxy: requests / lost / duplicated / blocked / delayed | ${st.requests} / ${st.lost} / ${st.duplicated} / ${st.blocked} / ${st.delayed} |`,
    `| duplicates refused as replays / served | ${st.replayRefused} / ${st.replayServed} |`,
    `| transfers submitted / accepted / refused at submit | ${load.submitted} / ${t.accepted.size} / ${load.refused} |`,
    `| accepted → committed / rejected / no receipt | ${settled.committed} / ${settled.rejected} / ${settled.lost.length} |`,
    `| resent by the client (no receipt after 30 s: a killed node's mempool) | ${resent} |`,
    `| restart → RPC answers (ms): first / last / max of ${restarts.length} | ${restarts.length === 0 ? '-' : `${restarts[0]!.ms} / ${restarts.at(-1)!.ms} / ${Math.max(...restarts.map((r) => r.ms))}`} |`,
    `| submit → certificate p50 / p99 (ms, all faults included) | ${load.p50Ms.toFixed(0)} / ${load.p99Ms.toFixed(0)} |`,
  ];
}

/** The whole report. */
export function soakMarkdown(o: SoakOpts, t: SoakTally, f: SoakFindings): string {
  return [
    `## Soak: ${o.minutes} min, seed ${o.seed}, ${o.ratePerSec} tx/s offered`,
    '',
    `Command: \`pnpm soak --minutes ${o.minutes} --rate ${o.ratePerSec} --seed ${o.seed} --fault-every ${o.faultEveryS}\``,
    '',
    ...summaryRows(t, f),
    '',
    '| cycle | fault | height after | invariants after healing |',
    '|---|---|---|---|',
    ...t.checkRows,
    '',
    'Resident memory of each posd since its last start (MB, sampled every 10 s):',
    '',
    '| node | restarts | samples | first third | middle third | last third | max | verdict |',
    '|---|---|---|---|---|---|---|---|',
    ...f.rssRows,
    '',
    ...(t.failures.length === 0 ? [] : ['Failures:', '', ...t.failures.map((x) => `- ${x}`), '']),
  ].join('\n');
}
