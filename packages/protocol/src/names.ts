/**
 * Names (docs/PROTOCOL.md 6.6): globally unique human-readable names, each
 * owned by one Ed25519 key, kept in the state trie so that a wallet can check
 * what a name resolves to (an inclusion proof) or that it is free (an
 * exclusion proof) against a certified state root. An address `alice@v0`
 * names the wallet `alice` at the agent `v0`: both are names, and the agent's
 * is owned by a registered validator.
 *
 * The rule, stated once here and tested (`test/names.test.ts`): 2 to 32
 * characters of lower-case ASCII letters, digits, `-` and `_`, starting with
 * a letter or a digit. Nothing else: no upper case (so no case folding and
 * no two names that differ only in case), no other script (so no homoglyph
 * of another name: `аlice` with a Cyrillic `а` is simply not a name), no dot
 * or `@` (the address separator). A few names are reserved (nobody can
 * register them) because a user could take them for the system itself.
 */
import { type HashFn, sha256Noble, taggedHash } from '@pos/merkle';
import { Reader, Writer } from './codec.js';
import { ProtocolError } from './errors.js';
import { utf8Decoder, utf8Encoder } from './utf8.js';

/** Shortest and longest name, in characters (= bytes: ASCII only). */
export const NAME_LIMITS = Object.freeze({ minChars: 2, maxChars: 32 });

/** Names nobody can register: they read as the system, not as a wallet or an agent. */
export const RESERVED_NAMES: readonly string[] = Object.freeze([
  'admin',
  'agent',
  'pos',
  'root',
  'system',
  'validator',
  'wallet',
]);

const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/;

/** Why a string is not a registrable name, or `null` when it is one. */
export function nameProblem(name: string): 'BAD_NAME' | 'NAME_RESERVED' | null {
  if (typeof name !== 'string') return 'BAD_NAME';
  if (name.length < NAME_LIMITS.minChars || name.length > NAME_LIMITS.maxChars) return 'BAD_NAME';
  if (!NAME_RE.test(name)) return 'BAD_NAME';
  if (RESERVED_NAMES.includes(name)) return 'NAME_RESERVED';
  return null;
}

/** Whether `name` follows the name rule and is not reserved. */
export const isValidName = (name: string): boolean => nameProblem(name) === null;

/** Tag of a name's state key. */
export const NAME_TAG = 'pos/name';

/** Last 32 bytes of a name's state key: `0^31 ‖ 0x03` (registrations end in 0x02). */
export const NAME_SUFFIX: Uint8Array = (() => {
  const p = new Uint8Array(32);
  p[31] = 3;
  return p;
})();

/**
 * The state-trie key of a name: `taggedHash("pos/name", name) ‖ 0^31 ‖ 0x03`.
 * Hashed, so that an exclusion proof for a free name is a path of about
 * log2(N) levels. Defined for any string a name transaction can carry (the
 * ledger only ever writes valid names).
 */
export function nameKey(name: string, hash: HashFn = sha256Noble): Uint8Array {
  if (typeof name !== 'string') throw new ProtocolError('BAD_ARGUMENT', 'name must be a string');
  const key = new Uint8Array(64);
  key.set(taggedHash(NAME_TAG, utf8Encoder.encode(name), hash), 0);
  key.set(NAME_SUFFIX, 32);
  return key;
}

/** Whether `key` ends in {@link NAME_SUFFIX} (a name's key). */
export function isNameKey(key: Uint8Array): boolean {
  if (!(key instanceof Uint8Array) || key.length !== 64) return false;
  for (let i = 0; i < 32; i++) if (key[32 + i] !== NAME_SUFFIX[i]) return false;
  return true;
}

/** A name's record in the state: who owns it, since which height. */
export interface NameRecord {
  readonly name: string;
  /** Ed25519 public key of the owner. */
  readonly owner: Uint8Array;
  /** Height of the block that gave it to this owner (0 at genesis). */
  readonly sinceHeight: number;
}

const NAME_RECORD_VERSION = 1;

/** `u8 version = 1 ‖ owner (32) ‖ u64 sinceHeight ‖ u8 length ‖ name`. Throws `BAD_ARGUMENT`. */
export function encodeNameRecord(r: NameRecord): Uint8Array {
  if (nameProblem(r.name) === 'BAD_NAME') {
    throw new ProtocolError('BAD_ARGUMENT', 'not a name');
  }
  if (!(r.owner instanceof Uint8Array) || r.owner.length !== 32) {
    throw new ProtocolError('BAD_ARGUMENT', 'owner must be 32 bytes');
  }
  if (!Number.isSafeInteger(r.sinceHeight) || r.sinceHeight < 0) {
    throw new ProtocolError('BAD_ARGUMENT', 'sinceHeight must be a safe integer >= 0');
  }
  const nameBytes = utf8Encoder.encode(r.name);
  const w = new Writer(42 + nameBytes.length);
  w.u8(NAME_RECORD_VERSION).bytes(r.owner, 32).u64safe(r.sinceHeight).u8(nameBytes.length);
  w.bytes(nameBytes, nameBytes.length);
  return w.finish();
}

/** Decodes a name record strictly (`BAD_ENCODING`): version, lengths, a valid name, nothing after. */
export function decodeNameRecord(bytes: Uint8Array): NameRecord {
  const r = new Reader(bytes);
  r.u8(NAME_RECORD_VERSION, NAME_RECORD_VERSION, 'name record version');
  const owner = r.bytes(32, 'owner');
  const sinceHeight = r.u64safe(0, Number.MAX_SAFE_INTEGER, 'sinceHeight');
  const len = r.u8(NAME_LIMITS.minChars, NAME_LIMITS.maxChars, 'name length');
  const name = utf8Decoder.decode(r.bytes(len, 'name'));
  r.end();
  if (nameProblem(name) === 'BAD_NAME') throw new ProtocolError('BAD_ENCODING', 'not a name');
  return { name, owner, sinceHeight };
}

/** An address `wallet@agent`: two names. */
export interface NameAddress {
  readonly wallet: string;
  readonly agent: string;
}

/**
 * Parses `wallet@agent` (both names by the rule; reserved names cannot be
 * registered, so they are refused here too). Throws `BAD_ARGUMENT` with the
 * reason; never folds case or normalizes: `Alice@v0` is refused, not read as
 * `alice@v0`.
 */
export function parseNameAddress(s: string): NameAddress {
  if (typeof s !== 'string') throw new ProtocolError('BAD_ARGUMENT', 'address must be a string');
  const at = s.indexOf('@');
  if (at < 0 || at !== s.lastIndexOf('@')) {
    throw new ProtocolError('BAD_ARGUMENT', `${JSON.stringify(s)} is not wallet@agent`);
  }
  const wallet = s.slice(0, at);
  const agent = s.slice(at + 1);
  for (const [what, n] of [
    ['wallet', wallet],
    ['agent', agent],
  ] as const) {
    const p = nameProblem(n);
    if (p !== null) {
      throw new ProtocolError(
        'BAD_ARGUMENT',
        `${what} name ${JSON.stringify(n)}: ${p === 'NAME_RESERVED' ? 'reserved' : `not a name (${NAME_LIMITS.minChars}-${NAME_LIMITS.maxChars} of a-z 0-9 - _, starting with a letter or digit)`}`,
      );
    }
  }
  return { wallet, agent };
}
