/**
 * The genesis document (docs/PROTOCOL.md 6.4): the chain's name and
 * start time, its consensus parameters, the initial validators and the initial
 * outputs. Its canonical encoding is hashed into the chainId that every signed
 * object commits to, so it has exactly one byte form (docs/PROTOCOL.md 1).
 *
 * Byte layout, version 2 (integers big-endian; strings UTF-8 with a u16 length):
 *
 * ```
 * u8  version = 2
 * u16 len ‖ chainName          1..64 bytes
 * u64 genesisTime              ms since the epoch, < 2^53
 * u16 coinFrequency            2..65535 (docs/PROTOCOL.md 5.4; the engine needs c >= 2)
 * u64 minFee
 * u32 lag                      1..2^32-1 (docs/PROTOCOL.md 6.5: LAG; 0 would let a set certify its own table)
 * u32 epoch                    1..2^32-1 (docs/PROTOCOL.md 6.5: EPOCH)
 * u64 minStake                 >= 1 (docs/PROTOCOL.md 6.5: the least stake of a validator-set member)
 * u16 nValidators              1..1024, sorted by validatorId, no validatorId twice
 *     nValidators × ( pubkey (32) ‖ u16 len ‖ name (0..64 bytes) ‖ u16 len ‖ p2p (1..128 bytes) )
 * u16 nOutputs                 1..65535
 *     nOutputs × Output (72: u64 amount > 0 ‖ owner (32) ‖ host (32))
 * ```
 *
 * plus: the sum of the output amounts fits a u64 (so no total the ledger
 * computes can overflow), and every string is well-formed UTF-8 (fatal
 * decoding, a leading BOM kept as a character, so that re-encoding gives the
 * same bytes).
 *
 * `chainId = sha256("pos/genesis" ‖ encoding)`, `validatorId =
 * sha256("pos/validator" ‖ pubkey)` (docs/PROTOCOL.md 2). Genesis output i has the
 * outpoint `{txHash: chainId, index: i}`. The genesis stake of a validator is
 * the sum of the outputs hosted by its validatorId (docs/PROTOCOL.md 6.5); an output may
 * name a host that is not a genesis validator and then counts for nobody.
 */
import { compareBytes, type HashFn, sha256Noble, taggedHash } from '@pos/merkle';
import { VALIDATOR_TAG } from './block.js';
import { Reader, Writer } from './codec.js';
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import { formatAmount, fromHex, MAX_AMOUNT, parseAmount, toHex } from './json.js';
import type { Outpoint, Output, OutputJSON } from './tx.js';
import { utf8Decoder, utf8Encoder } from './utf8.js';

/** Version byte of the genesis encoding. */
export const GENESIS_VERSION = 2;
/** Domain tag of the chainId. */
export const GENESIS_TAG = 'pos/genesis';
/** Bounds of the genesis fields (bytes for strings). */
export const GENESIS_LIMITS = Object.freeze({
  chainNameBytes: 64,
  validatorNameBytes: 64,
  p2pBytes: 128,
  validators: 1024,
  outputs: 65535,
});

/** Consensus and ledger parameters fixed at genesis. */
export interface GenesisParams {
  /** Coin round frequency c (docs/PROTOCOL.md 5.4), 2..65535. */
  readonly coinFrequency: number;
  /** Smallest fee a transaction may pay (docs/PROTOCOL.md 6.3), u64. */
  readonly minFee: bigint;
  /** LAG of the stake snapshot (docs/PROTOCOL.md 6.5), u32. */
  readonly lag: number;
  /** EPOCH of the stake snapshot (docs/PROTOCOL.md 6.5), u32 >= 1. */
  readonly epoch: number;
  /**
   * Least stake (u64, at least 1) a registered validator must host at a
   * snapshot to be in the next epoch's set (docs/PROTOCOL.md 6.5).
   */
  readonly minStake: bigint;
}

/** The defaults of the design (docs/PROTOCOL.md 6.4); `minFee` has none. */
export const defaultGenesisParams: Readonly<Omit<GenesisParams, 'minFee'>> = Object.freeze({
  coinFrequency: 10,
  lag: 1000,
  epoch: 4096,
  minStake: 1n,
});

