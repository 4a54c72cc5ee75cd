/**
 * A tiny canonical binary writer and reader (docs/PROTOCOL.md 1: every
 * hashed or signed object has exactly one byte encoding, fixed-width
 * big-endian integers, no trailing bytes).
 *
 * Browser-safe: `Uint8Array` and `DataView` only, no `Buffer`.
 *
 * The {@link Reader} is the strict half. It throws `ProtocolError('BAD_ENCODING')`
 * on truncation, on a value outside the range the caller allows, and (at
 * {@link Reader.end}) on trailing bytes, so a decoder built from it accepts one
 * spelling per value and nothing else. The {@link Writer} refuses values that
 * do not fit their field (`ProtocolError('BAD_ARGUMENT')`): a value that cannot be
 * written canonically is a caller bug, caught where it is made.
 */
import { ProtocolError } from './errors.js';

/** The largest u64, `2^64 - 1`. */
const U64_MAX = (1n << 64n) - 1n;

function badArg(message: string): ProtocolError {
  return new ProtocolError('BAD_ARGUMENT', message);
}

function badEncoding(message: string): ProtocolError {
  return new ProtocolError('BAD_ENCODING', message);
}

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw badArg(`${what} must be an integer in 0..${max}, got ${String(v)}`);
  }
}

/** Appends fixed-width big-endian fields to a growing buffer. */
export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  /** `capacity` is a hint: the buffer grows as needed. */
  constructor(capacity = 256) {
    this.buf = new Uint8Array(Math.max(16, capacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  private reserve(n: number): number {
    const at = this.len;
    if (at + n > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      grown.set(this.buf.subarray(0, at));
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    this.len = at + n;
    return at;
  }

  u8(v: number): this {
    checkUint(v, 0xff, 'u8');
    // Reserve first: it may replace the buffer (and the view), which a
    // `this.buf[this.reserve(1)]` would have read before the call.
    const at = this.reserve(1);
    this.buf[at] = v;
    return this;
  }

  u16be(v: number): this {
    checkUint(v, 0xffff, 'u16');
    const at = this.reserve(2);
    this.view.setUint16(at, v);
    return this;
  }

  u32be(v: number): this {
    checkUint(v, 0xffffffff, 'u32');
    const at = this.reserve(4);
    this.view.setUint32(at, v);
    return this;
  }

  /** A u64 given as a bigint (amounts: the full range 0..2^64-1). */
  u64be(v: bigint): this {
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
      throw badArg(`u64 must be a bigint in 0..2^64-1, got ${String(v)}`);
    }
    const at = this.reserve(8);
    this.view.setBigUint64(at, v);
    return this;
  }

  /**
   * A u64 given as a safe integer (heights, times: docs/PROTOCOL.md 1
   * keeps those below 2^53 so that they stay exact JavaScript numbers).
   */
  u64safe(v: number): this {
    checkUint(v, Number.MAX_SAFE_INTEGER, 'u64 (safe integer)');
    return this.u64be(BigInt(v));
  }

  /** Raw bytes; with `length`, exactly that many (a fixed-width field). */
  bytes(b: Uint8Array, length?: number): this {
    if (!(b instanceof Uint8Array)) throw badArg('bytes must be a Uint8Array');
    if (length !== undefined && b.length !== length) {
      throw badArg(`expected ${length} bytes, got ${b.length}`);
    }
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    return this;
  }

  /** `u16be(length) ‖ bytes`, at most `max` (≤ 65535) bytes. */
  varBytes(b: Uint8Array, max = 0xffff): this {
    if (!(b instanceof Uint8Array)) throw badArg('bytes must be a Uint8Array');
    if (b.length > Math.min(max, 0xffff)) {
      throw badArg(`at most ${Math.min(max, 0xffff)} bytes, got ${b.length}`);
    }
    return this.u16be(b.length).bytes(b);
  }

  /** A copy of the bytes written (the writer may be reused afterwards). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/**
 * Reads fixed-width big-endian fields from `bytes`, strictly. The returned
 * byte arrays are copies, so a decoded object never aliases the caller's
 * buffer (a state trie keeps the arrays it is given).
 */
export class Reader {
  private readonly buf: Uint8Array;
  private readonly view: DataView;
  private off = 0;

  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array)) throw badEncoding('input must be a Uint8Array');
    this.buf = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Offset of the next unread byte. */
  get offset(): number {
    return this.off;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.buf.length - this.off;
  }

  private take(n: number, what: string): number {
    if (this.off + n > this.buf.length) {
      throw badEncoding(`truncated: ${what} needs ${n} bytes at offset ${this.off}`);
    }
    const at = this.off;
    this.off += n;
    return at;
  }

  private range<T extends number | bigint>(v: T, min: T, max: T, what: string): T {
    if (v < min || v > max) {
      throw badEncoding(`${what} ${String(v)} outside ${String(min)}..${String(max)}`);
    }
    return v;
  }

  u8(min = 0, max = 0xff, what = 'u8'): number {
    return this.range(this.buf[this.take(1, what)]!, min, max, what);
  }

  u16be(min = 0, max = 0xffff, what = 'u16'): number {
    return this.range(this.view.getUint16(this.take(2, what)), min, max, what);
  }

  u32be(min = 0, max = 0xffffffff, what = 'u32'): number {
    return this.range(this.view.getUint32(this.take(4, what)), min, max, what);
  }

  /** A u64 as a bigint (the full range unless narrowed). */
  u64be(min = 0n, max = U64_MAX, what = 'u64'): bigint {
    return this.range(this.view.getBigUint64(this.take(8, what)), min, max, what);
  }

  /** A u64 that must be a safe integer (< 2^53, docs/PROTOCOL.md 1), as a number. */
  u64safe(min = 0, max = Number.MAX_SAFE_INTEGER, what = 'u64'): number {
    const v = this.u64be(0n, U64_MAX, what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw badEncoding(`${what} above 2^53 - 1`);
    return this.range(Number(v), min, max, what);
  }

  /** Exactly `n` bytes (a copy). */
  bytes(n: number, what = 'bytes'): Uint8Array {
    const at = this.take(n, what);
    return this.buf.slice(at, at + n);
  }

  /** `u16be(length) ‖ bytes` with `min ≤ length ≤ max` (a copy). */
  varBytes(min = 0, max = 0xffff, what = 'bytes'): Uint8Array {
    const n = this.u16be(min, max, `${what} length`);
    return this.bytes(n, what);
  }

  /** Throws `BAD_ENCODING` unless every byte was read (no trailing bytes). */
  end(): void {
    if (this.off !== this.buf.length) {
      throw badEncoding(`${this.buf.length - this.off} trailing bytes at offset ${this.off}`);
    }
  }
}
