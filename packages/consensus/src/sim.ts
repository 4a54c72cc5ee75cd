/**
 * A deterministic in-process network simulator for the consensus engine
 * (docs/PROTOCOL.md 5, 6.1 and 8), exported as `@pos/consensus/sim`.
 *
 * N validators with unequal stakes gossip on a seeded random schedule. Each
 * step a random node A pulls from a random peer B the events B knows that A
 * lacks (the sync of docs/PROTOCOL.md 8), inserts them into its own consensus instance, and
 * creates a new event whose other-parent is B's latest. Faults: silent nodes
 * (never create, never answer), slow nodes (act only with some probability),
 * a forker (equivocates every k-th event and shows each branch to a different
 * half of the network), validators whose clock runs ahead, and a network that
 * reorders and duplicates the events of a sync.
 *
 * With `ledger`, stake tables change at epoch boundaries as proof of share
 * has it (docs/PROTOCOL.md 5.9): each node keeps a toy ledger of stakes and
 * registrations, applies its own decided blocks to it, and answers
 * `stakeTable(r)` from the snapshot after block s(r), or "not yet" before it
 * decided that far; validators join and leave through ledger transactions
 * carried in events.
 *
 * Everything is a pure function of the options: the schedule comes from a
 * seeded integer PRNG ({@link SimRng}), never `Math.random`, and the clock is
 * a simulated integer millisecond counter. Floats appear only in scheduling
 * choices (a participation or duplication probability), never in anything
 * consensus sees: events carry integer timestamps and byte strings only.
 *
 * Browser-safe like the rest of `src/`: the hash is injected.
 *
 * The parts live in `src/sim/`: the PRNG (`rng.ts`), events (`events.ts`),
 * engine options (`config.ts`), the toy ledger (`ledger.ts`,
 * `ledger-replay.ts`), the simulation's state (`world.ts`), a node's inbox
 * (`inbox.ts`), sync (`gossip.ts`), event creation (`create.ts`), the loop
 * (`simulation.ts`) and a fast single-observer DAG (`dag.ts`).
 */

export {
  type SimConsensusParams,
  simConsensusOpts,
  simValidatorIds,
} from './sim/config.js';
export { type DagOpts, generateDag } from './sim/dag.js';
export {
  EVENT_TAG,
  eventPreimage,
  makeSimEvent,
  type SimEvent,
  type SimEventFields,
} from './sim/events.js';
export {
  createLedgerEngine,
  decodeLedgerTx,
  encodeLedgerTx,
  type LedgerEngine,
  type SimAction,
  SimLedger,
  type SimLedgerOpts,
  type SimLedgerParams,
  type SimLedgerTx,
  snapshotRound,
} from './sim/ledger.js';
export { type LedgerReplay, replayWithLedger } from './sim/ledger-replay.js';
export { SimRng } from './sim/rng.js';
export { createSim, runSim } from './sim/simulation.js';
export {
  defaultSimOpts,
  type SimCounters,
  type SimNode,
  type SimOpts,
  type SimResult,
  type Simulation,
} from './sim/types.js';
export { WitnessIndex } from './sim/witnesses.js';
