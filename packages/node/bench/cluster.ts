/**
 * A local network of real `posd` processes for the end-to-end benches
 * (`cluster.bench.ts`, `e2e.bench.ts`): N validators on loopback with a fresh
 * genesis (stakes 40/30/20/10, then 10 each), pre-signed transfers submitted
 * over JSON-RPC at a fixed rate, and what came out, measured by the client:
 * transactions committed, blocks, the nodes' CPU, and the latency from the
 * submit call to the `newBlocks` WebSocket notification with
 * `certified: true` from the node the transaction went to.
 *
 * Every transfer spends its own genesis output (16 spenders own them all), so
 * no transaction waits for another; a genesis holds at most 65,535 outputs,
 * which bounds the transfers one network can take ({@link MAX_TRANSFERS}).
 * Processes and the temp dir are cleaned up by {@link Cluster.stop}, and on
 * exit or SIGINT/SIGTERM for any network still running.
 *
 * Needs the build (`dist/cli.js`).
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  type ApiClient,
  ApiError,
  createApiClient,
  createHttpTransport,
  createSubscriptionClient,
  type NodeStatus,
  type SubscriptionClient,
  type WebSocketCtor,
} from '@pos/api';
import { toHex } from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  encodeTx,
  genesisOutpoint,
  genesisToJSON,
  type Output,
  signTx,
} from '@pos/protocol';
import { freePorts } from '@pos/test-utils/ports';
import { WebSocket } from 'undici';
import { createEd25519Signer, createVerifyPool } from '../src/crypto/crypto.js';
import { generateValidatorKey, type ValidatorKey, writeKeyFile } from '../src/keyfile.js';

/** The typed client of the node at `url` (`@pos/api`). */
export const api = (url: string): ApiClient => createApiClient(createHttpTransport({ url }));

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '../dist/cli.js');
const env = { ...process.env };
delete env.FORCE_COLOR;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Transfers one network can be prepared for: genesis outputs are numbered in 16 bits. */
export const MAX_TRANSFERS = 65_535 - 64;

/** Spenders owning the transfers' genesis outputs (as many as the original bench). */
const SPENDERS = 16;

// --- the machine's limit: Ed25519 verifications per second on all cores -------------

/**
 * Ed25519 verifications per second on all cores, through the node's own
 * worker pool (`createVerifyPool`, what `verifyEd25519Batch` runs on): 20,000 signatures
 * by 64 keys after a warm-up. Every validator verifies every transaction, so
 * this divided by the number of validators is what one machine could commit
 * at most if verifying were all it did.
 */
export async function verifyLimit(): Promise<number> {
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
  // The pool behind verifyEd25519Batch (one thread per core), but one of our
  // own, closed after: worker threads still alive (here loaded through tsx)
  // when the bench calls process.exit() have hung it at exit.
  const pool = createVerifyPool();
  try {
    await pool.verifyBatch(items.slice(0, 2000)); // warm-up
    const t = performance.now();
    const ok = await pool.verifyBatch(items);
    const per = n / ((performance.now() - t) / 1000);
    if (ok.some((v) => !v)) throw new Error('verify baseline failed');
    return per;
  } finally {
    await pool.close();
  }
}

// --- types -------------------------------------------------------------------------------

/** How to start a network. */
export interface ClusterOptions {
  /** Validators (one `posd` process each). */
  nodes: number;
  /** Pre-signed transfers to prepare: the most all {@link Cluster.load} calls may submit. */
  transfers: number;
  /** Progress lines (stderr by default). */
  log?: (m: string) => void;
  /** How long the nodes may take to answer `/ready` (default 60 s + 5 s per node). */
  readyTimeoutMs?: number;
}

/** One fixed-rate load. */
export interface LoadOptions {
  /** Offered transfers per second. */
  rate: number;
  seconds: number;
  /**
   * How long after the last submit the client waits for the last
   * certificates before it stops counting (default 120 s). Commits after it
   * are not counted, so a short wait bounds an overloaded run's duration.
   */
  waitSeconds?: number;
}

