/**
 * What the indexes' proofs cost (docs/PROTOCOL.md 6.6, 6.7): the key history
 * (`pos_getHistory`, a range proof) and names (`pos_resolveName`, an
 * inclusion or exclusion proof), beside the baseline measured in the same
 * run, an owner's outputs (`pos_getOutputs`, the prefix completeness proof).
 *
 *   tsx bench/indexes.bench.ts [--others 100k] [--names 10k] [--sizes 1,100,10000] [--runs 21]
 *
 * One state trie (64-byte keys, in memory, committed once) holds `--others`
 * entries with random keys and 72-byte values (a busy chain's outputs), and
 * `--names` name records; and for each size n of `--sizes`, one key with n
 * outputs (their outpoint records too) and n history entries spread evenly
 * over heights 1..100,000. The keys and values are the ledger's
 * (`outputKey`, `encodeOutput`, `outpointRecordKey`, `encodeUnspentRecord`,
 * `historyKeyOf`, `encodeHistoryRecord`, `nameKey`, `encodeNameRecord`),
 * hashed as the node hashes (`sha256Short` up to 119 bytes, node:crypto
 * beyond). Random bytes come from a fixed seed, so the sizes repeat exactly.
 *
 * Columns, per query:
 * - proof and entries in the binary encodings (`encodeTrieRangeProof`,
 *   `encodeTrieProof`; an entry is its key and value), and the answer as the
 *   node sends it (the `result` object of docs/PROTOCOL.md 10.1 as JSON text,
 *   without the JSON-RPC envelope);
 * - prove: what the ledger's query does (`proveOutputs`, `proveHistory`,
 *   `proveName`, reproduced here on the trie: `@pos/node` is not a
 *   dependency of the wallet), building the answer's JSON not included.
 *   `proveHistory` first finds the lowest height from which the range holds
 *   at most `limit` entries (`newestStart` of @pos/node's chain/indexes.ts:
 *   probes by `proveRange` with `maxEntries: limit`, from `from`, then down
 *   from `to` by doubling and halving steps), proves that height's block
 *   when the newest `limit` start inside it, then proves the answer: "start"
 *   is the time until the answer's lower bound was known (of the median run);
 * - verify: the proof check and the decoding of every entry, with the
 *   wallet's default hash (`sha256Noble`): `verifyTrieRange` and
 *   `historyPosition` + `decodeHistoryRecord`; `verifyTrieCompleteness` and
 *   `decodeOutput`; `verifyTrieInclusion` of the rebuilt name record or
 *   `verifyTrieExclusion`;
 * - wallet call: the wallet's own function (`verifiedHistory`,
 *   `verifiedBalance`, `verifiedName`) from the answer's JSON text, parsing
 *   included, against a header it trusts (no certificate checked). A
 *   `pos_getHistory` answer holds at most 1,000 entries (`MAX_HISTORY_LIMIT`),
 *   so a longer whole history has no such call.
 *
 * Times are medians of `--runs` runs on one thread, after warm-up runs (at
 * least two and 50 ms' worth, so that a call of microseconds is timed
 * optimized) and, once before all of them, a full garbage collection of the
 * build's garbage (one before each measurement made the smallest slower,
 * not steadier: they then ran beside the collector's sweeping).
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { MAX_HISTORY_LIMIT, MAX_OUTPUTS } from '@pos/api';
import {
  createStateTrie,
  encodeTrieProof,
  encodeTrieRangeProof,
  type HashFn,
  MerkleError,
  type StateTrie,
  sha256Noble,
  sha256Short,
  type TrieEntry,
  type TrieOp,
  type TrieProof,
  trieProofToJSON,
  trieRangeProofToJSON,
  verifyTrieCompleteness,
  verifyTrieExclusion,
  verifyTrieInclusion,
  verifyTrieRange,
} from '@pos/merkle';
import {
  decodeHistoryRecord,
  decodeNameRecord,
  decodeOutpointRecord,
  decodeOutput,
  encodeHistoryRecord,
  encodeNameRecord,
  encodeOutput,
  encodeUnspentRecord,
  formatAmount,
  type HistoryRecord,
  type HistoryRole,
  historyKeyOf,
  historyPosition,
  historyPrefix,
  historyRange,
  isCoded,
  type NameRecord,
  nameKey,
  type Outpoint,
  type Output,
  outpointId,
  outpointRecordKey,
  outputKey,
  ownerPrefix,
  toHex,
} from '@pos/protocol';
import { forEachFlag, parseCount } from '../../../scripts/bench/args.js';
import type { CertifiedHeader } from '../src/types.js';
import { verifiedBalance } from '../src/verify/balance.js';
import type { HeaderVerifier } from '../src/verify/header.js';
import { verifiedHistory } from '../src/verify/history.js';
import { verifiedName } from '../src/verify/names.js';

interface Opts {
  others: number;
  names: number;
  sizes: number[];
  runs: number;
}

const USAGE =
  'usage: tsx bench/indexes.bench.ts [--others 100k] [--names 10k] [--sizes 1,100,10000] [--runs 21]';

function usage(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Opts {
  const o: Opts = { others: 100_000, names: 10_000, sizes: [1, 100, 10_000], runs: 21 };
  forEachFlag(argv, usage, 'Index proof sizes and verification times.', (flag, value) => {
    if (flag === '--others') o.others = parseCount(value(), usage, 0);
    else if (flag === '--names') o.names = parseCount(value(), usage, 1);
    else if (flag === '--sizes')
      o.sizes = value()
        .split(',')
        .map((s) => parseCount(s, usage));
    else if (flag === '--runs') o.runs = parseCount(value(), usage, 1);
    else return false;
    return true;
  });
  if (o.sizes.some((n) => n > MAX_OUTPUTS)) usage(`a size above ${MAX_OUTPUTS} (MAX_OUTPUTS)`);
  return o;
}

const say = (s: string) => process.stderr.write(`${s}\n`);

/** The node's SHA-256 (`sha256Node` of @pos/node): plain JS up to two blocks, node:crypto beyond. */
const nodeHash: HashFn = (data) => {
  if (data.length <= 119) return sha256Short(data);
  const d = createHash('sha256').update(data).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
};

