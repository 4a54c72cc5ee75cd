/**
 * Following validator-set changes (docs/PROTOCOL.md 6.5, 11.1). The trust
 * anchor is the table of one epoch (genesis: epoch 0). The table of epoch
 * k >= 1 is committed in the state trie at `epochTableKey(k)` by the first
 * block at or after its snapshot round; the client learns it from
 * `pos_getValidators(k)` only with a proof: a header of height in
 * `[snapshotRound(k), firstRound(k))`, certified by the already verified
 * table of that height's epoch (always < k, since LAG >= 1), whose state
 * root includes `epochTableKey(k) ↦ encodeValidatorSet(table)`. Tables are
 * verified one epoch after another from the anchor, kept for the client's
 * lifetime, and fetched once even by concurrent callers (a failed fetch is
 * forgotten, so a retry asks again). Cost: one RPC, one certificate check
 * and one trie proof per epoch between the anchor and the height asked for;
 * a height more than `maxEpochWalk` epochs past the last verified one is
 * refused (`UNKNOWN_SET`) before any request, so an agent naming an absurd
 * height costs nothing.
 *
 * @module
 */
import { type HashFn, toHex } from '@pos/merkle';
import {
  type EpochParams,
  firstRoundOf,
  lastRoundOf,
  makeValidatorSet,
  snapshotRoundOf,
  type Validator,
  type ValidatorSet,
  validatorIdOfKey,
  validatorSetHash,
} from '@pos/protocol';
import { type Ask, fail } from '../agent.js';
import { WalletError } from '../errors.js';
import type { TableProvenance, VerifiedValidatorSet, WalletTrust } from '../types.js';
import { type Labels, readTableAnswer, verifyTableAnswer } from './table-proof.js';

/** What the book of tables needs. */
export interface TableBookOpts {
  readonly ask: Ask;
  readonly hash: HashFn;
  readonly params: EpochParams;
  readonly chainId: Uint8Array;
  readonly trust: WalletTrust;
  readonly anchorEpoch: number;
  readonly maxEpochWalk: number;
}

/** The verified tables, epoch by epoch from the anchor. */
export interface TableBook {
  /** The verified table of `epoch`, verifying every missing one before it in order. */
  table(epoch: number): Promise<VerifiedValidatorSet>;
  /**
   * The verified table of the highest epoch at or below `atMost` (default:
   * any): the anchor's when none past it is verified yet.
   */
  latest(atMost?: number): VerifiedValidatorSet;
}

/** A {@link VerifiedValidatorSet} of `set`. */
export function tableOf(
  epoch: number,
  set: ValidatorSet,
  provenance: TableProvenance,
  labels: ReadonlyMap<string, { name: string; endpoint: string }>,
  params: EpochParams,
  hash: HashFn,
): VerifiedValidatorSet {
  return {
    validators: set.validators,
    epoch,
    firstRound: firstRoundOf(epoch, params),
    lastRound: lastRoundOf(epoch, params),
    snapshotRound: snapshotRoundOf(epoch, params),
    totalStake: set.validators.reduce((a, v) => a + v.stake, 0n),
    validatorSetHash: validatorSetHash(set, hash),
    provenance,
    labels,
  };
}

/** The anchor's own table: copies, so the caller's later edits of `trust` change nothing. */
function anchorTable(o: TableBookOpts): VerifiedValidatorSet {
  const { trust, hash } = o;
  const set = makeValidatorSet(
    trust.validators.map((v) => ({ publicKey: v.publicKey.slice(), stake: v.stake })),
    hash,
  );
  const labels: Labels = new Map();
  for (const v of trust.validators) {
    if (typeof v.name === 'string' || typeof v.endpoint === 'string') {
      labels.set(toHex(validatorIdOfKey(v.publicKey, hash)), {
        name: v.name ?? '',
        endpoint: v.endpoint ?? '',
      });
    }
  }
  return tableOf(o.anchorEpoch, set, { kind: 'anchor' }, labels, o.params, hash);
}

