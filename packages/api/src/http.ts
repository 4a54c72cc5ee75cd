/**
 * The HTTP transport: JSON-RPC 2.0 over `POST <url>/rpc` (docs/PROTOCOL.md
 * 10), with `fetch` injected (the global one by default: browsers, Node 18+),
 * an optional timeout, and batches. Every failure is an {@link ApiError}: a
 * JSON-RPC error answer by its code, or what kept an answer from being read
 * (`UNREACHABLE`, `TIMEOUT`, `BAD_RESPONSE`).
 *
 * The HTTP status is not looked at: the node answers every JSON-RPC error
 * with a JSON-RPC body, a 413 or 415 included (docs/PROTOCOL.md 10), and
 * that body says more than the status.
 *
 * @module
 */
import { ApiError, apiErrorFromRpc } from './errors.js';
import type { RpcCall, Transport } from './interface.js';

/** The part of `fetch` the transport uses. */
export type FetchLike = (
  url: string,
  init: {
    method: 'POST';
    headers: Record<string, string>;
    body: string;
    signal?: unknown;
  },
) => Promise<{ status: number; json(): Promise<unknown> }>;

/** Options of {@link createHttpTransport}. */
export interface HttpTransportOpts {
  /** The node's RPC origin, e.g. `http://127.0.0.1:8680` (a trailing `/` is ignored). */
  readonly url: string;
  /** Default: the global `fetch`. */
  readonly fetch?: FetchLike;
  /** Give up on an answer after this many ms (`TIMEOUT`); 0: wait as long as it takes. */
  readonly timeoutMs?: number;
  /** The JSON-RPC path; default `/rpc`. */
  readonly path?: string;
}

/** Defaults of {@link HttpTransportOpts}. */
export const defaultHttpTransportOpts = { timeoutMs: 0, path: '/rpc' } as const;

/** A transport over HTTP; `url` is the endpoint it posts to. */
export interface HttpTransport extends Transport {
  readonly url: string;
}

// Timers and AbortController exist in browsers and Node; declared here since
// the package compiles without DOM or Node typings.
interface Timers {
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
  AbortController?: new () => { readonly signal: unknown; abort(): void };
  fetch?: FetchLike;
}
const timers = globalThis as unknown as Timers;

/** The message `fetch` itself gives a request aborted by `AbortSignal.timeout`. */
const TIMEOUT_MESSAGE = 'The operation was aborted due to timeout';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Creates the HTTP transport of the node at `opts.url`. */
export function createHttpTransport(opts: HttpTransportOpts): HttpTransport {
  const doFetch = opts.fetch ?? timers.fetch;
  if (typeof doFetch !== 'function') throw new TypeError('no fetch available');
  const timeoutMs = opts.timeoutMs ?? defaultHttpTransportOpts.timeoutMs;
  const url = `${opts.url.replace(/\/+$/, '')}${opts.path ?? defaultHttpTransportOpts.path}`;
  let nextId = 1;

  /** Posts `body`; the parsed JSON answer. */
  async function post(body: unknown): Promise<unknown> {
    const ctl = timeoutMs > 0 && timers.AbortController ? new timers.AbortController() : undefined;
    let timer: unknown;
    const timedOut = new Promise<never>((_, reject) => {
      if (timeoutMs <= 0) return;
      timer = timers.setTimeout(() => {
        ctl?.abort();
        reject(new ApiError('TIMEOUT', TIMEOUT_MESSAGE));
      }, timeoutMs);
    });
    const answer = async (): Promise<unknown> => {
      const res = await doFetch!(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        ...(ctl === undefined ? {} : { signal: ctl.signal }),
      });
      return res.json();
    };
    try {
      return await Promise.race([answer(), timedOut]);
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw new ApiError('UNREACHABLE', (e as Error)?.message ?? String(e), { cause: e });
    } finally {
      if (timer !== undefined) timers.clearTimeout(timer);
    }
  }

  /** The result of one Response object, or its error. */
  function resultOf(method: string, body: unknown): unknown {
    if (!isObject(body))
      throw new ApiError('BAD_RESPONSE', 'the JSON-RPC answer must be an object');
    if (body.error !== undefined) {
      if (!isObject(body.error)) throw new ApiError('BAD_RESPONSE', 'error must be an object');
      throw apiErrorFromRpc(body.error);
    }
    if (!('result' in body)) throw new ApiError('BAD_RESPONSE', `${method}: no result`);
    return body.result;
  }

  return {
    url,
    async request(method, params) {
      const body = await post({ jsonrpc: '2.0', id: nextId++, method, params });
      return resultOf(method, body);
    },
    async batch(calls) {
      if (calls.length === 0) return [];
      const ids = calls.map(() => nextId++);
      const body = await post(
        calls.map((c: RpcCall, i) => ({
          jsonrpc: '2.0',
          id: ids[i],
          method: c.method,
          params: c.params,
        })),
      );
      // One error for the whole batch (too many calls, body too large).
      if (!Array.isArray(body)) {
        const e = (() => {
          try {
            resultOf('batch', body);
            return new ApiError('BAD_RESPONSE', 'a batch answer must be an array');
          } catch (err) {
            return err as ApiError;
          }
        })();
        return calls.map(() => e);
      }
      const byId = new Map(body.filter(isObject).map((r) => [r.id, r]));
      return calls.map((c, i) => {
        try {
          const r = byId.get(ids[i]);
          if (r === undefined) throw new ApiError('BAD_RESPONSE', `${c.method}: no answer`);
          return resultOf(c.method, r);
        } catch (e) {
          return e as ApiError;
        }
      });
    },
  };
}
