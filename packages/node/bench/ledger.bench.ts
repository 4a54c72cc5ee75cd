/**
 * Block execution benchmark: what one validator spends applying and
 * committing blocks of signed transfers (docs/PROTOCOL.md 6.3 and 7), on
 * classic-level on disk, beside the storage floor measured in the same run.
 *
 *   tsx bench/ledger.bench.ts [--outputs 4k] [--owners N] [--block 100] [--blocks 40] [--keep 128] [--flush 1] [--max-cached-depth D] [--max-unflushed 1M]
 *
 * The state holds `--outputs` outputs spread over `--owners` owners (default:
 * one each, at most 65,535): in genesis up to 65,535, beyond that built by
 * untimed setup blocks splitting genesis outputs 256 ways (so 100k and 1M
 * are measured as the issue asks). Each timed block spends `--block` of them (one input, one output to
 * the next owner, fee 1). Few owners means many outputs per owner: their
 * keys share the 256-bit prefix sha256(owner); the crit-bit trie
 * (docs/PROTOCOL.md 3) keeps no chain of one-child nodes for that prefix, so
 * an owner's outputs cost about log2(outputs per owner) levels below it.
 * Signatures are checked once beforehand (the node's signature cache does
 * the same), so the rows time the ledger and the trie, not Ed25519.
 * Rows: `applyBlock` (judging, trie writes in memory), `commit` (hashing,
 * one LevelDB batch, pruning once past `--keep` versions), and the floor: one
 * LevelDB batch putting as many fresh 64-byte keys as the block touches
 * (4 per transfer), with no trie; and the hashing floor: the SHA-256 calls
 * the ledger made while timed (counted) times one call's cost (measured in
 * the same run). Reports the mean per block, per transaction, and the main
 * thread's share (event-loop utilization). Where the ledger keeps the key
 * history index (docs/PROTOCOL.md 6.7), the entries the timed blocks wrote
 * to it are counted afterwards, untimed, from each owner's `proveHistory`
 * (at most 1,000 owners); a ledger without it (an older build this bench is
 * run against for a baseline) prints "none".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createLevelStore, type KVStore } from '@pos/merkle';
import {
  chainIdOf,
  createGenesis,
  decodeTx,
  encodeTx,
  type Genesis,
  genesisOutpoint,
  type Outpoint,
  signTx,
  type TxBody,
  txHashOf,
  validatorIdOf,
} from '@pos/protocol';
import { ClassicLevel } from 'classic-level';
import { forEachFlag, parseCount } from '../../../scripts/bench/args.js';
import { createLedger, type Ledger } from '../src/chain/ledger.js';
import {
  createEd25519Signer,
  sha256Node,
  verifyEd25519Batch,
  verifyEd25519Sync,
} from '../src/crypto/crypto.js';
import { createSignatureCache } from '../src/crypto/sig-cache.js';
import { generateValidatorKey } from '../src/keyfile.js';

interface Opts {
  outputs: number;
  owners: number;
  block: number;
  blocks: number;
  keep: number;
  /** Trie flush interval in blocks (`flushEvery`). */
  flush: number;
  /** The trie's `maxCachedDepth` (nodes deeper are dropped from memory after a commit). */
  maxCachedDepth: number;
  /** The trie's memory budget in nodes (`maxUnflushedNodes`; the node's default). */
  maxUnflushed: number;
}