/** What a load produced, measured by the client. */
export interface LoadResult {
  nodes: number;
  rate: number;
  seconds: number;
  /** Transfers submitted (`rate × seconds`). */
  offered: number;
  accepted: number;
  refused: number;
  firstRefusal?: string;
  /** Accepted transfers in a block certified by the end of the wait, less the rejected. */
  committed: number;
  /** Transactions the ledger rejected during the load, from node 0's metrics (none expected). */
  rejected: number;
  /** Submit → certificate latencies (ms) of the transfers in certified blocks, sorted. */
  latenciesMs: number[];
  /** Client time (ms) of the certificate of each of those transfers, sorted. */
  certTimesMs: number[];
  /** Client time (ms, `performance.now()`) of the first and last submit. */
  firstSubmitMs: number;
  lastSubmitMs: number;
  /** Client time (ms) of the first and last certificate of a block with a transfer of the run. */
  firstCertMs: number;
  lastCertMs: number;
  /** Blocks made from the start of the load to the end of the wait (node 0). */
  blocks: number;
  /** Wall time of the load, start of submitting to the end of the wait (s). */
  wallSeconds: number;
  /** CPU per node over the load, % of one core (all threads, from /proc). */
  cpuPercent: number[];
  /** Resident memory per node at the start of the load and at its end (MB). */
  rssStartMb: number[];
  rssEndMb: number[];
}

/** The network left idle. */
export interface IdleResult {
  seconds: number;
  cpuPercent: number[];
  blocksPerSec: number;
}

/** A running network. */
export interface Cluster {
  readonly nodes: number;
  readonly dir: string;
  /** The genesis file every node was initialised with. */
  readonly genesisFile: string;
  /** The validators' RPC base URLs (`http://127.0.0.1:port`). */
  readonly rpcUrls: readonly string[];
  /** The validators' peer-sync addresses (`127.0.0.1:port`). */
  readonly p2pAddrs: readonly string[];
  /** Transfers prepared and not submitted yet. */
  readonly transfersLeft: number;
  idle(seconds: number): Promise<IdleResult>;
  load(opts: LoadOptions): Promise<LoadResult>;
  /**
   * Starts one more `posd` on the same genesis with a fresh key that is not
   * in it (so it syncs read-only) and the validators as peers. It is stopped
   * with the network. `spawnedAtMs`: when `posd start` was spawned (client
   * `performance.now()`, after `posd init`).
   */
  startFollower(): Promise<{ rpcUrl: string; pid: number; spawnedAtMs: number }>;
  /** The validators' `pos_status` answers (null for one that did not answer). */
  statuses(): Promise<(NodeStatus | null)[]>;
  /** Stops every process and removes the temp dir (kept if `KEEP_BENCH_DIR` is set). */
  stop(): Promise<void>;
}

// --- cleanup of every network this process started ------------------------------------

const live = new Set<{ procs: ChildProcess[]; dir: string }>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  // Last resort: no node outlives the bench, and no temp dir stays behind.
  process.on('exit', () => {
    for (const c of live) {
      for (const p of c.procs) if (p.exitCode === null) p.kill('SIGKILL');
      if (process.env.KEEP_BENCH_DIR === undefined) rmSync(c.dir, { recursive: true, force: true });
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`${sig}: stopping the nodes\n`);
      process.exit(130);
    });
  }
}

// --- the network ------------------------------------------------------------------------

/** Stakes of the validators: 40/30/20/10 for four, then 10 each. */
function stakesFor(n: number): bigint[] {
  const stakes = [4000n, 3000n, 2000n, 1000n].slice(0, n);
  while (stakes.length < n) stakes.push(1000n);
  return stakes;
}

/**
 * The bench's genesis: each validator's stake as an output it owns and
 * hosts, then one 100-unit output per transfer, owned by the spenders in
 * turn; `firstSpend` is the index of the first of those.
 */
