/**
 * State trie benchmark: our binary trie (src/trie.ts) against @ethereumjs/mpt 10,
 * side by side in one run. Every (implementation, N) runs in its own child
 * process (trie.worker.ts) so that peak RSS and JIT state stay separate.
 *
 *   tsx bench/trie.bench.ts [--quick] [--sizes 10000,100000] [--write]
 *                           [--sample 2000] [--rounds 5] [--seed 1] [--impls pos-noble,pos-node,mpt]
 *
 * Tables go to stdout, progress to stderr; `--write` also writes bench/results.md.
 */
import { fork } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { forEachFlag, parseCount } from '../../../scripts/bench/args.js';
import {
  EXIT_BAD_PROOF,
  IMPL_LABEL,
  IMPLS,
  type ImplId,
  RANGE_HEADING,
  table,
  type WorkerArgs,
  type WorkerMessage,
  type WorkerResult,
} from './common.js';

const TARGETS = { proofSize: 0.3, build: 5, verify: 3 };

interface Opts {
  sizes: number[];
  impls: ImplId[];
  write: boolean;
  sample: number;
  rounds: number;
  minPhaseMs: number;
  warmup: number;
  seed: number;
  batch: number;
}

function usage(msg: string): never {
  process.stderr.write(
    `${msg}\nusage: tsx bench/trie.bench.ts [--quick] [--sizes 10000,100000,1000000] [--write]\n` +
      '         [--sample 2000] [--rounds 5] [--warmup 200] [--seed 1] [--batch 10000] [--impls pos-noble,pos-node,mpt]\n',
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = {
    sizes: [10_000, 100_000, 1_000_000],
    impls: [...IMPLS],
    write: false,
    sample: 2000,
    rounds: 5,
    minPhaseMs: 1000,
    warmup: 200,
    seed: 1,
    batch: 10_000,
  };
  forEachFlag(argv, usage, 'State trie benchmark: pos/trie vs @ethereumjs/mpt.', (flag, value) => {
    switch (flag) {
      case '--quick':
        o.sizes = [10_000, 100_000];
        return true;
      case '--sizes':
        o.sizes = value()
          .split(',')
          .filter(Boolean)
          .map((x) => parseCount(x, usage));
        return true;
      case '--write':
        o.write = true;
        return true;
      case '--sample':
        o.sample = parseCount(value(), usage);
        return true;
      case '--rounds':
        o.rounds = parseCount(value(), usage);
        return true;
      case '--warmup':
        o.warmup = parseCount(value(), usage, 0);
        return true;
      case '--seed':
        o.seed = parseCount(value(), usage, 0);
        return true;
      case '--batch':
        o.batch = parseCount(value(), usage);
        return true;
      case '--impls':
        o.impls = value()
          .split(',')
          .filter(Boolean)
          .map((x) => (IMPLS.includes(x as ImplId) ? (x as ImplId) : usage(`unknown impl ${x}`)));
        return true;
      default:
        return false;
    }
  });
  if (o.sizes.length === 0) usage('no sizes');
  return o;
}

const require = createRequire(import.meta.url);
const TSX_LOADER = pathToFileURL(require.resolve('tsx')).href;
const WORKER = fileURLToPath(new URL('./trie.worker.ts', import.meta.url));

type Outcome = { ok: true; result: WorkerResult } | { ok: false; error: string };

function runWorker(args: WorkerArgs): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = fork(WORKER, [JSON.stringify(args)], {
      execArgv: ['--import', TSX_LOADER, '--max-old-space-size=16384', '--expose-gc'],
      // The worker's stdout goes to our stderr: stdout carries only the tables.
      stdio: ['ignore', 2, 'inherit', 'ipc'],
    });
    let msg: WorkerMessage | undefined;
    child.on('message', (m) => {
      msg = m as WorkerMessage;
    });
    child.on('error', (err) => resolve({ ok: false, error: String(err) }));
    child.on('exit', (code, signal) => {
      if (code === EXIT_BAD_PROOF) {
        process.stderr.write(
          `\nABORTING: ${IMPL_LABEL[args.impl]} at N=${args.n} produced a proof that ` +
            `does not verify (or accepted a tampered one).\n${msg && !msg.ok ? msg.error : ''}\n`,
        );
        process.exit(1);
      }
      if (code === 0 && msg?.ok) resolve(msg);
      else {
        const why = signal ? `killed by ${signal}` : `exit code ${code}`;
        resolve({
          ok: false,
          error: `${why}${msg && !msg.ok ? `: ${msg.error.split('\n')[0]}` : ''}`,
        });
      }
    });
  });
}