/** Seeded random bytes (xorshift32): the same state, hence the same sizes, every run. */
function rng(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };
}

/** Height of the state; history entries are spread over 1..HEIGHT. */
const HEIGHT = 100_000;
/** The ledger's `MAX_HISTORY_SCAN`: most entries `proveHistory` reads in one block's height. */
const MAX_HISTORY_SCAN = 100_000;
/** The ledger's default `limit` of `proveHistory`, `pos_getHistory`'s and the wallet's. */
const LIMIT = 100;
const ROLES: HistoryRole[][] = [['input'], ['output'], ['input', 'output']];

interface Fixture {
  trie: StateTrie;
  head: CertifiedHeader;
  /** Keys with n outputs and n history entries, by n. */
  keys: Map<number, Uint8Array>;
  ownedName: string;
  freeName: string;
  entries: number;
}

async function build(o: Opts): Promise<Fixture> {
  const rand = rng(0x5eed);
  const trie = await createStateTrie({ keyBytes: 64, hash: nodeHash });
  let pending: TrieOp[] = [];
  let entries = 0;
  const put = async (key: Uint8Array, value: Uint8Array) => {
    pending.push({ type: 'put', key, value });
    entries++;
    if (pending.length >= 10_000) {
      await trie.apply(pending);
      pending = [];
    }
  };
  for (let i = 0; i < o.others; i++) await put(rand(64), rand(72));
  const host = rand(32);
  const keys = new Map<number, Uint8Array>();
  for (const n of o.sizes) {
    const key = rand(32);
    keys.set(n, key);
    const prefix = historyPrefix(key, nodeHash);
    for (let j = 0; j < n; j++) {
      const op: Outpoint = { txHash: rand(32), index: j % 256 };
      const output: Output = { amount: 100n + BigInt(j), owner: key, host };
      await put(outputKey(key, op, nodeHash), encodeOutput(output));
      await put(outpointRecordKey(outpointId(op, nodeHash)), encodeUnspentRecord(op, key));
      const height = Math.floor(((j + 1) * HEIGHT) / n);
      const rec: HistoryRecord = { roles: ROLES[j % 3]!, status: 'committed', txHash: rand(32) };
      await put(historyKeyOf(prefix, height, j % 7), encodeHistoryRecord(rec));
    }
  }
  for (let i = 0; i < o.names; i++) {
    const rec: NameRecord = { name: `user${i}`, owner: rand(32), sinceHeight: i % HEIGHT };
    await put(nameKey(rec.name, nodeHash), encodeNameRecord(rec));
  }
  await trie.apply(pending);
  const { root } = await trie.commit();
  const head: CertifiedHeader = {
    chainId: rand(32),
    height: HEIGHT,
    blockHash: rand(32),
    stateRoot: root,
    historyRoot: rand(32),
    historySize: HEIGHT + 1,
    epoch: 0,
    signedStake: 3n,
    totalStake: 4n,
    timestamp: Date.now(),
  };
  const ownedName = `user${Math.floor(o.names / 2)}`;
  return { trie, head, keys, ownedName, freeName: 'nobody-has-this', entries };
}

