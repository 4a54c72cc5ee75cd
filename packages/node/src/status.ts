/**
 * The node's status (`pos_status`, `GET /status`, docs/PROTOCOL.md 10.3)
 * and readiness (`GET /ready`, docs/PROTOCOL.md 10.2): caught up with a
 * quorum, i.e. this node and the peers it synced with recently hold more
 * than 2/3 of the stake of the set that signs the next block.
 */
import type { Consensus } from '@pos/consensus';
import type { PeerBook } from '@pos/gossip';
import { toHex } from '@pos/merkle';
import { epochOfRound, type GenesisParams } from '@pos/protocol';
import type { NodeStatus } from './api/interface.js';
import type { Readiness } from './api/ops.js';
import type { Chain } from './chain/chain.js';
import type { LevelEventStore } from './db/event-store.js';
import type { Mempool } from './mempool.js';
import type { NodeMetrics } from './metrics.js';
import type { NodeEvent } from './pipeline/dag.js';
import type { StakeTables } from './pipeline/stake-tables.js';

/** What {@link createStatus} reads. */
export interface StatusDeps {
  readonly chainId: Uint8Array;
  readonly validatorId: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly params: Pick<GenesisParams, 'lag' | 'epoch'>;
  readonly chain: Pick<Chain, 'latest' | 'ledger' | 'flushedHeight'>;
  readonly engine: Pick<Consensus<NodeEvent>, 'stats'>;
  readonly store: Pick<LevelEventStore, 'nextIndex' | 'pruneFloor'>;
  readonly mempool: Pick<Mempool, 'size' | 'bytes'>;
  readonly peers: Pick<PeerBook, 'all' | 'fresh'>;
  readonly stakeTables: Pick<StakeTables, 'setOf' | 'setOfRound' | 'stakeIn'>;
  lastCertified(): number | null;
  /** The database's size on disk at the last measure (null before the first). */
  diskBytes(): number | null;
  replaying(): boolean;
  catchingUp(): boolean;
  nextRound(): number;
}

/** Status and readiness of the node. */
export interface StatusView {
  status(): NodeStatus;
  readiness(): Readiness;
}

/** Creates the view. */
export function createStatus(deps: StatusDeps): StatusView {
  const { chain, stakeTables } = deps;

  function validatorSet(): NodeStatus['validatorSet'] {
    const epoch = epochOfRound(deps.nextRound(), deps.params);
    const set = stakeTables.setOf(epoch);
    const stake = stakeTables.stakeIn(set, deps.publicKey);
    return {
      epoch,
      member: stake > 0n,
      stake: stake.toString(),
      totalStake: (set?.validators.reduce((a, v) => a + v.stake, 0n) ?? 0n).toString(),
      size: set?.validators.length ?? 0,
    };
  }

  function status(): NodeStatus {
    const st = deps.engine.stats();
    const head = chain.latest();
    return {
      chainId: toHex(deps.chainId),
      nodeId: toHex(deps.validatorId),
      publicKey: toHex(deps.publicKey),
      height: head?.header.height ?? null,
      blockHash: head === null ? null : toHex(head.blockHash),
      round: st.maxRound,
      decidedRound: st.lastDecidedRound,
      lastCertifiedHeight: deps.lastCertified(),
      peers: deps.peers.fresh(Date.now()).length,
      peersKnown: deps.peers.all.length,
      syncing: deps.replaying() || deps.catchingUp(),
      lastBlockTime: head?.header.timestamp ?? null,
      mempool: { transactions: deps.mempool.size, bytes: deps.mempool.bytes },
      events: { live: st.liveEvents, stored: deps.store.nextIndex - deps.store.pruneFloor },
      supply: {
        unspent: chain.ledger.unspent().toString(),
        burned: chain.ledger.burned().toString(),
      },
      validatorSet: validatorSet(),
      storage: {
        diskBytes: deps.diskBytes(),
        stateFlushedHeight: chain.flushedHeight,
        stateFromHeight: chain.ledger.keptFromHeight,
      },
    };
  }

  function readiness(): Readiness {
    if (deps.replaying()) return { ready: false, reason: 'replaying stored events' };
    if (deps.catchingUp()) return { ready: false, reason: 'catching up with peers' };
    const set = stakeTables.setOfRound(deps.nextRound());
    if (set === undefined) {
      return { ready: false, reason: 'the next validator set is not known yet' };
    }
    const totalStake = set.validators.reduce((a, v) => a + v.stake, 0n);
    let stake = stakeTables.stakeIn(set, deps.publicKey);
    for (const p of deps.peers.fresh(Date.now())) {
      if (p.publicKey !== null) stake += stakeTables.stakeIn(set, p.publicKey);
    }
    if (3n * stake > 2n * totalStake) return { ready: true };
    return {
      ready: false,
      reason: `synced recently with validators holding ${stake} of ${totalStake} stake (need > 2/3)`,
    };
  }

  return { status, readiness };
}

/** Sets the gauges that follow the engine and the mempool (after each gossip step and submission). */
export function refreshGauges(
  metrics: Pick<
    NodeMetrics,
    'decidedRound' | 'maxRound' | 'eventsLive' | 'mempoolTransactions' | 'mempoolBytes'
  >,
  engine: Pick<Consensus<NodeEvent>, 'stats'>,
  mempool: Pick<Mempool, 'size' | 'bytes'>,
): void {
  const st = engine.stats();
  metrics.decidedRound.set(st.lastDecidedRound);
  metrics.maxRound.set(st.maxRound);
  metrics.eventsLive.set(st.liveEvents);
  metrics.mempoolTransactions.set(mempool.size);
  metrics.mempoolBytes.set(mempool.bytes);
}
