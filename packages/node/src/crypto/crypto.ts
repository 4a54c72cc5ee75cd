/**
 * The node's Ed25519 verifiers (PROTOCOL.md section 2): node:crypto
 * (OpenSSL) for speed, under the project's one acceptance rule.
 *
 * The rule is stated once, in @pos/wallet-client's `ed25519.ts`: byte checks
 * (`checkEd25519Encoding`: lengths, S < L, canonical A and R, neither of small
 * order) and then the cofactorless equation encode([S]B − [k]A) = R of RFC
 * 8032 section 5.1.7, which is the equation OpenSSL checks. Every verifier
 * here runs `checkEd25519Encoding` first, so it accepts exactly what the
 * wallet's `verifyEd25519` (noble) accepts; test/crypto.test.ts holds them
 * to the same vector table (packages/test-utils/src/ed25519-vectors.ts). Without the
 * byte checks OpenSSL would accept signatures under small-order and
 * non-canonical keys that the wallet rejects (vectors "speccheck 1", "CCTV 9").
 *
 * Three forms, same answers:
 *  - {@link verifyEd25519Sync}: on the calling thread;
 *  - {@link verifyEd25519Async}: OpenSSL on the libuv threadpool;
 *  - {@link createVerifyPool}: worker threads, fed in packed chunks;
 * and {@link verifyEd25519Batch} for many at once, on a shared pool (the
 * choice is argued there, with bench/results.md).
 */
import {
  createPrivateKey,
  createPublicKey,
  hash as cryptoHash,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { HashFn } from '@pos/merkle';
import { checkEd25519Encoding } from '@pos/protocol';

/**
 * Most KeyObjects kept by {@link verifyEd25519Sync} and friends (per thread).
 * Importing a key costs about a tenth of a verification (18 µs against
 * 170 µs here); validator keys recur constantly, so they stay cached, while
 * a flood of one-off keys cannot grow memory beyond this.
 */
export const ED25519_KEY_CACHE_MAX = 4096;

// Map iteration order is insertion order: re-inserting on a hit makes the
// first key the least recently used one. Keyed by the key's base64url, which
// the JWK import needs anyway.
const keyCache = new Map<string, KeyObject>();

/**
 * The KeyObject of a raw 32-byte key, built through a JWK ({ kty: 'OKP',
 * crv: 'Ed25519', x }), which OpenSSL turns into a key directly
 * (EVP_PKEY_new_raw_public_key). The equivalent DER SPKI import
 * (302a300506032b6570032100 ‖ key) goes through OpenSSL 3.0's decoder
 * framework and measured 179 µs per key against 18 µs for the JWK, more than
 * a whole verification, which a stream of distinct keys (transactions from
 * many wallets) would pay on every cache miss. Neither import checks the
 * point; `checkEd25519Encoding` ran before, and OpenSSL's verify fails on a
 * key that does not decode.
 */
function keyObjectFor(publicKey: Uint8Array): KeyObject {
  const x = Buffer.from(publicKey.buffer, publicKey.byteOffset, publicKey.byteLength).toString(
    'base64url',
  );
  const hit = keyCache.get(x);
  if (hit !== undefined) {
    keyCache.delete(x);
    keyCache.set(x, hit);
    return hit;
  }
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
  if (keyCache.size >= ED25519_KEY_CACHE_MAX) {
    const oldest = keyCache.keys().next();
    if (!oldest.done) keyCache.delete(oldest.value);
  }
  keyCache.set(x, key);
  return key;
}

/** Number of KeyObjects cached on this thread (at most {@link ED25519_KEY_CACHE_MAX}). */
export function ed25519KeyCacheSize(): number {
  return keyCache.size;
}

/**
 * Verifies under the project rule on the calling thread: the wallet's
 * `checkEd25519Encoding`, then OpenSSL's cofactorless check. 5,600–7,200/s
 * on one core here (bench/results.md). Never throws: malformed input of any
 * type is `false`.
 */
export function verifyEd25519Sync(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    if (!checkEd25519Encoding(publicKey, signature)) return false;
    if (!(message instanceof Uint8Array)) return false;
    return cryptoVerify(null, message, keyObjectFor(publicKey), signature);
  } catch {
    return false;
  }
}

