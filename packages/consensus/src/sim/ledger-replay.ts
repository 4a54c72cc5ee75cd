/**
 * Replays a DAG into one engine wired to a toy ledger, as a node must feed
 * it (docs/PROTOCOL.md 5.9): events whose table is pending, or whose creator
 * is not registered yet, are held with their descendants and retried.
 */
import { keyOf } from '../bytes.js';
import { ConsensusError } from '../errors.js';
import type { Consensus, DecidedBlock } from '../types.js';
import type { SimConsensusParams } from './config.js';
import type { SimEvent } from './events.js';
import {
  createLedgerEngine,
  type LedgerEngine,
  type SimLedger,
  type SimLedgerParams,
} from './ledger.js';

/** What {@link replayWithLedger} produced. */
export interface LedgerReplay extends LedgerEngine {
  readonly blocks: DecidedBlock<SimEvent>[];
  /** Events held at least once (table pending or creator not registered yet). */
  readonly heldTotal: number;
  /** Largest number held at once. */
  readonly maxHeld: number;
  /** Events still held at the end: their tables never became known. */
  readonly stuck: readonly SimEvent[];
  /** Events refused with MISSING_PARENT (a forgotten parent), with their descendants. */
  readonly dropped: readonly SimEvent[];
  /** The round each inserted event got, by `SimEvent.id` (kept after the engine forgets it). */
  readonly rounds: ReadonlyMap<number, number>;
}

/** Called after each insert of a {@link replayWithLedger}, once the ledger took its blocks. */
export type OnLedgerInsert = (
  event: SimEvent,
  blocks: readonly DecidedBlock<SimEvent>[],
  cons: Consensus<SimEvent>,
) => void;

/** The state of one {@link replayWithLedger} run. */
interface ReplayRun {
  readonly cons: Consensus<SimEvent>;
  readonly ledger: SimLedger;
  readonly onInsert: OnLedgerInsert | undefined;
  readonly blocks: DecidedBlock<SimEvent>[];
  /** Held events in `order` order. */
  readonly held: SimEvent[];
  readonly heldKeys: Set<string>;
  readonly droppedKeys: Set<string>;
  readonly dropped: SimEvent[];
  readonly rounds: Map<number, number>;
  heldTotal: number;
  maxHeld: number;
}

/**
 * Feeds `order` (a topological order) into a fresh {@link createLedgerEngine}
 * as a node must: an event whose creator is not registered here yet, or
 * whose round's table is pending, is held with its descendants and inserted
 * again after the engine decides more rounds (in `order` order, until nothing
 * more goes in). Other errors are thrown. `onInsert` runs after each insert
 * (and after the ledger took its blocks), before the next one.
 */
export function replayWithLedger(
  p: SimConsensusParams & { readonly ledger: SimLedgerParams },
  order: readonly SimEvent[],
  onInsert?: OnLedgerInsert,
): LedgerReplay {
  const { cons, ledger } = createLedgerEngine(p);
  const run: ReplayRun = {
    cons,
    ledger,
    onInsert,
    blocks: [],
    held: [],
    heldKeys: new Set(),
    droppedKeys: new Set(),
    dropped: [],
    rounds: new Map(),
    heldTotal: 0,
    maxHeld: 0,
  };
  for (const e of order) feed(run, e);
  retry(run);
  const { blocks, heldTotal, maxHeld, held, dropped, rounds } = run;
  return { cons, ledger, blocks, heldTotal, maxHeld, stuck: held, dropped, rounds };
}

const parents = (e: SimEvent) => [e.selfParent, e.otherParent].filter((q) => q !== null);

/** Drops `e` for good: a parent of it was forgotten (or dropped). */
function drop(run: ReplayRun, e: SimEvent): void {
  run.droppedKeys.add(keyOf(e.hash));
  run.dropped.push(e);
}

/** The next event of `order`: dropped, held, or inserted (then what was held may go in). */
function feed(run: ReplayRun, e: SimEvent): void {
  const { cons, held, heldKeys } = run;
  const ps = parents(e);
  if (ps.some((q) => run.droppedKeys.has(keyOf(q)))) {
    drop(run, e);
    return;
  }
  const before = cons.lastDecidedRound;
  const r = ps.some((q) => heldKeys.has(keyOf(q))) ? 'held' : attempt(run, e);
  if (r === 'held') {
    held.push(e);
    heldKeys.add(keyOf(e.hash));
    run.heldTotal++;
    if (held.length > run.maxHeld) run.maxHeld = held.length;
  } else if (r === 'missing') {
    drop(run, e);
  } else if (cons.lastDecidedRound !== before && held.length > 0) retry(run);
}

/** 'ok', 'held' (try later) or 'missing' (a forgotten parent). */
function attempt(run: ReplayRun, e: SimEvent): 'ok' | 'held' | 'missing' {
  const cons = run.cons;
  if (e.creator >= cons.validatorCount) return 'held';
  let res: ReturnType<Consensus<SimEvent>['insert']>;
  try {
    res = cons.insert(e);
  } catch (err) {
    if (err instanceof ConsensusError && err.code === 'TABLE_PENDING') return 'held';
    if (err instanceof ConsensusError && err.code === 'MISSING_PARENT') return 'missing';
    throw err;
  }
  const info = cons.info(e.hash);
  if (info) run.rounds.set(e.id, info.round);
  run.blocks.push(...res.blocks);
  run.ledger.absorb(res.blocks, cons);
  run.onInsert?.(e, res.blocks, cons);
  return 'ok';
}

/** Inserts held events, in order, pass after pass while a pass inserts something. */
function retry(run: ReplayRun): void {
  const { cons, held, heldKeys } = run;
  for (let progress = true; progress && held.length > 0; ) {
    progress = false;
    for (let i = 0; i < held.length; i++) {
      const e = held[i]!;
      if (parents(e).some((q) => heldKeys.has(keyOf(q)))) continue;
      const before = cons.lastDecidedRound;
      const r = attempt(run, e);
      if (r === 'held') continue;
      held.splice(i--, 1);
      heldKeys.delete(keyOf(e.hash));
      if (r === 'missing') drop(run, e);
      progress = true;
      if (cons.lastDecidedRound !== before) break; // earlier ones may go in now
    }
  }
}
