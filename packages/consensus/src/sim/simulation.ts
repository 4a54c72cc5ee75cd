/**
 * The simulation loop: each step a random node A pulls from a random peer B
 * and creates an event (docs/PROTOCOL.md 5, 8). Deterministic: a function of
 * the options only.
 */
import { create } from './create.js';
import { deliver, offer } from './gossip.js';
import { catchUp } from './inbox.js';
import { defaultSimOpts, type SimOpts, type SimResult, type Simulation } from './types.js';
import { createWorld, type SimWorld, silentNow } from './world.js';

/**
 * Creates a simulation (see the `@pos/consensus/sim` module comment). Missing
 * options take {@link defaultSimOpts}. Throws `BAD_OPTIONS` for inconsistent
 * options.
 */
export function createSim(partial: Partial<SimOpts> = {}): Simulation {
  const o: SimOpts = { ...defaultSimOpts, ...partial };
  const w = createWorld(o);
  return {
    opts: o,
    run(steps: number) {
      for (let i = 0; i < steps; i++) step(w);
    },
    get stepsDone() {
      return w.stepsDone;
    },
    get clockMs() {
      return w.clock;
    },
    result: () => resultOf(w),
  };
}

/** One gossip step: the clock advances, a random active node syncs with a random peer and creates. */
function step(w: SimWorld): void {
  const { o, rng, nodes } = w;
  w.stepsDone++;
  w.clock += 1 + rng.below(o.maxStepMs);
  if (w.applyDelay > 0) for (const nd of nodes) if (nd.unapplied.length > 0) catchUp(w, nd);
  const ai = rng.pick(w.active);
  const a = nodes[ai]!;
  if (a.view.slow && !rng.chance(o.slowParticipation)) {
    a.counters.skippedTurns++;
    return;
  }
  if (w.L && silentNow(w, ai)) {
    a.counters.skippedTurns++;
    return;
  }
  let bi = rng.below(w.n - 1);
  if (bi >= ai) bi++;
  const b = nodes[bi]!;
  if (silentNow(w, bi)) {
    a.counters.failedSyncs++;
    return;
  }
  a.counters.syncs++;
  deliver(w, a, offer(w, b, a));
  create(w, a, b);
}

/** What the run has produced so far (live views of the simulation, not copies). */
function resultOf(w: SimWorld): SimResult {
  const { o, nodes } = w;
  return {
    opts: o,
    nodes: nodes.map((s) => s.view),
    honest: nodes.filter((s) => s.view.honest).map((s) => s.view.index),
    events: w.events,
    stats: nodes.map((s) => (s.cons ? s.cons.stats() : null)),
    steps: w.stepsDone,
    clockMs: w.clock,
  };
}

/** Creates a simulation, runs `opts.steps` steps and returns the result. */
export function runSim(opts: Partial<SimOpts> = {}): SimResult {
  const sim = createSim(opts);
  sim.run(sim.opts.steps);
  return sim.result();
}