/** A genesis validator. */
export interface GenesisValidator {
  /** Ed25519 public key (32 bytes). */
  readonly pubkey: Uint8Array;
  /** Display name, 0..64 bytes of UTF-8. */
  readonly name: string;
  /** Peer-sync endpoint (`host:port`), 1..128 bytes of UTF-8. */
  readonly p2p: string;
}

/** The genesis document. */
export interface Genesis {
  /** 1..64 bytes of UTF-8. */
  readonly chainName: string;
  /** Milliseconds since the Unix epoch, a safe integer. */
  readonly genesisTime: number;
  readonly params: GenesisParams;
  /** Sorted by validatorId ascending. */
  readonly validators: readonly GenesisValidator[];
  /** The initial outputs; output i gets the outpoint `{chainId, i}`. */
  readonly outputs: readonly Output[];
}

/** The codes genesis.ts throws: bytes that are not a canonical encoding, or a value that breaks a rule. */
type GenesisCode = Extract<ProtocolErrorCode, 'BAD_ENCODING' | 'BAD_GENESIS'>;

// --- rules -------------------------------------------------------------------

function fail(code: GenesisCode, message: string): never {
  throw new ProtocolError(code, message);
}

/** UTF-8 bytes of `s`; throws if `s` is not a string or has a lone surrogate (it would not round-trip). */
function utf8(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string') fail('BAD_GENESIS', `${what} must be a string`);
  const b = utf8Encoder.encode(s);
  if (utf8Decoder.decode(b) !== s) fail('BAD_GENESIS', `${what} is not well-formed Unicode`);
  return b;
}

function checkLen(b: Uint8Array, min: number, max: number, what: string): void {
  if (b.length < min || b.length > max) {
    fail('BAD_GENESIS', `${what} must be ${min}..${max} bytes of UTF-8`);
  }
}

function checkUint(v: unknown, min: number, max: number, what: string): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    fail('BAD_GENESIS', `${what} must be an integer in ${min}..${max}`);
  }
}

function isBytes(v: unknown, n: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length === n;
}

/** `sha256("pos/validator" ‖ pubkey)` (docs/PROTOCOL.md 2). */
export function validatorIdOf(pubkey: Uint8Array, hash: HashFn = sha256Noble): Uint8Array {
  if (!isBytes(pubkey, 32)) fail('BAD_GENESIS', 'pubkey must be 32 bytes');
  return taggedHash(VALIDATOR_TAG, pubkey, hash);
}

/** Sum of the genesis outputs: the supply the ledger conserves (docs/PROTOCOL.md 6.3). */
export function genesisSupply(g: Genesis): bigint {
  let s = 0n;
  for (const o of g.outputs) s += o.amount;
  return s;
}

