/** Codes of {@link WalletError}; stable strings an application can branch on. */
export type WalletErrorCode =
  | 'BAD_HEX'
  | 'BAD_AMOUNT'
  | 'BAD_ARGUMENT'
  // A binary encoding that is truncated, extended or not the canonical one
  // (codec.ts, tx.ts; PROTOCOL.md section 2).
  | 'BAD_ENCODING'
  // A transaction value (or its JSON) that breaks a rule of tx.ts.
  | 'BAD_TX'
  // A keystore file that is not one (keystore.ts).
  | 'BAD_KEYSTORE'
  // A keystore that does not open: a wrong password, or an altered file.
  | 'BAD_PASSWORD'
  // What an agent said and the wallet refused (client.ts): an answer of the
  // wrong shape; a certificate short of 2/3 of the trusted stake or not for
  // that header; a header of another chain; a header naming a validator set
  // the wallet has not verified; a proof that does not hold.
  | 'BAD_ANSWER'
  | 'BAD_CERTIFICATE'
  | 'WRONG_CHAIN'
  | 'UNKNOWN_SET'
  | 'BAD_PROOF'
  // The agent could not be reached, answered with a JSON-RPC error, or has
  // nothing certified yet: nothing was verified, nothing is returned.
  | 'AGENT_UNREACHABLE'
  | 'AGENT_ERROR'
  | 'NOT_YET';

/**
 * Typed error of this package. The wallet trusts its agent for nothing
 * (PROTOCOL.md section 1), so every decoder of agent data throws this on
 * malformed input instead of guessing what was meant.
 */
export class WalletError extends Error {
  readonly code: WalletErrorCode;
  constructor(code: WalletErrorCode, message: string) {
    super(message);
    this.name = 'WalletError';
    this.code = code;
  }
}
