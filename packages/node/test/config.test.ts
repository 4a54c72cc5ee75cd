import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ConfigError,
  type ConfigSource,
  type ConfigSources,
  configFlagOptions,
  defaultNodeConfig,
  type NodeConfig,
  resolveConfig,
} from '../src/index.js';

const defaults: NodeConfig = { ...defaultNodeConfig, peers: [...defaultNodeConfig.peers] };

// --- precedence: flags > env > file > defaults, per key ------------------------

for (const [name, sources, changes] of [
  ['no source: the defaults', {}, {}],
  [
    'file over defaults',
    { file: { rpcPort: 9000, logLevel: 'debug' } },
    { rpcPort: 9000, logLevel: 'debug' },
  ],
  ['env over file', { file: { rpcPort: 9000 }, env: { POS_RPC_PORT: '9001' } }, { rpcPort: 9001 }],
  [
    'flags over env over file',
    { file: { rpcPort: 9000 }, env: { POS_RPC_PORT: '9001' }, flags: { 'rpc-port': '9002' } },
    { rpcPort: 9002 },
  ],
  [
    'each key from its own highest source',
    {
      file: { dataDir: '/var/lib/posd', logLevel: 'warn', rpcHost: '10.0.0.1' },
      env: { POS_LOG_LEVEL: 'trace', POS_P2P_HOST: 'node-1.example.org' },
      flags: { 'rpc-host': '::1' },
    },
    { dataDir: '/var/lib/posd', logLevel: 'trace', p2pHost: 'node-1.example.org', rpcHost: '::1' },
  ],
  [
    'peers are replaced, not merged',
    { file: { peers: ['a.example:1'] }, env: { POS_PEERS: '10.0.0.2:8681,[::1]:8681' } },
    { peers: ['10.0.0.2:8681', '[::1]:8681'] },
  ],
  [
    'an empty POS_PEERS clears the file’s peers',
    { file: { peers: ['a.example:1'] }, env: { POS_PEERS: '' } },
    { peers: [] },
  ],
  [
    'flags may carry typed values: a number port, an array of peers',
    { flags: { 'p2p-port': 7000, peers: ['b.example:2'] } },
    { p2pPort: 7000, peers: ['b.example:2'] },
  ],
  [
    'undefined values and unrelated variables are ignored',
    {
      file: { rpcPort: undefined },
      env: { POS_RPC_PORT: undefined, PATH: '/bin', POS_UNRELATED: 'x' },
      flags: { 'rpc-port': undefined },
    },
    {},
  ],
  ['the largest port', { env: { POS_RPC_PORT: '65535' } }, { rpcPort: 65535 }],
] as [string, ConfigSources, Partial<NodeConfig>][]) {
  test(`precedence: ${name}`, () => {
    assert.equal(resolveConfig(sources), { ...defaults, ...changes });
  });
}

test('RPC binds to localhost by default', () => {
  assert.is(resolveConfig().rpcHost, '127.0.0.1');
});

test('the result is a fresh object: changing it leaves the defaults alone', () => {
  const c = resolveConfig();
  c.peers.push('x.example:1');
  c.rpcPort = 1;
  assert.equal(resolveConfig(), defaults);
  assert.ok(Object.isFrozen(defaultNodeConfig) && Object.isFrozen(defaultNodeConfig.peers));
});

test('parseArgs values with configFlagOptions go straight to flags', () => {
  const { values } = parseArgs({
    args: ['--rpc-port', '9100', '--peers', 'a.example:1,10.0.0.2:8681', '--log-level', 'warn'],
    options: configFlagOptions,
    strict: true,
  });
  const c = resolveConfig({ flags: values, env: { POS_RPC_PORT: '9000' } });
  assert.is(c.rpcPort, 9100);
  assert.equal(c.peers, ['a.example:1', '10.0.0.2:8681']);
  assert.is(c.logLevel, 'warn');
});

