// posd as real processes: keygen (the key file: mode 0600, consistent, never
// replaced by accident), genesis and init (files on disk, refusals with exit 2),
// start (real HTTP on loopback, blocks, signals, restart from disk, config
// precedence) and status.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chainIdOf, genesisFromJSON, genesisStakes } from '@pos/protocol';
import { freePorts } from '@pos/test-utils/ports';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateValidatorKey, readKeyFile, writeKeyFile } from '../src/keyfile.js';

const root = join(import.meta.dirname, '../../..');
const tsx = join(root, 'node_modules/.bin/tsx');
const cli = join(root, 'packages/node/src/cli.ts');
// uvu sets FORCE_COLOR; a child with it and NO_COLOR prints a warning first.
// The POS_* variables of the test's own environment must not leak into the node.
const env = { ...process.env };
delete env.FORCE_COLOR;
for (const k of Object.keys(env)) if (k.startsWith('POS_')) delete env[k];
const posd = (...args: string[]) => spawnSync(tsx, [cli, ...args], { encoding: 'utf8', env });

const dir = mkdtempSync(join(tmpdir(), 'posd-cli-'));

test('keygen --out writes a 0600 key file whose ids follow from the secret', async () => {
  const file = join(dir, 'key.json');
  const r = posd('keygen', '--out', file, '--json');
  assert.is(r.status, 0, r.stderr);
  const shown = JSON.parse(r.stdout) as Record<string, string>;
  assert.not.ok('secretKey' in shown, 'the secret is not printed when written to a file');
  assert.is((statSync(file).mode & 0o777).toString(8), '600');
  const key = await readKeyFile(file);
  assert.is(shown.publicKey, `0x${Buffer.from(key.publicKey).toString('hex')}`);
  assert.is(shown.validatorId, `0x${Buffer.from(key.validatorId).toString('hex')}`);
});

test('keygen refuses to replace a key file without --force, replaces it with', () => {
  const file = join(dir, 'key2.json');
  assert.is(posd('keygen', '--out', file).status, 0);
  const before = readFileSync(file, 'utf8');
  const again = posd('keygen', '--out', file);
  assert.is(again.status, 2);
  assert.match(again.stderr, /exists; pass --force/);
  assert.is(readFileSync(file, 'utf8'), before, 'the old key is untouched');
  assert.is(posd('keygen', '--out', file, '--force').status, 0);
  assert.is.not(readFileSync(file, 'utf8'), before);
});

test('a hand-edited key file is refused on reading', async () => {
  const file = join(dir, 'key3.json');
  assert.is(posd('keygen', '--out', file).status, 0);
  const j = JSON.parse(readFileSync(file, 'utf8'));
  j.publicKey = `0x${'00'.repeat(32)}`;
  writeFileSync(file, JSON.stringify(j));
  try {
    await readKeyFile(file);
    assert.unreachable();
  } catch (e) {
    assert.is((e as { code: string }).code, 'BAD_KEY_FILE');
  }
});

test('keygen without --out prints a fresh key each time', () => {
  const a = JSON.parse(posd('keygen', '--json').stdout);
  const b = JSON.parse(posd('keygen', '--json').stdout);
  assert.match(a.secretKey, /^0x[0-9a-f]{64}$/);
  assert.is.not(a.publicKey, b.publicKey);
});

test('usage errors: no command, unknown command, unknown flag → exit 2 with a message', () => {
  for (const args of [[], ['frobnicate'], ['keygen', '--bogus']]) {
    const r = posd(...args);
    assert.is(r.status, 2, args.join(' '));
    assert.match(r.stderr, /^posd: /, JSON.stringify(r.stderr.slice(0, 300)));
  }
  const help = posd('help');
  assert.is(help.status, 0);
  assert.match(help.stdout, /usage: posd/);
});

// --- helpers for the commands below -------------------------------------------------

/** The built binary: `start` and `status` run from it (tsx startup is slow). */
const bin = join(root, 'packages/node/dist/cli.js');
const posdBin = (args: string[], extra: Record<string, string> = {}) =>
  spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...env, ...extra },
    timeout: 30_000,
  });

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** HTTP status of a GET, or null when nothing answers. */
async function httpStatus(url: string): Promise<number | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return null;
  }
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  done: boolean;
}
const children = new Set<Running>();

