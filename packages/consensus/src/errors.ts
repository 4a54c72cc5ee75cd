/** Codes of {@link ConsensusError}; stable strings that the node maps to its own errors at its edge. */
export type ConsensusErrorCode = 'BAD_ARGUMENT' | 'DUPLICATE_CANDIDATE';

/**
 * Typed error of this package. Thrown for inputs that no honest caller can
 * produce (a duplicate validator, a negative stake, a seed of the wrong
 * length): the ordering is a pure function of the DAG (PROTOCOL.md section 4),
 * so guessing a repair here would let two nodes order differently.
 */
export class ConsensusError extends Error {
  readonly code: ConsensusErrorCode;
  constructor(code: ConsensusErrorCode, message: string) {
    super(message);
    this.name = 'ConsensusError';
    this.code = code;
  }
}
