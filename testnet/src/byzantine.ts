#!/usr/bin/env node
/**
 * A Byzantine validator for the testnet (issue 7): a real process that runs
 * with one genesis validator's key, on that validator's ports, and misbehaves
 * in one chosen way while the honest `posd` nodes must keep safety and
 * liveness.
 *
 * ```
 * node testnet/dist/byzantine.js --data-dir DIR --mode MODE [--seed N] [options]
 * ```
 *
 * `DIR` is a validator's data dir as the testnet writes it (`validator.key`,
 * `genesis.json`, `config.json`); `startTestnet({external: ['v3']})` leaves
 * one unstarted for this program. Modes:
 *
 * - `equivocate`: a validator that pulls, keeps the DAG and creates events
 *   like an honest one, then forks: two events on one self-parent, one branch
 *   served to some peers (told apart by the signed `from` of their sync
 *   requests) and the other to the rest, both built on from then on. A peer
 *   keeps getting only its own branch (and only honest events that do not
 *   descend from the other) until its own summary shows that it holds the
 *   other branch, learned from honest peers: the fork evidence has to travel
 *   through honest gossip. Once every peer holds both, it forks again every
 *   `--fork-every` events (the other group's head gets a second child).
 * - `withhold`: creates events but serves none of them (nor anything that
 *   descends from them) for `--withhold-ms` (0: until SIGUSR2; SIGUSR2
 *   releases at once), while it keeps pulling; then releases its whole
 *   hidden chain to one peer only (chosen by the seed), which has to absorb
 *   a burst of old events and relay them.
 * - `garbage`: an honest-looking validator whose every sync answer is broken
 *   in one of {@link GARBAGE_KINDS} ways: bytes that are not msgpack,
 *   truncated msgpack, a response of the wrong shape, an empty page that
 *   claims more, an event with a bad signature, of another chain, over
 *   1 MiB, undecodable, with a missing parent, with a wrong parent
 *   descriptor, with a timestamp not above its self-parent's, by a key that
 *   is no validator, a page over the puller's cap, a duplicated event. Each
 *   peer gets its own sequence of kinds (`GARBAGE_PLAN`), ordered so that
 *   each kind is seen by some peer before that peer's penalties reach the
 *   ban (100 points).
 * - `clock-ahead`: not this program's own validator: it runs the real `posd`
 *   on the data dir with the `clock-ahead.js` preload, its wall clock
 *   `--offset-ms` ahead (default one hour), and forwards signals to it.
 * - `stall`: pulls and creates events, and takes every sync request without
 *   ever answering it: the puller waits out its timeout, 10 s in which an
 *   honest node's gossip loop does nothing else, unscored (a known weakness,
 *   measured in docs/PROTOCOL.md 8; not in the test).
 *
 * A run continues the key's own chain where an earlier run on the same
 * network left it (pulled back from the honest peers before its first
 * event), so that the modes can follow one another on one testnet.
 *
 * Every decision of the adversary (which peer it pulls, which branch a peer
 * gets, when it forks, the order of garbage) comes from a PRNG seeded with
 * `--seed` (random and printed if not given); the network's timing is not
 * the seed's, so a run is repeatable in what the adversary does, not to the
 * millisecond. `GET /byz/status` on the validator's p2p port reports what it
 * did (JSON), for the test to check against the honest nodes' view. Log
 * lines are JSON on stdout.
 *
 * This file is the entry only. The modes are `byzantine/{equivocate,
 * withhold,garbage,stall,clock-ahead}.ts`, each a `ModeBehaviour`
 * over what they share (`byzantine/adversary.ts`: key, peers, DAG, heads,
 * report); the puller, the sync responder's checks and the loop are
 * `byzantine/{puller,server,run}.ts`.
 */
import { pathToFileURL } from 'node:url';
import { parseByzantineArgs } from './byzantine/args.js';
import { runClockAhead } from './byzantine/clock-ahead.js';
import { runOwnMode } from './byzantine/run.js';

export {
  type ByzantineStatus,
  GARBAGE_KINDS,
  GARBAGE_PLAN,
  type GarbageKind,
  type PeerReport,
} from './byzantine/types.js';

async function main(): Promise<void> {
  const a = parseByzantineArgs(process.argv.slice(2));
  if (a.mode === 'clock-ahead') return runClockAhead(a);
  return runOwnMode(a, a.mode);
}

// Run only as a program: the test imports the plan and the types.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e) => {
    process.stderr.write(`byzantine: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  });
}
