/**
 * A local network of `posd` validators on loopback (issue 5, testnet 1):
 * keys and a genesis with unequal stakes plus funded demo wallets, one data
 * dir per validator, the processes started and watched, and the layout
 * written to `testnet.json` so that other tools (the wallet, `testnet check`)
 * find the nodes.
 *
 * Stake is the value of the outputs a validator hosts at genesis
 * (docs/PROTOCOL.md 6.5): each validator gets one output owned and hosted by itself,
 * worth its share of the validators' supply (`parseStakes`), and each demo
 * wallet gets outputs hosted by validator 0.
 *
 * The files are written by `network/files.ts`, the ports picked by
 * `network/ports.ts`, the processes kept by `network/processes.ts`; the
 * contracts are `network/types.ts`.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { generateValidatorKey, readKeyFile, type ValidatorKey } from '@pos/node';
import { genesisFromJSON } from '@pos/protocol';
import { prepare, readLayout, stakesFor, writeJoinerDir, writeLayout } from './network/files.js';
import { freePort, localEndpoints } from './network/ports.js';
import { alive, createSupervisor, exitOf, posdPath, type Supervisor } from './network/processes.js';
import {
  defaultTestnetOpts,
  type InitHostsOpts,
  type Testnet,
  type TestnetLayout,
  type TestnetNode,
  type TestnetOpts,
} from './network/types.js';
import { TestnetError } from './stakes.js';

export type { TestnetWallet } from './network/types.js';
export {
  defaultTestnetOpts,
  type InitHostsOpts,
  type Testnet,
  type TestnetLayout,
  type TestnetNode,
  type TestnetOpts,
};

/** A started network's state, for its controls. */
interface Running {
  readonly o: TestnetOpts;
  readonly layout: TestnetLayout;
  /** Path of testnet.json. */
  readonly file: string;
  readonly sup: Supervisor;
}

function nodeNamed(r: Running, name: string): TestnetNode {
  const n = r.layout.nodes.find((x) => x.name === name);
  if (n === undefined) throw new TestnetError(`no validator named ${name}`);
  return n;
}

/** The layout of `o.dir`: the existing network's, or a new one's files. */
async function layoutOf(o: TestnetOpts, file: string): Promise<TestnetLayout> {
  const layout = existsSync(file)
    ? readLayout(file)
    : await prepare(o, stakesFor(o), await localEndpoints(o));
  // A restarted network must still be ours: the files name its genesis.
  genesisFromJSON(JSON.parse(readFileSync(layout.genesis, 'utf8')));
  for (const w of layout.wallets) await readKeyFile(w.keyFile);
  return layout;
}

/** Starts every validator but the external ones; resolves once each answers `/ready`. */
async function startAll(r: Running): Promise<void> {
  const external = new Set(r.o.external ?? []);
  try {
    const started = r.layout.nodes.filter((n) => !external.has(n.name));
    const ps = started.map((n) => r.sup.spawn(n));
    r.o.say?.(`${started.length} validators starting (logs: ${r.o.dir}/v*/posd.log)...`);
    const deadline = Date.now() + 60_000;
    for (const [i, n] of started.entries()) await r.sup.awaitUp(n, ps[i]!, '/ready', deadline);
  } catch (e) {
    await r.sup.stop(2_000);
    throw e;
  }
}

async function kill(r: Running, name: string, signal: NodeJS.Signals = 'SIGKILL') {
  const p = r.sup.current(nodeNamed(r, name).name);
  if (p === undefined) throw new TestnetError(`${name} was never started here`);
  const exited = exitOf(p);
  if (alive(p)) p.kill(signal);
  return exited;
}

async function restart(
  r: Running,
  name: string,
  extra?: Readonly<Record<string, string>>,
  timeoutMs = 60_000,
): Promise<ChildProcess> {
  const n = nodeNamed(r, name);
  const prev = r.sup.current(name);
  if (prev !== undefined && alive(prev)) throw new TestnetError(`${name} is still running`);
  const p = r.sup.spawn(n, extra);
  await r.sup.awaitUp(n, p, '/status', Date.now() + timeoutMs);
  return p;
}