// --- formatting ----------------------------------------------------------------

const int = (x: number) => Math.round(x).toLocaleString('en-US');
const fix = (x: number, d: number) =>
  x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const ratio = (x: number) => `${x >= 10 ? fix(x, 1) : fix(x, 2)}x`;
const mark = (ok: boolean) => (ok ? ' ✓' : ' ✗');

interface Row {
  impl: ImplId;
  n: number;
  outcome: Outcome;
}

function render(opts: Opts, rows: Row[], wallSec: number | null): string {
  const cpus = os.cpus();
  const out: string[] = [];
  out.push('# State trie benchmark: pos/trie vs @ethereumjs/mpt');
  out.push('');
  out.push(
    `Machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ` +
      `${int(os.totalmem() / 2 ** 30)} GB RAM, ${os.platform()} ${os.arch()}, Node ${process.version}`,
  );
  out.push(
    `Workload: random 32-byte keys, random 100-byte values (seed ${opts.seed}); ` +
      `proof generation and verification timed over the same ${int(opts.sample)} random existing keys, ` +
      `at least ${opts.rounds} passes and ${int(opts.minPhaseMs)} ms per phase (at most 50 passes), ` +
      `median pass reported (after a full GC and ${int(opts.warmup)} ` +
      'untimed warm-up proofs on other keys).',
  );
  out.push(
    `pos/trie: apply() in batches of ${int(opts.batch)}, then root() + one commit() of every node to the in-memory store; ` +
      'proof = encodeTrieProof bytes; verify = verifyTrieInclusion on those bytes. ' +
      'MPT: createMPT({ useKeyHashing: false }) with its default in-memory DB, put() per key + root(); ' +
      'proof = createMerkleProof nodes (size = sum of node lengths); verify = verifyMerkleProof(key, proof, { root }) ' +
      'and the value compared. Each (impl, N) runs in its own process (--max-old-space-size=16384).',
  );
  out.push('');
  out.push('## Results');
  out.push('');
  const head = [
    'impl',
    'N',
    'build inserts/s',
    'build s',
    'proof gen µs',
    'proof bytes median',
    'proof bytes p99',
    'verify µs',
    'peak RSS MB',
  ];
  const body = rows.map(({ impl, n, outcome }) => {
    if (!outcome.ok)
      return [IMPL_LABEL[impl], int(n), `FAILED: ${outcome.error}`, '', '', '', '', '', ''];
    const r = outcome.result;
    return [
      IMPL_LABEL[impl],
      int(n),
      int(r.insertsPerSec),
      fix(r.buildMs / 1000, 2),
      fix(r.genUs, 1),
      int(r.proofBytesMedian),
      int(r.proofBytesP99),
      fix(r.verifyUs, 1),
      int(r.maxRssMb),
    ];
  });
  out.push(table(head, body, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  out.push('');
  out.push('## Ratios against @ethereumjs/mpt');
  out.push('');
  out.push(
    `Targets (reference only): proof size ≤ ${TARGETS.proofSize}x of the MPT's bytes, ` +
      `build ≥ ${TARGETS.build}x faster, verification ≥ ${TARGETS.verify}x faster. ` +
      '✓/✗ mark whether a cell meets its target.',
  );
  const get = (impl: ImplId, n: number) => {
    const o = rows.find((r) => r.impl === impl && r.n === n)?.outcome;
    return o?.ok ? o.result : undefined;
  };
  for (const n of opts.sizes) {
    const mpt = get('mpt', n);
    const ours = (['pos-noble', 'pos-node'] as const).filter((i) => get(i, n));
    out.push('');
    out.push(`### N = ${int(n)}`);
    out.push('');
    if (!mpt || ours.length === 0) {
      out.push('(no ratio: a run is missing or failed)');
      continue;
    }
    const ratioRows = ours.map((impl) => {
      const r = get(impl, n)!;
      const build = r.insertsPerSec / mpt.insertsPerSec;
      const size = r.proofBytesMedian / mpt.proofBytesMedian;
      const sizeP99 = r.proofBytesP99 / mpt.proofBytesP99;
      const verify = mpt.verifyUs / r.verifyUs;
      const gen = mpt.genUs / r.genUs;
      return [
        `${IMPL_LABEL[impl].replace('pos/trie', 'ours')} / MPT`,
        `${ratio(build)} faster${mark(build >= TARGETS.build)}`,
        `${ratio(size)}${mark(size <= TARGETS.proofSize)}`,
        `${ratio(sizeP99)}${mark(sizeP99 <= TARGETS.proofSize)}`,
        `${ratio(verify)} faster${mark(verify >= TARGETS.verify)}`,
        `${ratio(gen)} faster`,
      ];
    });
    out.push(
      table(
        [
          'comparison',
          'build speed',
          'proof size (median, x of MPT bytes)',
          'proof size (p99)',
          'verify speed',
          'proof generation speed',
        ],
        ratioRows,
        ['l', 'r', 'r', 'r', 'r', 'r'],
      ),
    );
  }
  // Both hash backends must give the same root for the same data.
  const mismatch = opts.sizes.filter((n) => {
    const a = get('pos-noble', n);
    const b = get('pos-node', n);
    return a && b && a.root !== b.root;
  });
  out.push('');
  if (mismatch.length > 0) {
    out.push(
      `**Root mismatch between noble and node:crypto at N = ${mismatch.map(int).join(', ')}.**`,
    );
  } else if (opts.sizes.some((n) => get('pos-noble', n) && get('pos-node', n))) {
    out.push('Roots of pos/trie (noble) and pos/trie (node:crypto) agree at every N.');
  }
  if (wallSec !== null) out.push(`Total wall time: ${fix(wallSec, 1)} s.`);
  return `${out.join('\n')}\n`;
}

// --- main ----------------------------------------------------------------------

async function main(): Promise<void> {
  // `pnpm bench:merkle -- --quick` hands the '--' on to the script.
  const opts = parseArgs(process.argv.slice(2).filter((a) => a !== '--'));
  const t0 = performance.now();
  const rows: Row[] = [];
  const total = opts.sizes.length * opts.impls.length;
  for (const n of opts.sizes) {
    for (const impl of opts.impls) {
      process.stderr.write(`[${rows.length + 1}/${total}] ${IMPL_LABEL[impl]}, N = ${int(n)}\n`);
      const outcome = await runWorker({
        impl,
        n,
        seed: opts.seed,
        sample: opts.sample,
        rounds: opts.rounds,
        minPhaseMs: opts.minPhaseMs,
        warmup: opts.warmup,
        batch: opts.batch,
      });
      if (!outcome.ok) process.stderr.write(`  FAILED: ${outcome.error}\n`);
      rows.push({ impl, n, outcome });
    }
  }
  const wallSec = (performance.now() - t0) / 1000;
  const text = render(opts, rows, wallSec);
  process.stdout.write(`\n${text}`);
  if (opts.write) {
    const file = fileURLToPath(new URL('./results.md', import.meta.url));
    const cmd = `tsx bench/trie.bench.ts ${process.argv.slice(2).join(' ')}`.trim();
    // range.bench.ts's section (the file's last) is not this run's to replace.
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const at = old.indexOf(`\n${RANGE_HEADING}\n`);
    const kept = at >= 0 ? `\n${old.slice(at + 1)}` : '';
    writeFileSync(file, `${text}\nCommand: \`${cmd}\` (${new Date().toISOString()}).\n${kept}`);
    process.stderr.write(`wrote ${file}\n`);
  }
  process.stderr.write(`total wall time ${fix(wallSec, 1)} s\n`);
  if (rows.some((r) => !r.outcome.ok)) process.exit(1);
}

await main();