/** The book of `o.trust`'s tables, holding the anchor's. */
export function createTableBook(o: TableBookOpts): TableBook {
  const { anchorEpoch, maxEpochWalk } = o;
  /** Verified tables: every epoch from the anchor's to `verifiedUpTo`, no gaps. */
  const tables = new Map<number, VerifiedValidatorSet>([[anchorEpoch, anchorTable(o)]]);
  let verifiedUpTo = anchorEpoch;
  /** Fetches under way, shared by concurrent callers; dropped when they fail. */
  const inFlight = new Map<number, Promise<VerifiedValidatorSet>>();

  async function table(epoch: number): Promise<VerifiedValidatorSet> {
    const have = tables.get(epoch);
    if (have !== undefined) return have;
    if (epoch < anchorEpoch) {
      fail(
        'UNKNOWN_SET',
        `epoch ${epoch} precedes the trust anchor's epoch ${anchorEpoch}: its table is not trusted`,
      );
    }
    if (epoch - verifiedUpTo > maxEpochWalk) {
      fail(
        'UNKNOWN_SET',
        `epoch ${epoch} is ${epoch - verifiedUpTo} epochs past the last verified table ` +
          `(${verifiedUpTo}); at most ${maxEpochWalk} are followed in one call: pin a later checkpoint`,
      );
    }
    for (let j = verifiedUpTo + 1; j <= epoch; j++) await step(j);
    return tables.get(epoch)!;
  }

  /** Verifies epoch `j`'s table, every earlier one being verified; one fetch at a time per epoch. */
  function step(j: number): Promise<VerifiedValidatorSet> {
    const have = tables.get(j);
    if (have !== undefined) return Promise.resolve(have);
    let p = inFlight.get(j);
    if (p === undefined) {
      p = fetchTable(j).then(
        (t) => {
          tables.set(j, t);
          if (j > verifiedUpTo) verifiedUpTo = j;
          inFlight.delete(j);
          return t;
        },
        (e: unknown) => {
          inFlight.delete(j);
          throw e;
        },
      );
      inFlight.set(j, p);
    }
    return p;
  }

  /**
   * `pos_getValidators(j)`, accepted only with its proof (module comment);
   * the table of every epoch before `j` is verified.
   */
  async function fetchTable(j: number): Promise<VerifiedValidatorSet> {
    let raw: unknown;
    try {
      raw = await o.ask('pos_getValidators', (api) => api.getValidators(j));
    } catch (e) {
      // The agent does not know the epoch (yet): nothing to verify.
      if (e instanceof WalletError && e.code === 'AGENT_ERROR') {
        fail('UNKNOWN_SET', `the agent gives no table of epoch ${j}: ${e.message}`);
      }
      throw e;
    }
    const answer = readTableAnswer(j, raw, o.params);
    const v = verifyTableAnswer(j, answer, { ...o, tables });
    return tableOf(j, v.set, v.provenance, v.labels, o.params, o.hash);
  }

  return {
    table,
    latest: (atMost = Number.POSITIVE_INFINITY) =>
      tables.get(Math.max(anchorEpoch, Math.min(verifiedUpTo, atMost)))!,
  };
}

/** A copy of a cached table: a caller's edits must not reach the cache. */
export function copyTable(t: VerifiedValidatorSet): VerifiedValidatorSet {
  const validators: Validator[] = t.validators.map((v) => ({
    validatorId: v.validatorId.slice(),
    publicKey: v.publicKey.slice(),
    stake: v.stake,
  }));
  const p = t.provenance;
  return {
    ...t,
    validators,
    validatorSetHash: t.validatorSetHash.slice(),
    provenance:
      p.kind === 'anchor'
        ? p
        : { ...p, blockHash: p.blockHash.slice(), stateRoot: p.stateRoot.slice() },
    labels: new Map(t.labels),
  };
}
