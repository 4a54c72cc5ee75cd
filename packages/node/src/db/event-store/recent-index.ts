/**
 * The recent index (docs/PROTOCOL.md 9.1, "Serving a pull from memory"): the
 * hash at each of the last `size` insertion indices, so that `since` for a
 * peer near the tip walks the insertion order without a LevelDB iterator
 * (each awaited iterator step is a thread hand-off). It holds insertions
 * made since open only.
 */

/** A ring of the latest insertions. */
export interface RecentIndex {
  /** Entries kept (`recentIndex`); 0 keeps none. */
  readonly size: number;
  /** Notes the hash inserted at `index` (the next index, in order). */
  record(index: number, hash: Uint8Array): void;
  /** The hash at `index` if the ring still holds it. */
  hashAt(index: number): Uint8Array | undefined;
  /** Lowest index the ring can answer when the next index is `nextIndex`. */
  low(nextIndex: number): number;
}

/** An empty ring of `size` entries for insertions from index `from` on. */
export function createRecentIndex(size: number, from: number): RecentIndex {
  const ring: ({ index: number; hash: Uint8Array } | undefined)[] = new Array(size);
  return {
    size,
    record(index, hash) {
      if (size > 0) ring[index % size] = { index, hash };
    },
    hashAt(index) {
      const r = ring[index % size];
      return r !== undefined && r.index === index ? r.hash : undefined;
    },
    low: (nextIndex) => Math.max(from, nextIndex - size),
  };
}
