/**
 * Typed errors. Every error the project throws on purpose carries a `code`
 * from a closed union, so that callers branch on the code and a renamed code
 * fails to compile at every place that names it (as Lodestar's
 * `LodestarError<T>`). Classes stay apart per layer (`ProtocolError` here,
 * `WalletError`, the node's `ChainError` and others), all of them
 * {@link CodedError}s; the edges (JSON-RPC, the CLIs) map them in one place.
 */

/** An error with a code from the union `C`. */
export class CodedError<C extends string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Whether `e` is an instance of `cls` with one of `codes`. The codes are
 * checked against the class's union by the compiler:
 * `isCoded(e, ChainError, ['FAILED'])` stops compiling if `FAILED` is renamed.
 */
export function isCoded<C extends string>(
  e: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: any constructor of a CodedError<C>
  cls: abstract new (...args: any[]) => CodedError<C>,
  codes: readonly C[],
): boolean {
  return e instanceof cls && codes.includes(e.code);
}

/** Codes of {@link ProtocolError}: stable strings an application can branch on. */
export type ProtocolErrorCode =
  // Not `0x`-prefixed lowercase hex of the expected length (json.ts, docs/PROTOCOL.md 1).
  | 'BAD_HEX'
  // Not a canonical decimal amount in u64 range (json.ts).
  | 'BAD_AMOUNT'
  // A caller's argument of the wrong type or range (a programming error, not data).
  | 'BAD_ARGUMENT'
  // A binary encoding that is truncated, extended or not the canonical one
  // (codec.ts and every decoder, docs/PROTOCOL.md 1).
  | 'BAD_ENCODING'
  // A transaction value (or its JSON) that breaks a rule of tx.ts.
  | 'BAD_TX'
  // A genesis value (or its JSON) that breaks a rule of genesis.ts.
  | 'BAD_GENESIS';

/**
 * The protocol's error: every decoder and constructor of this package throws
 * it on malformed input instead of guessing what was meant (bytes from a peer
 * or an agent are hostile, docs/PROTOCOL.md 1).
 */
export class ProtocolError extends CodedError<ProtocolErrorCode> {}
