/**
 * End-to-end run of a local network: N real `posd` processes on loopback
 * (stakes 40/30/20/10 for 4), real signed transfers submitted over JSON-RPC
 * at a fixed rate, and what came out: transactions committed, blocks, and
 * the latency from submission to the finality certificate of the block that
 * holds each transaction, measured by the client (submit time → the
 * `newBlocks` WebSocket notification with `certified: true` from the node it
 * was submitted to). Beside it, in the same run, the machine's limit: Ed25519
 * verifications per second on all cores divided by N (every node verifies
 * every transaction).
 *
 *   pnpm bench:cluster [--rate 200] [--seconds 20] [--nodes 4] [--idle 10]
 *
 * `--idle S` first leaves the network idle for S seconds and reports the
 * nodes' CPU (all threads, from /proc/<pid>/stat) and block rate while idle;
 * the load phase reports the nodes' CPU too. CPU is a percentage of one core.
 * Needs the build (`dist/cli.js`). Progress goes to stderr, the table to stdout.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { toHex } from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  encodeTx,
  genesisOutpoint,
  genesisToJSON,
  type Output,
  signTx,
} from '@pos/wallet-client';
import { WebSocket } from 'undici';
import { forEachFlag, parseCount } from '../../../scripts/bench/args.js';
import { freePorts } from '../../../scripts/testing/ports.js';
import { createEd25519Signer, verifyEd25519Batch } from '../src/crypto.js';
import { generateValidatorKey, writeKeyFile } from '../src/keyfile.js';

// biome-ignore lint/suspicious/noExplicitAny: the node's JSON answers, read loosely by this harness.
type Json = any;
const HELP = 'usage: tsx bench/cluster.bench.ts [--rate TX/S] [--seconds S] [--nodes N] [--idle S]';
const fail = (m: string): never => {
  process.stderr.write(`${m}\n${HELP}\n`);
  process.exit(2);
};
let rate = 200;
let seconds = 20;
let nodeCount = 4;
let idleSeconds = 0;
forEachFlag(process.argv.slice(2), fail, HELP, (flag, value) => {
  if (flag === '--idle') {
    idleSeconds = parseCount(value(), fail, 0);
    return true;
  }
  if (flag === '--rate') rate = parseCount(value(), fail);
  else if (flag === '--seconds') seconds = parseCount(value(), fail);
  else if (flag === '--nodes') nodeCount = parseCount(value(), fail, 1);
  else return false;
  return true;
});

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '../dist/cli.js');
const env = { ...process.env };
delete env.FORCE_COLOR;
const say = (m: string) => process.stderr.write(`${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- the machine's limit: Ed25519 verifications per second on all cores -------------

async function verifyLimit(): Promise<number> {
  const n = 20_000;
  const keys = Array.from({ length: 64 }, () => generateKeyPairSync('ed25519'));
  const items = Array.from({ length: n }, (_, i) => {
    const k = keys[i % 64]!;
    const message = randomBytes(32);
    const jwk = k.publicKey.export({ format: 'jwk' });
    return {
      publicKey: new Uint8Array(Buffer.from(jwk.x!, 'base64url')),
      message: new Uint8Array(message),
      signature: new Uint8Array(sign(null, message, k.privateKey)),
    };
  });
  await verifyEd25519Batch(items.slice(0, 2000)); // warm-up
  const t = performance.now();
  const ok = await verifyEd25519Batch(items);
  const per = n / ((performance.now() - t) / 1000);
  if (ok.some((v) => !v)) throw new Error('verify baseline failed');
  return per;
}

// --- the network ------------------------------------------------------------------------

const total = rate * seconds;
const dir = mkdtempSync(join(os.tmpdir(), 'posd-bench-'));
const stakes = [4000n, 3000n, 2000n, 1000n, 1000n, 1000n, 1000n, 1000n].slice(0, nodeCount);
while (stakes.length < nodeCount) stakes.push(1000n);
const keys = stakes.map(() => generateValidatorKey());
// Spenders: each genesis output is spent once, so no transaction waits for another.
const SPENDERS = 16;
const spenderKeys = Array.from({ length: SPENDERS }, () => generateValidatorKey());
const procs: ChildProcess[] = [];

async function main(): Promise<void> {
  say(`measuring Ed25519 verify on ${os.availableParallelism()} cores...`);
  const verifyPerSec = await verifyLimit();

  const free = await freePorts(2 * nodeCount);
  const ports = keys.map((_, i) => ({ rpc: free[2 * i]!, p2p: free[2 * i + 1]! }));
  const outputs: Output[] = keys.map((k, i) => ({
    amount: stakes[i]!,
    owner: k.publicKey,
    host: k.validatorId,
  }));
  const firstSpend = outputs.length;
  for (let i = 0; i < total; i++) {
    const s = spenderKeys[i % SPENDERS]!;
    outputs.push({ amount: 100n, owner: s.publicKey, host: keys[i % nodeCount]!.validatorId });
  }
  if (outputs.length > 65_535) fail('rate × seconds must be below 65k (genesis outputs)');
  const genesis = createGenesis({
    chainName: 'bench',
    genesisTime: Date.now(),
    params: { minFee: 1n },
    validators: keys.map((k, i) => ({
      pubkey: k.publicKey,
      name: `v${i}`,
      p2p: `127.0.0.1:${ports[i]!.p2p}`,
    })),
    outputs,
  });
  const chainId = chainIdOf(genesis);
  const gFile = join(dir, 'genesis.json');
  writeFileSync(gFile, JSON.stringify(genesisToJSON(genesis)));

  say(`signing ${total} transfers...`);
  const signers = spenderKeys.map((k) => createEd25519Signer(k.secretKey, k.publicKey));
  const txs = Array.from({ length: total }, (_, i) => {
    const s = i % SPENDERS;
    const k = spenderKeys[s]!;
    const body = {
      chainId,
      inputs: [genesisOutpoint(chainId, firstSpend + i)],
      outputs: [
        {
          amount: 99n,
          owner: spenderKeys[(s + 1) % SPENDERS]!.publicKey,
          host: keys[0]!.validatorId,
        },
      ],
      fee: 1n,
      memo: new Uint8Array(0),
    };
    const signed = signTx(body, [k.secretKey], {
      sign: (_sk, m) => signers[s]!(m),
      publicKey: () => k.publicKey,
    });
    return toHex(encodeTx(signed));
  });

  const rpcUrls = ports.map((p) => `http://127.0.0.1:${p.rpc}`);
  for (let i = 0; i < nodeCount; i++) {
    const d = join(dir, `v${i}`);
    mkdirSync(d, { recursive: true });
    await writeKeyFile(join(d, 'validator.key'), keys[i]!);
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'init',
        '--data-dir',
        d,
        '--genesis',
        gFile,
        '--rpc-port',
        String(ports[i]!.rpc),
        '--p2p-port',
        String(ports[i]!.p2p),
        '--p2p-host',
        '127.0.0.1',
      ],
      { env, encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(r.stderr);
    const out = openSync(join(dir, `v${i}.log`), 'a');
    procs.push(
      spawn(process.execPath, [...profArgs(i), cli, 'start', '--data-dir', d], {
        env: { ...env, POS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' },
        stdio: ['ignore', out, out],
      }),
    );
  }
  say(`${nodeCount} nodes starting in ${dir}...`);
  for (const u of rpcUrls) {
    for (;;) {
      try {
        if ((await fetch(`${u}/ready`)).status === 200) break;
      } catch {}
      await sleep(100);
    }
  }

  // Certificate times per node and height, from each node's own notifications.
  const certifiedAt = rpcUrls.map(() => new Map<number, number>());
  const sockets = rpcUrls.map((u, i) => {
    const ws = new WebSocket(`${u.replace('http', 'ws')}/ws`);
    ws.addEventListener('open', () =>
      ws.send(
        JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'pos_subscribe', params: ['newBlocks'] }),
      ),
    );
    ws.addEventListener('message', (ev) => {
      const m = JSON.parse(String(ev.data));
      const b = m.params?.result;
      if (b?.certified === true && !certifiedAt[i]!.has(b.height)) {
        certifiedAt[i]!.set(b.height, performance.now());
      }
    });
    return ws;
  });
  await sleep(500);
  const idleRows: string[][] = [];
  if (idleSeconds > 0) {
    say(`idle for ${idleSeconds} s...`);
    const h0 = (await call(rpcUrls[0]!, 'pos_status')).height ?? 0;
    const c0 = cpuTimes();
    const w0 = performance.now();
    await sleep(idleSeconds * 1000);
    const pct = cpuPercents(c0, performance.now() - w0);
    const h1 = (await call(rpcUrls[0]!, 'pos_status')).height ?? 0;
    idleRows.push(
      ['idle: CPU per node, % of one core (all threads)', pct.map((x) => x.toFixed(1)).join(' / ')],
      ['idle: blocks/s', ((h1 - h0) / idleSeconds).toFixed(2)],
    );
  }
  const startHeight = (await call(rpcUrls[0]!, 'pos_status')).height ?? 0;
  const loadCpu0 = cpuTimes();
  const rssAtLoad = rssMb();
  const loadWall0 = performance.now();

  say(`submitting ${total} transfers at ${rate}/s for ${seconds} s...`);
  const sent: { txHash: string; node: number; atMs: number }[] = [];
  const refused: string[] = [];
  const t0 = performance.now();
  const tick = 20;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; ) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    for (; i < due; i++) {
      const node = i % nodeCount;
      const atMs = performance.now();
      const tx = txs[i]!;
      inFlight.push(
        rpcRaw(rpcUrls[node]!, 'pos_sendTransaction', [tx]).then((r) => {
          if (r.result) sent.push({ txHash: r.result.txHash, node, atMs });
          else refused.push(r.error?.message ?? 'unknown');
        }),
      );
    }
    await sleep(tick);
  }
  await Promise.all(inFlight);
  const submitSecs = (performance.now() - t0) / 1000;
  say(
    `submitted ${sent.length} (${refused.length} refused) in ${submitSecs.toFixed(1)} s; waiting for commits...`,
  );

  // Each transaction's block, from the node it was sent to.
  const heightOf = new Map<string, number>();
  let rejected = 0;
  const deadline = performance.now() + 120_000;
  while (heightOf.size + rejected < sent.length && performance.now() < deadline) {
    const todo = sent.filter((s) => !heightOf.has(s.txHash));
    for (let k = 0; k < todo.length; k += 100) {
      const chunk = todo.slice(k, k + 100);
      const byNode = new Map<number, typeof chunk>();
      for (const s of chunk) byNode.set(s.node, [...(byNode.get(s.node) ?? []), s]);
      for (const [node, list] of byNode) {
        const res = await batch(
          rpcUrls[node]!,
          list.map((s) => ['pos_getTransaction', [s.txHash]]),
        );
        res.forEach((r, j) => {
          const st = r.result?.status;
          if (st === 'committed') heightOf.set(list[j]!.txHash, r.result.height);
          if (st === 'rejected') {
            rejected++;
            heightOf.set(list[j]!.txHash, -1);
          }
        });
      }
    }
    await sleep(250);
  }
  await sleep(1500); // let the last certificates arrive
  const endStatus = await call(rpcUrls[0]!, 'pos_status');
  if (process.env.BENCH_METRICS) {
    // Every node's /metrics at the end, one file each (BENCH_METRICS is the path prefix).
    for (let i = 0; i < rpcUrls.length; i++) {
      const text = await (await fetch(`${rpcUrls[i]}/metrics`)).text();
      writeFileSync(`${process.env.BENCH_METRICS}v${i}.prom`, text);
    }
    say(`metrics written to ${process.env.BENCH_METRICS}v*.prom`);
  }
  const lat: number[] = [];
  let lastCert = 0;
  for (const s of sent) {
    const h = heightOf.get(s.txHash);
    if (h === undefined || h < 0) continue;
    const c = certifiedAt[s.node]!.get(h);
    if (c === undefined) continue;
    lat.push(c - s.atMs);
    lastCert = Math.max(lastCert, c);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) =>
    lat.length === 0 ? Number.NaN : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  const committed = [...heightOf.values()].filter((h) => h >= 0).length;
  const span = (lastCert - t0) / 1000;
  const loadPct = cpuPercents(loadCpu0, performance.now() - loadWall0);
  const rows = [
    ...idleRows,
    ['nodes', String(nodeCount)],
    ['offered load', `${rate} tx/s for ${seconds} s (${total} tx)`],
    ['accepted / refused at submit', `${sent.length} / ${refused.length}`],
    ['committed / rejected', `${committed} / ${rejected}`],
    ['certified (latency measured)', String(lat.length)],
    ['committed tx/s (first submit → last certificate)', (committed / span).toFixed(1)],
    ['blocks during the run', String((endStatus.height ?? 0) - startHeight)],
    [
      'submit → certificate p50 / p99 / max (ms)',
      `${q(0.5).toFixed(0)} / ${q(0.99).toFixed(0)} / ${(lat.at(-1) ?? Number.NaN).toFixed(0)}`,
    ],
    ['load: CPU per node, % of one core', loadPct.map((x) => x.toFixed(0)).join(' / ')],
    [
      'resident memory per node at start of load → end (MB)',
      rssAtLoad.map((r, i) => `${r.toFixed(0)} → ${rssMb()[i]!.toFixed(0)}`).join(' / '),
    ],
    [
      'machine limit: Ed25519 verify/s all cores ÷ nodes',
      `${(verifyPerSec / nodeCount).toFixed(0)} (${verifyPerSec.toFixed(0)} ÷ ${nodeCount})`,
    ],
  ];
  process.stdout.write('\n| measure | value |\n|---|---|\n');
  for (const [k, v] of rows) process.stdout.write(`| ${k} | ${v} |\n`);
  if (refused.length > 0) say(`first refusal: ${refused[0]}`);
  for (const ws of sockets) ws.close();
}

async function rpcRaw(url: string, method: string, params?: unknown): Promise<Json> {
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return res.json();
}

async function call(url: string, method: string, params?: unknown): Promise<Json> {
  const r = await rpcRaw(url, method, params);
  if (r.error) throw new Error(`${method}: ${r.error.message}`);
  return r.result;
}

/** CPU seconds (user + system, all threads) of each node process, from /proc. */
function cpuTimes(): number[] {
  const tick = 100; // USER_HZ on Linux
  return procs.map((p) => {
    try {
      const f = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      const after = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return (Number(after[11]) + Number(after[12])) / tick; // utime, stime
    } catch {
      return Number.NaN;
    }
  });
}