function benchGenesis(
  keys: readonly ValidatorKey[],
  stakes: readonly bigint[],
  spenderKeys: readonly ValidatorKey[],
  ports: readonly { rpc: number; p2p: number }[],
  total: number,
): { genesis: ReturnType<typeof createGenesis>; firstSpend: number } {
  const outputs: Output[] = keys.map((k, i) => ({
    amount: stakes[i]!,
    owner: k.publicKey,
    host: k.validatorId,
  }));
  const firstSpend = outputs.length;
  for (let i = 0; i < total; i++) {
    const s = spenderKeys[i % SPENDERS]!;
    outputs.push({ amount: 100n, owner: s.publicKey, host: keys[i % keys.length]!.validatorId });
  }
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
  return { genesis, firstSpend };
}

/** The `total` prepared transfers (hex): each spends its own genesis output to the next spender. */
function signTransfers(
  chainId: Uint8Array,
  keys: readonly ValidatorKey[],
  spenderKeys: readonly ValidatorKey[],
  firstSpend: number,
  total: number,
): string[] {
  const signers = spenderKeys.map((k) => createEd25519Signer(k.secretKey, k.publicKey));
  return Array.from({ length: total }, (_, i) => {
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
}

/**
 * Follows `newBlocks` on every node: when each node stored each block's
 * certificate (`certifiedAt[i]`), and the transfer counts of the blocks node
 * 0 certified (`txCountAt`), to know when all are in.
 */
function followCertificates(
  rpcUrls: readonly string[],
  sockets: SubscriptionClient[],
): { certifiedAt: Map<number, number>[]; txCountAt: Map<number, number> } {
  const certifiedAt = rpcUrls.map(() => new Map<number, number>());
  const txCountAt = new Map<number, number>();
  for (const [i, u] of rpcUrls.entries()) {
    const ws = createSubscriptionClient({ url: u, WebSocket: WebSocket as WebSocketCtor });
    // A node going away at stop() is expected: its socket just closes.
    ws.subscribe('newBlocks', [], (b) => {
      if (b.certified && !certifiedAt[i]!.has(b.height)) {
        certifiedAt[i]!.set(b.height, performance.now());
        if (i === 0) txCountAt.set(b.height, b.txCount ?? 0);
      }
    }).catch(() => {});
    sockets.push(ws);
  }
  return { certifiedAt, txCountAt };
}

/** `posd init` of the data dir `d`: a process of its own, so several run at once. */
async function initNodeDir(
  d: string,
  genesisFile: string,
  key: ValidatorKey,
  rpcPort: number,
  p2pPort: number,
  extra: string[],
): Promise<string> {
  mkdirSync(d, { recursive: true });
  await writeKeyFile(join(d, 'validator.key'), key);
  const args = [
    cli,
    'init',
    '--data-dir',
    d,
    '--genesis',
    genesisFile,
    '--rpc-port',
    String(rpcPort),
    '--p2p-port',
    String(p2pPort),
    '--p2p-host',
    '127.0.0.1',
    ...extra,
  ];
  const stderr = await new Promise<string | null>((res) => {
    const p = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b) => {
      err += String(b);
    });
    p.on('close', (code) => res(code === 0 ? null : err || `exit ${code}`));
  });
  if (stderr !== null) throw new Error(`posd init ${basename(d)}: ${stderr}`);
  return d;
}

/** Waits until every node answers `/ready` (`procs[i]` is the node of `rpcUrls[i]`). */
async function waitReady(
  rpcUrls: readonly string[],
  procs: readonly ChildProcess[],
  dir: string,
  readyBy: number,
): Promise<void> {
  for (const [i, u] of rpcUrls.entries()) {
    for (;;) {
      if (procs[i]!.exitCode !== null) {
        throw new Error(`v${i} exited with ${procs[i]!.exitCode} (log: ${dir}/v${i}.log)`);
      }
      try {
        if ((await fetch(`${u}/ready`)).status === 200) break;
      } catch {}
      if (performance.now() > readyBy) throw new Error(`v${i} not ready in time (${u})`);
      await sleep(200);
    }
  }
}

