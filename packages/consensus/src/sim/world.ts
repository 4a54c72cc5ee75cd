/**
 * The state of one simulation, in one object (`SimWorld`) that the
 * simulator's free functions take first, and of each of its nodes
 * (`NodeState`). Built once by {@link createWorld} from checked options.
 */
import { createConsensus } from '../engine.js';
import { ConsensusError } from '../errors.js';
import type { Consensus, ConsensusOpts, DecidedBlock } from '../types.js';
import { simConsensusOpts, simValidatorIds } from './config.js';
import type { SimEvent } from './events.js';
import { createLedgerEngine, SimLedger, type SimLedgerOpts } from './ledger.js';
import { SimRng } from './rng.js';
import type { SimCounters, SimNode, SimOpts } from './types.js';
import { WitnessIndex } from './witnesses.js';

/** One node's state beyond its public view. */
export interface NodeState {
  readonly view: SimNode;
  readonly counters: SimCounters;
  readonly cons: Consensus<SimEvent> | null;
  /** What `cons` accepted, in insertion order (topological): the sync source. */
  known: SimEvent[];
  /** Absolute index of `known[0]` (a prefix every peer has been offered is dropped). */
  knownBase: number;
  /** Per peer: absolute index into `known` of the next event to offer it. */
  readonly cursor: number[];
  /** Latest own event (honest), or the two branch tips (forker). */
  tip: SimEvent | null;
  readonly tips: [SimEvent | null, SimEvent | null];
  /** The forker's own events by key, to tell which branch an event is on. */
  readonly own: Map<string, SimEvent>;
  readonly buffer: Map<string, SimEvent>;
  readonly waiting: Map<string, string[]>;
  /** Events held for a pending table or an unregistered creator, and their descendants. */
  readonly held: Map<string, SimEvent>;
  readonly ledger: SimLedger | null;
  /** Whether its last attempt to create an event passed `probe` (so peers take its tip as other-parent). */
  member: boolean;
  /** Decisions its ledger has not applied yet (`ledger.applyDelay`), oldest first. */
  readonly unapplied: { due: number; blocks: readonly DecidedBlock<SimEvent>[]; decided: number }[];
  /** The engine's decided round when the ledger was last handed decisions. */
  handedDecided: number;
  readonly witnesses: WitnessIndex<SimEvent> | null;
  forkCounter: number;
}

/** The whole simulation: options, the schedule's PRNG, the clock, every node, every event. */
export interface SimWorld {
  readonly o: SimOpts;
  /** Number of validators. */
  readonly n: number;
  /** `o.ledger`: stake tables from each node's toy ledger, or null for one constant table. */
  readonly L: SimLedgerOpts | null;
  /** Steps between a node deciding blocks and its ledger applying them. */
  readonly applyDelay: number;
  /** Validators that are not silent from the start. */
  readonly active: readonly number[];
  readonly rng: SimRng;
  /** Every event created, in creation order. */
  readonly events: SimEvent[];
  readonly nodes: readonly NodeState[];
  clock: number;
  stepsDone: number;
}

/** Checks the options (`BAD_OPTIONS`) and builds the simulation before its first step. */
export function createWorld(o: SimOpts): SimWorld {
  const n = o.stakes.length;
  const applyDelay = o.ledger?.applyDelay ?? 0;
  const active = checkSimOpts(o, n, applyDelay);
  const rng = new SimRng(o.seed);
  const copts = o.ledger ? null : simConsensusOpts(o);
  return {
    o,
    n,
    L: o.ledger,
    applyDelay,
    active,
    rng,
    events: [],
    nodes: Array.from({ length: n }, (_, i) => createNodeState(o, i, copts)),
    clock: o.startMs,
    stepsDone: 0,
  };
}

