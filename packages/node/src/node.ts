/**
 * The validator process (docs/PROTOCOL.md 8.1, 9.3, 10). This file only
 * wires the subsystems, in the order they depend on each other:
 *
 * 1. storage (storage.ts): the database, the event store, the chain and
 *    ledger, the signature cache, the mempool;
 * 2. the pipeline (pipeline/pipeline.ts): validators, stake tables, the
 *    engine, the apply queue, certificates, this node's block signatures;
 * 3. the replay of the event store into the fresh engine (pipeline/replay.ts);
 * 4. the gossip (gossip.ts): peers, the sync client, own events, the loop;
 * 5. the servers (servers.ts): JSON-RPC, subscriptions, operator endpoints,
 *    peer sync.
 *
 * One writer. Everything that changes state runs in the gossip loop, one
 * step at a time: pull a page from a peer, insert its events, apply the
 * blocks they decide (a serial queue), create the node's own event. The
 * servers only read (the mempool takes submissions). This keeps the order
 * of inserts, and so the blocks, a function of the DAG alone
 * (docs/PROTOCOL.md 5).
 */
import { createWarnLimiter, type EventStore, type Gossiper } from '@pos/gossip';
import { toHex } from '@pos/merkle';
import { chainIdOf } from '@pos/protocol';
import { pino } from 'pino';
import { createNodeEvents } from './api/events.js';
import type { NodeContext } from './context.js';
import { createEd25519Signer, sha256Node } from './crypto/crypto.js';
import { createPeers, type NodeGossip, startGossip } from './gossip.js';
import type { NodeOpts, PosNode } from './interface.js';
import { createNodeMetrics } from './metrics.js';
import { defaultRuntimeOpts } from './options.js';
import { createPipeline, type Pipeline } from './pipeline/pipeline.js';
import { replayStore } from './pipeline/replay.js';
import { type Servers, startServers } from './servers.js';
import { createStatus, refreshGauges, type StatusView } from './status.js';
import { type NodeStorage, openStorage } from './storage.js';
import { createNodeView } from './view.js';

/** The shared context of one node (its identity, options, logger, metrics, state). */
function createContext(opts: NodeOpts, close: () => void): NodeContext {
  const { config, genesis, key } = opts;
  const log = opts.logger ?? pino({ level: config.logLevel });
  return {
    ...{ config, genesis, key, log, params: genesis.params, hash: sha256Node },
    chainId: chainIdOf(genesis, sha256Node),
    rt: { ...defaultRuntimeOpts, ...opts.runtime },
    metrics: createNodeMetrics({ processMetrics: true }),
    events: createNodeEvents({ logger: log }),
    state: { selfIndex: undefined, replaying: true, closing: false },
    sign: createEd25519Signer(key.secretKey, key.publicKey),
    fatal() {
      log.fatal('stopping: the node cannot continue safely (a restart recovers from disk)');
      process.exitCode = 1;
      close();
    },
  };
}

/** Replays the event store (docs/PROTOCOL.md 9.3), logging progress. */
async function replay(ctx: NodeContext, storage: NodeStorage, p: Pipeline): Promise<void> {
  const started = Date.now();
  const n = await replayStore(
    {
      ...{ store: storage.store, node: p.node, engine: p.node.engine, writer: p.writer },
      handleBlocks: p.handleBlocks,
      applyError: () => p.applyQueue.error,
      onProgress: (events, decidedRound) =>
        ctx.log.info({ events, decidedRound }, 'replaying stored events'),
    },
    { progressMs: ctx.rt.replayProgressMs },
  );
  if (n > 0) {
    const height = storage.chain.latest()?.header.height ?? null;
    ctx.log.info({ events: n, ms: Date.now() - started, height }, 'replayed stored events');
  }
  ctx.state.replaying = false;
  refreshGauges(ctx.metrics, p.node.engine, storage.mempool);
}

/** The event store as peers see it: the node's own latest event only once it is durable. */
function servedStore(
  ctx: NodeContext,
  storage: NodeStorage,
  gossip: NodeGossip,
): Pick<EventStore, 'since' | 'heads'> {
  const selfHex = toHex(ctx.key.publicKey);
  return {
    since: (known) => storage.store.since(known),
    heads: () => {
      const h = new Map(storage.store.heads());
      const durable = gossip.own.durable;
      if (durable === null) h.delete(selfHex);
      else h.set(selfHex, [durable]);
      return h;
    },
  };
}