/**
 * {@link verifyEd25519Sync} with the OpenSSL work on the libuv threadpool
 * (the callback form of `crypto.verify`). Node copies the inputs when the job
 * is created, so the caller may reuse its buffers at once. Never rejects:
 * malformed input resolves to `false`.
 */
export function verifyEd25519Async(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  let key: KeyObject;
  try {
    if (!checkEd25519Encoding(publicKey, signature)) return Promise.resolve(false);
    if (!(message instanceof Uint8Array)) return Promise.resolve(false);
    key = keyObjectFor(publicKey);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    try {
      cryptoVerify(null, message, key, signature, (err, ok) => resolve(err === null && ok));
    } catch {
      resolve(false);
    }
  });
}

/** One signature to check: the signer's key, the signed bytes, the signature. */
export interface Ed25519VerifyItem {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** A set of worker threads that verify under the project rule. */
export interface VerifyPool {
  /** Worker threads the pool was created with. */
  readonly threads: number;
  /** Workers started and not yet exited (0 after {@link VerifyPool.close}). */
  readonly liveWorkers: number;
  /**
   * One signature. Calls made in the same tick are sent together, so a loop
   * of `verify` calls costs about what one `verifyBatch` does; the buffers
   * are read at the end of the tick, so keep them unchanged until then. Resolves
   * `false` for malformed input; rejects only if the pool is closed or a
   * worker died with the item in flight (a local fault, not a verdict).
   */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /**
   * Many signatures, one verdict each, in order; the buffers are copied
   * before it returns. Same failure rules as `verify`, and a TypeError for a
   * non-array.
   */
  verifyBatch(items: readonly Ed25519VerifyItem[]): Promise<boolean[]>;
  /** Terminates the workers; pending and later calls reject. Resolves when all have exited. */
  close(): Promise<void>;
}

/** Options of {@link createVerifyPool}. */
export interface VerifyPoolOptions {
  /** Worker threads; default `os.availableParallelism()`. */
  threads?: number;
}

/** Items per message to a worker: amortizes postMessage (~tens of µs) over ~170 µs verifies. */
const MAX_CHUNK = 512;

/** A chunk as the worker receives it: every buffer is transferred, not copied. */
export interface VerifyRequest {
  id: number;
  n: number;
  /** n × 32 bytes of keys. */
  keys: Uint8Array<ArrayBuffer>;
  /** n × 64 bytes of signatures. */
  sigs: Uint8Array<ArrayBuffer>;
  /** The messages, back to back. */
  msgs: Uint8Array<ArrayBuffer>;
  /** End offset of message i in `msgs`. */
  ends: Uint32Array<ArrayBuffer>;
}

/** The worker's answer: `results[i]` is 1 for a valid signature. */
export interface VerifyResponse {
  id: number;
  results: Uint8Array<ArrayBuffer>;
}

interface Pending {
  resolve(results: Uint8Array): void;
  reject(err: Error): void;
  n: number;
}

interface PoolWorker {
  worker: Worker;
  /** Answered at least one request: its entry module loaded and runs. */
  served: boolean;
  exited: boolean;
  load: number;
  inflight: Map<number, Pending>;
}

/** URL of tsx's ESM register API (tsx is a dev dependency: only tests and benches get here). */
function tsxEsmApiUrl(): string {
  // Under `uvu -r tsx` this module is compiled to CommonJS, where import.meta
  // has a url and no resolve. require.resolve then finds the package's
  // "require" build (index.cjs), whose register() points at a file that does
  // not exist; the "import" build is index.mjs beside it.
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('tsx/esm/api');
  const cjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  return pathToFileURL(cjs.replace(/\.cjs$/, '.mjs')).href;
}

/**
 * Starts one worker on the script next to this module: `verify-worker.js`
 * when running from dist; else `verify-worker.ts` (tests and benches run src
 * under tsx). A .ts worker needs tsx's loader in its own thread, and on Node
 * 20 neither an inherited nor an explicit `execArgv: ['--import', 'tsx']`
 * applies it to the worker's entry module (ERR_UNKNOWN_FILE_EXTENSION; tried
 * under the tsx CLI, `node --import tsx` and `uvu -r tsx`). So the worker
 * runs a two-line bootstrap that registers tsx (`tsx/esm/api`) and then
 * imports the .ts entry; a built package always takes the .js path.
 * Exported for tests of the worker protocol; use {@link createVerifyPool}.
 */
export function startVerifyWorker(): Worker {
  const js = new URL('./verify-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  const ts = new URL('./verify-worker.ts', import.meta.url).href;
  const api = tsxEsmApiUrl();
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { eval: true });
}

function wellFormed(it: unknown): it is Ed25519VerifyItem {
  if (typeof it !== 'object' || it === null) return false;
  const { publicKey, message, signature } = it as Record<string, unknown>;
  return (
    publicKey instanceof Uint8Array &&
    message instanceof Uint8Array &&
    signature instanceof Uint8Array &&
    checkEd25519Encoding(publicKey, signature)
  );
}

/**
 * Starts a pool of worker threads that verify with {@link verifyEd25519Sync}
 * (same rule, same answers). Items failing the byte checks are answered
 * `false` on the calling thread and never sent; the rest go in chunks of up
 * to 512, packed into four transferred buffers per chunk, to the least
 * loaded worker. Call `close()` when done; idle workers do not keep the
 * process alive.
 */
export function createVerifyPool(options: VerifyPoolOptions = {}): VerifyPool {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isSafeInteger(threads) || threads < 1) {
    throw new RangeError(`threads must be an integer >= 1, got ${String(threads)}`);
  }
  const workers: PoolWorker[] = [];
  let live = 0; // workers spawned whose 'exit' has not fired
  let closed = false;
  let nextId = 0;
  let queued: { item: Ed25519VerifyItem; resolve(ok: boolean): void; reject(e: Error): void }[] =
    [];
  let flushScheduled = false;