function usage(msg: string): never {
  process.stderr.write(
    `${msg}\nusage: tsx bench/ledger.bench.ts [--outputs 4k] [--owners N] [--block 100] [--blocks 40] [--keep 128] [--flush 1] [--max-cached-depth D] [--max-unflushed 1M]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = {
    outputs: 4_000,
    owners: 0,
    block: 100,
    blocks: 40,
    keep: 128,
    flush: 1,
    maxCachedDepth: Number.POSITIVE_INFINITY,
    maxUnflushed: 1_000_000,
  };
  forEachFlag(argv, usage, 'Ledger block execution benchmark.', (flag, value) => {
    if (flag === '--outputs') o.outputs = parseCount(value(), usage);
    else if (flag === '--owners') o.owners = parseCount(value(), usage);
    else if (flag === '--block') o.block = parseCount(value(), usage);
    else if (flag === '--blocks') o.blocks = parseCount(value(), usage);
    else if (flag === '--keep') o.keep = parseCount(value(), usage, 2);
    else if (flag === '--flush') o.flush = parseCount(value(), usage, 1);
    else if (flag === '--max-cached-depth') o.maxCachedDepth = parseCount(value(), usage, 1);
    else if (flag === '--max-unflushed') o.maxUnflushed = parseCount(value(), usage, 1);
    else return false;
    return true;
  });
  if (o.block * o.blocks > o.outputs) usage('--block × --blocks must not exceed --outputs');
  if (o.owners === 0 || o.owners > o.outputs) o.owners = Math.min(o.outputs, MAX_GENESIS_OUTPUTS);
  return o;
}

const say = (s: string) => process.stderr.write(`${s}\n`);

/** What the trie wrote, counted (deterministic, unlike the timings). */
const writes = { puts: 0, dels: 0, batches: 0 };

function countingStore(store: KVStore): KVStore {
  return {
    ...store,
    batch: (ops) => {
      writes.batches++;
      for (const op of ops) {
        if (op.type === 'put') writes.puts++;
        else writes.dels++;
      }
      return store.batch(ops);
    },
  };
}

/** Genesis outputs at most (a u16 count); a larger state is built by splits. */
const MAX_GENESIS_OUTPUTS = 65_535;
/** Outputs of one split transaction (a transaction has at most 256, docs/PROTOCOL.md 6.2). */
const SPLIT = 256;
/** Split transactions per setup block. */
const SPLITS_PER_BLOCK = 40;

type Key = ReturnType<typeof generateValidatorKey>;

/** Signs `body` with `k` through node:crypto (one signer per owner, made once). */
function signerFor(k: Key): (body: TxBody) => Uint8Array {
  const sign = createEd25519Signer(k.secretKey, k.publicKey);
  const signer = {
    sign: (_sk: Uint8Array, m: Uint8Array) => sign(m),
    publicKey: () => k.publicKey,
  };
  return (body) => encodeTx(signTx(body, [k.secretKey], signer));
}

/** The state before the timed blocks: its genesis, untimed setup blocks, and the outputs to spend. */
interface Prepared {
  genesis: Genesis;
  host: Uint8Array;
  /** Blocks applied before timing (splits building a state beyond the genesis limit). */
  setup: Uint8Array[][];
  /** `--outputs` outputs of 100 each: their outpoints and owners. */
  spendable: { op: Outpoint; owner: number }[];
}

/**
 * Up to 65,535 outputs: all in genesis. Beyond: genesis holds one output
 * per {@link SPLIT}, and setup blocks split each into {@link SPLIT} outputs
 * of 100, round-robin over the owners.
 */
function prepare(o: Opts, owners: Key[], signers: ((b: TxBody) => Uint8Array)[]): Prepared {
  const validator = generateValidatorKey();
  const host = validatorIdOf(validator.publicKey);
  const splitting = o.outputs > MAX_GENESIS_OUTPUTS;
  const count = splitting ? Math.ceil(o.outputs / SPLIT) : o.outputs;
  const amount = splitting ? BigInt(SPLIT) * 100n + 1n : 100n;
  const genesis = createGenesis({
    chainName: 'ledger-bench',
    genesisTime: 0,
    params: { minFee: 1n },
    validators: [{ pubkey: validator.publicKey, name: 'v0', p2p: '127.0.0.1:1' }],
    outputs: Array.from({ length: count }, (_, n) => ({
      amount,
      owner: owners[n % o.owners]!.publicKey,
      host,
    })),
  });
  const chainId = chainIdOf(genesis);
  if (!splitting) {
    const spendable = Array.from({ length: count }, (_, n) => ({
      op: genesisOutpoint(chainId, n),
      owner: n % o.owners,
    }));
    return { genesis, host, setup: [], spendable };
  }
  const setup: Uint8Array[][] = [];
  const spendable: Prepared['spendable'] = [];
  for (let n = 0; n < count; n++) {
    const to = (j: number) => (n * SPLIT + j) % o.owners;
    const body: TxBody = {
      chainId,
      inputs: [genesisOutpoint(chainId, n)],
      outputs: Array.from({ length: SPLIT }, (_, j) => ({
        amount: 100n,
        owner: owners[to(j)]!.publicKey,
        host,
      })),
      fee: 1n,
      memo: new Uint8Array(0),
    };
    if (n % SPLITS_PER_BLOCK === 0) setup.push([]);
    setup.at(-1)!.push(signers[n % o.owners]!(body));
    const txHash = txHashOf(body, sha256Node);
    for (let j = 0; j < SPLIT; j++) spendable.push({ op: { txHash, index: j }, owner: to(j) });
  }
  return { genesis, host, setup, spendable };
}

/**
 * The key history entries (docs/PROTOCOL.md 6.7) of the timed blocks, per
 * transfer: every owner's, proven by the ledger itself. "none" for a ledger
 * without the index, "not counted" beyond 1,000 owners.
 */
async function countHistory(ledger: object, owners: Key[], base: number, o: Opts): Promise<string> {
  const prove = (ledger as Partial<Pick<Ledger, 'proveHistory'>>).proveHistory?.bind(ledger);
  if (prove === undefined) return 'none';
  if (owners.length > 1000) return 'not counted';
  let n = 0;
  for (const k of owners) {
    const h = await prove(k.publicKey, {
      fromHeight: base,
      toHeight: base + o.blocks - 1,
      limit: 2 * o.block * o.blocks,
    });
    n += h.entries.length;
  }
  return (n / (o.block * o.blocks)).toFixed(2);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(os.tmpdir(), 'pos-ledger-bench-'));
  try {
    say(`generating ${o.owners} owners...`);
    const owners = Array.from({ length: o.owners }, () => generateValidatorKey());
    const signers = owners.map(signerFor);
    const { genesis, host, setup, spendable } = prepare(o, owners, signers);
    const chainId = chainIdOf(genesis);
    say(`signing ${o.block * o.blocks} transfers...`);
    const blocks: Uint8Array[][] = [];
    for (let b = 0; b < o.blocks; b++) {
      const txs: Uint8Array[] = [];
      for (let i = 0; i < o.block; i++) {
        const { op, owner } = spendable[b * o.block + i]!;
        const body: TxBody = {
          chainId,
          inputs: [op],
          outputs: [{ amount: 99n, owner: owners[(owner + 1) % o.owners]!.publicKey, host }],
          fee: 1n,
          memo: new Uint8Array(0),
        };
        txs.push(signers[owner]!(body));
      }
      blocks.push(txs);
    }

    const db = new ClassicLevel<Uint8Array, Uint8Array>(join(dir, 'db'), {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    await db.open();
    // Verified beforehand, as the node's cache does: the rows time execution.
    const sigs = createSignatureCache({
      maxEntries: o.block * o.blocks + setup.length * SPLITS_PER_BLOCK,
      verify: verifyEd25519Sync,
      verifyBatch: verifyEd25519Batch,
    });
    for (const txs of [...setup, ...blocks]) {
      for (const bytes of txs) {
        const tx = decodeTx(bytes);
        const message = txHashOf(tx.body, sha256Node);
        await sigs.prefetch(
          tx.signatures.map((s) => ({ publicKey: s.publicKey, message, signature: s.signature })),
        );
      }
    }
    // SHA-256 calls while timing, counted (deterministic): with the cost of
    // one call measured below, the hashing floor of the trie's design.
    let hashCalls = 0;
    let counting = false;
    const countingHash = (data: Uint8Array) => {
      if (counting) hashCalls++;
      return sha256Node(data);
    };
    const ledger = await createLedger({
      genesis,
      hash: countingHash,
      keepVersions: o.keep,
      flushEvery: o.flush,
      store: countingStore(createLevelStore(db, { prefix: new Uint8Array([1]) })),
      verify: (pk, m, s) => sigs.verify(pk, m, s),
      ...(Number.isFinite(o.maxCachedDepth) ? { maxCachedDepth: o.maxCachedDepth } : {}),
      maxUnflushedNodes: o.maxUnflushed,
    });
    // The state beyond genesis, untimed (heights 0 .. setup.length - 1).
    const setupT0 = performance.now();
    for (const [h, txs] of setup.entries()) {
      const r = await ledger.applyBlock(h, txs);
      if (r.receipts.some((x) => x.status !== 'committed')) throw new Error('a split was rejected');
      await ledger.commit(h);
      if (h % 20 === 19) say(`  setup: ${(h + 1) * SPLITS_PER_BLOCK * SPLIT} outputs`);
    }
    if (setup.length > 0) {
      await ledger.flush();
      say(
        `  setup: ${spendable.length} outputs in ${((performance.now() - setupT0) / 1000).toFixed(1)} s`,
      );
    }
    const base = setup.length;
    say(`applying ${o.blocks} blocks of ${o.block}...`);
    let applyMs = 0;
    let commitMs = 0;
    let committed = 0;
    writes.puts = 0;
    writes.dels = 0;
    writes.batches = 0;
    const elu0 = performance.eventLoopUtilization();
    // CPU time of the process (every thread: LevelDB's included), which a
    // busy machine distorts far less than wall time.
    const cpu0 = process.cpuUsage();
    counting = true;
    const t0 = performance.now();
    for (let b = 0; b < o.blocks; b++) {
      const a = performance.now();
      const r = await ledger.applyBlock(base + b, blocks[b]!);
      const c = performance.now();
      await ledger.commit(base + b);
      commitMs += performance.now() - c;
      applyMs += c - a;
      committed += r.receipts.filter((x) => x.status === 'committed').length;
    }
    const wall = performance.now() - t0;
    counting = false;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const elu = performance.eventLoopUtilization(elu0);
    if (committed !== o.block * o.blocks) throw new Error(`only ${committed} committed`);

    // The floor: as many fresh keys per block straight into LevelDB.
    const keysPerBlock = 4 * o.block;
    let floorMs = 0;
    const floorElu0 = performance.eventLoopUtilization();
    for (let b = 0; b < o.blocks; b++) {
      const ops = Array.from({ length: keysPerBlock }, () => ({
        type: 'put' as const,
        key: crypto.getRandomValues(new Uint8Array(65)),
        value: crypto.getRandomValues(new Uint8Array(80)),
      }));
      const t = performance.now();
      await db.batch(ops);
      floorMs += performance.now() - t;
    }
    const floorElu = performance.eventLoopUtilization(floorElu0);
    // Live memory, not the garbage a collection would free: collect first.
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
    const mem = process.memoryUsage();
    const waiting = ledger.unflushedNodes;
    // The key history entries the timed blocks wrote (untimed; a ledger
    // without the index has no proveHistory).
    const history = await countHistory(ledger, owners, base, o);
    // One SHA-256 call of a branch node's preimage (67 bytes), node:crypto
    // one-shot as the node hashes: the per-call cost, binding included.
    const pre = new Uint8Array(67).fill(1);
    const hashRuns = 200_000;
    const h0 = performance.now();
    for (let i = 0; i < hashRuns; i++) sha256Node(pre);
    const hashUs = ((performance.now() - h0) * 1000) / hashRuns;
    await db.close();
    if (sigs.misses > 0) throw new Error('a signature was verified while timing');

    const per = (ms: number) => (ms / o.blocks).toFixed(1);
    const perTx = (ms: number) => ((1000 * ms) / (o.blocks * o.block)).toFixed(0);
    process.stdout.write(
      [
        `| ${spendable.length} outputs of ${o.owners} owners${base > 0 ? ` (${base} blocks of splits)` : ''}, ${o.blocks} blocks × ${o.block} transfers, keep ${o.keep}, flush every ${o.flush}${Number.isFinite(o.maxCachedDepth) ? `, max cached depth ${o.maxCachedDepth}` : ''} | ms / block | µs / tx |`,
        '|---|---|---|',
        `| ledger applyBlock | ${per(applyMs)} | ${perTx(applyMs)} |`,
        `| ledger commit (trie hash + batch + prune) | ${per(commitMs)} | ${perTx(commitMs)} |`,
        `| total (main thread busy ${(100 * elu.utilization).toFixed(0)}%) | ${per(wall)} | ${perTx(wall)} |`,
        `| CPU time, all threads | ${per(cpuMs)} | ${perTx(cpuMs)} |`,
        `| trie store writes: puts / deletes / batches per block | ${(writes.puts / o.blocks).toFixed(0)} / ${(writes.dels / o.blocks).toFixed(0)} / ${(writes.batches / o.blocks).toFixed(2)} | |`,
        `| key history entries written per transfer (proveHistory, all owners) | ${history} | |`,
        `| executed tx/s | ${((1000 * o.blocks * o.block) / wall).toFixed(0)} | |`,
        `| floor: one LevelDB batch of ${keysPerBlock} fresh keys (busy ${(100 * floorElu.utilization).toFixed(0)}%) | ${per(floorMs)} | ${perTx(floorMs)} |`,
        `| memory after the run and a full GC: resident / JS heap used (MB); trie nodes held for the next flush | ${(mem.rss / 2 ** 20).toFixed(0)} / ${(mem.heapUsed / 2 ** 20).toFixed(0)}; ${waiting} | |`,
        `| floor: SHA-256 calls (${(hashCalls / (o.blocks * o.block)).toFixed(1)} a transfer) × ${hashUs.toFixed(2)} µs a call | ${per((hashCalls * hashUs) / 1000)} | ${perTx((hashCalls * hashUs) / 1000)} |`,
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
});
