/**
 * A page pulled from a peer into the engine (docs/PROTOCOL.md 8.1): every
 * new event is placed (its signature was checked in the pull's batch),
 * stored, and noted; the blocks it decides go to the apply queue at the end
 * of the page. An event the engine refuses ends the page (its descendants
 * cannot be placed either) and costs the peer score, except one that waits
 * for a stake table its ancestors will decide.
 */
import {
  type Consensus,
  ConsensusError,
  type DecidedBlock,
  type InsertResult,
} from '@pos/consensus';
import type { Peer, PeerScores, WireEvent } from '@pos/gossip';
import { toHex } from '@pos/merkle';
import { isCoded } from '@pos/protocol';
import type { TxDecoder } from '../chain/tx-decoder.js';
import type { Ed25519VerifyItem } from '../crypto/crypto.js';
import { signatureItems } from '../crypto/tx-signatures.js';
import type { LevelEventStore } from '../db/event-store.js';
import type { NodeMetrics } from '../metrics.js';
import { DagError, type NodeEvent, type ValidatorIndex } from './dag.js';
import type { DagWriter } from './dag-writer.js';
import type { NodeEngine } from './engine.js';
import type { OwnEvents } from './own-event.js';

/** What {@link createIngest} needs. */
export interface IngestDeps {
  readonly node: Pick<NodeEngine, 'toEvent' | 'insert'>;
  readonly engine: Pick<Consensus<NodeEvent>, 'has'>;
  readonly index: Pick<ValidatorIndex, 'publicKeys'>;
  readonly store: Pick<LevelEventStore, 'add'>;
  readonly writer: DagWriter;
  readonly own: Pick<OwnEvents, 'learned'>;
  readonly scores: Pick<PeerScores, 'penalize'>;
  readonly metrics: Pick<NodeMetrics, 'eventsRefusedTotal' | 'eventsInsertedTotal'>;
  readonly logger: { debug(o: object, m: string): void; warn(o: object, m: string): void };
  /** Queues decided blocks; resolves once they are applied. */
  handleBlocks(blocks: readonly DecidedBlock<NodeEvent>[]): Promise<void>;
  /**
   * Checks peers' transaction signatures early, in the worker pool, while
   * consensus orders them; a block's own check at application then hits
   * the cache instead of holding the apply queue.
   */
  prefetch(items: readonly Ed25519VerifyItem[]): Promise<void>;
  /** The node's transaction decoder. */
  readonly decode: TxDecoder;
}

/** Inserts a page; returns how many of its events were new. */
export type Ingest = (page: readonly WireEvent[], from: Peer) => Promise<number>;

type Placed = { ne: NodeEvent; r: InsertResult<NodeEvent> };
type Outcome = { ok: true; placed: Placed } | { ok: false; code: string; message: string };

/** Creates the ingest step. */
export function createIngest(deps: IngestDeps): Ingest {
  const place = (wire: WireEvent): Placed => {
    const ne = deps.node.toEvent(wire);
    return { ne, r: deps.node.insert(ne) };
  };

  /** Places `wire`, or says why the engine refused it. */
  async function tryPlace(wire: WireEvent, blocks: DecidedBlock<NodeEvent>[]): Promise<Outcome> {
    try {
      try {
        return { ok: true, placed: place(wire) };
      } catch (e) {
        // An event of a validator registered, or in an epoch whose table is
        // taken, by a block decided but not applied yet (docs/PROTOCOL.md
        // 6.5): apply what is decided, then try once more.
        const waits =
          isCoded(e, DagError, ['UNKNOWN_CREATOR']) ||
          isCoded(e, ConsensusError, ['TABLE_PENDING']);
        if (!waits) throw e;
        await deps.handleBlocks(blocks.splice(0));
        return { ok: true, placed: place(wire) };
      }
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? 'BAD_EVENT');
      deps.metrics.eventsRefusedTotal.inc({ reason: code });
      return { ok: false, code, message: (e as Error).message };
    }
  }

  function noteNew(wire: WireEvent, placed: Placed): void {
    deps.store.add(wire);
    if (wire.transactions.length > 0) {
      // A failure (the pool closing at shutdown) only costs the check at application.
      deps
        .prefetch(signatureItems(wire.transactions, deps.decode))
        .catch((e: unknown) =>
          deps.logger.debug({ err: e }, 'could not check the signatures of an event early'),
        );
    }
    deps.own.learned(wire);
    deps.metrics.eventsInsertedTotal.inc();
    deps.writer.record(placed.ne, null);
    for (const ev of placed.r.evidence) {
      deps.logger.warn(
        {
          creator: toHex(deps.index.publicKeys[ev.creator]!),
          a: toHex(ev.a.hash),
          b: toHex(ev.b.hash),
        },
        'fork evidence: a validator equivocated',
      );
    }
  }

  return async (page, from) => {
    let inserted = 0;
    const blocks: DecidedBlock<NodeEvent>[] = [];
    try {
      for (const wire of page) {
        if (deps.engine.has(wire.hash)) continue;
        const outcome = await tryPlace(wire, blocks);
        if (!outcome.ok) {
          if (outcome.code === 'TABLE_PENDING') {
            // Its snapshot round is not decided here yet: its ancestors will decide it.
            deps.logger.debug({ peer: from.url }, 'an event waits for its stake table');
            break;
          }
          const { code, message } = outcome;
          deps.scores.penalize(
            from.url,
            code === 'BAD_SIGNATURE' ? 'BAD_SIGNATURE' : 'BAD_RESPONSE',
          );
          deps.logger.warn({ peer: from.url, code, message }, 'refused an event from a peer');
          break; // its descendants in this page cannot be placed either
        }
        const { placed } = outcome;
        if (!placed.r.inserted) continue;
        noteNew(wire, placed);
        inserted++;
        blocks.push(...placed.r.blocks);
      }
    } finally {
      void deps.handleBlocks(blocks);
    }
    return inserted;
  };
}
