/**
 * The soak run (issue 7, "Load and soak"): a local testnet of 4 validators
 * under steady load for M minutes while a seeded schedule injects faults at
 * random (lossy links, partitions 2|2 and 3|1, asymmetric links, SIGKILL of a
 * validator and its restart), with the invariant checker after each fault.
 *
 *   pnpm soak --minutes M [--rate TX/S] [--seed N] [--fault-every S]
 *             [--dir DIR] [--report FILE]
 *
 * What it checks and reports:
 * - after every fault, once healed: every node answers, heights advance, the
 *   same block at every checked height, supply conserved, certificates
 *   verify (`checkTestnet`);
 * - no lost transaction: every transfer a node accepted ends committed or
 *   rejected with a receipt. A validator killed with SIGKILL loses its
 *   mempool (it is memory only, as in CometBFT or geth), so the client does
 *   what a wallet does: a transfer with no receipt 30 s after it was sent is
 *   sent again, to another node. The report counts those resends apart;
 *   "lost" is what has no receipt at the end even so.
 * - resident memory: each posd's RSS sampled every 10 s; "flat" compares
 *   the mean of the last third of the run with the middle third.
 * Exit code 0 when every invariant held, 1 otherwise, 2 on a usage error.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { checkTestnet } from './check.js';
import { createFaultNet, type FaultNet, mulberry32 } from './faults.js';
import { type LoadHandle, startDemoLoad } from './load.js';
import { startTestnet, type Testnet } from './network.js';
import { rpcCall } from './rpc.js';

/** Options of {@link runSoak}. */
export interface SoakOpts {
  minutes: number;
  /** Offered load, transfers per second. */
  ratePerSec: number;
  seed: number;
  /** A fault starts this often; it lasts half of it, the other half is quiet. */
  faultEveryS: number;
  dir: string;
  say: (line: string) => void;
}

/** Defaults of {@link SoakOpts} (`dir`, `seed` and `say` have none). */
export const defaultSoakOpts = { minutes: 5, ratePerSec: 20, faultEveryS: 40 } as const;

/** What a soak run found. */
export interface SoakReport {
  ok: boolean;
  markdown: string;
}

