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
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { toHex } from '@pos/merkle';
import { generateValidatorKey, readKeyFile, type ValidatorKey, writeKeyFile } from '@pos/node';
import {
  chainIdOf,
  createGenesis,
  type Genesis,
  genesisFromJSON,
  genesisToJSON,
} from '@pos/protocol';
import { parseStakes, TestnetError } from './stakes.js';

/** Options of {@link startTestnet}. */
export interface TestnetOpts {
  /** Where the network lives (data dirs, keys, logs, testnet.json). */
  dir: string;
  /** Number of validators. */
  nodes: number;
  /** Stake weights, comma-separated (`40,30,20,10`); default: 40/30/20/10 for 4, else equal. */
  stakes?: string;
  /** Total stake split between the validators. */
  validatorSupply: bigint;
  /** Demo wallets and what each holds (in outputs of `walletOutputAmount`). */
  wallets: number;
  walletOutputs: number;
  walletOutputAmount: bigint;
  /** Small outputs per demo wallet for the load generator (`--load`). */
  loadOutputs: number;
  loadOutputAmount: bigint;
  /** First port: validator i gets RPC basePort + 2i, P2P basePort + 2i + 1. 0: any free ports. */
  basePort: number;
  /** Wipe `dir` first (else an existing network there is restarted as it was). */
  reset: boolean;
  /** Flags for each posd process's node (default: a 1 GiB V8 heap cap). */
  nodeArgs: string[];
  /**
   * Epoch parameters of the genesis (docs/PROTOCOL.md 6.5): small, so that set changes
   * show within a minute (the design's defaults are 1000 and 4096).
   */
  lag: number;
  epoch: number;
  /** Least stake of a set member: 1% of `validatorSupply` by default. */
  minStake: bigint;
  /**
   * Who hosts the demo wallets' outputs: validator 0 (default, so that they
   * add to its stake), or nobody (a zero validatorId: the validators' stakes
   * are then exactly `stakes`, whatever the wallets spend on fees).
   */
  walletHost: 'v0' | 'none';
  /** Called with progress lines. */
  say?: (line: string) => void;
  /**
   * Give each validator a P2P front port (issue 7, fault injection): the
   * genesis and every peer name `p2p` (where a fault proxy listens), and
   * posd binds `p2pBind`, a port of its own. Nothing listens on the front
   * until the caller starts a proxy there (`createFaultNet`).
   */
  p2pFront: boolean;
  /** Extra environment of one validator's posd by name (`{v2: {POS_FAILPOINT: ...}}`). */
  nodeEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Validators whose files are made but whose posd is not started: a
   * stand-in (a Byzantine process, issue 7) runs with that key instead.
   */
  external?: readonly string[];
  /**
   * Called with the layout before any posd starts: the place to start fault
   * proxies on the front ports ({@link p2pFront}), since a validator is only
   * ready once it has synced with peers through them.
   */
  onLayout?: (layout: TestnetLayout) => void | Promise<void>;
}

/** Defaults of {@link TestnetOpts} (`dir` has none). */
export const defaultTestnetOpts: Omit<TestnetOpts, 'dir'> = {
  nodes: 4,
  validatorSupply: 1_000_000_000n,
  wallets: 3,
  walletOutputs: 4,
  walletOutputAmount: 1_000_000n,
  loadOutputs: 1000,
  loadOutputAmount: 1000n,
  basePort: 8680,
  reset: false,
  nodeArgs: ['--max-old-space-size=1024'],
  lag: 8,
  epoch: 32,
  minStake: 10_000_000n,
  walletHost: 'v0',
  p2pFront: false,
};

/** One validator of the running network, as written to testnet.json. */
export interface TestnetNode {
  name: string;
  index: number;
  publicKey: string;
  validatorId: string;
  stake: string;
  rpcUrl: string;
  /** The P2P address in the genesis, which peers dial. */
  p2p: string;
  /** Where posd binds P2P when it differs from `p2p` (a front port, {@link TestnetOpts.p2pFront}). */
  p2pBind?: string;
  metricsUrl: string;
  dataDir: string;
  log: string;
}

/** A demo wallet: its key file (plain, testnet only) and public key. */
export interface TestnetWallet {
  name: string;
  publicKey: string;
  keyFile: string;
  balance: string;
}

/** The content of `testnet.json`. */
export interface TestnetLayout {
  version: 1;
  chainId: string;
  chainName: string;
  genesis: string;
  nodes: TestnetNode[];
  wallets: TestnetWallet[];
}

