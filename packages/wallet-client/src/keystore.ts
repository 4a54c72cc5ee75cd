/**
 * Encrypted keystore for a wallet's Ed25519 secret key (issue 5, wallet
 * point 2): scrypt (memory-hard, RFC 7914, @noble/hashes) turns the password
 * into a 256-bit key, and AES-256-GCM (WebCrypto, in browsers and Node)
 * encrypts the 32-byte secret with every header field as additional data, so
 * a changed parameter, salt, IV or public key fails authentication like a
 * wrong password does. Browser-safe: no `node:` imports.
 *
 * JSON form (version 1), strict: exactly these keys, lower-case hex.
 *
 * ```json
 * { "version": 1, "publicKey": "0x…32 bytes",
 *   "kdf": { "name": "scrypt", "N": 131072, "r": 8, "p": 1, "salt": "0x…32 bytes" },
 *   "cipher": { "name": "aes-256-gcm", "iv": "0x…12 bytes" },
 *   "ciphertext": "0x…48 bytes (secret ‖ tag)" }
 * ```
 */

import { scryptAsync } from '@noble/hashes/scrypt.js';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { fromHex, toHex } from '@pos/merkle';
import { ed25519PublicKey } from '@pos/protocol';
import { WalletError } from './errors.js';

// The part of WebCrypto used here (browsers and Node >= 19 have it as
// globalThis.crypto); declared locally because this package compiles
// without DOM or Node typings, to stay browser-safe.
interface AesKey {
  readonly type: string;
}
interface GcmParams {
  name: 'AES-GCM';
  iv: Uint8Array;
  additionalData: Uint8Array;
  tagLength: 128;
}
interface Subtle {
  importKey(
    format: 'raw',
    key: Uint8Array,
    alg: 'AES-GCM',
    extractable: false,
    usages: ('encrypt' | 'decrypt')[],
  ): Promise<AesKey>;
  encrypt(alg: GcmParams, key: AesKey, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(alg: GcmParams, key: AesKey, data: Uint8Array): Promise<ArrayBuffer>;
}
function subtle(): Subtle {
  const s = (globalThis as unknown as { crypto?: { subtle?: Subtle } }).crypto?.subtle;
  if (s === undefined) {
    throw new WalletError('BAD_ARGUMENT', 'WebCrypto (crypto.subtle) is not available');
  }
  return s;
}

/** A keystore's JSON form; see the module comment. */
export interface KeystoreJSON {
  version: 1;
  publicKey: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { name: 'aes-256-gcm'; iv: string };
  ciphertext: string;
}

/** scrypt cost of {@link encryptKeystore}. */
export interface KeystoreOpts {
  /** CPU/memory cost, a power of two in 2^14..2^20 (memory ≈ 128·N·r bytes, at most 1 GiB). */
  N: number;
  r: number;
  p: number;
}

/** 2^17 · 8: about 128 MiB and a second or so per unlock, as wallets commonly use. */
export const defaultKeystoreOpts: KeystoreOpts = { N: 2 ** 17, r: 8, p: 1 };

const bad = (msg: string): never => {
  throw new WalletError('BAD_KEYSTORE', msg);
};

/**
 * Most memory scrypt's table may take, `128·N·r` bytes: a keystore file is
 * input, and N = 2^20 with r = 32 would ask for 4 GiB (@noble/hashes then
 * throws a plain Error at its own 1 GiB cap, which is no `WalletError`).
 */
const MAX_KDF_MEMORY = 2 ** 30;

function checkCost(N: unknown, r: unknown, p: unknown): void {
  if (!Number.isSafeInteger(N) || (N as number) < 2 ** 14 || (N as number) > 2 ** 20) {
    bad('kdf.N must be a power of two in 2^14..2^20');
  }
  if (((N as number) & ((N as number) - 1)) !== 0) bad('kdf.N must be a power of two');
  if (!Number.isSafeInteger(r) || (r as number) < 1 || (r as number) > 32) bad('kdf.r: 1..32');
  if (!Number.isSafeInteger(p) || (p as number) < 1 || (p as number) > 16) bad('kdf.p: 1..16');
  if (128 * (N as number) * (r as number) > MAX_KDF_MEMORY) bad('kdf: 128·N·r over 1 GiB');
}

function exactKeys(o: unknown, keys: string[], what: string): Record<string, unknown> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) bad(`${what} must be an object`);
  const got = Object.keys(o as object).sort();
  if (got.join() !== [...keys].sort().join()) bad(`${what} must have exactly: ${keys.join(', ')}`);
  return o as Record<string, unknown>;
}

function hexField(v: unknown, bytes: number, what: string): Uint8Array {
  if (typeof v !== 'string') bad(`${what} must be hex`);
  try {
    return fromHex(v as string, bytes);
  } catch {
    return bad(`${what} must be 0x-prefixed lower-case hex of ${bytes} bytes`);
  }
}