v8.setFlagsFromString('--expose-gc');
/** A full collection: the first measurement does not pay for the build's garbage. */
const gc = vm.runInNewContext('gc') as () => void;

/**
 * The median of `runs` timed calls (ms), with `side` of that call's result
 * (a part of it the call timed itself), after warm-up calls: at least two
 * and 50 ms' worth (so that a call of a few microseconds is timed once
 * optimized, not in the interpreter). `out` is the last call's result: no
 * other is kept, so that the runs of a large answer do not pile up garbage
 * for the later ones.
 */
async function timed<T>(
  runs: number,
  f: () => Promise<T> | T,
  side: (out: T) => number | undefined = () => undefined,
): Promise<{ ms: number; side: number | undefined; out: T }> {
  const w0 = performance.now();
  let out = await f();
  for (let i = 1; i < 2 || (performance.now() - w0 < 50 && i < 10_000); i++) out = await f();
  const all: { ms: number; side: number | undefined }[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    out = await f();
    all.push({ ms: performance.now() - t, side: side(out) });
  }
  all.sort((a, b) => a.ms - b.ms);
  return { ...all[all.length >> 1]!, out };
}

/** The wallet's view of the agent and headers: `answer` as JSON text, `head` trusted. */
function walletDeps(head: CertifiedHeader, answer: string) {
  const headers: HeaderVerifier = {
    at: async () => head,
    latest: async () => head,
    returned: (h) => h === head,
    highestEpoch: 0,
  };
  return { ask: async () => JSON.parse(answer) as unknown, hash: sha256Noble, headers };
}

interface Row {
  query: string;
  entries: number;
  proofBytes: number;
  entryBytes: number;
  jsonBytes: number;
  proveMs: number;
  /** Of `proveMs`, the time until the answer's lower bound was known. */
  startMs?: number;
  verifyMs: number;
  walletMs?: number;
}

const entryBytes = (es: readonly TrieEntry[]) =>
  es.reduce((a, e) => a + e.key.length + e.value.length, 0);
const hexEntries = (es: readonly TrieEntry[]) =>
  es.map((e) => ({ key: toHex(e.key), value: toHex(e.value) }));

/** `pos_getOutputs`: the ledger's `proveOutputs` (prefix proof, then each output's outpoint record). */
async function outputsRow(f: Fixture, n: number, runs: number): Promise<Row> {
  const key = f.keys.get(n)!;
  const prefix = ownerPrefix(key, nodeHash);
  const prove = async () => {
    const { entries, proof } = await f.trie.provePrefix(prefix, { maxEntries: MAX_OUTPUTS });
    const outputs: { outpoint: Outpoint; output: Output }[] = [];
    for (const e of entries) {
      const rec = decodeOutpointRecord((await f.trie.get(outpointRecordKey(e.key.subarray(32))))!);
      if (rec.spent) throw new Error('a spent record under an output');
      outputs.push({ outpoint: rec.outpoint, output: decodeOutput(e.value) });
    }
    return { entries, proof, outputs };
  };
  const p = await timed(runs, prove);
  const { entries, proof, outputs } = p.out;
  if (entries.length !== n) throw new Error(`${entries.length} outputs, not ${n}`);
  const answer = JSON.stringify({
    owner: toHex(key),
    height: f.head.height,
    stateRoot: toHex(f.head.stateRoot),
    prefix: toHex(prefix),
    entries: hexEntries(entries),
    proof: trieProofToJSON(proof),
    outputs: outputs.map((x) => ({
      outpoint: { txHash: toHex(x.outpoint.txHash), index: x.outpoint.index },
      amount: formatAmount(x.output.amount),
      owner: toHex(x.output.owner),
      host: toHex(x.output.host),
    })),
  });
  const root = f.head.stateRoot;
  const v = await timed(runs, () => {
    if (!verifyTrieCompleteness(root, prefix, entries, proof, { hash: sha256Noble })) {
      throw new Error('outputs proof refused');
    }
    return entries.map((e) => decodeOutput(e.value));
  });
  const deps = walletDeps(f.head, answer);
  const w = await timed(runs, () => verifiedBalance(deps, key));
  if (w.out.outputs.length !== n) throw new Error('the wallet saw other outputs');
  return {
    query: `pos_getOutputs, owner of ${n} output${n === 1 ? '' : 's'} (baseline)`,
    entries: n,
    proofBytes: encodeTrieProof(proof).length,
    entryBytes: entryBytes(entries),
    jsonBytes: Buffer.byteLength(answer),
    proveMs: p.ms,
    verifyMs: v.ms,
    walletMs: w.ms,
  };
}

