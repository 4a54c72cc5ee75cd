/**
 * `pnpm testnet` (the README's first command): starts a local network of
 * `posd` validators (network.ts), prints who is where, writes
 * `.testnet/testnet.json`, then shows a live status line every 2 s until
 * Ctrl-C (or `--duration`), which stops every validator cleanly.
 *
 *   pnpm testnet [--nodes 4] [--stakes 40,30,20,10] [--duration S]
 *                [--reset] [--dir .testnet] [--base-port 8680] [--demo-stake]
 *                [--explorer-dir DIR]
 *
 * `--demo-stake` walks through proof of share (docs/PROTOCOL.md 6.5): a new validator
 * starts read-only, is registered, v0 re-hosts half of its stake to it, and
 * the set change is printed when the epoch that includes it begins.
 *
 * Live status, from each node's JSON-RPC and /metrics: height and decided
 * round (the lowest over the nodes, and the spread), committed tx/s over the
 * last interval, mean finality latency of the transactions certified in it,
 * peers per node, and which validators are down. A validator that exits
 * does not stop the network; `pnpm testnet stop|start|wipe NAME` from another
 * terminal operates one (control.ts). Exit codes: 0 stopped cleanly, 1 a
 * validator exited on its own during the run, 2 a usage error.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkTestnet } from './check.js';
import {
  CONTROL_ACTIONS,
  type ControlAction,
  type ControlServer,
  controlRequest,
  type NodeState,
  startControl,
} from './control.js';
import { demoStake } from './demo-stake.js';
import { type LoadHandle, type LoadReport, startDemoLoad } from './load.js';
import { initHosts, startTestnet, type Testnet, type TestnetLayout } from './network.js';
import { type EpochSet, epochSet } from './stake.js';
import { TestnetError } from './stakes.js';

interface CliOpts {
  demoStake: boolean;
  loadTps: number;
  nodes: number;
  stakes: string | undefined;
  durationS: number;
  reset: boolean;
  dir: string;
  basePort: number;
  /** The built explorer the nodes serve; null: none found. */
  explorerDir: string | null;
}

/**
 * The built explorer of this workspace (`packages/explorer/dist/app`, found
 * beside this package), if it was built: each node serves it at /explorer/.
 */
function defaultExplorerDir(): string | null {
  const env = process.env.POS_EXPLORER_DIR;
  if (env !== undefined && env !== '') return resolve(env);
  const dir = resolve(import.meta.dirname, '..', '..', 'packages', 'explorer', 'dist', 'app');
  return existsSync(join(dir, 'index.html')) ? dir : null;
}

const USAGE = `usage: pnpm testnet [--nodes N] [--stakes 40,30,20,10] [--duration S] [--reset]
                    [--load TPS] [--dir DIR] [--base-port PORT] [--demo-stake]
                    [--explorer-dir DIR]
       pnpm testnet check [--dir DIR] [--wait S]
       pnpm testnet stop|start|wipe NAME [--dir DIR]
       pnpm testnet init --hosts H1,H2,... [--stakes W,...] [--dir DIR] [--base-port P2P] [--rpc-public]

Starts N posd validators on loopback (default 4, stakes 40/30/20/10), with
funded demo wallets; prints the nodes and wallets, writes DIR/testnet.json
(default .testnet), and shows a live status until Ctrl-C or --duration.
An existing network in DIR is restarted as it was; --reset starts afresh.
--load TPS sends real signed transfers between the demo wallets at TPS and
reports committed tx/s and submit-to-certificate latency p50/p99.
--demo-stake: a new validator joins: it starts read-only, is registered, v0
re-hosts half of its stake to it, and the set change is printed as the epoch
that includes it begins (LAG 8, EPOCH 32 rounds on the testnet).
--base-port 0 takes any free ports.
--explorer-dir: the built explorer each node serves at RPC/explorer/ (default
POS_EXPLORER_DIR, else packages/explorer/dist/app once built).
stop|start|wipe NAME: from another terminal, stops a validator of the running
network (the others go on; the status line shows it down), starts it again,
or wipes it (deletes its database, keeps its key) and starts it, so that it
joins again from its peers. A validator that exits on its own is shown down
too; the network keeps running (exit code 1 at the end).
check: invariants over JSON-RPC across the running network's nodes (same
block at every checked height, supply conserved, certificates valid, heights
advancing within --wait seconds, default 20); exit 1 on any violation.
init --hosts: one data dir per validator for a network across machines
(default DIR .testnet-hosts, P2P port 8681 and RPC 8680 for a host's first
validator), and the commands to start each; nothing is started here.
`;

