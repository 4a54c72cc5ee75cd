/** Codes of {@link GossipError}; stable strings the node maps to its own errors at its edge. */
export type GossipErrorCode = 'BAD_ARGUMENT';

/**
 * Typed error of this package, for caller bugs such as a non-integer clock
 * reading. A hostile peer never causes one: its input is refused or scored
 * (PROTOCOL.md section 9), not thrown about.
 */
export class GossipError extends Error {
  readonly code: GossipErrorCode;
  constructor(code: GossipErrorCode, message: string) {
    super(message);
    this.name = 'GossipError';
    this.code = code;
  }
}
