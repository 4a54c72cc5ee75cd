/**
 * A key's history (docs/PROTOCOL.md 6.7, 11): `pos_getHistory(key, from, to,
 * limit, height)` at a certified height. The wallet computes the key range
 * itself (`historyRange(key, from, to)`), decodes every entry itself (the
 * agent's decoded list is ignored) and checks the range proof under that
 * header's state root: an entry dropped, added (of this key or another),
 * altered or reordered fails (`BAD_PROOF`). An agent may only shorten the
 * range from below, to the newest `limit` entries, and the answer says
 * exactly which range it proves.
 *
 * @module
 */
import {
  compareBytes,
  type HashFn,
  type TrieEntry,
  type TrieRangeProof,
  toHex,
  trieRangeProofFromJSON,
  verifyTrieRange,
} from '@pos/merkle';
import {
  decodeHistoryRecord,
  fromHex,
  historyPosition,
  historyPrefix,
  historyRange,
} from '@pos/protocol';
import { type Ask, fail, obj } from '../agent.js';
import type { CertifiedHeader, HistoryOpts, VerifiedHistory } from '../types.js';
import { certifiedAt, type HeaderVerifier } from './header.js';

/** Most entries one request asks for (the agent's cap, docs/PROTOCOL.md 10.1). */
const MAX_LIMIT = 1000;

function checkOpts(key: Uint8Array, h: HistoryOpts): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) {
    fail('BAD_ARGUMENT', 'key must be a 32-byte public key');
  }
  const nat = (v: unknown) => v === undefined || (Number.isSafeInteger(v) && (v as number) >= 0);
  if (!nat(h.fromHeight) || !nat(h.toHeight)) fail('BAD_ARGUMENT', 'heights must be integers >= 0');
  const limit = h.limit;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1 && limit <= MAX_LIMIT)) {
    fail('BAD_ARGUMENT', `limit must be in 1..${MAX_LIMIT}`);
  }
}

function readEntries(v: unknown): TrieEntry[] {
  if (!Array.isArray(v)) return fail('BAD_ANSWER', 'entries must be an array');
  try {
    return v.map((x) => {
      const e = obj(x, 'entry');
      return { key: fromHex(e.key as string, 64), value: fromHex(e.value as string) };
    });
  } catch (err) {
    return fail('BAD_ANSWER', `entries: ${(err as Error).message}`);
  }
}

/**
 * The proven lower bound: the full range's, or (only when the answer holds
 * `limit` entries) the key of the oldest entry returned.
 */
function provenLow(
  r: Record<string, unknown>,
  full: Uint8Array,
  entries: TrieEntry[],
  limit: number,
) {
  let lo: Uint8Array;
  try {
    lo = fromHex(r.lo as string, 64);
  } catch {
    return fail('BAD_ANSWER', 'lo must be 64 bytes of hex');
  }
  if (compareBytes(lo, full) === 0) return lo;
  if (entries.length === limit && compareBytes(lo, entries[0]!.key) === 0) return lo;
  return fail('BAD_ANSWER', 'the proven range starts above the asked one without reason');
}

/** `key`'s transactions in [from, to], proven complete under a certified state root. */
export async function verifiedHistory(
  o: { readonly ask: Ask; readonly hash: HashFn; readonly headers: HeaderVerifier },
  key: Uint8Array,
  h: HistoryOpts = {},
  at?: CertifiedHeader,
): Promise<VerifiedHistory> {
  const { hash } = o;
  checkOpts(key, h);
  if (at !== undefined && !o.headers.returned(at)) {
    fail('BAD_ARGUMENT', 'at must be a header this client returned');
  }
  const head = at ?? (await o.headers.latest());
  const from = h.fromHeight ?? 0;
  const to = Math.min(h.toHeight ?? head.height, head.height);
  if (from > to) fail('BAD_ARGUMENT', `fromHeight ${from} is above ${to}`);
  const limit = h.limit ?? 100;
  const r = obj(
    await o.ask('pos_getHistory', (api) =>
      api.getHistory(toHex(key), from, to, limit, head.height),
    ),
    'pos_getHistory',
  );
  if (r.height !== head.height) fail('BAD_ANSWER', 'history at another height than asked');
  const full = historyRange(key, from, to, hash);
  const entries = readEntries(r.entries);
  if (entries.length > limit) fail('BAD_ANSWER', `more than ${limit} entries`);
  const lo = provenLow(r, full.lo, entries, limit);
  let proof: TrieRangeProof;
  try {
    proof = trieRangeProofFromJSON(r.proof);
  } catch (e) {
    return fail('BAD_PROOF', `proof: ${(e as Error).message}`);
  }
  if (!verifyTrieRange(head.stateRoot, lo, full.hi, entries, proof, { hash })) {
    fail(
      'BAD_PROOF',
      `the history is not all of ${toHex(key)}'s in range under the certified state root`,
    );
  }
  const prefix = historyPrefix(key, hash);
  const history = entries.map((e) => {
    const pos = historyPosition(e.key, prefix);
    if (pos === undefined)
      return fail('BAD_PROOF', 'an entry that is not a history key of this key');
    try {
      return { ...pos, ...decodeHistoryRecord(e.value) };
    } catch (err) {
      return fail('BAD_PROOF', `a malformed history record: ${(err as Error).message}`);
    }
  });
  const first = historyPosition(lo, prefix)!;
  return {
    key: key.slice(),
    history,
    provenFrom: { height: first.height, index: first.index },
    provenTo: to,
    complete: compareBytes(lo, full.lo) === 0,
    ...certifiedAt(head),
  };
}
