/**
 * The node's side of the gossip (docs/PROTOCOL.md 8, 8.1): the peer table
 * from the registrations and the configuration, the sync client, and the
 * `@pos/gossip` loop driving ingest and the node's own events.
 */
import {
  createGossiper,
  createPeerBook,
  createPeerScores,
  createSyncClient,
  type Gossiper,
  knownFromHeads,
  type PeerBook,
  type PeerScores,
  peerUrl,
  type SyncClient,
} from '@pos/gossip';
import { toHex } from '@pos/merkle';
import type { NodeContext } from './context.js';
import { verifyEd25519Few } from './crypto/crypto.js';
import { isFatal } from './errors.js';
import { createIngest } from './pipeline/ingest.js';
import { createOwnEvents, type OwnEvents } from './pipeline/own-event.js';
import type { Pipeline } from './pipeline/pipeline.js';
import { refreshGauges } from './status.js';
import type { NodeStorage } from './storage.js';

/** The peer table: the registered validators' endpoints, then the configured peers. */
export function createPeers(ctx: NodeContext, storage: NodeStorage): PeerBook {
  const { rt, config } = ctx;
  const peers = createPeerBook({
    baseBackoffMs: rt.baseBackoffMs,
    maxBackoffMs: rt.maxBackoffMs,
    maxTimeoutBackoffMs: rt.maxTimeoutBackoffMs,
    peerFreshMs: rt.peerFreshMs,
  });
  const selfHex = toHex(ctx.key.publicKey);
  const registrations = storage.chain.ledger.registrations();
  peers.addSelf(peerUrl(`${config.p2pHost}:${config.p2pPort}`));
  for (const r of registrations) if (toHex(r.pubkey) === selfHex) peers.addSelf(peerUrl(r.p2p));
  for (const r of registrations)
    if (toHex(r.pubkey) !== selfHex) peers.add(peerUrl(r.p2p), r.pubkey);
  for (const p of config.peers) peers.add(peerUrl(p), null);
  return peers;
}

/** The running gossip. */
export interface NodeGossip {
  readonly gossiper: Gossiper;
  readonly peers: PeerBook;
  readonly own: OwnEvents;
  readonly client: SyncClient;
  readonly scores: PeerScores;
}

/** Starts the gossip loop (after the replay: own events need the replayed engine). */
export function startGossip(
  ctx: NodeContext,
  storage: NodeStorage,
  p: Pipeline,
  peers: PeerBook,
  hasWork: () => boolean,
): NodeGossip {
  const { rt, metrics, log } = ctx;
  const { store, mempool } = storage;
  const { engine } = p.node;
  const own = createOwnEvents(
    {
      ...{ chainId: ctx.chainId, publicKey: ctx.key.publicKey, sign: ctx.sign, hash: ctx.hash },
      ...{ store, engine, mempool, peers, metrics, logger: log, nextRound: p.nextRound, hasWork },
      ...{ node: p.node, writer: p.writer, signer: p.signer, tracker: p.tracker },
      stakeTables: p.stakeTables,
      registered: () => ctx.state.selfIndex !== undefined,
      handleBlocks: p.handleBlocks,
    },
    rt,
  );
  const scores = createPeerScores();
  const client = createSyncClient({
    ...{ chainId: ctx.chainId, publicKey: ctx.key.publicKey, sign: ctx.sign, hash: ctx.hash },
    has: (h) => store.has(h),
    verifyBatch: verifyEd25519Few,
    onFault: (url, code) => {
      scores.penalize(url, code);
      metrics.syncPullsTotal.inc({ result: code });
    },
  });
  const ingest = createIngest({
    ...{ node: p.node, engine, index: p.index, store, writer: p.writer, own, scores, metrics },
    logger: log,
    handleBlocks: p.handleBlocks,
    prefetch: storage.prefetchIngested,
    decode: storage.decode,
  });
  const gossiper = createGossiper(
    {
      ...{ client, peers, scores, ingest, hasWork, isFatal, logger: log },
      known: () => knownFromHeads(store.heads()),
      // New events come from members only; a node that pulled from any
      // registered node at random would, with 20 zero-stake nodes registered
      // beside 4 validators, reach a creator one pull in seven and rounds
      // would crawl (the Sybil test measured it).
      preferred: (peer) =>
        peer.publicKey !== null &&
        p.stakeTables.memberKeys(p.nextRound()).has(toHex(peer.publicKey)),
      // Memory stays bounded: a node catching up waits for its apply queue.
      beforeStep: async () => {
        if (p.applyQueue.queued > rt.maxQueuedBlocks) await p.applyQueue.idle();
      },
      afterPull: async (pull) => {
        await own.afterPull(pull);
        refreshGauges(metrics, engine, mempool);
        metrics.peers.set(peers.fresh(Date.now()).length);
        metrics.peersBanned.set(peers.all.filter((x) => scores.banned(x.url)).length);
      },
      onFatal: ctx.fatal,
      onPulledAll: (peer) => own.pulledAll(peer),
      onPull: (outcome) => metrics.syncPullsTotal.inc({ result: outcome }),
      onPhase: (phase, s) => metrics.gossipStepSeconds.observe({ phase }, s),
    },
    rt,
  );
  return { gossiper, peers, own, client, scores };
}