/**
 * Starts `nodes` validators on a fresh genesis with `transfers` pre-signed
 * transfers ready, and waits until every node answers `/ready`. On failure
 * everything started is stopped before the error is thrown.
 */
export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const say = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const nodeCount = opts.nodes;
  if (opts.transfers > MAX_TRANSFERS) {
    throw new Error(`${opts.transfers} transfers: at most ${MAX_TRANSFERS} fit in a genesis`);
  }
  hookExit();
  const dir = mkdtempSync(join(os.tmpdir(), 'posd-bench-'));
  const procs: ChildProcess[] = [];
  const entry = { procs, dir };
  live.add(entry);
  const sockets: SubscriptionClient[] = [];
  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      for (const ws of sockets) ws.close();
      const exited = procs.map(
        (p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r))),
      );
      for (const p of procs) p.kill('SIGTERM');
      await Promise.race([Promise.all(exited), sleep(10_000)]);
      for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
      if (process.env.KEEP_BENCH_DIR === undefined) rmSync(dir, { recursive: true, force: true });
      else say(`kept ${dir}`);
      live.delete(entry);
    })();
    return stopped;
  };

  try {
    const stakes = stakesFor(nodeCount);
    const keys = stakes.map(() => generateValidatorKey());
    const spenderKeys = Array.from({ length: SPENDERS }, () => generateValidatorKey());
    const free = await freePorts(2 * nodeCount);
    const ports = keys.map((_, i) => ({ rpc: free[2 * i]!, p2p: free[2 * i + 1]! }));
    const total = opts.transfers;
    const { genesis, firstSpend } = benchGenesis(keys, stakes, spenderKeys, ports, total);
    const chainId = chainIdOf(genesis);
    const genesisFile = join(dir, 'genesis.json');
    writeFileSync(genesisFile, JSON.stringify(genesisToJSON(genesis)));
    say(`  signing ${total} transfers...`);
    const txs = signTransfers(chainId, keys, spenderKeys, firstSpend, total);

    const rpcUrls = ports.map((p) => `http://127.0.0.1:${p.rpc}`);
    const clients = rpcUrls.map(api);
    const p2pAddrs = ports.map((p) => `127.0.0.1:${p.p2p}`);
    const initNode = (
      name: string,
      key: ValidatorKey,
      rpcPort: number,
      p2pPort: number,
      extra: string[],
    ): Promise<string> => initNodeDir(join(dir, name), genesisFile, key, rpcPort, p2pPort, extra);
    const spawnNode = (name: string, d: string): ChildProcess => {
      const out = openSync(join(dir, `${name}.log`), 'a');
      const p = spawn(process.execPath, [...nodeArgs(name), cli, 'start', '--data-dir', d], {
        env: { ...env, POS_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn' },
        stdio: ['ignore', out, out],
      });
      procs.push(p);
      return p;
    };
    const dirs = await Promise.all(
      keys.map((k, i) => initNode(`v${i}`, k, ports[i]!.rpc, ports[i]!.p2p, [])),
    );
    // In validator order: procs[i] is v<i> (the CPU and memory columns rely on it).
    for (const [i, d] of dirs.entries()) spawnNode(`v${i}`, d);
    say(`  ${nodeCount} nodes starting in ${dir}...`);
    const startedAt = performance.now();
    const readyBy = performance.now() + (opts.readyTimeoutMs ?? 60_000 + 5_000 * nodeCount);
    await waitReady(rpcUrls, procs, dir, readyBy);

    say(`  ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);

    const { certifiedAt, txCountAt } = followCertificates(rpcUrls, sockets);
    await sleep(500);

    let next = 0; // the next prepared transfer
    const height = async (): Promise<number> => (await api(rpcUrls[0]!).status()).height ?? 0;
    const rejectedTotal = async () =>
      metricValue(
        await (await fetch(`${rpcUrls[0]}/metrics`)).text(),
        'pos_transactions_rejected_total',
      ) || 0;
    const cpuTimes = () => procs.slice(0, nodeCount).map((p) => procCpuSeconds(p.pid));
    const rss = () => procs.slice(0, nodeCount).map((p) => procRssMb(p.pid));

    const loadCtx: LoadCtx = {
      nodeCount,
      clients,
      certifiedAt,
      txCountAt,
      say,
      height,
      rejectedTotal,
      cpuTimes,
      rss,
      take(count) {
        if (count > total - next) throw new Error(`${count} transfers asked, ${total - next} left`);
        next += count;
        return txs.slice(next - count, next);
      },
    };
    const cluster: Cluster = {
      nodes: nodeCount,
      dir,
      genesisFile,
      rpcUrls,
      p2pAddrs,
      get transfersLeft() {
        return total - next;
      },

      async idle(seconds) {
        const h0 = await height();
        const c0 = cpuTimes();
        const w0 = performance.now();
        await sleep(seconds * 1000);
        const wall = performance.now() - w0;
        const cpuPercent = cpuPercents(c0, cpuTimes(), wall);
        return { seconds, cpuPercent, blocksPerSec: ((await height()) - h0) / (wall / 1000) };
      },

      load: (o) => measureLoad(loadCtx, o),

      async startFollower() {
        const [rpc, p2p] = await freePorts(2);
        const d = await initNode('follower', generateValidatorKey(), rpc!, p2p!, [
          '--peers',
          p2pAddrs.join(','),
        ]);
        const spawnedAtMs = performance.now();
        const p = spawnNode('follower', d);
        return { rpcUrl: `http://127.0.0.1:${rpc}`, pid: p.pid ?? -1, spawnedAtMs };
      },

      async statuses() {
        return Promise.all(clients.map((c) => c.status().catch(() => null)));
      },

      stop,
    };
    return cluster;
  } catch (e) {
    await stop();
    throw e;
  }
}