function usage(msg: string): never {
  process.stderr.write(`${msg}\n\n${USAGE}`);
  process.exit(2);
}

function intArg(flag: string, v: string | undefined, min: number, max: number): number {
  if (v === undefined || !/^[0-9]+$/.test(v)) usage(`${flag} needs an integer`);
  const n = Number(v);
  if (n < min || n > max) usage(`${flag} must be in ${min}..${max}`);
  return n;
}

function parse(argv: string[]): CliOpts {
  const o: CliOpts = {
    demoStake: false,
    loadTps: 0,
    nodes: 4,
    stakes: undefined,
    durationS: 0,
    reset: false,
    dir: '.testnet',
    basePort: 8680,
    explorerDir: defaultExplorerDir(),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const flag = eq >= 0 ? a.slice(0, eq) : a;
    const value = () => (eq >= 0 ? a.slice(eq + 1) : argv[++i]);
    if (flag === '--') continue;
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    if (flag === '--nodes') o.nodes = intArg(flag, value(), 1, 64);
    else if (flag === '--stakes') o.stakes = value() ?? usage('--stakes needs a value');
    else if (flag === '--duration') o.durationS = intArg(flag, value(), 1, 10_000_000);
    else if (flag === '--reset') o.reset = true;
    else if (flag === '--demo-stake') o.demoStake = true;
    else if (flag === '--load') o.loadTps = intArg(flag, value(), 1, 100_000);
    else if (flag === '--dir') o.dir = value() ?? usage('--dir needs a value');
    else if (flag === '--base-port') o.basePort = intArg(flag, value(), 0, 65_000);
    else if (flag === '--explorer-dir') {
      o.explorerDir = resolve(value() ?? usage('--explorer-dir needs a value'));
    } else usage(`unknown argument ${a}`);
  }
  return o;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function printLayout(l: TestnetLayout, file: string, explorer = false): void {
  const total = l.nodes.reduce((s, n) => s + BigInt(n.stake), 0n);
  const pct = (s: string) => `${((Number(BigInt(s)) * 100) / Number(total)).toFixed(1)}%`;
  const out = [
    `chain ${l.chainName}  chainId ${l.chainId}`,
    '',
    table([
      ['node', 'validatorId', 'RPC', 'P2P', 'metrics', 'stake'],
      ...l.nodes.map((n) => [
        n.name,
        `${n.validatorId.slice(0, 18)}…`,
        n.rpcUrl,
        n.p2p,
        n.metricsUrl,
        `${n.stake} (${pct(n.stake)})`,
      ]),
    ]),
    '',
    table([
      ['wallet', 'public key', 'balance', 'key file'],
      ...l.wallets.map((w) => [w.name, w.publicKey, w.balance, w.keyFile]),
    ]),
    '',
    `layout: ${file}`,
    '',
    ...(explorer
      ? [
          'explorer (live DAG, blocks, transactions, validators, node, wallet):',
          ...l.nodes.map((n) => `  ${n.name}  ${n.rpcUrl}/explorer/`),
          '',
        ]
      : []),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

interface Sample {
  /** The set that signs the next block, from node 0 (or the first that answers). */
  set?: EpochSet;
  atMs: number;
  height: number[];
  round: number[];
  committed: number[];
  latSum: number[];
  latCount: number[];
  peers: number[];
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
  return m === null ? Number.NaN : Number(m[1]);
}

async function sample(l: TestnetLayout): Promise<Sample> {
  const s: Sample = {
    atMs: Date.now(),
    height: [],
    round: [],
    committed: [],
    latSum: [],
    latCount: [],
    peers: [],
  };
  for (const n of l.nodes) {
    try {
      s.set = await epochSet(n.rpcUrl);
      break;
    } catch {
      // try the next node
    }
  }
  await Promise.all(
    l.nodes.map(async (n, i) => {
      try {
        const text = await (await fetch(n.metricsUrl)).text();
        s.height[i] = metric(text, 'pos_block_height');
        s.round[i] = metric(text, 'pos_decided_round');
        s.committed[i] = metric(text, 'pos_transactions_committed_total');
        s.latSum[i] = metric(text, 'pos_finality_latency_seconds_sum');
        s.latCount[i] = metric(text, 'pos_finality_latency_seconds_count');
        s.peers[i] = metric(text, 'pos_peers');
      } catch {
        for (const k of ['height', 'round', 'committed', 'latSum', 'latCount', 'peers'] as const) {
          s[k][i] = Number.NaN;
        }
      }
    }),
  );
  return s;
}

function statusLine(
  a: Sample,
  b: Sample,
  layout: TestnetLayout,
  states: ReadonlyMap<string, NodeState>,
): string {
  const ok = (xs: number[]) => xs.filter((x) => Number.isFinite(x));
  const heights = ok(b.height);
  const rounds = ok(b.round);
  const dt = (b.atMs - a.atMs) / 1000;
  // Every node commits every transaction: the rate is node 0's (or the first that answers).
  const i = b.committed.findIndex((x, k) => Number.isFinite(x) && Number.isFinite(a.committed[k]!));
  const tps = i < 0 ? Number.NaN : (b.committed[i]! - a.committed[i]!) / dt;
  let sum = 0;
  let count = 0;
  for (let k = 0; k < b.latSum.length; k++) {
    const dc = b.latCount[k]! - a.latCount[k]!;
    if (Number.isFinite(dc) && dc > 0) {
      sum += b.latSum[k]! - a.latSum[k]!;
      count += dc;
    }
  }
  const lat = count > 0 ? `${((1000 * sum) / count).toFixed(0)} ms` : '-';
  const down = layout.nodes.flatMap((n, k) => {
    const st = states.get(n.name);
    if (st !== undefined && st.state !== 'running') return [`${n.name} ${describe(st)}`];
    return Number.isFinite(b.height[k]!) ? [] : [`${n.name} not answering`];
  });
  const time = new Date(b.atMs).toISOString().slice(11, 19);
  return [
    time,
    `height ${heights.length ? Math.min(...heights) : '-'} (+${heights.length ? Math.max(...heights) - Math.min(...heights) : 0})`,
    `round ${rounds.length ? Math.min(...rounds) : '-'}`,
    `committed ${Number.isFinite(tps) ? tps.toFixed(1) : '-'} tx/s`,
    `finality ${lat}`,
    `peers ${b.peers.map((p) => (Number.isFinite(p) ? String(p) : 'x')).join('/')}`,
    ...(b.set === undefined ? [] : [setSummary(b.set)]),
    ...(down.length > 0 ? [`down: ${down.join(', ')}`] : []),
  ].join('  ');
}

function describe(st: NodeState): string {
  if (st.state === 'exited') return `exited (${st.code})`;
  return st.state;
}

/** `epoch 3 stake v0 40.0% v1 30.0% …`: each member's share of the set's stake. */
function setSummary(set: EpochSet): string {
  const total = BigInt(set.totalStake);
  const share = (s: string) =>
    total === 0n ? '-' : `${(Number((BigInt(s) * 1000n) / total) / 10).toFixed(1)}%`;
  const members = set.validators.map(
    (v) => `${v.name || v.validatorId.slice(0, 10)} ${share(v.stake)}`,
  );
  return `epoch ${set.epoch} stake ${members.join(' ')}`;
}

function loadLine(r: LoadReport, final: boolean): string {
  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-');
  const head = final ? 'load (final):' : 'load:';
  return `${head} submitted ${r.submitted}, refused ${r.refused}, committed ${r.committed}, certified ${r.certified} (${r.certifiedPerSec.toFixed(1)} tx/s), latency p50 ${ms(r.p50Ms)} p99 ${ms(r.p99Ms)}`;
}

/** `testnet check [--dir DIR] [--wait S]`: exit 0 if every invariant holds, 1 if not. */
async function check(argv: string[]): Promise<void> {
  let dir = '.testnet';
  let waitS = 20;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--dir') dir = argv[++i] ?? usage('--dir needs a value');
    else if (a === '--wait') waitS = intArg(a, argv[++i], 1, 3600);
    else if (a !== '--') usage(`unknown argument ${a}`);
  }
  const file = join(resolve(dir), 'testnet.json');
  if (!existsSync(file)) usage(`no testnet at ${file}: start one with pnpm testnet`);
  const layout = JSON.parse(readFileSync(file, 'utf8')) as TestnetLayout;
  const results = await checkTestnet(layout, { waitMs: waitS * 1000 });
  for (const r of results)
    process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name}: ${r.detail}\n`);
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(
    failed === 0
      ? `all ${results.length} checks passed\n`
      : `${failed} of ${results.length} checks failed\n`,
  );
  process.exit(failed === 0 ? 0 : 1);
}

/** `testnet stop|start|wipe NAME [--dir DIR]`: asks the running testnet in DIR. */
async function controlCommand(action: ControlAction, argv: string[]): Promise<void> {
  let dir = '.testnet';
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--dir') dir = argv[++i] ?? usage('--dir needs a value');
    else if (a === '--') continue;
    else if (name === undefined && /^[a-z0-9-]{1,32}$/.test(a)) name = a;
    else usage(`unknown argument ${a}`);
  }
  if (name === undefined) usage(`${action} needs a validator name, e.g. v3`);
  try {
    process.stdout.write(`${await controlRequest(resolve(dir), action, name)}\n`);
  } catch (e) {
    if (!(e instanceof TestnetError)) throw e;
    process.stderr.write(`testnet ${action}: ${e.message}\n`);
    process.exit(1);
  }
}

/** `testnet init --hosts ...`: data dirs and start commands for several machines. */
async function init(argv: string[]): Promise<void> {
  let hosts: string[] | undefined;
  let stakes: string | undefined;
  let dir = '.testnet-hosts';
  let basePort = 8681;
  let rpcPublic = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--hosts') hosts = (argv[++i] ?? usage('--hosts needs a value')).split(',');
    else if (a === '--stakes') stakes = argv[++i] ?? usage('--stakes needs a value');
    else if (a === '--dir') dir = argv[++i] ?? usage('--dir needs a value');
    else if (a === '--base-port') basePort = intArg(a, argv[++i], 2, 65_000);
    else if (a === '--rpc-public') rpcPublic = true;
    else if (a !== '--') usage(`unknown argument ${a}`);
  }
  if (hosts === undefined) usage('init needs --hosts H1,H2,...');
  let layout: TestnetLayout;
  try {
    layout = await initHosts({
      dir: resolve(dir),
      hosts,
      ...(stakes === undefined ? {} : { stakes }),
      basePort,
      rpcPublic,
    });
  } catch (e) {
    if (e instanceof TestnetError) usage(e.message);
    throw e;
  }
  printLayout(layout, join(resolve(dir), 'testnet.json'));
  const lines = [
    'Nothing is started. On each machine, with this repository cloned and built',
    '(npm run build), copy its validator directory there and start it:',
    '',
  ];
  for (const n of layout.nodes) {
    const host = n.p2p.slice(0, n.p2p.lastIndexOf(':'));
    lines.push(`# ${n.name} on ${host} (P2P ${n.p2p} must be reachable from the other hosts)`);
    lines.push(`scp -r ${n.dataDir} ${host}:posd-${n.name}`);
    lines.push(`ssh ${host} 'cd proof-of-share && pnpm posd start --data-dir ~/posd-${n.name}'`);
    lines.push('');
  }
  lines.push(
    rpcPublic
      ? `Then, from here: pnpm testnet check --dir ${dir}`
      : 'JSON-RPC listens on 127.0.0.1 on each host (pass --rpc-public to expose it, then `pnpm testnet check` works from here).',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '--'));
  if (argv[0] === 'check') return check(argv.slice(1));
  if (argv[0] === 'init') return init(argv.slice(1));
  if (CONTROL_ACTIONS.includes(argv[0] as ControlAction)) {
    return controlCommand(argv[0] as ControlAction, argv.slice(1));
  }
  const o = parse(argv);
  const dir = resolve(o.dir);
  let net: Testnet;
  try {
    net = await startTestnet({
      dir,
      nodes: o.nodes,
      ...(o.stakes === undefined ? {} : { stakes: o.stakes }),
      reset: o.reset,
      basePort: o.basePort,
      ...(o.explorerDir === null ? {} : { explorerDir: o.explorerDir }),
      say: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (e) {
    if (e instanceof TestnetError) {
      process.stderr.write(`testnet: ${e.message}\n`);
      process.exit(e.message.includes('exited') || e.message.includes('ready') ? 1 : 2);
    }
    throw e;
  }
  printLayout(net.layout, net.file, o.explorerDir !== null);
  if (o.explorerDir === null) {
    process.stdout.write('explorer: not built (pnpm build builds it; --explorer-dir DIR)\n');
  }
  if (o.demoStake) {
    try {
      await demoStake(net);
    } catch (e) {
      process.stderr.write(`demo-stake: ${(e as Error).message}\n`);
      await net.stop();
      process.exit(1);
    }
    if (o.durationS === 0) {
      await net.stop();
      process.stdout.write('stopped.\n');
      process.exit(0);
    }
  }
  process.stdout.write('all validators ready; live status every 2 s (Ctrl-C stops the network)\n');
  let load: LoadHandle | null = null;
  if (o.loadTps > 0) {
    load = await startDemoLoad(net.layout, { ratePerSec: o.loadTps });
    process.stdout.write(`load: ${o.loadTps} transfers/s between the demo wallets\n`);
  }

  let stopping = false;
  let failed = false;
  let control: ControlServer | null = null;
  const finish = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${why}: stopping the validators...\n`);
    await control?.close();
    if (load !== null) process.stdout.write(`${loadLine(await load.stop(), true)}\n`);
    await net.stop();
    process.stdout.write('stopped.\n');
    process.exit(failed ? 1 : 0);
  };
  process.on('SIGINT', () => void finish('interrupted'));
  process.on('SIGTERM', () => void finish('terminated'));
  // A validator that exits is shown down; the others go on (a network
  // keeps finality while more than 2/3 of the stake runs).
  control = await startControl({
    net,
    dir,
    onUnexpectedExit: (name, code) => {
      if (stopping) return;
      failed = true;
      const n = net.layout.nodes.find((x) => x.name === name)!;
      process.stderr.write(
        `${name} exited (${code}); see ${n.log}. The network goes on without it: pnpm testnet start ${name}\n`,
      );
    },
    say: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `from another terminal: pnpm testnet stop|start|wipe ${net.layout.nodes.at(-1)!.name}${o.dir === '.testnet' ? '' : ` --dir ${o.dir}`}\n`,
  );
  const endAt = o.durationS > 0 ? Date.now() + o.durationS * 1000 : Number.POSITIVE_INFINITY;
  let prev = await sample(net.layout);
  while (!stopping) {
    await new Promise((r) => setTimeout(r, 2000));
    if (stopping) break;
    const cur = await sample(net.layout);
    const extra = load === null ? '' : `  ${loadLine(load.report(), false)}`;
    process.stdout.write(`${statusLine(prev, cur, net.layout, control.states)}${extra}\n`);
    prev = cur;
    if (Date.now() >= endAt) await finish(`--duration ${o.durationS} s reached`);
  }
}

main().catch((e) => {
  process.stderr.write(`testnet: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
