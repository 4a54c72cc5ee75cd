/**
 * Range completeness proofs (docs/PROTOCOL.md 3.2) on the transaction index
 * layout they were made for: one tag's keys `tag ‖ u64be(height) ‖ u32be(0)
 * ‖ pad` (64 bytes) among 100,000 random 64-byte keys, the tag holding 1,
 * 100 and 10,000 heights in turn (one trie, keys added between the
 * measurements). For each, the range over all of the tag's heights, and, at
 * 10,000 heights, ranges of 1 and 100 heights; beside each, the existing
 * prefix proof of the whole tag measured in the same run, the baseline that
 * must hand over every entry of the tag.
 *
 *   tsx bench/range.bench.ts [--random 100k] [--runs 7] [--seed 1] [--write]
 *
 * The table goes to stdout, progress to stderr; `--write` also puts it in
 * bench/results.md under its own heading (replacing an earlier one).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { forEachFlag, parseCount } from '../../../scripts/bench/args.js';
import { createStateTrie, type StateTrie } from '../src/trie.js';
import { encodeTrieProof, type TrieEntry } from '../src/trie-proof.js';
import { encodeTrieRangeProof, verifyTrieRange } from '../src/trie-range-proof.js';
import { RANGE_HEADING, table } from './common.js';
import { prng } from './data.js';

const KEY_BYTES = 64;
const VALUE_BYTES = 100;
const TAG_HEIGHTS = [1, 100, 10_000];
/** Ranges of this many heights in the middle of the largest tag, besides its whole range. */
const SUB_RANGES = [1, 100];

const USAGE = 'usage: tsx bench/range.bench.ts [--random 100k] [--runs 7] [--seed 1] [--write]';

interface Opts {
  random: number;
  runs: number;
  seed: number;
  write: boolean;
}

function fail(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = { random: 100_000, runs: 7, seed: 1, write: false };
  forEachFlag(argv, fail, USAGE, (flag, value) => {
    if (flag === '--random') o.random = parseCount(value(), fail);
    else if (flag === '--runs') o.runs = parseCount(value(), fail);
    else if (flag === '--seed') o.seed = parseCount(value(), fail, 0);
    else if (flag === '--write') o.write = true;
    else return false;
    return true;
  });
  return o;
}

function randomBytes(n: number, next: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const w = next();
    for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = w >>> (8 * j);
  }
  return out;
}

function txKey(tag: Uint8Array, height: number): Uint8Array {
  const k = new Uint8Array(KEY_BYTES);
  k.set(tag, 0);
  new DataView(k.buffer).setBigUint64(32, BigInt(height)); // then u32be(0) and zero padding
  return k;
}

/** Inclusive bounds of heights g..h of `tag`. */
function bounds(tag: Uint8Array, g: number, h: number): [Uint8Array, Uint8Array] {
  const lo = txKey(tag, g);
  const hi = txKey(tag, h);
  hi.fill(0xff, 40);
  return [lo, hi];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Median milliseconds of `runs` calls, after three untimed ones (JIT, caches). */
async function time<T>(runs: number, fn: () => Promise<T> | T): Promise<[number, T]> {
  let out = await fn();
  for (let i = 0; i < 2; i++) out = await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    out = await fn();
    ms.push(performance.now() - t0);
  }
  return [median(ms), out];
}

const entryBytes = (es: readonly TrieEntry[]) =>
  es.reduce((n, e) => n + e.key.length + e.value.length, 0);

interface Row {
  tagHeights: number;
  rangeHeights: number;
  entries: number;
  proofBytes: number;
  items: number;
  entriesBytes: number;
  proveMs: number;
  verifyMs: number;
  prefixProofBytes: number;
  prefixEntriesBytes: number;
}

async function measure(
  t: StateTrie,
  tag: Uint8Array,
  tagHeights: number,
  g: number,
  h: number,
  runs: number,
): Promise<Row> {
  const root = t.root();
  const [lo, hi] = bounds(tag, g, h);
  const [proveMs, answer] = await time(runs, () => t.proveRange(lo, hi));
  const bytes = encodeTrieRangeProof(answer.proof);
  const [verifyMs, ok] = await time(runs, () =>
    verifyTrieRange(root, lo, hi, answer.entries, bytes),
  );
  if (!ok || answer.entries.length !== h - g + 1) {
    throw new Error(`range ${g}..${h}: ${answer.entries.length} entries, verified ${ok}`);
  }
  const prefix = await t.provePrefix(tag);
  return {
    tagHeights,
    rangeHeights: h - g + 1,
    entries: answer.entries.length,
    proofBytes: bytes.length,
    items: answer.proof.items.length,
    entriesBytes: entryBytes(answer.entries),
    proveMs,
    verifyMs,
    prefixProofBytes: encodeTrieProof(prefix.proof).length,
    prefixEntriesBytes: entryBytes(prefix.entries),
  };
}