/** What {@link measureLoad} reads of a started cluster. */
interface LoadCtx {
  readonly nodeCount: number;
  readonly clients: readonly ApiClient[];
  /** Certificate times per node and height, from each node's own notifications. */
  readonly certifiedAt: readonly Map<number, number>[];
  /** The transfer counts of the blocks node 0 certified. */
  readonly txCountAt: Map<number, number>;
  readonly say: (m: string) => void;
  height(): Promise<number>;
  rejectedTotal(): Promise<number>;
  cpuTimes(): number[];
  rss(): number[];
  /** The next `count` prepared transfers; throws if fewer are left. */
  take(count: number): string[];
}

/** Most `pos_sendTransaction` calls in one batch request (the node takes up to 100). */
const SUBMIT_BATCH = 100;

/** Submits `txs` to one node in one batch request; notes what was accepted or refused. */
async function submitBatch(
  client: ApiClient,
  txs: string[],
  node: number,
  atMs: number,
  sent: { txHash: string; node: number; atMs: number }[],
  refusals: string[],
): Promise<void> {
  try {
    const res = await client.batch(
      'sendTransaction',
      txs.map((t) => [t] as [string]),
    );
    for (const r of res) {
      if (r instanceof ApiError) refusals.push(r.message);
      else sent.push({ txHash: r.txHash.toLowerCase(), node, atMs });
    }
  } catch (e) {
    for (let k = 0; k < txs.length; k++) refusals.push(String((e as Error).message));
  }
}

