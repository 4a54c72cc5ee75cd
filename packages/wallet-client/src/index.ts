export { createWalletClient } from './client.js';
export { WalletError, type WalletErrorCode } from './errors.js';
export {
  decryptKeystore,
  defaultKeystoreOpts,
  encryptKeystore,
  type KeystoreJSON,
  type KeystoreOpts,
  keystoreFromText,
  keystoreToText,
} from './keystore.js';
export { trustFromGenesis } from './trust.js';
export { openTrustState, sealTrustState, TRUST_STATE_VERSION } from './trust-state.js';
export type {
  CertifiedAt,
  CertifiedHeader,
  FetchLike,
  HistoryOpts,
  ResolvedAddress,
  SendOpts,
  SignedTransfer,
  TableProvenance,
  VerifiedBalance,
  VerifiedHistory,
  VerifiedHistoryEntry,
  VerifiedName,
  VerifiedOutpoint,
  VerifiedReceipt,
  VerifiedValidatorSet,
  WalletClient,
  WalletClientOpts,
  WalletTrust,
} from './types.js';
export { DEFAULT_MAX_STATE_AGE_MS } from './types.js';
export { checkAgentsCurrent, DEFAULT_MAX_AGENT_LAG_MS } from './verify/freshness.js';
