/**
 * Ed25519 verification benchmark: every verifier of the project's one
 * acceptance rule (docs/PROTOCOL.md 2) over the same signatures.
 *
 *   tsx bench/verify.bench.ts [--quick] [--count 20k] [--noble-count 2k] [--runs 3] [--write]
 *
 * Two workloads of `--count` (key, 32-byte message, signature) triples made
 * with node:crypto: "distinct keys" (every triple its own key, so the
 * KeyObject cache, 4,096 entries, never hits) and "64 keys" (validators
 * signing events: the cache always hits). Rows: the wallet's noble verifier
 * (on `--noble-count` triples: it does ~500–700/s), verifyEd25519Sync, the
 * byte checks alone, verifyEd25519Async (libuv threadpool) with at most 64 /
 * 256 / all in flight, the worker pool (1 and 2 threads; verifyBatch, and
 * verify() with 256 in flight), verifyEd25519BatchOnLibuv and
 * verifyEd25519Batch (the default, a shared pool); then the same with the
 * main thread busy, and an A/B of the last two, which decides the default.
 * Each row: one untimed warm-up pass, then the best of `--runs` timed
 * passes; the main thread's event-loop utilization (ELU) over the best pass
 * says how much of the calling thread the method used (1.00 = all of it).
 * The table goes to stdout, progress to stderr; `--write` also writes
 * bench/results.md.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { checkEd25519Encoding, verifyEd25519 } from '@pos/protocol';
import { forEachFlag, parseCount } from '../../../scripts/bench/args.js';
import {
  createVerifyPool,
  type Ed25519VerifyItem,
  verifyEd25519Async,
  verifyEd25519Batch,
  verifyEd25519BatchOnLibuv,
  verifyEd25519Sync,
} from '../src/crypto/crypto.js';

interface Opts {
  count: number;
  nobleCount: number;
  runs: number;
  quick: boolean;
  write: boolean;
}

function usage(msg: string): never {
  process.stderr.write(
    `${msg}\nusage: tsx bench/verify.bench.ts [--quick] [--count 20k] [--noble-count 2k] [--runs 3] [--write]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = { count: 20_000, nobleCount: 2_000, runs: 3, quick: false, write: false };
  let countSet = false;
  forEachFlag(argv, usage, 'Ed25519 verification benchmark.', (flag, value) => {
    switch (flag) {
      case '--quick':
        o.quick = true;
        return true;
      case '--count':
        o.count = parseCount(value(), usage, 100);
        countSet = true;
        return true;
      case '--noble-count':
        o.nobleCount = parseCount(value(), usage, 10);
        return true;
      case '--runs':
        o.runs = parseCount(value(), usage, 1);
        return true;
      case '--write':
        o.write = true;
        return true;
      default:
        return false;
    }
  });
  if (o.quick) {
    if (!countSet) o.count = 4_000;
    o.nobleCount = Math.min(o.nobleCount, 300);
    o.runs = 1;
  }
  return o;
}

const progress = (msg: string) => process.stderr.write(`${msg}\n`);
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const fix = (x: number, d: number) => x.toFixed(d);

// --- workloads -----------------------------------------------------------------------

function makeItems(count: number, keys: number): Ed25519VerifyItem[] {
  const pairs = Array.from({ length: keys }, () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const der = publicKey.export({ format: 'der', type: 'spki' });
    return { pk: new Uint8Array(der.subarray(12)), privateKey };
  });
  return Array.from({ length: count }, (_, i) => {
    const { pk, privateKey } = pairs[i % keys]!;
    const message = new Uint8Array(randomBytes(32));
    return { publicKey: pk, message, signature: new Uint8Array(sign(null, message, privateKey)) };
  });
}

// --- methods -------------------------------------------------------------------------

type Method = (items: readonly Ed25519VerifyItem[]) => Promise<number> | number;

/** Calls `one` with at most `window` in flight; resolves the number of `true` verdicts. */
function windowed(
  items: readonly Ed25519VerifyItem[],
  window: number,
  one: (it: Ed25519VerifyItem) => Promise<boolean>,
): Promise<number> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    let ok = 0;
    const launch = () => {
      const it = items[next++]!;
      one(it).then((v) => {
        if (v) ok++;
        if (++done === items.length) resolve(ok);
        else if (next < items.length) launch();
      }, reject);
    };
    for (let i = 0; i < Math.min(window, items.length); i++) launch();
  });
}

