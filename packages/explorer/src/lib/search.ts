/**
 * The search box and the route parameters: whatever a person types or a
 * link carries is validated here before any request is made, and refused
 * with a reason otherwise (issue 20, hostile input).
 *
 * @module
 */

/** What a search names. */
export type SearchTarget =
  /** 32 bytes of hex: a transaction, an event, a block hash or an address; the page asks which. */
  | { readonly kind: 'hash'; readonly hash: string }
  /** A block height. */
  | { readonly kind: 'height'; readonly height: number }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Longest input looked at: a hash with its `0x` and some spaces. */
export const MAX_SEARCH_CHARS = 100;

const HASH = /^(?:0x)?([0-9a-fA-F]{64})$/;
const HEIGHT = /^[0-9]{1,15}$/;

/** The one error text of an input that names nothing. */
export const SEARCH_HELP =
  'enter a transaction or event hash or an address (0x and 64 hex digits), or a block height';

/** Parses search input: a 32-byte hex hash (any case, `0x` optional) or a height. */
export function parseSearch(input: unknown): SearchTarget {
  if (typeof input !== 'string') return { kind: 'invalid', reason: SEARCH_HELP };
  if (input.length > MAX_SEARCH_CHARS) return { kind: 'invalid', reason: 'too long' };
  const s = input.trim();
  const h = HASH.exec(s);
  if (h !== null) return { kind: 'hash', hash: `0x${h[1]!.toLowerCase()}` };
  if (HEIGHT.test(s)) {
    const height = Number(s);
    if (Number.isSafeInteger(height)) return { kind: 'height', height };
  }
  return { kind: 'invalid', reason: SEARCH_HELP };
}

/** A `0x` + 64 lowercase hex hash, or null. */
export function hashParam(v: string | undefined): string | null {
  const t = parseSearch(v ?? '');
  return t.kind === 'hash' ? t.hash : null;
}

/** A height (a non-negative safe integer), or null. */
export function heightParam(v: string | undefined): number | null {
  const t = parseSearch(v ?? '');
  return t.kind === 'height' ? t.height : null;
}
