/**
 * From the wire to the engine: a decoded, signed event (`@pos/gossip`,
 * docs/PROTOCOL.md 6.1) becomes the consensus engine's input
 * (docs/PROTOCOL.md 5.1), with validator public keys mapped to the engine's
 * creator indexes and the other-parent's descriptor passed on, so that the
 * engine can place an event whose other-parent it already forgot
 * (docs/PROTOCOL.md 5.7).
 */
import type { ConsensusEventInput, ConsensusOpts } from '@pos/consensus';
import type { WireEvent } from '@pos/gossip';
import { equalBytes, type HashFn, sha256Noble } from '@pos/merkle';
import { CodedError, decodeTx, malformedTxHash, txHashOf } from '@pos/protocol';

/** The engine's event, carrying the wire event it came from (payloads, bytes). */
export interface NodeEvent extends ConsensusEventInput {
  readonly wire: WireEvent;
}

/** Codes of {@link DagError}. */
export type DagErrorCode = 'UNKNOWN_CREATOR' | 'WRONG_CHAIN';

/** A wire event that cannot become an engine event: refuse it and score its sender. */
export class DagError extends CodedError<DagErrorCode> {}

/** Validator public keys by engine index, and the reverse lookup. */
export interface ValidatorIndex {
  readonly chainId: Uint8Array;
  /** validatorIds in engine order (the leader draw sorts by these). */
  readonly ids: readonly Uint8Array[];
  readonly publicKeys: readonly Uint8Array[];
  indexOf(publicKey: Uint8Array): number | undefined;
  /**
   * Appends a validator (one registered after genesis, docs/PROTOCOL.md 5.9)
   * and returns its index; a known key returns its index. Indexes never
   * change, so the engine's `addValidator` stays in step when both are called
   * together.
   */
  add(publicKey: Uint8Array, validatorId: Uint8Array): number;
}

const keyOf = (b: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]!);
  return s;
};

/**
 * The index over a validator list, in the given order (the genesis order:
 * sorted by validatorId). Duplicated keys are a configuration error.
 */
export function createValidatorIndex(
  chainId: Uint8Array,
  validators: readonly { readonly publicKey: Uint8Array; readonly validatorId: Uint8Array }[],
): ValidatorIndex {
  const byKey = new Map<string, number>();
  validators.forEach((v, i) => {
    const k = keyOf(v.publicKey);
    if (byKey.has(k)) throw new DagError('UNKNOWN_CREATOR', 'a validator key appears twice');
    byKey.set(k, i);
  });
  const ids = validators.map((v) => v.validatorId);
  const publicKeys = validators.map((v) => v.publicKey);
  return {
    chainId,
    ids,
    publicKeys,
    indexOf: (pk) => byKey.get(keyOf(pk)),
    add(publicKey, validatorId) {
      const k = keyOf(publicKey);
      const known = byKey.get(k);
      if (known !== undefined) return known;
      byKey.set(k, ids.length);
      ids.push(validatorId);
      publicKeys.push(publicKey);
      return ids.length - 1;
    },
  };
}

/**
 * The engine's input for a wire event. Throws `DagError` when the creator or
 * the other-parent's creator is not a validator, or the chainId is another
 * chain's; the signature is the engine's `verify` (see {@link nodeConsensusOpts}).
 */
export function toConsensusEvent(wire: WireEvent, index: ValidatorIndex): NodeEvent {
  if (!equalBytes(wire.chainId, index.chainId)) {
    throw new DagError('WRONG_CHAIN', 'event of another chain');
  }
  const creator = index.indexOf(wire.creator);
  if (creator === undefined) throw new DagError('UNKNOWN_CREATOR', 'creator is not a validator');
  let descriptor: { otherParentCreator: number; otherParentSeq: number } | object = {};
  if (wire.otherParent) {
    const c = index.indexOf(wire.otherParent.creator);
    if (c === undefined) {
      throw new DagError('UNKNOWN_CREATOR', 'other-parent creator is not a validator');
    }
    descriptor = { otherParentCreator: c, otherParentSeq: wire.otherParent.seq };
  }
  return {
    hash: wire.hash,
    creator,
    seq: wire.seq,
    selfParent: wire.selfParent,
    otherParent: wire.otherParent ? wire.otherParent.hash : null,
    ...descriptor,
    timestamp: wire.timestamp,
    transactions: wire.transactions,
    signature: wire.signature,
    wire,
  };
}

/**
 * The transaction id consensus deduplicates by: the ledger's own (the body
 * hash, docs/PROTOCOL.md 6.2), so that two encodings of one transaction with
 * different signature bytes are ordered once; undecodable bytes get their
 * `MALFORMED` id.
 */
export function ledgerTxHash(hash: HashFn = sha256Noble): (tx: Uint8Array) => Uint8Array {
  return (tx) => {
    try {
      return txHashOf(decodeTx(tx).body, hash);
    } catch {
      return malformedTxHash(tx, hash);
    }
  };
}

/** Options for the engine as the node runs it (everything but the stake table). */
export function nodeConsensusOpts(
  index: ValidatorIndex,
  verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean,
  hash: HashFn,
): Pick<ConsensusOpts<NodeEvent>, 'validators' | 'initialSeed' | 'hash' | 'verify' | 'txHash'> {
  return {
    validators: index.ids,
    initialSeed: index.chainId,
    hash,
    verify: (e) => verify(index.publicKeys[e.creator]!, e.hash, e.signature),
    txHash: ledgerTxHash(hash),
  };
}
