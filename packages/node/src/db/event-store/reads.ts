/**
 * Reading events (docs/PROTOCOL.md 9.1): memory first (pending, then the
 * decoded-event cache), then the `e` record, synchronously through
 * classic-level 3's `getSync` or awaited. A record that does not decode, or
 * whose bytes hash to another key, is `CORRUPT_STORE`, never a wrong event.
 */
import { decodeEvent, type WireEvent } from '@pos/gossip';
import { equalBytes, type HashFn, toHex } from '@pos/merkle';
import { EventStoreError } from './errors.js';
import type { EventKeys } from './keys.js';
import type { EventMemory } from './memory.js';
import { assertOpen, type StoreState } from './state.js';
import type { EventDb } from './types.js';

/** What {@link createEventReader} reads from. */
export interface EventReaderDeps {
  readonly db: EventDb;
  readonly keys: EventKeys;
  readonly memory: EventMemory;
  readonly state: StoreState;
  /** The event hash (docs/PROTOCOL.md 2). */
  readonly hash: HashFn;
}

/** The store's reads. */
export interface EventReader {
  /** `EventStore.has`: memory, else one `getSync` (a hit is remembered). */
  has(h: Uint8Array): boolean;
  /** `EventStore.get`: {@link EventReader.readSync}, remembering a hit. */
  get(h: Uint8Array): WireEvent | undefined;
  /** The event under `h` from memory or disk, on the calling thread. */
  readSync(h: Uint8Array): WireEvent | undefined;
  /** The same, awaiting the disk read. */
  readAsync(h: Uint8Array): Promise<WireEvent | undefined>;
}

/** Decodes a stored event and checks that it is the one its key names. */
export function decodeStored(h: Uint8Array, bytes: Uint8Array, hashFn: HashFn): WireEvent {
  let ev: WireEvent;
  try {
    ev = decodeEvent(new Uint8Array(bytes), hashFn);
  } catch (e) {
    throw new EventStoreError('CORRUPT_STORE', `event ${toHex(h)} does not decode`, { cause: e });
  }
  if (!equalBytes(ev.hash, h)) {
    throw new EventStoreError('CORRUPT_STORE', `event under ${toHex(h)} hashes to another`);
  }
  return ev;
}

/** Reads over `deps`. */
export function createEventReader(deps: EventReaderDeps): EventReader {
  const { db, keys, memory, state, hash } = deps;
  const stored = (h: Uint8Array, hex: string, v: Uint8Array | undefined) => {
    if (v === undefined) return undefined;
    const ev = decodeStored(h, v, hash);
    memory.cachePut(hex, ev);
    return ev;
  };
  const readSync = (h: Uint8Array): WireEvent | undefined => {
    const hex = toHex(h);
    return memory.fromMemory(hex) ?? stored(h, hex, db.getSync(keys.event(h)));
  };
  const readAsync = async (h: Uint8Array): Promise<WireEvent | undefined> => {
    const hex = toHex(h);
    const m = memory.fromMemory(hex);
    if (m !== undefined) return m;
    return stored(h, hex, await db.get(keys.event(h)));
  };
  return {
    has(h) {
      const hex = toHex(h);
      if (memory.known(hex)) return true;
      assertOpen(state);
      const found = db.getSync(keys.event(h)) !== undefined;
      if (found) memory.remember(hex);
      return found;
    },
    get(h) {
      assertOpen(state);
      const ev = readSync(h);
      if (ev !== undefined) memory.remember(toHex(h));
      return ev;
    },
    readSync,
    readAsync,
  };
}
