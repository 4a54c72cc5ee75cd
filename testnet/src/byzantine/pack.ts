/**
 * A minimal msgpack writer for the sync response (`{events, more, tip}`,
 * docs/PROTOCOL.md 8) and its broken variants: the responder's bytes
 * are the point of the garbage mode, so they are written by hand rather than
 * by a library that would refuse to write nonsense.
 */
import type { Tip } from '@pos/gossip';

/** Big-endian bytes of `n` (a safe integer) in `bytes` bytes. */
function be(n: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(n / 2 ** (8 * i)) & 0xff);
  return out;
}

/** A msgpack writer of the few types the sync response uses, chained. */
export class Pack {
  private chunks: Uint8Array[] = [];
  private raw(...b: number[]): this {
    this.chunks.push(Uint8Array.from(b));
    return this;
  }
  map(n: number): this {
    return this.raw(0x80 | n);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    this.raw(0xa0 | b.length);
    this.chunks.push(b);
    return this;
  }
  array(n: number): this {
    return n < 16 ? this.raw(0x90 | n) : this.raw(0xdd, ...be(n, 4));
  }
  bin(b: Uint8Array): this {
    if (b.length < 256) this.raw(0xc4, b.length);
    else if (b.length < 65536) this.raw(0xc5, ...be(b.length, 2));
    else this.raw(0xc6, ...be(b.length, 4));
    this.chunks.push(b);
    return this;
  }
  bool(v: boolean): this {
    return this.raw(v ? 0xc3 : 0xc2);
  }
  nil(): this {
    return this.raw(0xc0);
  }
  uint(n: number): this {
    if (n < 128) return this.raw(n);
    if (n < 2 ** 32) return this.raw(0xce, ...be(n, 4));
    return this.raw(0xcf, ...be(Math.floor(n / 2 ** 32), 4), ...be(n >>> 0, 4));
  }
  finish(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((a, c) => a + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** The sync response as an honest responder would write it. */
export function packResponse(
  events: readonly Uint8Array[],
  more: boolean,
  tip: Tip | null,
): Uint8Array {
  const p = new Pack().map(3).str('events').array(events.length);
  for (const e of events) p.bin(e);
  p.str('more').bool(more).str('tip');
  if (tip === null) p.nil();
  else p.map(2).str('hash').bin(tip.hash).str('seq').uint(tip.seq);
  return p.finish();
}
