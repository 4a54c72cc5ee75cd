/**
 * The interval rule of range completeness proofs (docs/PROTOCOL.md 3.2),
 * in one place for the prover (trie.ts) and the verifier
 * (trie-range-proof.ts): a proof is accepted only if it expands exactly the
 * children this rule names, so the two must never drift apart. Internal:
 * not exported from the package.
 */
import { bitAt } from './bytes.js';

/**
 * Sign of `key[0, b) ‖ d` against `bound[0, b]` as bit strings of equal
 * length (b + 1 bits). Byte-wise compare of the whole bytes, then a mask of
 * the partial one: this runs at every expanded node of every proof.
 */
function comparePrefix(key: Uint8Array, b: number, d: 0 | 1, bound: Uint8Array): number {
  const whole = b >>> 3;
  for (let i = 0; i < whole; i++) {
    const x = key[i]!;
    const y = bound[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  const r = b & 7;
  if (r > 0) {
    const mask = (0xff << (8 - r)) & 0xff;
    const x = key[whole]! & mask;
    const y = bound[whole]! & mask;
    if (x !== y) return x < y ? -1 : 1;
  }
  const e = bitAt(bound, b);
  return d === e ? 0 : d < e ? -1 : 1;
}

/**
 * Whether some key that starts with `key`'s bits `[0, b)` followed by bit `d`
 * lies in `[lo, hi]`. That interval runs from the prefix padded with zeros to
 * the prefix padded with ones, so it misses the range exactly when its prefix
 * is below lo's first b + 1 bits or above hi's.
 */
function childMeetsRange(
  key: Uint8Array,
  b: number,
  d: 0 | 1,
  lo: Uint8Array,
  hi: Uint8Array,
): boolean {
  return comparePrefix(key, b, d, lo) >= 0 && comparePrefix(key, b, d, hi) <= 0;
}

/**
 * Which children of an expanded node with split bit `b` a range proof
 * expands, `key` being any key below the node (all agree on bits `[0, b)`):
 * each child whose interval meets `[lo, hi]`; when neither does, the left
 * one alone. That case arises where the parent's coarser interval straddled
 * a bound but this node's longer common prefix falls outside the range: the
 * node must still reveal a key (its leftmost leaf, by this rule applied all
 * the way down) so that the verifier learns the prefix its children's
 * intervals are computed from.
 */
export function rangeExpands(
  key: Uint8Array,
  b: number,
  lo: Uint8Array,
  hi: Uint8Array,
): [boolean, boolean] {
  const left = childMeetsRange(key, b, 0, lo, hi);
  const right = childMeetsRange(key, b, 1, lo, hi);
  return [left || !right, right];
}