// --- invalid input: every one names its source and key -----------------------

for (const [name, sources, source, key] of [
  ['file that is an array', { file: [] }, 'file', '(root)'],
  ['file that is null', { file: null }, 'file', '(root)'],
  ['file that is a string', { file: '{}' }, 'file', '(root)'],
  ['unknown file key', { file: { rpcport: 1 } }, 'file', 'rpcport'],
  ['__proto__ file key', { file: JSON.parse('{"__proto__": {}}') }, 'file', '__proto__'],
  ['file port as a string', { file: { rpcPort: '8080' } }, 'file', 'rpcPort'],
  ['file port 0', { file: { rpcPort: 0 } }, 'file', 'rpcPort'],
  ['file port 65536', { file: { p2pPort: 65536 } }, 'file', 'p2pPort'],
  ['file port 80.5', { file: { rpcPort: 80.5 } }, 'file', 'rpcPort'],
  ['file port null', { file: { rpcPort: null } }, 'file', 'rpcPort'],
  ['file peers as a string', { file: { peers: 'a.example:1' } }, 'file', 'peers'],
  ['peer without a port', { file: { peers: ['a.example'] } }, 'file', 'peers'],
  ['peer with port 0', { file: { peers: ['a.example:0'] } }, 'file', 'peers'],
  ['peer with a leading-zero port', { file: { peers: ['a.example:080'] } }, 'file', 'peers'],
  ['peer with port 65536', { file: { peers: ['a.example:65536'] } }, 'file', 'peers'],
  ['unbracketed IPv6 peer', { file: { peers: ['::1:80'] } }, 'file', 'peers'],
  ['bracketed IPv4 peer', { file: { peers: ['[10.0.0.1]:80'] } }, 'file', 'peers'],
  ['peer that is a URL', { file: { peers: ['http://a.example:1'] } }, 'file', 'peers'],
  ['peer that is a number', { file: { peers: [8681] } }, 'file', 'peers'],
  ['duplicate peer', { file: { peers: ['a.example:1', 'a.example:1'] } }, 'file', 'peers'],
  ['upper-case log level', { file: { logLevel: 'INFO' } }, 'file', 'logLevel'],
  ['unknown log level', { file: { logLevel: 'verbose' } }, 'file', 'logLevel'],
  ['empty host', { file: { rpcHost: '' } }, 'file', 'rpcHost'],
  ['host with a space', { file: { rpcHost: 'my host' } }, 'file', 'rpcHost'],
  ['bad IPv4 address', { file: { p2pHost: '1.2.3.999' } }, 'file', 'p2pHost'],
  ['host label starting with -', { file: { rpcHost: '-a.example' } }, 'file', 'rpcHost'],
  ['host with an empty label', { file: { rpcHost: 'a..example' } }, 'file', 'rpcHost'],
  ['empty data dir', { file: { dataDir: '' } }, 'file', 'dataDir'],
  ['data dir as a number', { file: { dataDir: 5 } }, 'file', 'dataDir'],
  ['env port that is not a number', { env: { POS_RPC_PORT: 'abc' } }, 'env', 'POS_RPC_PORT'],
  ['empty env port', { env: { POS_RPC_PORT: '' } }, 'env', 'POS_RPC_PORT'],
  ['env port 0', { env: { POS_P2P_PORT: '0' } }, 'env', 'POS_P2P_PORT'],
  ['env port 65536', { env: { POS_P2P_PORT: '65536' } }, 'env', 'POS_P2P_PORT'],
  ['env port with a leading zero', { env: { POS_RPC_PORT: '08080' } }, 'env', 'POS_RPC_PORT'],
  ['env port with spaces', { env: { POS_RPC_PORT: ' 8080' } }, 'env', 'POS_RPC_PORT'],
  ['env port with a sign', { env: { POS_RPC_PORT: '+8080' } }, 'env', 'POS_RPC_PORT'],
  ['env port with an exponent', { env: { POS_RPC_PORT: '8e3' } }, 'env', 'POS_RPC_PORT'],
  ['env peers with a trailing comma', { env: { POS_PEERS: 'a.example:1,' } }, 'env', 'POS_PEERS'],
  [
    'env peers with a space',
    { env: { POS_PEERS: 'a.example:1, b.example:2' } },
    'env',
    'POS_PEERS',
  ],
  ['empty env log level', { env: { POS_LOG_LEVEL: '' } }, 'env', 'POS_LOG_LEVEL'],
  ['empty env data dir', { env: { POS_DATA_DIR: '' } }, 'env', 'POS_DATA_DIR'],
  ['bad env host', { env: { POS_RPC_HOST: 'local_host' } }, 'env', 'POS_RPC_HOST'],
  ['camelCase flag', { flags: { rpcPort: '9000' } }, 'flags', 'rpcPort'],
  ['unknown flag', { flags: { verbose: true } }, 'flags', 'verbose'],
  ['boolean flag value', { flags: { 'rpc-port': true } }, 'flags', 'rpc-port'],
  ['flag port that is not a number', { flags: { 'rpc-port': 'x' } }, 'flags', 'rpc-port'],
  ['non-string log level flag', { flags: { 'log-level': 3 } }, 'flags', 'log-level'],
  [
    'an invalid file value even when flags override it',
    { file: { rpcPort: 'x' }, flags: { 'rpc-port': '9000' } },
    'file',
    'rpcPort',
  ],
  ['rpc and p2p on one port', { env: { POS_P2P_PORT: '8680' } }, 'resolved', 'p2pPort'],
] as [string, ConfigSources, ConfigSource, string][]) {
  test(`rejects ${name}`, () => {
    try {
      resolveConfig(sources);
    } catch (e) {
      assert.instance(e, ConfigError);
      const err = e as ConfigError;
      assert.is(err.code, 'BAD_CONFIG');
      assert.is(err.source, source);
      assert.is(err.key, key);
      assert.ok(err.message.startsWith(`${source} `), err.message);
      assert.ok(err.message.includes(key), err.message);
      return;
    }
    assert.unreachable('expected a ConfigError');
  });
}

