/**
 * Byte helpers shared by the engine and the simulator. Browser-safe: no
 * TextEncoder (this package compiles without DOM or node typings).
 */

/**
 * A latin1 string of the bytes, one char per byte: a cheap, collision-free
 * `Map` key for a hash. Used only as a key, never compared for order, so no
 * decision depends on how strings sort (docs/PROTOCOL.md 5: no Map iteration
 * in a decision).
 */
export function keyOf(h: Uint8Array): string {
  let s = '';
  for (let i = 0; i < h.length; i++) s += String.fromCharCode(h[i]!);
  return s;
}
