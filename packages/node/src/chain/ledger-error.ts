/** The ledger's typed error (docs/PROTOCOL.md 6.3), apart so that the ledger's helper modules can throw it. */
import { CodedError } from '@pos/protocol';

/** Codes of {@link LedgerError}: misuse of the API or a broken store, never a bad transaction. */
export type LedgerErrorCode =
  | 'BAD_ARGUMENT'
  | 'BAD_HEIGHT'
  | 'BUSY'
  | 'PENDING_BLOCK'
  | 'NO_PENDING_BLOCK'
  | 'CHAIN_MISMATCH'
  | 'CORRUPT_STATE'
  | 'FAILED';

/**
 * Typed error of the ledger. A bad transaction is never an error (it gets a
 * `rejected` receipt); these are for callers that misuse the API
 * (`BAD_ARGUMENT`, `BAD_HEIGHT`, `BUSY`, `PENDING_BLOCK`, `NO_PENDING_BLOCK`), a
 * store that holds another chain (`CHAIN_MISMATCH`) or inconsistent state
 * (`CORRUPT_STATE`), and a ledger whose block failed half-way (`FAILED`: reopen
 * it from the store, which still holds the last commit).
 */
export class LedgerError extends CodedError<LedgerErrorCode> {}
