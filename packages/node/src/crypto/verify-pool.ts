/**
 * The worker-thread verifier (docs/PROTOCOL.md 2; crypto.ts states the
 * rule): items are checked for well-formedness on the calling thread, packed
 * into chunks of transferred buffers and spread over the pool's workers
 * (pool-workers.ts), which answer with `verifyEd25519Sync`.
 */
import { availableParallelism } from 'node:os';
import { checkEd25519Encoding } from '@pos/protocol';
import { createPoolWorkers } from './pool-workers.js';
import type { Ed25519VerifyItem, VerifyPool, VerifyPoolOptions, VerifyRequest } from './types.js';

/** Items per message to a worker: amortizes postMessage (~tens of µs) over ~170 µs verifies. */
const MAX_CHUNK = 512;

/** Fields of the right types and bytes that pass the project's encoding checks. */
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

/** Packs well-formed items into one request of four fresh (transferable) buffers. */
function packChunk(id: number, items: readonly Ed25519VerifyItem[]): VerifyRequest {
  const n = items.length;
  let total = 0;
  for (const it of items) total += it.message.length;
  const req: VerifyRequest = {
    id,
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
  return req;
}

interface Queued {
  item: Ed25519VerifyItem;
  resolve(ok: boolean): void;
  reject(e: Error): void;
}

/** `verify` calls of one tick, sent as one batch at the end of the tick. */
function createTickBatcher(run: (items: readonly Ed25519VerifyItem[]) => Promise<boolean[]>) {
  let queued: Queued[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    const q = queued;
    queued = [];
    run(q.map((e) => e.item)).then(
      (res) => {
        for (let i = 0; i < q.length; i++) q[i]!.resolve(res[i]!);
      },
      (err: Error) => {
        for (const e of q) e.reject(err);
      },
    );
  };
  return {
    push(item: Ed25519VerifyItem): Promise<boolean> {
      return new Promise((resolve, reject) => {
        queued.push({ item, resolve, reject });
        if (!flushScheduled) {
          flushScheduled = true;
          queueMicrotask(flush);
        }
      });
    },
    rejectAll(err: Error): void {
      for (const e of queued) e.reject(err);
      queued = [];
    },
  };
}

/**
 * Starts a pool of worker threads that verify with `verifyEd25519Sync`
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
  const workers = createPoolWorkers(threads);
  let closed = false;
  let nextId = 0;

  const dispatch = (items: readonly Ed25519VerifyItem[]): Promise<Uint8Array> => {
    if (closed) return Promise.reject(new Error('verify pool is closed'));
    const w = workers.leastLoaded();
    if (w === undefined) return Promise.reject(new Error('verify pool has no live worker'));
    return workers.send(w, packChunk(nextId++, items));
  };

  const verifyBatch = async (items: readonly Ed25519VerifyItem[]): Promise<boolean[]> => {
    if (closed) throw new Error('verify pool is closed');
    if (!Array.isArray(items)) throw new TypeError('verifyBatch takes an array of items');
    const out = new Array<boolean>(items.length).fill(false);
    const idx: number[] = [];
    for (let i = 0; i < items.length; i++) if (wellFormed(items[i])) idx.push(i);
    if (idx.length === 0) return out;
    // At least one chunk per worker, so a batch spreads over all of them.
    const size = Math.min(MAX_CHUNK, Math.ceil(idx.length / workers.count));
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
  const ticks = createTickBatcher(verifyBatch);

  return {
    threads,
    get liveWorkers() {
      return workers.live;
    },
    verify(publicKey, message, signature) {
      if (closed) return Promise.reject(new Error('verify pool is closed'));
      const item = { publicKey, message, signature };
      if (!wellFormed(item)) return Promise.resolve(false);
      return ticks.push(item);
    },
    verifyBatch,
    async close() {
      if (closed) return;
      closed = true;
      const err = new Error('verify pool is closed');
      ticks.rejectAll(err);
      await workers.closeAll(err);
    },
  };
}
