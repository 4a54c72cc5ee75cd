/**
 * The seeded dice of the testnet's tools: one independent stream per fault
 * link (or per named choice of a test), so that a seed replays them.
 */

/** mulberry32: a tiny, well-known 32-bit generator; enough for fault dice. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a stream's name mixed with the seed: one independent stream per link. */
export function linkSeed(seed: number, link: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < link.length; i++) h = Math.imul(h ^ link.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A deterministic stream of numbers in [0, 1) for `seed` and a stream name
 * (the generator of the links' dice), for a test's own seeded choices, e.g.
 * which partition comes next, so that the seed replays those too.
 */
export function seededRandom(seed: number, stream: string): () => number {
  return mulberry32(linkSeed(seed >>> 0, stream));
}
