/**
 * Codecs for the JSON edge (docs/PROTOCOL.md 1): byte strings are
 * `0x`-prefixed lowercase hex, amounts are decimal strings in u64 range.
 *
 * Both decoders accept exactly one spelling per value and throw on anything
 * else. A wallet compares what its agent sends against proofs and signed
 * hashes (docs/PROTOCOL.md 11: it trusts the agent for nothing); if `0xAB` and `0xab`,
 * or `"010"` and `"10"`, were both accepted, two spellings of one value could
 * slip past a check that compares strings, and a signed object would no
 * longer have one canonical encoding (docs/PROTOCOL.md 1).
 */
import { MerkleError, fromHex as merkleFromHex, toHex as merkleToHex } from '@pos/merkle';
import { ProtocolError } from './errors.js';

/** The largest amount: amounts are u64 (docs/PROTOCOL.md 1), `2^64 - 1`. */
export const MAX_AMOUNT: bigint = (1n << 64n) - 1n;

// Canonical decimal: "0", or a non-zero digit then digits. No sign, space,
// point, exponent, separator or non-ASCII digit. (`$` in a JS regex without
// the m flag matches only at the very end, so a trailing newline fails too.)
const AMOUNT_RE = /^(?:0|[1-9][0-9]*)$/;
// 2^64 - 1 has 20 digits; checking the length first keeps BigInt() off huge inputs.
const MAX_AMOUNT_DIGITS = MAX_AMOUNT.toString().length;

/** Encodes bytes as `0x`-prefixed lowercase hex (the one codec, from `@pos/merkle`). */
export const toHex: (bytes: Uint8Array) => string = merkleToHex;

/**
 * Decodes strict hex: a string that starts with `0x`, then lowercase hex
 * digits in pairs, and exactly `expectedLength` bytes when that is given.
 * Throws `ProtocolError('BAD_HEX')` otherwise (a non-string included: the value
 * usually comes straight out of `JSON.parse`), and `BAD_ARGUMENT` if
 * `expectedLength` is not a non-negative integer. The rule itself is
 * `@pos/merkle`'s `fromHex`, so the wallet and the proofs it reads agree.
 */
export function fromHex(s: unknown, expectedLength?: number): Uint8Array {
  if (
    expectedLength !== undefined &&
    (!Number.isSafeInteger(expectedLength) || expectedLength < 0)
  ) {
    throw new ProtocolError('BAD_ARGUMENT', `expectedLength must be an integer >= 0`);
  }
  try {
    return merkleFromHex(s, expectedLength);
  } catch (e) {
    if (e instanceof MerkleError) throw new ProtocolError('BAD_HEX', e.message);
    throw e;
  }
}

/**
 * Formats an amount as its canonical decimal string. Throws
 * `ProtocolError('BAD_AMOUNT')` for a non-bigint or a value outside
 * `0..2^64-1`: an out-of-range amount must fail here, where it is made, not at
 * the agent, which would reject the transaction (docs/PROTOCOL.md 6.3).
 */
export function formatAmount(v: bigint): string {
  if (typeof v !== 'bigint' || v < 0n || v > MAX_AMOUNT) {
    throw new ProtocolError('BAD_AMOUNT', `amount must be a bigint in 0..2^64-1, got ${String(v)}`);
  }
  return v.toString(10);
}

/**
 * Parses a canonical decimal amount: `"0"` or digits without a leading zero,
 * at most `2^64 - 1`. Throws `ProtocolError('BAD_AMOUNT')` for anything else: a
 * sign, whitespace, a decimal point, an exponent, a leading zero, a JSON
 * number (amounts are strings so that no float ever rounds one), or a value
 * out of range.
 */
export function parseAmount(s: unknown): bigint {
  if (typeof s !== 'string') {
    throw new ProtocolError('BAD_AMOUNT', 'amount must be a decimal string');
  }
  if (!AMOUNT_RE.test(s)) {
    throw new ProtocolError(
      'BAD_AMOUNT',
      'amount must be canonical decimal digits ("0" or 1-9 then 0-9)',
    );
  }
  const v = s.length <= MAX_AMOUNT_DIGITS ? BigInt(s) : MAX_AMOUNT + 1n;
  if (v > MAX_AMOUNT) throw new ProtocolError('BAD_AMOUNT', 'amount exceeds 2^64-1');
  return v;
}
