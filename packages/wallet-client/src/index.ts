export {
  type CertifiedHeader,
  createWalletClient,
  type FetchLike,
  type SendOpts,
  type SignedTransfer,
  type TableProvenance,
  trustFromGenesis,
  type VerifiedBalance,
  type VerifiedReceipt,
  type VerifiedValidatorSet,
  type WalletClient,
  type WalletClientOpts,
  type WalletTrust,
} from './client.js';
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
