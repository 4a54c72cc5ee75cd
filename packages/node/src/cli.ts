#!/usr/bin/env node
/**
 * `posd`, the validator's command line (docs/PROTOCOL.md 10.4: `init`,
 * `start`, `keygen`, `status`; plus `genesis` to write a genesis for several
 * validators). Exit codes: 0 done, 1 failed, 2 usage or refused input.
 *
 * A data dir holds `validator.key` (mode 0600), `genesis.json`,
 * `config.json` and `db/` (classic-level). Configuration precedence, per key:
 * flags > environment (`POS_*`) > the config file > defaults.
 */
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiError, createApiClient, createHttpTransport, type NodeStatus } from '@pos/api';
import { fromHex, toHex } from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  formatAmount,
  type Genesis,
  genesisFromJSON,
  genesisStakes,
  genesisToJSON,
  isCoded,
  ProtocolError,
  parseAmount,
  validatorIdOf,
} from '@pos/protocol';
import {
  CONFIG_ENV,
  CONFIG_FLAGS,
  ConfigError,
  configFlagOptions,
  defaultNodeConfig,
  type NodeConfig,
  resolveConfig,
} from './config.js';
import { checkFailpointEnv } from './failpoints.js';
import {
  generateValidatorKey,
  KeyFileError,
  readKeyFile,
  type ValidatorKey,
  writeKeyFile,
} from './keyfile.js';

const USAGE = `usage: posd <command> [options]

commands:
  init [--data-dir DIR] [--genesis FILE] [--force] [config flags]
      Prepares a data dir: a validator key (kept if one exists), the genesis
      (copied from --genesis to join an existing chain, or else a new
      one-validator development chain), and config.json from the config flags.
  start [--data-dir DIR] [--config FILE] [config flags]
      Runs the validator until SIGTERM/SIGINT (a second signal forces exit).
  keygen [--out FILE] [--force] [--json]
      Generates a validator key (Ed25519). With --out, writes the key file
      (mode 0600; refuses to replace one unless --force); prints the public
      key and validatorId, never the secret unless no --out is given.
  genesis --out FILE --chain-name NAME --validator SPEC... [--fund SPEC...]
          [--min-fee N] [--coin-frequency N] [--lag N] [--epoch N]
          [--genesis-time MS] [--force]
      Writes a genesis JSON. SPEC of --validator: KEY,NAME,P2P,STAKE where KEY
      is a key file or a 0x public key; the stake becomes an output owned by
      the validator's key and hosted by it. SPEC of --fund: OWNER,AMOUNT,HOST
      (OWNER a 0x public key, HOST the index of a --validator, default 0).
  status [--rpc URL] [--json]
      Prints pos_status of a running node (default http://127.0.0.1:8680).
  help
      Prints this text.

config flags (also POS_* environment variables and config.json keys):
${Object.entries(CONFIG_FLAGS)
  .map(
    ([k, f]) =>
      `  --${f.padEnd(12)} ${CONFIG_ENV[k as keyof NodeConfig].padEnd(16)} ${k} (default ${JSON.stringify(
        (defaultNodeConfig as Record<string, unknown>)[k],
      )})`,
  )
  .join('\n')}
precedence: flags > environment > config file > defaults.
`;

class UsageError extends Error {}

function fail(code: number, message: string): never {
  process.stderr.write(`posd: ${message}\n`);
  process.exit(code);
}

function parse<T extends Record<string, unknown>>(
  args: string[],
  options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; default?: unknown }>,
  what: string,
): T {
  try {
    return parseArgs({
      args,
      options: options as Parameters<typeof parseArgs>[0] extends infer P
        ? P extends { options?: infer O }
          ? O
          : never
        : never,
      strict: true,
      allowPositionals: false,
    }).values as T;
  } catch (e) {
    throw new UsageError(`${what}: ${(e as Error).message}`);
  }
}

const KEY_FILE = 'validator.key';
const GENESIS_FILE = 'genesis.json';
const CONFIG_FILE = 'config.json';

function configFlags(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of Object.values(CONFIG_FLAGS)) if (values[f] !== undefined) out[f] = values[f];
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} ${path} is not JSON: ${(e as Error).message}`);
  }
}

// --- keygen -----------------------------------------------------------------------

async function keygen(args: string[]): Promise<void> {
  const values = parse<{ out?: string; force?: boolean; json?: boolean }>(
    args,
    {
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    'keygen',
  );
  const key = generateValidatorKey();
  if (values.out) await writeKeyFile(values.out, key, values.force === true);
  const shown = {
    publicKey: toHex(key.publicKey),
    validatorId: toHex(key.validatorId),
    ...(values.out ? { keyFile: values.out } : { secretKey: toHex(key.secretKey) }),
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(shown)}\n`);
  } else {
    for (const [k, v] of Object.entries(shown)) process.stdout.write(`${k.padEnd(12)}${v}\n`);
  }
}

