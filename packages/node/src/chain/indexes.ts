/**
 * The ledger's two indexes beside the UTXO set (docs/PROTOCOL.md 6.6, 6.7),
 * in the same state trie so that the state root commits to them:
 * - **names**: the rules of a name operation against the state, and the
 *   record it writes or deletes;
 * - **key history**: one entry per (key, transaction) that touched the key,
 *   under the key's history prefix in (height, index) order.
 *
 * @module
 */
import {
  bytesKey,
  type HashFn,
  MerkleError,
  type RangeProof,
  type TrieOp,
  type TrieReader,
} from '@pos/merkle';
import {
  decodeNameRecord,
  encodeHistoryRecord,
  encodeNameRecord,
  HISTORY_ROLES,
  type HistoryRole,
  historyKeyOf,
  historyPrefix,
  isCoded,
  type NameOp,
  type NameRecord,
  nameKey,
  nameProblem,
  type RejectReason,
} from '@pos/protocol';
import { LedgerError } from './ledger-error.js';

/** Keys a transaction touched, by `bytesKey(pubkey)` (one char a byte: string order is byte order), with their role bits. */
export type Touched = Map<string, { pubkey: Uint8Array; bits: number }>;

/** Notes that `pubkey` took part in the transaction as `role`. */
export function touch(t: Touched, pubkey: Uint8Array, role: HistoryRole): void {
  const k = bytesKey(pubkey);
  const e = t.get(k);
  if (e) e.bits |= HISTORY_ROLES[role];
  else t.set(k, { pubkey, bits: HISTORY_ROLES[role] });
}

const ROLE_ORDER = Object.keys(HISTORY_ROLES) as HistoryRole[];

/**
 * The history entries of one transaction (docs/PROTOCOL.md 6.7), one per
 * touched key, in a fixed order (by key bytes) so that every node writes the
 * same ops.
 */
export function historyOps(
  t: Touched,
  at: { height: number; index: number; txHash: Uint8Array; reason?: RejectReason },
  hash: HashFn,
): TrieOp[] {
  const ops: TrieOp[] = [];
  const keys = [...t.keys()].sort();
  for (const k of keys) {
    const { pubkey, bits } = t.get(k)!;
    const roles = ROLE_ORDER.filter((r) => (bits & HISTORY_ROLES[r]) !== 0);
    const value = encodeHistoryRecord(
      at.reason === undefined
        ? { roles, status: 'committed', txHash: at.txHash }
        : { roles, status: 'rejected', reason: at.reason, txHash: at.txHash },
    );
    ops.push({
      type: 'put',
      key: historyKeyOf(historyPrefix(pubkey, hash), at.height, at.index),
      value,
    });
  }
  return ops;
}

/** A name fee: registering a name costs this many times the chain's `minFee` (docs/PROTOCOL.md 6.6). */
export const NAME_FEE_FACTOR = 100n;

/** What a name operation needs before its signatures are checked, or why it is refused. */
export type NameVerdict =
  | { ok: false; reason: RejectReason }
  | {
      ok: true;
      /** The key whose signature the operation needs (the new owner, or the current one). */
      signer: Uint8Array;
      /** The write: the new record, or the delete of a released one. */
      op: TrieOp;
      /** The keys the operation touched (for their history). */
      parties: Uint8Array[];
    };

/** The record of `name` in `state`, if any. */
export async function readName(
  state: Pick<TrieReader, 'get'>,
  name: string,
  hash: HashFn,
): Promise<NameRecord | undefined> {
  const bytes = await state.get(nameKey(name, hash));
  if (bytes === undefined) return undefined;
  try {
    return decodeNameRecord(bytes);
  } catch (e) {
    throw new LedgerError('CORRUPT_STATE', 'a malformed name record', { cause: e });
  }
}

/**
 * The name rules of docs/PROTOCOL.md 6.6, in order: the name rule
 * (`BAD_NAME`), not reserved (`NAME_RESERVED`); `register`: the name is free
 * (`NAME_TAKEN`); `transfer` and `release`: the name exists (else
 * `NOT_NAME_OWNER`, as there is no owner to sign). The caller then requires
 * the returned signer's signature.
 */
export async function judgeName(
  n: NameOp,
  state: Pick<TrieReader, 'get'>,
  height: number,
  hash: HashFn,
): Promise<NameVerdict> {
  const problem = nameProblem(n.name);
  if (problem !== null) return { ok: false, reason: problem };
  const key = nameKey(n.name, hash);
  const current = await readName(state, n.name, hash);
  if (n.op === 'register') {
    if (current !== undefined) return { ok: false, reason: 'NAME_TAKEN' };
    const owner = n.owner!;
    const value = encodeNameRecord({ name: n.name, owner, sinceHeight: height });
    return { ok: true, signer: owner, op: { type: 'put', key, value }, parties: [owner] };
  }
  if (current === undefined) return { ok: false, reason: 'NOT_NAME_OWNER' };
  if (n.op === 'release') {
    return { ok: true, signer: current.owner, op: { type: 'del', key }, parties: [current.owner] };
  }
  const owner = n.owner!;
  const value = encodeNameRecord({ name: n.name, owner, sinceHeight: height });
  return {
    ok: true,
    signer: current.owner,
    op: { type: 'put', key, value },
    parties: [current.owner, owner],
  };
}

/** The range proof of [lo, hi] if it holds at most `cap` entries, else null (the walk stops past `cap`). */
async function fits(
  reader: Pick<TrieReader, 'proveRange'>,
  lo: Uint8Array,
  hi: Uint8Array,
  cap: number,
): Promise<RangeProof | null> {
  try {
    return await reader.proveRange(lo, hi, { maxEntries: cap });
  } catch (e) {
    if (isCoded(e, MerkleError, ['OUT_OF_RANGE'])) return null;
    throw e;
  }
}

/**
 * The lowest height m in [from, to] such that heights [m, to] hold at most
 * `limit` of a key's history entries, with the proof of the whole range when
 * it all fits (m = from; no second walk). Searched down from `to` by
 * doubling steps, then halving: each probe walks at most `limit` entries, so
 * finding the newest `limit` of a long history costs about 2·log2(to − from)
 * small walks, not a walk of the whole range.
 */
export async function newestStart(
  reader: Pick<TrieReader, 'proveRange'>,
  loOf: (height: number) => Uint8Array,
  hi: Uint8Array,
  range: { from: number; to: number; limit: number },
): Promise<{ start: number; whole: RangeProof | null }> {
  const { from, to, limit } = range;
  const whole = await fits(reader, loOf(from), hi, limit);
  if (whole !== null) return { start: from, whole };
  let bad = from; // [bad, to] holds more than limit
  let good = to + 1; // [good, to] is empty
  for (let step = 1; good - step > bad; step *= 2) {
    const m = good - step;
    if ((await fits(reader, loOf(m), hi, limit)) === null) {
      bad = m;
      break;
    }
    good = m;
  }
  while (good - bad > 1) {
    const mid = Math.floor((bad + good) / 2);
    if ((await fits(reader, loOf(mid), hi, limit)) !== null) good = mid;
    else bad = mid;
  }
  return { start: good, whole: null };
}
