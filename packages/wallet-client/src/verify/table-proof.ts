/**
 * One epoch's table as `pos_getValidators(j)` answers it, read and then
 * verified against the tables already verified (docs/PROTOCOL.md 6.5, 11.1;
 * the walk from the anchor is ./validator-sets.ts). Every check fails closed
 * with a typed `WalletError`, in the order a forged answer is cheapest to
 * refuse.
 *
 * @module
 */
import {
  equalBytes,
  type HashFn,
  toHex,
  trieProofFromJSON,
  verifyTrieInclusion,
} from '@pos/merkle';
import {
  type BlockHeader,
  blockHashOf,
  blockHeaderFromJSON,
  certificateFromJSON,
  decodeValidatorSet,
  type EpochParams,
  epochOfRound,
  epochTableKey,
  type FinalityCertificate,
  firstRoundOf,
  fromHex,
  lastRoundOf,
  parseAmount,
  snapshotRoundOf,
  type ValidatorSet,
  validatorSetHash,
  verifyCertificate,
} from '@pos/protocol';
import { fail, obj } from '../agent.js';
import type { TableProvenance, VerifiedValidatorSet } from '../types.js';

/** Display labels by validatorId (hex). */
export type Labels = Map<string, { name: string; endpoint: string }>;

/** What the agent said about epoch `j`'s table, parsed but not verified. */
export interface TableAnswer {
  readonly snapshot: number;
  readonly first: number;
  readonly height: number;
  readonly header: BlockHeader;
  readonly cert: FinalityCertificate;
  readonly encoded: Uint8Array;
  readonly claimedHash: Uint8Array;
  readonly key: Uint8Array;
  readonly trieProof: unknown;
  readonly listed: readonly { validatorId: string; publicKey: string; stake: string }[];
  readonly totalStake: string;
  readonly labels: Labels;
}

/** Reads the answer: its shape, its rounds, its proof's fields (`BAD_ANSWER`, `UNKNOWN_SET`). */
export function readTableAnswer(j: number, raw: unknown, params: EpochParams): TableAnswer {
  const r = obj(raw, 'pos_getValidators');
  if (r.epoch !== j) fail('BAD_ANSWER', `asked for epoch ${j}'s table, got ${String(r.epoch)}`);
  const snapshot = snapshotRoundOf(j, params)!;
  const first = firstRoundOf(j, params);
  if (
    r.snapshotRound !== snapshot ||
    r.firstRound !== first ||
    r.lastRound !== lastRoundOf(j, params)
  ) {
    fail('BAD_ANSWER', `epoch ${j}'s rounds are not those of the trusted genesis parameters`);
  }
  if (r.proof === null || r.proof === undefined) {
    fail('UNKNOWN_SET', `the agent cannot prove epoch ${j}'s table (yet): no proof`);
  }
  const pr = obj(r.proof, 'proof');
  let parsed: Omit<TableAnswer, 'snapshot' | 'first' | 'height' | 'trieProof'>;
  try {
    parsed = {
      header: blockHeaderFromJSON(pr.header),
      cert: certificateFromJSON(pr.certificate),
      encoded: fromHex(r.encoded),
      claimedHash: fromHex(r.validatorSetHash, 32),
      key: fromHex(pr.key),
      ...readListed(r.validators),
      totalStake: readTotal(r.totalStake),
    };
  } catch (e) {
    return fail('BAD_ANSWER', `epoch ${j}'s table: ${(e as Error).message}`);
  }
  const height = pr.height;
  if (!Number.isSafeInteger(height)) fail('BAD_ANSWER', 'proof.height must be an integer');
  return { ...parsed, snapshot, first, height: height as number, trieProof: pr.trieProof };
}

function readListed(validators: unknown): Pick<TableAnswer, 'listed' | 'labels'> {
  const listed: { validatorId: string; publicKey: string; stake: string }[] = [];
  const labels: Labels = new Map();
  if (!Array.isArray(validators)) throw new Error('validators must be an array');
  for (const x of validators as unknown[]) {
    const v = obj(x, 'validator');
    const id = toHex(fromHex(v.validatorId, 32));
    listed.push({
      validatorId: id,
      publicKey: toHex(fromHex(v.publicKey, 32)),
      stake: parseAmount(v.stake).toString(),
    });
    if (typeof v.name !== 'string' || typeof v.endpoint !== 'string') {
      throw new Error('validator name and endpoint must be strings');
    }
    labels.set(id, { name: v.name, endpoint: v.endpoint });
  }
  return { listed, labels };
}

function readTotal(totalStake: unknown): string {
  if (typeof totalStake !== 'string') throw new Error('totalStake must be a decimal string');
  return totalStake;
}

/** What the verification needs besides the answer. */
export interface TableCheckOpts {
  readonly hash: HashFn;
  readonly params: EpochParams;
  readonly chainId: Uint8Array;
  /** Every table verified so far, by epoch. */
  readonly tables: ReadonlyMap<number, VerifiedValidatorSet>;
}

/** A verified table: the committed set, how it was proven, and the agent's labels for it. */
export interface VerifiedTable {
  readonly set: ValidatorSet;
  readonly provenance: TableProvenance;
  readonly labels: Labels;
}

