/**
 * Small helpers for validating replay JSON: one-line errors that name the
 * offending value's path, UTF-8 by hand (no TextEncoder: this package
 * compiles without DOM or node typings).
 */
import { ReplayError } from './types.js';

const U64_MAX = (1n << 64n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * UTF-8 bytes of a well-formed string. Throws `RangeError` on a lone
 * surrogate: TextEncoder would map it to U+FFFD, so two different names
 * could hash the same.
 */
export function utf8Bytes(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) {
      out.push(cp);
    } else if (cp < 0x800) {
      out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      throw new RangeError('lone surrogate: not well-formed Unicode');
    } else if (cp < 0x10000) {
      out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    } else {
      out.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 0x3f),
        0x80 | ((cp >> 6) & 0x3f),
        0x80 | (cp & 0x3f),
      );
    }
  }
  return Uint8Array.from(out);
}

/** `u32be(i)`: creator i's validatorId in replay (docs/PROTOCOL.md 5.8). */
export function u32be(i: number): Uint8Array {
  return Uint8Array.of(i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff);
}

/**
 * Sets an own enumerable property. Plain assignment would treat a name such
 * as `__proto__` as the prototype instead of a key.
 */
export function setKey<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Whether `v` is a JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short description of a JSON value for an error message (strings cut at 40 chars). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string')
    return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  return typeof v;
}

/** Whether `s` is well-formed Unicode (no lone surrogate). */
export function wellFormed(s: string): boolean {
  try {
    utf8Bytes(s);
    return true;
  } catch {
    return false;
  }
}

/** Throws at `path` for a key of `obj` not in `allowed` (a misspelt key must not be ignored). */
export function onlyKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      throw new ReplayError(
        path,
        `unknown key ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`,
      );
    }
  }
}

/** `v` as a safe integer >= `min`, or a {@link ReplayError} at `path`. */
export function safeInt(v: unknown, path: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new ReplayError(path, `expected an integer >= ${min}, got ${describe(v)}`);
  }
  return v;
}

/** A stake: a non-negative safe integer or a u64 decimal string (docs/PROTOCOL.md 1), as bigint. */
export function stakeOf(v: unknown, path: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new ReplayError(path, `stake must be a non-negative safe integer, got ${describe(v)}`);
    }
    return BigInt(v);
  }
  if (typeof v === 'string') {
    // docs/PROTOCOL.md 1: amounts are decimal strings in the u64 range.
    if (!DECIMAL.test(v) || BigInt(v) > U64_MAX) {
      throw new ReplayError(path, `stake must be a u64 decimal string, got ${describe(v)}`);
    }
    return BigInt(v);
  }
  throw new ReplayError(path, `stake must be a number or a decimal string, got ${describe(v)}`);
}