/** The proof of [lo, hi] if it holds at most `cap` entries, else null: @pos/node's `fits` (chain/indexes.ts). */
async function fits(trie: StateTrie, lo: Uint8Array, hi: Uint8Array, cap: number) {
  try {
    return await trie.proveRange(lo, hi, { maxEntries: cap });
  } catch (e) {
    if (isCoded(e, MerkleError, ['OUT_OF_RANGE'])) return null;
    throw e;
  }
}

/**
 * The lowest height m in [from, to] such that [m, to] holds at most `limit`
 * entries, with the whole range's proof when it all fits: @pos/node's
 * `newestStart` (chain/indexes.ts), step for step.
 */
async function newestStart(
  trie: StateTrie,
  loOf: (height: number) => Uint8Array,
  hi: Uint8Array,
  { from, to, limit }: { from: number; to: number; limit: number },
) {
  const whole = await fits(trie, loOf(from), hi, limit);
  if (whole !== null) return { start: from, whole };
  let bad = from;
  let good = to + 1;
  for (let step = 1; good - step > bad; step *= 2) {
    const m = good - step;
    if ((await fits(trie, loOf(m), hi, limit)) === null) {
      bad = m;
      break;
    }
    good = m;
  }
  while (good - bad > 1) {
    const mid = Math.floor((bad + good) / 2);
    if ((await fits(trie, loOf(mid), hi, limit)) !== null) good = mid;
    else bad = mid;
  }
  return { start: good, whole: null };
}

/** `pos_getHistory` over heights 0..HEIGHT: the ledger's `proveHistory` with `limit`. */
async function historyRow(f: Fixture, n: number, limit: number, runs: number): Promise<Row> {
  const key = f.keys.get(n)!;
  const prefix = historyPrefix(key, nodeHash);
  const range = historyRange(key, 0, HEIGHT, nodeHash);
  const loOf = (h: number) => historyKeyOf(prefix, h, 0);
  const prove = async () => {
    const t = performance.now();
    let lo = range.lo;
    const { start: m, whole } = await newestStart(f.trie, loOf, range.hi, {
      from: 0,
      to: HEIGHT,
      limit,
    });
    if (whole === null) {
      const wider = await f.trie.proveRange(loOf(m - 1), range.hi, {
        maxEntries: MAX_HISTORY_SCAN,
      });
      lo = wider.entries[wider.entries.length - limit]!.key;
    }
    const startMs = performance.now() - t;
    const r = whole ?? (await f.trie.proveRange(lo, range.hi, { maxEntries: limit }));
    const records = r.entries.map((e) => ({
      ...decodeHistoryRecord(e.value),
      ...historyPosition(e.key, prefix)!,
    }));
    return { lo, ...r, records, startMs };
  };
  const p = await timed(runs, prove, (out) => out.startMs);
  const { lo, entries, proof, records } = p.out;
  if (entries.length !== Math.min(n, limit)) throw new Error(`${entries.length} entries`);
  const answer = JSON.stringify({
    key: toHex(key),
    height: f.head.height,
    stateRoot: toHex(f.head.stateRoot),
    lo: toHex(lo),
    hi: toHex(range.hi),
    entries: hexEntries(entries),
    proof: trieRangeProofToJSON(proof),
    history: records.map((r) => ({
      height: r.height,
      index: r.index,
      roles: [...r.roles],
      status: r.status,
      txHash: toHex(r.txHash),
    })),
  });
  const root = f.head.stateRoot;
  const v = await timed(runs, () => {
    if (!verifyTrieRange(root, lo, range.hi, entries, proof, { hash: sha256Noble })) {
      throw new Error('history proof refused');
    }
    return entries.map((e) => ({
      ...historyPosition(e.key, prefix)!,
      ...decodeHistoryRecord(e.value),
    }));
  });
  let walletMs: number | undefined;
  if (limit <= MAX_HISTORY_LIMIT) {
    const deps = walletDeps(f.head, answer);
    const w = await timed(runs, () => verifiedHistory(deps, key, { limit }));
    if (w.out.history.length !== entries.length) throw new Error('the wallet saw other entries');
    if (w.out.complete !== n <= limit) throw new Error('completeness misread');
    walletMs = w.ms;
  }
  const what = limit >= n ? 'whole' : `limit ${limit} (the newest)`;
  return {
    query: `pos_getHistory, key with ${n} entr${n === 1 ? 'y' : 'ies'}, ${what}`,
    entries: entries.length,
    proofBytes: encodeTrieRangeProof(proof).length,
    entryBytes: entryBytes(entries),
    jsonBytes: Buffer.byteLength(answer),
    proveMs: p.ms,
    ...(p.side === undefined ? {} : { startMs: p.side }),
    verifyMs: v.ms,
    ...(walletMs === undefined ? {} : { walletMs }),
  };
}

