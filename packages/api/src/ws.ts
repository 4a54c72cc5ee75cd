/**
 * The WebSocket transport of subscriptions (`/ws`, docs/PROTOCOL.md 10):
 * `pos_subscribe` / `pos_unsubscribe` over one socket, notifications routed
 * to each subscription's listener. The `WebSocket` constructor is injected:
 * browsers have a global one, Node 20 has none (pass undici's or `ws`'s).
 *
 * @module
 */
import { ApiError, apiErrorFromRpc } from './errors.js';
import {
  SUBSCRIPTION_NOTIFICATION,
  type SubscriptionKind,
  type SubscriptionKinds,
} from './methods/subscriptions.js';

/** The part of a WHATWG WebSocket used here (undici's, `ws`'s and browsers' have it). */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'error', fn: () => void): void;
  addEventListener(type: 'message', fn: (ev: { readonly data: unknown }) => void): void;
  addEventListener(
    type: 'close',
    fn: (ev: { readonly code?: number; readonly reason?: string }) => void,
  ): void;
}

/** A WebSocket constructor. */
export type WebSocketCtor = new (url: string) => WebSocketLike;

/** Options of {@link createSubscriptionClient}. */
export interface SubscriptionClientOpts {
  /** The node's RPC origin (`http://…` or `ws://…`). */
  readonly url: string;
  readonly WebSocket: WebSocketCtor;
  /** Default `/ws`. */
  readonly path?: string;
}

/** A live subscription. */
export interface Subscription {
  readonly id: string;
  /** Ends it (`pos_unsubscribe`); false if the node no longer had it. */
  unsubscribe(): Promise<boolean>;
}

/** How the socket closed. */
export interface SocketClose {
  readonly code: number;
  readonly reason: string;
}

/** Subscriptions over one socket. */
export interface SubscriptionClient {
  /**
   * Subscribes to `kind` with its params (`[]` for `newBlocks`, `[txHash]`
   * for `txStatus`); `onEvent` gets each payload, from the first one on.
   */
  subscribe<K extends SubscriptionKind>(
    kind: K,
    args: SubscriptionKinds[K]['args'],
    onEvent: (payload: SubscriptionKinds[K]['payload']) => void,
  ): Promise<Subscription>;
  /** Closes the socket; pending calls fail `CLOSED`. */
  close(): void;
  /** Settles once the socket is closed (by either side, or because it never opened). */
  readonly closed: Promise<SocketClose>;
}

interface Pending {
  resolve(result: unknown): void;
  reject(e: ApiError): void;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The socket URL of an origin: `http` becomes `ws`, and the path is added. */
export function socketUrl(url: string, path = '/ws'): string {
  return `${url.replace(/\/+$/, '').replace(/^http/, 'ws')}${path}`;
}

/** Opens a socket to the node at `opts.url`; calls wait until it is open. */
export function createSubscriptionClient(opts: SubscriptionClientOpts): SubscriptionClient {
  const socket = new opts.WebSocket(socketUrl(opts.url, opts.path));
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, (payload: unknown) => void>();
  let nextId = 1;
  let open = false;
  let done: SocketClose | undefined;
  const queued: string[] = [];
  let onClosed: (c: SocketClose) => void = () => {};
  const closed = new Promise<SocketClose>((r) => (onClosed = r));

  socket.addEventListener('open', () => {
    open = true;
    for (const text of queued.splice(0)) socket.send(text);
  });
  socket.addEventListener('error', () => {}); // a close follows
  socket.addEventListener('close', (ev) => {
    done = { code: ev.code ?? 1006, reason: ev.reason ?? '' };
    for (const p of pending.values()) p.reject(new ApiError('CLOSED', 'the socket closed'));
    pending.clear();
    listeners.clear();
    onClosed(done);
  });
  socket.addEventListener('message', (ev) => {
    let m: unknown;
    try {
      m = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    if (!isObject(m)) return;
    if (m.method === SUBSCRIPTION_NOTIFICATION && isObject(m.params)) {
      const fn = listeners.get(String(m.params.subscription));
      fn?.(m.params.result);
      return;
    }
    const p = typeof m.id === 'number' ? pending.get(m.id) : undefined;
    if (p === undefined) return;
    pending.delete(m.id as number);
    if (isObject(m.error)) {
      p.reject(apiErrorFromRpc(m.error));
    } else p.resolve(m.result);
  });

  function call(method: string, params: unknown[], then?: (r: unknown) => void): Promise<unknown> {
    if (done !== undefined) return Promise.reject(new ApiError('CLOSED', 'the socket closed'));
    const id = nextId++;
    const text = JSON.stringify({ jsonrpc: '2.0', id, method, params });
    return new Promise((resolve, reject) => {
      // `then` runs as the answer is read, before any later frame: the
      // listener is in place for the first notification.
      const onResult = (r: unknown): void => {
        then?.(r);
        resolve(r);
      };
      pending.set(id, { resolve: onResult, reject });
      if (open) socket.send(text);
      else queued.push(text);
    });
  }

  return {
    async subscribe(kind, args, onEvent) {
      const id = (await call('pos_subscribe', [kind, ...args], (r) => {
        listeners.set(String(r), onEvent as (p: unknown) => void);
      })) as string;
      return {
        id,
        async unsubscribe() {
          listeners.delete(id);
          return (await call('pos_unsubscribe', [id])) as boolean;
        },
      };
    },
    close() {
      socket.close();
    },
    closed,
  };
}
