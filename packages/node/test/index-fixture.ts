// Shared by the ledger, registration, name and history suites (not a suite
// itself): the state entries of the two indexes (docs/PROTOCOL.md 6.6, 6.7)
// written again from the specification, independently of @pos/protocol's
// encoders; the whole state of a root read back from a ledger's store; the
// root of a given set of entries; and a transaction builder that can carry
// a name operation or a registration.
import { createStateTrie, type KVStore, type TrieEntry, taggedHash } from '@pos/merkle';
import {
  encodeTx,
  type NameOp,
  type Outpoint,
  type Output,
  REJECT_REASONS,
  type Receipt,
  type Registration,
  type SignedTx,
  signTx,
  type TxBody,
  txHashOf,
} from '@pos/protocol';
import { hex } from '@pos/test-utils/node-hash';
import * as assert from 'uvu/assert';
import type { Ledger } from '../src/chain/ledger.js';
import { type Key, signer } from './epoch-fixture.js';

/** A role of a history entry (docs/PROTOCOL.md 6.7). */
export type Role = 'input' | 'output' | 'registered' | 'name';
const ROLE_BITS: Record<Role, number> = { input: 1, output: 2, registered: 4, name: 8 };
/** The roles in bit order, as a decoded record lists them. */
export const ROLE_ORDER: readonly Role[] = ['input', 'output', 'registered', 'name'];

/** `taggedHash("pos/history", pubkey) ‖ u64 height ‖ u32 index ‖ 0^19 ‖ 0x04`. */
export function historyKey(pubkey: Uint8Array, height: number, index: number): Uint8Array {
  const key = new Uint8Array(64);
  key.set(taggedHash('pos/history', pubkey), 0);
  const view = new DataView(key.buffer);
  view.setBigUint64(32, BigInt(height));
  view.setUint32(40, index);
  key[63] = 4;
  return key;
}

/**
 * A key history entry as docs/PROTOCOL.md 6.7 lays it out: key
 * {@link historyKey}, value `0x01 ‖ u8 roles ‖ u8 status ‖ u8 reason ‖
 * txHash`, reason the index of the receipt's reason in REJECT_REASONS + 1.
 */
export function historyEntry(
  pubkey: Uint8Array,
  height: number,
  index: number,
  roles: readonly Role[],
  r: Pick<Receipt, 'status' | 'reason' | 'txHash'>,
): TrieEntry {
  const bits = roles.reduce((b, role) => b | ROLE_BITS[role], 0);
  const rejected = r.status === 'rejected';
  const code = rejected ? REJECT_REASONS.indexOf(r.reason!) + 1 : 0;
  assert.ok(!rejected || code > 0, `unknown reason ${r.reason}`);
  const value = new Uint8Array(36);
  value.set([1, bits, rejected ? 1 : 0, code], 0);
  value.set(r.txHash, 4);
  return { key: historyKey(pubkey, height, index), value };
}

/** `taggedHash("pos/name", utf8(name)) ‖ 0^31 ‖ 0x03`. */
export function nameKeyOf(name: string): Uint8Array {
  const key = new Uint8Array(64);
  key.set(taggedHash('pos/name', new TextEncoder().encode(name)), 0);
  key[63] = 3;
  return key;
}

/** `0x01 ‖ owner ‖ u64 sinceHeight ‖ u8 length ‖ name` (docs/PROTOCOL.md 6.6). */
export function nameValueOf(name: string, owner: Uint8Array, sinceHeight: number): Uint8Array {
  const n = new TextEncoder().encode(name);
  const v = new Uint8Array(42 + n.length);
  v[0] = 1;
  v.set(owner, 1);
  new DataView(v.buffer).setBigUint64(33, BigInt(sinceHeight));
  v[41] = n.length;
  v.set(n, 42);
  return v;
}

/** Every entry of the state with `root`, read from the ledger's own store. */
export async function stateEntries(store: KVStore, root: Uint8Array): Promise<TrieEntry[]> {
  const trie = await createStateTrie({ keyBytes: 64, store });
  return (await trie.at(root).provePrefix(new Uint8Array(0))).entries;
}

/** The root of a fresh trie holding exactly `entries`. */
export async function rootOf(entries: readonly TrieEntry[]): Promise<Uint8Array> {
  const trie = await createStateTrie({ keyBytes: 64 });
  await trie.apply(entries.map((e) => ({ type: 'put' as const, key: e.key, value: e.value })));
  return (await trie.commit()).root;
}

/** `[hex key, hex value]` pairs, for comparing entry lists. */
export const entryHex = (es: readonly TrieEntry[]): [string, string][] =>
  es.map((e) => [hex(e.key), hex(e.value)]);

/** A signed transaction with its bytes and id. */
export interface Built {
  bytes: Uint8Array;
  hash: Uint8Array;
  tx: SignedTx;
}

/**
 * A transaction of `chainId` spending `inputs` into `outputs`, signed by
 * exactly `signers` (in any order), with a name operation or a registration.
 */
export function buildTx(
  chainId: Uint8Array,
  inputs: Outpoint[],
  outputs: Output[],
  signers: readonly Key[],
  opts: { fee: bigint; name?: NameOp; register?: Registration; memo?: Uint8Array },
): Built {
  const body: TxBody = {
    chainId,
    inputs,
    outputs,
    fee: opts.fee,
    memo: opts.memo ?? new Uint8Array(0),
    ...(opts.name === undefined ? {} : { name: opts.name }),
    ...(opts.register === undefined ? {} : { register: opts.register }),
  };
  const tx = signTx(
    body,
    signers.map((k) => k.sk),
    signer,
  );
  return { bytes: encodeTx(tx), hash: txHashOf(body), tx };
}

/** A receipt's outcome: `committed` or its reason. */
export const outcome = (r: Receipt): string => (r.status === 'committed' ? 'committed' : r.reason!);

/** Applies and commits one block; the committed root is the applied one. */
export async function commitBlock(l: Ledger, height: number, txs: readonly Uint8Array[]) {
  const r = await l.applyBlock(height, txs);
  const c = await l.commit(height);
  assert.is(hex(c.stateRoot), hex(r.stateRoot));
  return r;
}