/** `pos_resolveName`: the ledger's `proveName` (record and path proof). */
async function nameRow(f: Fixture, name: string, runs: number): Promise<Row> {
  const key = nameKey(name, nodeHash);
  const prove = async () => {
    const bytes = await f.trie.get(key);
    const record = bytes === undefined ? undefined : decodeNameRecord(bytes);
    return { record, proof: await f.trie.prove(key) };
  };
  const p = await timed(runs, prove);
  const { record, proof } = p.out;
  const answer = JSON.stringify({
    name,
    height: f.head.height,
    stateRoot: toHex(f.head.stateRoot),
    owner: record === undefined ? null : toHex(record.owner),
    sinceHeight: record === undefined ? null : record.sinceHeight,
    proof: trieProofToJSON(proof),
  });
  const root = f.head.stateRoot;
  const verify = (pr: TrieProof) =>
    record === undefined
      ? verifyTrieExclusion(root, key, pr, { hash: sha256Noble })
      : verifyTrieInclusion(root, key, encodeNameRecord(record), pr, { hash: sha256Noble });
  const v = await timed(runs, () => {
    if (!verify(proof)) throw new Error('name proof refused');
  });
  const deps = walletDeps(f.head, answer);
  const w = await timed(runs, () => verifiedName(deps, name));
  if ((w.out.owner === null) !== (record === undefined)) throw new Error('the wallet misread');
  return {
    query: `pos_resolveName, ${record === undefined ? 'a free name (exclusion)' : 'an owned name (inclusion)'}`,
    entries: record === undefined ? 0 : 1,
    proofBytes: encodeTrieProof(proof).length,
    entryBytes: record === undefined ? 0 : key.length + encodeNameRecord(record).length,
    jsonBytes: Buffer.byteLength(answer),
    proveMs: p.ms,
    verifyMs: v.ms,
    walletMs: w.ms,
  };
}

const fmtInt = (n: number) => n.toLocaleString('en-US');
const fmtMs = (ms: number) =>
  ms >= 10 ? ms.toFixed(1) : ms >= 0.1 ? ms.toFixed(2) : ms.toFixed(3);

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  say(`building the state: ${o.others} others, ${o.names} names, keys of ${o.sizes.join('/')}...`);
  const t0 = performance.now();
  const f = await build(o);
  say(`  ${f.entries} entries in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  gc();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const rows: Row[] = [];
  for (const n of o.sizes) {
    say(`outputs ${n}...`);
    rows.push(await outputsRow(f, n, o.runs));
  }
  for (const n of o.sizes) {
    say(`history ${n}...`);
    rows.push(await historyRow(f, n, n, o.runs));
    if (n > LIMIT) rows.push(await historyRow(f, n, LIMIT, o.runs));
    if (n > MAX_HISTORY_LIMIT) rows.push(await historyRow(f, n, MAX_HISTORY_LIMIT, o.runs));
  }
  say('names...');
  rows.push(await nameRow(f, f.ownedName, o.runs));
  rows.push(await nameRow(f, f.freeName, o.runs));
  const lines = [
    `| ${fmtInt(f.entries)} state entries (${fmtInt(o.others)} random, ${fmtInt(o.names)} names); median of ${o.runs} runs | entries | proof, binary (B) | entries, binary (B) | answer, JSON (B) | prove (ms) | verify: proof + decode (ms) | wallet call from JSON (ms) |`,
    '|---|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (r) =>
        `| ${r.query} | ${fmtInt(r.entries)} | ${fmtInt(r.proofBytes)} | ${fmtInt(r.entryBytes)} | ${fmtInt(r.jsonBytes)} | ${fmtMs(r.proveMs)}${r.startMs === undefined ? '' : ` (start ${fmtMs(r.startMs)})`} | ${fmtMs(r.verifyMs)} | ${r.walletMs === undefined ? `– (limit ≤ ${fmtInt(MAX_HISTORY_LIMIT)})` : fmtMs(r.walletMs)} |`,
    ),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
});