/** Status and readiness over the running node. */
function statusOf(ctx: NodeContext, storage: NodeStorage, p: Pipeline, gossip: NodeGossip) {
  return createStatus({
    ...{ chainId: ctx.chainId, validatorId: ctx.key.validatorId, publicKey: ctx.key.publicKey },
    ...{ params: ctx.params, chain: storage.chain, engine: p.node.engine, store: storage.store },
    ...{ mempool: storage.mempool, peers: gossip.peers, stakeTables: p.stakeTables },
    lastCertified: () => p.certifier.lastCertified,
    diskBytes: () => storage.disk.bytes,
    replaying: () => ctx.state.replaying,
    catchingUp: () => gossip.gossiper.catchingUp,
    nextRound: p.nextRound,
  });
}

/** Starts the servers over the running node. */
function serve(
  ctx: NodeContext,
  storage: NodeStorage,
  p: Pipeline,
  gossip: NodeGossip,
  status: StatusView,
): Promise<Servers> {
  const { rt } = ctx;
  return startServers({
    ...{ config: ctx.config, logger: ctx.log, metrics: ctx.metrics, events: ctx.events },
    ...{ chainId: ctx.chainId, publicKey: ctx.key.publicKey, hash: ctx.hash },
    view: createNodeView(ctx, storage, p, status, () => gossip.gossiper.wake()),
    served: servedStore(ctx, storage, gossip),
    isValidator: (pk) => p.index.indexOf(pk) !== undefined,
    readiness: status.readiness,
    napping: () => gossip.gossiper.napping,
    heads: () => storage.store.heads(),
    onNewer: () => gossip.gossiper.wake(),
    clockWarn: createWarnLimiter({
      intervalMs: rt.clockWarnIntervalMs,
      maxKeys: rt.clockWarnMaxKeys,
    }),
    sync: { ratePerSec: rt.syncRatePerSec, burst: rt.syncBurst, maxPeers: rt.syncMaxPeers },
  });
}

/**
 * Opens the data dir's database, replays it, starts the gossip loop and the
 * servers. Resolves once both servers listen.
 */
export async function startNode(opts: NodeOpts): Promise<PosNode> {
  let closing: Promise<void> | null = null;
  let node: PosNode | null = null;
  const ctx = createContext(opts, () => void node?.close());
  const storage = await openStorage(ctx);
  const peers = createPeers(ctx, storage);
  let gossiper: Gossiper | null = null;
  const p = createPipeline(ctx, storage, peers, () => gossiper?.wake());
  await replay(ctx, storage, p);
  /** Transactions somewhere between the mempool and a certificate: gossip at full pace. */
  const hasWork = () =>
    p.tracker.undecided > 0 ||
    storage.mempool.size > 0 ||
    p.signer.urgent ||
    p.certifier.awaiting(Date.now()) ||
    (gossiper?.catchingUp ?? false);
  const gossip = startGossip(ctx, storage, p, peers, hasWork);
  gossiper = gossip.gossiper;
  const stopped = async () => {
    await gossip.gossiper.stop();
    await p.applyQueue.idle();
  };
  const closeStores = async () => {
    // The state since the last flush: written now, so that a clean restart redoes nothing.
    await storage.chain
      .flush()
      .catch((e) => ctx.log.warn({ err: e }, 'state flush at stop failed'));
    storage.disk.close();
    await storage.store.close().catch(() => {});
    await gossip.client.close().catch(() => {});
    await storage.database.close().catch(() => {});
  };
  const status = statusOf(ctx, storage, p, gossip);
  let servers: Servers;
  try {
    servers = await serve(ctx, storage, p, gossip, status);
  } catch (e) {
    await stopped();
    await closeStores();
    throw e;
  }
  ctx.log.info(
    {
      chainId: toHex(ctx.chainId),
      validatorId: toHex(ctx.key.validatorId),
      validator: ctx.state.selfIndex !== undefined,
      member:
        p.stakeTables.stakeIn(p.stakeTables.setOfRound(p.nextRound()), ctx.key.publicKey) > 0n,
      rpc: servers.rpcUrl,
      p2p: servers.p2pUrl,
      peers: peers.all.map((x) => x.url),
      height: storage.chain.latest()?.header.height ?? null,
    },
    'node started',
  );
  node = {
    ...{ rpcUrl: servers.rpcUrl, p2pUrl: servers.p2pUrl, chainId: ctx.chainId },
    validatorId: ctx.key.validatorId,
    status: status.status,
    close() {
      closing ??= (async () => {
        ctx.state.closing = true;
        await stopped();
        await servers.close();
        await p.certifier.drain();
        await closeStores();
        ctx.log.info('node stopped');
      })();
      return closing;
    },
  };
  return node;
}