/** Every rule of the format; `code` says which error a break becomes. */
function checkGenesis(g: Genesis, hash: HashFn, code: GenesisCode): void {
  try {
    if (typeof g !== 'object' || g === null) fail('BAD_GENESIS', 'genesis must be an object');
    checkLen(utf8(g.chainName, 'chainName'), 1, GENESIS_LIMITS.chainNameBytes, 'chainName');
    checkUint(g.genesisTime, 0, Number.MAX_SAFE_INTEGER, 'genesisTime');
    const p = g.params;
    if (typeof p !== 'object' || p === null) fail('BAD_GENESIS', 'params must be an object');
    checkUint(p.coinFrequency, 2, 0xffff, 'params.coinFrequency');
    if (typeof p.minFee !== 'bigint' || p.minFee < 0n || p.minFee > MAX_AMOUNT) {
      fail('BAD_GENESIS', 'params.minFee must be a u64');
    }
    checkUint(p.lag, 1, 0xffffffff, 'params.lag');
    checkUint(p.epoch, 1, 0xffffffff, 'params.epoch');
    if (typeof p.minStake !== 'bigint' || p.minStake < 1n || p.minStake > MAX_AMOUNT) {
      fail('BAD_GENESIS', 'params.minStake must be a u64 >= 1');
    }
    const vs = g.validators;
    if (!Array.isArray(vs) || vs.length < 1 || vs.length > GENESIS_LIMITS.validators) {
      fail('BAD_GENESIS', `validators: 1..${GENESIS_LIMITS.validators} required`);
    }
    let prev: Uint8Array | null = null;
    vs.forEach((v: GenesisValidator, i: number) => {
      if (typeof v !== 'object' || v === null) fail('BAD_GENESIS', `validators[${i}]: object`);
      const id = validatorIdOf(v.pubkey, hash);
      if (prev !== null && compareBytes(prev, id) >= 0) {
        fail('BAD_GENESIS', 'validators must be sorted by validatorId, without duplicates');
      }
      prev = id;
      const name = utf8(v.name, `validators[${i}].name`);
      checkLen(name, 0, GENESIS_LIMITS.validatorNameBytes, `validators[${i}].name`);
      const p2p = utf8(v.p2p, `validators[${i}].p2p`);
      checkLen(p2p, 1, GENESIS_LIMITS.p2pBytes, `validators[${i}].p2p`);
    });
    const os = g.outputs;
    if (!Array.isArray(os) || os.length < 1 || os.length > GENESIS_LIMITS.outputs) {
      fail('BAD_GENESIS', `outputs: 1..${GENESIS_LIMITS.outputs} required`);
    }
    let supply = 0n;
    os.forEach((o: Output, i: number) => {
      if (typeof o !== 'object' || o === null) fail('BAD_GENESIS', `outputs[${i}]: object`);
      if (typeof o.amount !== 'bigint' || o.amount <= 0n || o.amount > MAX_AMOUNT) {
        fail('BAD_GENESIS', `outputs[${i}].amount must be a u64 above 0`);
      }
      if (!isBytes(o.owner, 32) || !isBytes(o.host, 32)) {
        fail('BAD_GENESIS', `outputs[${i}]: owner and host must be 32 bytes`);
      }
      supply += o.amount;
    });
    if (supply > MAX_AMOUNT) fail('BAD_GENESIS', 'total supply exceeds 2^64-1');
  } catch (e) {
    if (e instanceof ProtocolError && e.code !== code) throw new ProtocolError(code, e.message);
    throw e;
  }
}

// --- binary ------------------------------------------------------------------

/** The canonical encoding. Throws `BAD_GENESIS` if `g` breaks a rule. */
export function encodeGenesis(g: Genesis, hash: HashFn = sha256Noble): Uint8Array {
  checkGenesis(g, hash, 'BAD_GENESIS');
  const w = new Writer(256 + 300 * g.validators.length + 72 * g.outputs.length);
  w.u8(GENESIS_VERSION)
    .varBytes(utf8Encoder.encode(g.chainName))
    .u64safe(g.genesisTime)
    .u16be(g.params.coinFrequency)
    .u64be(g.params.minFee)
    .u32be(g.params.lag)
    .u32be(g.params.epoch)
    .u64be(g.params.minStake)
    .u16be(g.validators.length);
  for (const v of g.validators) {
    w.bytes(v.pubkey, 32).varBytes(utf8Encoder.encode(v.name)).varBytes(utf8Encoder.encode(v.p2p));
  }
  w.u16be(g.outputs.length);
  for (const o of g.outputs) w.u64be(o.amount).bytes(o.owner, 32).bytes(o.host, 32);
  return w.finish();
}

function readString(r: Reader, min: number, max: number, what: string): string {
  const b = r.varBytes(min, max, what);
  try {
    return utf8Decoder.decode(b);
  } catch {
    return fail('BAD_ENCODING', `${what} is not UTF-8`);
  }
}