// --- genesis ----------------------------------------------------------------------

function uintFlag(v: string | undefined, name: string, min: number, max: number) {
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name}: an integer in ${min}..${max}`);
  }
  return Number(v);
}

async function pubkeyOf(spec: string): Promise<Uint8Array> {
  if (spec.startsWith('0x')) {
    try {
      return fromHex(spec.toLowerCase(), 32);
    } catch {
      throw new UsageError(`${spec}: a 0x public key is 32 bytes of hex`);
    }
  }
  return (await readKeyFile(spec)).publicKey;
}

async function genesisCmd(args: string[]): Promise<void> {
  const v = parse<{
    out?: string;
    'chain-name'?: string;
    validator?: string[];
    fund?: string[];
    'min-fee'?: string;
    'coin-frequency'?: string;
    lag?: string;
    epoch?: string;
    'genesis-time'?: string;
    force?: boolean;
  }>(
    args,
    {
      out: { type: 'string' },
      'chain-name': { type: 'string' },
      validator: { type: 'string', multiple: true },
      fund: { type: 'string', multiple: true },
      'min-fee': { type: 'string' },
      'coin-frequency': { type: 'string' },
      lag: { type: 'string' },
      epoch: { type: 'string' },
      'genesis-time': { type: 'string' },
      force: { type: 'boolean', default: false },
    },
    'genesis',
  );
  if (!v.out) throw new UsageError('genesis: --out FILE is required');
  if (!v['chain-name']) throw new UsageError('genesis: --chain-name is required');
  if (!v.validator?.length) throw new UsageError('genesis: at least one --validator');
  if (!v.force && (await exists(v.out))) {
    throw new UsageError(`genesis: ${v.out} exists; pass --force to replace it`);
  }
  const validators = [];
  const outputs = [];
  const hosts: Uint8Array[] = [];
  for (const spec of v.validator) {
    const parts = spec.split(',');
    if (parts.length !== 4) throw new UsageError(`--validator ${spec}: KEY,NAME,P2P,STAKE`);
    const [k, name, p2p, stake] = parts as [string, string, string, string];
    const pubkey = await pubkeyOf(k);
    validators.push({ pubkey, name, p2p });
    const amount = amountOf(stake, spec);
    const host = validatorIdOf(pubkey);
    hosts.push(host);
    if (amount > 0n) outputs.push({ amount, owner: pubkey, host });
  }
  for (const spec of v.fund ?? []) {
    const parts = spec.split(',');
    if (parts.length < 2 || parts.length > 3)
      throw new UsageError(`--fund ${spec}: OWNER,AMOUNT[,HOST]`);
    const owner = await pubkeyOf(parts[0]!);
    const hostText = parts[2] ?? '0';
    const hostIx = /^[0-9]{1,4}$/.test(hostText) ? Number(hostText) : -1;
    const host = hosts[hostIx];
    if (host === undefined) {
      throw new UsageError(`--fund ${spec}: HOST is a --validator index 0..${hosts.length - 1}`);
    }
    outputs.push({ amount: amountOf(parts[1]!, spec), owner, host });
  }
  const genesis = createGenesis({
    chainName: v['chain-name'],
    genesisTime:
      uintFlag(v['genesis-time'], 'genesis-time', 0, Number.MAX_SAFE_INTEGER) ?? Date.now(),
    params: {
      minFee: v['min-fee'] === undefined ? 1n : amountOf(v['min-fee'], '--min-fee'),
      ...defined('coinFrequency', uintFlag(v['coin-frequency'], 'coin-frequency', 2, 65535)),
      ...defined('lag', uintFlag(v.lag, 'lag', 0, 0xffffffff)),
      ...defined('epoch', uintFlag(v.epoch, 'epoch', 1, 0xffffffff)),
    },
    validators,
    outputs,
  });
  await writeFile(v.out, `${JSON.stringify(genesisToJSON(genesis), null, 2)}\n`);
  process.stdout.write(`chainId     ${toHex(chainIdOf(genesis))}\n`);
  for (const s of genesisStakes(genesis)) {
    const name = genesis.validators.find((x) => toHex(x.pubkey) === toHex(s.pubkey))?.name;
    process.stdout.write(
      `validator   ${name} ${toHex(s.validatorId)} stake ${formatAmount(s.stake)}\n`,
    );
  }
}

function defined<K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> {
  return v === undefined ? {} : ({ [k]: v } as Record<K, V>);
}

function amountOf(s: string, where: string): bigint {
  try {
    return parseAmount(s);
  } catch {
    throw new UsageError(`${where}: amounts are decimal integers`);
  }
}

// --- init -------------------------------------------------------------------------

async function init(args: string[]): Promise<void> {
  const values = parse<Record<string, unknown> & { genesis?: string; force?: boolean }>(
    args,
    {
      ...configFlagOptions,
      genesis: { type: 'string' },
      force: { type: 'boolean', default: false },
    },
    'init',
  );
  const flags = configFlags(values);
  // config.json holds exactly the flags given (validated); the environment
  // still applies at start, where its precedence is documented.
  const config = resolveConfig({ env: process.env, flags });
  resolveConfig({ flags });
  const dir = resolve(config.dataDir);
  const joined =
    typeof values.genesis === 'string'
      ? genesisFromJSON(await readJson(values.genesis, 'genesis'))
      : undefined;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const configPath = join(dir, CONFIG_FILE);
  if (!values.force && (await exists(configPath))) {
    throw new UsageError(
      `${configPath} exists: this data dir is initialised (--force rewrites it)`,
    );
  }
  // The key: kept if present (a validator's identity is not replaced by init).
  const keyPath = join(dir, KEY_FILE);
  let key: ValidatorKey;
  if (await exists(keyPath)) key = await readKeyFile(keyPath);
  else {
    key = generateValidatorKey();
    await writeKeyFile(keyPath, key);
  }
  // The genesis: joined, or a new development chain of this one validator.
  let genesis: Genesis;
  if (joined !== undefined) {
    genesis = joined;
  } else {
    genesis = createGenesis({
      chainName: 'posd-dev',
      genesisTime: Date.now(),
      params: { minFee: 1n },
      validators: [
        {
          pubkey: key.publicKey,
          name: 'v0',
          p2p: `${config.p2pHost === '0.0.0.0' ? '127.0.0.1' : config.p2pHost}:${config.p2pPort}`,
        },
      ],
      outputs: [{ amount: 1_000_000_000n, owner: key.publicKey, host: key.validatorId }],
    });
  }
  await writeFile(join(dir, GENESIS_FILE), `${JSON.stringify(genesisToJSON(genesis), null, 2)}\n`);
  // config.json: the config flags given, but the data dir itself (the file lives in it).
  const keyOfFlag = new Map(Object.entries(CONFIG_FLAGS).map(([k, f]) => [f, k]));
  const resolvedFlags = resolveConfig({ flags }) as unknown as Record<string, unknown>;
  const file: Record<string, unknown> = {};
  for (const f of Object.keys(flags)) {
    const k = keyOfFlag.get(f);
    if (k !== undefined && k !== 'dataDir') file[k] = resolvedFlags[k];
  }
  await writeFile(configPath, `${JSON.stringify(file, null, 2)}\n`);
  const member = genesis.validators.some((x) => toHex(x.pubkey) === toHex(key.publicKey));
  process.stdout.write(
    [
      `dataDir     ${dir}`,
      `publicKey   ${toHex(key.publicKey)}`,
      `validatorId ${toHex(key.validatorId)}`,
      `chainId     ${toHex(chainIdOf(genesis))}`,
      `validator   ${member ? 'yes' : 'no (this key is not in the genesis: the node will sync read-only)'}`,
      `start with  posd start --data-dir ${dir}`,
      '',
    ].join('\n'),
  );
}

// --- start ------------------------------------------------------------------------

async function loadNodeSetup(values: Record<string, unknown>) {
  const flags = configFlags(values);
  // The data dir decides where config.json is, so resolve it first without the file.
  const early = resolveConfig({ env: process.env, flags });
  const configPath =
    typeof values.config === 'string' ? values.config : join(early.dataDir, CONFIG_FILE);
  const file =
    (await exists(configPath)) || typeof values.config === 'string'
      ? await readJson(configPath, 'config')
      : undefined;
  const config = resolveConfig({ file, env: process.env, flags });
  config.dataDir = resolve(config.dataDir);
  const genesis = genesisFromJSON(await readJson(join(config.dataDir, GENESIS_FILE), 'genesis'));
  const key = await readKeyFile(join(config.dataDir, KEY_FILE));
  return { config, genesis, key };
}

async function start(args: string[]): Promise<void> {
  const values = parse<Record<string, unknown>>(
    args,
    { ...configFlagOptions, config: { type: 'string' } },
    'start',
  );
  // A crash test must not believe it armed a failpoint that does not exist.
  try {
    checkFailpointEnv(process.env.POS_FAILPOINT);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { config, genesis, key } = await loadNodeSetup(values);
  const { startNode } = await import('./node.js');
  let signals = 0;
  let node: Awaited<ReturnType<typeof startNode>> | null = null;
  let stopping = false;
  const shutdown = () => {
    if (node === null || stopping) return;
    stopping = true;
    node.close().then(
      () => process.exit(process.exitCode ?? 0),
      (e) => fail(1, `shutdown failed: ${(e as Error).message}`),
    );
  };
  // Installed before the node starts, so a signal during startup (a long
  // replay) still shuts down cleanly once the node is up.
  const stop = (sig: string) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`posd: second ${sig}: exiting now\n`);
      process.exit(130);
    }
    process.stderr.write(`posd: ${sig}: shutting down (again to force)\n`);
    shutdown();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  await checkDbFiles(config.dataDir);
  try {
    node = await startNode({ config, genesis, key });
  } catch (e) {
    throw storageError(config.dataDir, e) ?? e;
  }
  if (signals > 0) shutdown();
}

/** A data dir the node refuses to start on (exit 1, one line). */
class DataDirError extends Error {}

/**
 * LevelDB takes a `db/` without a CURRENT file for a new database and, with
 * `createIfMissing`, writes an empty one over the old tables: the node would
 * start from genesis having forgotten its own events (and sign them again).
 * Files there without CURRENT are a damaged database, not a new one.
 */
async function checkDbFiles(dataDir: string): Promise<void> {
  const db = join(dataDir, 'db');
  let names: string[];
  try {
    names = await readdir(db);
  } catch {
    return; // no db/ yet: a new node
  }
  const leveldb = names.filter((n) => /^(MANIFEST-|[0-9]+\.(ldb|log|sst)$)/.test(n));
  if (leveldb.length > 0 && !names.includes('CURRENT')) {
    throw new DataDirError(
      `${db} is damaged: it has no CURRENT file but holds ${leveldb.join(', ')} (refusing to start: LevelDB would replace it with an empty database)`,
    );
  }
}

/** One line for an error of the stores, with its causes; undefined for any other error. */
function storageError(dataDir: string, e: unknown): DataDirError | undefined {
  const parts: string[] = [];
  let damaged = false;
  let locked = false;
  let mismatch = false;
  for (let c: unknown = e, i = 0; c instanceof Error && i < 5; c = c.cause, i++) {
    const code = String((c as { code?: unknown }).code ?? '');
    if (
      ['ChainError', 'LedgerError', 'EventStoreError', 'MerkleError'].includes(c.name) ||
      code.startsWith('LEVEL_')
    ) {
      damaged = true;
    }
    if (code === 'LEVEL_LOCKED') locked = true;
    if (code === 'CHAIN_MISMATCH') mismatch = true;
    parts.push(`${code === '' ? '' : `${code}: `}${c.message}`.replace(/\s*\n\s*/g, ' '));
  }
  if (!damaged) return undefined;
  const db = join(dataDir, 'db');
  const what = locked
    ? `${db} is locked (another posd on this data dir?)`
    : mismatch
      ? `${db} holds another chain than ${join(dataDir, GENESIS_FILE)}`
      : `${db} is damaged (refusing to start)`;
  return new DataDirError(`${what}: ${parts.join(': ')}`);
}

// --- status -----------------------------------------------------------------------

async function status(args: string[]): Promise<void> {
  const values = parse<{ rpc?: string; json?: boolean }>(
    args,
    { rpc: { type: 'string' }, json: { type: 'boolean', default: false } },
    'status',
  );
  const transport = createHttpTransport({
    url: values.rpc ?? `http://127.0.0.1:${defaultNodeConfig.rpcPort}`,
    timeoutMs: 5000,
  });
  const url = transport.url;
  let result: NodeStatus;
  try {
    result = await createApiClient(transport).status();
  } catch (e) {
    // No answer (or an unreadable one) is "cannot reach"; the node's refusal is "failed".
    if (isCoded(e, ApiError, ['UNREACHABLE', 'TIMEOUT'])) {
      fail(1, `cannot reach ${url}: ${(e as Error).message}`);
    }
    fail(1, `pos_status failed: ${(e as Error).message}`);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  for (const [k, v] of Object.entries(result)) {
    process.stdout.write(
      `${k.padEnd(20)}${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}\n`,
    );
  }
}

// --- main -------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'init':
      return init(rest);
    case 'start':
      return start(rest);
    case 'keygen':
      return keygen(rest);
    case 'genesis':
      return genesisCmd(rest);
    case 'status':
      return status(rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    case undefined:
      throw new UsageError(`no command\n${USAGE}`);
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError || e instanceof ConfigError || e instanceof ProtocolError) {
    fail(2, e.message);
  }
  if (e instanceof KeyFileError) fail(e.code === 'EXISTS' ? 2 : 1, e.message);
  if (e instanceof DataDirError) fail(1, e.message);
  fail(1, (e as Error).stack ?? String(e));
});
