// Operating a running testnet from another terminal, for real: the built CLI
// starts 4 posd processes; `stop v3` takes the 10% validator down and the
// other three go on certifying blocks while the status line names it down;
// `start v3` brings it back and it catches up; `wipe v3` deletes its
// database and it joins again from its peers; a validator killed from
// outside is shown `exited (SIGKILL)` and the network keeps running (exit
// code 1 at the end). The control API refuses requests without its token,
// unknown routes and unknown validators; a command with no running testnet
// says so. Ctrl-C still stops everything and removes the control file.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TestnetLayout } from '../src/network.js';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const env = { ...process.env, NODE_OPTIONS: '' };
delete env.FORCE_COLOR;
const dir = mkdtempSync(join(tmpdir(), 'pos-testnet-control-'));

let net: ChildProcess | null = null;
let out = '';
let err = '';

function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [cli, ...args], { env });
    let o = '';
    let e = '';
    p.stdout.on('data', (d) => (o += d));
    p.stderr.on('data', (d) => (e += d));
    p.on('exit', (code) => resolve({ code, out: o, err: e }));
  });
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${out}\n${err}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const layout = (): TestnetLayout => JSON.parse(readFileSync(join(dir, 'testnet.json'), 'utf8'));

/** A node's block height from its /metrics, or undefined if it does not answer. */
async function heightOf(name: string): Promise<number | undefined> {
  const n = layout().nodes.find((x) => x.name === name)!;
  try {
    const text = await (await fetch(n.metricsUrl)).text();
    return Number(/^pos_block_height (\d+)$/m.exec(text)?.[1]);
  } catch {
    return undefined;
  }
}

/** The status lines printed after `from` characters of output. */
const statusLines = (from: number) =>
  out
    .slice(from)
    .split('\n')
    .filter((l) => /^\d\d:\d\d:\d\d {2}height/.test(l));

const controlFile = () =>
  JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as { url: string; token: string };

const minHeight = (line: string) => Number(/height (\d+)/.exec(line)![1]);

test.before(async () => {
  net = spawn(process.execPath, [cli, '--dir', dir, '--base-port', '0', '--duration', '600'], {
    env,
  });
  net.stdout!.on('data', (d) => (out += d));
  net.stderr!.on('data', (d) => (err += d));
  await until('the control hint', () => (out.includes('from another terminal') ? true : undefined));
});

test.after(async () => {
  if (net !== null && net.exitCode === null) {
    net.kill('SIGKILL');
    await new Promise((r) => net!.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
});

test('stop v3: the other three go on, and the status line names it down', async () => {
  const r = await run(['stop', 'v3', '--dir', dir]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /v3 stopped/);
  const mark = out.length;
  const first = await until('a status line with v3 down', () =>
    statusLines(mark).find((l) => l.includes('down: v3 stopped')),
  );
  // Blocks keep being decided and certified without 10% of the stake.
  await until('two more blocks without v3', () => {
    const last = statusLines(mark).at(-1);
    return last !== undefined && minHeight(last) >= minHeight(first) + 2 ? true : undefined;
  });
  assert.is(await heightOf('v3'), undefined, 'v3 does not answer');
  const again = await run(['stop', 'v3', '--dir', dir]);
  assert.is(again.code, 0);
  assert.match(again.out, /v3 is not running/);
});

test('start v3: it comes back and catches up', async () => {
  const r = await run(['start', 'v3', '--dir', dir]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /v3 started/);
  const target = (await heightOf('v0'))!;
  await until('v3 at v0 height', async () => ((await heightOf('v3')) ?? -1) >= target || undefined);
  const mark = out.length;
  const line = await until('a status line', () => statusLines(mark)[0]);
  assert.not.match(line, /down:/);
});

test('wipe v3: its database is deleted and it joins again from its peers', async () => {
  const n = layout().nodes.find((x) => x.name === 'v3')!;
  const before = readFileSync(join(n.dataDir, 'validator.key'), 'utf8');
  const r = await run(['wipe', 'v3', '--dir', dir]);
  assert.is(r.code, 0, r.err);
  assert.match(r.out, /v3 wiped/);
  // The key, genesis and configuration stay; the database is a new one.
  assert.is(readFileSync(join(n.dataDir, 'validator.key'), 'utf8'), before);
  assert.ok(existsSync(join(n.dataDir, 'db')));
  const target = (await heightOf('v0'))!;
  assert.ok(target > 0);
  await until('wiped v3 back at v0 height', async () =>
    ((await heightOf('v3')) ?? -1) >= target ? true : undefined,
  );
});

test('a validator killed from outside is shown exited; the network keeps running', async () => {
  const mark = out.length;
  const c = controlFile();
  const listed = (await (
    await fetch(`${c.url}/v1/nodes`, { headers: { authorization: `Bearer ${c.token}` } })
  ).json()) as { nodes: Record<string, { state: string; pid: number }> };
  assert.is(listed.nodes.v3!.state, 'running');
  const pid = listed.nodes.v3!.pid;
  process.kill(pid, 'SIGKILL');
  await until('v3 shown exited', () =>
    statusLines(mark).find((l) => l.includes('down: v3 exited (SIGKILL)')),
  );
  assert.match(err, /v3 exited \(SIGKILL\).*pnpm testnet start v3/);
  assert.is(net!.exitCode, null, 'the testnet is still running');
  const r = await run(['start', 'v3', '--dir', dir]);
  assert.is(r.code, 0, r.err);
});

test('the control API refuses a missing token, an unknown route and an unknown validator', async () => {
  const c = controlFile();
  const post = (path: string, token?: string) =>
    fetch(`${c.url}${path}`, {
      method: 'POST',
      ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
    });
  assert.is((await post('/v1/stop/v3')).status, 401);
  assert.is((await post('/v1/stop/v3', 'f'.repeat(64))).status, 401);
  assert.is((await post('/v1/stop/v3', c.token.slice(1))).status, 401);
  assert.is((await post('/v1/reboot/v3', c.token)).status, 404);
  assert.is((await post('/v1/stop/../../etc', c.token)).status, 404);
  const unknown = await post('/v1/stop/v9', c.token);
  assert.is(unknown.status, 400);
  assert.is(((await unknown.json()) as { error: string }).error, 'UNKNOWN_NODE');
  const cmd = await run(['stop', 'v9', '--dir', dir]);
  assert.is(cmd.code, 1);
  assert.match(cmd.err, /no validator named v9/);
  // None of these stopped anything.
  assert.ok((await heightOf('v3')) !== undefined, 'v3 still answers');
  const usage = await run(['stop', '--dir', dir]);
  assert.is(usage.code, 2);
  const none = await run(['stop', 'v1', '--dir', join(dir, 'nothing-here')]);
  assert.is(none.code, 1);
  assert.match(none.err, /no running testnet/);
});

test('Ctrl-C stops every validator, removes the control file, and exits 1 after an unexpected exit', async () => {
  net!.kill('SIGINT');
  const code = await new Promise((r) => net!.once('exit', r));
  assert.is(code, 1);
  assert.match(out, /stopped\./);
  assert.not.ok(existsSync(join(dir, 'control.json')));
  for (const n of layout().nodes) assert.is(await heightOf(n.name), undefined);
});

test.run();