/** Offers `rate` transfers a second for `seconds`, then measures what was certified. */
async function measureLoad(
  c: LoadCtx,
  { rate, seconds, waitSeconds = 120 }: LoadOptions,
): Promise<LoadResult> {
  const { nodeCount, clients, txCountAt, certifiedAt, say, height, rejectedTotal, cpuTimes, rss } =
    c;
  const count = rate * seconds;
  const mine = c.take(count);
  const startHeight = await height();
  const rejected0 = await rejectedTotal();
  const cpu0 = cpuTimes();
  const rssStartMb = rss();
  const sent: { txHash: string; node: number; atMs: number }[] = [];
  const refusals: string[] = [];
  const t0 = performance.now();
  let lastSubmitMs = t0;
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < count; ) {
    const due = Math.min(count, Math.floor(((performance.now() - t0) / 1000) * rate));
    // What fell due since the last tick goes out as one JSON-RPC batch per
    // node (round-robin, at most SUBMIT_BATCH calls a request), not one
    // HTTP request per transfer: the node checks a batch's signatures in one
    // worker-pool pass.
    const perNode: string[][] = Array.from({ length: nodeCount }, () => []);
    for (; i < due; i++) perNode[i % nodeCount]!.push(mine[i]!);
    const atMs = performance.now();
    if (due > 0) lastSubmitMs = atMs;
    perNode.forEach((txs, node) => {
      for (let k = 0; k < txs.length; k += SUBMIT_BATCH) {
        const chunk = txs.slice(k, k + SUBMIT_BATCH);
        inFlight.push(submitBatch(clients[node]!, chunk, node, atMs, sent, refusals));
      }
    });
    await sleep(20);
  }
  await Promise.all(inFlight);
  say(
    `  submitted ${sent.length} (${refusals.length} refused) in ${((performance.now() - t0) / 1000).toFixed(1)} s; waiting for certificates...`,
  );
  // Wait until node 0 has certified blocks holding every accepted transfer
  // (the run's transfers are the only transactions), or the wait is over.
  const waitUntil = lastSubmitMs + waitSeconds * 1000;
  const certifiedTxs = () => {
    let n = 0;
    for (const [h, c] of txCountAt) if (h > startHeight) n += c;
    return n;
  };
  while (certifiedTxs() < sent.length && performance.now() < waitUntil) await sleep(100);
  const endMs = performance.now();
  await sleep(300); // the other nodes' notifications of the last certificate
  const cpuPercent = cpuPercents(cpu0, cpuTimes(), endMs - t0);
  const rssEndMb = rss();
  const endHeight = Math.max(
    ...[...txCountAt.keys()].filter((h) => certifiedAt[0]!.get(h)! <= endMs),
    startHeight,
  );
  const blocks = (await height()) - startHeight;

  // Which block holds each transfer: the certified blocks' hash lists.
  const heightOf = new Map<string, number>();
  const heights: number[] = [];
  for (let h = startHeight + 1; h <= endHeight; h++) if (txCountAt.get(h)) heights.push(h);
  for (let k = 0; k < heights.length; k += 20) {
    const chunk = heights.slice(k, k + 20);
    const res = await clients[(k / 20) % nodeCount]!.batch(
      'getBlock',
      chunk.map((h) => [h] as [number]),
    );
    res.forEach((r, j) => {
      for (const t of r instanceof ApiError ? [] : r.txHashes)
        heightOf.set(t.toLowerCase(), chunk[j]!);
    });
  }
  const lat: number[] = [];
  const certTimes: number[] = [];
  let committed = 0;
  let firstCertMs = Number.POSITIVE_INFINITY;
  let lastCertMs = Number.NEGATIVE_INFINITY;
  for (const s of sent) {
    const h = heightOf.get(s.txHash);
    if (h === undefined) continue;
    committed++;
    const c = certifiedAt[s.node]!.get(h) ?? certifiedAt[0]!.get(h)!;
    lat.push(c - s.atMs);
    certTimes.push(c);
    firstCertMs = Math.min(firstCertMs, c);
    lastCertMs = Math.max(lastCertMs, c);
  }
  lat.sort((a, b) => a - b);
  certTimes.sort((a, b) => a - b);
  // Rejected transfers are in a block too (none are expected: each spends
  // its own output); node 0's counter says how many, not which.
  const rejected = Math.max(0, (await rejectedTotal()) - rejected0);
  committed -= Math.min(committed, rejected);
  return {
    nodes: nodeCount,
    rate,
    seconds,
    offered: count,
    accepted: sent.length,
    refused: refusals.length,
    ...(refusals.length > 0 ? { firstRefusal: refusals[0]! } : {}),
    committed,
    rejected,
    latenciesMs: lat,
    certTimesMs: certTimes,
    firstSubmitMs: t0,
    lastSubmitMs,
    firstCertMs,
    lastCertMs,
    blocks,
    wallSeconds: (endMs - t0) / 1000,
    cpuPercent,
    rssStartMb,
    rssEndMb,
  };
}