async function addNode(
  r: Running,
  name: string,
): Promise<{ node: TestnetNode; key: ValidatorKey }> {
  if (!/^[a-z0-9-]{1,32}$/.test(name) || r.layout.nodes.some((n) => n.name === name)) {
    throw new TestnetError(`node name ${name} is taken or not [a-z0-9-]{1,32}`);
  }
  const key = generateValidatorKey();
  const rpcPort = await freePort();
  const p2pPort = await freePort();
  const node = await writeJoinerDir(r.o.dir, name, key, r.layout, { rpcPort, p2pPort });
  const p = r.sup.spawn(node);
  r.layout.nodes.push(node);
  writeLayout(r.file, r.layout);
  await r.sup.awaitUp(node, p, '/status', Date.now() + 60_000);
  return { node, key };
}

/**
 * Starts (or restarts) the network in `opts.dir` and resolves once every
 * validator answers `GET /ready` with 200. Throws {@link TestnetError} when
 * a process exits early, with the tail of its log.
 */
export async function startTestnet(
  opts: Partial<TestnetOpts> & Pick<TestnetOpts, 'dir'>,
): Promise<Testnet> {
  const o: TestnetOpts = { ...defaultTestnetOpts, ...opts };
  if (!Number.isSafeInteger(o.nodes) || o.nodes < 1 || o.nodes > 64) {
    throw new TestnetError('--nodes must be an integer in 1..64');
  }
  if (o.reset) rmSync(o.dir, { recursive: true, force: true });
  const file = join(o.dir, 'testnet.json');
  const layout = await layoutOf(o, file);
  await o.onLayout?.(layout);
  const r: Running = { o, layout, file, sup: createSupervisor(posdPath(), o) };
  await startAll(r);
  return {
    layout,
    file,
    processes: r.sup.procs,
    process: (name) => r.sup.current(name),
    stop: (graceMs) => r.sup.stop(graceMs),
    kill: (name, signal) => kill(r, name, signal),
    restart: (name, extra, timeoutMs) => restart(r, name, extra, timeoutMs),
    addNode: (name) => addNode(r, name),
  };
}

/**
 * Writes one data dir per validator for a network across machines
 * (issue 5, testnet point 4): keys, a genesis whose p2p endpoints are
 * `host:port`, and a config binding P2P on every interface (RPC on
 * 127.0.0.1 unless `rpcPublic`). Nothing is started. Refuses a non-empty
 * `dir`.
 */
export async function initHosts(opts: InitHostsOpts): Promise<TestnetLayout> {
  if (opts.hosts.length === 0 || opts.hosts.some((h) => !/^[A-Za-z0-9.-]+$/.test(h))) {
    throw new TestnetError('--hosts must list host names or IPv4 addresses, comma-separated');
  }
  if (existsSync(join(opts.dir, 'testnet.json'))) {
    throw new TestnetError(`${opts.dir} already holds a network; pick another --dir`);
  }
  const o: TestnetOpts = {
    ...defaultTestnetOpts,
    dir: opts.dir,
    nodes: opts.hosts.length,
    ...(opts.stakes === undefined ? {} : { stakes: opts.stakes }),
  };
  const seen = new Map<string, number>();
  const ends = opts.hosts.map((host) => {
    const k = seen.get(host) ?? 0;
    seen.set(host, k + 1);
    return {
      host,
      rpcHost: opts.rpcPublic ? '0.0.0.0' : '127.0.0.1',
      rpcPort: opts.basePort - 1 + 2 * k,
      p2pHost: '0.0.0.0',
      p2pPort: opts.basePort + 2 * k,
    };
  });
  return prepare(o, stakesFor(o), ends);
}