/** The additional data: every header field, in a fixed order. */
function aad(j: Omit<KeystoreJSON, 'ciphertext'>): Uint8Array {
  return utf8ToBytes(
    JSON.stringify([
      j.version,
      j.publicKey,
      j.kdf.name,
      j.kdf.N,
      j.kdf.r,
      j.kdf.p,
      j.kdf.salt,
      j.cipher.name,
      j.cipher.iv,
    ]),
  );
}

async function aesKey(password: string, salt: Uint8Array, c: KeystoreOpts): Promise<AesKey> {
  if (typeof password !== 'string' || password.length === 0) {
    throw new WalletError('BAD_ARGUMENT', 'the password must be a non-empty string');
  }
  const raw = await scryptAsync(utf8ToBytes(password.normalize('NFKC')), salt, {
    N: c.N,
    r: c.r,
    p: c.p,
    dkLen: 32,
    // noble counts its p + 1 scratch blocks too; checkCost bounded the table.
    maxmem: 128 * c.r * (c.N + c.p + 1),
  });
  return subtle().importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** Encrypts `secretKey` (32 bytes) under `password`. */
export async function encryptKeystore(
  secretKey: Uint8Array,
  password: string,
  opts: Partial<KeystoreOpts> = {},
): Promise<KeystoreJSON> {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new WalletError('BAD_ARGUMENT', 'secretKey must be 32 bytes');
  }
  const c = { ...defaultKeystoreOpts, ...opts };
  try {
    checkCost(c.N, c.r, c.p);
  } catch (e) {
    throw new WalletError('BAD_ARGUMENT', (e as Error).message);
  }
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const head: Omit<KeystoreJSON, 'ciphertext'> = {
    version: 1,
    publicKey: toHex(ed25519PublicKey(secretKey)),
    kdf: { name: 'scrypt', N: c.N, r: c.r, p: c.p, salt: toHex(salt) },
    cipher: { name: 'aes-256-gcm', iv: toHex(iv) },
  };
  const key = await aesKey(password, salt, c);
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(head), tagLength: 128 },
    key,
    secretKey,
  );
  return { ...head, ciphertext: toHex(new Uint8Array(ct)) };
}

/**
 * Parses a keystore strictly (`BAD_KEYSTORE` for any malformed field) and
 * decrypts it. A wrong password, or any altered field, is `BAD_PASSWORD`:
 * GCM cannot tell them apart, and neither reveals anything.
 */
export async function decryptKeystore(
  json: unknown,
  password: string,
): Promise<{ secretKey: Uint8Array; publicKey: Uint8Array }> {
  const j = exactKeys(json, ['version', 'publicKey', 'kdf', 'cipher', 'ciphertext'], 'keystore');
  if (j.version !== 1) bad('keystore version must be 1');
  const kdf = exactKeys(j.kdf, ['name', 'N', 'r', 'p', 'salt'], 'kdf');
  const cipher = exactKeys(j.cipher, ['name', 'iv'], 'cipher');
  if (kdf.name !== 'scrypt') bad('kdf.name must be "scrypt"');
  if (cipher.name !== 'aes-256-gcm') bad('cipher.name must be "aes-256-gcm"');
  checkCost(kdf.N, kdf.r, kdf.p);
  const publicKey = hexField(j.publicKey, 32, 'publicKey');
  if (typeof kdf.salt !== 'string' || !/^0x([0-9a-f]{2}){16,64}$/.test(kdf.salt)) {
    bad('kdf.salt must be 16..64 bytes of lower-case hex');
  }
  const salt = fromHex(kdf.salt as string, ((kdf.salt as string).length - 2) / 2);
  const iv = hexField(cipher.iv, 12, 'cipher.iv');
  const ct = hexField(j.ciphertext, 48, 'ciphertext');
  const head = {
    version: 1 as const,
    publicKey: j.publicKey as string,
    kdf: {
      name: 'scrypt' as const,
      N: kdf.N as number,
      r: kdf.r as number,
      p: kdf.p as number,
      salt: kdf.salt as string,
    },
    cipher: { name: 'aes-256-gcm' as const, iv: cipher.iv as string },
  };
  const key = await aesKey(password, salt, head.kdf);
  let secretKey: Uint8Array;
  try {
    secretKey = new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-GCM', iv, additionalData: aad(head), tagLength: 128 },
        key,
        ct,
      ),
    );
  } catch {
    throw new WalletError('BAD_PASSWORD', 'wrong password, or the keystore was altered');
  }
  const derived = ed25519PublicKey(secretKey);
  if (toHex(derived) !== toHex(publicKey)) bad('the key does not match its publicKey');
  return { secretKey, publicKey };
}

/** The keystore as the file's text (two-space JSON, trailing newline). */
export function keystoreToText(k: KeystoreJSON): string {
  return `${JSON.stringify(k, null, 2)}\n`;
}

/** Parses a keystore file's text (`BAD_KEYSTORE` if it is not JSON); decrypt with {@link decryptKeystore}. */
export function keystoreFromText(text: string): unknown {
  if (typeof text !== 'string') bad('the keystore text must be a string');
  try {
    return JSON.parse(text);
  } catch {
    return bad('the keystore is not JSON');
  }
}
