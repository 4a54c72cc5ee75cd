/**
 * Which errors stop the node. After these, the in-memory state may be ahead
 * of the disk (a block half-applied, a store write lost, a record that does
 * not decode): the node stops, and a restart recovers from what is on disk
 * (docs/PROTOCOL.md 9.3). The codes are checked by the compiler against
 * each class's union, so renaming one cannot silently change this list.
 */
import { MerkleError } from '@pos/merkle';
import { isCoded } from '@pos/protocol';
import { ChainError } from './chain/chain.js';
import { LedgerError } from './chain/ledger.js';
import { EventStoreError } from './db/event-store.js';

/** Whether `e` leaves the node unable to continue safely. */
export function isFatal(e: unknown): boolean {
  return (
    isCoded(e, ChainError, ['FAILED', 'CORRUPT_STATE']) ||
    isCoded(e, LedgerError, ['FAILED', 'CORRUPT_STATE']) ||
    isCoded(e, EventStoreError, ['CORRUPT_STORE', 'WRITE_FAILED', 'CLOSED']) ||
    isCoded(e, MerkleError, ['CORRUPT_STORE'])
  );
}
