/** Byte helpers of the simulator (big-endian, as the encodings it makes up). */

/** 2^32, for splitting safe integers into u32 halves. */
export const TWO_32 = 2 ** 32;

/** ASCII bytes of `s`, via charCodeAt: src/ compiles without DOM or node typings, so no TextEncoder. */
export function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** `u32be(v)`: 4 bytes, big-endian. */
export function u32be(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v);
  return out;
}

/** Writes a safe non-negative integer as u64be at `o`; returns the next offset. */
export function putU64(view: DataView, o: number, v: number): number {
  view.setUint32(o, Math.floor(v / TWO_32));
  view.setUint32(o + 4, v >>> 0);
  return o + 8;
}
