/**
 * Consistency (docs/PROTOCOL.md 4, 11): both headers must be of the trusted
 * chain (`WRONG_CHAIN`: an empty log is consistent with every log, so two
 * chains' headers must not be compared), equal sizes need equal roots, and
 * otherwise the larger log must extend the smaller (RFC 9162 consistency
 * proof asked of this agent, `BAD_PROOF`).
 *
 * @module
 */
import { type HashFn, logConsistencyProofFromJSON, toHex, verifyLogConsistency } from '@pos/merkle';
import { type Ask, fail } from '../agent.js';
import type { CertifiedHeader } from '../types.js';

/** Checks that two verified headers share one history; `BAD_PROOF` if not. */
export async function verifyConsistency(
  o: { readonly ask: Ask; readonly hash: HashFn; readonly chainId: Uint8Array },
  a: CertifiedHeader,
  b: CertifiedHeader,
): Promise<void> {
  // Another chain's header proves nothing here, and its log would pass
  // as consistent with ours whenever one of the two is empty.
  for (const h of [a, b]) {
    if (!(h?.chainId instanceof Uint8Array) || toHex(h.chainId) !== toHex(o.chainId)) {
      fail('WRONG_CHAIN', 'a header of another chain than the trusted one');
    }
  }
  const [small, large] = a.historySize <= b.historySize ? [a, b] : [b, a];
  if (small.historySize === 0 || small.historySize === large.historySize) {
    if (
      small.historySize === large.historySize &&
      toHex(small.historyRoot) !== toHex(large.historyRoot)
    ) {
      fail('BAD_PROOF', 'two certified history roots of one size differ');
    }
    return;
  }
  const r = await o.ask('pos_getConsistencyProof', (api) =>
    api.getConsistencyProof(small.historySize, large.historySize),
  );
  let proof: ReturnType<typeof logConsistencyProofFromJSON>;
  try {
    proof = logConsistencyProofFromJSON(r);
  } catch (e) {
    return fail('BAD_PROOF', `consistency proof: ${(e as Error).message}`);
  }
  if (proof.fromSize !== small.historySize || proof.toSize !== large.historySize) {
    fail('BAD_PROOF', 'a consistency proof between other sizes');
  }
  if (!verifyLogConsistency(small.historyRoot, large.historyRoot, proof, { hash: o.hash })) {
    fail('BAD_PROOF', 'the two certified histories do not extend one another');
  }
}
