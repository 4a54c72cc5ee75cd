/**
 * The indexes beside the UTXO set: `pos_getHistory`, every transaction of a
 * key in a height range with the range proof that none is left out or added
 * (docs/PROTOCOL.md 6.7), and `pos_resolveName`, a name's owner with its
 * inclusion proof, or the exclusion proof of a free name (docs/PROTOCOL.md
 * 6.6). Both answer from a state (`height`) that the wallet checks against a
 * certified header.
 *
 * @module
 */
import type { TrieProofJSON, TrieRangeProofJSON } from '@pos/merkle';
import { defineMethod, errorDef, result } from '../method.js';
import { hashParam, optional, required, stringParam, uintParam } from '../params.js';
import { arrayOf, HASH32, hexSchema, nullable, object, ref, UINT } from '../schema.js';

/** Most entries one `pos_getHistory` answer holds. */
export const MAX_HISTORY_LIMIT = 1_000;
/** Entries a `pos_getHistory` answer holds when no `limit` is given. */
export const DEFAULT_HISTORY_LIMIT = 100;

/** One transaction of a key's history as `pos_getHistory` lists it. */
export interface HistoryEntryJSON {
  height: number;
  index: number;
  roles: ('input' | 'output' | 'registered' | 'name')[];
  status: 'committed' | 'rejected';
  reason?: string;
  txHash: string;
}

/** What `pos_getHistory` answers. */
export interface HistoryResult {
  key: string;
  /** The block the state is of; null for the genesis state. */
  height: number | null;
  stateRoot: string;
  /** The proven key range: every entry of the key between them is in `entries`. */
  lo: string;
  hi: string;
  entries: { key: string; value: string }[];
  proof: TrieRangeProofJSON;
  /** The same entries, decoded, oldest first. */
  history: HistoryEntryJSON[];
}

/** `pos_getHistory`: every transaction that touched a key in a height range, proven complete. */
export const POS_GET_HISTORY = defineMethod({
  name: 'pos_getHistory',
  summary:
    'Every transaction that touched a key (spent from it, paid it, registered it, moved its name) in a height range, with the state trie range proof that none is left out or added; the newest `limit` when there are more.',
  params: [
    required(hashParam('key', 'a 32-byte public key')),
    optional(uintParam('from', 'lowest block height (default 0)')),
    optional(uintParam('to', 'highest block height (default: the state height)')),
    optional(
      uintParam(
        'limit',
        `most entries, the newest kept (default ${DEFAULT_HISTORY_LIMIT}, at most ${MAX_HISTORY_LIMIT})`,
      ),
    ),
    optional(uintParam('height', 'the state to answer from (default: the latest block)')),
  ],
  result: result<HistoryResult>(
    'history',
    object({
      key: HASH32,
      height: nullable(UINT),
      stateRoot: HASH32,
      lo: hexSchema(64),
      hi: hexSchema(64),
      entries: arrayOf(object({ key: hexSchema(64), value: hexSchema() })),
      proof: ref('TrieRangeProof'),
      history: arrayOf(
        object(
          {
            height: UINT,
            index: UINT,
            roles: arrayOf({ enum: ['input', 'output', 'registered', 'name'] }),
            status: { enum: ['committed', 'rejected'] },
            reason: { type: 'string' },
            txHash: HASH32,
          },
          ['reason'],
        ),
      ),
    }),
  ),
  errors: [
    errorDef(
      'NOT_FOUND',
      'a height above the latest block, a height with no block, or state no longer kept',
    ),
    errorDef('LIMIT_EXCEEDED', 'the range holds too many entries to find the newest ones'),
  ],
});

/** What `pos_resolveName` answers. */
export interface NameResult {
  name: string;
  height: number | null;
  stateRoot: string;
  /** The owner's key, or null when the name is free. */
  owner: string | null;
  /** The height at which the owner got it (null when free). */
  sinceHeight: number | null;
  /** Inclusion proof of the name's record, or exclusion proof of its key. */
  proof: TrieProofJSON;
}

/** `pos_resolveName`: who owns a name, or that nobody does, with the proof. */
export const POS_RESOLVE_NAME = defineMethod({
  name: 'pos_resolveName',
  summary:
    "A name's owner with the inclusion proof of its record, or the exclusion proof of a free name (docs/PROTOCOL.md 6.6).",
  params: [
    required(stringParam('name', 'a name (2-32 of a-z 0-9 - _)', 64)),
    optional(uintParam('height', 'a block height (default: the latest block)')),
  ],
  result: result<NameResult>(
    'name',
    object({
      name: { type: 'string' },
      height: nullable(UINT),
      stateRoot: HASH32,
      owner: nullable(HASH32),
      sinceHeight: nullable(UINT),
      proof: ref('TrieProof'),
    }),
  ),
  errors: [
    errorDef(
      'NOT_FOUND',
      'a height above the latest block, a height with no block, or state no longer kept',
    ),
  ],
});