// --- properties ------------------------------------------------------------

const port = fc.integer({ min: 1, max: 8000 }); // below the default p2p port: no clash

test('property: each key comes from the highest source that sets it', () => {
  fc.assert(
    fc.property(fc.option(port), fc.option(port), fc.option(port), (inFile, inEnv, inFlags) => {
      const c = resolveConfig({
        file: inFile === null ? {} : { rpcPort: inFile },
        env: inEnv === null ? {} : { POS_RPC_PORT: String(inEnv) },
        flags: inFlags === null ? {} : { 'rpc-port': String(inFlags) },
      });
      assert.is(c.rpcPort, inFlags ?? inEnv ?? inFile ?? defaultNodeConfig.rpcPort);
    }),
  );
});

test('property: an env port is accepted exactly when it is canonical and in range', () => {
  const digits = fc.string({ unit: fc.constantFrom(...'0123456789+- .e'.split('')), maxLength: 7 });
  fc.assert(
    fc.property(fc.oneof(digits, port.map(String)), (text) => {
      const n = Number(text);
      const canonical = String(n) === text && Number.isInteger(n) && n >= 1 && n <= 65535;
      let got: number | undefined;
      try {
        got = resolveConfig({ env: { POS_RPC_PORT: text }, flags: { 'p2p-port': 1 } }).rpcPort;
      } catch (e) {
        assert.is((e as ConfigError).key, n === 1 && canonical ? 'p2pPort' : 'POS_RPC_PORT');
      }
      if (got !== undefined) assert.is(got, n);
      assert.is(got !== undefined, canonical && n !== 1);
    }),
  );
});

test.run();
