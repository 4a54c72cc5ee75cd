/**
 * The page's one way to the node (issue 20): `@pos/api`'s typed client over
 * HTTP to the origin that served the page, read-only for the explorer's
 * pages, a block feed over its WebSocket that reconnects by itself, and the
 * verifying clients of `@pos/wallet-client` over the same transports, which
 * trust the pinned anchor only.
 *
 * @module
 */
import {
  type ApiClient,
  createApiClient,
  createHttpTransport,
  createSubscriptionClient,
  type NewBlockEvent,
  type SubscriptionClient,
  type Transport,
  type WebSocketCtor,
} from '@pos/api';
import { createWalletClient, type WalletClient, type WalletTrust } from '@pos/wallet-client';
import { readOnlyTransport } from './readonly.js';
import type { Anchor } from './trust-store.js';

/** Options of {@link createConnection}. */
export interface ConnectionOpts {
  /** The node's RPC origin (the page's own). */
  readonly origin: string;
  readonly WebSocket: WebSocketCtor;
  /** Give up on an answer after this many ms. */
  readonly timeoutMs: number;
  /** First and longest wait before reconnecting the block feed. */
  readonly reconnectMs: readonly [number, number];
  /**
   * Where the verifying clients of an anchor start (default: the anchor
   * itself); the page resumes from its saved trust state (state-store.ts).
   */
  readonly trustOf?: (anchor: Anchor) => WalletTrust;
}

/** Defaults of {@link ConnectionOpts} but the origin and the socket. */
export const defaultConnectionOpts = { timeoutMs: 15_000, reconnectMs: [1000, 10_000] } as const;

/** The state of the block feed. */
export type FeedState = 'connecting' | 'live' | 'reconnecting';

/** What the pages use to reach the node. */
export interface Connection {
  readonly origin: string;
  /** Reads only: every other method is refused before it is sent. */
  readonly api: ApiClient;
  /** Every method (the wallet page's sends). */
  readonly sender: ApiClient;
  /** Calls `fn` with each `newBlocks` notification (applied, then certified); returns the unsubscribe. */
  onBlock(fn: (b: NewBlockEvent) => void): () => void;
  onFeed(fn: (s: FeedState) => void): () => void;
  /** A verifying client of the anchor over the read-only transport (one per anchor). */
  verifier(anchor: Anchor): WalletClient;
  /** A verifying client that may send (the wallet page). */
  wallet(anchor: Anchor): WalletClient;
  /** What the clients of `anchor` verified so far, as trust states (to save). */
  trustStates(anchor: Anchor): WalletTrust[];
  close(): void;
}

/** Connects to the node at `opts.origin`. */
export function createConnection(opts: ConnectionOpts): Connection {
  const http: Transport = createHttpTransport({ url: opts.origin, timeoutMs: opts.timeoutMs });
  const reads = readOnlyTransport(http);
  const blockFns = new Set<(b: NewBlockEvent) => void>();
  const feedFns = new Set<(s: FeedState) => void>();
  const clients = new Map<string, WalletClient>();
  const trustOf = opts.trustOf ?? ((a: Anchor) => a.trust);
  let feed: SubscriptionClient | null = null;
  let closed = false;
  let wait = opts.reconnectMs[0];
  const setFeed = (s: FeedState) => {
    for (const f of feedFns) f(s);
  };

  function connect(): void {
    if (closed) return;
    const sub = createSubscriptionClient({ url: opts.origin, WebSocket: opts.WebSocket });
    feed = sub;
    sub
      .subscribe('newBlocks', [], (b) => {
        for (const f of blockFns) f(b);
      })
      .then(() => {
        wait = opts.reconnectMs[0];
        setFeed('live');
      })
      .catch(() => {});
    void sub.closed.then(() => {
      if (closed) return;
      setFeed('reconnecting');
      setTimeout(connect, wait);
      wait = Math.min(wait * 2, opts.reconnectMs[1]);
    });
  }

  const cached = (key: string, make: () => WalletClient) => {
    let c = clients.get(key);
    if (c === undefined) clients.set(key, (c = make()));
    return c;
  };

  return {
    origin: opts.origin,
    api: createApiClient(reads),
    sender: createApiClient(http),
    onBlock(fn) {
      blockFns.add(fn);
      if (feed === null) connect();
      return () => blockFns.delete(fn);
    },
    onFeed(fn) {
      feedFns.add(fn);
      return () => feedFns.delete(fn);
    },
    verifier: (a) =>
      cached(`r${a.chainId}`, () => createWalletClient({ transport: reads, trust: trustOf(a) })),
    wallet: (a) =>
      cached(`w${a.chainId}`, () => createWalletClient({ transport: http, trust: trustOf(a) })),
    trustStates: (a) =>
      [`r${a.chainId}`, `w${a.chainId}`].flatMap((k) => {
        const c = clients.get(k);
        return c === undefined ? [] : [c.trustState()];
      }),
    close() {
      closed = true;
      feed?.close();
    },
  };
}
