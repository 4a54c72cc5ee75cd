/**
 * One subscriber's socket (docs/PROTOCOL.md 10): its JSON-RPC methods
 * (`pos_subscribe`, `pos_unsubscribe`, decoded by their definitions in
 * `@pos/api`), its subscriptions, and the flow control that keeps the node
 * from buffering without bound. ./subscriptions.ts registers the route and
 * counts sockets; the choices are listed there.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  POS_SUBSCRIBE,
  POS_UNSUBSCRIBE,
  RPC_INVALID_REQUEST,
  RPC_LIMIT_EXCEEDED,
  SUBSCRIPTION_NOTIFICATION,
  type SubscribeParams,
} from '@pos/api';
import {
  createRpcDispatcher,
  RpcError,
  type RpcLogger,
  type RpcResponse,
  rpcErrorResponse,
} from './dispatcher.js';
import type { NodeEvents } from './events.js';
import { implement } from './methods/implement.js';

/** Grace after the 1008 close frame before a slow consumer is terminated. */
const SLOW_CLOSE_GRACE_MS = 1000;
/** Most notifications held back for one subscription before its id is sent; more is a 1008 close. */
const MAX_HELD = 1024;
const OPEN = 1;

/** The subset of a `ws` WebSocket used here (`ws` ships no types in this workspace). */
export interface Socket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  on(event: 'message', fn: (data: unknown, isBinary: boolean) => void): void;
  on(event: 'close', fn: () => void): void;
  on(event: 'error', fn: (e: unknown) => void): void;
}

/** What a socket needs from its server. */
export interface SocketContext {
  readonly events: NodeEvents;
  readonly maxSubs: number;
  readonly maxQueued: number;
  readonly logger: RpcLogger;
  /** Told of each subscription made (+1) or ended (-1), and of the socket's end. */
  onSubscriptions(delta: number): void;
  onClosed(): void;
}

interface Sub {
  off: () => void;
  /** Notifications held back until the id is sent; `null` once live. */
  held: string[] | null;
}

/** Serves one socket until it closes. */
export function serveSocket(socket: Socket, ctx: SocketContext): void {
  const subs = new Map<string, Sub>();
  let closed = false;

  const shutdown = (): void => {
    if (closed) return;
    closed = true;
    for (const s of subs.values()) s.off();
    ctx.onSubscriptions(-subs.size);
    subs.clear();
    ctx.onClosed();
  };

  /** Closes a consumer that cannot keep up with 1008, terminating it after a grace. */
  const cutOff = (): void => {
    shutdown();
    socket.close(1008, 'slow consumer');
    setTimeout(() => socket.terminate(), SLOW_CLOSE_GRACE_MS).unref();
  };

  /** Sends one frame, or closes a slow consumer with 1008 instead. */
  const send = (text: string): void => {
    if (closed || socket.readyState !== OPEN) return;
    if (socket.bufferedAmount + Buffer.byteLength(text) > ctx.maxQueued) {
      cutOff();
      return;
    }
    socket.send(text);
  };

  const subscribe = (created: string[], p: SubscribeParams): string => {
    if (subs.size >= ctx.maxSubs) {
      throw new RpcError(
        RPC_LIMIT_EXCEEDED,
        `Limit exceeded: ${ctx.maxSubs} subscriptions per socket`,
      );
    }
    const id = `0x${randomBytes(16).toString('hex')}`;
    const sub: Sub = { held: [], off: () => {} };
    subs.set(id, sub);
    const push = (result: unknown): void => {
      const text = JSON.stringify({
        jsonrpc: '2.0',
        method: SUBSCRIPTION_NOTIFICATION,
        params: { subscription: id, result },
      });
      if (sub.held === null) send(text);
      else if (sub.held.length < MAX_HELD) sub.held.push(text);
      else cutOff();
    };
    sub.off =
      p.kind === 'newBlocks'
        ? ctx.events.on('newBlock', push)
        : ctx.events.on('txStatus', (e) => {
            if (e.txHash.toLowerCase() === p.txHash) push(e);
          });
    ctx.onSubscriptions(1);
    created.push(id);
    return id;
  };

  const methodsFor = (created: string[]) => ({
    pos_subscribe: implement(POS_SUBSCRIBE, (p) => subscribe(created, p)),
    pos_unsubscribe: implement(POS_UNSUBSCRIBE, (id) => {
      const sub = subs.get(id);
      if (sub === undefined) return false;
      sub.off();
      subs.delete(id);
      ctx.onSubscriptions(-1);
      return true;
    }),
  });

  const reply = (r: RpcResponse | RpcResponse[] | undefined): void => {
    if (r !== undefined) send(JSON.stringify(r));
  };

  /** Sends what each subscription of a frame held back, once the frame's answer is out. */
  const goLive = (created: readonly string[]): void => {
    for (const id of created) {
      const sub = subs.get(id);
      if (sub === undefined || sub.held === null) continue;
      const held = sub.held;
      sub.held = null;
      for (const t of held) send(t);
    }
  };

  socket.on('message', (data, isBinary) => {
    if (closed) return;
    if (isBinary) {
      reply(rpcErrorResponse(RPC_INVALID_REQUEST, null, 'Invalid Request: binary frame'));
      return;
    }
    // One dispatcher per frame, so its subscriptions go live once its
    // answer (carrying their ids) has been sent.
    const created: string[] = [];
    const dispatcher = createRpcDispatcher({ methods: methodsFor(created), logger: ctx.logger });
    void dispatcher.dispatchText(frameText(data)).then((r) => {
      reply(r);
      goLive(created);
    });
  });
  socket.on('close', shutdown);
  socket.on('error', () => shutdown());
}

/** A text frame's data as a string (`ws` gives a Buffer, fragments or an ArrayBuffer). */
function frameText(data: unknown): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}
