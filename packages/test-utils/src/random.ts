// Seeded randomness for tests and fixtures that must be the same on every run.

/**
 * mulberry32: a small 32-bit generator, uniform in [0, 1). Not for keys or
 * anything secret; for fixtures whose bytes must not change between runs.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