interface Row {
  workload: string;
  method: string;
  n: number;
  perSec: number;
  elu: number;
  /** Share of the wall time a busy main thread kept for itself (measureBusy rows). */
  left?: number;
}

async function measure(
  workload: string,
  name: string,
  items: readonly Ed25519VerifyItem[],
  fn: Method,
  opts: Opts,
  expectValid = true,
): Promise<Row> {
  await fn(items.slice(0, Math.min(items.length, 1_000))); // warm-up, untimed
  let best = { sec: Number.POSITIVE_INFINITY, elu: 0 };
  for (let r = 0; r < opts.runs; r++) {
    const elu0 = performance.eventLoopUtilization();
    const t0 = process.hrtime.bigint();
    const ok = await fn(items);
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    const elu = performance.eventLoopUtilization(elu0).utilization;
    if (expectValid && ok !== items.length) {
      throw new Error(`${name}: ${ok} of ${items.length} verified`);
    }
    if (sec < best.sec) best = { sec, elu };
  }
  const row = {
    workload,
    method: name,
    n: items.length,
    perSec: items.length / best.sec,
    elu: best.elu,
  };
  progress(`  ${name}: ${int(row.perSec)}/s (ELU ${fix(row.elu, 2)})`);
  return row;
}

/**
 * One unit of stand-in node work on the main thread: a fixed xorshift loop,
 * about 1 ms on an idle core (calibrated in main()). Counted in units, not
 * in time, so that a thread preempted by verifier threads does less of it.
 */
let unitIters = 100_000;
let sink = 0;
function workUnit(): void {
  let x = sink | 1;
  for (let i = 0; i < unitIters; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  sink = x;
}

/** Units per second on an otherwise idle process: the baseline of "main thread left". */
let unitsPerSecIdle = 0;

function calibrate(): void {
  for (let k = 0; k < 3; k++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 50; i++) workUnit();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / 50;
    unitIters = Math.max(1, Math.round(unitIters / ms)); // aim at 1 ms per unit
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 500; i++) workUnit();
  unitsPerSecIdle = 500 / (Number(process.hrtime.bigint() - t0) / 1e9);
  progress(
    `main-thread work unit: ${int(unitIters)} iterations, ${int(unitsPerSecIdle)} units/s idle`,
  );
}

/**
 * Like {@link measure}, with the main thread busy meanwhile, as a node's is
 * (consensus, gossip, RPC): it runs work units back to back, yielding to the
 * event loop between units, for as long as the verification runs. Reports
 * verifies/s and "main thread left", the units done per second as a share
 * of the idle rate: a method that needs the main thread slows down here, and
 * one whose threads crowd out the main thread leaves it a smaller share.
 */
async function measureBusy(
  workload: string,
  name: string,
  items: readonly Ed25519VerifyItem[],
  fn: Method,
  opts: Opts,
): Promise<Row> {
  await fn(items.slice(0, Math.min(items.length, 1_000)));
  let best = { sec: Number.POSITIVE_INFINITY, left: 0 };
  for (let r = 0; r < opts.runs; r++) {
    let running = true;
    let units = 0;
    const spin = () => {
      if (!running) return;
      workUnit();
      units++;
      setImmediate(spin);
    };
    const t0 = process.hrtime.bigint();
    setImmediate(spin);
    const ok = await fn(items);
    running = false;
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    if (ok !== items.length) throw new Error(`${name}: ${ok} of ${items.length} verified`);
    if (sec < best.sec) best = { sec, left: units / sec / unitsPerSecIdle };
  }
  const row = {
    workload,
    method: `${name}, main thread busy`,
    n: items.length,
    perSec: items.length / best.sec,
    elu: Number.NaN,
    left: best.left,
  };
  progress(`  ${row.method}: ${int(row.perSec)}/s (main thread left ${fix(row.left, 2)})`);
  return row;
}

