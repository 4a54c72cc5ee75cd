import { CodedError } from '@pos/protocol';

/** Codes of {@link WalletError}; stable strings an application can branch on. */
export type WalletErrorCode =
  // A caller's argument of the wrong type or range.
  | 'BAD_ARGUMENT'
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
  | 'NOT_YET'
  // Freshness (docs/PROTOCOL.md 11): the agent's latest certified block is
  // older than the wallet accepts (an agent can show, correctly certified, a
  // balance from before it was spent); or, asked beside other agents, its
  // certified head is further behind theirs than the wallet accepts (it hides
  // newer blocks).
  | 'STALE_STATE'
  | 'AGENT_BEHIND'
  // A saved trust state that does not open: malformed, or its seal does not
  // verify (changed on disk, or sealed under another key) (trust-state.ts).
  | 'BAD_TRUST_STATE'
  // A name proven free where an owner is needed, and an agent name owned by
  // a key that is not a validator (docs/PROTOCOL.md 6.6).
  | 'UNKNOWN_NAME'
  | 'NOT_AN_AGENT';

/**
 * Typed error of this package. The wallet trusts its agent for nothing
 * (docs/PROTOCOL.md 11), so every answer that does not check out throws this
 * instead of being guessed at. Malformed protocol bytes throw `ProtocolError`
 * (`@pos/protocol`).
 */
export class WalletError extends CodedError<WalletErrorCode> {}
