// The encrypted keystore (src/keystore.ts): a round trip; a wrong password
// and every altered field fail as BAD_PASSWORD (GCM covers the header as
// additional data); malformed files fail as BAD_KEYSTORE before any scrypt
// work; the cost bounds hold. Tests use N = 2^14 (the smallest allowed) to
// stay fast; the default is 2^17.

import { ed25519PublicKey } from '@pos/protocol';
import { loud } from '@pos/test-utils/hooks';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decryptKeystore,
  defaultKeystoreOpts,
  encryptKeystore,
  type KeystoreJSON,
  keystoreFromText,
  keystoreToText,
  WalletError,
} from '../src/index.js';

const FAST = { N: 2 ** 14 };
const secret = new Uint8Array(32).map((_, i) => i + 1);
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'none';
  } catch (e) {
    return e instanceof WalletError ? e.code : `other: ${e}`;
  }
}

let ks: KeystoreJSON;
test.before(
  loud(async () => {
    ks = await encryptKeystore(secret, 'correct horse', FAST);
  }),
);

test('round trip: the secret comes back, with its public key', async () => {
  assert.is(ks.version, 1);
  assert.is(ks.publicKey, hex(ed25519PublicKey(secret)));
  assert.is(ks.kdf.N, 2 ** 14);
  const back = await decryptKeystore(keystoreFromText(keystoreToText(ks)), 'correct horse');
  assert.is(hex(back.secretKey), hex(secret));
  assert.is(hex(back.publicKey), ks.publicKey);
  // Fresh salt and IV each time.
  const again = await encryptKeystore(secret, 'correct horse', FAST);
  assert.is.not(again.kdf.salt, ks.kdf.salt);
  assert.is.not(again.ciphertext, ks.ciphertext);
  assert.equal(defaultKeystoreOpts, { N: 2 ** 17, r: 8, p: 1 });
});

test('a wrong password, or any altered field, is BAD_PASSWORD', async () => {
  const flip = (h: string) => `${h.slice(0, -1)}${h.at(-1) === '0' ? '1' : '0'}`;
  const other = hex(ed25519PublicKey(new Uint8Array(32).fill(9)));
  const table: [string, KeystoreJSON, string][] = [
    ['wrong password', ks, 'Correct horse'],
    ['ciphertext', { ...ks, ciphertext: flip(ks.ciphertext) }, 'correct horse'],
    ['iv', { ...ks, cipher: { ...ks.cipher, iv: flip(ks.cipher.iv) } }, 'correct horse'],
    ['salt', { ...ks, kdf: { ...ks.kdf, salt: flip(ks.kdf.salt) } }, 'correct horse'],
    ['r', { ...ks, kdf: { ...ks.kdf, r: 9 } }, 'correct horse'],
    ['publicKey', { ...ks, publicKey: other }, 'correct horse'],
  ];
  for (const [name, k, pw] of table) {
    assert.is(await code(decryptKeystore(k, pw)), 'BAD_PASSWORD', name);
  }
});

test('malformed keystores are BAD_KEYSTORE', async () => {
  const table: [string, unknown][] = [
    ['not an object', 'x'],
    ['extra key', { ...ks, note: 1 }],
    ['missing key', { ...ks, ciphertext: undefined }],
    ['version 2', { ...ks, version: 2 }],
    ['other kdf', { ...ks, kdf: { ...ks.kdf, name: 'pbkdf2' } }],
    ['other cipher', { ...ks, cipher: { ...ks.cipher, name: 'aes-128-gcm' } }],
    ['N not a power of two', { ...ks, kdf: { ...ks.kdf, N: 3 * 2 ** 14 } }],
    ['N too small', { ...ks, kdf: { ...ks.kdf, N: 2 ** 10 } }],
    ['N too large', { ...ks, kdf: { ...ks.kdf, N: 2 ** 21 } }],
    ['p 0', { ...ks, kdf: { ...ks.kdf, p: 0 } }],
    ['upper-case hex', { ...ks, publicKey: ks.publicKey.toUpperCase().replace('0X', '0x') }],
    ['short iv', { ...ks, cipher: { ...ks.cipher, iv: '0x00' } }],
    ['short salt', { ...ks, kdf: { ...ks.kdf, salt: '0x0011' } }],
    ['short ciphertext', { ...ks, ciphertext: ks.ciphertext.slice(0, -2) }],
  ];
  for (const [name, k] of table) {
    assert.is(await code(decryptKeystore(k, 'correct horse')), 'BAD_KEYSTORE', name);
  }
  assert.throws(
    () => keystoreFromText('{'),
    (e: unknown) => (e as WalletError).code === 'BAD_KEYSTORE',
  );
});

test('bad arguments to encrypt are BAD_ARGUMENT', async () => {
  assert.is(await code(encryptKeystore(secret.subarray(1), 'pw', FAST)), 'BAD_ARGUMENT');
  assert.is(await code(encryptKeystore(secret, '', FAST)), 'BAD_ARGUMENT');
  assert.is(await code(encryptKeystore(secret, 'pw', { N: 1000 })), 'BAD_ARGUMENT');
});

test.run();
