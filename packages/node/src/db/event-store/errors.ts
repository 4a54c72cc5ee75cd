/** The event store's typed error (docs/PROTOCOL.md 9.1). */
import { CodedError } from '@pos/protocol';

/** Codes of {@link EventStoreError}. */
export type EventStoreErrorCode =
  /** A stored record does not decode, or decodes to another event than its key says. */
  | 'CORRUPT_STORE'
  /** A batch write failed; the store refuses further writes (restart to recover). */
  | 'WRITE_FAILED'
  /** The store was closed. */
  | 'CLOSED'
  /** A caller bug, such as a negative prune index. */
  | 'BAD_ARGUMENT';

/** Typed error of the level event store. */
export class EventStoreError extends CodedError<EventStoreErrorCode> {}
