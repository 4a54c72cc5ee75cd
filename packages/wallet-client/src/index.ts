export { WalletError, type WalletErrorCode } from './errors.js';
export { formatAmount, fromHex, MAX_AMOUNT, parseAmount, toHex } from './json.js';
