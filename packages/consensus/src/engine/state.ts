/**
 * Creation of the engine's state (see {@link EngineState}): the options
 * checked and their defaults applied, empty indexes, one state per creator.
 */
import { taggedHash } from '@pos/merkle';
import { keyOf } from '../bytes.js';
import { ConsensusError } from '../errors.js';
import { SEED_BYTES } from '../leader.js';
import { type ConsensusEventInput, type ConsensusOpts, defaultConsensusOpts } from '../types.js';
import type { CreatorState, EngineState } from './types.js';

/** A creator with no event yet: one root branch (docs/PROTOCOL.md 5.2), no fork. */
export function newCreatorState<E extends ConsensusEventInput>(): CreatorState<E> {
  return {
    branches: [{ parent: -1, firstSeq: 0 }],
    forked: false,
    firstRoot: null,
    latest: null,
    evidence: null,
  };
}

/**
 * Checks `opts` (`BAD_OPTIONS`, in the order the engine always checked them)
 * and builds the state of an engine that has seen nothing.
 */
export function createEngineState<E extends ConsensusEventInput>(
  opts: ConsensusOpts<E>,
): EngineState<E> {
  const n = opts.validators.length;
  if (n === 0) throw new ConsensusError('BAD_OPTIONS', 'validators must not be empty');
  const coinFrequency = opts.coinFrequency ?? defaultConsensusOpts.coinFrequency;
  const expireRounds = opts.expireRounds ?? defaultConsensusOpts.expireRounds;
  const maxTx = opts.maxTransactionsPerEvent ?? defaultConsensusOpts.maxTransactionsPerEvent;
  if (!Number.isSafeInteger(coinFrequency) || coinFrequency < 2) {
    throw new ConsensusError('BAD_OPTIONS', 'coinFrequency must be an integer >= 2');
  }
  if (!Number.isSafeInteger(expireRounds) || expireRounds < 2) {
    throw new ConsensusError('BAD_OPTIONS', 'expireRounds must be an integer >= 2');
  }
  const forgetRounds = opts.forgetRounds ?? 10 * expireRounds;
  if (!Number.isSafeInteger(forgetRounds) || forgetRounds < expireRounds) {
    throw new ConsensusError('BAD_OPTIONS', 'forgetRounds must be an integer >= expireRounds');
  }
  if (opts.initialSeed.length !== SEED_BYTES) {
    throw new ConsensusError('BAD_OPTIONS', `initialSeed must be ${SEED_BYTES} bytes`);
  }
  const hash = opts.hash;
  const validators = opts.validators.slice();
  const indexById = new Map<string, number>();
  validators.forEach((id, i) => {
    const k = keyOf(id);
    if (!indexById.has(k)) indexById.set(k, i);
  });
  return {
    opts,
    hash,
    txHash: opts.txHash ?? ((tx: Uint8Array) => taggedHash('pos/tx', tx, hash)),
    coinFrequency,
    expireRounds,
    forgetRounds,
    maxTx,
    n,
    validators,
    indexById,
    creators: Array.from({ length: n }, () => newCreatorState<E>()),
    forgottenSeq: new Array(n).fill(-1),
    events: new Map(),
    rounds: new Map(),
    compactByRound: new Map(),
    allEvidence: [],
    orderedTx: new Map(),
    tableCache: new WeakMap(),
    lastDecided: -1,
    maxRound: 0,
    seedPrev: opts.initialSeed.slice(),
    prevBlockTs: -1,
    expiredBelow: 0,
    insertedTotal: 0,
    blocksTotal: 0,
    orderedTotal: 0,
    liveCount: 0,
    compactCount: 0,
    pendingFork: -1,
    stampCounter: 0,
    seenStamp: new Int32Array(n),
    possibleStamp: new Int32Array(n),
  };
}
