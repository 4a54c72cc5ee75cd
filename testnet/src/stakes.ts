/**
 * Splits the testnet's genesis supply between its validators.
 *
 * Stake is the value of the outputs hosted by a validator
 * (docs/PROTOCOL.md 6.5), so the testnet's genesis gives each validator outputs worth a
 * share of the supply. The split is exact integer arithmetic with the
 * largest-remainder method: the shares sum to the supply exactly (docs/PROTOCOL.md 6.3:
 * supply is conserved, so not one unit may be lost to rounding or invented)
 * and each share is its exact quota rounded down or up.
 */

/** Amounts are u64 (docs/PROTOCOL.md 1), so the whole supply is too. */
export const MAX_SUPPLY: bigint = (1n << 64n) - 1n;

/** Thrown by {@link parseStakes} for a malformed spec or supply. */
export class TestnetError extends Error {
  readonly code = 'BAD_STAKES' as const;
  constructor(message: string) {
    super(message);
    this.name = 'TestnetError';
  }
}

// A weight is a positive decimal integer without sign, space or leading zero.
const WEIGHT = /^[1-9][0-9]*$/;

/**
 * Splits `totalSupply` into integer amounts proportional to the
 * comma-separated positive integer weights of `spec` (`"40,30,20,10"`).
 *
 * Each validator first gets `floor(total * w / Σw)`; the few units left over
 * (fewer than the number of validators) go one each to the largest
 * remainders, ties to the lower index, so the result depends only on the
 * input. A tiny weight can round to a zero share, which the protocol allows (a
 * zero-stake validator has no weight, docs/PROTOCOL.md 6.5). Throws {@link TestnetError}
 * for an empty or malformed spec, or a supply outside `1..2^64-1`.
 */
export function parseStakes(spec: string, totalSupply: bigint): bigint[] {
  if (typeof totalSupply !== 'bigint' || totalSupply < 1n || totalSupply > MAX_SUPPLY) {
    throw new TestnetError(`total supply must be an integer in 1..2^64-1, got ${totalSupply}`);
  }
  if (typeof spec !== 'string')
    throw new TestnetError('stakes must be a string like "40,30,20,10"');
  const weights = spec.split(',').map((w, i) => {
    if (!WEIGHT.test(w)) {
      throw new TestnetError(
        `stake weight ${i + 1} of "${spec}" is ${JSON.stringify(w)}, not a positive integer`,
      );
    }
    return BigInt(w);
  });
  const sum = weights.reduce((a, b) => a + b, 0n);
  const shares = weights.map((w) => (totalSupply * w) / sum);
  const remainders = weights.map((w) => (totalSupply * w) % sum);
  // Σ shares * sum + Σ remainders = total * sum, so leftover = Σ remainders / sum < n.
  const leftover = Number(totalSupply - shares.reduce((a, b) => a + b, 0n));
  const byRemainder = weights.map((_, i) => i);
  byRemainder.sort((i, j) => {
    const a = remainders[i]!;
    const b = remainders[j]!;
    return a > b ? -1 : a < b ? 1 : i - j;
  });
  for (let k = 0; k < leftover; k++) shares[byRemainder[k]!]! += 1n;
  return shares;
}
