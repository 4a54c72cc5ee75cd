/**
 * WebSocket subscriptions for new blocks and transaction status (docs/PROTOCOL.md
 * 10), speaking JSON-RPC 2.0 like `POST /rpc` (same dispatcher, same
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
 * Three modules: ./events.ts, a transport-free in-process bus the node emits
 * into; ./socket.ts, one subscriber's socket; and here
 * {@link registerSubscriptions}, the fastify route with its socket limit.
 * The methods and payloads are defined in `@pos/api` (`POS_SUBSCRIBE`,
 * `POS_UNSUBSCRIBE`, `NewBlockEvent`, `TxStatusEvent`).
 *
 * Choices (neither the JSON-RPC specification nor Ethereum's convention
 * covers these; docs/PROTOCOL.md 10 records them):
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
import websocket from '@fastify/websocket';
import { RPC_LIMIT_EXCEEDED } from '@pos/api';
import type { FastifyInstance } from 'fastify';
import { rpcErrorResponse } from './dispatcher.js';
import type { NodeEvents } from './events.js';
import { type Socket, serveSocket } from './socket.js';

/** Frames over this many bytes close the socket with 1009. */
export const MAX_WS_FRAME_BYTES = 64 * 1024;
/** Default {@link SubscriptionOpts.maxQueuedBytes}: 1 MiB. */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/** Options of {@link registerSubscriptions}. */
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

/** Live counts, for metrics and tests. */
export interface SubscriptionStats {
  readonly sockets: number;
  readonly subscriptions: number;
}

/**
 * Registers `GET <path>` as a WebSocket endpoint (docs/PROTOCOL.md 10) in
 * its own encapsulated scope, with `@fastify/websocket` registered there (do
 * not register that plugin again on the same server: both would answer the
 * upgrade). Call before `listen`/`ready`. The returned function reports live
 * counts. Closing the app closes every socket (the plugin's `preClose`).
 */
export function registerSubscriptions(
  app: FastifyInstance,
  opts: SubscriptionOpts,
): () => SubscriptionStats {
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
      serveSocket(socket, {
        events: opts.events,
        maxSubs,
        maxQueued,
        logger: request.log,
        onSubscriptions: (delta) => {
          subscriptions += delta;
        },
        onClosed: () => {
          sockets--;
        },
      });
    });
  });

  return () => ({ sockets, subscriptions });
}
