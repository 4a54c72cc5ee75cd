/**
 * Freshness across agents (docs/PROTOCOL.md 11): one agent can show a
 * correctly certified but old state by hiding its newer blocks; a second
 * agent's certified head shows it. Compared by the heads' consensus
 * timestamps, which every honest agent shares for a given height, so the
 * bound does not depend on the chain's block rate.
 *
 * @module
 */
import { fail } from '../agent.js';
import type { CertifiedHeader } from '../types.js';

/**
 * Most an agent's certified head may trail the newest of the others: 60 s.
 * On an idle 4-validator testnet blocks come every few seconds and the
 * agents' certified heads were seen up to 8 s apart (one agent collecting its
 * certificate a heartbeat later); under load they are closer.
 */
export const DEFAULT_MAX_AGENT_LAG_MS = 60_000;

/**
 * Throws `AGENT_BEHIND` naming the agent whose verified certified head is
 * the furthest behind the newest one, if that is more than `maxLagMs`.
 * `heads` are headers the caller verified, with the agents' names.
 */
export function checkAgentsCurrent(
  heads: readonly { readonly name: string; readonly head: CertifiedHeader }[],
  maxLagMs: number = DEFAULT_MAX_AGENT_LAG_MS,
): void {
  if (typeof maxLagMs !== 'number' || !(maxLagMs >= 0))
    fail('BAD_ARGUMENT', 'maxLagMs must be a number >= 0');
  if (heads.length < 2) return;
  let newest = heads[0]!;
  let oldest = heads[0]!;
  for (const h of heads) {
    if (h.head.timestamp > newest.head.timestamp) newest = h;
    if (h.head.timestamp < oldest.head.timestamp) oldest = h;
  }
  const lagMs = newest.head.timestamp - oldest.head.timestamp;
  if (lagMs > maxLagMs) {
    fail(
      'AGENT_BEHIND',
      `${oldest.name}'s certified head (height ${oldest.head.height}) is ${Math.round(lagMs / 1000)} s behind ${newest.name}'s (height ${newest.head.height}); the limit is ${Math.round(maxLagMs / 1000)} s`,
    );
  }
}