const NAMES = ['v0', 'v1', 'v2', 'v3'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Accepted {
  tx: string;
  node: number;
  sentAtMs: number;
  resent: boolean;
  /** Its receipt, once a node has one. */
  status?: 'committed' | 'rejected';
}

/** Resident set size of a process in MB, NaN when it is gone. */
function rssMb(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** A markdown table cell: `|` would end it ("partition 2|2"). */
const cell = (s: string) => s.replaceAll('|', '\\|');

const mean = (xs: number[]) => {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length === 0 ? Number.NaN : v.reduce((a, b) => a + b, 0) / v.length;
};

/** Runs the soak and returns its report; stops everything it started. */
export async function runSoak(opts: SoakOpts): Promise<SoakReport> {
  const o = opts;
  const rnd = mulberry32(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  o.say(`soak: ${o.minutes} min, ${o.ratePerSec} tx/s, seed ${o.seed}, dir ${o.dir}`);
  const made: { faults?: FaultNet } = {};
  const net: Testnet = await startTestnet({
    dir: o.dir,
    reset: true,
    basePort: 0,
    p2pFront: true,
    // Enough small outputs that the wallets never wait for change long.
    loadOutputs: Math.max(1000, Math.ceil((o.ratePerSec * 60) / 3)),
    // The proxies first: a validator is ready once it synced through them.
    onLayout: async (l) => {
      made.faults = createFaultNet(l, { seed: o.seed });
      await made.faults.ready;
    },
  }).catch(async (e) => {
    await made.faults?.close();
    throw e;
  });
  const faults = made.faults!;
  let load: LoadHandle | null = null;
  const accepted = new Map<string, Accepted>();
  const faultCounts = new Map<string, number>();
  const restarts: { cycle: number; name: string; ms: number }[] = [];
  const failures: string[] = [];
  const checkRows: string[] = [];
  // RSS samples per node, tagged with the pid: a restarted node starts low
  // again, so flatness is judged on its last process's samples only.
  const rss: { pid: number; mb: number }[][] = NAMES.map(() => []);
  const rssTimer = setInterval(() => {
    for (const [i, n] of NAMES.entries()) {
      const pid = net.process(n)?.pid;
      const mb = rssMb(pid);
      if (pid !== undefined && Number.isFinite(mb)) rss[i]!.push({ pid, mb });
    }
  }, 10_000);
  const layout = net.layout;
  const url = (i: number) => layout.nodes[i]!.rpcUrl;
  try {
    // A little latency everywhere, always: loopback is not a network.
    const base = { delayMs: 2, jitterMs: 8 };
    faults.setAll(base);
    load = await startDemoLoad(layout, {
      ratePerSec: o.ratePerSec,
      onAccepted: (a) =>
        accepted.set(a.txHash, { tx: a.tx, node: a.node, sentAtMs: a.sentAtMs, resent: false }),
    });
    const endAt = Date.now() + o.minutes * 60_000;
    let cycle = 0;
    while (Date.now() + o.faultEveryS * 1000 <= endAt) {
      cycle++;
      const kind = pick([
        'lossy links',
        'partition 2|2',
        'partition 3|1',
        'asymmetric',
        'SIGKILL + restart',
      ] as const);
      faultCounts.set(kind, (faultCounts.get(kind) ?? 0) + 1);
      const half = (o.faultEveryS * 1000) / 2;
      let killed: string | null = null;
      let detail = '';
      if (kind === 'lossy links') {
        faults.setAll({
          delayMs: 5,
          jitterMs: 40,
          loss: 0.05,
          duplicate: 0.05,
          reorder: 0.1,
          reorderMs: 100,
        });
      } else if (kind === 'partition 2|2') {
        faults.partition([
          ['v0', 'v3'],
          ['v1', 'v2'],
        ]);
      } else if (kind === 'partition 3|1') {
        detail = pick(NAMES);
        faults.isolate(detail);
      } else if (kind === 'asymmetric') {
        detail = pick(NAMES);
        if (rnd() < 0.5) faults.cutPullsFrom(detail);
        else faults.cutPullsBy(detail);
      } else {
        killed = pick(NAMES);
        detail = killed;
        await sleep(rnd() * half); // a random moment of the window
        await net.kill(killed);
      }
      o.say(`[${cycle}] ${kind}${detail === '' ? '' : ` (${detail})`}`);
      await sleep(killed === null ? half : half / 2);
      faults.clear();
      faults.setAll(base);
      if (killed !== null) {
        // A restart replays every stored event (docs/PROTOCOL.md 9.3): it
        // grows with the chain, so it is measured, not bounded at 60 s.
        const t0 = Date.now();
        await net.restart(killed, undefined, 600_000);
        restarts.push({ cycle, name: killed, ms: Date.now() - t0 });
      }
      await resendStale(net, accepted, o.say);
      // Heal, then the invariants (heights must advance again within 60 s).
      const results = await checkTestnet(layout, { waitMs: 60_000 });
      const bad = results.filter((r) => !r.ok);
      for (const r of bad) failures.push(`cycle ${cycle} (${kind}): ${r.name}: ${r.detail}`);
      const h = ((await rpcCall(url(0), 'pos_status')) as { result?: { height?: number } }).result
        ?.height;
      checkRows.push(
        `| ${cycle} | ${cell(kind)}${detail === '' ? '' : ` ${detail}`} | ${h ?? '?'} | ${bad.length === 0 ? `all ${results.length} held` : bad.map((r) => r.name).join('; ')} |`,
      );
      o.say(
        `    height ${h}, checks: ${bad.length === 0 ? 'all held' : bad.map((r) => r.name).join('; ')}`,
      );
      const wait = Math.max(0, endAt - Date.now());
      if (wait < o.faultEveryS * 1000) break;
    }
    const loadReport = await load.stop();
    load = null;
    // Drain: every accepted transfer must end with a receipt.
    o.say(`load stopped; waiting for ${accepted.size} accepted transfers to end in blocks...`);
    const { lost, committed, rejected } = await settle(net, accepted, o.say);
    if (lost.length > 0)
      failures.push(
        `${lost.length} accepted transfers have no receipt: ${lost.slice(0, 3).join(', ')}`,
      );
    const third = (xs: number[], k: number) =>
      xs.slice(Math.floor((k * xs.length) / 3), Math.floor(((k + 1) * xs.length) / 3));
    const rssRows = NAMES.map((n, i) => {
      const all = rss[i]!;
      const lastPid = all.at(-1)?.pid;
      const xs = all.filter((x) => x.pid === lastPid).map((x) => x.mb);
      const restarts = new Set(all.map((x) => x.pid)).size - 1;
      const [a, b, c] = [0, 1, 2].map((k) => mean(third(xs, k))) as [number, number, number];
      // Growth beyond 20% + 16 MB from the middle to the last third of the
      // last process's life; fewer than 6 samples (a minute) cannot tell.
      const verdict = xs.length < 6 ? 'too short to tell' : c > b * 1.2 + 16 ? 'GROWING' : 'flat';
      if (verdict === 'GROWING')
        failures.push(`${n}: RSS grew from ${b.toFixed(0)} to ${c.toFixed(0)} MB`);
      return `| ${n} | ${restarts} | ${xs.length} | ${a.toFixed(0)} | ${b.toFixed(0)} | ${c.toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${verdict} |`;
    });
    const resent = [...accepted.values()].filter((a) => a.resent).length;
    const st = faults.totals();
    const md = [
      `## Soak: ${o.minutes} min, seed ${o.seed}, ${o.ratePerSec} tx/s offered`,
      '',
      `Command: \`pnpm soak --minutes ${o.minutes} --rate ${o.ratePerSec} --seed ${o.seed} --fault-every ${o.faultEveryS}\``,
      '',
      '| measure | value |',
      '|---|---|',
      `| verdict | ${failures.length === 0 ? 'every invariant held' : `${failures.length} failure(s)`} |`,
      `| faults injected | ${[...faultCounts].map(([k, v]) => `${cell(k)} ×${v}`).join(', ')} |`,
      `| proxy: requests / lost / duplicated / blocked / delayed | ${st.requests} / ${st.lost} / ${st.duplicated} / ${st.blocked} / ${st.delayed} |`,
      `| duplicates refused as replays / served | ${st.replayRefused} / ${st.replayServed} |`,
      `| transfers submitted / accepted / refused at submit | ${loadReport.submitted} / ${accepted.size} / ${loadReport.refused} |`,
      `| accepted → committed / rejected / no receipt | ${committed} / ${rejected} / ${lost.length} |`,
      `| resent by the client (no receipt after 30 s: a killed node's mempool) | ${resent} |`,
      `| restart → RPC answers (ms): first / last / max of ${restarts.length} | ${restarts.length === 0 ? '-' : `${restarts[0]!.ms} / ${restarts.at(-1)!.ms} / ${Math.max(...restarts.map((r) => r.ms))}`} |`,
      `| submit → certificate p50 / p99 (ms, all faults included) | ${loadReport.p50Ms.toFixed(0)} / ${loadReport.p99Ms.toFixed(0)} |`,
      '',
      '| cycle | fault | height after | invariants after healing |',
      '|---|---|---|---|',
      ...checkRows,
      '',
      'Resident memory of each posd since its last start (MB, sampled every 10 s):',
      '',
      '| node | restarts | samples | first third | middle third | last third | max | verdict |',
      '|---|---|---|---|---|---|---|---|',
      ...rssRows,
      '',
      ...(failures.length === 0 ? [] : ['Failures:', '', ...failures.map((f) => `- ${f}`), '']),
    ].join('\n');
    return { ok: failures.length === 0, markdown: md };
  } finally {
    clearInterval(rssTimer);
    if (load !== null) await load.stop().catch(() => undefined);
    await faults.close().catch(() => undefined);
    await net.stop();
  }
}

type TxStatus = 'committed' | 'rejected' | 'pending' | 'unknown';

/** The status of a transfer on the first node that has a receipt for it. */
async function statusOf(net: Testnet, txHash: string): Promise<TxStatus> {
  let best: TxStatus = 'unknown';
  for (const n of net.layout.nodes) {
    try {
      const r = (await rpcCall(n.rpcUrl, 'pos_getTransaction', [txHash])) as {
        result?: { status?: string };
      };
      const s = r.result?.status;
      if (s === 'committed' || s === 'rejected') return s;
      if (s === 'pending') best = 'pending';
    } catch {
      // that node is down or busy: ask the next
    }
  }
  return best;
}

/** Resends (to another node) the accepted transfers with no receipt 30 s after sending. */
async function resendStale(
  net: Testnet,
  accepted: Map<string, Accepted>,
  say: (line: string) => void,
): Promise<void> {
  const now = Date.now();
  let n = 0;
  for (const [h, a] of accepted) {
    if (a.status !== undefined || a.resent || now - a.sentAtMs < 30_000) continue;
    const s = await statusOf(net, h);
    if (s === 'committed' || s === 'rejected') {
      a.status = s;
      continue;
    }
    if (s === 'pending') continue;
    const to = (a.node + 1) % net.layout.nodes.length;
    await rpcCall(net.layout.nodes[to]!.rpcUrl, 'pos_sendTransaction', [a.tx]).catch(() => null);
    a.resent = true;
    n++;
  }
  if (n > 0) say(`    resent ${n} transfers that no node knew (a killed node's mempool)`);
}

/** Waits (up to 3 min) until every accepted transfer has a receipt. */
async function settle(
  net: Testnet,
  accepted: Map<string, Accepted>,
  say: (line: string) => void,
): Promise<{ lost: string[]; committed: number; rejected: number }> {
  const open = () => [...accepted].filter(([, a]) => a.status === undefined);
  const deadline = Date.now() + 180_000;
  while (open().length > 0 && Date.now() < deadline) {
    for (const [h, a] of open()) {
      const s = await statusOf(net, h);
      if (s === 'committed' || s === 'rejected') a.status = s;
    }
    if (open().length === 0) break;
    await resendStale(net, accepted, say);
    await sleep(2000);
  }
  const count = (s: string) => [...accepted.values()].filter((a) => a.status === s).length;
  return {
    lost: open().map(([h]) => h),
    committed: count('committed'),
    rejected: count('rejected'),
  };
}

function main(argv: string[]): void {
  const usage =
    'usage: pnpm soak --minutes M [--rate TX/S] [--seed N] [--fault-every S] [--dir DIR] [--report FILE]';
  const fail = (m: string): never => {
    process.stderr.write(`${m}\n${usage}\n`);
    process.exit(2);
  };
  const o: Partial<SoakOpts> = {};
  let report: string | undefined;
  let keep = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') continue;
    const val = () => argv[++i] ?? fail(`${a} needs a value`);
    const num = (min: number) => {
      const v = Number(val());
      if (!Number.isFinite(v) || v < min) fail(`${a} must be a number >= ${min}`);
      return v;
    };
    if (a === '--minutes') o.minutes = num(0.5);
    else if (a === '--rate') o.ratePerSec = num(1);
    else if (a === '--seed') o.seed = Math.floor(num(0)) >>> 0;
    else if (a === '--fault-every') o.faultEveryS = num(10);
    else if (a === '--dir') {
      o.dir = val();
      keep = true;
    } else if (a === '--report') report = val();
    else fail(`unknown flag ${a}`);
  }
  const dir = o.dir ?? mkdtempSync(join(os.tmpdir(), 'pos-soak-'));
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32);
  const say = (l: string) => process.stderr.write(`${l}\n`);
  runSoak({ ...defaultSoakOpts, ...o, dir, seed, say })
    .then((r) => {
      process.stdout.write(`${r.markdown}\n`);
      if (report !== undefined) writeFileSync(report, `${r.markdown}\n`);
      if (!keep) rmSync(dir, { recursive: true, force: true });
      process.exit(r.ok ? 0 : 1);
    })
    .catch((e) => {
      process.stderr.write(`soak failed: ${(e as Error).stack ?? e}\n(seed ${seed}, dir ${dir})\n`);
      process.exit(1);
    });
}

if (process.argv[1] !== undefined && /soak\.(js|ts)$/.test(process.argv[1]))
  main(process.argv.slice(2));