/** Decodes the canonical encoding; anything else throws `BAD_ENCODING`. */
export function decodeGenesis(bytes: Uint8Array, hash: HashFn = sha256Noble): Genesis {
  let g: Genesis;
  try {
    const r = new Reader(bytes);
    r.u8(GENESIS_VERSION, GENESIS_VERSION, 'version');
    const chainName = readString(r, 1, GENESIS_LIMITS.chainNameBytes, 'chainName');
    const genesisTime = r.u64safe(0, undefined, 'genesisTime');
    const params: GenesisParams = {
      coinFrequency: r.u16be(2, 0xffff, 'coinFrequency'),
      minFee: r.u64be(0n, undefined, 'minFee'),
      lag: r.u32be(1, undefined, 'lag'),
      epoch: r.u32be(1, undefined, 'epoch'),
      minStake: r.u64be(1n, undefined, 'minStake'),
    };
    const nV = r.u16be(1, GENESIS_LIMITS.validators, 'validator count');
    const validators: GenesisValidator[] = [];
    for (let i = 0; i < nV; i++) {
      const pubkey = r.bytes(32, 'pubkey');
      const name = readString(r, 0, GENESIS_LIMITS.validatorNameBytes, 'name');
      validators.push({ pubkey, name, p2p: readString(r, 1, GENESIS_LIMITS.p2pBytes, 'p2p') });
    }
    const nO = r.u16be(1, GENESIS_LIMITS.outputs, 'output count');
    const outputs: Output[] = [];
    for (let i = 0; i < nO; i++) {
      const amount = r.u64be(1n, undefined, 'amount');
      const owner = r.bytes(32, 'owner');
      outputs.push({ amount, owner, host: r.bytes(32, 'host') });
    }
    r.end();
    g = { chainName, genesisTime, params, validators, outputs };
  } catch (e) {
    if (e instanceof ProtocolError) fail('BAD_ENCODING', e.message);
    throw e;
  }
  checkGenesis(g, hash, 'BAD_ENCODING');
  return g;
}

/** `sha256("pos/genesis" ‖ encodeGenesis(g))`. */
export function chainIdOf(g: Genesis, hash: HashFn = sha256Noble): Uint8Array {
  return taggedHash(GENESIS_TAG, encodeGenesis(g, hash), hash);
}

/** The outpoint of genesis output `index`: `{txHash: chainId, index}`. */
export function genesisOutpoint(chainId: Uint8Array, index: number): Outpoint {
  return { txHash: chainId, index };
}

/** A validator's genesis stake. */
export interface GenesisStake {
  readonly validatorId: Uint8Array;
  readonly pubkey: Uint8Array;
  /** Sum of the genesis outputs hosted by `validatorId` (may be 0). */
  readonly stake: bigint;
}

/**
 * The genesis stake of every genesis validator, in validatorId order (the
 * order of `g.validators`). Outputs hosted by other ids count for nobody.
 */
export function genesisStakes(g: Genesis, hash: HashFn = sha256Noble): GenesisStake[] {
  checkGenesis(g, hash, 'BAD_GENESIS');
  const byId = new Map<string, bigint>();
  const key = (b: Uint8Array) => toHex(b);
  for (const o of g.outputs) byId.set(key(o.host), (byId.get(key(o.host)) ?? 0n) + o.amount);
  return g.validators.map((v) => {
    const validatorId = validatorIdOf(v.pubkey, hash);
    return { validatorId, pubkey: v.pubkey, stake: byId.get(key(validatorId)) ?? 0n };
  });
}

/** What {@link createGenesis} takes: params default per {@link defaultGenesisParams}, validators in any order. */
export interface GenesisInput {
  chainName: string;
  genesisTime: number;
  params: Partial<GenesisParams> & Pick<GenesisParams, 'minFee'>;
  validators: readonly GenesisValidator[];
  outputs: readonly Output[];
}

/**
 * Builds a valid genesis: fills the default params and sorts the validators
 * by validatorId. Throws `BAD_GENESIS` if a rule still fails (a duplicate
 * validator, say).
 */
export function createGenesis(input: GenesisInput, hash: HashFn = sha256Noble): Genesis {
  if (typeof input !== 'object' || input === null || !Array.isArray(input.validators)) {
    fail('BAD_GENESIS', 'input must be an object with validators');
  }
  const ids = input.validators.map((v) => ({ v, id: validatorIdOf(v?.pubkey, hash) }));
  ids.sort((a, b) => compareBytes(a.id, b.id));
  const g: Genesis = {
    chainName: input.chainName,
    genesisTime: input.genesisTime,
    params: { ...defaultGenesisParams, ...input.params },
    validators: ids.map((x) => x.v),
    outputs: input.outputs,
  };
  checkGenesis(g, hash, 'BAD_GENESIS');
  return g;
}

// --- JSON (docs/PROTOCOL.md 1) -------------------------------------------------

