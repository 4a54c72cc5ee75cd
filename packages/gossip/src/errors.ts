/** Codes of {@link GossipError}; stable strings the node maps to its own errors at its edge. */
export type GossipErrorCode =
  /** A caller bug, such as a non-integer clock reading or a field of the wrong size. */
  | 'BAD_ARGUMENT'
  /** A peer's bytes break the wire format: refuse them and score the peer. */
  | 'BAD_ENCODING'
  /** A sync response event whose Ed25519 signature does not verify (sync.ts). */
  | 'BAD_SIGNATURE'
  /** A sync response event on another chain, or a response of the wrong shape (sync.ts). */
  | 'BAD_RESPONSE'
  /** A sync response event whose parent is neither known nor earlier in the page (sync.ts). */
  | 'MISSING_PARENT'
  /** A sync response over the puller's own size or count cap (sync.ts). */
  | 'TOO_LARGE'
  /** The peer answered a sync request with an HTTP error, or could not be reached (sync.ts). */
  | 'PEER_REFUSED'
  /**
   * The peer took the request and did not answer in time (sync.ts): a
   * silent or black-holed peer, or one far too slow. Not scored (a partition
   * looks the same), but a puller waits longer before trying it again.
   */
  | 'PEER_TIMEOUT';

/**
 * Typed error of this package. `BAD_ARGUMENT` is a caller bug; `BAD_ENCODING`
 * is a hostile or broken peer's input, which the sync layer refuses and
 * scores (docs/PROTOCOL.md 8) rather than letting any other exception out.
 */
export class GossipError extends Error {
  readonly code: GossipErrorCode;
  /**
   * For `MISSING_PARENT`: the creator of the missing parent. A puller leaves
   * it out of its next summary, which makes the server send that creator's
   * events whole (a fork the server had not seen; see `EventStore.since`).
   */
  readonly creator: Uint8Array | undefined;
  /**
   * For `PEER_REFUSED`: the peer's own refusal code (its `{error: CODE}` body,
   * sync.ts), such as `STALE_REQUEST` when the peer finds this node's clock
   * more than 5 minutes off its own.
   */
  readonly refusal: string | undefined;
  constructor(code: GossipErrorCode, message: string, creator?: Uint8Array, refusal?: string) {
    super(message);
    this.name = 'GossipError';
    this.code = code;
    this.creator = creator;
    this.refusal = refusal;
  }
}
