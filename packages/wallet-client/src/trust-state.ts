/**
 * A wallet that remembers what it verified (docs/PROTOCOL.md 11.2): the
 * latest verified validator table, as a trust anchor at its epoch, sealed
 * for storage, so that the next run resumes there instead of walking every
 * epoch from the genesis again (one request per epoch).
 *
 * The state is sealed with HMAC-SHA256 under a key the wallet keeps apart
 * from it (the CLI: a 0600 file in its own directory; a browser: its own
 * storage). Opening checks, in order: the format (`BAD_TRUST_STATE`), the
 * seal (`BAD_TRUST_STATE`: edited, truncated, or sealed under another key),
 * and that it is of the genesis the wallet pins (same chainId, LAG and
 * EPOCH; `WRONG_CHAIN`). What the seal proves is that this wallet wrote the
 * state; the state itself was verified when it was written.
 *
 * @module
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes } from '@pos/merkle';
import { fromHex, toHex, utf8Encoder } from '@pos/protocol';
import { fail } from './agent.js';
import type { WalletTrust } from './types.js';

/** Version of the sealed format. */
export const TRUST_STATE_VERSION = 1;

const ASCII = { encode: (s: string): Uint8Array => utf8Encoder.encode(s) };

/** The state's canonical JSON (no seal): the bytes the seal covers. */
function body(t: WalletTrust): string {
  return JSON.stringify({
    version: TRUST_STATE_VERSION,
    chainId: toHex(t.chainId),
    lag: t.lag,
    epochLength: t.epochLength,
    epoch: t.epoch ?? 0,
    validators: t.validators.map((v) => ({
      publicKey: toHex(v.publicKey),
      stake: v.stake.toString(),
      ...(v.name === undefined ? {} : { name: v.name }),
      ...(v.endpoint === undefined ? {} : { endpoint: v.endpoint }),
    })),
  });
}

function seal(text: string, key: Uint8Array): string {
  return toHex(hmac(sha256, key, ASCII.encode(`pos/trust-state\n${text}`)));
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length < 32) {
    fail('BAD_ARGUMENT', 'the sealing key must be at least 32 bytes');
  }
}

/** Seals `trust` under `key` (at least 32 random bytes): one line of JSON. */
export function sealTrustState(trust: WalletTrust, key: Uint8Array): string {
  checkKey(key);
  const text = body(trust);
  return `${JSON.stringify({ state: JSON.parse(text), seal: seal(text, key) })}\n`;
}

type Json = Record<string, unknown>;

function parseValidators(v: unknown): WalletTrust['validators'] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 4096) {
    return fail('BAD_TRUST_STATE', 'validators must be a non-empty list');
  }
  return v.map((x: Json) => {
    if (typeof x !== 'object' || x === null) fail('BAD_TRUST_STATE', 'a validator entry');
    if (typeof x.stake !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(x.stake)) {
      fail('BAD_TRUST_STATE', 'a validator stake');
    }
    const name = x.name;
    const endpoint = x.endpoint;
    if (name !== undefined && typeof name !== 'string') fail('BAD_TRUST_STATE', 'a name');
    if (endpoint !== undefined && typeof endpoint !== 'string')
      fail('BAD_TRUST_STATE', 'an endpoint');
    return {
      publicKey: fromHex(x.publicKey as string, 32),
      stake: BigInt(x.stake as string),
      ...(name === undefined ? {} : { name: name as string }),
      ...(endpoint === undefined ? {} : { endpoint: endpoint as string }),
    };
  });
}

/** Parses the sealed text's state (no seal check here). */
function parseState(s: unknown): WalletTrust {
  const o = s as Json;
  if (typeof o !== 'object' || o === null || o.version !== TRUST_STATE_VERSION) {
    return fail('BAD_TRUST_STATE', `not a version ${TRUST_STATE_VERSION} trust state`);
  }
  const int = (v: unknown, what: string, min: number) => {
    if (!Number.isSafeInteger(v) || (v as number) < min) fail('BAD_TRUST_STATE', what);
    return v as number;
  };
  try {
    return {
      chainId: fromHex(o.chainId as string, 32),
      lag: int(o.lag, 'lag', 1),
      epochLength: int(o.epochLength, 'epochLength', 1),
      epoch: int(o.epoch, 'epoch', 0),
      validators: parseValidators(o.validators),
    };
  } catch (e) {
    if ((e as { code?: string }).code === 'BAD_TRUST_STATE') throw e;
    return fail('BAD_TRUST_STATE', `malformed: ${(e as Error).message}`);
  }
}

/**
 * Opens a sealed state: `BAD_TRUST_STATE` unless it parses and its seal
 * verifies under `key`; `WRONG_CHAIN` unless it is of `anchor`'s chain (same
 * chainId, LAG and EPOCH) at or after the anchor's epoch.
 */
export function openTrustState(text: string, key: Uint8Array, anchor: WalletTrust): WalletTrust {
  checkKey(key);
  if (typeof text !== 'string' || text.length > 4 * 1024 * 1024) {
    fail('BAD_TRUST_STATE', 'not a trust state');
  }
  let outer: Json;
  try {
    outer = JSON.parse(text) as Json;
  } catch {
    return fail('BAD_TRUST_STATE', 'not JSON');
  }
  if (typeof outer !== 'object' || outer === null || typeof outer.seal !== 'string') {
    return fail('BAD_TRUST_STATE', 'no seal');
  }
  const trust = parseState(outer.state);
  // The seal covers the canonical body rebuilt from what was parsed: any
  // change to a field, or a field added, fails it.
  const canonical = body(trust);
  if (
    canonical !== JSON.stringify(outer.state) ||
    !equalBytes(ASCII.encode(seal(canonical, key)), ASCII.encode(outer.seal))
  ) {
    fail(
      'BAD_TRUST_STATE',
      'the seal does not verify: the state was changed, or sealed under another key',
    );
  }
  if (
    !equalBytes(trust.chainId, anchor.chainId) ||
    trust.lag !== anchor.lag ||
    trust.epochLength !== anchor.epochLength ||
    (trust.epoch ?? 0) < (anchor.epoch ?? 0)
  ) {
    fail('WRONG_CHAIN', 'the saved trust state is not of the pinned genesis');
  }
  return trust;
}