/** JSON form of a {@link Genesis}. */
export interface GenesisJSON {
  version: 2;
  chainName: string;
  genesisTime: number;
  params: { coinFrequency: number; minFee: string; lag: number; epoch: number; minStake: string };
  validators: { pubkey: string; name: string; p2p: string }[];
  outputs: OutputJSON[];
}

/** The JSON form (every param spelt out). Throws `BAD_GENESIS` if `g` breaks a rule. */
export function genesisToJSON(g: Genesis, hash: HashFn = sha256Noble): GenesisJSON {
  checkGenesis(g, hash, 'BAD_GENESIS');
  return {
    version: GENESIS_VERSION,
    chainName: g.chainName,
    genesisTime: g.genesisTime,
    params: {
      coinFrequency: g.params.coinFrequency,
      minFee: formatAmount(g.params.minFee),
      lag: g.params.lag,
      epoch: g.params.epoch,
      minStake: formatAmount(g.params.minStake),
    },
    validators: g.validators.map((v) => ({ pubkey: toHex(v.pubkey), name: v.name, p2p: v.p2p })),
    outputs: g.outputs.map((o) => ({
      amount: formatAmount(o.amount),
      owner: toHex(o.owner),
      host: toHex(o.host),
    })),
  };
}

function jsonObject(
  v: unknown,
  keys: readonly string[],
  optional: readonly string[],
  what: string,
): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail('BAD_GENESIS', `${what} must be an object`);
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) fail('BAD_GENESIS', `${what}: unknown key ${JSON.stringify(k)}`);
  }
  for (const k of keys) {
    if (!(k in o) && !optional.includes(k)) fail('BAD_GENESIS', `${what}: missing ${k}`);
  }
  return o;
}

function jsonArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) fail('BAD_GENESIS', `${what} must be an array`);
  return v;
}

/**
 * Parses the JSON form strictly: unknown keys, wrong types, non-canonical hex
 * or amounts and every rule of the binary form throw `BAD_GENESIS`. Only
 * `params.coinFrequency`, `lag`, `epoch` and `minStake` may be left out (they take the
 * design's defaults); validators must already be in validatorId order, as in
 * the binary form, so that one JSON document means one genesis.
 */
export function genesisFromJSON(json: unknown, hash: HashFn = sha256Noble): Genesis {
  try {
    const o = jsonObject(
      json,
      ['version', 'chainName', 'genesisTime', 'params', 'validators', 'outputs'],
      [],
      'genesis',
    );
    if (o.version !== GENESIS_VERSION) fail('BAD_GENESIS', `version must be ${GENESIS_VERSION}`);
    const p = jsonObject(
      o.params,
      ['coinFrequency', 'minFee', 'lag', 'epoch', 'minStake'],
      ['coinFrequency', 'lag', 'epoch', 'minStake'],
      'params',
    );
    const g: Genesis = {
      chainName: o.chainName as string,
      genesisTime: o.genesisTime as number,
      params: {
        coinFrequency: (p.coinFrequency === undefined
          ? defaultGenesisParams.coinFrequency
          : p.coinFrequency) as number,
        minFee: parseAmount(p.minFee),
        lag: (p.lag === undefined ? defaultGenesisParams.lag : p.lag) as number,
        epoch: (p.epoch === undefined ? defaultGenesisParams.epoch : p.epoch) as number,
        minStake:
          p.minStake === undefined ? defaultGenesisParams.minStake : parseAmount(p.minStake),
      },
      validators: jsonArray(o.validators, 'validators').map((v, i) => {
        const x = jsonObject(v, ['pubkey', 'name', 'p2p'], [], `validators[${i}]`);
        return { pubkey: fromHex(x.pubkey, 32), name: x.name as string, p2p: x.p2p as string };
      }),
      outputs: jsonArray(o.outputs, 'outputs').map((v, i) => {
        const x = jsonObject(v, ['amount', 'owner', 'host'], [], `outputs[${i}]`);
        return {
          amount: parseAmount(x.amount),
          owner: fromHex(x.owner, 32),
          host: fromHex(x.host, 32),
        };
      }),
    };
    checkGenesis(g, hash, 'BAD_GENESIS');
    return g;
  } catch (e) {
    if (e instanceof ProtocolError) fail('BAD_GENESIS', `${e.code}: ${e.message}`);
    throw e;
  }
}