  const failAll = (w: PoolWorker, err: Error) => {
    for (const p of w.inflight.values()) p.reject(err);
    w.inflight.clear();
    w.load = 0;
  };

  const spawn = (): PoolWorker => {
    const worker = startVerifyWorker();
    const w: PoolWorker = { worker, served: false, exited: false, load: 0, inflight: new Map() };
    live++;
    worker.unref(); // referenced only while work is in flight (see dispatch)
    worker.on('message', (m: VerifyResponse) => {
      const p = w.inflight.get(m.id);
      if (p === undefined) return;
      w.inflight.delete(m.id);
      w.served = true;
      w.load -= p.n;
      if (w.inflight.size === 0) worker.unref();
      p.resolve(m.results);
    });
    worker.on('error', (err) => failAll(w, err));
    worker.on('exit', (code) => {
      w.exited = true;
      live--;
      failAll(w, new Error(`ed25519 verify worker exited (code ${code})`));
      const i = workers.indexOf(w);
      if (i >= 0) workers.splice(i, 1);
      // Replace a worker that had been serving; one that died before its
      // first answer would die again (a broken entry module), and a respawn
      // loop helps no one.
      if (!closed && w.served) workers.push(spawn());
    });
    return w;
  };
  for (let i = 0; i < threads; i++) workers.push(spawn());

