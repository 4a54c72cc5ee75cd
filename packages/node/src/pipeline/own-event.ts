/**
 * The node's own events (docs/PROTOCOL.md 8.1, 9.3): when to make one, what
 * it carries (pending transactions, block signatures), and the rule that
 * keeps a validator from ever signing two events on one self-parent: an own
 * event is on disk before anyone can see it, and after a start the node
 * signs nothing until peers holding more than 2/3 of the stake were each
 * pulled in full once (an own event it signed and lost comes back with
 * those pulls and becomes the self-parent, as CometBFT's
 * double_sign_check_height looks for its own votes before signing).
 */
import { type Consensus, ConsensusError, type DecidedBlock } from '@pos/consensus';
import {
  MAX_PAYLOADS,
  type Peer,
  type PeerBook,
  type StepPull,
  signEvent,
  type Tip,
  type UnsignedEvent,
  type WireEvent,
} from '@pos/gossip';
import { type HashFn, toHex } from '@pos/merkle';
import { isCoded } from '@pos/protocol';
import type { LevelEventStore } from '../db/event-store.js';
import { failpoint } from '../failpoints.js';
import type { Mempool } from '../mempool.js';
import type { NodeMetrics } from '../metrics.js';
import type { BlockSigner } from './block-signer.js';
import type { NodeEvent } from './dag.js';
import type { DagWriter } from './dag-writer.js';
import type { NodeEngine } from './engine.js';
import type { StakeTables } from './stake-tables.js';
import type { TxTracker } from './tx-tracker.js';

/** Options of {@link createOwnEvents}; defaults in {@link defaultOwnEventOpts}. */
export interface OwnEventOpts {
  /** On an idle network the node creates an event this often: the heartbeat. */
  idleIntervalMs: number;
  /** Most transactions the node puts in one event. */
  maxTxsPerEvent: number;
  /** Most transaction bytes the node puts in one event. */
  maxTxBytesPerEvent: number;
}

export const defaultOwnEventOpts: Readonly<OwnEventOpts> = Object.freeze({
  idleIntervalMs: 1000,
  maxTxsPerEvent: 2000,
  maxTxBytesPerEvent: 512 * 1024,
});

/** What {@link createOwnEvents} needs. */
export interface OwnEventDeps {
  readonly chainId: Uint8Array;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
  readonly hash: HashFn;
  readonly store: Pick<LevelEventStore, 'get' | 'addOwn' | 'heads'>;
  readonly node: Pick<NodeEngine, 'toEvent' | 'insert' | 'txHash'>;
  readonly engine: Pick<Consensus<NodeEvent>, 'probe'>;
  readonly writer: DagWriter;
  readonly signer: BlockSigner;
  readonly mempool: Pick<Mempool, 'take' | 'untake'>;
  readonly tracker: Pick<TxTracker, 'observeStage'>;
  readonly stakeTables: Pick<StakeTables, 'setOfRound'>;
  readonly peers: Pick<PeerBook, 'all' | 'fresh'>;
  readonly metrics: Pick<NodeMetrics, 'eventsInsertedTotal' | 'gossipStepSeconds'>;
  readonly logger: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** Whether this node is a registered validator (has an engine index). */
  registered(): boolean;
  /** The round after the latest block: its set signs next. */
  nextRound(): number;
  /** Whether there is work (transactions or signatures to order). */
  hasWork(): boolean;
  /** Queues the blocks an insert decided. */
  handleBlocks(blocks: readonly DecidedBlock<NodeEvent>[]): Promise<void>;
}

/** The node's own events. */
export interface OwnEvents {
  /** The node's own latest event that is on disk (what peers may build on). */
  readonly durable: Tip | null;
  /** After a step's pulls: makes an event if there is a reason to. */
  afterPull(pull: StepPull): Promise<void>;
  /** A peer was pulled in full: it counts toward the start-up check. */
  pulledAll(peer: Peer): void;
  /** An event of this node's key arrived from a peer (a lost one, maybe). */
  learned(wire: WireEvent): void;
}

