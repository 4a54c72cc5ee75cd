/** The contracts of the local testnet (src/network.ts): its options, its layout (testnet.json), a started network. */
import type { ChildProcess } from 'node:child_process';
import type { ValidatorKey } from '@pos/node';

/** Options of `startTestnet` (src/network.ts). */
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
  /**
   * The built explorer every posd serves at `GET /explorer/` (its
   * `--explorer-dir`, passed as `POS_EXPLORER_DIR`); absent: not served.
   */
  explorerDir?: string;
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

/** Options of `initHosts` (src/network.ts). */
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
