/**
 * The worker threads of `createVerifyPool` (verify-pool.ts): starting them
 * (from dist or, under tsx, from src), sending them packed chunks, answering
 * or failing what each has in flight, replacing one that dies after serving,
 * and terminating them all.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { VerifyRequest, VerifyResponse } from './types.js';

/** A chunk in flight: its settle functions and its size (the worker's load). */
interface Pending {
  resolve(results: Uint8Array): void;
  reject(err: Error): void;
  n: number;
}

/** One worker thread and what it has in flight. */
export interface PoolWorker {
  readonly worker: Worker;
  /** Answered at least one request: its entry module loaded and runs. */
  served: boolean;
  exited: boolean;
  /** Items in flight. */
  load: number;
  readonly inflight: Map<number, Pending>;
}

/** The pool's set of workers. */
export interface PoolWorkers {
  /** Workers in the set (exited ones leave it). */
  readonly count: number;
  /** Workers started whose 'exit' has not fired. */
  readonly live: number;
  /** The live worker with the fewest items in flight (the first such), if any. */
  leastLoaded(): PoolWorker | undefined;
  /** Sends a chunk to `w`, transferring its buffers; resolves with the worker's answer. */
  send(w: PoolWorker, req: VerifyRequest): Promise<Uint8Array>;
  /** Fails everything in flight with `err` and terminates every worker; none is replaced. */
  closeAll(err: Error): Promise<void>;
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
 * Exported for tests of the worker protocol; use `createVerifyPool`.
 */
export function startVerifyWorker(): Worker {
  const js = new URL('./verify-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js);
  const ts = new URL('./verify-worker.ts', import.meta.url).href;
  const api = tsxEsmApiUrl();
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`;
  return new Worker(boot, { eval: true });
}

/** Rejects everything `w` has in flight. */
function failAll(w: PoolWorker, err: Error): void {
  for (const p of w.inflight.values()) p.reject(err);
  w.inflight.clear();
  w.load = 0;
}

/** Settles the chunk a worker answered; an idle worker stops holding the process. */
function onAnswer(w: PoolWorker, m: VerifyResponse): void {
  const p = w.inflight.get(m.id);
  if (p === undefined) return;
  w.inflight.delete(m.id);
  w.served = true;
  w.load -= p.n;
  if (w.inflight.size === 0) w.worker.unref();
  p.resolve(m.results);
}

/** Starts `threads` workers with `start` (default {@link startVerifyWorker}). */
export function createPoolWorkers(
  threads: number,
  start: () => Worker = startVerifyWorker,
): PoolWorkers {
  const workers: PoolWorker[] = [];
  let live = 0; // workers spawned whose 'exit' has not fired
  let closed = false;

  const spawn = (): PoolWorker => {
    const worker = start();
    const w: PoolWorker = { worker, served: false, exited: false, load: 0, inflight: new Map() };
    live++;
    worker.unref(); // referenced only while work is in flight (see send)
    worker.on('message', (m: VerifyResponse) => onAnswer(w, m));
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

  return {
    get count() {
      return workers.length;
    },
    get live() {
      return live;
    },
    leastLoaded() {
      let w: PoolWorker | undefined;
      for (const c of workers) if (!c.exited && (w === undefined || c.load < w.load)) w = c;
      return w;
    },
    send: (w, req) =>
      new Promise((resolve, reject) => {
        w.inflight.set(req.id, { resolve, reject, n: req.n });
        w.load += req.n;
        w.worker.ref();
        w.worker.postMessage(req, [
          req.keys.buffer,
          req.sigs.buffer,
          req.msgs.buffer,
          req.ends.buffer,
        ]);
      }),
    async closeAll(err) {
      closed = true;
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