/**
 * Verifies the answer: the proof header is certified by the table of its
 * epoch, its state root includes the table, the listed table is the proven
 * one, and the header commits to the next round's verified table.
 */
export function verifyTableAnswer(j: number, a: TableAnswer, o: TableCheckOpts): VerifiedTable {
  const certified = verifyProofHeader(j, a, o);
  const set = verifyCommitted(j, a, o);
  const labels = checkListed(j, a, set);
  // The header also commits to the table of the round after it: epoch j's
  // own (the window's last height) or one verified before.
  const next = epochOfRound(a.height + 1, o.params);
  const setHash = validatorSetHash(set, o.hash);
  const nextHash = next === j ? setHash : o.tables.get(next)?.validatorSetHash;
  if (nextHash === undefined || !equalBytes(a.header.validatorSetHash, nextHash)) {
    fail(
      'UNKNOWN_SET',
      `the proof header ${a.height} commits to a validator set that is not epoch ${next}'s table`,
    );
  }
  return {
    set,
    labels,
    provenance: {
      kind: 'proof',
      height: a.height,
      blockHash: blockHashOf(a.header, o.hash),
      stateRoot: a.header.stateRoot,
      ...certified,
    },
  };
}

/** The proof header: in the window, of the trusted chain, certified by its epoch's table. */
function verifyProofHeader(j: number, a: TableAnswer, o: TableCheckOpts) {
  const h = a.height;
  // The window: after the snapshot (so the table is in the state), before
  // the epoch starts (so an older table certified the header).
  if (h < a.snapshot || h >= a.first) {
    fail(
      'BAD_PROOF',
      `epoch ${j}'s table must be proven under a header of height ${a.snapshot}..${a.first - 1}, not ${h}`,
    );
  }
  if (a.header.height !== h)
    fail('BAD_PROOF', `proof.height ${h} but a header of ${a.header.height}`);
  if (!equalBytes(a.header.chainId, o.chainId)) {
    fail('WRONG_CHAIN', `epoch ${j}'s proof header is of chain ${toHex(a.header.chainId)}`);
  }
  const by = epochOfRound(h, o.params);
  const certifier = o.tables.get(by);
  if (certifier === undefined) {
    // Only before a pinned checkpoint: every epoch from it to j - 1 is verified.
    fail('UNKNOWN_SET', `the proof header ${h} is of epoch ${by}, whose table is not trusted`);
  }
  const v = verifyCertificate(a.header, a.cert, certifier!, undefined, o.hash);
  if (!v.ok) {
    fail(
      'BAD_CERTIFICATE',
      `the certificate of height ${h} (proving epoch ${j}'s table) does not verify against epoch ${by}'s table: ${v.reason}`,
    );
  }
  const { signedStake, totalStake } = v as { signedStake: bigint; totalStake: bigint };
  return { certifiedBy: by, signedStake, certifierTotalStake: totalStake };
}

/** The table under the header's state root at `epochTableKey(j)`, decoded and of the claimed hash. */
function verifyCommitted(j: number, a: TableAnswer, o: TableCheckOpts): ValidatorSet {
  const { hash } = o;
  if (!equalBytes(a.key, epochTableKey(j))) {
    fail('BAD_PROOF', `the proof is for key ${toHex(a.key)}, not epoch ${j}'s table key`);
  }
  let trieProof: ReturnType<typeof trieProofFromJSON>;
  try {
    trieProof = trieProofFromJSON(a.trieProof);
  } catch (e) {
    return fail('BAD_PROOF', `epoch ${j}'s trie proof: ${(e as Error).message}`);
  }
  if (!verifyTrieInclusion(a.header.stateRoot, epochTableKey(j), a.encoded, trieProof, { hash })) {
    fail(
      'BAD_PROOF',
      `epoch ${j}'s table is not in the state of certified block ${a.height} (the inclusion proof fails)`,
    );
  }
  let set: ValidatorSet;
  try {
    set = decodeValidatorSet(a.encoded, hash);
  } catch (e) {
    return fail(
      'BAD_PROOF',
      `epoch ${j}'s committed table does not decode: ${(e as Error).message}`,
    );
  }
  if (!equalBytes(validatorSetHash(set, hash), a.claimedHash)) {
    fail('BAD_PROOF', `epoch ${j}'s validatorSetHash is not the hash of the proven table`);
  }
  return set;
}

/** What the agent lists must be what was proven (names and endpoints aside); its labels of members. */
function checkListed(j: number, a: TableAnswer, set: ValidatorSet): Labels {
  const { listed } = a;
  const total = set.validators.reduce((s, x) => s + x.stake, 0n);
  if (
    listed.length !== set.validators.length ||
    set.validators.some(
      (x, i) =>
        listed[i]!.validatorId !== toHex(x.validatorId) ||
        listed[i]!.publicKey !== toHex(x.publicKey) ||
        listed[i]!.stake !== x.stake.toString(),
    ) ||
    a.totalStake !== total.toString()
  ) {
    fail('BAD_PROOF', `the validators listed for epoch ${j} are not the proven table`);
  }
  const labels = new Map(a.labels);
  for (const id of labels.keys()) {
    if (!set.validators.some((x) => toHex(x.validatorId) === id)) labels.delete(id);
  }
  return labels;
}