/** A started network. */
export interface Testnet {
  readonly layout: TestnetLayout;
  /** Path of testnet.json. */
  readonly file: string;
  /** Each started validator's process, in start order (a restart appends the new one). */
  readonly processes: readonly ChildProcess[];
  /** The current process of a validator by name (undefined for an external one). */
  process(name: string): ChildProcess | undefined;
  /** SIGTERM to every validator, SIGKILL after `graceMs`; resolves once all exited. */
  stop(graceMs?: number): Promise<void>;
  /** Sends `signal` (default SIGKILL) to one validator and resolves once it exited. */
  kill(name: string, signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * Starts a stopped validator again on its data dir (extra `env` for this
   * run only) and resolves once its RPC answers `/status`; rejects with the
   * tail of its log if it exits first (e.g. a damaged data dir).
   */
  restart(
    name: string,
    env?: Readonly<Record<string, string>>,
    timeoutMs?: number,
  ): Promise<ChildProcess>;
  /**
   * Starts one more `posd` with a fresh key that is not in the genesis: it
   * syncs read-only until a registration and hosted stake make it a member
   * (docs/PROTOCOL.md 6.5). Its data dir is `dir/<name>`; it is added to testnet.json
   * (stake "0") and stopped with the rest. Resolves once its RPC answers.
   */
  addNode(name: string): Promise<{ node: TestnetNode; key: ValidatorKey }>;
}

const STAKES_4 = '40,30,20,10';

/** The posd entry of the workspace's @pos/node build. */
function posdPath(): string {
  const pkg = createRequire(import.meta.url).resolve('@pos/node/package.json');
  const cli = join(dirname(pkg), 'dist', 'cli.js');
  if (!existsSync(cli)) throw new TestnetError(`posd is not built (${cli}): run pnpm build`);
  return cli;
}

/**
 * A port free now, below Linux's ephemeral range (32768..60999): a port the
 * OS hands out for "listen on 0" is also one it hands out as the local port
 * of outgoing connections, and with many nodes syncing on loopback one was
 * taken between this check and posd binding it (EADDRINUSE in CI). Random in
 * 20000..32767, checked free, a few tries.
 */
const handedOut = new Set<number>();
async function freePort(): Promise<number> {
  for (let i = 0; i < 64; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    // Never the same port twice in this process (two nodes, or RPC and P2P).
    if (handedOut.has(port) || !(await portFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new TestnetError('no free port found in 20000..32767');
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Where one validator listens, and the address its peers dial. */
interface Endpoint {
  host: string;
  rpcHost: string;
  rpcPort: number;
  p2pHost: string;
  p2pPort: number;
  /** The front port peers dial, when it is not `p2pPort`. */
  frontPort?: number;
}

function stakesFor(o: TestnetOpts): bigint[] {
  const spec = o.stakes ?? (o.nodes === 4 ? STAKES_4 : Array(o.nodes).fill('1').join(','));
  const stakes = parseStakes(spec, o.validatorSupply);
  if (stakes.length !== o.nodes) {
    throw new TestnetError(`--stakes gives ${stakes.length} weights for ${o.nodes} nodes`);
  }
  return stakes;
}

/** Loopback endpoints: basePort + 2i / + 2i + 1, or any free ports. */
async function localEndpoints(o: TestnetOpts): Promise<Endpoint[]> {
  const out: Endpoint[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const loop = { host: '127.0.0.1', rpcHost: '127.0.0.1', p2pHost: '127.0.0.1' };
    const front = o.p2pFront ? { frontPort: await freePort() } : {};
    if (o.basePort === 0) {
      out.push({ ...loop, rpcPort: await freePort(), p2pPort: await freePort(), ...front });
      continue;
    }
    const p = { rpcPort: o.basePort + 2 * i, p2pPort: o.basePort + 2 * i + 1, ...front };
    for (const port of [p.rpcPort, p.p2pPort]) {
      if (!(await portFree(port))) {
        throw new TestnetError(`port ${port} is in use: stop what holds it or pass --base-port`);
      }
    }
    out.push({ ...loop, ...p });
  }
  return out;
}

function readLayout(file: string): TestnetLayout {
  const layout = JSON.parse(readFileSync(file, 'utf8')) as TestnetLayout;
  if (layout.version !== 1 || !Array.isArray(layout.nodes)) {
    throw new TestnetError(`${file} is not a testnet layout; use --reset`);
  }
  return layout;
}

/** Creates the network's files (keys, genesis, configs) for `ends`. */
async function prepare(o: TestnetOpts, stakes: bigint[], ends: Endpoint[]): Promise<TestnetLayout> {
  const file = join(o.dir, 'testnet.json');
  // Peers dial the front port when there is one; posd binds p2pPort.
  const ports = ends.map((e) => ({
    rpc: e.rpcPort,
    p2p: e.frontPort ?? e.p2pPort,
    bind: e.p2pPort,
  }));
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const keys: ValidatorKey[] = stakes.map(() => generateValidatorKey());
  const walletKeys = Array.from({ length: o.wallets }, () => generateValidatorKey());
  const host = o.walletHost === 'none' ? new Uint8Array(32) : keys[0]!.validatorId;
  const genesis: Genesis = createGenesis({
    chainName: 'pos-testnet',
    genesisTime: Date.now(),
    params: { minFee: 1n, lag: o.lag, epoch: o.epoch, minStake: o.minStake },
    validators: keys.map((k, i) => ({
      pubkey: k.publicKey,
      name: `v${i}`,
      p2p: `${ends[i]!.host}:${ports[i]!.p2p}`,
    })),
    outputs: [
      ...keys.map((k, i) => ({ amount: stakes[i]!, owner: k.publicKey, host: k.validatorId })),
      ...walletKeys.flatMap((w) => [
        ...Array.from({ length: o.walletOutputs }, () => ({
          amount: o.walletOutputAmount,
          owner: w.publicKey,
          host,
        })),
        ...Array.from({ length: o.loadOutputs }, () => ({
          amount: o.loadOutputAmount,
          owner: w.publicKey,
          host,
        })),
      ]),
    ],
  });
  const genesisFile = join(o.dir, 'genesis.json');
  writeFileSync(genesisFile, `${JSON.stringify(genesisToJSON(genesis), null, 2)}\n`);
  const nodes: TestnetNode[] = [];
  for (let i = 0; i < o.nodes; i++) {
    const d = join(o.dir, `v${i}`);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    await writeKeyFile(join(d, 'validator.key'), keys[i]!);
    writeFileSync(join(d, 'genesis.json'), readFileSync(genesisFile));
    const config = {
      rpcHost: ends[i]!.rpcHost,
      rpcPort: ports[i]!.rpc,
      p2pHost: ends[i]!.p2pHost,
      p2pPort: ports[i]!.bind,
      logLevel: 'info',
    };
    writeFileSync(join(d, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    nodes.push({
      name: `v${i}`,
      index: i,
      publicKey: toHex(keys[i]!.publicKey),
      validatorId: toHex(keys[i]!.validatorId),
      stake: stakes[i]!.toString(),
      rpcUrl: `http://${ends[i]!.host}:${ports[i]!.rpc}`,
      p2p: `${ends[i]!.host}:${ports[i]!.p2p}`,
      ...(ports[i]!.bind === ports[i]!.p2p
        ? {}
        : { p2pBind: `${ends[i]!.host}:${ports[i]!.bind}` }),
      metricsUrl: `http://${ends[i]!.host}:${ports[i]!.rpc}/metrics`,
      dataDir: d,
      log: join(d, 'posd.log'),
    });
  }
  mkdirSync(join(o.dir, 'wallets'), { recursive: true, mode: 0o700 });
  const wallets: TestnetWallet[] = [];
  for (const [i, w] of walletKeys.entries()) {
    const keyFile = join(o.dir, 'wallets', `demo${i}.key`);
    await writeKeyFile(keyFile, w);
    wallets.push({
      name: `demo${i}`,
      publicKey: toHex(w.publicKey),
      keyFile,
      balance: (
        o.walletOutputAmount * BigInt(o.walletOutputs) +
        o.loadOutputAmount * BigInt(o.loadOutputs)
      ).toString(),
    });
  }
  const layout: TestnetLayout = {
    version: 1,
    chainId: toHex(chainIdOf(genesis)),
    chainName: genesis.chainName,
    genesis: genesisFile,
    nodes,
    wallets,
  };
  writeFileSync(file, `${JSON.stringify(layout, null, 2)}\n`);
  return layout;
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
  const say = o.say ?? (() => {});
  const file = join(o.dir, 'testnet.json');
  const layout = existsSync(file)
    ? readLayout(file)
    : await prepare(o, stakesFor(o), await localEndpoints(o));
  // A restarted network must still be ours: the files name its genesis.
  genesisFromJSON(JSON.parse(readFileSync(layout.genesis, 'utf8')));
  for (const w of layout.wallets) await readKeyFile(w.keyFile);
  await o.onLayout?.(layout);
  const cli = posdPath();
  const env = { ...process.env };
  delete env.FORCE_COLOR;
  const external = new Set(o.external ?? []);
  const procs: ChildProcess[] = [];
  const current = new Map<string, ChildProcess>();
  const exits: Promise<number | null>[] = [];
  let stopping = false;
  const alive = (p: ChildProcess) => p.exitCode === null && p.signalCode === null;
  const stop = async (graceMs = 10_000) => {
    stopping = true;
    for (const p of procs) if (alive(p)) p.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const p of procs) if (alive(p)) p.kill('SIGKILL');
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  };
  const spawnNode = (n: TestnetNode, extra?: Readonly<Record<string, string>>): ChildProcess => {
    const out = openSync(n.log, 'a');
    const p = spawn(process.execPath, [...o.nodeArgs, cli, 'start', '--data-dir', n.dataDir], {
      env: { ...env, ...o.nodeEnv?.[n.name], ...extra },
      stdio: ['ignore', out, out],
    });
    procs.push(p);
    current.set(n.name, p);
    exits.push(exitOf(p));
    return p;
  };
  /** Resolves once `n` answers `path` with 200; throws with its log's tail if `p` exits first. */
  const awaitUp = async (n: TestnetNode, p: ChildProcess, path: string, deadline: number) => {
    for (;;) {
      if (!alive(p)) {
        const tail = readFileSync(n.log, 'utf8').split('\n').slice(-8).join('\n');
        throw new TestnetError(`${n.name} exited (${p.exitCode ?? p.signalCode}):\n${tail}`);
      }
      try {
        if ((await fetch(`${n.rpcUrl}${path}`)).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new TestnetError(`${n.name} not answering in time`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const nodeNamed = (name: string): TestnetNode => {
    const n = layout.nodes.find((x) => x.name === name);
    if (n === undefined) throw new TestnetError(`no validator named ${name}`);
    return n;
  };
  try {
    const started = layout.nodes.filter((n) => !external.has(n.name));
    const ps = started.map((n) => spawnNode(n));
    say(`${started.length} validators starting (logs: ${o.dir}/v*/posd.log)...`);
    const deadline = Date.now() + 60_000;
    for (const [i, n] of started.entries()) await awaitUp(n, ps[i]!, '/ready', deadline);
  } catch (e) {
    await stop(2_000);
    throw e;
  }
  const kill = async (name: string, signal: NodeJS.Signals = 'SIGKILL') => {
    const p = current.get(nodeNamed(name).name);
    if (p === undefined) throw new TestnetError(`${name} was never started here`);
    const exited = exitOf(p);
    if (alive(p)) p.kill(signal);
    return exited;
  };
  const restart = async (
    name: string,
    extra?: Readonly<Record<string, string>>,
    timeoutMs = 60_000,
  ) => {
    const n = nodeNamed(name);
    const prev = current.get(name);
    if (prev !== undefined && alive(prev)) throw new TestnetError(`${name} is still running`);
    const p = spawnNode(n, extra);
    await awaitUp(n, p, '/status', Date.now() + timeoutMs);
    return p;
  };
  const addNode = async (name: string) => {
    if (!/^[a-z0-9-]{1,32}$/.test(name) || layout.nodes.some((n) => n.name === name)) {
      throw new TestnetError(`node name ${name} is taken or not [a-z0-9-]{1,32}`);
    }
    const key = generateValidatorKey();
    const d = join(o.dir, name);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    await writeKeyFile(join(d, 'validator.key'), key);
    writeFileSync(join(d, 'genesis.json'), readFileSync(layout.genesis));
    const rpcPort = await freePort();
    const p2pPort = await freePort();
    const config = {
      rpcHost: '127.0.0.1',
      rpcPort,
      p2pHost: '127.0.0.1',
      p2pPort,
      logLevel: 'info',
      peers: layout.nodes.map((n) => n.p2p),
    };
    writeFileSync(join(d, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
    const node: TestnetNode = {
      name,
      index: layout.nodes.length,
      publicKey: toHex(key.publicKey),
      validatorId: toHex(key.validatorId),
      stake: '0',
      rpcUrl: `http://127.0.0.1:${rpcPort}`,
      p2p: `127.0.0.1:${p2pPort}`,
      metricsUrl: `http://127.0.0.1:${rpcPort}/metrics`,
      dataDir: d,
      log: join(d, 'posd.log'),
    };
    const p = spawnNode(node);
    layout.nodes.push(node);
    writeFileSync(file, `${JSON.stringify(layout, null, 2)}\n`);
    await awaitUp(node, p, '/status', Date.now() + 60_000);
    return { node, key };
  };
  return {
    layout,
    file: join(o.dir, 'testnet.json'),
    processes: procs,
    process: (name) => current.get(name),
    stop: (graceMs) => (stopping ? Promise.all(exits).then(() => {}) : stop(graceMs)),
    kill,
    restart,
    addNode,
  };
}

function exitOf(p: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) resolve(p.exitCode);
    else p.once('exit', (code) => resolve(code));
  });
}

/** Options of {@link initHosts}. */
export interface InitHostsOpts {
  dir: string;
  /** One host name or address per validator (repeat a host to run several there). */
  hosts: string[];
  stakes?: string;
  /** P2P port of a host's first validator (RPC on the port below it); +2 per further validator on that host. */
  basePort: number;
  /** Serve JSON-RPC on every interface instead of 127.0.0.1 (so `testnet check` can reach it). */
  rpcPublic: boolean;
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
