/**
 * Configuration of posd: from flags, the environment and a file, with a
 * documented precedence (docs/PROTOCOL.md 10.4, "Configuration").
 *
 * Each key is taken from the first source that sets it: flags, then
 * environment, then file, then {@link defaultNodeConfig}. A list (`peers`) is
 * replaced, never merged, so a higher source can also clear it. Everything is
 * validated strictly and a bad value is an error naming its source and key:
 * a typo that silently fell back to a default could, for example, expose the
 * RPC port or start a validator on an empty data dir.
 *
 * Pure: reading the file and the process environment is the caller's job.
 */
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Log levels, most to least severe (pino's names). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The resolved configuration of one node. */
export interface NodeConfig {
  /** Directory holding keys and the classic-level database (docs/PROTOCOL.md 10.4, 9.3). */
  dataDir: string;
  /** Address the JSON-RPC/HTTP server binds to. */
  rpcHost: string;
  rpcPort: number;
  /** Address the peer-sync server binds to. */
  p2pHost: string;
  p2pPort: number;
  logLevel: LogLevel;
  /** Peers to sync with first, as `host:port` (`[v6addr]:port` for IPv6). */
  peers: string[];
  /**
   * The built explorer (`packages/explorer/dist/app`) to serve at `GET
   * /explorer/` on the RPC port (docs/PROTOCOL.md 10); null: not served.
   */
  explorerDir: string | null;
}

/**
 * Defaults. RPC binds to localhost (docs/PROTOCOL.md 10): exposing it is a decision
 * the operator makes with a flag. Peer sync listens on all interfaces,
 * because a validator that peers cannot reach does not take part, and every
 * request to it is authenticated and rate-limited anyway (docs/PROTOCOL.md 8).
 */
export const defaultNodeConfig: Readonly<Omit<NodeConfig, 'peers'> & { peers: readonly string[] }> =
  Object.freeze({
    dataDir: join(homedir(), '.posd'),
    rpcHost: '127.0.0.1',
    rpcPort: 8680,
    p2pHost: '0.0.0.0',
    p2pPort: 8681,
    logLevel: 'info',
    peers: Object.freeze([]),
    explorerDir: null,
  });

type Key = keyof NodeConfig;

/** Environment variable for each key. */
export const CONFIG_ENV: Readonly<Record<Key, string>> = Object.freeze({
  dataDir: 'POS_DATA_DIR',
  rpcHost: 'POS_RPC_HOST',
  rpcPort: 'POS_RPC_PORT',
  p2pHost: 'POS_P2P_HOST',
  p2pPort: 'POS_P2P_PORT',
  logLevel: 'POS_LOG_LEVEL',
  peers: 'POS_PEERS',
  explorerDir: 'POS_EXPLORER_DIR',
});

/** Command-line flag (without `--`) for each key. */
export const CONFIG_FLAGS: Readonly<Record<Key, string>> = Object.freeze({
  dataDir: 'data-dir',
  rpcHost: 'rpc-host',
  rpcPort: 'rpc-port',
  p2pHost: 'p2p-host',
  p2pPort: 'p2p-port',
  logLevel: 'log-level',
  peers: 'peers',
  explorerDir: 'explorer-dir',
});

/** `options` for `node:util` `parseArgs`, whose `values` can go straight to `flags`. */
export const configFlagOptions = {
  'data-dir': { type: 'string' },
  'rpc-host': { type: 'string' },
  'rpc-port': { type: 'string' },
  'p2p-host': { type: 'string' },
  'p2p-port': { type: 'string' },
  'log-level': { type: 'string' },
  peers: { type: 'string' },
  'explorer-dir': { type: 'string' },
} as const;

/** Where a bad value came from; `resolved` is a conflict between keys after merging. */
export type ConfigSource = 'file' | 'env' | 'flags' | 'resolved';

/** Thrown by {@link resolveConfig}; `key` is the file key, variable or flag at fault. */
export class ConfigError extends Error {
  readonly code = 'BAD_CONFIG' as const;
  readonly source: ConfigSource;
  readonly key: string;
  constructor(source: ConfigSource, key: string, problem: string) {
    super(`${source} ${source === 'flags' ? `--${key}` : key}: ${problem}`);
    this.name = 'ConfigError';
    this.source = source;
    this.key = key;
  }
}

/** Inputs of {@link resolveConfig}; each may be absent. */
export interface ConfigSources {
  /** The parsed JSON config file: an object with only {@link NodeConfig} keys. */
  file?: unknown;
  /** Environment, usually `process.env`; only the {@link CONFIG_ENV} variables are read. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Flag values keyed by {@link CONFIG_FLAGS} names; `undefined` means not given. */
  flags?: Readonly<Record<string, unknown>>;
}

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);
const PORT_TEXT = /^[1-9][0-9]{0,4}$/;

