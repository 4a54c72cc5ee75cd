/**
 * The validator process (issue 4; PROTOCOL.md sections 3, 8, 9, 11): one
 * classic-level database, the consensus engine fed from the event store, the
 * gossip loop, blocks applied to the chain, block signatures carried in the
 * node's own events, certificates collected and stored, and the servers
 * (JSON-RPC, operator endpoints, WebSocket subscriptions, peer sync).
 *
 * One writer. Everything that changes state runs in the gossip loop, one step
 * at a time: pull a page from a peer, insert its events, apply the blocks they
 * decide, create the node's own event. The servers only read (and the mempool
 * takes submissions). This keeps the order of inserts, and so the blocks, a
 * function of the DAG alone (section 4).
 *
 * Database layout (one key prefix byte per store):
 *
 * ```
 * 0x01  the ledger's state trie (@pos/merkle)
 * 0x02  the chain: history log, headers, receipts (chain.ts)
 * 0x03  the event store (event-store.ts)
 * 0x04  certificates: u64 height → encodeCertificate
 * ```
 *
 * Restart (section 11): the event store is replayed into a fresh engine in
 * its insertion order (a topological order), which decides the same blocks
 * again; those at or below the chain's last recorded height are skipped, the
 * rest applied. Stored events were verified before they were stored, so the
 * replay does not verify signatures again; a stored record that does not
 * decode to its key is `CORRUPT_STORE`, not a silent skip.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { openRpcDocument } from '@pos/api';
import { createConsensus, type DecidedBlock } from '@pos/consensus';
import {
  createPeerScores,
  createRateLimiter,
  createSyncClient,
  type EventStore,
  GossipError,
  knownFromHeads,
  MAX_CLOCK_SKEW_MS,
  MAX_PAYLOADS,
  type Payload,
  PayloadKind,
  registerSyncRoutes,
  signEvent,
  type Tip,
  type UnsignedEvent,
  type WireEvent,
} from '@pos/gossip';
import { createLevelStore, type KVStore, toHex, u64be } from '@pos/merkle';
import {
  chainIdOf,
  decodeBlockSignature,
  decodeCertificate,
  decodeTx,
  encodeBlockSignature,
  encodeCertificate,
  epochOfRound,
  firstRoundOf,
  type Genesis,
  snapshotRoundOf,
  txHashOf,
  type ValidatorSet,
  validatorSetHash,
} from '@pos/protocol';
import { ClassicLevel } from 'classic-level';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { type Logger, pino } from 'pino';
import { createRpcDispatcher, registerRpcRoute } from './api/dispatcher.js';
import { mapNodeError } from './api/errors.js';
import { createNodeEvents, type NodeEvents } from './api/events.js';
import type { NodeStatus, NodeView } from './api/interface.js';
import { createNodeRpcMethods } from './api/methods/index.js';
import { registerOpsRoutes } from './api/ops.js';
import { registerSubscriptions } from './api/subscriptions.js';
import { createCertificateCollector } from './certificates.js';
import { type Chain, openChain } from './chain.js';
import type { NodeConfig } from './config.js';
import {
  createEd25519Signer,
  type Ed25519VerifyItem,
  sha256Node,
  verifyEd25519Batch,
  verifyEd25519Sync,
} from './crypto.js';
import {
  createValidatorIndex,
  type NodeEvent,
  nodeConsensusOpts,
  toConsensusEvent,
} from './dag.js';
import { type LevelEventStore, openLevelEventStore } from './event-store.js';
import { failpoint } from './failpoints.js';
import type { ValidatorKey } from './keyfile.js';
import type { ValidatorRecord } from './ledger.js';
import { createMempool } from './mempool.js';
import { createNodeMetrics, type NodeMetrics } from './metrics.js';
import { coalescePrefetch, createSignatureCache } from './sig-cache.js';

/** Tuning of the gossip loop; every field has a default in {@link defaultRuntimeOpts}. */
export interface RuntimeOpts {
  /** Pause between syncs while there is work (transactions or signatures to order). */
  busyIntervalMs: number;
  /** Pause between syncs on an idle network (a pull only: cheap, and it notices new work). */
  idlePollMs: number;
  /** On an idle network the node creates an event this often: the heartbeat (section 9). */
  idleIntervalMs: number;
  /** Longest wait before retrying a peer that failed (doubles from `busyIntervalMs`). */
  maxBackoffMs: number;
  /** Longest wait before retrying a peer that did not answer in time (doubles from 1 s). */
  maxTimeoutBackoffMs: number;
  /** Most transactions the node puts in one event. */
  maxTxsPerEvent: number;
  /** Most transaction bytes the node puts in one event. */
  maxTxBytesPerEvent: number;
  /** A peer counts toward `peers` and readiness this long after its last good sync. */
  peerFreshMs: number;
  /** Decided blocks waiting to be applied before the gossip loop waits for them. */
  maxQueuedBlocks: number;
}

export const defaultRuntimeOpts: Readonly<RuntimeOpts> = Object.freeze({
  busyIntervalMs: 10,
  idlePollMs: 1000,
  idleIntervalMs: 1000,
  maxBackoffMs: 5000,
  maxTimeoutBackoffMs: 15_000,
  maxTxsPerEvent: 2000,
  maxTxBytesPerEvent: 512 * 1024,
  peerFreshMs: 30_000,
  maxQueuedBlocks: 16,
});

/** Options of {@link startNode}. */
export interface NodeOpts {
  readonly config: NodeConfig;
  readonly genesis: Genesis;
  readonly key: ValidatorKey;
  /** Default: a pino logger at `config.logLevel` writing JSON lines to stdout. */
  readonly logger?: Logger;
  readonly runtime?: Partial<RuntimeOpts>;
}

/** A running validator. */
export interface PosNode {
  readonly rpcUrl: string;
  readonly p2pUrl: string;
  readonly chainId: Uint8Array;
  readonly validatorId: Uint8Array;
  status(): NodeStatus;
  /** Stops the loop and the servers, flushes and closes the database. Idempotent. */
  close(): Promise<void>;
}

const PREFIX_TRIE = Uint8Array.of(1);
const PREFIX_CHAIN = Uint8Array.of(2);
const PREFIX_EVENTS = Uint8Array.of(3);
const PREFIX_CERTS = Uint8Array.of(4);

const hexKey = toHex;
/** Clock warnings (sync refused as stale): at most one a minute per peer key. */
const CLOCK_WARN_INTERVAL_MS = 60_000;
/** Keys remembered for that; past it, warnings wait until old entries expire. */
const CLOCK_WARN_MAX_KEYS = 1024;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

function peerUrl(p: string): string {
  return /^https?:\/\//.test(p) ? p.replace(/\/+$/, '') : `http://${p}`;
}