const int = (n: number) => n.toLocaleString('en-US');
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1));

function render(rows: readonly Row[], opts: Opts): string {
  const head = [
    "tag's heights",
    'heights in range',
    'entries in range',
    'range proof bytes',
    'proof items',
    'entries bytes (keys + values)',
    'prove ms',
    'verify ms',
    'prefix proof bytes (whole tag)',
    'prefix entries bytes (whole tag)',
  ];
  const cells = rows.map((r) => [
    int(r.tagHeights),
    int(r.rangeHeights),
    int(r.entries),
    int(r.proofBytes),
    int(r.items),
    int(r.entriesBytes),
    ms(r.proveMs),
    ms(r.verifyMs),
    int(r.prefixProofBytes),
    int(r.prefixEntriesBytes),
  ]);
  const lines = [
    table(
      head,
      cells,
      head.map(() => 'r'),
    ),
  ];
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return [
    RANGE_HEADING,
    '',
    `Machine: ${cpu}, ${os.cpus().length} cores, ${os.platform()} ${os.arch()}, Node ${process.version}; ` +
      `load average ${os.loadavg()[0]!.toFixed(1)} at the end of the run (times are noisy on a busy machine; sizes are exact).`,
    `Workload: ${int(opts.random)} random ${KEY_BYTES}-byte keys plus one tag's keys ` +
      '`tag ‖ u64be(h) ‖ u32be(0) ‖ pad` (64 bytes) for heights 0..n-1, random ' +
      `${VALUE_BYTES}-byte values (seed ${opts.seed}); one in-memory trie, committed, the tag's ` +
      'heights added between measurements. A range covers heights g..h of the tag (the ' +
      'whole tag, or the middle 1 or 100 heights of 10,000). Proof bytes: ' +
      '`encodeTrieRangeProof`; prove: `proveRange` (entries and proof); verify: ' +
      '`verifyTrieRange` on the encoded bytes (decoding included), @noble/hashes SHA-256 ' +
      `as a wallet runs it; times are the median of ${opts.runs} runs after three untimed ones. ` +
      'Baseline: `provePrefix(tag)` in the same run, whose answer is every entry of the tag.',
    '',
    ...lines,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const next = prng(opts.seed);
  const t = await createStateTrie({ keyBytes: KEY_BYTES, keepVersions: 1 });
  const t0 = performance.now();
  const batch = 10_000;
  for (let i = 0; i < opts.random; i += batch) {
    const ops = [];
    for (let j = i; j < Math.min(opts.random, i + batch); j++) {
      ops.push({
        type: 'put' as const,
        key: randomBytes(KEY_BYTES, next),
        value: randomBytes(VALUE_BYTES, next),
      });
    }
    await t.apply(ops);
  }
  await t.commit();
  process.stderr.write(
    `built ${int(opts.random)} random keys in ${ms(performance.now() - t0)} ms\n`,
  );
  const tag = randomBytes(32, next);
  const rows: Row[] = [];
  let have = 0;
  for (const n of TAG_HEIGHTS) {
    const ops = [];
    for (; have < n; have++) {
      ops.push({
        type: 'put' as const,
        key: txKey(tag, have),
        value: randomBytes(VALUE_BYTES, next),
      });
    }
    await t.apply(ops);
    await t.commit();
    process.stderr.write(`tag with ${int(n)} heights\n`);
    rows.push(await measure(t, tag, n, 0, n - 1, opts.runs));
    if (n === TAG_HEIGHTS[TAG_HEIGHTS.length - 1]) {
      for (const w of SUB_RANGES) {
        const g = Math.floor((n - w) / 2);
        rows.push(await measure(t, tag, n, g, g + w - 1, opts.runs));
      }
    }
  }
  const cmd = `tsx bench/range.bench.ts ${process.argv.slice(2).join(' ')}`.trim();
  const text = `${render(rows, opts)}\nCommand: \`${cmd}\` (${new Date().toISOString()}).\n`;
  process.stdout.write(`\n${text}`);
  if (opts.write) {
    const file = fileURLToPath(new URL('./results.md', import.meta.url));
    const old = readFileSync(file, 'utf8');
    const at = old.indexOf(`\n${RANGE_HEADING}\n`);
    const before = at >= 0 ? old.slice(0, at + 1) : `${old.trimEnd()}\n\n`;
    writeFileSync(file, `${before}${text}`);
    process.stderr.write(`wrote ${file}\n`);
  }
}

await main();
