/** The event store's counters and life state, shared by its parts (docs/PROTOCOL.md 9.1). */
import { EventStoreError } from './errors.js';

/** Mutable state of one open store; the `m` record persists the two counters. */
export interface StoreState {
  /** The insertion index the next new event gets. */
  nextIndex: number;
  /** Lowest insertion index still stored. */
  pruneFloor: number;
  /** Set by `close`: every later use is `CLOSED`. */
  closed: boolean;
}

/** Throws `CLOSED` once the store was closed. */
export function assertOpen(state: StoreState): void {
  if (state.closed) throw new EventStoreError('CLOSED', 'event store closed');
}