/** ELU of a synchronous loop is not observable from inside it: the loop is the whole thread. */
async function syncLoop(items: readonly Ed25519VerifyItem[], f: typeof verifyEd25519Sync) {
  let ok = 0;
  for (const it of items) if (f(it.publicKey, it.message, it.signature)) ok++;
  // Yield once so eventLoopUtilization() sees the loop as one busy stretch.
  await new Promise((r) => setImmediate(r));
  return ok;
}

const DEFAULT_NAME = 'verifyEd25519Batch (the default: shared pool)';
const LIBUV_NAME = 'verifyEd25519BatchOnLibuv';

interface AB {
  workload: string;
  libuv: number[];
  pool: number[];
}

/**
 * The default's deciding comparison, robust to a noisy shared machine:
 * verifyEd25519Batch (the shared pool) and verifyEd25519BatchOnLibuv (256 in
 * flight), alternated for `2 × runs` rounds each, so that background load
 * hits both alike; the medians are compared.
 */
async function abRounds(workload: string, items: readonly Ed25519VerifyItem[], opts: Opts) {
  const ab: AB = { workload, libuv: [], pool: [] };
  const rate = async (f: () => Promise<boolean[]>) => {
    const t0 = process.hrtime.bigint();
    const res = await f();
    if (!res.every(Boolean)) throw new Error('A/B: a valid signature failed');
    return items.length / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  await verifyEd25519Batch(items.slice(0, 1_000));
  await verifyEd25519BatchOnLibuv(items.slice(0, 1_000));
  for (let r = 0; r < 2 * opts.runs; r++) {
    ab.libuv.push(await rate(() => verifyEd25519BatchOnLibuv(items)));
    ab.pool.push(await rate(() => verifyEd25519Batch(items)));
    progress(
      `  A/B round ${r + 1}: libuv ${int(ab.libuv.at(-1)!)}/s, pool ${int(ab.pool.at(-1)!)}/s`,
    );
  }
  return ab;
}

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? a[m]! : (a[m - 1]! + a[m]!) / 2;
};

async function runWorkload(workload: string, items: Ed25519VerifyItem[], opts: Opts) {
  progress(`${workload}: ${int(items.length)} triples`);
  const rows: Row[] = [];
  const noble = items.slice(0, opts.nobleCount);
  rows.push(
    await measure(
      workload,
      'wallet verifyEd25519 (noble, 1 thread)',
      noble,
      (xs) => syncLoop(xs, verifyEd25519),
      opts,
    ),
  );
  rows.push(
    await measure(
      workload,
      'byte checks alone (checkEd25519Encoding)',
      items,
      async (xs) => {
        let ok = 0;
        for (const it of xs) if (checkEd25519Encoding(it.publicKey, it.signature)) ok++;
        await new Promise((r) => setImmediate(r));
        return ok;
      },
      opts,
    ),
  );
  rows.push(
    await measure(
      workload,
      'verifyEd25519Sync',
      items,
      (xs) => syncLoop(xs, verifyEd25519Sync),
      opts,
    ),
  );
  for (const w of [64, 256]) {
    rows.push(
      await measure(
        workload,
        `verifyEd25519Async, ${w} in flight`,
        items,
        (xs) => windowed(xs, w, (it) => verifyEd25519Async(it.publicKey, it.message, it.signature)),
        opts,
      ),
    );
  }
  rows.push(
    await measure(
      workload,
      'verifyEd25519Async, all in flight',
      items,
      async (xs) => {
        const res = await Promise.all(
          xs.map((it) => verifyEd25519Async(it.publicKey, it.message, it.signature)),
        );
        return res.filter(Boolean).length;
      },
      opts,
    ),
  );
  for (const threads of [1, 2]) {
    const pool = createVerifyPool({ threads });
    try {
      rows.push(
        await measure(
          workload,
          `pool ${threads} thread${threads > 1 ? 's' : ''}, verifyBatch`,
          items,
          async (xs) => (await pool.verifyBatch(xs)).filter(Boolean).length,
          opts,
        ),
      );
      rows.push(
        await measure(
          workload,
          `pool ${threads} thread${threads > 1 ? 's' : ''}, verify() 256 in flight`,
          items,
          (xs) => windowed(xs, 256, (it) => pool.verify(it.publicKey, it.message, it.signature)),
          opts,
        ),
      );
    } finally {
      await pool.close();
    }
  }
  rows.push(
    await measure(
      workload,
      LIBUV_NAME,
      items,
      async (xs) => (await verifyEd25519BatchOnLibuv(xs)).filter(Boolean).length,
      opts,
    ),
  );
  rows.push(
    await measure(
      workload,
      DEFAULT_NAME,
      items,
      async (xs) => (await verifyEd25519Batch(xs)).filter(Boolean).length,
      opts,
    ),
  );
  // The same, with the main thread busy (measureBusy).
  rows.push(
    await measureBusy(
      workload,
      LIBUV_NAME,
      items,
      async (xs) => (await verifyEd25519BatchOnLibuv(xs)).filter(Boolean).length,
      opts,
    ),
  );
  const busyPool = createVerifyPool({ threads: 2 });
  try {
    rows.push(
      await measureBusy(
        workload,
        'pool 2 threads, verifyBatch',
        items,
        async (xs) => (await busyPool.verifyBatch(xs)).filter(Boolean).length,
        opts,
      ),
    );
  } finally {
    await busyPool.close();
  }
  rows.push(
    await measureBusy(
      workload,
      DEFAULT_NAME,
      items,
      async (xs) => (await verifyEd25519Batch(xs)).filter(Boolean).length,
      opts,
    ),
  );
  return { rows, ab: await abRounds(workload, items, opts) };
}

