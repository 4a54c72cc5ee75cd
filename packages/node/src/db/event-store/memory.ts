/**
 * What the event store keeps in memory besides its indices (docs/PROTOCOL.md
 * 9.1 and 9.3): events added but not yet on disk, a bounded cache of decoded
 * events, and a bounded set of recently seen stored hashes that spares `has`
 * a disk read. All keyed by hex hash.
 */
import type { WireEvent } from '@pos/gossip';

/** Sizes of {@link createEventMemory}; 0 or less turns a cache off. */
export interface EventMemoryOpts {
  readonly cachedEvents: number;
  readonly recentHashes: number;
}

/** The store's memory of events (module comment). */
export interface EventMemory {
  /** Events added but not yet on disk, by hex hash. */
  readonly pending: Map<string, WireEvent>;
  /** A pending or cached event (a cache hit becomes the most recently used). */
  fromMemory(hex: string): WireEvent | undefined;
  /** Caches a decoded event as the most recently used. */
  cachePut(hex: string, ev: WireEvent): void;
  cacheDelete(hex: string): void;
  /** Pending, or seen stored recently: certainly held. */
  known(hex: string): boolean;
  /** Notes a hash seen stored (the oldest one out past the bound). */
  remember(hex: string): void;
  /** Forgets every recently seen hash (after a prune). */
  forgetRecent(): void;
  /** The events of a written batch: out of pending, into the cache and the recent set. */
  landed(hexes: readonly string[]): void;
}

/** Memory of the store, bounded by `opts`. */
export function createEventMemory(opts: EventMemoryOpts): EventMemory {
  const pending = new Map<string, WireEvent>();
  /** Decoded events, least recently used first (events never change). */
  const cache = new Map<string, WireEvent>();
  /** Recently seen stored hashes (insertion-ordered Set used as a FIFO). */
  const recent = new Set<string>();
  const { cachedEvents: cacheMax, recentHashes: recentMax } = opts;

  const cachePut = (hex: string, ev: WireEvent) => {
    if (cacheMax <= 0) return;
    cache.delete(hex);
    cache.set(hex, ev);
    if (cache.size > cacheMax) cache.delete(cache.keys().next().value!);
  };
  const remember = (hex: string) => {
    if (recentMax <= 0) return;
    recent.add(hex);
    if (recent.size > recentMax) {
      const first = recent.values().next().value;
      if (first !== undefined) recent.delete(first);
    }
  };
  return {
    pending,
    fromMemory(hex) {
      const p = pending.get(hex);
      if (p !== undefined) return p;
      const c = cache.get(hex);
      if (c !== undefined) cachePut(hex, c);
      return c;
    },
    cachePut,
    cacheDelete: (hex) => cache.delete(hex),
    known: (hex) => pending.has(hex) || recent.has(hex),
    remember,
    forgetRecent: () => recent.clear(),
    landed(hexes) {
      for (const h of hexes) {
        const ev = pending.get(h);
        pending.delete(h);
        if (ev !== undefined) cachePut(h, ev);
        remember(h);
      }
    },
  };
}
