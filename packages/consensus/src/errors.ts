/**
 * Codes of {@link ConsensusError}; stable strings that the node maps to its
 * own errors (and peer scores) at its edge.
 *
 * - `BAD_ARGUMENT`, `DUPLICATE_CANDIDATE`, `BAD_OPTIONS`, `BAD_STAKE_TABLE`:
 *   caller bugs or configuration errors.
 * - `BAD_EVENT`: the event breaks a structural rule of docs/PROTOCOL.md 5.1 (field
 *   shape, seq, timestamp, size); the peer that sent it is at fault.
 * - `BAD_PARENT`: a parent is present but cannot be that parent (wrong
 *   creator or seq for a self-parent, own creator for an other-parent).
 * - `MISSING_PARENT`: a parent is not known yet; buffer and fetch it.
 * - `NOT_A_VALIDATOR`: the creator has no stake in the event's round.
 * - `TABLE_PENDING`: the stake table of the event's round is not known yet
 *   (`stakeTable` returned `undefined`: its snapshot block is not decided and
 *   applied on this node). Nothing changed; the caller keeps the event and
 *   inserts it again once its ledger has caught up (docs/PROTOCOL.md 5.9).
 *   Not the peer's fault.
 * - `BAD_SIGNATURE`: the injected verifier refused the event.
 */
export type ConsensusErrorCode =
  | 'BAD_ARGUMENT'
  | 'DUPLICATE_CANDIDATE'
  | 'BAD_OPTIONS'
  | 'BAD_STAKE_TABLE'
  | 'BAD_EVENT'
  | 'BAD_PARENT'
  | 'MISSING_PARENT'
  | 'NOT_A_VALIDATOR'
  | 'TABLE_PENDING'
  | 'BAD_SIGNATURE';

/**
 * Typed error of this package. Thrown for inputs that no honest caller can
 * produce and for events that break the rules: the ordering is a pure
 * function of the DAG (docs/PROTOCOL.md 5), so guessing a repair here
 * would let two nodes order differently. An `insert` that throws has changed
 * nothing.
 */
export class ConsensusError extends Error {
  readonly code: ConsensusErrorCode;
  constructor(code: ConsensusErrorCode, message: string) {
    super(message);
    this.name = 'ConsensusError';
    this.code = code;
  }
}
