/**
 * SHA-256 for the short preimages the trees hash (docs/PROTOCOL.md 3.1, 4):
 * `sha256Short` (src/sha256-short.ts) beside @noble/hashes and
 * `node:crypto`'s one-shot `hash()`, measured in the same run, µs per call,
 * digest allocation included. The node hashes inputs of at most 119 bytes
 * with `sha256Short` and longer ones with `node:crypto`
 * (packages/node/src/crypto/crypto.ts); this table is why.
 *
 *   tsx bench/hash.bench.ts [--calls 300k] [--rounds 3]
 */
import { hash as cryptoHash, randomBytes } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { forEachFlag, parseCount } from '../../../scripts/bench/args.js';
import type { HashFn } from '../src/hash.js';
import { sha256Short } from '../src/sha256-short.js';

const IMPLS: Array<[string, HashFn]> = [
  ['sha256Short (JS, scratch reused)', sha256Short],
  ['@noble/hashes sha256', (d) => sha256(d)],
  ['node:crypto hash()', (d) => cryptoHash('sha256', d, 'buffer')],
];

/** Input lengths: a log node (65), a trie node (67), a 32-byte-key leaf (65), the two-block edge, then longer. */
const LENGTHS = [32, 65, 67, 119, 120, 183, 300, 1000];

const USAGE = 'usage: tsx bench/hash.bench.ts [--calls 300k] [--rounds 3]';

function fail(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): { calls: number; rounds: number } {
  const o = { calls: 300_000, rounds: 3 };
  forEachFlag(argv, fail, USAGE, (flag, value) => {
    if (flag === '--calls') o.calls = parseCount(value(), fail);
    else if (flag === '--rounds') o.rounds = parseCount(value(), fail);
    else return false;
    return true;
  });
  return o;
}

/** Best of `rounds` timed loops of `calls` calls, after a warm-up: µs per call. */
function timeCall(fn: HashFn, data: Uint8Array, calls: number, rounds: number): number {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink ^= fn(data)[0]!;
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) sink ^= fn(data)[0]!;
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / calls / 1000);
  }
  if (sink === 256) process.stdout.write(''); // keeps the digests observable
  return best;
}

const opts = parseArgs(process.argv.slice(2));
const inputs = LENGTHS.map((n) => randomBytes(n));
for (const d of inputs) {
  const want = Buffer.from(cryptoHash('sha256', d, 'buffer')).toString('hex');
  for (const [name, fn] of IMPLS) {
    if (Buffer.from(fn(d)).toString('hex') !== want)
      throw new Error(`${name} disagrees at ${d.length} bytes`);
  }
}
process.stdout.write(
  `| input bytes | ${IMPLS.map(([n]) => n).join(' | ')} |\n|---:|${IMPLS.map(() => '---:').join('|')}|\n`,
);
for (const d of inputs) {
  const cells = IMPLS.map(([, fn]) => timeCall(fn, d, opts.calls, opts.rounds).toFixed(2));
  process.stdout.write(`| ${d.length} | ${cells.join(' | ')} |\n`);
}
process.stdout.write(
  `(µs per call, best of ${opts.rounds} × ${opts.calls} calls; node ${process.version})\n`,
);
