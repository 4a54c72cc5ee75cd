/**
 * One (implementation, N) measurement, run in its own process by
 * trie.bench.ts so that peak memory and JIT state do not leak between runs.
 *
 * argv[2] is a JSON WorkerArgs; the result goes back over IPC as a
 * WorkerMessage. Progress goes to stderr. Exit code EXIT_BAD_PROOF means a
 * proof failed to verify (the driver then aborts the whole benchmark).
 */
import { hash as nodeHash } from 'node:crypto';
import { createMerkleProof, createMPT, verifyMerkleProof } from '@ethereumjs/mpt';
import { equalBytes, toHex } from '../src/bytes.js';
import type { HashFn } from '../src/hash.js';
import { createStateTrie, type TrieOp } from '../src/trie.js';
import { encodeTrieProof, verifyTrieInclusion } from '../src/trie-proof.js';
import {
  EXIT_BAD_PROOF,
  IMPL_LABEL,
  type WorkerArgs,
  type WorkerMessage,
  type WorkerResult,
} from './common.js';
import { type Dataset, makeDataset, sampleIndices } from './data.js';

class BadProof extends Error {}

const MAX_ROUNDS = 50;

/** What each implementation provides to the measurement loop. */
interface Subject {
  /** Keys inserted per `insert` call (our apply batch; progress granularity for the MPT). */
  step: number;
  /** Inserts entries [start, end): resolves once they are persisted and the root is computed. */
  insert(ds: Dataset, start: number, end: number): Promise<void>;
  root(): Uint8Array;
  /** Proof of `key`, serialized; `bytes` is its size. */
  prove(key: Uint8Array): Promise<{ bytes: number; proof: unknown }>;
  /** Verification, timed in a plain loop when synchronous. */
  verify(
    root: Uint8Array,
    key: Uint8Array,
    value: Uint8Array,
    proof: unknown,
  ): boolean | Promise<boolean>;
  /** Whether a proof with one flipped byte, or a flipped value, still verifies (it must not). */
  acceptsTampered(
    root: Uint8Array,
    key: Uint8Array,
    value: Uint8Array,
    proof: unknown,
  ): Promise<boolean>;
}

/** A full collection when started with --expose-gc (the driver does), else nothing. */
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

const nodeSha256: HashFn = (d) => nodeHash('sha256', d, 'buffer');

async function posSubject(hash: HashFn | undefined, batch: number, n: number): Promise<Subject> {
  const trie = await createStateTrie(hash ? { keyBytes: 32, hash } : { keyBytes: 32 });
  const opts = hash ? { hash } : {};
  const verify = (root: Uint8Array, key: Uint8Array, value: Uint8Array, proof: unknown) =>
    verifyTrieInclusion(root, key, value, proof as Uint8Array, opts);
  return {
    step: batch,
    async insert(ds, start, end) {
      const ops: TrieOp[] = new Array(end - start);
      for (let i = start; i < end; i++) {
        ops[i - start] = { type: 'put', key: ds.key(i), value: ds.value(i) };
      }
      await trie.apply(ops);
      // Bulk load: one commit (all nodes written to the in-memory store) once
      // everything is in, as "insert all + root" reads. A node commits per
      // block instead; that costs more node writes for the same data.
      if (end === n) {
        trie.root();
        await trie.commit();
      }
    },
    root: () => trie.root(),
    async prove(key) {
      const bytes = encodeTrieProof(await trie.prove(key));
      return { bytes: bytes.length, proof: bytes };
    },
    verify,
    async acceptsTampered(root, key, value, proof) {
      const p = (proof as Uint8Array).slice();
      p[p.length - 1]! ^= 1; // last byte of the deepest sibling
      const v = value.slice();
      v[0]! ^= 1;
      return verify(root, key, value, p) || verify(root, key, v, proof);
    },
  };
}