// --- output --------------------------------------------------------------------------

function table(head: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((x, c) => (align[c] === 'r' ? x.padStart(widths[c]!) : x.padEnd(widths[c]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (align[c] === 'r' ? `${'-'.repeat(w - 1)}:` : `:${'-'.repeat(w - 1)}`)).join(' | ')} |`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

function render(opts: Opts, rows: Row[], abs: AB[], wallSec: number): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const out: string[] = [];
  out.push('# Ed25519 verification benchmark');
  out.push('');
  out.push(
    `Machine: ${cpu}, ${os.availableParallelism()} cores available, ` +
      `${fix(os.totalmem() / 2 ** 30, 0)} GB RAM, ${os.platform()} ${os.arch()}, Node ${process.version} ` +
      `(OpenSSL ${process.versions.openssl}), UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}. ` +
      `Run: \`tsx bench/verify.bench.ts${opts.quick ? ' --quick' : ''} --count ${opts.count} ` +
      `--noble-count ${opts.nobleCount} --runs ${opts.runs}\`, ${fix(wallSec, 0)} s wall.`,
  );
  out.push('');
  out.push(
    'Workload: triples made with node:crypto (32-byte random messages, the size of the hashes ' +
      'the node signs), "distinct keys" = one key per triple (the 4,096-entry KeyObject cache ' +
      'never hits), "64 keys" = 64 signers (always hits). Every method applies the same rule ' +
      '(byte checks, then the cofactorless equation) and must return true for every triple. ' +
      `The noble row runs on the first ${int(opts.nobleCount)} triples. Each row: one warm-up ` +
      `pass (≤ 1,000 triples), then the best of ${opts.runs} timed passes; “main-thread ELU” is ` +
      'the event-loop utilization of the calling thread during that pass (1.00: the method ' +
      'kept it busy throughout; lower leaves the rest for the node). Rows “main thread busy”: ' +
      'the same method while the main thread spins in 1 ms slices, yielding between them, as a ' +
      'node’s main thread runs consensus: fixed ~1 ms units of pure-JS work back to back, ' +
      'yielding between units; “main thread left” is the units done per second as a share of ' +
      'the rate on an idle process (1.00: the verifier cost the node nothing on its main ' +
      'thread).',
  );
  out.push('');
  const syncOf = new Map(
    rows.filter((r) => r.method === 'verifyEd25519Sync').map((r) => [r.workload, r.perSec]),
  );
  const head = [
    'workload',
    'method',
    'items',
    'verifies/s',
    'µs/verify',
    '÷ sync',
    'main-thread ELU',
    'main thread left',
  ];
  const body = rows.map((r) => [
    r.workload,
    r.method,
    int(r.n),
    int(r.perSec),
    fix(1e6 / r.perSec, 1),
    `${fix(r.perSec / (syncOf.get(r.workload) ?? r.perSec), 2)}x`,
    Number.isNaN(r.elu) ? '' : fix(r.elu, 2),
    r.left === undefined ? '' : fix(r.left, 2),
  ]);
  out.push(table(head, body, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r']));
  out.push('');
  out.push('## The default: pool or libuv');
  out.push('');
  out.push(
    `verifyEd25519Batch (the shared pool, ${os.availableParallelism()} threads) against ` +
      `verifyEd25519BatchOnLibuv (256 in flight), alternated ${2 * opts.runs} rounds each on the ` +
      'same triples (background load hits both alike):',
  );
  out.push('');
  out.push(
    table(
      [
        'workload',
        'pool median/s',
        'libuv median/s',
        'pool ÷ libuv',
        'pool rounds',
        'libuv rounds',
      ],
      abs.map((x) => [
        x.workload,
        int(median(x.pool)),
        int(median(x.libuv)),
        `${fix(median(x.pool) / median(x.libuv), 2)}x`,
        x.pool.map(int).join(', '),
        x.libuv.map(int).join(', '),
      ]),
      ['l', 'r', 'r', 'r', 'r', 'r'],
    ),
  );
  out.push('');
  // The rule the default was chosen by (src/crypto/crypto.ts, verifyEd25519Batch):
  // the pool, unless the libuv form is faster by more than the noise (the
  // larger of 5% and the rounds' own spread, (max − min) / median) on some
  // workload, or the pool leaves the busy main thread no more than it.
  const spread = (xs: number[]) => (Math.max(...xs) - Math.min(...xs)) / median(xs);
  const left = (w: string, m: string) =>
    rows.find((r) => r.workload === w && r.method === `${m}, main thread busy`)?.left ?? 0;
  const checks = abs.map((x) => {
    const noise = Math.max(0.05, spread(x.pool), spread(x.libuv));
    const ratio = median(x.pool) / median(x.libuv);
    const poolLeft = left(x.workload, DEFAULT_NAME);
    const libuvLeft = left(x.workload, LIBUV_NAME);
    return {
      workload: x.workload,
      ratio,
      noise,
      poolLeft,
      libuvLeft,
      ok: ratio >= 1 - noise && poolLeft > libuvLeft,
    };
  });
  for (const c of checks) {
    out.push(
      `- ${c.workload}: the pool at ${fix(c.ratio, 2)}x the libuv form's rate (noise ±` +
        `${fix(100 * c.noise, 0)}%); busy main thread left ${fix(c.poolLeft, 2)} against ` +
        `${fix(c.libuvLeft, 2)} ${c.ok ? '✓' : '✗'}`,
    );
  }
  out.push(
    checks.every((c) => c.ok)
      ? '- The pool keeps pace with the libuv form (no slower beyond the noise) on every ' +
          'workload and leaves the node’s main thread more: it stays verifyEd25519Batch’s engine.'
      : '- ✗ The libuv form is faster beyond the noise somewhere, or the pool does not leave the ' +
          'main thread more: reconsider verifyEd25519Batch’s default (src/crypto/crypto.ts).',
  );
  out.push('');
  return out.join('\n');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const wall0 = process.hrtime.bigint();
  progress(`cores: ${os.availableParallelism()} (${os.cpus()[0]?.model.trim() ?? '?'})`);
  calibrate();
  progress(`making ${int(opts.count)} triples, distinct keys…`);
  const distinct = makeItems(opts.count, opts.count);
  progress(`making ${int(opts.count)} triples, 64 keys…`);
  const shared = makeItems(opts.count, 64);
  const a = await runWorkload('distinct keys', distinct, opts);
  const b = await runWorkload('64 keys', shared, opts);
  const text = render(
    opts,
    [...a.rows, ...b.rows],
    [a.ab, b.ab],
    Number(process.hrtime.bigint() - wall0) / 1e9,
  );
  process.stdout.write(`${text}\n`);
  if (opts.write) {
    const file = fileURLToPath(new URL('results.md', import.meta.url));
    writeFileSync(file, text);
    progress(`wrote ${file}`);
  }
}

await main();