  const dispatch = (items: readonly Ed25519VerifyItem[]): Promise<Uint8Array> => {
    if (closed) return Promise.reject(new Error('verify pool is closed'));
    let w: PoolWorker | undefined;
    for (const c of workers) if (!c.exited && (w === undefined || c.load < w.load)) w = c;
    if (w === undefined) return Promise.reject(new Error('verify pool has no live worker'));
    const target = w;
    const n = items.length;
    let total = 0;
    for (const it of items) total += it.message.length;
    const req: VerifyRequest = {
      id: nextId++,
      n,
      keys: new Uint8Array(32 * n),
      sigs: new Uint8Array(64 * n),
      msgs: new Uint8Array(total),
      ends: new Uint32Array(n),
    };
    let off = 0;
    for (let i = 0; i < n; i++) {
      const it = items[i]!;
      req.keys.set(it.publicKey, 32 * i);
      req.sigs.set(it.signature, 64 * i);
      req.msgs.set(it.message, off);
      off += it.message.length;
      req.ends[i] = off;
    }
    return new Promise((resolve, reject) => {
      target.inflight.set(req.id, { resolve, reject, n });
      target.load += n;
      target.worker.ref();
      target.worker.postMessage(req, [
        req.keys.buffer,
        req.sigs.buffer,
        req.msgs.buffer,
        req.ends.buffer,
      ]);
    });
  };

  const verifyBatch = async (items: readonly Ed25519VerifyItem[]): Promise<boolean[]> => {
    if (closed) throw new Error('verify pool is closed');
    if (!Array.isArray(items)) throw new TypeError('verifyBatch takes an array of items');
    const out = new Array<boolean>(items.length).fill(false);
    const idx: number[] = [];
    for (let i = 0; i < items.length; i++) if (wellFormed(items[i])) idx.push(i);
    if (idx.length === 0) return out;
    // At least one chunk per worker, so a batch spreads over all of them.
    const size = Math.min(MAX_CHUNK, Math.ceil(idx.length / workers.length));
    const jobs: Promise<void>[] = [];
    for (let start = 0; start < idx.length; start += size) {
      const part = idx.slice(start, start + size);
      jobs.push(
        dispatch(part.map((i) => items[i]!)).then((res) => {
          for (let j = 0; j < part.length; j++) out[part[j]!] = res[j] === 1;
        }),
      );
    }
    await Promise.all(jobs);
    return out;
  };

  const flush = () => {
    flushScheduled = false;
    const q = queued;
    queued = [];
    verifyBatch(q.map((e) => e.item)).then(
      (res) => {
        for (let i = 0; i < q.length; i++) q[i]!.resolve(res[i]!);
      },
      (err: Error) => {
        for (const e of q) e.reject(err);
      },
    );
  };

  return {
    threads,
    get liveWorkers() {
      return live;
    },
    verify(publicKey, message, signature) {
      if (closed) return Promise.reject(new Error('verify pool is closed'));
      const item = { publicKey, message, signature };
      if (!wellFormed(item)) return Promise.resolve(false);
      return new Promise((resolve, reject) => {
        queued.push({ item, resolve, reject });
        if (!flushScheduled) {
          flushScheduled = true;
          queueMicrotask(flush);
        }
      });
    },
    verifyBatch,
    async close() {
      if (closed) return;
      closed = true;
      const err = new Error('verify pool is closed');
      for (const e of queued) e.reject(err);
      queued = [];
      await Promise.all(
        workers.map(async (w) => {
          failAll(w, err);
          if (!w.exited) await w.worker.terminate();
        }),
      );
      workers.length = 0;
    },
  };
}

/** Most verifications {@link verifyEd25519BatchOnLibuv} keeps in flight. */
export const ED25519_BATCH_IN_FLIGHT = 256;

/**
 * Many signatures through {@link verifyEd25519Async}, at most 256 in flight
 * (bounded, as each job holds a copy of its inputs); one verdict each, in
 * order. Malformed items are `false`; rejects only with a TypeError when
 * `items` is not an array. The fallback of {@link verifyEd25519Batch}.
 */
