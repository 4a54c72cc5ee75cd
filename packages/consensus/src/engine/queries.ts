/** Read-only answers of the engine: what it knows, for sync, the node and metrics. */
import { keyOf } from '../bytes.js';
import { ConsensusError } from '../errors.js';
import type { ConsensusEventInput, ConsensusStats, EventInfo, ProbeResult } from '../types.js';
import { ANCIENT, isAncient, prepare } from './insert.js';
import type { EngineState } from './types.js';
import { opForgotten } from './validate.js';

/**
 * Every check of `insert` but `verify`, and the round and witness flag the
 * event gets, changing nothing (docs/PROTOCOL.md 5.9, `probe`). A known hash
 * answers with the known event's.
 */
export function probe<E extends ConsensusEventInput>(st: EngineState<E>, ev: E): ProbeResult {
  const plan = prepare(st, ev, false);
  if (plan === ANCIENT) {
    throw new ConsensusError(
      'BAD_ARGUMENT',
      'the event is at or below its creator’s forgotten horizon',
    );
  }
  if (plan) return { round: plan.round, witness: plan.witness };
  const known = st.events.get(keyOf(ev.hash))!;
  return { round: known.round, witness: known.witness };
}

/**
 * The parent hashes of `ev` that are not known. A parent at or below its
 * creator's forgotten horizon is not missing: it was forgotten here
 * (docs/PROTOCOL.md 5.7); nor are those of an event that `insert` ignores
 * as ancient.
 */
export function missingParents<E extends ConsensusEventInput>(
  st: EngineState<E>,
  ev: ConsensusEventInput,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (ev.creator >= 0 && ev.creator < st.n && isAncient(st, ev)) return out;
  const sp = ev.selfParent;
  if (sp && !st.events.has(keyOf(sp)) && !(ev.seq - 1 <= (st.forgottenSeq[ev.creator] ?? -1))) {
    out.push(sp);
  }
  const op = ev.otherParent;
  if (op && !st.events.has(keyOf(op)) && !opForgotten(st, ev)) out.push(op);
  return out;
}

/** Consensus facts about a live (not forgotten) event, or undefined. */
export function eventInfo<E extends ConsensusEventInput>(
  st: EngineState<E>,
  h: Uint8Array,
): EventInfo<E> | undefined {
  const e = st.events.get(keyOf(h));
  if (!e?.input) return undefined;
  return {
    event: e.input,
    round: e.round,
    generation: e.gen,
    witness: e.witness,
    famous: e.witness ? e.famous : undefined,
    orderedIn: e.ordered >= 0 ? e.ordered : undefined,
  };
}

/** Sizes and counters, for metrics and the memory bound. */
export function stats<E extends ConsensusEventInput>(st: EngineState<E>): ConsensusStats {
  return {
    liveEvents: st.liveCount,
    compactEvents: st.compactCount,
    insertedTotal: st.insertedTotal,
    blocksTotal: st.blocksTotal,
    orderedEventsTotal: st.orderedTotal,
    maxRound: st.maxRound,
    lastDecidedRound: st.lastDecided,
    forkers: st.allEvidence.length,
  };
}
