/**
 * WebSocket subscriptions for new blocks and transaction status (PROTOCOL.md
 * section 10), speaking JSON-RPC 2.0 like `POST /rpc` (same dispatcher, same
 * error codes) and mirroring Ethereum's `eth_subscribe` / `eth_unsubscribe`
 * convention (https://geth.ethereum.org/docs/interacting-with-geth/rpc/pubsub):
 *
 * - `pos_subscribe` `["newBlocks"]` or `["txStatus", "0x<txHash>"]` answers a
 *   subscription id (`0x` + 32 lowercase hex digits, random, scoped to the
 *   socket);
 * - `pos_unsubscribe` `[id]` answers `true`, or `false` when the id is not a
 *   live subscription of this socket;
 * - each event is pushed as the notification
 *   `{"jsonrpc":"2.0","method":"pos_subscription","params":{"subscription":id,"result":payload}}`.
 *
 * Two layers: {@link createNodeEvents}, a transport-free in-process bus the
 * node emits into, and {@link registerSubscriptions}, the fastify route.
 *
 * Choices (the specification and PROTOCOL.md say nothing about these):
 * - a malformed text frame gets a JSON-RPC error (-32700, -32600, -32601,
 *   -32602) and the socket stays open; a binary frame gets -32600;
 * - a frame over 64 KiB closes the socket with 1009 (message too big);
 * - over `maxSubscriptionsPerSocket` subscriptions: -32005 (limit exceeded);
 * - over `maxSockets` open sockets: the upgrade is refused with HTTP 503 (a
 *   race past that check is closed with 1013, try again later);
 * - a slow consumer whose unsent bytes would exceed `maxQueuedBytes` is closed
 *   with 1008 (policy violation) and dropped after a short grace: the node
 *   never buffers without bound and never blocks the emitter;
 * - notifications for a subscription are held back until its id has been sent,
 *   so a client never sees a notification for an id it does not know yet.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import {
  createRpcDispatcher,
  defineRpcMethod,
  RPC_INVALID_PARAMS,
  RPC_INVALID_REQUEST,
  RPC_LIMIT_EXCEEDED,
  RpcError,
  type RpcResponse,
  rpcErrorResponse,
} from './rpc.js';

/** A block summary as pushed to `newBlocks` subscribers (JSON only, PROTOCOL.md section 1). */
export interface NewBlockEvent {
  readonly height: number;
  /** `0x`-prefixed lowercase hex. */
  readonly blockHash: string;
  readonly timestamp: number;
  readonly txCount: number;
  /** True once the block has a finality certificate. */
  readonly certified: boolean;
}

/** A transaction status change, as pushed to `txStatus` subscribers. */
export interface TxStatusEvent {
  /** `0x`-prefixed hex; matched case-insensitively. */
  readonly txHash: string;
  readonly status: 'pending' | 'committed' | 'rejected';
  readonly height?: number;
  readonly reason?: string;
}

/** The bus topics and their payloads. */
export interface NodeEventMap {
  readonly newBlock: NewBlockEvent;
  readonly txStatus: TxStatusEvent;
}

export type NodeEventTopic = keyof NodeEventMap;

/** Where listener failures go; fastify's (pino) logger fits. */
export interface NodeEventsLogger {
  error(obj: unknown, msg?: string): void;
}

/** A tiny typed synchronous event bus. */
export interface NodeEvents {
  /**
   * Calls every listener of `topic` synchronously, in subscription order, on a
   * snapshot (listeners added or removed meanwhile do not change this round).
   * A throwing listener is logged and skipped; `emit` itself never throws.
   */
  emit<T extends NodeEventTopic>(topic: T, payload: NodeEventMap[T]): void;
  /** Adds a listener; returns its idempotent unsubscribe function. */
  on<T extends NodeEventTopic>(topic: T, fn: (payload: NodeEventMap[T]) => void): () => void;
  /** Listeners of `topic`, or of all topics when omitted (leak checks, metrics). */
  listenerCount(topic?: NodeEventTopic): number;
}

