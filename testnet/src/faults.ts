/**
 * Network faults injected by the testnet itself (issue 7): the machine has no
 * netem, so each validator gets an HTTP proxy on its P2P front port (the
 * address in the genesis, which every peer dials, {@link TestnetOpts.p2pFront})
 * that forwards to the port posd really binds (`p2pBind`), and on the way
 * delays, loses, duplicates, reorders or blocks requests by rule.
 *
 * Sync is pull-based (docs/PROTOCOL.md 8, packages/gossip/src/sync/):
 * the puller POSTs `/sync/v1` to the server and the events flow back in the
 * answer. A link is therefore directed *puller → server*: blocking `a → b`
 * means `a` cannot pull from `b` (so `b`'s events reach `a` only through a
 * third node). The proxy sits on the server's side and learns the puller from
 * the request: the body is a msgpack map whose `from` is the puller's Ed25519
 * public key, matched against the layout. The signature is not checked here
 * (the server does that); a body that does not decode, or a key that is no
 * validator's, is an unknown caller (`?`) and gets the default rule.
 *
 * Randomness is a seeded generator per link (mulberry32 seeded from the run's
 * seed and the link's name), and every request draws the same number of
 * values whatever its rule, so the n-th request of a link meets the same fate
 * in every run with that seed. The nodes' own timing is not replayed (posd
 * picks peers with Math.random, and the machine's load varies), so a replay
 * gives the same fault pattern per link, not the same interleaving.
 *
 * This file is the entry: the fault kinds' state and controls per link are
 * `faults/links.ts`, the proxies `faults/proxy.ts`, the dice
 * `faults/random.ts`, the contracts `faults/types.ts`.
 *
 * @example
 * ```ts
 * const faults = createFaultNet(layout, { seed: 42 });
 * faults.setAll({ delayMs: 20, jitterMs: 80, loss: 0.05, duplicate: 0.05 });
 * faults.partition([['v0', 'v3'], ['v1', 'v2']]);
 * faults.heal();
 * await faults.close();
 * ```
 */

import { createLinks } from './faults/links.js';
import { startProxies } from './faults/proxy.js';
import type { FaultNet, FaultNetOpts } from './faults/types.js';
import type { TestnetLayout } from './network.js';
import { TestnetError } from './stakes.js';

export { mulberry32, seededRandom } from './faults/random.js';
export type {
  BlockMode,
  FaultControls,
  FaultNet,
  FaultNetOpts,
  LinkRule,
  LinkStats,
} from './faults/types.js';

/**
 * Starts one proxy per validator of `layout` (which must have been made with
 * `p2pFront: true`): on `node.p2p`, forwarding to `node.p2pBind`. Listening
 * starts at once; await {@link FaultNet.ready} before the nodes need it
 * (startTestnet's `onLayout` hook is the place, since posd is only reported
 * ready once it has synced with peers through the proxies).
 */
export function createFaultNet(layout: TestnetLayout, opts: FaultNetOpts): FaultNet {
  const seed = opts.seed >>> 0;
  const nodes = layout.nodes;
  for (const n of nodes) {
    if (n.p2pBind === undefined) {
      throw new TestnetError(`${n.name} has no p2pBind: start the testnet with p2pFront: true`);
    }
  }
  const links = createLinks(
    nodes.map((n) => n.name),
    seed,
    opts.blockMode ?? 'reset',
  );
  const proxies = startProxies(nodes, links);
  const { setAll, setLink, block, partition, isolate, cutPullsFrom, cutPullsBy } = links;
  const { setBlockMode, heal, clear, stats, totals } = links;
  return {
    seed,
    ready: proxies.ready,
    setAll,
    setLink,
    block,
    partition,
    isolate,
    cutPullsFrom,
    cutPullsBy,
    setBlockMode,
    heal,
    clear,
    stats,
    totals,
    close: proxies.close,
  };
}
