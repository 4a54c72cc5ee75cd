/**
 * Deterministic benchmark data: every child process regenerates the same keys,
 * values and samples from the seed, so all implementations see identical input.
 */

/** sfc32 seeded through splitmix32: fast, 32-bit, good enough for benchmark data. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
}

/** Fills `out` from `next`, byte order fixed (little-endian words) on every platform. */
function fill(out: Uint8Array, next: () => number): void {
  const whole = out.length & ~3;
  let i = 0;
  for (; i < whole; i += 4) {
    const w = next();
    out[i] = w;
    out[i + 1] = w >>> 8;
    out[i + 2] = w >>> 16;
    out[i + 3] = w >>> 24;
  }
  if (i < out.length) {
    const w = next();
    for (let j = 0; i < out.length; i++, j++) out[i] = w >>> (8 * j);
  }
}

export const KEY_BYTES = 32;
export const VALUE_BYTES = 100;

/** N random keys and values, stored contiguously; `key(i)`/`value(i)` are views. */
export interface Dataset {
  n: number;
  key(i: number): Uint8Array;
  value(i: number): Uint8Array;
}

export function makeDataset(n: number, seed: number): Dataset {
  const keys = new Uint8Array(n * KEY_BYTES);
  const values = new Uint8Array(n * VALUE_BYTES);
  fill(keys, prng(seed));
  fill(values, prng(seed ^ 0x5bd1e995));
  return {
    n,
    key: (i) => keys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES),
    value: (i) => values.subarray(i * VALUE_BYTES, (i + 1) * VALUE_BYTES),
  };
}

/** `count` distinct indices in [0, n), in random order. */
export function sampleIndices(n: number, count: number, seed: number): number[] {
  const next = prng(seed);
  const want = Math.min(count, n);
  const seen = new Set<number>();
  const out: number[] = [];
  while (out.length < want) {
    // Two words give a uniform enough index for n up to 2^32.
    const i = Math.floor(((next() * 2 ** 32 + next()) / 2 ** 64) * n);
    if (!seen.has(i)) {
      seen.add(i);
      out.push(i);
    }
  }
  return out;
}