/** Builds the in-process bus the node emits `newBlock` and `txStatus` into. */
export function createNodeEvents(opts: { readonly logger?: NodeEventsLogger } = {}): NodeEvents {
  const listeners: { [T in NodeEventTopic]: Set<(p: NodeEventMap[T]) => void> } = {
    newBlock: new Set(),
    txStatus: new Set(),
  };
  return {
    emit(topic, payload) {
      for (const fn of [...listeners[topic]]) {
        try {
          fn(payload);
        } catch (e) {
          try {
            opts.logger?.error(e, `node event listener for ${topic} threw`);
          } catch {
            // a broken logger must not break the emitter
          }
        }
      }
    },
    on(topic, fn) {
      // A wrapper per call, so the same function can be added twice and
      // removed once per unsubscribe.
      const set = listeners[topic] as Set<(p: unknown) => void>;
      const wrapped = (p: unknown): void => fn(p as never);
      set.add(wrapped);
      return () => {
        set.delete(wrapped);
      };
    },
    listenerCount(topic) {
      if (topic !== undefined) return listeners[topic].size;
      return listeners.newBlock.size + listeners.txStatus.size;
    },
  };
}

/** Frames over this many bytes close the socket with 1009. */
export const MAX_WS_FRAME_BYTES = 64 * 1024;
/** Default {@link SubscriptionOpts.maxQueuedBytes}: 1 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;
/** Grace after the 1008 close frame before a slow consumer is terminated. */
const SLOW_CLOSE_GRACE_MS = 1000;

export interface SubscriptionOpts {
  readonly events: NodeEvents;
  /** Default `/ws`. */
  readonly path?: string;
  /** Default 32; one more is answered -32005. */
  readonly maxSubscriptionsPerSocket?: number;
  /** Default 256 open sockets; one more is refused (HTTP 503, or close 1013). */
  readonly maxSockets?: number;
  /** Default 1 MiB of unsent bytes per socket; more closes it with 1008. */
  readonly maxQueuedBytes?: number;
}

/** The subset of a `ws` WebSocket used here (`ws` ships no types in this workspace). */
interface Socket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', fn: (data: unknown, isBinary: boolean) => void): void;
  on(event: 'close', fn: () => void): void;
  on(event: 'error', fn: (e: unknown) => void): void;
}

const OPEN = 1;
const TX_HASH = /^0x[0-9a-fA-F]{64}$/;

/** Most notifications held back for one subscription before its id is sent; more is a 1008 close. */
const MAX_HELD = 1024;

interface Sub {
  off: () => void;
  /** Notifications held back until the id is sent; `null` once live. */
  held: string[] | null;
}

function parseSubscribeParams(
  raw: unknown,
): { kind: 'newBlocks' } | { kind: 'txStatus'; tx: string } {
  if (Array.isArray(raw)) {
    if (raw.length === 1 && raw[0] === 'newBlocks') return { kind: 'newBlocks' };
    const [kind, tx] = raw;
    if (raw.length === 2 && kind === 'txStatus' && typeof tx === 'string' && TX_HASH.test(tx)) {
      return { kind: 'txStatus', tx: tx.toLowerCase() };
    }
  }
  throw new RpcError(
    RPC_INVALID_PARAMS,
    'Invalid params: expected ["newBlocks"] or ["txStatus", "0x<32-byte tx hash>"]',
  );
}

function parseUnsubscribeParams(raw: unknown): string {
  if (Array.isArray(raw) && raw.length === 1 && typeof raw[0] === 'string') return raw[0];
  throw new RpcError(RPC_INVALID_PARAMS, 'Invalid params: expected [subscriptionId]');
}

/** Live counts, for metrics and tests. */
export interface SubscriptionStats {
  readonly sockets: number;
  readonly subscriptions: number;
}

/**
 * Registers `GET <path>` as a WebSocket endpoint (PROTOCOL.md section 10) in
 * its own encapsulated scope, with `@fastify/websocket` registered there (do
 * not register that plugin again on the same server: both would answer the
 * upgrade). Call before `listen`/`ready`. The returned function reports live
 * counts. Closing the app closes every socket (the plugin's `preClose`).
 */
