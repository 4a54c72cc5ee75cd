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
 *
 * The fault schedule is `soak/cycle.ts`, the transfers' receipts
 * `soak/transfers.ts`, memory `soak/memory.ts`, the report `soak/report.ts`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createFaultNet, type FaultNet, mulberry32 } from './faults.js';
import { type LoadHandle, startDemoLoad } from './load.js';
import { startTestnet, type Testnet } from './network.js';
import { BASE_RULE, type CycleCtx, NAMES, runCycle } from './soak/cycle.js';
import { memoryRow, type RssSampler, startRssSampler } from './soak/memory.js';
import { soakMarkdown } from './soak/report.js';
import { settle } from './soak/transfers.js';
import { defaultSoakOpts, type SoakOpts, type SoakReport, type SoakTally } from './soak/types.js';

export { defaultSoakOpts, type SoakOpts, type SoakReport };

/** A fresh testnet of 4 validators behind fault proxies (proxies closed again if it fails). */
async function startSoakNet(o: SoakOpts): Promise<{ net: Testnet; faults: FaultNet }> {
  const made: { faults?: FaultNet } = {};
  const net = await startTestnet({
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
  return { net, faults: made.faults! };
}

/** Fault cycles, one every `faultEveryS`, while a whole one fits before the end. */
async function faultCycles(c: CycleCtx): Promise<void> {
  const every = c.o.faultEveryS * 1000;
  const endAt = Date.now() + c.o.minutes * 60_000;
  let cycle = 0;
  while (Date.now() + every <= endAt) {
    cycle++;
    await runCycle(c, cycle);
    const wait = Math.max(0, endAt - Date.now());
    if (wait < every) break;
  }
}

/** Under load, the cycles; then the drain and the report. */
async function soakUnderLoad(c: CycleCtx, rss: RssSampler, loadRef: { h: LoadHandle | null }) {
  const { o, net, faults, tally } = c;
  faults.setAll(BASE_RULE);
  const load = await startDemoLoad(net.layout, {
    ratePerSec: o.ratePerSec,
    onAccepted: (a) =>
      tally.accepted.set(a.txHash, { tx: a.tx, node: a.node, sentAtMs: a.sentAtMs, resent: false }),
  });
  loadRef.h = load;
  await faultCycles(c);
  const loadReport = await load.stop();
  loadRef.h = null;
  // Drain: every accepted transfer must end with a receipt.
  o.say(`load stopped; waiting for ${tally.accepted.size} accepted transfers to end in blocks...`);
  const settled = await settle(net, tally.accepted, o.say);
  const { lost } = settled;
  if (lost.length > 0)
    tally.failures.push(
      `${lost.length} accepted transfers have no receipt: ${lost.slice(0, 3).join(', ')}`,
    );
  const rssRows = NAMES.map((n, i) => memoryRow(n, rss.samples[i]!, tally.failures));
  const findings = { load: loadReport, settled, rssRows, proxy: faults.totals() };
  return { ok: tally.failures.length === 0, markdown: soakMarkdown(o, tally, findings) };
}

/** Runs the soak and returns its report; stops everything it started. */
export async function runSoak(opts: SoakOpts): Promise<SoakReport> {
  const o = opts;
  const rnd = mulberry32(o.seed);
  o.say(`soak: ${o.minutes} min, ${o.ratePerSec} tx/s, seed ${o.seed}, dir ${o.dir}`);
  const { net, faults } = await startSoakNet(o);
  const tally: SoakTally = {
    accepted: new Map(),
    faultCounts: new Map(),
    restarts: [],
    failures: [],
    checkRows: [],
  };
  // RSS samples per node, tagged with the pid: a restarted node starts low
  // again, so flatness is judged on its last process's samples only.
  const rss = startRssSampler(net, NAMES);
  const load: { h: LoadHandle | null } = { h: null };
  try {
    return await soakUnderLoad({ o, rnd, net, faults, tally }, rss, load);
  } finally {
    rss.stop();
    if (load.h !== null) await load.h.stop().catch(() => undefined);
    await faults.close().catch(() => undefined);
    await net.stop();
  }
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
