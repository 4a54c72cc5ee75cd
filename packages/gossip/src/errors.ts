/** Codes of {@link GossipError}; stable strings the node maps to its own errors at its edge. */
export type GossipErrorCode =
  /** A caller bug, such as a non-integer clock reading or a field of the wrong size. */
  | 'BAD_ARGUMENT'
  /** A peer's bytes break the wire format: refuse them and score the peer. */
  | 'BAD_ENCODING';

/**
 * Typed error of this package. `BAD_ARGUMENT` is a caller bug; `BAD_ENCODING`
 * is a hostile or broken peer's input, which the sync layer refuses and
 * scores (PROTOCOL.md section 9) rather than letting any other exception out.
 */
export class GossipError extends Error {
  readonly code: GossipErrorCode;
  constructor(code: GossipErrorCode, message: string) {
    super(message);
    this.name = 'GossipError';
    this.code = code;
  }
}