export function registerSubscriptions(
  app: FastifyInstance,
  opts: SubscriptionOpts,
): () => SubscriptionStats {
  const { events } = opts;
  const path = opts.path ?? '/ws';
  const maxSubs = opts.maxSubscriptionsPerSocket ?? 32;
  const maxSockets = opts.maxSockets ?? 256;
  const maxQueued = opts.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  let sockets = 0;
  let subscriptions = 0;

  app.register(async (scope) => {
    await scope.register(websocket, { options: { maxPayload: MAX_WS_FRAME_BYTES } });

    scope.addHook('onRequest', async (request, reply) => {
      if (request.ws && sockets >= maxSockets) {
        return reply
          .code(503)
          .header('retry-after', '1')
          .type('application/json; charset=utf-8')
          .send(
            JSON.stringify(
              rpcErrorResponse(RPC_LIMIT_EXCEEDED, null, `Limit exceeded: ${maxSockets} sockets`),
            ),
          );
      }
    });

    scope.get(path, { websocket: true }, (raw, request) => {
      const socket = raw as unknown as Socket;
      if (sockets >= maxSockets) {
        socket.close(1013, 'too many sockets');
        return;
      }
      sockets++;
      const subs = new Map<string, Sub>();
      let closed = false;

      const dropAll = (): void => {
        for (const s of subs.values()) s.off();
        subscriptions -= subs.size;
        subs.clear();
      };

      const shutdown = (): void => {
        if (closed) return;
        closed = true;
        sockets--;
        dropAll();
      };

      /** Sends one frame, or closes a slow consumer with 1008 instead. */
      const send = (text: string): void => {
        if (closed || socket.readyState !== OPEN) return;
        if (socket.bufferedAmount + Buffer.byteLength(text) > maxQueued) {
          cutOff();
          return;
        }
        socket.send(text);
      };

      /** Closes a consumer that cannot keep up with 1008, terminating it after a grace. */
      const cutOff = (): void => {
        shutdown();
        socket.close(1008, 'slow consumer');
        setTimeout(() => socket.terminate(), SLOW_CLOSE_GRACE_MS).unref();
      };

      const subscribe = (created: string[], listen: (push: (p: unknown) => void) => () => void) => {
        if (subs.size >= maxSubs) {
          throw new RpcError(
            RPC_LIMIT_EXCEEDED,
            `Limit exceeded: ${maxSubs} subscriptions per socket`,
          );
        }
        const id = `0x${randomBytes(16).toString('hex')}`;
        const sub: Sub = { held: [], off: () => {} };
        subs.set(id, sub);
        sub.off = listen((result) => {
          const text = JSON.stringify({
            jsonrpc: '2.0',
            method: 'pos_subscription',
            params: { subscription: id, result },
          });
          if (sub.held === null) send(text);
          else if (sub.held.length < MAX_HELD) sub.held.push(text);
          else cutOff();
        });
        subscriptions++;
        created.push(id);
        return id;
      };

      const methodsFor = (created: string[]) => ({
        pos_subscribe: defineRpcMethod({
          params: parseSubscribeParams,
          handler: (p) =>
            p.kind === 'newBlocks'
              ? subscribe(created, (push) => events.on('newBlock', push))
              : subscribe(created, (push) =>
                  events.on('txStatus', (e) => {
                    if (e.txHash.toLowerCase() === p.tx) push(e);
                  }),
                ),
        }),
        pos_unsubscribe: defineRpcMethod({
          params: parseUnsubscribeParams,
          handler: (id) => {
            const sub = subs.get(id);
            if (sub === undefined) return false;
            sub.off();
            subs.delete(id);
            subscriptions--;
            return true;
          },
        }),
      });

      const reply = (r: RpcResponse | RpcResponse[] | undefined): void => {
        if (r !== undefined) send(JSON.stringify(r));
      };

      socket.on('message', (data, isBinary) => {
        if (closed) return;
        if (isBinary) {
          reply(rpcErrorResponse(RPC_INVALID_REQUEST, null, 'Invalid Request: binary frame'));
          return;
        }
        const text = Buffer.isBuffer(data)
          ? data.toString('utf8')
          : Array.isArray(data)
            ? Buffer.concat(data as Buffer[]).toString('utf8')
            : Buffer.from(data as ArrayBuffer).toString('utf8');
        // One dispatcher per frame, so its subscriptions go live once its
        // answer (carrying their ids) has been sent.
        const created: string[] = [];
        const dispatcher = createRpcDispatcher({
          methods: methodsFor(created),
          logger: request.log,
        });
        void dispatcher.dispatchText(text).then((r) => {
          reply(r);
          for (const id of created) {
            const sub = subs.get(id);
            if (sub === undefined || sub.held === null) continue;
            const held = sub.held;
            sub.held = null;
            for (const t of held) send(t);
          }
        });
      });
      socket.on('close', shutdown);
      socket.on('error', () => shutdown());
    });
  });

  return () => ({ sockets, subscriptions });
}