/** Creates the own-event maker; call it once the store is replayed. */
export function createOwnEvents(deps: OwnEventDeps, opts: Partial<OwnEventOpts> = {}): OwnEvents {
  const o: OwnEventOpts = { ...defaultOwnEventOpts, ...opts };
  const selfHex = toHex(deps.publicKey);
  let durable: Tip | null = deps.store.heads().get(selfHex)?.[0] ?? null;
  const pulledSinceStart = new Set<string>();
  let ownTipChecked = deps.peers.all.length === 0;
  let lastOwnMs = 0;

  function ownTipKnown(): boolean {
    if (ownTipChecked) return true;
    const set = deps.stakeTables.setOfRound(deps.nextRound());
    if (set === undefined) return false;
    let total = 0n;
    let seen = 0n;
    for (const v of set.validators) {
      total += v.stake;
      const k = toHex(v.publicKey);
      if (k === selfHex || pulledSinceStart.has(k)) seen += v.stake;
    }
    if (3n * seen <= 2n * total) return false;
    ownTipChecked = true;
    deps.logger.info(
      { peers: pulledSinceStart.size },
      'own latest event checked with peers: signing',
    );
    return true;
  }

  function unsignedEvent(otherTip: Tip | null, txs: Uint8Array[]): UnsignedEvent {
    const prev = durable === null ? undefined : deps.store.get(durable.hash);
    let other: UnsignedEvent['otherParent'] = null;
    const candidate = otherTip !== null ? deps.store.get(otherTip.hash) : undefined;
    if (candidate !== undefined && toHex(candidate.creator) !== selfHex) {
      other = { hash: candidate.hash, creator: candidate.creator, seq: candidate.seq };
    }
    const now = Date.now();
    return {
      chainId: deps.chainId,
      creator: deps.publicKey,
      seq: prev === undefined ? 0 : prev.seq + 1,
      selfParent: prev === undefined ? null : prev.hash,
      otherParent: other,
      timestamp: prev === undefined ? now : Math.max(now, prev.timestamp + 1),
      transactions: txs,
      payloads: deps.signer.peek(MAX_PAYLOADS),
    };
  }

  /**
   * Signs, stores and inserts the node's next event. False (nothing stored)
   * when the engine would refuse it: the node is not in the set of the
   * round it would have (not joined yet, or left), or that round's table is
   * not known yet.
   */
  async function create(otherTip: Tip | null, txs: Uint8Array[]): Promise<boolean> {
    if (!deps.registered()) return false;
    const unsigned = unsignedEvent(otherTip, txs);
    const wire = signEvent(unsigned, deps.sign, deps.hash);
    const ne = deps.node.toEvent(wire);
    try {
      deps.engine.probe(ne);
    } catch (e) {
      if (isCoded(e, ConsensusError, ['NOT_A_VALIDATOR', 'TABLE_PENDING'])) return false;
      throw e;
    }
    deps.signer.sent(unsigned.payloads.length);
    // On disk before anyone can see it, so a crash cannot make the node sign
    // a second event on the same self-parent (docs/PROTOCOL.md 9.3).
    failpoint('node.ownEvent.signed');
    await deps.store.addOwn(wire);
    failpoint('node.ownEvent.stored');
    durable = { hash: wire.hash, seq: wire.seq };
    const r = deps.node.insert(ne);
    deps.metrics.eventsInsertedTotal.inc();
    const own = txs.length > 0 ? txs.map((t) => deps.node.txHash(t)) : null;
    deps.writer.record(ne, own);
    if (own !== null) deps.tracker.observeStage('in_event', own);
    void deps.handleBlocks(r.blocks);
    return true;
  }

  return {
    get durable() {
      return durable;
    },
    async afterPull({ inserted, tip }) {
      if (!deps.registered() || !ownTipKnown()) return;
      const txs = deps.mempool.take(o.maxTxsPerEvent, o.maxTxBytesPerEvent);
      // No heartbeat while cut off from every peer: events nobody can see
      // only fill the disk (a lone validator, with no peers, still runs).
      const connected = deps.peers.all.length === 0 || deps.peers.fresh(Date.now()).length > 0;
      const heartbeat = connected && Date.now() - lastOwnMs >= o.idleIntervalMs;
      // Never just because a peer made an event: two idle nodes would
      // otherwise wake each other forever.
      if (
        txs.length === 0 &&
        !deps.signer.urgent &&
        !heartbeat &&
        !(inserted > 0 && deps.hasWork())
      ) {
        return;
      }
      const t = performance.now();
      if (await create(tip, txs)) {
        deps.metrics.gossipStepSeconds.observe({ phase: 'event' }, (performance.now() - t) / 1000);
      } else if (txs.length > 0) {
        deps.mempool.untake(txs.map((x) => deps.node.txHash(x)));
      }
      lastOwnMs = Date.now();
    },
    pulledAll(peer) {
      if (peer.publicKey !== null) pulledSinceStart.add(toHex(peer.publicKey));
    },
    learned(wire) {
      if (toHex(wire.creator) !== selfHex || wire.seq <= (durable?.seq ?? -1)) return;
      // A peer holds an own event newer than any this node has: it lost it
      // (a damaged disk, an old backup). Build on it, never beside it.
      durable = { hash: wire.hash, seq: wire.seq };
      deps.logger.warn(
        { seq: wire.seq, hash: toHex(wire.hash) },
        'learned an own event from a peer',
      );
    },
  };
}
