// `pnpm testnet` for real: the built CLI starts 4 posd processes on free
// loopback ports, prints the nodes and wallets, writes testnet.json, shows
// live status (with --load: real transfers, committed and certified), and stops every validator at --duration (exit 0). A second
// start in the same dir restarts the same chain from disk; --reset makes a
// new one. Usage errors exit 2 before anything starts.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TestnetLayout } from '../src/network.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const env = { ...process.env, NODE_OPTIONS: '' };
delete env.FORCE_COLOR;
const dir = mkdtempSync(join(tmpdir(), 'pos-testnet-'));

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => resolve({ code, out, err }));
  });
}

const layoutOf = (): TestnetLayout => JSON.parse(readFileSync(join(dir, 'testnet.json'), 'utf8'));

test('starts 4 validators 40/30/20/10, prints them, runs a load, shows status, stops cleanly', async () => {
  const r = await run(['--dir', dir, '--base-port', '0', '--duration', '8', '--load', '20']);
  assert.is(r.code, 0, r.err);
  // The load generator's final tally: every transfer it sent was committed.
  const fin =
    /load \(final\): submitted (\d+), refused (\d+), committed (\d+), certified (\d+)/.exec(r.out);
  assert.ok(fin !== null, r.out);
  const [submitted, refused, committed, certified] = fin.slice(1).map(Number) as number[];
  assert.ok(submitted! > 50, `submitted ${submitted}`);
  assert.is(refused, 0);
  assert.is(committed, submitted);
  assert.ok(certified! > 0);
  const l = layoutOf();
  assert.is(l.nodes.length, 4);
  assert.equal(
    l.nodes.map((n) => n.stake),
    ['400000000', '300000000', '200000000', '100000000'],
  );
  assert.is(l.wallets.length, 3);
  for (const n of l.nodes) {
    assert.ok(r.out.includes(n.rpcUrl), `table lists ${n.rpcUrl}`);
    assert.ok(existsSync(n.log));
  }
  for (const w of l.wallets) assert.ok(r.out.includes(w.publicKey));
  assert.match(r.out, /all validators ready/);
  const status = r.out.split('\n').filter((line) => /^\d\d:\d\d:\d\d {2}height/.test(line));
  assert.ok(status.length >= 2, r.out);
  // Every node has synced with some peer (which ones, in 8 s, is up to chance).
  assert.match(status.at(-1)!, /peers [1-3]\/[1-3]\/[1-3]\/[1-3]/);
  assert.match(r.out, /stopped\./);
  // Every validator exited (their logs end with a clean stop).
  for (const n of l.nodes) assert.match(readFileSync(n.log, 'utf8'), /node stopped/);
});

test('a second start restarts the same chain; --reset makes a new one', async () => {
  const before = layoutOf();
  const again = await run(['--dir', dir, '--base-port', '0', '--duration', '4']);
  assert.is(again.code, 0, again.err);
  assert.is(layoutOf().chainId, before.chainId);
  assert.ok(again.out.includes(before.chainId));
  const fresh = await run(['--dir', dir, '--base-port', '0', '--duration', '3', '--reset']);
  assert.is(fresh.code, 0, fresh.err);
  assert.is.not(layoutOf().chainId, before.chainId);
});

