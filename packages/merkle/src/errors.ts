/** Codes of {@link MerkleError}; stable strings that the node maps to RPC errors at its edge. */
export type MerkleErrorCode =
  | 'BAD_ARGUMENT'
  | 'BAD_ENCODING'
  | 'BAD_HEX'
  | 'BAD_PROOF'
  | 'KEY_LENGTH'
  | 'MISSING_NODE'
  | 'UNKNOWN_ROOT'
  | 'PRUNED'
  | 'OUT_OF_RANGE'
  | 'CORRUPT_STORE';

/**
 * Typed error of this package. Decoders and builders throw it; verifiers never
 * do (they return false, failing closed).
 */
export class MerkleError extends Error {
  readonly code: MerkleErrorCode;
  constructor(code: MerkleErrorCode, message: string) {
    super(message);
    this.name = 'MerkleError';
    this.code = code;
  }
}
