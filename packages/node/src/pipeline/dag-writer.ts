/**
 * What the node notes about every event the engine placed, whichever way it
 * came (replayed from disk, pulled from a peer, or its own): its round (for
 * `pos_getDag`), its transactions (still to be ordered), and the block
 * signatures it carries (docs/PROTOCOL.md 7).
 */
import type { Consensus } from '@pos/consensus';
import type { Certifier } from '../chain/certifier.js';
import type { NodeEvent } from './dag.js';
import type { RoundIndex } from './rounds.js';
import type { TxTracker } from './tx-tracker.js';

/** What {@link createDagWriter} writes to. */
export interface DagWriterDeps {
  readonly engine: Pick<Consensus<NodeEvent>, 'info'>;
  readonly rounds: RoundIndex;
  readonly tracker: Pick<TxTracker, 'trackEvent'>;
  readonly certifier: Pick<Certifier, 'addSignatures'>;
}

/** Notes placed events. */
export interface DagWriter {
  /**
   * Notes an event the engine placed; `own` lists its transaction hashes
   * when this node made it. Returns its round (-1 if the engine forgot it).
   */
  record(ne: NodeEvent, own: Uint8Array[] | null): number;
}

/** Creates the writer. */
export function createDagWriter(deps: DagWriterDeps): DagWriter {
  return {
    record(ne, own) {
      const round = deps.engine.info(ne.hash)?.round ?? -1;
      deps.rounds.note(round, ne.hash);
      deps.tracker.trackEvent(ne, round, own);
      deps.certifier.addSignatures(ne.wire);
      return round;
    },
  };
}