/** Resident set size of each node process in MB (VmRSS). */
function rssMb(): number[] {
  return procs.map((p) => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      return m === null ? Number.NaN : Number(m[1]) / 1024;
    } catch {
      return Number.NaN;
    }
  });
}

function cpuPercents(before: number[], wallMs: number): number[] {
  const now = cpuTimes();
  return now.map((c, i) => (100 * (c - before[i]!)) / (wallMs / 1000));
}

/**
 * `BENCH_CPU_PROF=dir` writes a V8 CPU profile per node there (read it in
 * Chrome DevTools); `BENCH_NODE_ARGS` replaces the node flags of every node
 * process (default `--max-old-space-size=512`; e.g. add
 * `--heapsnapshot-signal=SIGUSR2`).
 */
function profArgs(i: number): string[] {
  const d = process.env.BENCH_CPU_PROF;
  // V8 grows its heap lazily up to its limit (4 GiB here by default): with a
  // cap, resident memory follows the live heap (docs/PROTOCOL.md 10.4).
  const extra = (process.env.BENCH_NODE_ARGS ?? '--max-old-space-size=512')
    .split(' ')
    .filter((a) => a !== '');
  return d === undefined ? extra : [...extra, '--cpu-prof', `--cpu-prof-dir=${d}/v${i}`];
}

async function batch(url: string, calls: [string, unknown][]): Promise<Json[]> {
  const res = await fetch(`${url}/rpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(
      calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params })),
    ),
  });
  return (await res.json()) as Json[];
}

main()
  .catch((e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    const exited = procs.map(
      (p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r))),
    );
    for (const p of procs) p.kill('SIGTERM');
    await Promise.race([Promise.all(exited), sleep(10_000)]);
    for (const p of procs) p.kill('SIGKILL');
    if (process.env.KEEP_BENCH_DIR === undefined) rmSync(dir, { recursive: true, force: true });
    else say(`kept ${dir}`);
    process.exit();
  });
