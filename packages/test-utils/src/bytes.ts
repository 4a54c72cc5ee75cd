// Byte builders for hand-made encodings in tests (decoders' rejection tables).

/** The concatenation of `parts`. */
export const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

/** `n` bytes of value `b`. */
export const fill = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);

/** Big-endian fixed-width integers. */
export const u16 = (v: number): Uint8Array => Uint8Array.of(v >>> 8, v & 0xff);
export const u32 = (v: number): Uint8Array =>
  Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
export const u64 = (v: bigint): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
};