/** Options of {@link runCluster}: a network, an optional idle phase, one load. */
export interface RunOptions extends LoadOptions {
  nodes: number;
  /** Seconds to leave the network idle before the load (0: none). */
  idleSeconds?: number;
  log?: (m: string) => void;
  /** Before stopping: e.g. read every node's metrics. */
  beforeStop?: (c: Cluster) => Promise<void>;
}

/** The result of {@link runCluster}. */
export interface ClusterResult {
  idle?: IdleResult;
  load: LoadResult;
}

/**
 * One run on a fresh network: start, idle (if asked), load, stop. The
 * network is stopped and its temp dir removed whatever happens.
 */
export async function runCluster(opts: RunOptions): Promise<ClusterResult> {
  const c = await startCluster({
    nodes: opts.nodes,
    transfers: opts.rate * opts.seconds,
    ...(opts.log === undefined ? {} : { log: opts.log }),
  });
  try {
    const idle = (opts.idleSeconds ?? 0) > 0 ? await c.idle(opts.idleSeconds!) : undefined;
    const load = await c.load(opts);
    await opts.beforeStop?.(c);
    return idle === undefined ? { load } : { idle, load };
  } finally {
    await c.stop();
  }
}

// --- measures ---------------------------------------------------------------------------

/** The `p` quantile (0..1) of sorted values, NaN for none. */
export function quantile(sorted: readonly number[], p: number): number {
  return sorted.length === 0
    ? Number.NaN
    : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

// --- plumbing ---------------------------------------------------------------------------

/** The sum of a metric's samples (all label sets) in Prometheus text, NaN if absent. */
export function metricValue(text: string, name: string): number {
  let sum = Number.NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) {
      continue;
    }
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(v)) sum = (Number.isNaN(sum) ? 0 : sum) + v;
  }
  return sum;
}

/** CPU seconds (user + system, all threads) of a process, from /proc; NaN once it is gone. */
export function procCpuSeconds(pid: number | undefined): number {
  const tick = 100; // USER_HZ on Linux
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const after = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(after[11]) + Number(after[12])) / tick; // utime, stime
  } catch {
    return Number.NaN;
  }
}

/** Resident set size of a process in MB (VmRSS). */
function procRssMb(pid: number | undefined): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

function cpuPercents(before: number[], after: number[], wallMs: number): number[] {
  return after.map((c, i) => (100 * (c - before[i]!)) / (wallMs / 1000));
}

/**
 * `BENCH_CPU_PROF=dir` writes a V8 CPU profile per node there (read it in
 * Chrome DevTools); `BENCH_NODE_ARGS` replaces the node flags of every node
 * process (default `--max-old-space-size=512`; e.g. add
 * `--heapsnapshot-signal=SIGUSR2`).
 */
function nodeArgs(name: string): string[] {
  const d = process.env.BENCH_CPU_PROF;
  // V8 grows its heap lazily up to its limit (4 GiB here by default): with a
  // cap, resident memory follows the live heap (docs/PROTOCOL.md 10.4).
  const extra = (process.env.BENCH_NODE_ARGS ?? '--max-old-space-size=512')
    .split(' ')
    .filter((a) => a !== '');
  return d === undefined ? extra : [...extra, '--cpu-prof', `--cpu-prof-dir=${d}/${name}`];
}