async function mptSubject(n: number): Promise<Subject> {
  // Keys are random already: no key hashing. Default in-memory DB (MapDB).
  const trie = await createMPT({ useKeyHashing: false });
  const verify = async (root: Uint8Array, key: Uint8Array, value: Uint8Array, proof: unknown) => {
    let got: Uint8Array | null;
    try {
      // Standalone verifier (what a light client runs): rebuilds a trie from
      // the proof nodes, checks the first node against `root`, reads the key.
      got = await verifyMerkleProof(key, proof as Uint8Array[], { root });
    } catch {
      return false;
    }
    return got !== null && equalBytes(got, value);
  };
  return {
    step: Math.max(1, Math.ceil(n / 100)),
    async insert(ds, start, end) {
      for (let i = start; i < end; i++) await trie.put(ds.key(i), ds.value(i));
      trie.root();
    },
    root: () => trie.root(),
    async prove(key) {
      const nodes = await createMerkleProof(trie, key);
      let bytes = 0;
      for (const node of nodes) bytes += node.length;
      return { bytes, proof: nodes };
    },
    verify,
    async acceptsTampered(root, key, value, proof) {
      const nodes = (proof as Uint8Array[]).map((x) => x.slice());
      const last = nodes[nodes.length - 1]!;
      last[last.length - 1]! ^= 1; // last byte of the leaf's value
      const v = value.slice();
      v[0]! ^= 1;
      return (await verify(root, key, value, nodes)) || (await verify(root, key, v, proof));
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >>> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const fmtInt = (x: number) => Math.round(x).toLocaleString('en-US');

async function run(args: WorkerArgs): Promise<WorkerResult> {
  const label = `${IMPL_LABEL[args.impl]} N=${fmtInt(args.n)}`;
  const say = (msg: string) => process.stderr.write(`  [${label}] ${msg}\n`);
  const t0 = performance.now();
  const ds = makeDataset(args.n, args.seed);
  const sample = sampleIndices(args.n, args.sample, args.seed ^ 0x27d4eb2f);
  const warm = sampleIndices(args.n, args.warmup, args.seed ^ 0x165667b1);
  say(`data generated in ${((performance.now() - t0) / 1000).toFixed(1)}s; building`);

  const s =
    args.impl === 'mpt'
      ? await mptSubject(args.n)
      : await posSubject(args.impl === 'pos-node' ? nodeSha256 : undefined, args.batch, args.n);

  // --- build: insert everything, persist, compute the root ---
  let nextReport = 0.1;
  const b0 = performance.now();
  for (let start = 0; start < args.n; start += s.step) {
    const end = Math.min(args.n, start + s.step);
    await s.insert(ds, start, end);
    if (end < args.n && end / args.n >= nextReport - 1e-9) {
      const secs = (performance.now() - b0) / 1000;
      say(
        `build ${Math.round((100 * end) / args.n)}%: ${fmtInt(end)} keys in ${secs.toFixed(1)}s ` +
          `(${fmtInt(end / secs)} inserts/s, RSS ${fmtInt(process.memoryUsage.rss() / 2 ** 20)} MB)`,
      );
      while (nextReport <= end / args.n + 1e-9) nextReport += 0.1;
    }
  }
  const root = s.root();
  const buildMs = performance.now() - b0;
  say(
    `build done in ${(buildMs / 1000).toFixed(2)}s; proving and verifying ${sample.length} keys ` +
      `(≥ ${args.rounds} passes, ≥ ${args.minPhaseMs} ms each phase)`,
  );

  // Collect the build's garbage now, not inside the timed proof loops.
  gc();

  // --- warm-up on other keys (untimed) ---
  for (const i of warm) {
    const { proof } = await s.prove(ds.key(i));
    if (!(await s.verify(root, ds.key(i), ds.value(i), proof))) {
      throw new BadProof(`warm-up proof of key #${i} (${toHex(ds.key(i))}) does not verify`);
    }
  }

  // Timed passes over the sample: at least `rounds` of them and at least
  // `minPhaseMs` in all (short passes are at the mercy of one GC pause).
  const moreRounds = (done: number, t0: number) =>
    done < args.rounds || (done < MAX_ROUNDS && performance.now() - t0 < args.minPhaseMs);

  // --- proof generation (serialization included): the median pass ---
  const proofs: unknown[] = new Array(sample.length);
  const sizes: number[] = new Array(sample.length);
  const genRounds: number[] = [];
  for (let t = performance.now(); moreRounds(genRounds.length, t); ) {
    const g0 = performance.now();
    for (let j = 0; j < sample.length; j++) {
      const p = await s.prove(ds.key(sample[j]!));
      proofs[j] = p.proof;
      sizes[j] = p.bytes;
    }
    genRounds.push(((performance.now() - g0) * 1000) / sample.length);
  }
  const genUs = median(genRounds);

  // --- verification: the median pass; every single one must pass ---
  const results: boolean[] = new Array(sample.length);
  const verifyRounds: number[] = [];
  for (let t = performance.now(); moreRounds(verifyRounds.length, t); ) {
    const v0 = performance.now();
    for (let j = 0; j < sample.length; j++) {
      const i = sample[j]!;
      const r = s.verify(root, ds.key(i), ds.value(i), proofs[j]);
      results[j] = typeof r === 'boolean' ? r : await r;
    }
    verifyRounds.push(((performance.now() - v0) * 1000) / sample.length);
    const failed = results.flatMap((r, j) => (r ? [] : [sample[j]!]));
    if (failed.length > 0) {
      const i = failed[0]!;
      throw new BadProof(
        `${failed.length} of ${sample.length} inclusion proofs do not verify; first: key #${i} ` +
          `${toHex(ds.key(i))} against root ${toHex(root)}`,
      );
    }
  }
  const verifyUs = median(verifyRounds);
  // A verifier that accepts anything would make the timings meaningless.
  const i0 = sample[0]!;
  if (await s.acceptsTampered(root, ds.key(i0), ds.value(i0), proofs[0])) {
    throw new BadProof(`a tampered proof or value verified (key #${i0} ${toHex(ds.key(i0))})`);
  }

  sizes.sort((a, b) => a - b);
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  say(
    `done: ${genUs.toFixed(1)} µs/proof (${genRounds.length} passes, ${Math.min(...genRounds).toFixed(1)}..${Math.max(...genRounds).toFixed(1)}), ` +
      `${verifyUs.toFixed(1)} µs/verify (${verifyRounds.length} passes, ${Math.min(...verifyRounds).toFixed(1)}..${Math.max(...verifyRounds).toFixed(1)}), ` +
      `${fmtInt(maxRssMb)} MB peak RSS`,
  );
  return {
    impl: args.impl,
    n: args.n,
    buildMs,
    insertsPerSec: args.n / (buildMs / 1000),
    genUs,
    verifyUs,
    proofBytesMedian: percentile(sizes, 50),
    proofBytesP99: percentile(sizes, 99),
    proofBytesMean: sizes.reduce((a, b) => a + b, 0) / sizes.length,
    maxRssMb,
    root: toHex(root),
  };
}

const send = (msg: WorkerMessage) =>
  new Promise<void>((resolve) => {
    if (process.send) process.send(msg, () => resolve());
    else {
      process.stdout.write(`${JSON.stringify(msg)}\n`);
      resolve();
    }
  });

const args = JSON.parse(process.argv[2] ?? 'null') as WorkerArgs | null;
if (!args) {
  process.stderr.write('usage: trie.worker.ts <json WorkerArgs> (started by trie.bench.ts)\n');
  process.exit(2);
}
run(args).then(
  async (result) => {
    await send({ ok: true, result });
    process.exit(0);
  },
  async (err: unknown) => {
    const bad = err instanceof BadProof;
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(
      `\n  !!! ${bad ? 'PROOF VERIFICATION FAILED' : 'worker failed'}: ${text}\n\n`,
    );
    await send({ ok: false, error: text });
    process.exit(bad ? EXIT_BAD_PROOF : 1);
  },
);