function isHost(s: string): boolean {
  // An all-numeric name that is not an IPv4 address ("1.2.3.999") is a typo.
  return isIP(s) !== 0 || (HOSTNAME.test(s) && !/^[0-9.]+$/.test(s));
}

function isPort(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
}

function isPeer(s: string): boolean {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):([^:]+)$/.exec(s);
  if (m === null || !PORT_TEXT.test(m[3]!) || !isPort(Number(m[3]))) return false;
  return m[1] !== undefined ? isIP(m[1]) === 6 : isHost(m[2]!);
}

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v)).slice(0, 60);

/**
 * Validates one value. `text` is true for environment values and string
 * flags, which are command-line text: ports are decimal digits and `peers`
 * is comma-separated. Otherwise (file values, non-string flags) ports are
 * JSON integers and `peers` is an array of strings.
 */
function parseValue(key: Key, v: unknown, text: boolean, fail: (why: string) => never): unknown {
  const s = text && typeof v === 'string' ? v : undefined;
  if (key === 'rpcPort' || key === 'p2pPort') {
    const n = s === undefined ? v : PORT_TEXT.test(s) ? Number(s) : Number.NaN;
    if (!isPort(n)) fail(`expected a port, an integer 1..65535, got ${show(v)}`);
    return n;
  }
  if (key === 'peers') {
    const list = s === undefined ? v : s === '' ? [] : s.split(',');
    if (!Array.isArray(list)) fail(`expected ${text ? 'a comma-separated list' : 'an array'}`);
    for (const p of list) {
      if (typeof p !== 'string' || !isPeer(p)) fail(`expected host:port peers, got ${show(p)}`);
    }
    if (new Set(list).size !== list.length) fail('lists a peer twice');
    return [...list];
  }
  if (typeof v !== 'string') fail(`expected a string, got ${show(v)}`);
  if (key === 'logLevel' && !(LOG_LEVELS as readonly string[]).includes(v)) {
    fail(`expected one of ${LOG_LEVELS.join(', ')}, got ${show(v)}`);
  }
  if ((key === 'rpcHost' || key === 'p2pHost') && !isHost(v)) {
    fail(`expected a hostname or IP address, got ${show(v)}`);
  }
  if ((key === 'dataDir' || key === 'explorerDir') && (v === '' || v.includes('\0'))) {
    fail('expected a non-empty path');
  }
  return v;
}

const KEYS = Object.keys(CONFIG_ENV) as Key[];

/**
 * Resolves the configuration: per key, flags > env > file > defaults.
 * Throws {@link ConfigError} (code `BAD_CONFIG`) for a file that is not an
 * object or has an unknown key, an unknown flag, any invalid value (even one
 * a higher source overrides, so a broken file never goes unnoticed), or equal
 * RPC and p2p ports.
 */
export function resolveConfig(sources: ConfigSources = {}): NodeConfig {
  const out: Record<string, unknown> = {
    ...defaultNodeConfig,
    peers: [...defaultNodeConfig.peers],
  };
  const { file, env = {}, flags = {} } = sources;
  if (file !== undefined) {
    if (typeof file !== 'object' || file === null || Array.isArray(file)) {
      throw new ConfigError('file', '(root)', 'expected a JSON object');
    }
    for (const [k, v] of Object.entries(file)) {
      if (!(KEYS as string[]).includes(k)) throw new ConfigError('file', k, 'unknown key');
      if (v === undefined) continue;
      out[k] = parseValue(k as Key, v, false, (why) => {
        throw new ConfigError('file', k, why);
      });
    }
  }
  for (const key of KEYS) {
    const v = env[CONFIG_ENV[key]];
    if (v === undefined) continue;
    out[key] = parseValue(key, v, true, (why) => {
      throw new ConfigError('env', CONFIG_ENV[key], why);
    });
  }
  const flagKeys = new Map(KEYS.map((k) => [CONFIG_FLAGS[k], k]));
  for (const [flag, v] of Object.entries(flags)) {
    const key = flagKeys.get(flag);
    if (key === undefined) throw new ConfigError('flags', flag, 'unknown flag');
    if (v === undefined) continue;
    out[key] = parseValue(key, v, typeof v === 'string', (why) => {
      throw new ConfigError('flags', flag, why);
    });
  }
  const config = out as unknown as NodeConfig;
  if (config.rpcPort === config.p2pPort) {
    throw new ConfigError('resolved', 'p2pPort', `equals rpcPort (${config.rpcPort})`);
  }
  return config;
}