interface Peer {
  readonly url: string;
  /** Validator public key when a registration (or the genesis) names this endpoint. */
  publicKey: Uint8Array | null;
  lastOkMs: number;
  failures: number;
  /** Pulls in a row that got no answer in time (`PEER_TIMEOUT`): a silent peer. */
  timeouts: number;
  retryAtMs: number;
}

/**
 * Opens the data dir's database, replays it, starts the servers and the
 * gossip loop. Resolves once both servers listen.
 */
export async function startNode(opts: NodeOpts): Promise<PosNode> {
  const { config, genesis, key } = opts;
  const rt: RuntimeOpts = { ...defaultRuntimeOpts, ...opts.runtime };
  const log = opts.logger ?? pino({ level: config.logLevel });
  const hash = sha256Node;
  const chainId = chainIdOf(genesis, hash);
  const params = genesis.params;
  const selfHex = hexKey(key.publicKey);
  const sign = createEd25519Signer(key.secretKey, key.publicKey);
  const metrics: NodeMetrics = createNodeMetrics({ processMetrics: true });
  const events: NodeEvents = createNodeEvents({ logger: log });

  await mkdir(config.dataDir, { recursive: true });
  const db = new ClassicLevel<Uint8Array, Uint8Array>(join(config.dataDir, 'db'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  await db.open();
  const closers: (() => Promise<void>)[] = [() => db.close()];
  /** Set once `close()` began: failures after it are the shutdown's, not faults. */
  let closing: Promise<void> | null = null;
  const closeAll = async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
  };

  // Transaction signatures: checked once (at submission, or in one worker
  // batch per block), not again by every block and query that reads them.
  const sigCache = createSignatureCache({
    verify: verifyEd25519Sync,
    verifyBatch: verifyEd25519Batch,
  });
  let store: LevelEventStore;
  let chain: Chain;
  try {
    store = await openLevelEventStore({ db, prefix: PREFIX_EVENTS, hash });
    chain = await openChain({
      genesis,
      hash,
      ledger: {
        store: createLevelStore(db, { prefix: PREFIX_TRIE }),
        verify: (pk, m, sig) => sigCache.verify(pk, m, sig),
      },
      store: createLevelStore(db, { prefix: PREFIX_CHAIN }),
    });
  } catch (e) {
    await closeAll();
    throw e;
  }
  const certStore: KVStore = createLevelStore(db, { prefix: PREFIX_CERTS });
  const countChecked = (stage: 'submit' | 'ingest' | 'block') => (n: number) => {
    if (n > 0) metrics.txSignaturesCheckedTotal.inc({ stage }, n);
  };
  // Submissions of one event-loop turn share one worker-pool batch.
  const prefetchSubmitted = coalescePrefetch(sigCache, countChecked('submit'));
  // Peers' transactions are checked when their event lands, in the worker
  // pool, while consensus orders them; a block's own check at application
  // (section 6) then hits the cache instead of holding the apply queue.
  const prefetchIngested = coalescePrefetch(sigCache, countChecked('ingest'));
  const mempool = createMempool({
    // The signatures go to the worker pool first; the check then hits the cache.
    checkTx: async (tx) => {
      await prefetchSubmitted(signatureItems([tx]));
      return chain.ledger.checkTx(tx);
    },
    isOrdered: (txHash) => chain.hasReceipt(txHash),
  });
  // Every registered validator (genesis ones first in id order, then the
  // rest in id order too; later registrations are appended). Indexes are the
  // engine's creators; the leader draw sorts by validatorId, not by index.
  const index = createValidatorIndex(
    chainId,
    chain.ledger.registrations().map((r) => ({ publicKey: r.pubkey, validatorId: r.validatorId })),
  );
  let selfIndex = index.indexOf(key.publicKey);

  // --- validator sets (section 5; docs/PROTOCOL.md 6.5) ------------------------------
  /** Highest round of a block the engine has handed out (applied or queued). */
  let lastEmittedRound = -1;
  /** Sets the committed state does not hold yet, computed once (see `setOf`). */
  const previewSets = new Map<number, ValidatorSet>();
  /**
   * Epoch k's validator set, or undefined while it cannot be known: the
   * committed table; else, once the engine decided the snapshot round and
   * every block it handed out is applied, the table the committed state gives
   * (rounds after the snapshot had no block yet, so no block wrote it).
   */
  function setOf(k: number): ValidatorSet | undefined {
    const t = chain.ledger.epochTable(k);
    if (t !== undefined) return t.set;
    const cached = previewSets.get(k);
    if (cached !== undefined) return cached;
    const snap = snapshotRoundOf(k, params);
    if (snap === null || engine.lastDecidedRound < snap) return undefined;
    if (lastEmittedRound > (chain.ledger.height ?? -1)) return undefined;
    const set = chain.ledger.previewTable();
    previewSets.set(k, set);
    return set;
  }
  /** Stakes by engine index per epoch, for the engine (the same array each time). */
  const stakeArrays = new Map<number, readonly bigint[]>();
  function stakeTableOf(round: number): readonly bigint[] | undefined {
    const k = epochOfRound(round, params);
    const known = stakeArrays.get(k);
    if (known !== undefined) return known;
    const set = setOf(k);
    if (set === undefined) return undefined;
    const arr: bigint[] = new Array(index.ids.length).fill(0n);
    for (const v of set.validators) {
      const i = index.indexOf(v.publicKey);
      // Registered by a block whose application is still running: wait for it.
      if (i === undefined) return undefined;
      arr[i] = v.stake;
    }
    stakeArrays.set(k, arr);
    return arr;
  }
  const setOfRound = (round: number) => setOf(epochOfRound(round, params));
  /** Hex public keys of the set that signs the next block (cached per epoch). */
  let memberCache: { epoch: number; keys: Set<string> } | null = null;
  function memberKeys(): Set<string> {
    const epoch = epochOfRound(nextRound(), params);
    if (memberCache?.epoch === epoch) return memberCache.keys;
    const set = setOf(epoch);
    const keys = new Set(set?.validators.map((v) => hexKey(v.publicKey)) ?? []);
    if (set !== undefined) memberCache = { epoch, keys };
    return keys;
  }
  function stakeIn(set: ValidatorSet | undefined, publicKey: Uint8Array): bigint {
    if (set === undefined) return 0n;
    const k = hexKey(publicKey);
    for (const v of set.validators) if (hexKey(v.publicKey) === k) return v.stake;
    return 0n;
  }
  const nextRound = () => (chain.latest()?.header.height ?? -1) + 1;

  const collector = createCertificateCollector({
    validatorSet: (height) => setOfRound(height),
    verify: verifyEd25519Sync,
  });

  // Events checked by a batch (worker threads) skip the engine's own check.
  const preverified = new WeakSet<WireEvent>();
  const base = nodeConsensusOpts(index, verifyEd25519Sync, hash);
  const engine = createConsensus<NodeEvent>({
    ...base,
    coinFrequency: genesis.params.coinFrequency,
    stakeTable: stakeTableOf,
    verify: (e) => preverified.has(e.wire) || base.verify!(e),
  });
  /** The engine's insert; notes the blocks it hands out (see `setOf`). */
  function insertEvent(ne: NodeEvent): ReturnType<typeof engine.insert> {
    const r = engine.insert(ne);
    for (const b of r.blocks) if (b.round > lastEmittedRound) lastEmittedRound = b.round;
    return r;
  }
  const expire = 26; // the engine's default expireRounds (docs/PROTOCOL.md 5.7)

  // --- bookkeeping ---------------------------------------------------------------
  /** Events holding transactions, not yet ordered: the "work" that keeps gossip busy. */
  const txEvents = new Map<string, { round: number; txHashes: Uint8Array[] | null; n: number }>();
  let undecidedTxs = 0;
  const submittedAtMs = new Map<string, number>();
  const MAX_SUBMITTED = 200_000;
  /** Applied heights not yet certified → their committed tx hashes (for latency). */
  const uncertified = new Map<number, { txHashes: Uint8Array[]; nonEmpty: boolean }>();
  let lastCertified: number | null = null;
  const pendingPayloads: Payload[] = [];
  /** A signature over a block with transactions waits: send it now, not at the heartbeat. */
  let urgentPayloads = false;
  const byRound = new Map<number, Uint8Array[]>();
  let replaying = true;
  /** Ends the gossip loop's nap early (set while it sleeps). */
  let wake: (() => void) | null = null;
  let nodeRef: PosNode | null = null;
  let lastMore = false;
  /** The node's own latest event that is on disk (what peers may build on). */
  let durableOwn: Tip | null = store.heads().get(selfHex)?.[0] ?? null;

  function noteRound(ev: NodeEvent): number {
    const round = engine.info(ev.hash)?.round ?? -1;
    if (round >= 0) {
      let list = byRound.get(round);
      if (list === undefined) byRound.set(round, (list = []));
      list.push(ev.hash);
    }
    return round;
  }

  function trackTxs(ev: NodeEvent, round: number, own: Uint8Array[] | null): void {
    const n = ev.wire.transactions.length;
    if (n === 0) return;
    txEvents.set(hexKey(ev.hash), { round, txHashes: own, n });
    undecidedTxs += n;
  }

  function processPayloads(ev: WireEvent): void {
    const validatorId = index.ids[index.indexOf(ev.creator) ?? -1];
    if (validatorId === undefined) return;
    for (const p of ev.payloads) {
      if (p.kind !== PayloadKind.BLOCK_SIGNATURE) continue;
      let s: ReturnType<typeof decodeBlockSignature>;
      try {
        s = decodeBlockSignature(p.data);
      } catch {
        continue; // a malformed payload in a signed event: ignored, the event stands
      }
      const r = collector.addSignature(s.height, s.blockHash, validatorId, s.signature);
      if (r.status === 'counted') certify(s.height);
    }
  }

  /** Certificate checks under way: `close()` waits for them before the stores close. */
  const certifying = new Set<Promise<void>>();
  /**
   * Runs `checkCertificate` for synchronous callers. Its writes must not
   * outlive the database (a check still reading a header when `close()`
   * closed it crashed a stopping node), and a failed write outside shutdown
   * stops the node like a failed block (section 11: a restart recovers).
   */
  function certify(height: number): void {
    const p: Promise<void> = checkCertificate(height)
      .catch((e) => {
        if (closing !== null) return;
        log.error({ err: e, height }, 'storing a certificate failed');
        log.fatal('stopping: the node cannot continue safely (a restart recovers from disk)');
        process.exitCode = 1;
        void (nodeRef as PosNode | null)?.close();
      })
      .finally(() => certifying.delete(p));
    certifying.add(p);
  }

  async function checkCertificate(height: number): Promise<void> {
    const pending = uncertified.get(height);
    if (pending === undefined) return;
    const cert = collector.certificate(height);
    if (cert === undefined) return;
    uncertified.delete(height);
    failpoint('node.cert.beforeStore');
    await certStore.batch([{ type: 'put', key: u64be(height), value: encodeCertificate(cert) }]);
    if (lastCertified === null || height > lastCertified) lastCertified = height;
    const now = Date.now();
    for (const h of pending.txHashes) {
      const k = hexKey(h);
      const at = submittedAtMs.get(k);
      if (at !== undefined) {
        metrics.finalityLatencySeconds.observe((now - at) / 1000);
        submittedAtMs.delete(k);
      }
    }
    const head = await chain.header(height);
    if (head !== undefined) {
      events.emit('newBlock', {
        height,
        blockHash: hexKey(head.blockHash),
        timestamp: head.header.timestamp,
        txCount: head.header.txCount,
        certified: true,
      });
    }
    if (!replaying) {
      log.debug({ height, signers: cert.signatures.length }, 'block certified');
    }
  }

  /** The ordered events' transactions are no longer "undecided" (sync, at decision time). */
  function noteDecided(b: DecidedBlock<NodeEvent>): void {
    for (const ev of b.events) {
      const k = hexKey(ev.hash);
      const t = txEvents.get(k);
      if (t !== undefined) {
        undecidedTxs -= t.n;
        txEvents.delete(k);
        if (t.txHashes !== null) observeStage('decided', t.txHashes);
      }
    }
  }

  /** Time since submission to `stage` of this node's own submissions among `txHashes`. */
  function observeStage(
    stage: 'in_event' | 'decided' | 'applied',
    txHashes: readonly Uint8Array[],
  ) {
    const now = Date.now();
    for (const h of txHashes) {
      const at = submittedAtMs.get(hexKey(h));
      if (at !== undefined) metrics.txStageSeconds.observe({ stage }, (now - at) / 1000);
    }
  }

  async function applyBlock(b: DecidedBlock<NodeEvent>): Promise<void> {
    const last = chain.latest();
    if (last !== null && b.round <= last.header.height) {
      // Replayed after a restart: recorded already. Recent ones still collect signatures.
      if (b.round > last.header.height - 64) {
        const h = await chain.header(b.round);
        if (h !== undefined) {
          collector.setBlock(b.round, h.blockHash);
          if ((await certStore.get(u64be(b.round))) !== undefined) {
            if (lastCertified === null || b.round > lastCertified) lastCertified = b.round;
          } else {
            uncertified.set(b.round, { txHashes: [], nonEmpty: h.header.txCount > 0 });
            queueSignature(b.round, h.blockHash);
          }
        }
      }
      return;
    }
    const t0 = performance.now();
    countChecked('block')(await sigCache.prefetch(signatureItems(b.transactions)));
    const t1 = performance.now();
    const applied = await chain.applyDecided(b);
    metrics.blockApplySeconds.observe({ stage: 'verify' }, (t1 - t0) / 1000);
    metrics.blockApplySeconds.observe({ stage: 'apply' }, (performance.now() - t1) / 1000);
    const height = applied.header.height;
    metrics.blocksTotal.inc();
    metrics.blockHeight.set(height);
    noteSetChanges(applied.registered, applied.epochs, height);
    const committed: Uint8Array[] = [];
    for (const rc of applied.receipts) {
      const txHash = hexKey(rc.txHash);
      if (rc.status === 'committed') {
        committed.push(rc.txHash);
        metrics.transactionsCommittedTotal.inc();
        events.emit('txStatus', { txHash, status: 'committed', height });
      } else {
        metrics.transactionsRejectedTotal.inc({ reason: rc.reason ?? 'UNKNOWN' });
        events.emit('txStatus', {
          txHash,
          status: 'rejected',
          height,
          ...(rc.reason === undefined ? {} : { reason: rc.reason }),
        });
        submittedAtMs.delete(txHash);
      }
    }
    observeStage('applied', committed);
    mempool.remove(applied.receipts.map((r) => r.txHash));
    // What the block spent, no pending transaction can spend any more (the
    // first spend wins, section 6): drop those without re-checking the rest.
    const spent = [];
    for (let i = 0; i < b.transactions.length; i++) {
      if (applied.receipts[i]?.status !== 'committed') continue;
      try {
        spent.push(...decodeTx(b.transactions[i]!).body.inputs);
      } catch {
        // a committed transaction decodes; nothing to drop otherwise
      }
    }
    if (spent.length > 0) mempool.dropSpent(spent);
    collector.setBlock(height, applied.blockHash);
    uncertified.set(height, { txHashes: committed, nonEmpty: applied.receipts.length > 0 });
    for (const h of uncertified.keys()) if (h <= height - 64) uncertified.delete(h);
    events.emit('newBlock', {
      height,
      blockHash: hexKey(applied.blockHash),
      timestamp: applied.header.timestamp,
      txCount: applied.header.txCount,
      certified: false,
    });
    queueSignature(height, applied.blockHash);
    // Signatures that arrived before the block (a node catching up, or one
    // that is not a member and signs nothing) may already make a certificate.
    certify(height);
    if (applied.receipts.length > 0) urgentPayloads = true;
    if (!replaying) {
      log.info(
        {
          height,
          txs: applied.receipts.length,
          committed: committed.length,
          events: b.events.length,
          blockHash: hexKey(applied.blockHash),
        },
        'block applied',
      );
    }
  }

  /** A block registered validators or wrote epoch tables: index, peers, logs. */
  function noteSetChanges(
    registered: readonly ValidatorRecord[],
    epochs: readonly number[],
    height: number,
  ): void {
    for (const r of registered) {
      const i = index.add(r.pubkey, r.validatorId);
      const j = engine.addValidator(r.validatorId);
      if (i !== j) throw new Error(`validator index ${i} and engine index ${j} differ`);
      if (hexKey(r.pubkey) === selfHex) selfIndex = i;
      else addPeer(peerUrl(r.p2p), r.pubkey);
      log.info(
        { height, validatorId: hexKey(r.validatorId), name: r.name, p2p: r.p2p },
        'validator registered',
      );
    }
    for (const k of epochs) {
      const t = chain.ledger.epochTable(k)!;
      const preview = previewSets.get(k);
      if (preview !== undefined && hexKey(validatorSetHash(preview, hash)) !== hexKey(t.setHash)) {
        // Cannot happen unless the ledger and the preview rule disagree: say so loudly.
        log.error({ epoch: k }, 'the committed table differs from the one consensus used');
      }
      previewSets.delete(k);
      const total = t.set.validators.reduce((a, v) => a + v.stake, 0n);
      metrics.validatorSetEpoch.set(k);
      metrics.validatorSetSize.set(t.set.validators.length);
      if (!replaying) {
        log.info(
          {
            epoch: k,
            height,
            firstRound: firstRoundOf(k, params),
            totalStake: total.toString(),
            validators: t.set.validators.map((v) => ({
              validatorId: hexKey(v.validatorId),
              name: chain.ledger.registration(v.validatorId)?.name ?? '',
              stake: v.stake.toString(),
            })),
          },
          'validator set snapshot',
        );
      }
    }
  }

  /** Whether this node's key is in the set that signs `height` (section 8). */
  const signsAt = (height: number) => stakeIn(setOfRound(height), key.publicKey) > 0n;

  function queueSignature(height: number, blockHash: Uint8Array): void {
    if (selfIndex === undefined || !signsAt(height)) return; // not in that set: nothing to sign
    const signature = sign(blockHash);
    pendingPayloads.push({
      kind: PayloadKind.BLOCK_SIGNATURE,
      data: encodeBlockSignature({ height, blockHash, signature }),
    });
    collector.addSignature(height, blockHash, index.ids[selfIndex]!, signature);
    certify(height);
  }

  /** Forgets events that went stale (never ordered) and gives their transactions back. */
  function expireStale(): void {
    const horizon = engine.lastDecidedRound - expire - 1;
    for (const [k, t] of txEvents) {
      if (t.round >= horizon) continue;
      txEvents.delete(k);
      undecidedTxs -= t.n;
      if (t.txHashes !== null) mempool.untake(t.txHashes);
    }
    for (const r of byRound.keys()) if (r < horizon - expire) byRound.delete(r);
  }

  // Decided blocks are applied by one serial queue, apart from the gossip
  // loop: ordering goes on while the ledger and the trie commit a block (its
  // LevelDB work runs off this thread), and a block's signature is queued
  // the moment it lands. The order of application is the decision order.
  let applying: Promise<void> = Promise.resolve();
  let applyError: unknown = null;
  /** Decided, not yet applied. A node catching up waits when this passes maxQueuedBlocks. */
  let queuedBlocks = 0;
  function handleBlocks(blocks: readonly DecidedBlock<NodeEvent>[]): Promise<void> {
    if (blocks.length === 0) return applying;
    for (const b of blocks) noteDecided(b);
    expireStale();
    queuedBlocks += blocks.length;
    applying = applying.then(async () => {
      if (applyError !== null) return;
      try {
        for (const b of blocks) {
          await applyBlock(b);
          queuedBlocks--;
        }
      } catch (e) {
        // A block half-applied in memory cannot be skipped: stop, and let a
        // restart redo it from disk (section 11).
        applyError = e;
        log.error({ err: e }, 'applying a decided block failed');
        if (replaying) return;
        log.fatal('stopping: the node cannot continue safely (a restart recovers from disk)');
        process.exitCode = 1;
        void (nodeRef as PosNode | null)?.close();
        return;
      }
      if (urgentPayloads) wake?.();
    });
    return applying;
  }

  function refresh(): void {
    const st = engine.stats();
    metrics.decidedRound.set(st.lastDecidedRound);
    metrics.maxRound.set(st.maxRound);
    metrics.eventsLive.set(st.liveEvents);
    metrics.mempoolTransactions.set(mempool.size);
    metrics.mempoolBytes.set(mempool.bytes);
  }

  // --- peers -----------------------------------------------------------------------
  const peers: Peer[] = [];
  const selfUrls = new Set([peerUrl(`${config.p2pHost}:${config.p2pPort}`)]);
  /** Adds a peer once per URL; a registration names the key of a URL met as a plain --peer. */
  function addPeer(url: string, publicKey: Uint8Array | null): void {
    if (selfUrls.has(url)) return;
    const known = peers.find((p) => p.url === url);
    if (known !== undefined) {
      if (known.publicKey === null && publicKey !== null) known.publicKey = publicKey;
      return;
    }
    peers.push({ url, publicKey, lastOkMs: 0, failures: 0, timeouts: 0, retryAtMs: 0 });
  }
  for (const r of chain.ledger.registrations()) {
    if (hexKey(r.pubkey) === selfHex) selfUrls.add(peerUrl(r.p2p));
  }
  for (const r of chain.ledger.registrations()) {
    if (hexKey(r.pubkey) !== selfHex) addPeer(peerUrl(r.p2p), r.pubkey);
  }
  for (const p of config.peers) addPeer(peerUrl(p), null);

  // --- replay (section 11) ---------------------------------------------------------
  {
    const started = Date.now();
    let n = 0;
    let lastLog = started;
    for await (const wire of store.since([])) {
      const ne = toConsensusEvent(wire, index);
      preverified.add(wire);
      const r = insertEvent(ne);
      const round = noteRound(ne);
      trackTxs(ne, round, null);
      processPayloads(wire);
      await handleBlocks(r.blocks);
      if (applyError !== null) throw applyError;
      n++;
      if (Date.now() - lastLog > 2000) {
        lastLog = Date.now();
        log.info({ events: n, decidedRound: engine.lastDecidedRound }, 'replaying stored events');
      }
    }
    if (n > 0) {
      log.info(
        { events: n, ms: Date.now() - started, height: chain.latest()?.header.height ?? null },
        'replayed stored events',
      );
    }
    replaying = false;
    refresh();
  }

  const freshPeers = (now: number) => peers.filter((p) => now - p.lastOkMs <= rt.peerFreshMs);

  // --- own events ------------------------------------------------------------------
  /**
   * Signs, stores and inserts the node's next event. False (nothing stored)
   * when the engine would refuse it: the node is not in the set of the
   * round it would have (not joined yet, or left, section 5), or that
   * round's table is not known yet.
   */
  async function createOwnEvent(otherTip: Tip | null, txs: Uint8Array[]): Promise<boolean> {
    if (selfIndex === undefined) return false;
    const prev = durableOwn === null ? undefined : store.get(durableOwn.hash);
    let other: UnsignedEvent['otherParent'] = null;
    const candidate = otherTip !== null ? store.get(otherTip.hash) : undefined;
    if (candidate !== undefined && hexKey(candidate.creator) !== selfHex) {
      other = { hash: candidate.hash, creator: candidate.creator, seq: candidate.seq };
    }
    const payloads = pendingPayloads.slice(0, MAX_PAYLOADS);
    const now = Date.now();
    const unsigned: UnsignedEvent = {
      chainId,
      creator: key.publicKey,
      seq: prev === undefined ? 0 : prev.seq + 1,
      selfParent: prev === undefined ? null : prev.hash,
      otherParent: other,
      timestamp: prev === undefined ? now : Math.max(now, prev.timestamp + 1),
      transactions: txs,
      payloads,
    };
    const wire = signEvent(unsigned, sign, hash);
    const ne = toConsensusEvent(wire, index);
    try {
      engine.probe(ne);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'NOT_A_VALIDATOR' || code === 'TABLE_PENDING') return false;
      throw e;
    }
    pendingPayloads.splice(0, payloads.length);
    if (pendingPayloads.length === 0) urgentPayloads = false;
    // Section 11: on disk before anyone can see it, so a crash cannot make the
    // node sign a second event on the same self-parent.
    failpoint('node.ownEvent.signed');
    await store.addOwn(wire);
    failpoint('node.ownEvent.stored');
    durableOwn = { hash: wire.hash, seq: wire.seq };
    preverified.add(wire);
    const r = insertEvent(ne);
    metrics.eventsInsertedTotal.inc();
    const round = noteRound(ne);
    const own = txs.length > 0 ? txs.map((t) => chainTxHash(t)) : null;
    trackTxs(ne, round, own);
    if (own !== null) observeStage('in_event', own);
    processPayloads(wire);
    void handleBlocks(r.blocks);
    return true;
  }
  const chainTxHash = base.txHash!;

  // --- ingest ----------------------------------------------------------------------
  async function ingest(page: readonly WireEvent[], from: Peer): Promise<number> {
    let inserted = 0;
    const blocks: DecidedBlock<NodeEvent>[] = [];
    type Placed = { ne: NodeEvent; r: ReturnType<typeof engine.insert> };
    const place = (wire: WireEvent): Placed => {
      const ne = toConsensusEvent(wire, index);
      preverified.add(wire);
      return { ne, r: insertEvent(ne) };
    };
    try {
      for (const wire of page) {
        if (engine.has(wire.hash)) continue;
        let placed: Placed;
        try {
          try {
            placed = place(wire);
          } catch (e) {
            // An event of a validator registered, or in an epoch whose table
            // is taken, by a block decided but not applied yet (section 5):
            // apply what is decided, then try once more.
            const code = (e as { code?: unknown }).code;
            if (code !== 'UNKNOWN_CREATOR' && code !== 'TABLE_PENDING') throw e;
            await handleBlocks(blocks.splice(0));
            placed = place(wire);
          }
        } catch (e) {
          const code = String((e as { code?: unknown }).code ?? 'BAD_EVENT');
          metrics.eventsRefusedTotal.inc({ reason: code });
          if (code === 'TABLE_PENDING') {
            // Its snapshot round is not decided here yet: its ancestors will decide it.
            log.debug({ peer: from.url }, 'an event waits for its stake table');
            break;
          }
          scores.penalize(from.url, code === 'BAD_SIGNATURE' ? 'BAD_SIGNATURE' : 'BAD_RESPONSE');
          log.warn(
            { peer: from.url, code, message: (e as Error).message },
            'refused an event from a peer',
          );
          break; // its descendants in this page cannot be placed either
        }
        const { ne, r } = placed;
        if (!r.inserted) continue;
        store.add(wire);
        if (wire.transactions.length > 0) {
          // A failure (the pool closing at shutdown) only costs the check at application.
          prefetchIngested(signatureItems(wire.transactions)).catch((e: unknown) =>
            log.debug({ err: e }, 'could not check the signatures of an event early'),
          );
        }
        if (hexKey(wire.creator) === selfHex && wire.seq > (durableOwn?.seq ?? -1)) {
          // A peer holds an own event newer than any this node has: it lost
          // it (a damaged disk, an old backup). Build on it, never beside it.
          durableOwn = { hash: wire.hash, seq: wire.seq };
          log.warn({ seq: wire.seq, hash: hexKey(wire.hash) }, 'learned an own event from a peer');
        }
        inserted++;
        metrics.eventsInsertedTotal.inc();
        const round = noteRound(ne);
        trackTxs(ne, round, null);
        processPayloads(wire);
        for (const ev of r.evidence) {
          log.warn(
            {
              creator: hexKey(index.publicKeys[ev.creator]!),
              a: hexKey(ev.a.hash),
              b: hexKey(ev.b.hash),
            },
            'fork evidence: a validator equivocated',
          );
        }
        blocks.push(...r.blocks);
      }
    } finally {
      void handleBlocks(blocks);
    }
    return inserted;
  }

  // --- gossip loop -----------------------------------------------------------------
  // A clock more than MAX_CLOCK_SKEW_MS off cuts a validator off both ways
  // (section 9): its requests are stale to its peers and theirs to it. Each
  // side says so at warn, at most once a minute per key, so an operator sees
  // the cause instead of a node that silently stops syncing.
  const clockWarnedMs = new Map<string, number>();
  const clockWarnDue = (k: string, nowMs: number): boolean => {
    const last = clockWarnedMs.get(k);
    if (last !== undefined && nowMs - last < CLOCK_WARN_INTERVAL_MS) return false;
    if (last === undefined && clockWarnedMs.size >= CLOCK_WARN_MAX_KEYS) {
      for (const [key, t] of clockWarnedMs) {
        if (nowMs - t >= CLOCK_WARN_INTERVAL_MS) clockWarnedMs.delete(key);
      }
      if (clockWarnedMs.size >= CLOCK_WARN_MAX_KEYS) return false;
    }
    clockWarnedMs.set(k, nowMs);
    return true;
  };
  const scores = createPeerScores();
  const client = createSyncClient({
    chainId,
    publicKey: key.publicKey,
    sign,
    hash,
    has: (h) => store.has(h),
    verifyBatch: verifyEd25519Batch,
    onFault: (url, code) => {
      scores.penalize(url, code);
      metrics.syncPullsTotal.inc({ result: code });
    },
  });
  closers.push(() => client.close());
  const abort = new AbortController();
  let lastOwnMs = 0;

  // Creators whose events we ask for whole (left out of the summary) for a
  // while: a page had an event whose parent by that creator we lack, i.e. a
  // fork the server had not seen (EventStore.since, docs/PROTOCOL.md 9).
  const WHOLE_CREATOR_MS = 10_000;
  const wholeCreators = new Map<string, number>();
  function summary(now: number) {
    const known = knownFromHeads(store.heads());
    if (wholeCreators.size === 0) return known;
    for (const [c, until] of wholeCreators) if (until <= now) wholeCreators.delete(c);
    return known.filter((k) => !wholeCreators.has(hexKey(k.creator)));
  }

  /**
   * A random ready peer, among the members of the set that signs the next
   * block when any is ready. New events come from members only; a node that
   * pulled from any registered node at random would, with 20 zero-stake
   * nodes registered beside 4 validators, reach a creator one pull in seven
   * and rounds would crawl (the Sybil test measured it). Non-members are
   * pulled when no member answers.
   */
  function pickPeer(now: number): Peer | undefined {
    const ready = peers.filter((p) => p.retryAtMs <= now && !scores.banned(p.url));
    if (ready.length === 0) return undefined;
    const members = memberKeys();
    const preferred = ready.filter((p) => p.publicKey !== null && members.has(hexKey(p.publicKey)));
    const pool = preferred.length > 0 ? preferred : ready;
    return pool[Math.floor(Math.random() * pool.length)];
  }

  /**
   * Own events wait, after a start, until peers that hold with this node
   * more than 2/3 of the current set's stake were each pulled from in full
   * once: any own event the node signed and then lost (a damaged or restored
   * data dir: the crash test's truncated LevelDB log) comes back with those
   * pulls and becomes the self-parent, so the node never signs a second
   * event on one self-parent (as CometBFT's double_sign_check_height looks
   * for its own votes before signing). A lone validator has no one to ask.
   */
  const pulledSinceStart = new Set<string>();
  let ownTipChecked = peers.length === 0;
  function ownTipKnown(): boolean {
    if (ownTipChecked) return true;
    const set = setOfRound(nextRound());
    if (set === undefined) return false;
    let total = 0n;
    let seen = 0n;
    for (const v of set.validators) {
      total += v.stake;
      const k = hexKey(v.publicKey);
      if (k === selfHex || pulledSinceStart.has(k)) seen += v.stake;
    }
    if (3n * seen <= 2n * total) return false;
    ownTipChecked = true;
    log.info({ peers: pulledSinceStart.size }, 'own latest event checked with peers: signing');
    return true;
  }

  /** Transactions somewhere between the mempool and a certificate: gossip at full pace. */
  const hasWork = () => undecidedTxs > 0 || mempool.size > 0 || urgentPayloads || lastMore;

  /**
   * One sync and maybe one event. An event is created when the pull brought
   * something new while there is work, when the node has transactions or an
   * urgent signature to send, or at the heartbeat; never just because a peer
   * made an event (two idle nodes would otherwise wake each other forever).
   */
  async function step(): Promise<boolean> {
    const stepStart = performance.now();
    if (queuedBlocks > rt.maxQueuedBlocks) await applying; // memory stays bounded
    const peer = pickPeer(Date.now());
    let tip: Tip | null = null;
    let gotNew = 0;
    if (peer !== undefined) {
      try {
        for (let pages = 0; pages < 64; pages++) {
          const t0 = performance.now();
          const res = await client.pull(peer.url, summary(Date.now()));
          const t1 = performance.now();
          const n = await ingest(res.events, peer);
          metrics.gossipStepSeconds.observe({ phase: 'pull' }, (t1 - t0) / 1000);
          metrics.gossipStepSeconds.observe({ phase: 'ingest' }, (performance.now() - t1) / 1000);
          gotNew += n;
          tip = res.tip;
          lastMore = res.more && n > 0;
          if (!lastMore) break;
        }
        metrics.syncPullsTotal.inc({ result: 'ok' });
        if (!lastMore && peer.publicKey !== null) pulledSinceStart.add(hexKey(peer.publicKey));
        peer.lastOkMs = Date.now();
        peer.failures = 0;
        peer.timeouts = 0;
      } catch (e) {
        if (!(e instanceof GossipError)) throw e;
        if (e.code === 'MISSING_PARENT' && e.creator !== undefined) {
          wholeCreators.set(hexKey(e.creator), Date.now() + WHOLE_CREATOR_MS);
        }
        peer.failures++;
        peer.retryAtMs =
          Date.now() + Math.min(rt.maxBackoffMs, rt.busyIntervalMs * 2 ** peer.failures);
        if (e.code === 'PEER_TIMEOUT') {
          // The loop waited the whole headers timeout on this peer: a silent
          // (black-holed, partitioned or stalling) peer would cost that on
          // every pick, which let 10% of the stake slow the rest ~30-fold in
          // the faults and Byzantine tests. Wait 1, 2, 4 … up to 15 s.
          peer.timeouts++;
          peer.retryAtMs =
            Date.now() + Math.min(rt.maxTimeoutBackoffMs, 1000 * 2 ** (peer.timeouts - 1));
        }
        if (e.refusal === 'STALE_REQUEST') {
          metrics.syncPullsTotal.inc({ result: 'STALE_REQUEST' });
          if (clockWarnDue('self', Date.now())) {
            log.warn(
              { peer: peer.url, maxSkewMs: MAX_CLOCK_SKEW_MS },
              "a peer refused our sync request as stale: this machine's clock is probably wrong (check NTP)",
            );
          }
        } else if (e.code === 'PEER_REFUSED' || e.code === 'PEER_TIMEOUT') {
          metrics.syncPullsTotal.inc({ result: e.code });
          if (peer.failures === 1 || peer.failures % 50 === 0) {
            log.debug({ peer: peer.url, err: e.message }, 'peer unreachable');
          }
        } else {
          log.warn({ peer: peer.url, code: e.code, err: e.message }, 'refused a page from a peer');
        }
      }
    }
    if (selfIndex !== undefined && ownTipKnown()) {
      const txs = mempool.take(rt.maxTxsPerEvent, rt.maxTxBytesPerEvent);
      // No heartbeat while cut off from every peer: events nobody can see
      // only fill the disk (a lone validator, with no peers, still runs).
      const connected = peers.length === 0 || freshPeers(Date.now()).length > 0;
      const heartbeat = connected && Date.now() - lastOwnMs >= rt.idleIntervalMs;
      if (txs.length > 0 || urgentPayloads || heartbeat || (gotNew > 0 && hasWork())) {
        const t = performance.now();
        if (await createOwnEvent(tip, txs)) {
          metrics.gossipStepSeconds.observe({ phase: 'event' }, (performance.now() - t) / 1000);
        } else if (txs.length > 0) {
          mempool.untake(txs.map((x) => chainTxHash(x)));
        }
        lastOwnMs = Date.now();
      }
    }
    refresh();
    metrics.peers.set(freshPeers(Date.now()).length);
    metrics.peersBanned.set(peers.filter((p) => scores.banned(p.url)).length);
    metrics.gossipStepSeconds.observe({ phase: 'total' }, (performance.now() - stepStart) / 1000);
    return hasWork();
  }

  const loop = (async () => {
    while (!abort.signal.aborted) {
      let busy = false;
      try {
        busy = await step();
      } catch (e) {
        log.error({ err: e }, 'gossip step failed');
        if (isFatal(e)) {
          log.fatal('stopping: the node cannot continue safely (a restart recovers from disk)');
          process.exitCode = 1;
          void (nodeRef as PosNode | null)?.close();
          return;
        }
      }
      const nap = new AbortController();
      const onAbort = () => nap.abort();
      abort.signal.addEventListener('abort', onAbort, { once: true });
      wake = () => nap.abort();
      await sleep(busy ? rt.busyIntervalMs : rt.idlePollMs, nap.signal);
      wake = null;
      abort.signal.removeEventListener('abort', onAbort);
    }
  })();

  // --- servers ---------------------------------------------------------------------
  function status(): NodeStatus {
    const st = engine.stats();
    const head = chain.latest();
    return {
      chainId: hexKey(chainId),
      nodeId: hexKey(key.validatorId),
      publicKey: selfHex,
      height: head?.header.height ?? null,
      blockHash: head === null ? null : hexKey(head.blockHash),
      round: st.maxRound,
      decidedRound: st.lastDecidedRound,
      lastCertifiedHeight: lastCertified,
      peers: freshPeers(Date.now()).length,
      peersKnown: peers.length,
      syncing: replaying || lastMore,
      lastBlockTime: head?.header.timestamp ?? null,
      mempool: { transactions: mempool.size, bytes: mempool.bytes },
      events: { live: st.liveEvents, stored: store.nextIndex - store.pruneFloor },
      supply: {
        unspent: chain.ledger.unspent().toString(),
        burned: chain.ledger.burned().toString(),
      },
      validatorSet: (() => {
        const epoch = epochOfRound(nextRound(), params);
        const set = setOf(epoch);
        const stake = stakeIn(set, key.publicKey);
        return {
          epoch,
          member: stake > 0n,
          stake: stake.toString(),
          totalStake: (set?.validators.reduce((a, v) => a + v.stake, 0n) ?? 0n).toString(),
          size: set?.validators.length ?? 0,
        };
      })(),
    };
  }

  function readiness(): { ready: boolean; reason?: string } {
    if (replaying) return { ready: false, reason: 'replaying stored events' };
    if (lastMore) return { ready: false, reason: 'catching up with peers' };
    // Caught up with a quorum: self and the peers synced recently hold > 2/3
    // of the stake of the set that signs the next block.
    const now = Date.now();
    const set = setOfRound(nextRound());
    if (set === undefined)
      return { ready: false, reason: 'the next validator set is not known yet' };
    const totalStake = set.validators.reduce((a, v) => a + v.stake, 0n);
    let stake = stakeIn(set, key.publicKey);
    for (const p of freshPeers(now)) {
      if (p.publicKey !== null) stake += stakeIn(set, p.publicKey);
    }
    if (3n * stake > 2n * totalStake) return { ready: true };
    return {
      ready: false,
      reason: `synced recently with validators holding ${stake} of ${totalStake} stake (need > 2/3)`,
    };
  }

  const view: NodeView = {
    chainId,
    genesis,
    chain,
    mempool,
    store,
    index,
    validatorSet: setOf,
    currentEpoch: () => epochOfRound(nextRound(), params),
    epochProof: (k) => chain.epochProof(k),
    engine,
    collector,
    status,
    async certificate(height) {
      const bytes = await certStore.get(u64be(height));
      return bytes === undefined ? undefined : decodeCertificate(bytes);
    },
    eventsOfRound: (r) => [...(byRound.get(r) ?? [])],
    txHash: (tx) => chainTxHash(tx),
    async submit(tx) {
      const r = await mempool.submit(tx);
      if (r.added) {
        if (submittedAtMs.size >= MAX_SUBMITTED) {
          submittedAtMs.delete(submittedAtMs.keys().next().value!);
        }
        submittedAtMs.set(hexKey(r.txHash), Date.now());
        events.emit('txStatus', { txHash: hexKey(r.txHash), status: 'pending' });
        refresh();
        wake?.();
      }
      return r;
    },
  };

  // pino's Logger is fastify's logger; the cast only widens its generic type.
  // Per-request lines (hundreds a second under load) only at debug and trace.
  const serverLevel =
    config.logLevel === 'debug' || config.logLevel === 'trace' ? config.logLevel : 'warn';
  const rpcApp = Fastify({
    loggerInstance: log.child({ server: 'rpc' }, { level: serverLevel }) as FastifyBaseLogger,
  }) as unknown as FastifyInstance;
  const p2pApp = Fastify({
    loggerInstance: log.child({ server: 'p2p' }, { level: serverLevel }) as FastifyBaseLogger,
  }) as unknown as FastifyInstance;
  const dispatcher = createRpcDispatcher({
    methods: createNodeRpcMethods(view),
    discover: openRpcDocument,
    logger: log,
    mapError: mapNodeError,
    onCall: (method, outcome) => metrics.rpcRequestsTotal.inc({ method, outcome }),
  });
  registerRpcRoute(rpcApp, dispatcher);
  registerSubscriptions(rpcApp, { events });
  registerOpsRoutes(rpcApp, { metrics, ready: readiness, status });
  // The sync server sees the node's own latest event only once it is durable.
  const servedStore: Pick<EventStore, 'since' | 'heads'> = {
    since: (known) => store.since(known),
    heads: () => {
      const h = new Map(store.heads());
      if (durableOwn === null) h.delete(selfHex);
      else h.set(selfHex, [durableOwn]);
      return h;
    },
  };
  registerSyncRoutes(p2pApp, {
    chainId,
    self: key.publicKey,
    store: servedStore,
    isPeer: (pk) => index.indexOf(pk) !== undefined,
    allowReadOnly: true,
    verify: verifyEd25519Sync,
    hash,
    // Validators pull each other every few ms while busy: well above the
    // default public-peer rate, still bounded.
    rateLimiter: createRateLimiter({ ratePerSec: 400, burst: 800, maxPeers: 4096 }),
    // A peer that reports a newer event than we hold has something for us:
    // pull now instead of at the next idle poll (how a lone transaction
    // reaches every node without a push message or a fast idle poll).
    onRefused: ({ code, from, skewMs }) => {
      metrics.syncRequestsRefusedTotal.inc({ code });
      if (code !== 'STALE_REQUEST' || from === null || skewMs === undefined) return;
      const k = hexKey(from);
      if (!clockWarnDue(k, Date.now())) return;
      // Signed by `from`, but possibly an old request replayed by anyone.
      log.warn(
        {
          peer: k,
          skewMs,
          maxSkewMs: MAX_CLOCK_SKEW_MS,
          validator: index.indexOf(from) !== undefined,
        },
        "refused a sync request as stale: the peer's clock is off (or the request is an old one replayed)",
      );
    },
    onRequest: (req) => {
      if (wake === null) return;
      const heads = store.heads();
      for (const k of req.known) {
        const mine = heads.get(hexKey(k.creator))?.[0];
        if (mine === undefined || k.seq > mine.seq) {
          wake();
          return;
        }
      }
    },
  });

  let rpcUrl = '';
  let p2pUrl = '';
  try {
    rpcUrl = await rpcApp.listen({ host: config.rpcHost, port: config.rpcPort });
    p2pUrl = await p2pApp.listen({ host: config.p2pHost, port: config.p2pPort });
  } catch (e) {
    abort.abort();
    await loop;
    await applying;
    await rpcApp.close();
    await p2pApp.close();
    await store.close().catch(() => {});
    await closeAll();
    throw e;
  }
  log.info(
    {
      chainId: hexKey(chainId),
      validatorId: hexKey(key.validatorId),
      validator: selfIndex !== undefined,
      member: signsAt(nextRound()),
      rpc: rpcUrl,
      p2p: p2pUrl,
      peers: peers.map((p) => p.url),
      height: chain.latest()?.header.height ?? null,
    },
    'node started',
  );

  const node: PosNode = {
    rpcUrl,
    p2pUrl,
    chainId,
    validatorId: key.validatorId,
    status,
    close() {
      closing ??= (async () => {
        abort.abort();
        await loop.catch(() => {});
        await applying;
        await rpcApp.close().catch(() => {});
        await p2pApp.close().catch(() => {});
        while (certifying.size > 0) await Promise.all(certifying);
        await store.close().catch(() => {});
        await closeAll();
        log.info('node stopped');
      })();
      return closing;
    },
  };
  nodeRef = node;
  return node;
}

/** Errors after which the in-memory state may be ahead of the disk: stop, restart recovers. */
function isFatal(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return (
    code === 'FAILED' ||
    code === 'CORRUPT_STATE' ||
    code === 'CORRUPT_STORE' ||
    code === 'WRITE_FAILED' ||
    code === 'CLOSED'
  );
}

/** The signatures of well-formed transactions, for one batch check (malformed ones the ledger rejects). */
function signatureItems(txs: readonly Uint8Array[]): Ed25519VerifyItem[] {
  const items: Ed25519VerifyItem[] = [];
  for (const bytes of txs) {
    let tx: ReturnType<typeof decodeTx>;
    try {
      tx = decodeTx(bytes);
    } catch {
      continue;
    }
    const message = txHashOf(tx.body, sha256Node);
    for (const s of tx.signatures) {
      items.push({ publicKey: s.publicKey, message, signature: s.signature });
    }
  }
  return items;
}
