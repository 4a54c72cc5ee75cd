/**
 * The local testnet's files: keys and a genesis with unequal stakes plus
 * funded demo wallets (docs/PROTOCOL.md 6.5), one data dir per
 * validator (`validator.key`, `genesis.json`, `config.json`), and the
 * layout, `testnet.json`, that other tools read.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '@pos/merkle';
import { generateValidatorKey, type ValidatorKey, writeKeyFile } from '@pos/node';
import { chainIdOf, createGenesis, type Genesis, genesisToJSON } from '@pos/protocol';
import { parseStakes, TestnetError } from '../stakes.js';
import type { Endpoint } from './ports.js';
import type { TestnetLayout, TestnetNode, TestnetOpts, TestnetWallet } from './types.js';

const STAKES_4 = '40,30,20,10';

/** A validator's ports: RPC, the P2P port peers dial, and the one posd binds. */
interface Ports {
  rpc: number;
  p2p: number;
  bind: number;
}

const writeJson = (file: string, value: unknown) =>
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

/** The validators' stakes: `--stakes`, or 40/30/20/10 for 4, else equal. */
export function stakesFor(o: TestnetOpts): bigint[] {
  const spec = o.stakes ?? (o.nodes === 4 ? STAKES_4 : Array(o.nodes).fill('1').join(','));
  const stakes = parseStakes(spec, o.validatorSupply);
  if (stakes.length !== o.nodes) {
    throw new TestnetError(`--stakes gives ${stakes.length} weights for ${o.nodes} nodes`);
  }
  return stakes;
}

/** The layout in `file` (testnet.json), checked to be one. */
export function readLayout(file: string): TestnetLayout {
  const layout = JSON.parse(readFileSync(file, 'utf8')) as TestnetLayout;
  if (layout.version !== 1 || !Array.isArray(layout.nodes)) {
    throw new TestnetError(`${file} is not a testnet layout; use --reset`);
  }
  return layout;
}

/** Writes `layout` to `file` (testnet.json). */
export const writeLayout = (file: string, layout: TestnetLayout): void => writeJson(file, layout);

/**
 * The genesis: each validator one output owned and hosted by itself, worth
 * its stake; each demo wallet its outputs, hosted by validator 0 (or nobody).
 */
function genesisFor(
  o: TestnetOpts,
  stakes: bigint[],
  keys: ValidatorKey[],
  walletKeys: ValidatorKey[],
  p2p: string[],
): Genesis {
  const host = o.walletHost === 'none' ? new Uint8Array(32) : keys[0]!.validatorId;
  const walletOutputs = (w: ValidatorKey) => [
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
  ];
  return createGenesis({
    chainName: 'pos-testnet',
    genesisTime: Date.now(),
    params: { minFee: 1n, lag: o.lag, epoch: o.epoch, minStake: o.minStake },
    validators: keys.map((k, i) => ({ pubkey: k.publicKey, name: `v${i}`, p2p: p2p[i]! })),
    outputs: [
      ...keys.map((k, i) => ({ amount: stakes[i]!, owner: k.publicKey, host: k.validatorId })),
      ...walletKeys.flatMap(walletOutputs),
    ],
  });
}

/** Validator `i`'s data dir (key, genesis, config), and its entry of the layout. */
async function writeValidatorDir(
  o: TestnetOpts,
  i: number,
  key: ValidatorKey,
  stake: bigint,
  end: Endpoint,
  ports: Ports,
  genesisFile: string,
): Promise<TestnetNode> {
  const d = join(o.dir, `v${i}`);
  mkdirSync(d, { recursive: true, mode: 0o700 });
  await writeKeyFile(join(d, 'validator.key'), key);
  writeFileSync(join(d, 'genesis.json'), readFileSync(genesisFile));
  writeJson(join(d, 'config.json'), {
    rpcHost: end.rpcHost,
    rpcPort: ports.rpc,
    p2pHost: end.p2pHost,
    p2pPort: ports.bind,
    logLevel: 'info',
  });
  return {
    name: `v${i}`,
    index: i,
    publicKey: toHex(key.publicKey),
    validatorId: toHex(key.validatorId),
    stake: stake.toString(),
    rpcUrl: `http://${end.host}:${ports.rpc}`,
    p2p: `${end.host}:${ports.p2p}`,
    ...(ports.bind === ports.p2p ? {} : { p2pBind: `${end.host}:${ports.bind}` }),
    metricsUrl: `http://${end.host}:${ports.rpc}/metrics`,
    dataDir: d,
    log: join(d, 'posd.log'),
  };
}

/** The demo wallets' key files (plain, testnet only) and their layout entries. */
async function writeWallets(o: TestnetOpts, walletKeys: ValidatorKey[]): Promise<TestnetWallet[]> {
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
  return wallets;
}

/** Creates the network's files (keys, genesis, configs, testnet.json) for `ends`. */
export async function prepare(
  o: TestnetOpts,
  stakes: bigint[],
  ends: Endpoint[],
): Promise<TestnetLayout> {
  // Peers dial the front port when there is one; posd binds p2pPort.
  const ports: Ports[] = ends.map((e) => ({
    rpc: e.rpcPort,
    p2p: e.frontPort ?? e.p2pPort,
    bind: e.p2pPort,
  }));
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  const keys: ValidatorKey[] = stakes.map(() => generateValidatorKey());
  const walletKeys = Array.from({ length: o.wallets }, () => generateValidatorKey());
  const p2p = ends.map((e, i) => `${e.host}:${ports[i]!.p2p}`);
  const genesis = genesisFor(o, stakes, keys, walletKeys, p2p);
  const genesisFile = join(o.dir, 'genesis.json');
  writeJson(genesisFile, genesisToJSON(genesis));
  const nodes: TestnetNode[] = [];
  for (let i = 0; i < o.nodes; i++) {
    nodes.push(
      await writeValidatorDir(o, i, keys[i]!, stakes[i]!, ends[i]!, ports[i]!, genesisFile),
    );
  }
  const layout: TestnetLayout = {
    version: 1,
    chainId: toHex(chainIdOf(genesis)),
    chainName: genesis.chainName,
    genesis: genesisFile,
    nodes,
    wallets: await writeWallets(o, walletKeys),
  };
  writeLayout(join(o.dir, 'testnet.json'), layout);
  return layout;
}

/**
 * The data dir of a validator that is not in the genesis (`dir/<name>`,
 * peers: every node of `layout`), and its entry of the layout (stake "0").
 */
export async function writeJoinerDir(
  dir: string,
  name: string,
  key: ValidatorKey,
  layout: TestnetLayout,
  ports: { rpcPort: number; p2pPort: number },
): Promise<TestnetNode> {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true, mode: 0o700 });
  await writeKeyFile(join(d, 'validator.key'), key);
  writeFileSync(join(d, 'genesis.json'), readFileSync(layout.genesis));
  const { rpcPort, p2pPort } = ports;
  writeJson(join(d, 'config.json'), {
    rpcHost: '127.0.0.1',
    rpcPort,
    p2pHost: '127.0.0.1',
    p2pPort,
    logLevel: 'info',
    peers: layout.nodes.map((n) => n.p2p),
  });
  return {
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
}