test('testnet check: every invariant holds on a running network, and a wrong chain fails', async () => {
  const net = spawn(
    process.execPath,
    [cli, '--dir', dir, '--base-port', '0', '--duration', '40', '--load', '10'],
    { env },
  );
  let out = '';
  net.stdout.on('data', (d) => (out += d));
  try {
    for (let t = 0; !out.includes('all validators ready'); t++) {
      if (t > 600) assert.unreachable(`testnet not ready: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 3000)); // a few blocks and certificates
    const ok = await run(['check', '--dir', dir, '--wait', '20']);
    assert.is(ok.code, 0, ok.out + ok.err);
    for (const name of [
      'answers',
      'same block',
      'supply conserved',
      'certificates verify',
      'heights advance',
    ]) {
      assert.match(ok.out, new RegExp(`ok {2}.*${name}`));
    }
    assert.match(ok.out, /all 5 checks passed/);
    // The same nodes checked against a layout that names another chain.
    const other = mkdtempSync(join(tmpdir(), 'pos-testnet-other-'));
    const l = layoutOf();
    writeFileSync(
      join(other, 'testnet.json'),
      JSON.stringify({ ...l, chainId: `0x${'ab'.repeat(32)}` }),
    );
    const bad = await run(['check', '--dir', other, '--wait', '5']);
    assert.is(bad.code, 1, bad.out);
    assert.match(bad.out, /FAIL {2}every node answers on this chain: v0 is on chain/);
    rmSync(other, { recursive: true, force: true });
  } finally {
    net.kill('SIGTERM');
    await new Promise((r) => net.once('exit', r));
  }
});

test('init --hosts: per-host data dirs that form a network when started (all on 127.0.0.1 here)', async () => {
  // Eight consecutive free ports: each "host" runs two validators' worth of ports.
  let base = 0;
  for (let tries = 0; base === 0 && tries < 50; tries++) {
    const b = 20_000 + 2 * Math.floor(Math.random() * 10_000);
    const free = await Promise.all(Array.from({ length: 8 }, (_, k) => portFree(b - 1 + k)));
    if (free.every(Boolean)) base = b;
  }
  assert.ok(base > 0, 'no free port range');
  const d = mkdtempSync(join(tmpdir(), 'pos-testnet-hosts-'));
  rmSync(d, { recursive: true });
  for (const [args, message] of [
    [['init', '--dir', d], /init needs --hosts/],
    [['init', '--hosts', 'a b', '--dir', d], /--hosts must list host names/],
  ] as const) {
    const bad = await run([...args]);
    assert.is(bad.code, 2, bad.err);
    assert.match(bad.err, message);
  }
  const r = await run([
    'init',
    '--hosts',
    '127.0.0.1,127.0.0.1,127.0.0.1,127.0.0.1',
    '--dir',
    d,
    '--base-port',
    String(base),
  ]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /Nothing is started/);
  assert.match(r.out, /scp -r .*v3 127\.0\.0\.1:posd-v3/);
  const l = JSON.parse(readFileSync(join(d, 'testnet.json'), 'utf8')) as TestnetLayout;
  assert.equal(
    l.nodes.map((n) => n.p2p).sort(),
    [0, 2, 4, 6].map((k) => `127.0.0.1:${base + k}`),
  );
  const posd = join(
    dirname(createRequire(import.meta.url).resolve('@pos/node/package.json')),
    'dist/cli.js',
  );
  const procs = l.nodes.map((n) =>
    spawn(process.execPath, [posd, 'start', '--data-dir', n.dataDir], { env, stdio: 'ignore' }),
  );
  try {
    for (const n of l.nodes) {
      for (let t = 0; ; t++) {
        if (t > 300) assert.unreachable(`${n.name} not ready`);
        try {
          if ((await fetch(`${n.rpcUrl}/ready`)).status === 200) break;
        } catch {}
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    const c = await run(['check', '--dir', d, '--wait', '30']);
    assert.is(c.code, 0, c.out + c.err);
    assert.match(c.out, /all 5 checks passed/);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(
      procs.map(
        (p) => new Promise((res) => (p.exitCode !== null ? res(null) : p.once('exit', res))),
      ),
    );
    rmSync(d, { recursive: true, force: true });
  }
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

test('usage errors exit 2 and start nothing', () => {
  const table: [string[], RegExp][] = [
    [['--nodes', '0'], /--nodes must be in 1\.\.64/],
    [['--nodes', 'x'], /--nodes needs an integer/],
    [['--stakes', '1,2', '--nodes', '3'], /2 weights for 3 nodes/],
    [['--stakes', '1,,2'], /not a positive integer/],
    [['--bogus'], /unknown argument --bogus/],
  ];
  for (const [args, message] of table) {
    const d = mkdtempSync(join(tmpdir(), 'pos-testnet-bad-'));
    const r = spawnSync(process.execPath, [cli, '--dir', d, '--base-port', '0', ...args], {
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.not.ok(existsSync(join(d, 'testnet.json')), 'nothing written');
    rmSync(d, { recursive: true, force: true });
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
