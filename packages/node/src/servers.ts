/**
 * The node's two servers (docs/PROTOCOL.md 10): the RPC port (JSON-RPC,
 * WebSocket subscriptions, the operator endpoints, the explorer's static
 * assets) and the P2P port (peer
 * sync, docs/PROTOCOL.md 8). Both only read the node's state; the mempool
 * takes submissions.
 */
import { openRpcDocument } from '@pos/api';
import {
  createRateLimiter,
  type EventStore,
  MAX_CLOCK_SKEW_MS,
  registerSyncRoutes,
  type WarnLimiter,
} from '@pos/gossip';
import { type HashFn, toHex } from '@pos/merkle';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { createRpcDispatcher, registerRpcRoute } from './api/dispatcher.js';
import { mapNodeError } from './api/errors.js';
import type { NodeEvents } from './api/events.js';
import { registerExplorerRoutes } from './api/explorer.js';
import type { NodeView } from './api/interface.js';
import { createNodeRpcMethods } from './api/methods/index.js';
import { type Readiness, registerOpsRoutes } from './api/ops.js';
import { registerSubscriptions } from './api/subscriptions.js';
import type { LogLevel, NodeConfig } from './config.js';
import { verifyEd25519Sync } from './crypto/crypto.js';
import type { NodeMetrics } from './metrics.js';

/** What the servers serve. */
export interface ServersDeps {
  readonly config: NodeConfig;
  readonly logger: Logger;
  readonly metrics: NodeMetrics;
  readonly events: NodeEvents;
  readonly view: NodeView;
  readonly chainId: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly hash: HashFn;
  /** The event store as peers may see it (the node's own latest event only once durable). */
  readonly served: Pick<EventStore, 'since' | 'heads'>;
  isValidator(publicKey: Uint8Array): boolean;
  readiness(): Readiness;
  /** Whether the gossip loop naps now (then a newer event named by a peer wakes it). */
  napping(): boolean;
  /** The event store's heads (what this node holds, own events not yet durable included). */
  heads(): ReturnType<EventStore['heads']>;
  /** A peer's sync request names an event newer than any this node holds. */
  onNewer(): void;
  /** Whether a peer's stale request is worth a warning now. */
  readonly clockWarn: WarnLimiter;
  readonly sync: { ratePerSec: number; burst: number; maxPeers: number };
}

/** The listening servers. */
export interface Servers {
  readonly rpcUrl: string;
  readonly p2pUrl: string;
  close(): Promise<void>;
}

/** pino's Logger is fastify's logger; per-request lines only at debug and trace. */
function serverApp(logger: Logger, level: LogLevel, name: string): FastifyInstance {
  const serverLevel = level === 'debug' || level === 'trace' ? level : 'warn';
  return Fastify({
    loggerInstance: logger.child({ server: name }, { level: serverLevel }) as FastifyBaseLogger,
  }) as unknown as FastifyInstance;
}

function registerRpc(app: FastifyInstance, deps: ServersDeps): void {
  const dispatcher = createRpcDispatcher({
    methods: createNodeRpcMethods(deps.view),
    discover: openRpcDocument,
    logger: deps.logger,
    mapError: mapNodeError,
    onCall: (method, outcome) => deps.metrics.rpcRequestsTotal.inc({ method, outcome }),
  });
  registerRpcRoute(app, dispatcher);
  registerSubscriptions(app, { events: deps.events });
  registerOpsRoutes(app, {
    metrics: deps.metrics,
    ready: deps.readiness,
    status: () => deps.view.status(),
  });
  registerExplorerRoutes(app, { dir: deps.config.explorerDir ?? null, genesis: deps.view.genesis });
}

function registerP2p(app: FastifyInstance, deps: ServersDeps): void {
  registerSyncRoutes(app, {
    chainId: deps.chainId,
    self: deps.publicKey,
    store: deps.served,
    isPeer: deps.isValidator,
    allowReadOnly: true,
    verify: verifyEd25519Sync,
    hash: deps.hash,
    rateLimiter: createRateLimiter(deps.sync),
    onRefused: ({ code, from, skewMs }) => {
      deps.metrics.syncRequestsRefusedTotal.inc({ code });
      if (code !== 'STALE_REQUEST' || from === null || skewMs === undefined) return;
      const k = toHex(from);
      if (!deps.clockWarn.due(k, Date.now())) return;
      // Signed by `from`, but possibly an old request replayed by anyone.
      deps.logger.warn(
        { peer: k, skewMs, maxSkewMs: MAX_CLOCK_SKEW_MS, validator: deps.isValidator(from) },
        "refused a sync request as stale: the peer's clock is off (or the request is an old one replayed)",
      );
    },
    // A peer that reports a newer event than we hold has something for us:
    // pull now instead of at the next idle poll (how a lone transaction
    // reaches every node without a push message or a fast idle poll).
    onRequest: (req) => {
      if (!deps.napping()) return;
      const heads = deps.heads();
      for (const k of req.known) {
        const mine = heads.get(toHex(k.creator))?.[0];
        if (mine === undefined || k.seq > mine.seq) return deps.onNewer();
      }
    },
  });
}

/** Starts both servers; closes both if either cannot listen. */
export async function startServers(deps: ServersDeps): Promise<Servers> {
  const rpcApp = serverApp(deps.logger, deps.config.logLevel, 'rpc');
  const p2pApp = serverApp(deps.logger, deps.config.logLevel, 'p2p');
  registerRpc(rpcApp, deps);
  registerP2p(p2pApp, deps);
  const close = async () => {
    await rpcApp.close().catch(() => {});
    await p2pApp.close().catch(() => {});
  };
  try {
    const rpcUrl = await rpcApp.listen({ host: deps.config.rpcHost, port: deps.config.rpcPort });
    const p2pUrl = await p2pApp.listen({ host: deps.config.p2pHost, port: deps.config.p2pPort });
    return { rpcUrl, p2pUrl, close };
  } catch (e) {
    await close();
    throw e;
  }
}
