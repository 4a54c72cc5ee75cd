/**
 * Byte helpers shared by the trie, the log and their proof codecs.
 * `Uint8Array` everywhere inside; hex appears only at the JSON edge
 * (docs/PROTOCOL.md 1: `0x`-prefixed lowercase).
 */
import { MerkleError } from './errors.js';

/** Concatenates byte arrays into a new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * A copy as a plain `Uint8Array`. (`Buffer#slice` returns a view, not a copy,
 * so `.slice()` on caller-supplied bytes would let a later write by the caller
 * reach into stored state.)
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Constant-shape equality of two byte arrays (not constant-time; nothing here is secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Lexicographic byte order: negative if a < b, 0 if equal, positive if a > b. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Bit `i` of `key`, most significant bit of byte 0 first (0 = left, 1 = right). */
export function bitAt(key: Uint8Array, i: number): 0 | 1 {
  return ((key[i >>> 3]! >>> (7 - (i & 7))) & 1) as 0 | 1;
}

/** Whether the first `bits` bits of `a` and `b` agree. */
export function samePrefixBits(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole]! ^ b[whole]!) & mask) === 0;
}

/** Index of the first bit where `a` and `b` differ (they must have equal length), or `a.length * 8`. */
export function firstDiffBit(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return a.length * 8;
}

/** Big-endian u64 (`value` must be a safe non-negative integer). */
export function u64be(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MerkleError('BAD_ARGUMENT', `not a u64: ${value}`);
  }
  const out = new Uint8Array(8);
  const hi = Math.floor(value / 2 ** 32);
  const lo = value >>> 0;
  out[0] = hi >>> 24;
  out[1] = (hi >>> 16) & 0xff;
  out[2] = (hi >>> 8) & 0xff;
  out[3] = hi & 0xff;
  out[4] = lo >>> 24;
  out[5] = (lo >>> 16) & 0xff;
  out[6] = (lo >>> 8) & 0xff;
  out[7] = lo & 0xff;
  return out;
}

/** Reads a big-endian u64 at `off`; throws if it does not fit a safe integer. */
export function readU64be(bytes: Uint8Array, off: number): number {
  if (off + 8 > bytes.length) throw new MerkleError('BAD_ENCODING', 'truncated u64');
  const hi =
    ((bytes[off]! << 24) | (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!) >>>
    0;
  const lo =
    ((bytes[off + 4]! << 24) |
      (bytes[off + 5]! << 16) |
      (bytes[off + 6]! << 8) |
      bytes[off + 7]!) >>>
    0;
  if (hi >= 2 ** 21) throw new MerkleError('BAD_ENCODING', 'u64 above 2^53');
  return hi * 2 ** 32 + lo;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** `0x`-prefixed lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  let s = '0x';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!];
  return s;
}

/**
 * Strict hex decoder for the JSON edge: `0x` prefix, lowercase, even length,
 * and exactly `expectedLength` bytes when given. Throws `MerkleError('BAD_HEX')`.
 */
export function fromHex(hex: unknown, expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string' || !/^0x(?:[0-9a-f]{2})*$/.test(hex)) {
    throw new MerkleError('BAD_HEX', 'expected 0x-prefixed lowercase hex of even length');
  }
  const n = (hex.length - 2) / 2;
  if (expectedLength !== undefined && n !== expectedLength) {
    throw new MerkleError('BAD_HEX', `expected ${expectedLength} bytes, got ${n}`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Number.parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16);
  return out;
}

/** ASCII string to bytes (domain tags are ASCII; avoids TextEncoder, which needs DOM or node typings). */
export function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) throw new MerkleError('BAD_ARGUMENT', 'tag must be ASCII');
    out[i] = c;
  }
  return out;
}

/**
 * Injective string key for maps and sets keyed by bytes (JS Map keys need a
 * primitive). One char per byte (latin1): much cheaper than hex on hot paths.
 */
export function bytesKey(bytes: Uint8Array): string {
  if (bytes.length <= 4096) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  }
  return s;
}

/** Inverse of {@link bytesKey}. */
export function bytesFromKey(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
}