function startPosd(args: string[], extra: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [bin, 'start', ...args], {
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const r: Running = {
    child,
    output: () => out,
    done: false,
    exited: new Promise((res) => {
      child.once('exit', (code, signal) => {
        r.done = true;
        children.delete(r);
        res({ code, signal });
      });
    }),
  };
  children.add(r);
  return r;
}

/** Polls `cond` until true; fails if `timeoutMs` passes or the node exits first. */
async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  node?: Running,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await cond()) return;
    if (node?.done) assert.unreachable(`${what}: the node exited\n${node.output().slice(-3000)}`);
    await sleep(100);
  }
  assert.unreachable(`${what}: not within ${timeoutMs} ms\n${node?.output().slice(-3000) ?? ''}`);
}

/** Waits for the exit (generous limit, then SIGKILL and fail). */
async function exitOf(node: Running, timeoutMs = 20_000) {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    node.exited,
    new Promise<null>((res) => {
      timer = setTimeout(() => res(null), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  if (r === null) {
    node.child.kill('SIGKILL');
    assert.unreachable(
      `the node did not exit within ${timeoutMs} ms\n${node.output().slice(-3000)}`,
    );
  }
  return r as { code: number | null; signal: NodeJS.Signals | null };
}

/** `posd status --json` of a node, parsed (asserts exit 0). */
function statusOf(rpcUrl: string): { chainId: string; height: number | null } {
  const r = posdBin(['status', '--rpc', rpcUrl, '--json']);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** A fresh dev-chain data dir from `posd init` (the built binary), loopback only. */
function initDev(name: string, rpcPort: number, p2pPort: number): string {
  const d = join(dir, name);
  const r = posdBin([
    'init',
    '--data-dir',
    d,
    '--rpc-port',
    String(rpcPort),
    '--p2p-port',
    String(p2pPort),
    '--p2p-host',
    '127.0.0.1',
    '--log-level',
    'warn',
  ]);
  assert.is(r.status, 0, r.stderr);
  return d;
}

// --- genesis ------------------------------------------------------------------------

const keyA = generateValidatorKey();
const keyB = generateValidatorKey();
const owner = generateValidatorKey();
const keyAFile = join(dir, 'genesis-a.key');

test('genesis writes a genesis that genesisFromJSON accepts, with the given stakes', async () => {
  await writeKeyFile(keyAFile, keyA);
  const cases: {
    name: string;
    args: string[];
    stakes: [Uint8Array, bigint][];
    minFee: bigint;
    genesisTime?: number;
  }[] = [
    {
      name: 'one validator from a key file',
      args: ['--chain-name', 'solo', '--validator', `${keyAFile},a,127.0.0.1:9001,1000`],
      stakes: [[keyA.publicKey, 1000n]],
      minFee: 1n,
    },
    {
      name: 'a key file and a 0x key, funds on both hosts, params',
      args: [
        '--chain-name',
        'duo',
        '--validator',
        `${keyAFile},a,127.0.0.1:9001,100`,
        '--validator',
        `${hex(keyB.publicKey)},b,127.0.0.1:9002,20`,
        '--fund',
        `${hex(owner.publicKey)},7`,
        '--fund',
        `${hex(owner.publicKey)},50,1`,
        '--min-fee',
        '3',
        '--genesis-time',
        '1234',
      ],
      stakes: [
        [keyA.publicKey, 107n],
        [keyB.publicKey, 70n],
      ],
      minFee: 3n,
      genesisTime: 1234,
    },
  ];
  for (const [i, c] of cases.entries()) {
    const out = join(dir, `genesis-ok-${i}.json`);
    const r = posd('genesis', '--out', out, ...c.args);
    assert.is(r.status, 0, `${c.name}: ${r.stderr}`);
    const g = genesisFromJSON(JSON.parse(readFileSync(out, 'utf8')));
    assert.match(r.stdout, `chainId     ${hex(chainIdOf(g))}`, c.name);
    const stakes = new Map(genesisStakes(g).map((s) => [hex(s.pubkey), s.stake]));
    assert.equal(
      stakes,
      new Map(c.stakes.map(([k, v]) => [hex(k), v])),
      `${c.name}: stakes by validator`,
    );
    assert.is(g.params.minFee, c.minFee, c.name);
    if (c.genesisTime !== undefined) assert.is(g.genesisTime, c.genesisTime, c.name);
  }
});

test('genesis refuses bad input with exit 2 and a clear message, writing nothing', () => {
  const v = `${hex(keyA.publicKey)},a,127.0.0.1:9001,100`;
  const existing = join(dir, 'genesis-existing.json');
  writeFileSync(existing, 'keep me\n');
  const fresh = join(dir, 'genesis-never.json');
  const cases: { name: string; args: string[]; stderr: RegExp }[] = [
    {
      name: 'missing --out',
      args: ['--chain-name', 'c', '--validator', v],
      stderr: /--out FILE is required/,
    },
    {
      name: 'missing --chain-name',
      args: ['--out', fresh, '--validator', v],
      stderr: /--chain-name is required/,
    },
    {
      name: 'no --validator',
      args: ['--out', fresh, '--chain-name', 'c'],
      stderr: /at least one --validator/,
    },
    {
      name: 'malformed --validator spec',
      args: ['--out', fresh, '--chain-name', 'c', '--validator', `${hex(keyA.publicKey)},a,100`],
      stderr: /KEY,NAME,P2P,STAKE/,
    },
    {
      name: 'bad public key in --validator',
      args: ['--out', fresh, '--chain-name', 'c', '--validator', '0x1234,a,127.0.0.1:9001,1'],
      stderr: /32 bytes of hex/,
    },
    {
      name: 'bad stake amount',
      args: [
        '--out',
        fresh,
        '--chain-name',
        'c',
        '--validator',
        `${hex(keyA.publicKey)},a,127.0.0.1:9001,12x`,
      ],
      stderr: /amounts are decimal integers/,
    },
    {
      name: 'bad --fund amount',
      args: [
        '--out',
        fresh,
        '--chain-name',
        'c',
        '--validator',
        v,
        '--fund',
        `${hex(owner.publicKey)},-5`,
      ],
      stderr: /amounts are decimal integers/,
    },
    {
      name: '--fund HOST index out of range',
      args: [
        '--out',
        fresh,
        '--chain-name',
        'c',
        '--validator',
        v,
        '--fund',
        `${hex(owner.publicKey)},5,1`,
      ],
      stderr: /HOST is a --validator index 0\.\.0/,
    },
    {
      name: 'existing --out without --force',
      args: ['--out', existing, '--chain-name', 'c', '--validator', v],
      stderr: /exists; pass --force/,
    },
  ];
  for (const c of cases) {
    const r = posd('genesis', ...c.args);
    assert.is(r.status, 2, `${c.name}: ${r.stderr}`);
    assert.match(r.stderr, /^posd: /, c.name);
    assert.match(r.stderr, c.stderr, `${c.name}: ${r.stderr}`);
    assert.not.ok(existsSync(fresh), `${c.name}: nothing written`);
  }
  assert.is(readFileSync(existing, 'utf8'), 'keep me\n', 'the existing file is untouched');
  const forced = posd(
    'genesis',
    '--out',
    existing,
    '--chain-name',
    'c',
    '--validator',
    v,
    '--force',
  );
  assert.is(forced.status, 0, forced.stderr);
  genesisFromJSON(JSON.parse(readFileSync(existing, 'utf8')));
});

// --- init ---------------------------------------------------------------------------

const readDir = (d: string) =>
  Object.fromEntries(
    ['validator.key', 'genesis.json', 'config.json'].map((f) => [
      f,
      readFileSync(join(d, f), 'utf8'),
    ]),
  );

test('init without --genesis: a one-validator dev chain of a new 0600 key, config from flags', async () => {
  const d = join(dir, 'init-dev');
  const r = posd(
    'init',
    '--data-dir',
    d,
    '--rpc-port',
    '18123',
    '--p2p-port',
    '18124',
    '--log-level',
    'warn',
  );
  assert.is(r.status, 0, r.stderr);
  assert.is((statSync(join(d, 'validator.key')).mode & 0o777).toString(8), '600');
  const key = await readKeyFile(join(d, 'validator.key'));
  const g = genesisFromJSON(JSON.parse(readFileSync(join(d, 'genesis.json'), 'utf8')));
  assert.equal(
    g.validators.map((x) => hex(x.pubkey)),
    [hex(key.publicKey)],
  );
  const [stake] = genesisStakes(g);
  assert.ok(stake !== undefined && stake.stake > 0n, 'the validator has stake');
  const config = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
  assert.is(config.rpcPort, 18123);
  assert.is(config.p2pPort, 18124);
  assert.is(config.logLevel, 'warn');
  assert.not.ok('dataDir' in config, 'the data dir is not in its own config');
  assert.match(r.stdout, `chainId     ${hex(chainIdOf(g))}`);
  assert.match(r.stdout, /validator\s+yes/);

  // A second init refuses and touches nothing; --force rewrites but keeps the key.
  const before = readDir(d);
  const again = posd('init', '--data-dir', d, '--rpc-port', '18999');
  assert.is(again.status, 2, again.stderr);
  assert.match(again.stderr, /exists: this data dir is initialised \(--force rewrites it\)/);
  assert.equal(readDir(d), before, 'files untouched');
  const forced = posd('init', '--data-dir', d, '--rpc-port', '18999', '--force');
  assert.is(forced.status, 0, forced.stderr);
  const after = readDir(d);
  assert.is(after['validator.key'], before['validator.key'], 'the key is kept');
  assert.is(JSON.parse(after['config.json']!).rpcPort, 18999);
});

test('init keeps an existing validator.key; --genesis FILE joins that chain', async () => {
  const shared = join(dir, 'init-shared-genesis.json');
  const g0 = posd(
    'genesis',
    '--out',
    shared,
    '--chain-name',
    'joined',
    '--validator',
    `${hex(keyA.publicKey)},a,127.0.0.1:9001,100`,
    '--validator',
    `${hex(keyB.publicKey)},b,127.0.0.1:9002,100`,
  );
  assert.is(g0.status, 0, g0.stderr);
  const cases: { name: string; key?: typeof keyA; genesis?: string; member: RegExp }[] = [
    { name: 'existing key, dev chain', key: keyB, member: /validator\s+yes/ },
    { name: 'new key, joins', genesis: shared, member: /validator\s+no/ },
    {
      name: 'existing genesis member key, joins',
      key: keyA,
      genesis: shared,
      member: /validator\s+yes/,
    },
  ];
  for (const [i, c] of cases.entries()) {
    const d = join(dir, `init-keep-${i}`);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    if (c.key) await writeKeyFile(join(d, 'validator.key'), c.key);
    const keyText = c.key ? readFileSync(join(d, 'validator.key'), 'utf8') : undefined;
    const r = posd('init', '--data-dir', d, ...(c.genesis ? ['--genesis', c.genesis] : []));
    assert.is(r.status, 0, `${c.name}: ${r.stderr}`);
    assert.match(r.stdout, c.member, c.name);
    const key = await readKeyFile(join(d, 'validator.key'));
    if (c.key) {
      assert.is(readFileSync(join(d, 'validator.key'), 'utf8'), keyText, `${c.name}: key kept`);
      assert.is(hex(key.publicKey), hex(c.key.publicKey), c.name);
    }
    const written = JSON.parse(readFileSync(join(d, 'genesis.json'), 'utf8'));
    if (c.genesis) {
      assert.equal(written, JSON.parse(readFileSync(c.genesis, 'utf8')), `${c.name}: same genesis`);
    } else {
      const g = genesisFromJSON(written);
      assert.equal(
        g.validators.map((x) => hex(x.pubkey)),
        [hex(key.publicKey)],
        c.name,
      );
    }
  }
});

// --- start / status -------------------------------------------------------------------

test('start: ready, blocks advance, SIGTERM exits 0, a restart keeps the chain', async () => {
  const [rpc, p2p] = (await freePorts(2)) as [number, number];
  const d = initDev('run', rpc, p2p);
  const url = `http://127.0.0.1:${rpc}`;
  const chainId = hex(
    chainIdOf(genesisFromJSON(JSON.parse(readFileSync(join(d, 'genesis.json'), 'utf8')))),
  );

  const first = startPosd(['--data-dir', d]);
  await waitFor('GET /ready is 200', async () => (await httpStatus(`${url}/ready`)) === 200, first);
  let height = 0;
  await waitFor(
    'the height passes 0',
    () => {
      const s = statusOf(url);
      assert.is(s.chainId, chainId);
      height = s.height ?? 0;
      return height > 0;
    },
    first,
  );
  first.child.kill('SIGTERM');
  assert.equal(await exitOf(first), { code: 0, signal: null }, first.output().slice(-2000));
  assert.is(await httpStatus(`${url}/health`), null, 'nothing listens after the exit');

  const second = startPosd(['--data-dir', d]);
  await waitFor(
    'GET /ready is 200 after a restart',
    async () => (await httpStatus(`${url}/ready`)) === 200,
    second,
  );
  const s = statusOf(url);
  assert.is(s.chainId, chainId);
  assert.ok(s.height !== null && s.height >= height, `height ${s.height} >= ${height}`);
  second.child.kill('SIGTERM');
  assert.equal(await exitOf(second), { code: 0, signal: null }, second.output().slice(-2000));
});

test('start: config precedence flags > POS_* env > config.json (the port that answers)', async () => {
  const [a, b, c, p2p] = (await freePorts(4)) as [number, number, number, number];
  const d = initDev('precedence', a, p2p);
  const cases: { name: string; env: Record<string, string>; args: string[]; port: number }[] = [
    {
      name: 'flag over env and file',
      env: { POS_RPC_PORT: String(b) },
      args: ['--rpc-port', String(c)],
      port: c,
    },
    { name: 'env over file', env: { POS_RPC_PORT: String(b) }, args: [], port: b },
    { name: 'file', env: {}, args: [], port: a },
  ];
  for (const cs of cases) {
    const node = startPosd(['--data-dir', d, ...cs.args], cs.env);
    try {
      await waitFor(
        `${cs.name}: /health on ${cs.port}`,
        async () => (await httpStatus(`http://127.0.0.1:${cs.port}/health`)) === 200,
        node,
      );
      for (const other of [a, b, c].filter((p) => p !== cs.port)) {
        assert.is(
          await httpStatus(`http://127.0.0.1:${other}/health`),
          null,
          `${cs.name}: not on ${other}`,
        );
      }
    } finally {
      node.child.kill('SIGTERM');
    }
    assert.equal(
      await exitOf(node),
      { code: 0, signal: null },
      `${cs.name}: ${node.output().slice(-2000)}`,
    );
  }
});

test('start and status refuse: bad config value, no genesis → 2; nothing listening → 1', async () => {
  const [rpc, p2p, idle] = (await freePorts(3)) as [number, number, number];
  const d = initDev('refusals', rpc, p2p);
  const empty = join(dir, 'empty-data-dir');
  mkdirSync(empty);
  const cases: {
    name: string;
    args: string[];
    env?: Record<string, string>;
    code: number;
    stderr: RegExp;
  }[] = [
    {
      name: 'POS_RPC_PORT=abc',
      args: ['start', '--data-dir', d],
      env: { POS_RPC_PORT: 'abc' },
      code: 2,
      stderr: /POS_RPC_PORT/,
    },
    {
      name: '--rpc-port 0',
      args: ['start', '--data-dir', d, '--rpc-port', '0'],
      code: 2,
      stderr: /--rpc-port/,
    },
    {
      name: 'data dir without genesis.json',
      args: ['start', '--data-dir', empty, '--rpc-port', String(idle)],
      code: 2,
      stderr: /genesis.*genesis\.json.*ENOENT/,
    },
    {
      name: 'status, nothing listening',
      args: ['status', '--rpc', `http://127.0.0.1:${idle}`, '--json'],
      code: 1,
      stderr: /cannot reach http:\/\/127\.0\.0\.1:\d+\/rpc/,
    },
  ];
  for (const c of cases) {
    const r = posdBin(c.args, c.env);
    assert.is(r.status, c.code, `${c.name}: ${r.stderr}${r.error ?? ''}`);
    assert.match(r.stderr, /^posd: /, c.name);
    assert.match(r.stderr, c.stderr, `${c.name}: ${r.stderr}`);
    assert.is(r.stdout, '', `${c.name}: nothing on stdout`);
  }
  assert.is(await httpStatus(`http://127.0.0.1:${rpc}/health`), null, 'no node was left running');
});

test('start: a second SIGINT forces the exit', async () => {
  const [rpc, p2p] = (await freePorts(2)) as [number, number];
  const d = initDev('sigint', rpc, p2p);
  const node = startPosd(['--data-dir', d]);
  await waitFor(
    'GET /ready is 200',
    async () => (await httpStatus(`http://127.0.0.1:${rpc}/ready`)) === 200,
    node,
  );
  node.child.kill('SIGINT');
  node.child.kill('SIGINT');
  const { code, signal } = await exitOf(node);
  assert.is(signal, null, node.output().slice(-2000));
  assert.ok(code === 0 || code === 130, `exit code ${code}`);
});

test.after(async () => {
  for (const r of [...children]) {
    r.child.kill('SIGKILL');
    await r.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});
test.run();
