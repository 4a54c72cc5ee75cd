/**
 * Fixture replay (docs/PROTOCOL.md 5.8): reads a DAG given
 * as JSON with events named by strings, runs the engine over it, and reports
 * its consensus by name, so that any implementation can be checked against
 * another and against the public hashgraph fixtures copied into this
 * repository, `packages/consensus/test/fixtures/hashgraph/` (provenance in
 * its README).
 *
 * Replay rules (docs/PROTOCOL.md 5.8): an event's hash and signature are both
 * `sha256(utf8(name))`, creator i's validatorId is `u32be(i)`, the initial seed
 * is 32 zero bytes, and the stake table is the same for every round. Two rules
 * of our own, because the fixture format leaves them open:
 *
 * - An event without `timestamp` gets its `seq`. That keeps 5.1's rule
 *   (strictly greater than the self-parent's) for every fixture whose events
 *   have no timestamps at all, such as babble's; the block timestamps are then
 *   seq-based, which is all a fixture without clocks can say.
 * - Nothing expires (`expireRounds` is 1,000,000): a fixture is small, and an
 *   event that expired could not be reported.
 *
 * The parts live in `src/replay/`: contracts (`types.ts`), JSON helpers
 * (`json.ts`), fixture validation (`parse.ts`), the run (`run.ts`) and the
 * conformance bundle (`bundle.ts`).
 *
 * Pure and browser-safe like the rest of `src/`: no I/O (the CLI in
 * `cli/replay.ts` reads the file), and no TextEncoder (this package compiles
 * without DOM or node typings), so UTF-8 is encoded by hand.
 */
export { type BundleEntry, bundleEntries, isBundle, replayBundle } from './replay/bundle.js';
export { utf8Bytes } from './replay/json.js';
export { parseReplayInput } from './replay/parse.js';
export { buildReplayDag, replay } from './replay/run.js';
export {
  BUNDLE_DEFAULT_COIN,
  BUNDLE_FORMAT,
  REPLAY_DEFAULT_COIN,
  REPLAY_EXPIRE_ROUNDS,
  type ReplayBlock,
  type ReplayConsensusEvent,
  type ReplayDag,
  ReplayError,
  type ReplayErrorCode,
  type ReplayEvent,
  type ReplayInput,
  type ReplayOpts,
  type ReplayOutput,
} from './replay/types.js';
