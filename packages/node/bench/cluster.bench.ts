/**
 * End-to-end run of a local network: N real `posd` processes on loopback
 * (stakes 40/30/20/10 for 4), real signed transfers submitted over JSON-RPC
 * at a fixed rate, and what came out: transactions committed, blocks, and
 * the latency from submission to the finality certificate of the block that
 * holds each transaction, measured by the client (submit time → the
 * `newBlocks` WebSocket notification with `certified: true` from the node it
 * was submitted to). Beside it, in the same run, the machine's limit: Ed25519
 * verifications per second on all cores divided by N (every node verifies
 * every transaction).
 *
 *   pnpm bench:cluster [--rate 200] [--seconds 20] [--nodes 4] [--idle 10]
 *
 * `--idle S` first leaves the network idle for S seconds and reports the
 * nodes' CPU (all threads, from /proc/<pid>/stat) and block rate while idle;
 * the load phase reports the nodes' CPU too. CPU is a percentage of one core.
 * Needs the build (`dist/cli.js`). Progress goes to stderr, the table to stdout.
 * The network itself is `cluster.ts`; `BENCH_METRICS=prefix` writes every
 * node's /metrics at the end to `<prefix>v<i>.prom`.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { forEachFlag, parseCount } from '../../../scripts/bench/args.js';
import { MAX_TRANSFERS, quantile, runCluster, verifyLimit } from './cluster.js';

const HELP = 'usage: tsx bench/cluster.bench.ts [--rate TX/S] [--seconds S] [--nodes N] [--idle S]';
const fail = (m: string): never => {
  process.stderr.write(`${m}\n${HELP}\n`);
  process.exit(2);
};
let rate = 200;
let seconds = 20;
let nodeCount = 4;
let idleSeconds = 0;
forEachFlag(process.argv.slice(2), fail, HELP, (flag, value) => {
  if (flag === '--idle') {
    idleSeconds = parseCount(value(), fail, 0);
    return true;
  }
  if (flag === '--rate') rate = parseCount(value(), fail);
  else if (flag === '--seconds') seconds = parseCount(value(), fail);
  else if (flag === '--nodes') nodeCount = parseCount(value(), fail, 1);
  else return false;
  return true;
});
if (rate * seconds > MAX_TRANSFERS) fail('rate × seconds must be below 65k (genesis outputs)');
const say = (m: string) => process.stderr.write(`${m}\n`);

async function main(): Promise<void> {
  say(`measuring Ed25519 verify on ${os.availableParallelism()} cores...`);
  const verifyPerSec = await verifyLimit();
  say(
    `${nodeCount} nodes, ${rate} tx/s for ${seconds} s${idleSeconds > 0 ? ` after ${idleSeconds} s idle` : ''}...`,
  );
  const { idle, load: r } = await runCluster({
    nodes: nodeCount,
    rate,
    seconds,
    idleSeconds,
    log: say,
    beforeStop: async (c) => {
      const prefix = process.env.BENCH_METRICS;
      if (prefix === undefined) return;
      for (const [i, u] of c.rpcUrls.entries()) {
        writeFileSync(`${prefix}v${i}.prom`, await (await fetch(`${u}/metrics`)).text());
      }
      say(`metrics written to ${prefix}v*.prom`);
    },
  });
  const lat = r.latenciesMs;
  const span = (r.lastCertMs - r.firstSubmitMs) / 1000;
  const rows = [
    ...(idle === undefined
      ? []
      : [
          [
            'idle: CPU per node, % of one core (all threads)',
            idle.cpuPercent.map((x) => x.toFixed(1)).join(' / '),
          ],
          ['idle: blocks/s', idle.blocksPerSec.toFixed(2)],
        ]),
    ['nodes', String(nodeCount)],
    ['offered load', `${rate} tx/s for ${seconds} s (${r.offered} tx)`],
    ['accepted / refused at submit', `${r.accepted} / ${r.refused}`],
    ['committed / rejected', `${r.committed} / ${r.rejected}`],
    ['certified (latency measured)', String(lat.length)],
    ['committed tx/s (first submit → last certificate)', (r.committed / span).toFixed(1)],
    ['blocks during the run', String(r.blocks)],
    [
      'submit → certificate p50 / p99 / max (ms)',
      `${quantile(lat, 0.5).toFixed(0)} / ${quantile(lat, 0.99).toFixed(0)} / ${(lat.at(-1) ?? Number.NaN).toFixed(0)}`,
    ],
    ['load: CPU per node, % of one core', r.cpuPercent.map((x) => x.toFixed(0)).join(' / ')],
    [
      'resident memory per node at start of load → end (MB)',
      r.rssStartMb.map((m, i) => `${m.toFixed(0)} → ${r.rssEndMb[i]!.toFixed(0)}`).join(' / '),
    ],
    [
      'machine limit: Ed25519 verify/s all cores ÷ nodes',
      `${(verifyPerSec / nodeCount).toFixed(0)} (${verifyPerSec.toFixed(0)} ÷ ${nodeCount})`,
    ],
  ];
  process.stdout.write('\n| measure | value |\n|---|---|\n');
  for (const [k, v] of rows) process.stdout.write(`| ${k} | ${v} |\n`);
  if (r.firstRefusal !== undefined) say(`first refusal: ${r.firstRefusal}`);
}

main()
  .catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 1;
  })
  .finally(() => process.exit());
