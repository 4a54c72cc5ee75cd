/** A fast single-observer random-gossip DAG, for benchmarks and property tests. */
import type { HashFn } from '@pos/merkle';
import { sha256Noble } from '@pos/merkle';
import { ConsensusError } from '../errors.js';
import { makeSimEvent, randomTxs, type SimEvent, type SimEventFields } from './events.js';
import { SimRng } from './rng.js';
import { defaultSimOpts } from './types.js';

/** Options of {@link generateDag}. */
export interface DagOpts {
  /** Number of validators (creators), at least 2. */
  readonly creators: number;
  /** Number of events to generate (fork twins count). */
  readonly events: number;
  readonly seed: number;
  readonly hash?: HashFn;
  /** Default 2. */
  readonly maxTxPerEvent?: number;
  /** A creator that equivocates every `forkEvery`-th event (default none). */
  readonly forker?: number | null;
  /** Default 5. */
  readonly forkEvery?: number;
  readonly maxStepMs?: number;
  readonly startMs?: number;
  /** Transactions appended to the event of a creation index (e.g. ledger transactions). */
  readonly extraTxs?: ReadonlyMap<number, readonly Uint8Array[]>;
}

/**
 * A random-gossip DAG as one observer that hears everything would receive
 * it, in creation order (topological). Each step a random creator A "syncs"
 * with a random other creator B and creates an event on its own latest with
 * B's latest as other-parent: since an event's ancestry is exactly what its
 * creator knew, this is the DAG of the full simulation without the per-node
 * bookkeeping (fast enough for benchmarks of 10^5+ events). A forker
 * keeps two branches and builds on the one of B's half (as in the simulator).
 */
export function generateDag(opts: DagOpts): SimEvent[] {
  const n = opts.creators;
  if (!Number.isSafeInteger(n) || n < 2) {
    throw new ConsensusError('BAD_OPTIONS', 'a DAG needs at least 2 creators');
  }
  const hash = opts.hash ?? sha256Noble;
  const maxTx = opts.maxTxPerEvent ?? 2;
  const forker = opts.forker ?? null;
  const maxStep = opts.maxStepMs ?? 5;
  const rng = new SimRng(opts.seed);
  const tips: (SimEvent | null)[] = new Array(n).fill(null);
  const fk: ForkerState = { tips: [null, null], counter: 0, every: opts.forkEvery ?? 5 };
  const out: SimEvent[] = [];
  let clock = opts.startMs ?? defaultSimOpts.startMs;
  // The forker's tip for half g (both halves share one chain until its first fork).
  const forkTip = (g: number) => fk.tips[g] ?? null;
  const shown = (b: number, to: number) => (b === forker ? forkTip(to % 2) : tips[b]) ?? null;
  while (out.length < opts.events) {
    clock += 1 + rng.below(maxStep);
    const a = rng.below(n);
    let b = rng.below(n - 1);
    if (b >= a) b++;
    const sp = (a === forker ? forkTip(b % 2) : tips[a]) ?? null;
    const op = shown(b, a);
    const seq = sp ? sp.seq + 1 : 0;
    const f = (twin: number): SimEventFields => ({
      creator: a,
      seq,
      selfParent: sp ? sp.hash : null,
      otherParent: op ? op.hash : null,
      ...(op ? { otherParentCreator: op.creator, otherParentSeq: op.seq } : {}),
      timestamp: Math.max(clock, sp ? sp.timestamp + 1 : 0),
      transactions: [
        ...randomTxs(rng, a, seq, maxTx, twin),
        ...(opts.extraTxs?.get(out.length) ?? []),
      ],
    });
    if (a === forker) forkerTurn(fk, out, opts.events, b % 2, f, hash);
    else {
      const e = makeSimEvent(f(0), out.length, hash);
      out.push(e);
      tips[a] = e;
    }
  }
  return out;
}

/** The forker's two branch tips (one per half of the network) and its event counter. */
interface ForkerState {
  readonly tips: [SimEvent | null, SimEvent | null];
  counter: number;
  readonly every: number;
}

/**
 * The forker's turn, with a peer of half `half`: every `every`-th time two
 * events on one self-parent (one per half), else one on the tip of that half.
 */
function forkerTurn(
  fk: ForkerState,
  out: SimEvent[],
  events: number,
  half: number,
  f: (twin: number) => SimEventFields,
  hash: HashFn,
): void {
  if (fk.counter++ % fk.every === fk.every - 1 && out.length + 2 <= events) {
    const e1 = makeSimEvent(f(0), out.length, hash);
    out.push(e1);
    const e2 = makeSimEvent(f(1), out.length, hash);
    out.push(e2);
    fk.tips[half] = e1;
    fk.tips[1 - half] = e2;
  } else {
    const e = makeSimEvent(f(0), out.length, hash);
    out.push(e);
    if (fk.tips[0] === fk.tips[1]) fk.tips[0] = fk.tips[1] = e;
    else fk.tips[half] = e;
  }
}