/** Throws `BAD_OPTIONS` for inconsistent options; returns the validators not silent from the start. */
function checkSimOpts(o: SimOpts, n: number, applyDelay: number): number[] {
  const bad = (m: string) => new ConsensusError('BAD_OPTIONS', m);
  if (n < 2) throw bad('a simulation needs at least 2 validators');
  const idx = (i: number) => Number.isSafeInteger(i) && i >= 0 && i < n;
  for (const i of [...o.silent, ...o.slow]) if (!idx(i)) throw bad(`no validator ${i}`);
  if (o.forker !== null && (!idx(o.forker) || o.silent.includes(o.forker))) {
    throw bad('forker: a validator index that is not silent');
  }
  for (const k of Object.keys(o.clockAheadMs)) if (!idx(Number(k))) throw bad(`no validator ${k}`);
  if (!(o.slowParticipation > 0 && o.slowParticipation <= 1)) {
    throw bad('slowParticipation must be in (0, 1]');
  }
  if (!(o.duplicateProbability >= 0 && o.duplicateProbability < 1)) {
    throw bad('duplicateProbability must be in [0, 1)');
  }
  if (!Number.isSafeInteger(o.forkEvery) || o.forkEvery < 1) throw bad('forkEvery >= 1');
  if (!Number.isSafeInteger(o.maxStepMs) || o.maxStepMs < 1) throw bad('maxStepMs >= 1');
  if (!Number.isSafeInteger(o.maxTxPerEvent) || o.maxTxPerEvent < 0) throw bad('maxTxPerEvent');
  if (!Number.isSafeInteger(applyDelay) || applyDelay < 0) throw bad('applyDelay >= 0');
  const active = Array.from({ length: n }, (_, i) => i).filter((i) => !o.silent.includes(i));
  if (active.length === 0) throw bad('every validator is silent');
  const L = o.ledger;
  if (L) {
    for (const a of L.actions) {
      if (!idx(a.by) || !Number.isSafeInteger(a.atStep)) throw bad('action: by, atStep');
    }
    for (const k of Object.keys(L.silentFrom)) if (!idx(Number(k))) throw bad(`no validator ${k}`);
    // Checks the epoch parameters and genesis set.
    new SimLedger(o.stakes, L, simValidatorIds(n, o.hash));
  }
  return active;
}

/** Node i before the first step: its faults, its own engine (none if silent) and ledger. */
function createNodeState(o: SimOpts, i: number, copts: ConsensusOpts<SimEvent> | null): NodeState {
  const n = o.stakes.length;
  const L = o.ledger;
  const silent = o.silent.includes(i);
  const forker = o.forker === i;
  const counters = newCounters();
  let cons: Consensus<SimEvent> | null = null;
  let ledger: SimLedger | null = null;
  if (!silent && L) ({ cons, ledger } = createLedgerEngine({ ...o, ledger: L }));
  else if (!silent) cons = createConsensus(copts!);
  const view: SimNode = {
    index: i,
    stake: o.stakes[i]!,
    silent,
    slow: o.slow.includes(i),
    forker,
    clockAheadMs: o.clockAheadMs[i] ?? 0,
    honest: !silent && !forker,
    consensus: cons,
    ledger,
    blocks: [],
    candidates: [],
    evidence: [],
    counters,
    anomalies: [],
  };
  return {
    view,
    counters,
    cons,
    known: [],
    knownBase: 0,
    cursor: new Array<number>(n).fill(0),
    tip: null,
    tips: [null, null],
    own: new Map(),
    buffer: new Map(),
    waiting: new Map(),
    held: new Map(),
    ledger,
    member: !L || (i < L.genesisValidators && o.stakes[i]! > 0n),
    unapplied: [],
    handedDecided: -1,
    witnesses: o.recordCandidates && cons ? new WitnessIndex<SimEvent>() : null,
    forkCounter: 0,
  };
}

/** Every counter at zero. */
function newCounters(): SimCounters {
  return {
    syncs: 0,
    failedSyncs: 0,
    skippedTurns: 0,
    created: 0,
    delivered: 0,
    duplicatesDelivered: 0,
    duplicatesIgnored: 0,
    bufferedTotal: 0,
    maxBuffered: 0,
    dropped: 0,
    rejected: {},
    heldTotal: 0,
    idleTurns: 0,
  };
}

/** Whether validator i is silent at this step (from the start, or from `ledger.silentFrom`). */
export function silentNow(w: SimWorld, i: number): boolean {
  if (w.nodes[i]!.view.silent) return true;
  const from = w.L?.silentFrom[i];
  return from !== undefined && w.stepsDone >= from;
}