export function verifyEd25519BatchOnLibuv(items: readonly Ed25519VerifyItem[]): Promise<boolean[]> {
  if (!Array.isArray(items)) {
    return Promise.reject(new TypeError('verifyEd25519BatchOnLibuv takes an array of items'));
  }
  const n = items.length;
  const out = new Array<boolean>(n).fill(false);
  if (n === 0) return Promise.resolve(out);
  return new Promise((resolve) => {
    let next = 0;
    let done = 0;
    const launch = () => {
      const i = next++;
      let job: Promise<boolean>;
      try {
        // Garbage items (null, numbers, missing fields) reach the verifier as
        // undefined fields, which it answers false.
        const it = (items[i] ?? {}) as Ed25519VerifyItem;
        job = verifyEd25519Async(it.publicKey, it.message, it.signature);
      } catch {
        job = Promise.resolve(false); // a hostile getter on a garbage item
      }
      void job.then((ok) => {
        out[i] = ok;
        if (++done === n) resolve(out);
        else if (next < n) launch();
      });
    };
    for (let k = 0; k < Math.min(ED25519_BATCH_IN_FLIGHT, n); k++) launch();
  });
}

// The pool behind verifyEd25519Batch, started on first use. Its idle workers
// are unref'd, so it never keeps a process alive.
let sharedPool: VerifyPool | null = null;

/**
 * Verifies many signatures under the project rule, one verdict each, in
 * order, on a shared worker pool ({@link createVerifyPool}, one thread per
 * available core, started on first use). Malformed items are `false`.
 * Rejects only with a TypeError when `items` is not an array: if the pool
 * fails (a worker died, threads cannot start), the batch is redone with
 * {@link verifyEd25519BatchOnLibuv}, the same rule.
 *
 * Why the pool (bench/results.md: 2 cores, 20,000 signatures; this
 * function and {@link verifyEd25519BatchOnLibuv} alternated 6 rounds each,
 * medians): in throughput they tie near the hardware's ceiling, about twice
 * verifyEd25519Sync: 9,969/s against 9,922/s (1.00x) with a distinct key per
 * signature, 11,967/s against 11,651/s (1.03x) with 64 recurring keys
 * (validators signing events, the hot path); an earlier run gave 0.99x and
 * 1.18x. What decides is the node's own thread: with the main thread busy
 * (standing in for consensus), the libuv form's 4 threads left it 0.11–0.27
 * of its idle speed, the pool's 2 threads 0.61–0.63 (verifying 7,377–8,077/s
 * against 9,603–9,773/s: the libuv form verifies more by taking the node's
 * thread). The pool lets verification use the other cores without starving
 * consensus; `createVerifyPool({ threads })` sets the split explicitly.
 */
export async function verifyEd25519Batch(items: readonly Ed25519VerifyItem[]): Promise<boolean[]> {
  if (!Array.isArray(items)) throw new TypeError('verifyEd25519Batch takes an array of items');
  try {
    sharedPool ??= createVerifyPool();
    return await sharedPool.verifyBatch(items);
  } catch {
    // A local fault, not a verdict. A pool left without workers is replaced
    // on the next call; this batch gets its answers from the libuv form.
    if (sharedPool !== null && sharedPool.liveWorkers === 0) {
      void sharedPool.close();
      sharedPool = null;
    }
    return verifyEd25519BatchOnLibuv(items);
  }
}

/** SHA-256 through `node:crypto` (the node's hash: several times @noble/hashes' speed here). */
export const sha256Node: HashFn = (data) => {
  // The one-shot form: about 2.1 µs for a 65-byte trie node here, against
  // 3.1 µs through createHash (an object per call).
  const d = cryptoHash('sha256', data, 'buffer');
  return new Uint8Array(d.buffer, d.byteOffset, d.length);
};

/**
 * An Ed25519 signer over a 32-byte seed through `node:crypto` (RFC 8032
 * signatures are deterministic, so re-signing after a restart gives the same
 * bytes). The key object is built once.
 */
export function createEd25519Signer(
  secretKey: Uint8Array,
  publicKey: Uint8Array,
): (message: Uint8Array) => Uint8Array {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const key = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', d: b64(secretKey), x: b64(publicKey) },
    format: 'jwk',
  });
  return (message) => {
    const s = cryptoSign(null, message, key);
    return new Uint8Array(s.buffer, s.byteOffset, s.length);
  };
}
