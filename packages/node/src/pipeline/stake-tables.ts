/**
 * Which validator set applies where (docs/PROTOCOL.md 5.9, 6.5): epoch k's
 * set, the engine's stake array for a round, the members that sign the next
 * block. A set is the committed table once a block wrote it; before that,
 * once the engine decided the epoch's snapshot round and every block it
 * handed out is applied, the table the committed state gives (the rounds
 * after the snapshot had no block yet, so no block wrote it).
 */
import { toHex } from '@pos/merkle';
import {
  epochOfRound,
  type GenesisParams,
  snapshotRoundOf,
  type ValidatorSet,
} from '@pos/protocol';
import type { Ledger } from '../chain/ledger.js';
import type { ValidatorIndex } from './dag.js';

/** What {@link createStakeTables} reads. */
export interface StakeTablesDeps {
  readonly params: Pick<GenesisParams, 'lag' | 'epoch'>;
  readonly ledger: Pick<Ledger, 'epochTable' | 'previewTable' | 'height'>;
  readonly index: Pick<ValidatorIndex, 'ids' | 'indexOf'>;
  /** The engine's last decided round (the engine is created after this module). */
  decidedRound(): number;
  /** Height of the last applied block (-1 before the first). */
  appliedHeight(): number;
}

/** Validator sets by epoch, as the node knows them now. */
export interface StakeTables {
  /** Epoch k's set, or undefined while it cannot be known. */
  setOf(k: number): ValidatorSet | undefined;
  /** The set of the epoch of `round`. */
  setOfRound(round: number): ValidatorSet | undefined;
  /** Stakes by engine index for `round` (the same array each time), for the engine. */
  stakeTable(round: number): readonly bigint[] | undefined;
  /** Hex public keys of the set of `round` (cached per epoch). */
  memberKeys(round: number): ReadonlySet<string>;
  /** The stake of `publicKey` in `set` (0 if absent or unknown). */
  stakeIn(set: ValidatorSet | undefined, publicKey: Uint8Array): bigint;
  /** The engine handed out a block of `round` (applied or queued). */
  noteEmitted(round: number): void;
  /**
   * A block committed epoch `k`'s table: forgets its preview, and returns
   * false if the preview consensus used differs from the committed table.
   */
  committed(k: number, setHash: Uint8Array, hashOf: (s: ValidatorSet) => Uint8Array): boolean;
}

/** Creates the tables over the committed ledger. */
export function createStakeTables(deps: StakeTablesDeps): StakeTables {
  const { params, ledger, index } = deps;
  /** Highest round of a block the engine has handed out (applied or queued). */
  let lastEmittedRound = -1;
  /** Sets the committed state does not hold yet, computed once. */
  const previews = new Map<number, ValidatorSet>();
  const arrays = new Map<number, readonly bigint[]>();
  let members: { epoch: number; keys: Set<string> } | null = null;

  function setOf(k: number): ValidatorSet | undefined {
    const t = ledger.epochTable(k);
    if (t !== undefined) return t.set;
    const cached = previews.get(k);
    if (cached !== undefined) return cached;
    const snap = snapshotRoundOf(k, params);
    if (snap === null || deps.decidedRound() < snap) return undefined;
    if (lastEmittedRound > deps.appliedHeight()) return undefined;
    const set = ledger.previewTable();
    previews.set(k, set);
    return set;
  }

  function stakeTable(round: number): readonly bigint[] | undefined {
    const k = epochOfRound(round, params);
    const known = arrays.get(k);
    if (known !== undefined) return known;
    const set = setOf(k);
    if (set === undefined) return undefined;
    const arr: bigint[] = new Array(index.ids.length).fill(0n);
    for (const v of set.validators) {
      const i = index.indexOf(v.publicKey);
      // Registered by a block whose application is still running: wait for it.
      if (i === undefined) return undefined;
      arr[i] = v.stake;
    }
    arrays.set(k, arr);
    return arr;
  }

  function memberKeys(round: number): ReadonlySet<string> {
    const epoch = epochOfRound(round, params);
    if (members?.epoch === epoch) return members.keys;
    const set = setOf(epoch);
    const keys = new Set(set?.validators.map((v) => toHex(v.publicKey)) ?? []);
    if (set !== undefined) members = { epoch, keys };
    return keys;
  }

  function stakeIn(set: ValidatorSet | undefined, publicKey: Uint8Array): bigint {
    if (set === undefined) return 0n;
    const k = toHex(publicKey);
    for (const v of set.validators) if (toHex(v.publicKey) === k) return v.stake;
    return 0n;
  }

  return {
    setOf,
    setOfRound: (round) => setOf(epochOfRound(round, params)),
    stakeTable,
    memberKeys,
    stakeIn,
    noteEmitted(round) {
      if (round > lastEmittedRound) lastEmittedRound = round;
    },
    committed(k, setHash, hashOf) {
      const preview = previews.get(k);
      previews.delete(k);
      return preview === undefined || toHex(hashOf(preview)) === toHex(setHash);
    },
  };
}
