/**
 * The validator key file (`posd keygen`): the node's Ed25519 key in JSON,
 * written with mode 0600 and never overwritten by accident. Plain, not
 * encrypted: a validator signs events unattended, so a passphrase would sit
 * next to the file anyway; the file's permissions are the protection (as
 * CometBFT's `priv_validator_key.json`).
 *
 * ```json
 * { "version": 1, "publicKey": "0x…", "secretKey": "0x…", "validatorId": "0x…" }
 * ```
 */
import { generateKeyPairSync } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { fromHex, toHex } from '@pos/merkle';
import { ed25519PublicKey, validatorIdOf } from '@pos/protocol';

/** Codes of {@link KeyFileError}. */
export type KeyFileErrorCode = 'EXISTS' | 'BAD_KEY_FILE' | 'IO';

/** A key file that cannot be written or read as asked. */
export class KeyFileError extends Error {
  readonly code: KeyFileErrorCode;
  constructor(code: KeyFileErrorCode, message: string) {
    super(message);
    this.name = 'KeyFileError';
    this.code = code;
  }
}

/** A validator key: the 32-byte Ed25519 seed and its public key and validatorId. */
export interface ValidatorKey {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly validatorId: Uint8Array;
}

/** A fresh key from the operating system's randomness (node:crypto). */
export function generateValidatorKey(): ValidatorKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  const secretKey = new Uint8Array(Buffer.from(jwk.d ?? '', 'base64url'));
  const publicKey = new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'));
  return { secretKey, publicKey, validatorId: validatorIdOf(publicKey) };
}

/** The JSON text of a key file. */
export function keyFileText(k: ValidatorKey): string {
  return `${JSON.stringify(
    {
      version: 1,
      publicKey: toHex(k.publicKey),
      secretKey: toHex(k.secretKey),
      validatorId: toHex(k.validatorId),
    },
    null,
    2,
  )}\n`;
}

/**
 * Writes a key file with mode 0600. Refuses (`EXISTS`) to replace an existing
 * file unless `overwrite`: losing a validator key by a typo is not undoable.
 */
export async function writeKeyFile(
  path: string,
  k: ValidatorKey,
  overwrite = false,
): Promise<void> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, overwrite ? 'w' : 'wx', 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EEXIST') {
      throw new KeyFileError('EXISTS', `${path} exists; pass --force to replace it`);
    }
    throw new KeyFileError('IO', `cannot write ${path}: ${err.code ?? err.message}`);
  }
  try {
    await fh.chmod(0o600);
    await fh.writeFile(keyFileText(k));
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Reads and checks a key file: the public key and validatorId must follow
 * from the secret key (a hand-edited or truncated file is `BAD_KEY_FILE`).
 */
export async function readKeyFile(path: string): Promise<ValidatorKey> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new KeyFileError('IO', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`);
  }
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    if (j.version !== 1) throw new Error('version must be 1');
    const secretKey = fromHex(j.secretKey as string, 32);
    const publicKey = fromHex(j.publicKey as string, 32);
    const validatorId = fromHex(j.validatorId as string, 32);
    if (toHex(ed25519PublicKey(secretKey)) !== toHex(publicKey)) {
      throw new Error('publicKey does not match secretKey');
    }
    if (toHex(validatorIdOf(publicKey)) !== toHex(validatorId)) {
      throw new Error('validatorId does not match publicKey');
    }
    return { secretKey, publicKey, validatorId };
  } catch (e) {
    throw new KeyFileError('BAD_KEY_FILE', `${path}: ${(e as Error).message}`);
  }
}
