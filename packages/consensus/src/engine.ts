/**
 * The consensus engine: the fork-aware blockdag and its ordering
 * (docs/PROTOCOL.md 5: rounds, witnesses, fame by virtual voting, the
 * retrospective stake-weighted leader, blocks, expiry).
 *
 * `createConsensus` only wires: the engine's whole state is one explicit
 * object (`engine/types.ts`, `EngineState`), and the rules are free functions
 * over it, one module per part of docs/PROTOCOL.md 5:
 *
 * - `engine/validate.ts`: the checks of an event (5.1);
 * - `engine/ancestry.ts`: latest-ancestor and first-descendant vectors,
 *   `sees`, `strongly sees`, forks (5.2);
 * - `engine/rounds.ts`: rounds and witnesses (5.3);
 * - `engine/fame.ts`: virtual voting (5.4);
 * - `engine/order.ts`: leaders and blocks (5.5, 5.6);
 * - `engine/expiry.ts`: compaction and forgetting (5.7);
 * - `engine/tables.ts`, `engine/validators.ts`: stake tables and the creator
 *   index universe across epochs (5.9);
 * - `engine/insert.ts`: one insert, checks first, then the commit;
 * - `engine/queries.ts`: read-only answers.
 *
 * Everything is a pure function of the events inserted and the stake tables:
 * no clock, no randomness, no Map iteration in a decision, and integer stake
 * arithmetic only (see `Table`).
 */
import { keyOf } from './bytes.js';
import { ANCIENT, commit, prepare } from './engine/insert.js';
import { eventInfo, missingParents, probe, stats } from './engine/queries.js';
import { createEngineState } from './engine/state.js';
import { addValidator } from './engine/validators.js';
import type { Consensus, ConsensusEventInput, ConsensusOpts } from './types.js';

/**
 * Creates a consensus engine (docs/PROTOCOL.md 5). Insert events in any
 * topological order; the engine returns decided blocks as they happen. The
 * same set of events gives the same blocks whatever the order. Throws
 * `BAD_OPTIONS` for unusable options.
 */
export function createConsensus<E extends ConsensusEventInput>(
  opts: ConsensusOpts<E>,
): Consensus<E> {
  const st = createEngineState(opts);
  return {
    insert(ev) {
      const plan = prepare(st, ev, true);
      if (plan === ANCIENT) return { inserted: false, ancient: true, blocks: [], evidence: [] };
      if (!plan) return { inserted: false, blocks: [], evidence: [] };
      return commit(st, plan);
    },
    probe: (ev) => probe(st, ev),
    addValidator: (id) => addValidator(st, id),
    get validatorCount() {
      return st.n;
    },
    has: (h) => st.events.has(keyOf(h)),
    missingParents: (ev) => missingParents(st, ev),
    info: (h) => eventInfo(st, h),
    latest: (c) => st.creators[c]?.latest?.input ?? undefined,
    evidence: () => st.allEvidence.slice(),
    get lastDecidedRound() {
      return st.lastDecided;
    },
    stats: () => stats(st),
  };
}
